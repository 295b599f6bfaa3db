"""The expert committee's review: assignment, scores with a labelled 1–5 scale, comments, conflicts of
interest, and the ranking. Reviewers see only their own scores; companies never see any."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, col, or_, select

from bot.calendar import Cycle
from bot.errors import Refused
from bot.models import Application, ApplicationStatus, Company, Review, Role, RoleGrant, Selection, User
from bot.services import aggregation, audit, pledge, policies
from bot.services.outbox import Planned
from bot.settings import Settings

CRITERIA = aggregation.CRITERIA
SCALE = (1, 2, 3, 4, 5)


def reviewers(session: Session) -> list[User]:
    ids = session.exec(select(RoleGrant.user_id).where(RoleGrant.role == Role.REVIEWER.value)).all()
    if not ids:
        return []
    found = session.exec(select(User).where(col(User.id).in_(ids), User.active == True)).all()  # noqa: E712
    return sorted(found, key=lambda u: u.id or 0)


def submitted(session: Session, month: str) -> list[Application]:
    return list(
        session.exec(
            select(Application)
            .where(Application.month == month, Application.status == ApplicationStatus.SUBMITTED.value)
            .order_by(col(Application.id))
        ).all()
    )


def assign(session: Session, month: str, settings: Settings, now: dt.datetime) -> list[Review]:
    """Gives every submitted application its reviewers: the whole committee, or N each with the load
    balanced. Idempotent: only what is missing is added (a reviewer who joins late gets the month's
    applications in whole-committee mode). Does not commit."""
    committee = reviewers(session)
    if not committee or confirmed(session, month):
        return []
    added = []
    apps = submitted(session, month)
    owned = {u.id or 0: policies.own_company_ids(session, u) for u in committee}
    company_of = {a.id: a.company_id for a in apps}
    existing = session.exec(select(Review).join(Application).where(Application.month == month)).all()
    holders = set(session.exec(select(RoleGrant.user_id).where(RoleGrant.role == Role.REVIEWER.value)).all())
    # A reviewer whose role was taken back: what they had not scored goes to the committee as it is now.
    gone = [r for r in existing if r.reviewer_user_id not in holders and not r.conflict and not is_complete(r)]
    for r in gone:
        _unassign(session, r, now)
    existing = [r for r in existing if r not in gone]
    by_app: dict[int, set[int]] = {}
    load: Counter[int] = Counter({u.id or 0: 0 for u in committee})
    for r in existing:
        if not r.conflict and company_of.get(r.application_id) in owned.get(r.reviewer_user_id, set()):
            # Assigned before the reviewer's company was known to be theirs: taken off, scores and all.
            _mark_conflict(session, r, None, now)
        by_app.setdefault(r.application_id, set()).add(r.reviewer_user_id)
        if not r.conflict:
            load[r.reviewer_user_id] += 1
    per_app = settings.reviewers_per_application or len(committee)
    for app in apps:
        assert app.id is not None
        have = by_app.setdefault(app.id, set())
        # Only the committee as it is now counts: a former reviewer's scores stay, but hold no one's place.
        active = [r for r in existing
                  if r.application_id == app.id and not r.conflict and r.reviewer_user_id in holders]  # fmt: skip
        want = per_app - len(active)
        # Never a reviewer's own company (policies.conflicted, answered here from what is already read).
        candidates = sorted(
            (u for u in committee if u.id not in have and app.company_id not in owned[u.id or 0]),
            key=lambda u: (load[u.id or 0], u.id),
        )
        for reviewer in candidates[: max(want, 0)]:
            review = Review(application_id=app.id, reviewer_user_id=reviewer.id or 0, assigned_at=now, updated_at=now)
            session.add(review)
            have.add(reviewer.id or 0)
            load[reviewer.id or 0] += 1
            added.append(review)
    session.flush()
    for review in added:
        audit.record(session, now, None, "review_assigned", "application", review.application_id,
                     reviewer=review.reviewer_user_id)  # fmt: skip
    return added


def _unassign(session: Session, r: Review, now: dt.datetime) -> None:
    session.delete(r)
    audit.record(session, now, None, "review_unassigned", "application", r.application_id,
                 reviewer=r.reviewer_user_id)  # fmt: skip


def unassign_unscored(session: Session, reviewer_id: int, now: dt.datetime) -> int:
    """A reviewer's role was taken back: their assignments not scored yet, of months not confirmed, are
    taken off (the next tick gives them to the committee); complete scores stay, as given."""
    rows = session.exec(
        select(Review, Application.month).join(Application).where(Review.reviewer_user_id == reviewer_id)
    ).all()
    still_open = {month: not confirmed(session, month) for month in {m for _, m in rows}}  # once a month
    taken = [r for r, month in rows if not r.conflict and not is_complete(r) and still_open[month]]
    for r in taken:
        _unassign(session, r, now)
    session.flush()
    return len(taken)


def review_deadline(cycle: Cycle, settings: Settings) -> dt.datetime:
    """Scores are wanted by the end of the day before selection day."""
    day = cycle.selection_at.astimezone(settings.tz).date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=settings.tz).astimezone(dt.UTC)


def unscored(session: Session, month: str) -> int:
    """Assignments of the month's applications under review still without every score (a conflict declared
    is none, nor an application withdrawn since)."""
    rows = session.exec(
        select(Review)
        .join(Application)
        .where(
            Application.month == month,
            Application.status == ApplicationStatus.SUBMITTED.value,
            Review.conflict == False,  # noqa: E712
        )
    ).all()
    return sum(not is_complete(r) for r in rows)


def confirmed(session: Session, month: str) -> bool:
    return session.get(Selection, month) is not None


@dataclass(frozen=True)
class Assigned:
    review: Review
    application: Application
    complete: bool


def my_reviews(session: Session, reviewer: User, settings: Settings, month: str | None = None) -> list[Assigned]:
    policies.require(session, reviewer, policies.reviewer, settings)
    pledge.require(session, reviewer)
    stmt = (
        select(Review, Application)
        .join(Application)
        .where(
            Review.reviewer_user_id == reviewer.id,
            Review.conflict == False,  # noqa: E712
        )
    )
    if month is not None:
        stmt = stmt.where(Application.month == month)
    rows = session.exec(stmt.order_by(col(Application.month).desc(), col(Application.id))).all()
    owned = policies.own_company_ids(session, reviewer)
    return [Assigned(r, a, is_complete(r)) for r, a in rows if a.company_id not in owned]


def is_complete(review: Review) -> bool:
    return all(getattr(review, c) is not None for c in CRITERIA)


def _own(session: Session, reviewer: User, review_id: int, settings: Settings) -> tuple[Review, Application]:
    review = session.get(Review, review_id)
    if review is None or review.reviewer_user_id != reviewer.id or review.conflict:
        raise Refused("not_allowed")
    policies.require(session, reviewer, policies.reviewer, settings)
    pledge.require(session, reviewer)
    app = session.get(Application, review.application_id)
    assert app is not None
    policies.require_no_conflict(session, reviewer, app)
    if confirmed(session, app.month):
        raise Refused("selection_confirmed")
    return review, app


def require_scorable(session: Session, reviewer: User, review_id: int, settings: Settings) -> None:
    """Refused when this reviewer may no longer score this review (the role taken back took the unscored ones
    with it, a conflict declared, the selection confirmed): asked at each answer of the score form."""
    _own(session, reviewer, review_id, settings)


def score(
    session: Session, reviewer: User, review_id: int, criterion: str, value: int, settings: Settings, now: dt.datetime
) -> Review:
    if criterion not in CRITERIA or value not in SCALE:
        raise Refused("not_allowed")
    review, _ = _own(session, reviewer, review_id, settings)
    old = getattr(review, criterion)
    setattr(review, criterion, value)
    _changed(review, now)
    session.add(review)
    audit.record(session, now, reviewer.id, "score", "review", review.id, criterion=criterion, old=old, new=value)
    return review


def _changed(review: Review, now: dt.datetime) -> None:
    review.updated_at = now
    if review.completed_at is None and is_complete(review):
        review.completed_at = now


def record(
    session: Session,
    reviewer: User,
    review_id: int,
    scores: dict[str, int],
    comment_text: str | None,
    settings: Settings,
    now: dt.datetime,
) -> Review:
    """Saves a reviewer's scores and comment from the score form; each changed score is in the audit log."""
    if set(scores) - set(CRITERIA) or any(v not in SCALE for v in scores.values()):
        raise Refused("not_allowed")
    review, _ = _own(session, reviewer, review_id, settings)
    for criterion, value in scores.items():
        old = getattr(review, criterion)
        if old != value:
            setattr(review, criterion, value)
            audit.record(session, now, reviewer.id, "score", "review", review.id, criterion=criterion, old=old,
                         new=value)  # fmt: skip
    text = (comment_text or "").strip()[:2000] or None
    if text != review.comment:
        review.comment = text
        audit.record(session, now, reviewer.id, "review_comment", "review", review.id, length=len(text or ""))
    _changed(review, now)
    session.add(review)
    return review


def get_own(session: Session, reviewer: User, review_id: int, settings: Settings) -> tuple[Review, Application]:
    """A reviewer's own assignment (not one they declared a conflict on), for reading."""
    policies.require(session, reviewer, policies.reviewer, settings)
    pledge.require(session, reviewer)
    review = session.get(Review, review_id)
    if review is None or review.reviewer_user_id != reviewer.id or review.conflict:
        raise Refused("not_allowed")
    app = session.get(Application, review.application_id)
    assert app is not None
    policies.require_no_conflict(session, reviewer, app)
    return review, app


def comment(
    session: Session, reviewer: User, review_id: int, text: str, settings: Settings, now: dt.datetime
) -> Review:
    review, _ = _own(session, reviewer, review_id, settings)
    review.comment = text.strip()[:2000] or None
    review.updated_at = now
    session.add(review)
    audit.record(session, now, reviewer.id, "review_comment", "review", review.id, length=len(review.comment or ""))
    return review


def declare_conflict(session: Session, reviewer: User, review_id: int, settings: Settings, now: dt.datetime) -> Review:
    """A conflict of interest removes the reviewer (and any scores given) from that application."""
    review, _ = _own(session, reviewer, review_id, settings)
    _mark_conflict(session, review, reviewer.id, now)
    return review


def _mark_conflict(session: Session, review: Review, actor: int | None, now: dt.datetime) -> None:
    review.conflict = True
    for criterion in CRITERIA:
        setattr(review, criterion, None)
    review.updated_at, review.completed_at = now, None
    session.add(review)
    audit.record(session, now, actor, "conflict_of_interest", "review", review.id,
                 application=review.application_id)  # fmt: skip


@dataclass(frozen=True)
class Ranked:
    application: Application
    company: Company
    mean: float | None
    reviews: int
    assigned: int
    spread: float | None  # highest minus lowest weighted score: disagreement at a glance
    # How the mean was taken (PITCHBOT_TRIM_MIN_REVIEWS, PITCHBOT_PASS_MARKS): the reviews counted, whether
    # the highest and lowest were left out, each criterion's mean, and the criteria under their pass mark
    # (such an application is not proposed for selection unless an organizer moves it in).
    counted: int = 0
    trimmed: bool = False
    criterion_means: dict[str, float] = field(default_factory=dict)
    below_pass: tuple[str, ...] = ()

    @property
    def proposable(self) -> bool:
        return not self.below_pass


def scores_of(review: Review) -> tuple[int, ...]:
    return tuple(getattr(review, c) for c in CRITERIA)


def weighted(review: Review, weights: tuple[float, ...]) -> float:
    return aggregation.weighted(scores_of(review), weights)


def ranking(session: Session, month: str, settings: Settings, confirmed: Selection | None = None) -> list[Ranked]:
    """Mean weighted score over complete reviews (trimmed, when the settings ask for it), best first; ties
    go to more reviews, then the earlier application; applications without any complete review come
    last. With ``confirmed``, the records' view: every application that selection decided on stays in
    its place, a company that gave up its place since included."""
    rows = []
    kept = [i for ids in (confirmed.decided if confirmed else {}).values() for i in ids or []]
    counted = col(Application.status).in_(RANKABLE)
    apps = session.exec(
        select(Application, Company)
        .join(Company)
        .where(Application.month == month, or_(counted, col(Application.id).in_(kept)) if kept else counted)
        .order_by(col(Application.id))
    ).all()
    by_app: dict[int, list[Review]] = {}
    for r in session.exec(select(Review).join(Application).where(Application.month == month).order_by(col(Review.id))):
        by_app.setdefault(r.application_id, []).append(r)
    for app, company in apps:
        mine = [r for r in by_app.get(app.id or 0, []) if not r.conflict]
        agg = aggregation.aggregate([scores_of(r) for r in mine if is_complete(r)], settings.score_weights,
                                    settings.trim_min_reviews, settings.pass_marks)  # fmt: skip
        rows.append(Ranked(app, company, agg.mean, agg.reviews, len(mine), agg.spread, agg.counted, agg.trimmed,
                           agg.criterion_means, agg.below_pass))  # fmt: skip
    rows.sort(key=lambda r: (r.mean is None, -(r.mean or 0), -r.reviews, r.application.submitted_at, r.application.id))
    return rows


RANKABLE = (
    ApplicationStatus.SUBMITTED.value,
    ApplicationStatus.SELECTED.value,
    ApplicationStatus.WAITLISTED.value,
    ApplicationStatus.NOT_SELECTED.value,
)


def assignment_notices(
    session: Session, month: str, cycle: Cycle, settings: Settings, cycle_data: dict[str, object]
) -> list[Planned]:
    """One message per reviewer: how many applications, and by when."""
    return _per_reviewer(session, month, cycle, settings, cycle_data, "review/assigned", cycle.window_closes_at,
                         lambda review: True)  # fmt: skip


def missing_score_notices(
    session: Session, month: str, cycle: Cycle, settings: Settings, cycle_data: dict[str, object], due: dt.datetime
) -> list[Planned]:
    """One message per reviewer with scores still to give: how many, and by when."""
    return _per_reviewer(session, month, cycle, settings, cycle_data, "review/missing", due,
                         lambda review: not is_complete(review))  # fmt: skip


def _per_reviewer(
    session: Session,
    month: str,
    cycle: Cycle,
    settings: Settings,
    cycle_data: dict[str, object],
    template: str,
    due: dt.datetime,
    counted: Callable[[Review], bool],
) -> list[Planned]:
    """A message to each reviewer with reviews of the month that ``counted`` keeps (conflicts never), keyed
    once per reviewer and template."""
    counts: Counter[int] = Counter()
    for review in session.exec(select(Review).join(Application).where(Application.month == month)).all():
        if not review.conflict and counted(review):
            counts[review.reviewer_user_id] += 1
    people = {u.id: u for u in reviewers(session)}
    data = {"cycle": cycle_data, "deadline": review_deadline(cycle, settings)}
    key = f"{month}:{template.replace('/', '_')}"
    return [Planned(people[uid], template, {**data, "count": n}, key, due)
            for uid, n in sorted(counts.items()) if uid in people]  # fmt: skip
