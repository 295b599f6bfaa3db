"""``tick(now)``: idempotent and catching up. Moves each month through its phases and plans every
reminder due by ``now`` into the outbox. The database is the source of truth, not the job store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bot import calendar
from bot.calendar import Cycle, Month
from bot.database import insert_for
from bot.models import CyclePhase, Selection
from bot.services import (
    audit,
    broadcasts,
    cycles,
    decisions,
    departments,
    files,
    outbox,
    privacy,
    reminders,
    review,
    selection,
)
from bot.settings import Settings


@dataclass
class TickReport:
    planned: int = 0
    transitions: list[tuple[str, str, str]] = field(default_factory=list)
    next_due: dt.datetime | None = None
    purged: int = 0  # people whose personal data the retention period erased
    pruned: int = 0  # old outbox rows deleted
    links: int = 0  # file links past their time deleted, with the files made for them


def months_in_play(session: Session, now: dt.datetime, settings: Settings) -> list[Month]:
    # Decisions of a Pitching Day at the end of a month run into the middle of the next one; an organizer may
    # set a deadline later still (its escalation and the companies' notice come up to 30 days after it).
    this = Month.of(now, settings.tz)
    near = [this.previous().previous(), this.previous(), this, this.next()]
    later = cycles.deadlines_after(session, now - dt.timedelta(days=31))
    return near + sorted(m for m in later if m not in near)


def tick(session: Session, now: dt.datetime, settings: Settings) -> TickReport:
    report = TickReport()
    upcoming: list[dt.datetime] = []
    months = months_in_play(session, now, settings)
    for month in months:
        cycle = cycles.get_cycle(session, month, settings)
        current = calendar.phase(cycle, now)
        row = session.get(CyclePhase, str(month))
        if row is None or row.phase != current:
            old = row.phase if row is not None else "-"
            if _move_phase(session, str(month), current, now):
                audit.record(session, now, None, "cycle_phase", "cycle", month, old=old, new=current)
                report.transitions.append((str(month), old, current))
            session.commit()
        report.planned += outbox.plan(session, reminders.due_now(session, cycle, settings, now), now)
        report.planned += _committee(session, cycle, current, settings, now, upcoming)
        if current in ("selected", "decisions") and decisions.ensure_rows(session, str(month), now):
            session.commit()
        nxt = reminders.next_due(cycle, settings, now)
        if nxt is not None:
            upcoming.append(nxt)
    report.planned += selection.release_due(session, settings, now)
    report.planned += departments.tell_waiting(session, settings, now)
    report.planned += broadcasts.close_finished(session, now)
    # Once a day (by the date in Seoul): erase what the consent's retention period no longer covers.
    report.purged = privacy.purge_expired(session, settings, now)
    report.links = files.prune_expired(session, settings, now)
    session.commit()
    report.pruned = prune_outbox(session, settings, now, months)
    held = session.exec(select(Selection.release_at).where(col(Selection.released_at).is_(None))).all()
    upcoming += [t for t in held if t > now]
    report.next_due = min(upcoming) if upcoming else None
    return report


# A tick deletes at most PRUNE_BATCHES batches of old outbox rows, each its own transaction; a bigger backlog
# goes over the next ticks.
PRUNE_BATCH = 1000
PRUNE_BATCHES = 20


def prune_outbox(session: Session, settings: Settings, now: dt.datetime, months: list[Month] | None = None) -> int:
    """Deletes outbox rows done longer than ``OUTBOX_RETENTION_DAYS`` ago. An outbox row is also what keeps
    its message from being planned twice, so rows of events that may still be planned stay whatever their
    age: those of the months the tick still plans for (their keys start with the month), and those of a
    broadcast still being planned. Every other event is planned once (a broadcast, a reply) or under a key
    that changes each time (a programme's version, a decision's corrections). ``months``: those in play, when
    the caller has them (the tick asked the database for them once already)."""
    before = now - dt.timedelta(days=settings.outbox_retention_days)
    keep = [f"{month}:" for month in (months if months is not None else months_in_play(session, now, settings))]
    keep += [broadcasts.event_key(row) for row in broadcasts.in_progress(session) if row.status == broadcasts.PLANNING]
    pruned = 0
    for _ in range(PRUNE_BATCHES):
        deleted = outbox.prune(session, before, keep, PRUNE_BATCH)
        session.commit()
        pruned += deleted
        if deleted < PRUNE_BATCH:
            break
    return pruned


def _move_phase(session: Session, month: str, phase: str, now: dt.datetime) -> bool:
    """Records the month's new phase in one statement; False when another process recorded it first."""
    insert = insert_for(session)
    stmt = insert(CyclePhase).values(month=month, phase=phase, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["month"], set_={"phase": stmt.excluded.phase, "updated_at": stmt.excluded.updated_at},
        where=col(CyclePhase.phase) != stmt.excluded.phase,
    )  # fmt: skip
    changed = session.execute(stmt.returning(CyclePhase.month)).first() is not None
    session.expire_all()
    return changed


def _committee(
    session: Session, cycle: Cycle, current: str, settings: Settings, now: dt.datetime, upcoming: list[dt.datetime]
) -> int:
    """After the window: assign the committee, tell reviewers, remind those with missing scores."""
    month = str(cycle.month)
    if current not in ("review", "selected") or review.confirmed(session, month):
        return 0
    if review.assign(session, month, settings, now):
        session.commit()
    data = calendar.cycle_data(cycle)
    planned = 0
    if current == "review":
        planned += outbox.plan(session, review.assignment_notices(session, month, cycle, settings, data), now)
    selection_day = cycle.selection_at.astimezone(settings.tz).date()
    due = calendar.local_at(selection_day - dt.timedelta(days=1), settings.review_reminder_time, settings.tz)
    if due <= now < cycle.selection_at:
        planned += outbox.plan(session, review.missing_score_notices(session, month, cycle, settings, data, due), now)
    elif now < due:
        upcoming.append(due)
    return planned
