"""The organizers' selection: the proposal from the ranking, moves in and out, feedback, responsible
departments, confirmation, and the release of results (held until selection day)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.calendar import Month, cycle_data
from bot.errors import Refused
from bot.models import Application, ApplicationStatus, Company, Department, Programme, Selection, User
from bot.services import audit, cycles, decisions, departments, outbox, policies, review
from bot.services.outbox import Planned
from bot.services.review import Ranked
from bot.settings import Settings

PLACEMENTS = ("in", "out")


@dataclass(frozen=True)
class Proposal:
    month: str
    selected: list[Ranked]
    waitlisted: list[Ranked]
    not_selected: list[Ranked]
    confirmed: Selection | None


def _organizer(session: Session, user: User, settings: Settings) -> None:
    policies.require(session, user, policies.organizer, settings)


def board(session: Session, organizer: User, month: str, settings: Settings) -> Proposal:
    """The proposal as organizers see it (nobody else may)."""
    _organizer(session, organizer, settings)
    return proposal(session, month, settings)


def proposal(session: Session, month: str, settings: Settings) -> Proposal:
    """The ranking's top N (organizer's "in" first, "out" never), then the waitlist, then the rest."""
    ranked = review.ranking(session, month, settings)
    forced = [r for r in ranked if r.application.placement == "in"]
    free = [r for r in ranked if r.application.placement is None]
    selected = forced + free[: max(0, settings.selected_count - len(forced))]
    chosen = {r.application.id for r in selected}
    remaining = [r for r in ranked if r.application.id not in chosen]
    return Proposal(
        month,
        selected,
        remaining[: settings.waitlist_count],
        remaining[settings.waitlist_count :],
        session.get(Selection, month),
    )


def open_application(session: Session, organizer: User, app_id: int, settings: Settings) -> Application:
    """An application whose placement, feedback and departments can still change."""
    return _open_app(session, organizer, app_id, settings)


def _open_app(session: Session, organizer: User, app_id: int, settings: Settings) -> Application:
    _organizer(session, organizer, settings)
    app = session.get(Application, app_id)
    if app is None or app.status == ApplicationStatus.WITHDRAWN.value:
        raise Refused("not_found")
    if session.get(Selection, app.month) is not None:
        raise Refused("selection_confirmed")
    return app


def place(
    session: Session, organizer: User, app_id: int, placement: str | None, settings: Settings, now: dt.datetime
) -> Application:
    if placement is not None and placement not in PLACEMENTS:
        raise Refused("not_allowed")
    app = _open_app(session, organizer, app_id, settings)
    old, app.placement = app.placement, placement
    session.add(app)
    audit.record(session, now, organizer.id, "selection_placement", "application", app.id, old=old, new=placement)
    return app


def set_feedback(
    session: Session, organizer: User, app_id: int, text: str, settings: Settings, now: dt.datetime
) -> Application:
    app = _open_app(session, organizer, app_id, settings)
    app.feedback = text.strip()[:1500] or None
    session.add(app)
    audit.record(session, now, organizer.id, "selection_feedback", "application", app.id)
    return app


def departments_open(session: Session, app: Application) -> bool:
    """Responsible departments change until the programme is published: before the selection is confirmed,
    and after it for a selected company."""
    confirmed = session.get(Selection, app.month)
    if confirmed is None:
        return app.status != ApplicationStatus.WITHDRAWN.value
    programme = session.get(Programme, app.month)
    published = programme is not None and programme.version > 0
    return not published and app.id in (confirmed.decided.get("selected") or [])


def application_for_departments(session: Session, organizer: User, app_id: int, settings: Settings) -> Application:
    _organizer(session, organizer, settings)
    app = session.get(Application, app_id)
    if app is None or app.status == ApplicationStatus.WITHDRAWN.value:
        raise Refused("not_found")
    if not departments_open(session, app):
        raise Refused("departments_locked")
    return app


def set_departments(
    session: Session, organizer: User, app_id: int, ids: list[int], settings: Settings, now: dt.datetime
) -> Application:
    """The company's responsible departments, from the list; decisions already opened follow them."""
    app = application_for_departments(session, organizer, app_id, settings)
    chosen = [d.id or 0 for d in departments.by_ids(session, ids) if d.active]
    if not chosen:
        raise Refused("department_none")
    app.responsible_department_ids = chosen
    session.add(app)
    if app.status == ApplicationStatus.SELECTED.value:
        decisions.sync_rows(session, app, now)
    audit.record(session, now, organizer.id, "responsible_departments", "application", app.id,
                 departments=chosen)  # fmt: skip
    return app


def unstaffed(session: Session, month: str) -> list[Department]:
    """Responsible departments of the month's selected companies that no official could decide for."""
    confirmed = session.get(Selection, month)
    ids = (confirmed.decided.get("selected") or []) if confirmed else []
    apps = [a for a in (session.get(Application, i) for i in ids) if a is not None]
    return without_official(session, apps)


def without_official(session: Session, apps: list[Application]) -> list[Department]:
    wanted = list(dict.fromkeys(d for a in apps for d in decisions.responsible(a)))
    return departments.without_official(session, wanted)


def confirm(session: Session, organizer: User, month: str, settings: Settings, now: dt.datetime) -> Selection:
    """Freezes the selection. Before selection day the results are held until then; after, they go out
    at once. Scores and placements can no longer change."""
    _organizer(session, organizer, settings)
    if session.get(Selection, month) is not None:
        raise Refused("selection_confirmed")
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    if cycle.window_open(now) or now < cycle.window_opens_at:
        raise Refused("selection_too_early")
    prop = proposal(session, month, settings)
    if not prop.selected:
        raise Refused("selection_empty")
    for r in prop.selected:
        if r.application.responsible_department_ids is None:
            # The company's own wish stands unless the organizer recorded otherwise.
            r.application.responsible_department_ids = list(r.application.department_ids)
            session.add(r.application)
    decided = {
        "selected": [r.application.id for r in prop.selected],
        "waitlisted": [r.application.id for r in prop.waitlisted],
        "not_selected": [r.application.id for r in prop.not_selected],
    }
    selection = Selection(
        month=month, confirmed_by=organizer.id, confirmed_at=now, release_at=max(now, cycle.selection_at),
        decided=decided,
    )  # fmt: skip
    session.add(selection)
    audit.record(session, now, organizer.id, "selection_confirmed", "cycle", month, **decided,
                 release_at=selection.release_at.isoformat())  # fmt: skip
    session.flush()
    if selection.release_at <= now:
        release(session, month, settings, now)
    return selection


_RESULT = {
    "selected": (ApplicationStatus.SELECTED, "results/selected"),
    "waitlisted": (ApplicationStatus.WAITLISTED, "results/waitlisted"),
    "not_selected": (ApplicationStatus.NOT_SELECTED, "results/not_selected"),
}


def release(session: Session, month: str, settings: Settings, now: dt.datetime) -> int:
    """Sets every application's result and plans every result message, in one transaction."""
    selection = session.get(Selection, month)
    if selection is None or selection.released_at is not None:
        return 0
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    data = cycle_data(cycle)
    planned = []
    for key, (status, template) in _RESULT.items():
        ids = selection.decided.get(key, [])
        for position, app_id in enumerate(ids, start=1):
            app = session.get(Application, app_id)
            if app is None:
                continue
            company = session.get(Company, app.company_id)
            owner = session.get(User, company.owner_user_id) if company else None
            app.status = status.value
            session.add(app)
            if owner is None or company is None:
                continue
            planned.append(
                Planned(owner, template, {
                    "cycle": data, "company": company.name, "product_name": app.product_name,
                    "receipt_no": app.receipt_no, "feedback": app.feedback, "position": position,
                    "departments": departments.names(session, decisions.responsible(app)),
                }, f"{month}:result:{app.id}", now)
            )  # fmt: skip
    selection.released_at = now
    session.add(selection)
    decisions.ensure_rows(session, month, now)
    audit.record(session, now, None, "selection_released", "cycle", month, messages=len(planned))
    return outbox.plan(session, planned, now)


def release_due(session: Session, settings: Settings, now: dt.datetime) -> int:
    held = session.exec(
        select(Selection).where(col(Selection.released_at).is_(None), Selection.release_at <= now)
    ).all()
    return sum(release(session, s.month, settings, now) for s in held)
