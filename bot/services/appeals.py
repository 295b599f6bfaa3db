"""Appeals (이의신청): a company not selected, or on the waitlist, may appeal its result once, within
``APPEAL_DAYS`` of the results, on one of the grounds the national evaluation standard lists. An organizer
who did not review the application decides (accepted or rejected, always with a reason); the company is
told at once. An accepted appeal may move the company into the selection before the Pitching Day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, or_, select

from bot.calendar import Month, cycle_data
from bot.errors import Refused
from bot.models import Appeal, AppealStatus, Application, ApplicationStatus, Company, Selection, User
from bot.services import (
    audit,
    companies,
    cycles,
    decisions,
    departments,
    outbox,
    policies,
    programme,
    results,
    selection,
)
from bot.services.outbox import Planned
from bot.settings import Settings

GROUNDS = ("fact_error", "misreading", "administrative")  # 사실관계 오류, 명백한 오인, 행정적 오류
VERDICTS = ("accept", "reject")
APPEALABLE = (ApplicationStatus.WAITLISTED.value, ApplicationStatus.NOT_SELECTED.value)


@dataclass(frozen=True)
class Appealable:
    application: Application
    deadline: dt.datetime
    appeal: Appeal | None


def _released(session: Session, app: Application) -> Selection | None:
    chosen = session.get(Selection, app.month)
    return chosen if chosen is not None and chosen.released_at is not None else None


def for_company(session: Session, user: User, settings: Settings) -> list[Appealable]:
    """The person's company's results that can be (or were) appealed, newest month first: one moved up from the
    waitlist since keeps its appeal in sight (it was told "no result to appeal" with the appeal still open)."""
    company = companies.company_of(session, user)
    if company is None:
        return []
    shown = or_(col(Application.status).in_(APPEALABLE), col(Application.id).in_(select(Appeal.application_id)))
    apps = session.exec(
        select(Application)
        .where(Application.company_id == company.id, shown)
        .order_by(col(Application.month).desc(), col(Application.id))
    ).all()
    out = []
    for app in apps:
        released = _released(session, app)
        if released is not None and released.released_at is not None:
            existing = session.exec(select(Appeal).where(Appeal.application_id == app.id)).first()
            out.append(Appealable(app, _deadline(session, app, released.released_at, settings), existing))
    return out


def _deadline(session: Session, app: Application, released_at: dt.datetime, settings: Settings) -> dt.datetime:
    pitch_at = cycles.get_cycle(session, Month.parse(app.month), settings).pitch_at
    return results.appeal_deadline(released_at, pitch_at, settings)


def check_open(session: Session, user: User, app_id: int, settings: Settings, now: dt.datetime) -> Appealable:
    """The application its owner may appeal now; refused, with the reason, otherwise."""
    app = session.get(Application, app_id)
    company = companies.company_of(session, user)
    if app is None or company is None or app.company_id != company.id:
        raise Refused("not_yours")
    released = _released(session, app)
    if released is None or released.released_at is None or app.status not in APPEALABLE:
        raise Refused("appeal_not_possible")
    existing = session.exec(select(Appeal).where(Appeal.application_id == app.id)).first()
    if existing is not None:
        raise Refused("appeal_exists", filed_at=existing.filed_at, receipt_no=app.receipt_no)
    deadline = _deadline(session, app, released.released_at, settings)
    if now > deadline:
        raise Refused("appeal_closed", deadline=deadline, receipt_no=app.receipt_no)
    return Appealable(app, deadline, None)


def file(
    session: Session,
    user: User,
    app_id: int,
    ground: str,
    details: str,
    evidence: dict[str, Any] | None,
    settings: Settings,
    now: dt.datetime,
) -> Appeal:
    """Files the appeal; the organizers are told."""
    if ground not in GROUNDS or not details.strip():
        raise Refused("not_allowed")
    found = check_open(session, user, app_id, settings, now)
    evidence = evidence or {}
    appeal = Appeal(application_id=app_id, filed_by=user.id or 0, ground=ground, details=details.strip()[:2000],
                    file_id=evidence.get("file_id"), file_name=evidence.get("file_name"),
                    file_path=evidence.get("path"), filed_at=now, status=AppealStatus.OPEN.value)  # fmt: skip
    session.add(appeal)
    session.flush()
    audit.record(session, now, user.id, "appeal_filed", "appeal", appeal.id, application=app_id, ground=ground,
                 file=bool(appeal.file_name))  # fmt: skip
    company = session.get(Company, found.application.company_id)
    notice = {"receipt_no": found.application.receipt_no, "company": company.name if company else "",
              "ground": ground, "deadline": found.deadline}  # fmt: skip
    outbox.plan(session, [Planned(o, "appeal/filed_notice", notice, f"appeal:{appeal.id}:filed", now)
                          for o in decisions.organizers(session, settings)], now)  # fmt: skip
    return appeal


@dataclass(frozen=True)
class Case:
    appeal: Appeal
    application: Application
    company: Company
    may_decide: bool  # this organizer did not review it
    can_promote: bool  # accepted, not selected yet, and the Pitching Day still ahead


def _case(session: Session, organizer: User, appeal: Appeal, settings: Settings, now: dt.datetime) -> Case:
    app = session.get(Application, appeal.application_id)
    assert app is not None
    company = session.get(Company, app.company_id)
    assert company is not None
    decide = policies.may_decide_appeal(session, organizer, app)
    cycle = cycles.get_cycle(session, Month.parse(app.month), settings)
    promote = (decide and appeal.status == AppealStatus.ACCEPTED.value and appeal.promoted_at is None
               and app.status in APPEALABLE and now < cycle.pitch_at)  # fmt: skip
    return Case(appeal, app, company, decide, promote)


def cases(session: Session, organizer: User, settings: Settings, now: dt.datetime) -> list[Case]:
    """Open appeals first, then the decided ones of the last months, for organizers."""
    policies.require(session, organizer, policies.organizer, settings)
    rows = session.exec(select(Appeal).order_by(col(Appeal.filed_at).desc()).limit(50)).all()
    found = [_case(session, organizer, a, settings, now) for a in rows]
    return sorted(found, key=lambda c: (c.appeal.status != AppealStatus.OPEN.value, -(c.appeal.id or 0)))


def case(
    session: Session, organizer: User, appeal_id: int, settings: Settings, now: dt.datetime, lock: bool = False
) -> Case:
    """One appeal as an organizer sees it. ``lock``: held (and read afresh) until the transaction ends, for a
    change: two organizers deciding it at once would otherwise both find it open."""
    policies.require(session, organizer, policies.organizer, settings)
    appeal = session.get(Appeal, appeal_id, with_for_update=lock, populate_existing=lock)
    if appeal is None:
        raise Refused("not_found")
    return _case(session, organizer, appeal, settings, now)


def open_for_decision(
    session: Session, organizer: User, appeal_id: int, settings: Settings, now: dt.datetime, lock: bool = False
) -> Case:
    found = case(session, organizer, appeal_id, settings, now, lock=lock)
    policies.require_appeal_decider(session, organizer, found.application, settings)
    if found.appeal.status != AppealStatus.OPEN.value:
        raise Refused("appeal_decided", decided_at=found.appeal.decided_at)
    return found


def decide(
    session: Session, organizer: User, appeal_id: int, verdict: str, reason: str, settings: Settings, now: dt.datetime
) -> Appeal:
    """Accepts or rejects an open appeal, with its reason; the company is told."""
    if verdict not in VERDICTS:
        raise Refused("not_allowed")
    if not reason.strip():
        raise Refused("reason_required")
    found = open_for_decision(session, organizer, appeal_id, settings, now, lock=True)
    appeal = found.appeal
    appeal.status = (AppealStatus.ACCEPTED if verdict == "accept" else AppealStatus.REJECTED).value
    appeal.reason, appeal.decided_by, appeal.decided_at = reason.strip()[:2000], organizer.id, now
    session.add(appeal)
    audit.record(session, now, organizer.id, "appeal_decided", "appeal", appeal.id, application=appeal.application_id,
                 verdict=verdict)  # fmt: skip
    owner = session.get(User, found.company.owner_user_id)
    if owner is not None:
        data = {"receipt_no": found.application.receipt_no, "product_name": found.application.product_name,
                "company": found.company.name, "verdict": verdict, "reason": appeal.reason,
                "filed_at": appeal.filed_at,
                # Moved up from the waitlist meanwhile: nothing is left to put right.
                "selected": found.application.status == ApplicationStatus.SELECTED.value}  # fmt: skip
        outbox.plan(session, [Planned(owner, "appeal/decided", data, f"appeal:{appeal.id}:decided", now)], now)
    return appeal


def promote(session: Session, organizer: User, appeal_id: int, settings: Settings, now: dt.datetime) -> Application:
    """After an accepted appeal, moves the company into the month's selection as one more company (no
    company already told it was selected loses its place) before the Pitching Day: it gets the selected
    result, its departments' purchase decisions open, the companies behind it on the waitlist (if it was
    there) are told their new positions, and a programme already published is published again with it
    last in the running order (its slot and .ics to the company, the new line-up to the departments)."""
    found = case(session, organizer, appeal_id, settings, now, lock=True)  # promoted once, however many press
    policies.require_appeal_decider(session, organizer, found.application, settings)
    if not found.can_promote:
        raise Refused("appeal_not_promotable")
    app, month = found.application, found.application.month
    # Locked, as a withdrawal's promotion locks it: the two may change who is selected at the same moment.
    chosen = session.get(Selection, month, with_for_update=True, populate_existing=True)
    assert chosen is not None
    session.refresh(app)  # as it stands now that the selection is ours: a withdrawal may just have promoted it
    if app.status not in APPEALABLE or app.id in chosen.decided.get("selected", []):
        raise Refused("appeal_not_promotable")
    before = selection.positions(session, month)
    old = app.status
    selection.admit(session, chosen, app, now)
    found.appeal.promoted_at = now
    session.add(found.appeal)
    audit.record(session, now, organizer.id, "appeal_promoted", "application", app.id, appeal=appeal_id, old=old)
    owner = session.get(User, found.company.owner_user_id)
    if owner is not None:
        cycle = cycle_data(cycles.get_cycle(session, Month.parse(month), settings))
        explained = results.explain(session, month, settings).get(app.id or 0)
        venue = programme.venue_of(session, month, settings)
        named = departments.names(session, decisions.responsible(app))
        data = selection.result_data(
            app, found.company, cycle, len(chosen.decided["selected"]), explained, venue, named
        )
        data["published"] = programme.is_published(session, month)
        outbox.plan(session, [Planned(owner, "results/selected", data, f"{month}:appeal_selected:{app.id}", now)], now)
    selection.tell_moved_up(session, month, before, "appeal", settings, now)  # those behind it, if it was waiting
    programme.republish(session, organizer, month, settings, now)
    return app
