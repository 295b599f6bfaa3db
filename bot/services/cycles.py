from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot import calendar
from bot.calendar import Cycle, Month
from bot.database import cached, forget
from bot.errors import Refused
from bot.models import CycleOverride, Selection
from bot.services import audit
from bot.settings import Settings


def get_cycle(session: Session, month: Month, settings: Settings) -> Cycle:
    # Kept for the unit of work: a month without an override would be asked again on each look.
    override = cached(session, ("cycle_override", str(month)), lambda: session.get(CycleOverride, str(month)))
    return _with_override(month, override, settings)


def open_by_the_rules(month: Month, now: dt.datetime, settings: Settings) -> bool:
    """Whether the month's window is open by the rules alone, an organizer's changes unread: a check that costs
    no statement, for a turn that only needs to know the window has not plainly closed."""
    return _with_override(month, None, settings).window_open(now)


def _with_override(month: Month, override: CycleOverride | None, settings: Settings) -> Cycle:
    cycle = calendar.default_cycle(month, settings.tz, settings.selection_time, settings.pitch_time)
    if override is None:
        return cycle
    return calendar.with_overrides(cycle, {name: getattr(override, name) for name in calendar.OVERRIDABLE}, settings.tz)


@dataclass(frozen=True)
class WindowStatus:
    open_cycle: Cycle | None  # the cycle whose window is open now
    next_cycle: Cycle  # the next cycle whose window has not opened yet


def window_status(session: Session, now: dt.datetime, settings: Settings) -> WindowStatus:
    this_month = Month.of(now, settings.tz)
    # Every override from last month on, in one query (there are a handful); /apply asks on each start.
    since = str(this_month.previous())
    overrides = cached(
        session,
        ("cycle_overrides_since", since),
        lambda: {row.month: row for row in session.exec(select(CycleOverride).where(CycleOverride.month >= since))},
    )

    def cycle_of(month: Month) -> Cycle:
        return _with_override(month, overrides.get(str(month)), settings)

    open_cycle = None
    # Overrides can stretch a window past the month's end, so the previous month is asked too.
    for month in (this_month.previous(), this_month):
        cycle = cycle_of(month)
        if cycle.window_open(now):
            open_cycle = cycle
    month = this_month
    while True:
        cycle = cycle_of(month)
        if cycle.window_opens_at > now:
            return WindowStatus(open_cycle, cycle)
        month = month.next()


def deadlines_after(session: Session, when: dt.datetime) -> list[Month]:
    """Months whose purchase deadline an organizer set after ``when``."""
    rows = session.exec(select(CycleOverride.month).where(col(CycleOverride.decision_deadline_at) > when)).all()
    return [Month.parse(month) for month in rows]


def set_override(
    session: Session,
    month: Month,
    changes: dict[str, dt.datetime],
    settings: Settings,
    now: dt.datetime,
    actor_user_id: int | None = None,
) -> Cycle:
    unknown = set(changes) - set(calendar.OVERRIDABLE)
    if unknown:
        raise Refused("cycle_field", names=", ".join(sorted(unknown)))
    for name, value in changes.items():
        if value.tzinfo is None:
            raise Refused("naive_time", name=name)
    # Every date but the purchase deadline (15 days after Pitching Day) belongs to the cycle's own month.
    outside = [name for name, value in changes.items()
               if name != "decision_deadline_at" and Month.of(value, settings.tz) != month]  # fmt: skip
    if outside:
        raise Refused("cycle_month", names=", ".join(outside))
    override = session.get(CycleOverride, str(month)) or CycleOverride(month=str(month), updated_at=now)
    stored = {name: getattr(override, name) for name in calendar.OVERRIDABLE}
    wanted = {**stored, **{name: value.astimezone(dt.UTC) for name, value in changes.items()}}
    default = calendar.default_cycle(month, settings.tz, settings.selection_time, settings.pitch_time)
    cycle = calendar.with_overrides(default, wanted, settings.tz)
    broken = calendar.validate_order(cycle)
    if broken:  # checked before anything is changed: a caller that goes on commits nothing odd
        raise Refused("cycle_order", names=", ".join(broken))
    before = get_cycle(session, month, settings)
    forget(session)
    for name, value in wanted.items():
        setattr(override, name, value)
    override.updated_at = now
    override.updated_by = actor_user_id
    session.add(override)
    audit.record(
        session, now, actor_user_id, "cycle_override", "cycle", month,
        **{k: v.isoformat() for k, v in changes.items()},
    )  # fmt: skip
    _follow(session, month, before, cycle, settings, now, actor_user_id)
    return cycle


def _follow(session: Session, month: Month, before: Cycle, cycle: Cycle, settings: Settings, now: dt.datetime,
            actor_id: int | None) -> None:  # fmt: skip
    """What was fixed from the old dates follows the new ones: results held for selection day go out on the
    new one (they went out on the old), the programme moves with Pitching Day, and whoever the results told
    of Pitching Day hears the new day."""
    from bot.services import programme, selection  # they read the cycle from here

    held = session.get(Selection, str(month))
    if held is not None and held.released_at is None and before.selection_at != cycle.selection_at:
        held.release_at = max(now, held.confirmed_at, cycle.selection_at)
        session.add(held)
    programme.follow_pitch(session, str(month), cycle.pitch_at - before.pitch_at, settings, now, actor_id)
    selection.follow_pitch(session, month, before, cycle, settings, now)
