"""The organizers' selection: the proposal from the ranking, moves in and out, feedback, responsible
departments, confirmation, and the release of results (held until selection day)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.calendar import Cycle, Month, cycle_data
from bot.database import insert_new
from bot.errors import Refused
from bot.models import RESULT_STATUSES, Appeal, Application, ApplicationStatus, Company, Programme, Selection, User
from bot.services import audit, cycles, decisions, departments, outbox, policies, programme, results, review
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


def departments_open(session: Session, app: Application) -> bool:
    """Responsible departments change until the programme is published: before the selection is confirmed,
    and after it for a selected company."""
    confirmed = session.get(Selection, app.month)
    if confirmed is None:
        return app.status != ApplicationStatus.WITHDRAWN.value
    shown = session.get(Programme, app.month)
    published = shown is not None and shown.version > 0
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


def unstaffed(session: Session, month: str) -> list[departments.Entry]:
    """Responsible departments of the month's selected companies that no official could decide for."""
    confirmed = session.get(Selection, month)
    ids = (confirmed.decided.get("selected") or []) if confirmed else []
    apps = [a for a in (session.get(Application, i) for i in ids) if a is not None]
    return without_official(session, apps)


def without_official(session: Session, apps: list[Application]) -> list[departments.Entry]:
    wanted = list(dict.fromkeys(d for a in apps for d in decisions.responsible(a)))
    return departments.without_official(session, wanted)


def missing_reasons(prop: Proposal) -> list[Application]:
    """Waitlisted and not selected applications whose result would go out without the committee's reasons."""
    return [r.application for r in prop.waitlisted + prop.not_selected if not (r.application.feedback or "").strip()]


def require_reasons(prop: Proposal) -> None:
    missing = missing_reasons(prop)
    if missing:
        raise Refused("selection_reasons_missing", receipts=", ".join(a.receipt_no or "" for a in missing),
                      count=len(missing))  # fmt: skip


def require_reviews_in(session: Session, month: str, settings: Settings, now: dt.datetime) -> int:
    """Reviewers have until their deadline: a selection confirmed before it, with scores still to come, ranked
    applications nobody had scored yet and shut the reviewers out unheard. After it, confirming goes on with
    what was given (returned: how many assignments were never scored, for the question to say)."""
    missing = review.unscored(session, month)
    deadline = review.review_deadline(cycles.get_cycle(session, Month.parse(month), settings), settings)
    if missing and now <= deadline:
        raise Refused("selection_reviews_open", count=missing, deadline=deadline)
    return missing


def decided_of(prop: Proposal) -> dict[str, list[int]]:
    """The proposal as a confirmation records it: ids per result, the waitlist in its order."""
    return {
        "selected": [r.application.id or 0 for r in prop.selected],
        "waitlisted": [r.application.id or 0 for r in prop.waitlisted],
        "not_selected": [r.application.id or 0 for r in prop.not_selected],
    }


def confirm(
    session: Session,
    organizer: User,
    month: str,
    settings: Settings,
    now: dt.datetime,
    shown: dict[str, list[int]] | None = None,
) -> Selection:
    """Freezes the selection. Before selection day the results are held until then; after, they go out
    at once. Scores and placements can no longer change. ``shown``: the proposal the organizer's question
    showed; refused when it has changed since (another organizer moved a company meanwhile)."""
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
    require_reviews_in(session, month, settings, now)
    decided = decided_of(prop)
    if shown is not None and shown != decided:
        raise Refused("selection_changed")
    made = Selection(
        month=month, confirmed_by=organizer.id, confirmed_at=now, release_at=max(now, cycle.selection_at),
        decided=decided,
    )  # fmt: skip
    if not insert_new(session, made):  # another organizer confirmed it this moment: theirs stands, nothing written
        raise Refused("selection_confirmed")
    selection = session.get(Selection, month)
    assert selection is not None
    for r in prop.selected:
        if r.application.responsible_department_ids is None:
            # The company's own wish stands unless the organizer recorded otherwise.
            r.application.responsible_department_ids = list(r.application.department_ids)
            session.add(r.application)
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


def results_by_application(confirmed: Selection | None) -> dict[int, str]:
    """Each application's result as confirmed ("selected", "waitlisted", "not_selected", "withdrawn").
    "promoted" is history (the company is also under "selected"); "withdrawn" comes last and wins."""
    decided = confirmed.decided if confirmed else {}
    keys = ("selected", "waitlisted", "not_selected", "withdrawn")
    return {app_id: key for key in keys for app_id in decided.get(key, []) or []}


def result_data(
    app: Application,
    company: Company,
    cycle: dict[str, object],
    position: int,
    explained: results.Explained | None,
    venue: str,
    named: str,
) -> dict[str, object]:
    """What one company's result message says: its result, its total and criteria, the committee's opinion."""
    return {"cycle": cycle, "company": company.name, "product_name": app.product_name, "receipt_no": app.receipt_no,
            "feedback": app.feedback, "position": position, "departments": named,
            "venue": venue,
            **(explained.data() if explained is not None else {})}  # fmt: skip


def next_window(session: Session, month: str, settings: Settings, now: dt.datetime) -> dict[str, object]:
    """When a company told it will not pitch in ``month`` may apply again: a later month's window already open
    (organizers moved its dates), else the next to open, as the calendar has it."""
    status = cycles.window_status(session, now, settings)
    later_open = status.open_cycle is not None and str(status.open_cycle.month) > month
    following = status.open_cycle if later_open and status.open_cycle is not None else status.next_cycle
    return {"next_opens_at": following.window_opens_at, "next_closes_at": following.window_closes_at}


def release(session: Session, month: str, settings: Settings, now: dt.datetime) -> int:
    """Sets every application's result and plans every result message, in one transaction. A company not
    selected (or on the waitlist) is offered an appeal until ``results.appeal_deadline``."""
    selection = session.get(Selection, month)
    if selection is None or selection.released_at is not None:
        return 0
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    data = cycle_data(cycle)
    explained = results.explain(session, month, settings)
    appeal_until = results.appeal_deadline(now, cycle.pitch_at, settings)
    again = next_window(session, month, settings, now)
    venue = programme.venue_of(session, month, settings)
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
            named = departments.names(session, decisions.responsible(app))
            message = result_data(app, company, data, position, explained.get(app_id), venue, named)
            if key != "selected":
                message |= {"appeal_deadline": appeal_until, results.BUTTONS: [results.appeal_button(app_id)]}
            if key == "not_selected":
                message |= again
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


# ---- after the results: a selected company withdraws, the first waitlisted one takes its place ----------


@dataclass(frozen=True)
class Replacement:
    withdrawn: Application
    promoted: Application | None
    messages: int  # planned for the programme's re-publication (the two companies' own notices aside)


def _replaceable(session: Session, month: str, settings: Settings, now: dt.datetime, lock: bool = False) -> Selection:
    """The confirmed selection, if its results are out and Pitching Day has not begun. Before the results
    no company knows it was selected (nor can ask to withdraw); after the pitch there is no place to take.
    ``lock``: two organizers changing it at once take turns (PostgreSQL; SQLite has one writer anyway)."""
    selection = session.get(Selection, month, with_for_update=lock, populate_existing=lock)
    if selection is None:
        raise Refused("selection_not_confirmed")
    if selection.released_at is None:
        raise Refused("replace_before_release", release_at=selection.release_at)
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    if now >= cycle.pitch_at:
        raise Refused("replace_after_pitch", pitch_at=cycle.pitch_at)
    return selection


def waiting(session: Session, month: str) -> list[Application]:
    """The companies still on the waitlist, first first: the n-th is told it is 예비 n순위 (at the results,
    and again whenever one ahead of it leaves the waitlist)."""
    selection = session.get(Selection, month)
    decided = selection.decided if selection is not None else {}
    # As they stand now: another turn may just have promoted one.
    apps = [session.get(Application, i, populate_existing=True) for i in decided.get("waitlisted", []) or []]
    return [a for a in apps if a is not None and a.status == ApplicationStatus.WAITLISTED.value]


def next_waitlisted(session: Session, month: str) -> tuple[int, Application] | None:
    """The first company still on the waitlist, with its position as it was last told (always the first:
    each company behind a promoted one is told its new position in the same transaction)."""
    found = waiting(session, month)
    return (1, found[0]) if found else None


def positions(session: Session, month: str) -> dict[int, int]:
    """Each waitlisted application's position now (application id → 1, 2, …)."""
    return {a.id or 0: n for n, a in enumerate(waiting(session, month), start=1)}


def tell_moved_up(
    session: Session, month: str, before: dict[int, int], cause: str, settings: Settings, now: dt.datetime
) -> int:
    """Tells each company still waiting whose position changed since ``before`` its new one, the Pitching
    Day and that it will be called if a place frees up (``cause``: "withdrawal" or "appeal"). Planned once
    per company and position, in the caller's transaction."""
    after = positions(session, month)
    moved = {i: n for i, n in after.items() if before.get(i, n) != n}
    if not moved:
        return 0
    data = cycle_data(cycles.get_cycle(session, Month.parse(month), settings))
    for app_id, position in moved.items():
        app = session.get(Application, app_id)
        assert app is not None
        _tell_owner(session, app, "results/waitlist_moved", f"waitlist{position}", now, cycle=data,
                    position=position, previous=before[app_id], cause=cause)  # fmt: skip
    audit.record(session, now, None, "waitlist_moved", "cycle", month, cause=cause,
                 positions={str(k): v for k, v in moved.items()})  # fmt: skip
    return len(moved)


def _moved(selection: Selection, app_id: int, source: str, target: str) -> None:
    decided = {k: list(v) for k, v in selection.decided.items()}
    decided[source] = [i for i in decided.get(source, []) if i != app_id]
    decided[target] = [*decided.get(target, []), app_id]
    selection.decided = decided  # a new dict: the JSON column sees the change


def _tell_owner(session: Session, app: Application, template: str, key: str, now: dt.datetime, **data: object) -> int:
    company = session.get(Company, app.company_id)
    owner = session.get(User, company.owner_user_id) if company else None
    if owner is None or company is None:
        return 0
    return outbox.plan(session, [Planned(owner, template, {"company": company.name, "product_name": app.product_name,
                                                           "receipt_no": app.receipt_no, **data},
                                         f"{app.month}:{key}:{app.id}", now)], now)  # fmt: skip


def follow_pitch(session: Session, month: Month, before: Cycle, cycle: Cycle, settings: Settings,
                 now: dt.datetime) -> int:  # fmt: skip
    """Pitching Day moved after the results went out, which named its day: the selected companies and their
    departments' officials hear the new one (a published programme, sent again, says it itself), so do the
    waitlisted companies (the waitlist may still move up), and any company whose appeal deadline moved with it
    (it ends the day before Pitching Day at the latest). Returns how many messages were planned."""
    held = session.get(Selection, str(month))
    if before.pitch_at == cycle.pitch_at or held is None or held.released_at is None:
        return 0
    shown = session.get(Programme, str(month))
    published = shown is not None and bool(shown.version and shown.order)
    apps = session.exec(
        select(Application)
        .join(Company, col(Company.id) == col(Application.company_id))
        .where(Application.month == str(month), col(Application.status).in_(RESULT_STATUSES),
               col(Company.erased_at).is_(None))
    ).all()  # fmt: skip
    appealed = set(
        session.exec(select(Appeal.application_id).where(col(Appeal.application_id).in_([a.id for a in apps]))).all()
    )
    was = results.appeal_deadline(held.released_at, before.pitch_at, settings)
    moved = results.appeal_deadline(held.released_at, cycle.pitch_at, settings)
    # Each move is its own news: moved to the 18th, back to the 24th and to the 18th again, the third was
    # planned under the first's key and never sent.
    data, stamp = cycle_data(cycle), now.strftime("%Y%m%d%H%M%S%f")
    told = 0
    for app in apps:
        appeal = app.status != ApplicationStatus.SELECTED and app.id not in appealed and was != moved and was > now
        if (app.status == ApplicationStatus.SELECTED and published) or (
            app.status == ApplicationStatus.NOT_SELECTED and not appeal
        ):
            continue
        told += _tell_owner(session, app, "results/pitch_moved", f"pitch_moved{stamp}", now, cycle=data,
                            before_pitch=before.pitch_at, status=app.status, appeal_deadline=moved if appeal else None,
                            appeal_before=was)  # fmt: skip
    selected = [app for app in apps if app.status == ApplicationStatus.SELECTED]
    if not published and selected:
        told += outbox.plan(session, [
            Planned(person, "programme/pitch_moved", {"cycle": data, "before_pitch": before.pitch_at},
                    f"{month}:pitch_moved{stamp}", now)
            for person in decisions.officials_for(session, selected)
        ], now)  # fmt: skip
    return told


Named = tuple[int | None] | None  # who an organizer was told would be promoted: (id,), (None,) or unchecked


def withdrawable(
    session: Session, organizer: User, app_id: int, settings: Settings, now: dt.datetime, lock: bool = False
) -> Application:
    """A selected application that may give up its place now (the organizer's flow asks before the reason;
    the withdrawal itself asks again, holding the selection)."""
    _organizer(session, organizer, settings)
    app = session.get(Application, app_id)
    if app is None:
        raise Refused("not_found")
    selection = _replaceable(session, app.month, settings, now, lock=lock)
    session.refresh(app)  # as it stands now (once the selection is ours)
    if app.status != ApplicationStatus.SELECTED.value or app_id not in selection.decided.get("selected", []):
        raise Refused("not_selected_now")
    return app


def replaceable(session: Session, month: str, settings: Settings, now: dt.datetime) -> bool:
    """Whether the month's selected companies can still be withdrawn and replaced."""
    try:
        _replaceable(session, month, settings, now)
    except Refused:
        return False
    return True


def withdraw_selected(
    session: Session, organizer: User, app_id: int, reason: str, settings: Settings, now: dt.datetime
) -> Application:
    """A selected company gives up its place, at its request: the application is withdrawn, the confirmed
    selection records it, its departments are no longer asked to decide, and the company is told."""
    reason = reason.strip()[:500]
    if not reason:
        raise Refused("required")
    app = withdrawable(session, organizer, app_id, settings, now, lock=True)
    selection = _replaceable(session, app.month, settings, now)  # held since withdrawable()
    _moved(selection, app_id, "selected", "withdrawn")
    session.add(selection)
    app.status, app.withdrawn_at, app.updated_at = ApplicationStatus.WITHDRAWN.value, now, now
    session.add(app)
    dropped = decisions.drop_open(session, app_id)
    audit.record(session, now, organizer.id, "selection_withdrawn", "application", app_id, reason=reason,
                 departments=list(dropped.values()))  # fmt: skip
    cycle = cycles.get_cycle(session, Month.parse(app.month), settings)
    again = next_window(session, app.month, settings, now)
    _tell_owner(session, app, "results/withdrawn", "withdrawn", now, cycle=cycle_data(cycle), reason=reason, **again)
    _tell_officials(session, app, dropped, cycle_data(cycle), now)
    return app


def _tell_officials(
    session: Session, app: Application, department_ids: Iterable[int], data: dict[str, object], now: dt.datetime
) -> None:
    """The departments that were to judge a company that gave up its place: no line-up of theirs keeps it."""
    company = session.get(Company, app.company_id)
    people = {p.id: p for d in department_ids for p in decisions.officials_of(session, d)}
    outbox.plan(session, [
        Planned(person, "programme/withdrawn", {"cycle": data, "company": company.name if company else "",
                                                "product_name": app.product_name},
                f"{app.month}:withdrawn:{app.id}", now)
        for _, person in sorted(people.items(), key=lambda kv: kv[0] or 0)
    ], now)  # fmt: skip


def admit(session: Session, chosen: Selection, app: Application, now: dt.datetime, from_waitlist: bool = False) -> None:
    """The one way into a confirmed selection after its confirmation (the first waitlisted company when a
    selected one gives up, or a company whose appeal was accepted): the selection (held by the caller, locked)
    records it, the application is selected as of ``now`` (reminders due before then are not its to receive),
    and its responsible departments' purchase decisions open. The caller audits and tells."""
    decided = {k: [i for i in v if i != app.id] if k != "promoted" else list(v) for k, v in chosen.decided.items()}
    decided["selected"] = [*decided.get("selected", []), app.id]
    if from_waitlist:  # history, for the records: the company is under "selected" too
        decided["promoted"] = [*decided.get("promoted", []), app.id]
    chosen.decided = decided  # a new dict: the JSON column sees the change
    session.add(chosen)
    app.status, app.updated_at = ApplicationStatus.SELECTED.value, now
    app.responsible_department_ids = decisions.responsible(app)  # as at confirmation: the company's wish stands
    session.add(app)
    session.flush()
    decisions.ensure_rows(session, app.month, now)


def promote_first(
    session: Session, organizer: User, month: str, settings: Settings, now: dt.datetime, *, named: Named = None
) -> Application | None:
    """The first company on the waitlist becomes selected: the confirmed selection records it, its
    responsible departments get their decision rows, and the company is told its new status, the
    Pitching Day and what to do next. None when nobody is waiting. ``named``: the application the organizer
    was told would take the place (a tuple of its id, or of None for nobody); another one now is refused."""
    _organizer(session, organizer, settings)
    selection = _replaceable(session, month, settings, now, lock=True)
    before = positions(session, month)
    found = next_waitlisted(session, month)
    if named is not None and named != ((found[1].id if found else None),):
        raise Refused("selection_waitlist_changed")
    if found is None:
        return None
    position, app = found
    admit(session, selection, app, now, from_waitlist=True)
    audit.record(session, now, organizer.id, "selection_promoted", "application", app.id, waitlist_position=position)
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    shown = session.get(Programme, month)  # not programme.get(): that would put it last in the running order
    published = shown is not None and shown.version > 0
    named = departments.names(session, decisions.responsible(app))
    _tell_owner(session, app, "results/promoted", "promoted", now, cycle=cycle_data(cycle), position=position,
                departments=named, venue=programme.venue_of(session, month, settings),
                published=published)  # fmt: skip
    tell_moved_up(session, month, before, "withdrawal", settings, now)
    return app


def withdraw_and_promote(
    session: Session,
    organizer: User,
    app_id: int,
    reason: str,
    settings: Settings,
    now: dt.datetime,
    *,
    named: Named = None,
) -> Replacement:
    """The organizer's one step: withdraw the company, promote the first waitlisted one into its slot, and
    publish the programme again if it was published (only those whose slot changed hear of it). ``named``:
    as :func:`promote_first` takes it (checked with the selection held, so two at once cannot both pass)."""
    withdrawn = withdraw_selected(session, organizer, app_id, reason, settings, now)
    promoted = promote_first(session, organizer, withdrawn.month, settings, now, named=named)
    messages = programme.replace_in_order(
        session, organizer, withdrawn.month, app_id, promoted.id if promoted else None, settings, now
    )
    return Replacement(withdrawn, promoted, messages)
