"""``tick(now)``: idempotent and catching up. Moves each month through its phases and plans every
reminder due by ``now`` into the outbox. The database is the source of truth, not the job store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session

from bot import calendar
from bot.calendar import Month
from bot.models import CyclePhase
from bot.services import audit, cycles, outbox, reminders
from bot.settings import Settings


@dataclass
class TickReport:
    planned: int = 0
    transitions: list[tuple[str, str, str]] = field(default_factory=list)
    next_due: dt.datetime | None = None


def months_in_play(now: dt.datetime, settings: Settings) -> list[Month]:
    # Decisions of a Pitching Day at the end of a month run into the middle of the next one.
    this = Month.of(now, settings.tz)
    return [this.previous().previous(), this.previous(), this, this.next()]


def tick(session: Session, now: dt.datetime, settings: Settings) -> TickReport:
    report = TickReport()
    upcoming: list[dt.datetime] = []
    for month in months_in_play(now, settings):
        cycle = cycles.get_cycle(session, month, settings)
        current = calendar.phase(cycle, now)
        row = session.get(CyclePhase, str(month))
        if row is None or row.phase != current:
            old = row.phase if row is not None else "-"
            row = row or CyclePhase(month=str(month), phase=current, updated_at=now)
            row.phase, row.updated_at = current, now
            session.add(row)
            audit.record(session, now, None, "cycle_phase", "cycle", month, old=old, new=current)
            session.commit()
            report.transitions.append((str(month), old, current))
        report.planned += outbox.plan(session, reminders.due_now(session, cycle, settings, now), now)
        nxt = reminders.next_due(cycle, settings, now)
        if nxt is not None:
            upcoming.append(nxt)
    report.next_due = min(upcoming) if upcoming else None
    return report
