"""Purchase decisions: each responsible buying department decides within 15 days of the Pitching Day
whether to buy (구매), not to buy (미구매) or to review further (추가 검토). The company is told at once,
and again if the decision is corrected before the deadline (its last second still counts).

Two officials of one department may decide at once: each records against the version they read, and the
second is shown the first's decision to confirm a change on purpose (``DecisionChanged``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.calendar import Cycle, Month, cycle_data
from bot.errors import Refused
from bot.models import (
    Application,
    ApplicationStatus,
    Company,
    DecisionStatus,
    PurchaseDecision,
    Role,
    RoleGrant,
    User,
)
from bot.services import audit, cycles, departments, outbox, policies
from bot.services.outbox import Planned
from bot.settings import Settings

CHOICES = (DecisionStatus.BUY, DecisionStatus.NO_BUY, DecisionStatus.REVIEW)


def responsible(app: Application) -> list[int]:
    """The departments that judge the company: the organizers' choice, else the company's own wish."""
    chosen = app.responsible_department_ids
    return [int(i) for i in (chosen if chosen is not None else app.department_ids) or []]


def ensure_rows(session: Session, month: str, now: dt.datetime) -> int:
    """One open decision per selected company and responsible department. Does not commit."""
    apps = session.exec(
        select(Application).where(Application.month == month, Application.status == ApplicationStatus.SELECTED.value)
    ).all()
    return sum(sync_rows(session, app, now) for app in apps)


def sync_rows(session: Session, app: Application, now: dt.datetime) -> int:
    """The application's open decisions follow its responsible departments: one per department, and an
    open one of a department no longer responsible goes. Returns how many were added."""
    wanted = responsible(app)
    existing = session.exec(select(PurchaseDecision).where(PurchaseDecision.application_id == app.id)).all()
    have = {d.department_id for d in existing}
    for decision in existing:
        if decision.department_id not in wanted and decision.status == DecisionStatus.OPEN:
            session.delete(decision)
    added = 0
    for department in departments.by_ids(session, wanted):
        if department.id not in have:
            session.add(PurchaseDecision(application_id=app.id or 0, department_id=department.id or 0,
                                         department=department.name, updated_at=now))  # fmt: skip
            added += 1
    session.flush()
    return added


def official_departments(session: Session, user: User) -> set[int]:
    grants = session.exec(
        select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == Role.OFFICIAL.value)
    ).all()
    return {g.department_id for g in grants if g.department_id is not None}


def officials_for(session: Session, apps: list[Application]) -> list[User]:
    """Every official of the applications' responsible departments, once each, by id."""
    people: dict[int, User] = {}
    for app in apps:
        for department_id in responsible(app):
            people |= {p.id or 0: p for p in officials_of(session, department_id)}
    return sorted(people.values(), key=lambda p: p.id or 0)


def officials_of(session: Session, department_id: int) -> list[User]:
    ids = set(
        session.exec(
            select(RoleGrant.user_id).where(
                RoleGrant.role == Role.OFFICIAL.value, RoleGrant.department_id == department_id
            )
        ).all()
    )
    if not ids:
        return []
    found = session.exec(select(User).where(col(User.id).in_(ids), User.active == True)).all()  # noqa: E712
    return sorted(found, key=lambda u: u.id or 0)


def organizers(session: Session, settings: Settings) -> list[User]:
    """Everyone who organizes: granted in the database, or named in the settings (on either channel)."""
    ids = set(session.exec(select(RoleGrant.user_id).where(RoleGrant.role == Role.ORGANIZER.value)).all())
    named = [key.partition(":") for key in settings.organizers]
    by_channel = [(col(User.channel) == channel) & (col(User.external_id) == ident) for channel, _, ident in named]
    found = session.exec(select(User).where(or_(col(User.id).in_(ids), *by_channel))).all()
    return sorted((u for u in found if u.active), key=lambda u: u.id or 0)


@dataclass(frozen=True)
class Row:
    decision: PurchaseDecision
    application: Application
    company: Company
    cycle: Cycle
    overdue: bool


def _rows(session: Session, stmt: object, settings: Settings, now: dt.datetime) -> list[Row]:
    out = []
    cache: dict[str, Cycle] = {}
    for decision, app, company in session.exec(stmt).all():  # type: ignore[call-overload]
        cycle = cache.get(app.month) or cycles.get_cycle(session, Month.parse(app.month), settings)
        cache[app.month] = cycle
        overdue = decision.status == DecisionStatus.OPEN and cycle.decision_deadline_passed(now)
        out.append(Row(decision, app, company, cycle, overdue))
    return out


def _base() -> object:
    return (
        select(PurchaseDecision, Application, Company)
        .join(Application, col(PurchaseDecision.application_id) == col(Application.id))
        .join(Company, col(Application.company_id) == col(Company.id))
    )


def for_official(session: Session, user: User, settings: Settings, now: dt.datetime) -> list[Row]:
    """The decisions of the official's department(s): open first, then the decided ones."""
    policies.require(session, user, policies.official, settings)
    mine = official_departments(session, user)
    if not mine:
        return []
    # Matched by id now, so the database picks the official's rows instead of every decision ever made.
    stmt = _base().where(col(PurchaseDecision.department_id).in_(mine))  # type: ignore[attr-defined]
    rows = _rows(session, stmt, settings, now)
    return sorted(rows, key=lambda r: (r.decision.status != DecisionStatus.OPEN, r.cycle.pitch_at, r.decision.id))


def board_for(session: Session, organizer: User, month: str, settings: Settings, now: dt.datetime) -> list[Row]:
    policies.require(session, organizer, policies.organizer, settings)
    return board(session, month, settings, now)


def board(session: Session, month: str, settings: Settings, now: dt.datetime) -> list[Row]:
    stmt = _base().where(Application.month == month).order_by(col(Application.id), col(PurchaseDecision.id))  # type: ignore[attr-defined]
    return _rows(session, stmt, settings, now)


def _may_decide(session: Session, user: User, decision: PurchaseDecision, settings: Settings) -> bool:
    if policies.has(session, user, Role.ORGANIZER, settings):
        return True
    return decision.department_id in official_departments(session, user)


def get_for(session: Session, user: User, decision_id: int, settings: Settings) -> PurchaseDecision:
    decision = session.get(PurchaseDecision, decision_id)
    if decision is None or not _may_decide(session, user, decision, settings):
        raise Refused("not_allowed")
    app = session.get(Application, decision.application_id)
    if app is not None:
        # Not even an organizer decides on a product of their own company.
        policies.require_no_conflict(session, user, app)
    return decision


class DecisionChanged(Refused):
    """Someone recorded the decision after this person read it: they see it, and confirm a change on purpose."""

    def __init__(self, decision: PurchaseDecision, by: User | None) -> None:
        super().__init__("decision_changed", status=decision.status, amount=decision.amount, timing=decision.timing,
                         reason=decision.reason, at=decision.decided_at or decision.updated_at,
                         by=(by.display_name if by else None) or "", department=decision.department)  # fmt: skip
        self.version = decision.version


def recordable(cycle: Cycle, now: dt.datetime, organizer: bool) -> bool:
    """Officials record and correct from the Pitching Day to the deadline's last second. After it, organizers
    record and correct what a department tells them late: the overdue notice promises the company an answer,
    and an official who must change a decision is told to ask them (nobody could, and a wrong decision the
    company had been told stayed wrong)."""
    return cycle.decisions_open(now) or (organizer and cycle.pitch_at <= now)


def check_window(cycle: Cycle, now: dt.datetime, organizer: bool) -> None:
    if recordable(cycle, now, organizer):
        return
    if now < cycle.pitch_at:
        raise Refused("decision_too_early", pitch_at=cycle.pitch_at, deadline=cycle.decision_deadline_at)
    raise Refused("decision_deadline_passed", deadline=cycle.decision_deadline_at)


def _locked(session: Session, decision_id: int) -> PurchaseDecision | None:
    """The row as committed now, held until the turn ends (another official's record waits for it)."""
    stmt = (
        select(PurchaseDecision)
        .where(PurchaseDecision.id == decision_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(stmt).first()


def record(
    session: Session,
    user: User,
    decision_id: int,
    status: str,
    settings: Settings,
    now: dt.datetime,
    amount: str | None = None,
    timing: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> tuple[PurchaseDecision, bool]:
    """Records (or corrects) a decision and tells the company, in one transaction. Returns (row, corrected).
    ``expected_version`` is the version the person read; when the row has moved on, ``DecisionChanged``."""
    if status not in {c.value for c in CHOICES}:
        raise Refused("not_allowed")
    reason = (reason or "").strip() or None
    if status != DecisionStatus.BUY and not reason:
        raise Refused("reason_required")
    app = session.get(Application, get_for(session, user, decision_id, settings).application_id)
    assert app is not None
    cycle = cycles.get_cycle(session, Month.parse(app.month), settings)
    decision = _locked(session, decision_id)
    assert decision is not None
    organizer = policies.has(session, user, Role.ORGANIZER, settings)
    check_window(cycle, now, organizer)
    late = cycle.decision_deadline_passed(now)
    if expected_version is not None and decision.version != expected_version:
        raise DecisionChanged(decision, session.get(User, decision.decided_by) if decision.decided_by else None)
    corrected = decision.status != DecisionStatus.OPEN
    old = decision.status
    values = (
        status,
        (amount or "").strip()[:200] or None if status == DecisionStatus.BUY else None,
        (timing or "").strip()[:200] or None if status == DecisionStatus.BUY else None,
        reason[:2000] if reason else None,
    )
    if corrected and _same(values, (decision.status, decision.amount, decision.timing, decision.reason)):
        # Confirmed again as it stands: the company was told "corrected, this replaces the last notice" with
        # the same content, and the export counted a correction.
        raise Refused("decision_unchanged")
    decision.status, decision.amount, decision.timing, decision.reason = values
    decision.decided_by, decision.decided_at, decision.updated_at = user.id, now, now
    if corrected:
        decision.corrections += 1
    decision.version += 1
    session.add(decision)
    audit.record(session, now, user.id, "decision_corrected" if corrected else "decision_recorded", "decision",
                 decision.id, old=old, new=status, department=decision.department,
                 **({"late": True} if late else {}))  # fmt: skip
    company = session.get(Company, app.company_id)
    owner = session.get(User, company.owner_user_id) if company else None
    if owner is not None and company is not None:
        outbox.plan(session, [Planned(
            owner, "decisions/corrected" if corrected else "decisions/recorded",
            {"cycle": cycle_data(cycle), "company": company.name, "product_name": app.product_name,
             "department": decision.department, "status": status, "amount": decision.amount,
             "timing": decision.timing, "reason": decision.reason},
            f"{app.month}:decision:{decision.id}:{decision.corrections}", now,
        )], now)  # fmt: skip
    return decision, corrected


def open_elsewhere(session: Session, month: str, settings: Settings, now: dt.datetime) -> list[tuple[str, int]]:
    """Other months past their Pitching Day with decisions still open, and how many: the board opens on the
    latest month, while last month's late ones still wait for their departments' answers."""
    stmt = (
        select(Application.month, func.count())
        .join(PurchaseDecision, col(PurchaseDecision.application_id) == col(Application.id))
        .where(PurchaseDecision.status == DecisionStatus.OPEN.value, Application.month != month)
        .group_by(Application.month)
        .order_by(Application.month)
    )
    rows = session.exec(stmt).all()
    return [(m, n) for m, n in rows if cycles.get_cycle(session, Month.parse(m), settings).pitch_at <= now]


def _same(typed: tuple[str | None, ...], stored: tuple[str | None, ...]) -> bool:
    """The same decision, spaces aside (「1,000 만원」 is 「1,000만원」: a correction with nothing changed)."""

    def words(value: str | None) -> str:
        return "".join((value or "").split())

    return [words(v) for v in typed] == [words(v) for v in stored]


def pending_by_official(session: Session, month: str) -> dict[int, tuple[User, list[dict[str, str]]]]:
    """Officials with open decisions this month, and what waits for them."""
    stmt = _base().where(Application.month == month, PurchaseDecision.status == DecisionStatus.OPEN.value)  # type: ignore[attr-defined]
    out: dict[int, tuple[User, list[dict[str, str]]]] = {}
    for decision, app, company in session.exec(stmt).all():
        for official in officials_of(session, decision.department_id):
            item = {"company": company.name, "product_name": app.product_name, "department": decision.department}
            out.setdefault(official.id or 0, (official, []))[1].append(item)
    return out


def overdue(session: Session, month: str) -> list[dict[str, str]]:
    stmt = _base().where(Application.month == month, PurchaseDecision.status == DecisionStatus.OPEN.value)  # type: ignore[attr-defined]
    return [
        {"company": company.name, "product_name": app.product_name, "department": decision.department}
        for decision, app, company in session.exec(stmt).all()
    ]


def of_application(session: Session, app_id: int) -> list[PurchaseDecision]:
    """Each responsible department's decision on one application, as its company may see them."""
    stmt = select(PurchaseDecision).where(PurchaseDecision.application_id == app_id).order_by(col(PurchaseDecision.id))
    return list(session.exec(stmt).all())


def drop_open(session: Session, app_id: int) -> dict[int, str]:
    """A withdrawn company's open decisions go: no department is asked, reminded or escalated about it.
    Returns the departments concerned (id: name). Does not commit."""
    gone = [d for d in of_application(session, app_id) if d.status == DecisionStatus.OPEN]
    concerned = {d.department_id: d.department for d in gone}
    for decision in gone:
        session.delete(decision)
    if gone:
        session.flush()
    return concerned


def open_by_application(session: Session, month: str) -> list[tuple[Application, Company, list[str]]]:
    """Selected applications of the month with departments still undecided, and those departments."""
    stmt = (
        _base()
        .where(Application.month == month, PurchaseDecision.status == DecisionStatus.OPEN.value)  # type: ignore[attr-defined]
        .order_by(col(Application.id), col(PurchaseDecision.id))
    )
    out: dict[int, tuple[Application, Company, list[str]]] = {}
    for decision, app, company in session.exec(stmt).all():
        out.setdefault(app.id or 0, (app, company, []))[2].append(decision.department)
    return list(out.values())
