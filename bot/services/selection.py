"""The organizers' selection: the proposal from the ranking, moves in and out, feedback, responsible
departments, confirmation, and the release of results (held until selection day)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.calendar import Month, cycle_data
from bot.errors import Refused
from bot.models import Application, ApplicationStatus, Company, Selection, User
from bot.services import audit, cycles, decisions, outbox, policies, results, review
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
    """The ranking's top N (organizer's "in" first, "out" never), then the waitlist, then the rest. An
    application under a pass mark is proposed for neither selection nor the waitlist (the waitlist moves
    up into the selection): it stays in the ranking, among the rest, unless an organizer moves it in."""
    ranked = review.ranking(session, month, settings)
    forced = [r for r in ranked if r.application.placement == "in"]
    free = [r for r in ranked if r.application.placement is None and r.proposable]
    selected = forced + free[: max(0, settings.selected_count - len(forced))]
    chosen = {r.application.id for r in selected}
    waitlisted = [r for r in ranked if r.application.id not in chosen and r.proposable][: settings.waitlist_count]
    chosen |= {r.application.id for r in waitlisted}
    return Proposal(
        month,
        selected,
        waitlisted,
        [r for r in ranked if r.application.id not in chosen],
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


def set_departments(
    session: Session, organizer: User, app_id: int, text: str, settings: Settings, now: dt.datetime
) -> Application:
    app = _open_app(session, organizer, app_id, settings)
    app.responsible_departments = text.strip()[:500] or None
    session.add(app)
    audit.record(session, now, organizer.id, "responsible_departments", "application", app.id,
                 departments=app.responsible_departments)  # fmt: skip
    return app


def missing_reasons(prop: Proposal) -> list[Application]:
    """Waitlisted and not selected applications whose result would go out without the committee's reasons."""
    return [r.application for r in prop.waitlisted + prop.not_selected if not (r.application.feedback or "").strip()]


def require_reasons(prop: Proposal) -> None:
    missing = missing_reasons(prop)
    if missing:
        raise Refused("selection_reasons_missing", receipts=", ".join(a.receipt_no or "" for a in missing),
                      count=len(missing))  # fmt: skip


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
    require_reasons(prop)
    for r in prop.selected:
        if not r.application.responsible_departments:
            # The company's own wish stands unless the organizer recorded otherwise.
            r.application.responsible_departments = r.application.departments
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
    if settings.trim_min_reviews or any(settings.pass_marks):
        # How the ranking was taken that day, and what fell under a pass mark: the settings may change later.
        ranked = prop.selected + prop.waitlisted + prop.not_selected
        audit.record(session, now, organizer.id, "selection_aggregation", "cycle", month,
                     trim_min_reviews=settings.trim_min_reviews, pass_marks=list(settings.pass_marks),
                     below_pass={str(r.application.id): list(r.below_pass) for r in ranked if r.below_pass},
                     trimmed=[r.application.id for r in ranked if r.trimmed])  # fmt: skip
    session.flush()
    if selection.release_at <= now:
        release(session, month, settings, now)
    return selection


_RESULT = {
    "selected": (ApplicationStatus.SELECTED, "results/selected"),
    "waitlisted": (ApplicationStatus.WAITLISTED, "results/waitlisted"),
    "not_selected": (ApplicationStatus.NOT_SELECTED, "results/not_selected"),
}


def result_data(
    app: Application, company: Company, cycle: dict[str, object], position: int, explained: results.Explained | None
) -> dict[str, object]:
    """What one company's result message says: its result, its total and criteria, the committee's opinion."""
    return {"cycle": cycle, "company": company.name, "product_name": app.product_name, "receipt_no": app.receipt_no,
            "feedback": app.feedback, "position": position, "departments": app.responsible_departments,
            **(explained.data() if explained is not None else {})}  # fmt: skip


def release(session: Session, month: str, settings: Settings, now: dt.datetime) -> int:
    """Sets every application's result and plans every result message, in one transaction. A company not
    selected (or on the waitlist) is offered an appeal until ``results.appeal_deadline``."""
    selection = session.get(Selection, month)
    if selection is None or selection.released_at is not None:
        return 0
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    data = cycle_data(cycle)
    explained = results.explain(session, month, settings)
    appeal_until = results.appeal_deadline(now, settings)
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
            message = result_data(app, company, data, position, explained.get(app_id))
            if key != "selected":
                message |= {"appeal_deadline": appeal_until, results.BUTTONS: [results.appeal_button(app_id)]}
            planned.append(Planned(owner, template, message, f"{month}:result:{app.id}", now))
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
