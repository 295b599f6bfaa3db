"""Who is reminded of what, and when. The scheduler's tick plans these into the outbox; the rules live
here so that every channel and the CLI share them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot import calendar
from bot.calendar import Cycle, cycle_data
from bot.forms import APPLICATION, PROFILE, application_form, profile_form
from bot.models import Application, ApplicationStatus, Company, FormDraft, Subscription, User
from bot.services.outbox import Planned
from bot.services.users import TOPIC_WINDOW_OPEN
from bot.settings import Settings

Recipients = Callable[[Session, Cycle, Settings], list[tuple[User, str, dict[str, Any]]]]


@dataclass(frozen=True)
class Reminder:
    key: str
    template: str
    due: Callable[[Cycle, Settings], dt.datetime]
    until: Callable[[Cycle, Settings], dt.datetime]  # from this on the reminder is moot and is not planned
    recipients: Recipients  # (user, per-recipient key suffix, per-recipient data)


def _day(cycle: Cycle, day: int, clock: dt.time, settings: Settings) -> dt.datetime:
    return calendar.local_at(dt.date(cycle.month.year, cycle.month.month, day), clock, settings.tz)


def _pitch_day(cycle: Cycle, days_before: int, clock: dt.time, settings: Settings) -> dt.datetime:
    day = cycle.pitch_at.astimezone(settings.tz).date() - dt.timedelta(days=days_before)
    return calendar.local_at(day, clock, settings.tz)


def _active(session: Session, ids: set[int]) -> list[User]:
    if not ids:
        return []
    found = session.exec(select(User).where(col(User.id).in_(ids), User.active == True)).all()  # noqa: E712
    return sorted(found, key=lambda u: u.id or 0)


def _engaged_this_month(session: Session, cycle: Cycle) -> set[int]:
    """Users who already applied or started a form this month: the opening notice is not for them."""
    owners = session.exec(
        select(Company.owner_user_id).join(Application).where(Application.month == str(cycle.month))
    ).all()
    drafting = session.exec(select(FormDraft.user_id).where(FormDraft.updated_at >= cycle.window_opens_at)).all()
    return set(owners) | set(drafting)


def window_open_recipients(
    session: Session, cycle: Cycle, settings: Settings
) -> list[tuple[User, str, dict[str, Any]]]:
    subscribers = set(session.exec(select(Subscription.user_id).where(Subscription.topic == TOPIC_WINDOW_OPEN)).all())
    # A company that said /unsubscribe gets no news, this notice included (asking for it again brings it back).
    opted_out = set(session.exec(select(User.id).where(User.news_opt_out == True)).all())  # noqa: E712
    companies = set(session.exec(select(Company.owner_user_id)).all()) - opted_out
    wanted = (subscribers | companies) - _engaged_this_month(session, cycle)
    return [(u, "", {}) for u in _active(session, wanted)]


def _told_ineligible(draft: FormDraft) -> bool:
    """The last answer was refused as ineligible (not an SME, TRL below 6): no nagging."""
    size, trl = draft.pending.get("size"), str(draft.pending.get("trl", ""))
    return size in ("midsize", "large") or (trl.isdigit() and int(trl) < 6)


def draft_recipients(session: Session, cycle: Cycle, settings: Settings) -> list[tuple[User, str, dict[str, Any]]]:
    """Companies with an unsubmitted application (or a profile still in progress) this month."""
    form = application_form(settings)
    found: dict[int, dict[str, Any]] = {}
    for draft in session.exec(
        select(FormDraft).where(FormDraft.form == APPLICATION, FormDraft.month == str(cycle.month))
    ).all():
        if draft.application_id is None and not _told_ineligible(draft):
            missing = [q.field for q in form.questions if not q.optional and q.field not in draft.data]
            found[draft.user_id] = {"form": APPLICATION, "missing": missing, "answered": len(draft.data),
                                    "total": len(form.questions)}  # fmt: skip
    pform = profile_form()
    has_company = set(session.exec(select(Company.owner_user_id)).all())
    for draft in session.exec(
        select(FormDraft).where(FormDraft.form == PROFILE, FormDraft.updated_at >= cycle.window_opens_at)
    ).all():
        fresh = draft.user_id not in has_company and draft.user_id not in found
        if fresh and draft.data.get("consent") == "agree" and not _told_ineligible(draft):
            missing = [q.field for q in pform.questions if q.field not in draft.data]
            found[draft.user_id] = {"form": PROFILE, "missing": missing, "answered": len(draft.data),
                                    "total": len(pform.questions)}  # fmt: skip
    users = _active(session, set(found))
    return [(u, "", found[u.id or 0]) for u in users]


def _applications(session: Session, cycle: Cycle, status: ApplicationStatus) -> list[tuple[User, str, dict[str, Any]]]:
    rows = session.exec(
        select(Application, Company)
        .join(Company)
        .where(Application.month == str(cycle.month), Application.status == status.value)
        .order_by(col(Application.id))
    ).all()
    owners = {u.id: u for u in _active(session, {c.owner_user_id for _, c in rows})}
    out = []
    for app, company in rows:
        user = owners.get(company.owner_user_id)
        if user is not None:
            data = {"receipt_no": app.receipt_no, "product_name": app.product_name, "company": company.name,
                    "submitted_at": app.submitted_at, "updated_at": app.updated_at,
                    "application_id": app.id}  # fmt: skip
            out.append((user, f":{app.id}", data))
    return out


def applicant_recipients(session: Session, cycle: Cycle, settings: Settings) -> list[tuple[User, str, dict[str, Any]]]:
    return _applications(session, cycle, ApplicationStatus.SUBMITTED)


def selected_recipients(session: Session, cycle: Cycle, settings: Settings) -> list[tuple[User, str, dict[str, Any]]]:
    return _applications(session, cycle, ApplicationStatus.SELECTED)


def pitch_recipients(session: Session, cycle: Cycle, settings: Settings) -> list[tuple[User, str, dict[str, Any]]]:
    """The selected companies, each with its own slot of the published programme and the venue; before
    the programme is published, the venue known so far (the slot follows with the programme)."""
    from bot.services import programme

    month = str(cycle.month)
    venue = programme.venue_of(session, month, settings)
    out = []
    for user, suffix, data in selected_recipients(session, cycle, settings):
        told = programme.published_slot(session, month, int(data["application_id"]))
        slot = None
        if told is not None:
            slot = {"position": told.position, "starts_at": told.starts_at, "ends_at": told.ends_at}
        out.append((user, suffix, {**data, "slot": slot, "venue": told.venue if told else venue}))
    return out


def pitch_official_recipients(
    session: Session, cycle: Cycle, settings: Settings
) -> list[tuple[User, str, dict[str, Any]]]:
    """The officials of the selected companies' responsible departments, with the day, the venue and the
    companies their department judges."""
    from bot.models import Programme
    from bot.services import decisions, programme

    shown = session.get(Programme, str(cycle.month))
    venue = programme.venue_of(session, str(cycle.month), settings)
    starts_at = shown.starts_at if shown is not None else cycle.pitch_at
    rows = session.exec(
        select(Application, Company)
        .join(Company)
        .where(Application.month == str(cycle.month), Application.status == ApplicationStatus.SELECTED.value)
        .order_by(col(Application.id))
    ).all()
    theirs: dict[int, tuple[User, list[dict[str, Any]]]] = {}
    for app, company in rows:
        for department_id in decisions.responsible(app):
            for official in decisions.officials_of(session, department_id):
                item = {"company": company.name, "product_name": app.product_name}
                entry = theirs.setdefault(official.id or 0, (official, []))
                if item not in entry[1]:
                    entry[1].append(item)
    return [(user, "", {"venue": venue, "starts_at": starts_at, "companies": items})
            for _, (user, items) in sorted(theirs.items())]  # fmt: skip


def _pitch_d7(cycle: Cycle, settings: Settings) -> dt.datetime:
    return _pitch_day(cycle, 7, settings.pitch_week_time, settings)


def _week_notice_until(cycle: Cycle, settings: Settings) -> dt.datetime:
    return min(_pitch_d7(cycle, settings) + dt.timedelta(days=1), cycle.pitch_at - dt.timedelta(days=2))


def _pitch_d1(cycle: Cycle, settings: Settings) -> dt.datetime:
    return _pitch_day(cycle, 1, settings.pitch_eve_time, settings)


def _pitch_d0(cycle: Cycle, settings: Settings) -> dt.datetime:
    """The morning of the day, and before the start whatever the hour (a Pitching Day moved to 08:00 or
    earlier had its morning reminder due when it began, moot, never sent)."""
    return min(_pitch_day(cycle, 0, settings.pitch_morning_time, settings), cycle.pitch_at - dt.timedelta(hours=1))


def _selected_by(due: Callable[[Cycle, Settings], dt.datetime]) -> Recipients:
    """The pitch reminder's companies, less one promoted from the waitlist after it was due: its promotion
    message told it the day, and "one week away" must not reach it three days before."""

    def recipients(session: Session, cycle: Cycle, settings: Settings) -> list[tuple[User, str, dict[str, Any]]]:
        start = due(cycle, settings)
        return [r for r in pitch_recipients(session, cycle, settings) if r[2]["updated_at"] < start]

    return recipients


def official_recipients(session: Session, cycle: Cycle, settings: Settings) -> list[tuple[User, str, dict[str, Any]]]:
    from bot.services import decisions

    waiting = decisions.pending_by_official(session, str(cycle.month))
    return [(user, "", {"pending": items}) for _, (user, items) in sorted(waiting.items())]


def escalation_recipients(session: Session, cycle: Cycle, settings: Settings) -> list[tuple[User, str, dict[str, Any]]]:
    from bot.services import decisions

    late = decisions.overdue(session, str(cycle.month))
    if not late:
        return []
    data = {"overdue": late, "followup_by": followup_by(cycle, settings)}
    return [(user, "", data) for user in decisions.organizers(session, settings)]


def followup_by(cycle: Cycle, settings: Settings) -> dt.date:
    """The day by which a company whose department missed the deadline is promised an answer."""
    deadline_day = cycle.decision_deadline_at.astimezone(settings.tz).date()
    return deadline_day + dt.timedelta(days=settings.decision_followup_days)


def overdue_company_recipients(
    session: Session, cycle: Cycle, settings: Settings
) -> list[tuple[User, str, dict[str, Any]]]:
    """Each company still waiting for a department after the deadline: what happens next, once."""
    from bot.services import decisions

    waiting = decisions.open_by_application(session, str(cycle.month))
    owners = {u.id: u for u in _active(session, {c.owner_user_id for _, c, _ in waiting})}
    out = []
    for app, company, departments in waiting:
        user = owners.get(company.owner_user_id)
        if user is not None:
            data = {"company": company.name, "product_name": app.product_name, "departments": departments,
                    "followup_by": followup_by(cycle, settings), "contact": settings.organizer_contact}  # fmt: skip
            out.append((user, f":{app.id}", data))
    return out


def empty_list_recipients(session: Session, cycle: Cycle, settings: Settings) -> list[tuple[User, str, dict[str, Any]]]:
    """The organizers, while the list of buying departments has no entry to offer: a company applying would
    stop at the departments question."""
    from bot.services import decisions, departments

    if departments.any_active(session):
        return []
    return [(user, "", {}) for user in decisions.organizers(session, settings)]


EMPTY_LIST_WARNING_DAYS = 3  # the first warning, days before the window opens


def _before_open(cycle: Cycle, settings: Settings) -> dt.datetime:
    day = cycle.window_opens_at.astimezone(settings.tz).date() - dt.timedelta(days=EMPTY_LIST_WARNING_DAYS)
    return calendar.local_at(day, settings.window_open_notice_time, settings.tz)


def _at_open(cycle: Cycle, settings: Settings) -> dt.datetime:
    day = cycle.window_opens_at.astimezone(settings.tz).date()
    return max(cycle.window_opens_at, calendar.local_at(day, settings.window_open_notice_time, settings.tz))


def _morning_after_deadline(cycle: Cycle, settings: Settings) -> dt.datetime:
    # Not at midnight, when the escalation goes to the organizers: at the decision reminders' hour.
    day = cycle.decision_deadline_at.astimezone(settings.tz).date() + dt.timedelta(days=1)
    return calendar.local_at(day, settings.decision_reminder_time, settings.tz)


def _before_deadline(days: int) -> Callable[[Cycle, Settings], dt.datetime]:
    """``days`` before the decision deadline's day, at the decision reminders' hour: with the default
    deadline (Pitching Day + 15) the 7th, 12th and 14th day after the pitch. Counted from the deadline, an
    organizer's later deadline moves them too (the 14th day's said 「내일이 마감」 a fortnight early)."""

    def due(cycle: Cycle, settings: Settings) -> dt.datetime:
        day = cycle.decision_deadline_at.astimezone(settings.tz).date() - dt.timedelta(days=days)
        return calendar.local_at(day, settings.decision_reminder_time, settings.tz)

    return due


def _last_call(cycle: Cycle, settings: Settings) -> dt.datetime:
    """The window's last day, where an organizer moved its close (it came on the 10th, said 「오늘 마감」, and
    nothing came on the real last day), and some hours before the close on that day (one moved to 17:00 had
    its last call due at 18:00, moot, never sent)."""
    closes = cycle.window_closes_at
    last = closes - dt.timedelta(microseconds=1)  # a close at 00:00 ends the day before
    at = min(calendar.local_at(last.astimezone(settings.tz).date(), settings.last_call_time, settings.tz),
             closes - LAST_CALL_LEAD)  # fmt: skip
    return max(at, _midnight(last, settings))


def _midnight(when: dt.datetime, settings: Settings) -> dt.datetime:
    """The start of ``when``'s day in Seoul: from then a message saying "tomorrow" of it is wrong."""
    return calendar.local_at(when.astimezone(settings.tz).date(), dt.time(0, 0), settings.tz)


# The last call comes at least this long before the window closes.
LAST_CALL_LEAD = dt.timedelta(hours=3)


_decision_d7, _decision_d12, _decision_d14 = _before_deadline(8), _before_deadline(3), _before_deadline(1)


# Each reminder is moot once the next of its kind is due (after downtime, one message, the latest: not the 8th's
# and the last call at once, nor three decision reminders together), or, for a week's notice, a day late.
REMINDERS: tuple[Reminder, ...] = (
    Reminder("window_open", "reminders/window_open", _at_open, lambda c, s: c.window_closes_at,
             window_open_recipients),
    # No department list loaded: the organizers are warned a few days before the window and when it opens.
    Reminder("departments_empty_soon", "reminders/departments_empty", _before_open, lambda c, s: c.window_opens_at,
             empty_list_recipients),
    Reminder("departments_empty_open", "reminders/departments_empty", _at_open, lambda c, s: c.window_closes_at,
             empty_list_recipients),
    Reminder("draft_8th", "reminders/draft", lambda c, s: _day(c, 8, s.draft_reminder_time, s), _last_call,
             draft_recipients),
    Reminder("draft_last_call", "reminders/draft", _last_call, lambda c, s: c.window_closes_at, draft_recipients),
    Reminder("receipt", "reminders/receipt", lambda c, s: c.window_closes_at + dt.timedelta(seconds=1),
             lambda c, s: c.selection_at, applicant_recipients),
    # "A week to go" is not sent three days before; "tomorrow" must not arrive on the day.
    Reminder("pitch_d7", "reminders/pitch", _pitch_d7, _week_notice_until, _selected_by(_pitch_d7)),
    Reminder("pitch_d1", "reminders/pitch", _pitch_d1, lambda c, s: _midnight(c.pitch_at, s), _selected_by(_pitch_d1)),
    # The officials who judge are told the day too: the week before and the eve, at the companies' times.
    Reminder("pitch_d7_official", "reminders/pitch_official", _pitch_d7, _week_notice_until,
             pitch_official_recipients),
    Reminder("pitch_d1_official", "reminders/pitch_official", _pitch_d1, lambda c, s: _midnight(c.pitch_at, s),
             pitch_official_recipients),
    Reminder("pitch_day", "reminders/pitch", _pitch_d0, lambda c, s: c.pitch_at, _selected_by(_pitch_d0)),
    Reminder("decision_d7", "reminders/decision", _decision_d7, _decision_d12, official_recipients),
    Reminder("decision_d12", "reminders/decision", _decision_d12, _decision_d14, official_recipients),
    Reminder("decision_d14", "reminders/decision", _decision_d14, lambda c, s: _midnight(c.decision_deadline_at, s),
             official_recipients),  # it says 「내일이 마감」
    Reminder("decision_overdue", "reminders/escalation",
             lambda c, s: c.decision_deadline_at + dt.timedelta(seconds=1),
             lambda c, s: c.decision_deadline_at + dt.timedelta(days=30), escalation_recipients),
    Reminder("decision_overdue_company", "reminders/decision_overdue", _morning_after_deadline,
             lambda c, s: c.decision_deadline_at + dt.timedelta(days=30), overdue_company_recipients),
)  # fmt: skip


def due_now(session: Session, cycle: Cycle, settings: Settings, now: dt.datetime) -> list[Planned]:
    """Every reminder of the month that is due by ``now`` and not yet moot."""
    planned = []
    for reminder in REMINDERS:
        due = reminder.due(cycle, settings)
        if not due <= now < reminder.until(cycle, settings):
            continue
        for user, suffix, data in reminder.recipients(session, cycle, settings):
            planned.append(
                Planned(
                    user=user,
                    template=reminder.template,
                    data={"cycle": cycle_data(cycle), "kind": reminder.key, **data},
                    event_key=f"{cycle.month}:{reminder.key}{suffix}",
                    due_at=due,
                )
            )
    return planned


def next_due(cycle: Cycle, settings: Settings, now: dt.datetime) -> dt.datetime | None:
    times = [r.due(cycle, settings) for r in REMINDERS]
    later = [t for t in times if t > now]
    return min(later) if later else None
