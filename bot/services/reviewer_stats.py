"""Reviewer statistics for organizers, the basis for choosing next month's committee: per reviewer, how
many applications were assigned and scored, the mean and spread of their weighted totals, how far they
stand from the rest of the committee on the same applications, and how early they finished."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.calendar import Month
from bot.models import Application, ApplicationStatus, Review, User
from bot.services import cycles, policies, review
from bot.settings import Settings


@dataclass(frozen=True)
class ReviewerStat:
    user_id: int
    name: str  # the messenger's display name ("" when none is kept)
    assigned: int  # applications assigned, less those declared a conflict on
    conflicts: int
    scored: int  # complete reviews
    mean: float | None  # of their weighted totals
    spread: float | None  # standard deviation of their weighted totals
    # Their total minus the mean of the other reviewers' totals, over the applications others scored too:
    # the mean of the differences (+ more generous, − stricter) and of their sizes (agreement).
    difference: float | None
    distance: float | None
    compared: int
    finished_at: dt.datetime | None  # when the last assigned review was complete; None while any is open
    early_hours: int | None  # whole hours between finishing and the review deadline (negative: late)
    late: bool = False  # finished after the deadline (even by less than an hour)


@dataclass(frozen=True)
class CommitteeStats:
    month: str
    deadline: dt.datetime
    committee_mean: float | None  # of every complete review's weighted total
    reviewers: list[ReviewerStat]


def for_organizer(session: Session, organizer: User, month: str, settings: Settings) -> CommitteeStats:
    policies.require(session, organizer, policies.organizer, settings)
    return committee_stats(session, month, settings)


COUNTED = (*review.RANKABLE, ApplicationStatus.WITHDRAWN.value)


def committee_stats(session: Session, month: str, settings: Settings) -> CommitteeStats:
    """Everyone who was assigned an application of the month (a role taken back since included: the record
    of that month stays). Reviewers who finished come first, earliest first; then the rest, most scored
    first."""
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    deadline = review.review_deadline(cycle, settings)
    found = session.exec(
        select(Review, Application.status)
        .join(Application)
        .where(Application.month == month, col(Application.status).in_(COUNTED))
        .order_by(col(Review.id))
    ).all()
    # A withdrawn application counts for the reviews done on it (a company that gave up its place after the
    # results: "assigned 8" against the reviewer's own "9/9 done"), not for those left open (one that withdrew
    # its consent during the review would make a finished reviewer "1 left").
    withdrawn = ApplicationStatus.WITHDRAWN.value
    rows = [r for r, status in found if status != withdrawn or review.is_complete(r)]
    weights = settings.score_weights
    totals: dict[int, dict[int, float]] = {}  # application → reviewer → weighted total
    for r in rows:
        if not r.conflict and review.is_complete(r):
            totals.setdefault(r.application_id, {})[r.reviewer_user_id] = review.weighted(r, weights)
    everyone = [t for per_app in totals.values() for t in per_app.values()]
    people = {u.id: u for u in session.exec(select(User).where(col(User.id).in_({r.reviewer_user_id for r in rows})))}
    stats = []
    for uid in sorted({r.reviewer_user_id for r in rows}):
        mine = [r for r in rows if r.reviewer_user_id == uid]
        active = [r for r in mine if not r.conflict]
        done = [r for r in active if review.is_complete(r)]
        scores = [totals[r.application_id][uid] for r in done]
        gaps = []
        for r in done:
            others = [t for who, t in totals[r.application_id].items() if who != uid]
            if others:
                gaps.append(totals[r.application_id][uid] - statistics.fmean(others))
        finished = None
        if active and len(done) == len(active):
            finished = max((r.completed_at or r.updated_at) for r in done)
        user = people.get(uid)
        stats.append(
            ReviewerStat(
                user_id=uid,
                name=(user.display_name if user is not None else "") or "",
                assigned=len(active),
                conflicts=len(mine) - len(active),
                scored=len(done),
                mean=_round(statistics.fmean(scores)) if scores else None,
                spread=_round(statistics.pstdev(scores)) if scores else None,
                difference=_round(statistics.fmean(gaps)) if gaps else None,
                distance=_round(statistics.fmean(abs(g) for g in gaps)) if gaps else None,
                compared=len(gaps),
                finished_at=finished,
                early_hours=_hours(deadline - finished) if finished is not None else None,
                late=finished is not None and finished > deadline,
            )
        )
    stats.sort(key=lambda s: (s.finished_at is None, s.finished_at or deadline, -s.scored, s.user_id))
    return CommitteeStats(month, deadline, _round(statistics.fmean(everyone)) if everyone else None, stats)


def _round(value: float) -> float:
    return round(value, 2)


def _hours(delta: dt.timedelta) -> int:
    """Whole hours, towards zero: 59 minutes early is not an hour early (``late`` tells which side)."""
    return int(delta.total_seconds() / 3600)
