"""The application workflow. Each state change is one function that performs all of its side effects
(the row, the audit log) in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlmodel import Session, col, select

from bot.calendar import Cycle, Month
from bot.errors import Refused
from bot.forms import APPLICATION, application_form
from bot.models import Application, ApplicationStatus, Company, FormDraft, User
from bot.services import audit, companies, cycles, departments, drafts
from bot.settings import Settings
from bot.validators import FileInput

APP_FIELDS = ("product_name", "tech_fields", "trl", "summary", "city_use", "departments", "price", "deck")


@dataclass(frozen=True)
class Start:
    kind: Literal["closed", "profile", "form", "submitted"]
    cycle: Cycle
    draft: FormDraft | None = None
    application: Application | None = None


def receipt_no(app: Application) -> str:
    return f"PD-{app.month.replace('-', '')}-{app.id:04d}"


def _app_for(session: Session, company: Company, month: str) -> Application | None:
    return session.exec(
        select(Application).where(Application.company_id == company.id, Application.month == month)
    ).first()


def answers(app: Application) -> dict[str, Any]:
    """The application as the form's answers (its departments as the list's ids, as the form keeps them)."""
    return _data_of(app)


def _data_of(app: Application) -> dict[str, Any]:
    data: dict[str, Any] = {f: getattr(app, f) for f in APP_FIELDS if f not in ("deck", "departments")}
    data["departments"] = [str(i) for i in app.department_ids]
    data["deck"] = (
        {
            "file_id": app.deck_file_id,
            "file_name": app.deck_file_name,
            "size": app.deck_file_size,
            "path": app.deck_path,
        }
        if app.deck_file_id or app.deck_path  # a deck from KakaoTalk's upload page has no messenger file id
        else None
    )
    return data


def start(session: Session, user: User, settings: Settings, now: dt.datetime, company: Company | None = None) -> Start:
    """Where /apply leads: the closed notice, the profile first, the form, or the submitted one. ``company``:
    the user's, when the caller has it at hand (it just saved the profile)."""
    status = cycles.window_status(session, now, settings)
    if status.open_cycle is None:
        return Start("closed", status.next_cycle)
    cycle = status.open_cycle
    if company is None:
        company = companies.company_of(session, user)
    if company is None or not companies.usable(company):
        return Start("profile", cycle, companies.start_profile(session, user, now, next_step="apply", found=company))
    form = application_form(settings)
    existing = _app_for(session, company, str(cycle.month))
    draft = drafts.get_draft(session, user.id, APPLICATION)
    if existing is not None and existing.status == ApplicationStatus.SUBMITTED:
        if draft is not None and draft.application_id == existing.id:
            return Start("form", cycle, draft, existing)
        return Start("submitted", cycle, None, existing)
    if draft is not None:
        if draft.month != str(cycle.month) or draft.application_id is not None:
            # A draft left from an earlier month carries over (nothing typed is lost); a draft that
            # edited an application since withdrawn is a new submission now.
            draft.month = str(cycle.month)
            draft.application_id = None
            session.add(draft)
        return Start("form", cycle, draft, existing)
    # A withdrawn application comes back prefilled, to be submitted again (not edited).
    data = _data_of(existing) if existing is not None else {}
    draft = drafts.open_draft(
        session, user.id, form, now, month=str(cycle.month), data=data, reviewing=existing is not None, found=None
    )
    return Start("form", cycle, draft, existing)


def open_cycle_for(session: Session, month: str, settings: Settings, now: dt.datetime) -> Cycle:
    """The month's cycle while its window is open; refused (``window_closed``) once it has closed, naming a
    later month's window open now (a December form submitted in January was told of February's)."""
    cycle = cycles.get_cycle(session, Month.parse(month), settings)
    if not cycle.window_open(now):
        status = cycles.window_status(session, now, settings)
        current = status.open_cycle if status.open_cycle and status.open_cycle.month != cycle.month else None
        raise Refused(
            "window_closed", closed_at=cycle.window_closes_at, next_opens_at=status.next_cycle.window_opens_at,
            open_month=current and str(current.month), open_closes_at=current and current.window_closes_at,
        )  # fmt: skip
    return cycle


def deck_store(settings: Settings) -> Callable[[FileInput], str]:
    """Keeps an uploaded pitch deck on disk under a name derived from its content (read in chunks: a deck is
    never held in memory whole). A received file (a temporary one, deleted after the turn) is linked rather
    than copied: 5 MB less to write per deck."""

    def store(file: FileInput) -> str:
        folder = settings.files_dir / "decks"
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        if file.content is not None:
            digest.update(file.content)
        else:
            assert file.path is not None
            with open(file.path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        path = folder / f"{digest.hexdigest()[:32]}.pdf"
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            if file.content is not None:
                tmp.write_bytes(file.content)
            else:
                assert file.path is not None
                try:  # the received file is deleted after the turn: the store keeps it under a second name
                    os.link(file.path, tmp)
                except OSError:  # another file system (or a link left by a crash): a copy
                    tmp.unlink(missing_ok=True)
                    shutil.copyfile(file.path, tmp)
            tmp.replace(path)
        return str(path)

    return store


def submit(
    session: Session,
    user: User,
    draft: FormDraft,
    settings: Settings,
    now: dt.datetime,
) -> tuple[Application, bool]:
    """Submits a new application or saves changes to a submitted one. Returns (application, is_new)."""
    form = application_form(settings)
    missing = [q.field for q in form.questions if not q.optional and draft.data.get(q.field) in (None, "", [])]
    if missing or draft.month is None:
        raise Refused("form_incomplete")
    cycle = open_cycle_for(session, draft.month, settings, now)
    company = companies.company_of(session, user)
    if company is None or not companies.usable(company):
        raise Refused("no_profile")
    app = _app_for(session, company, str(cycle.month))
    if app is not None and draft.application_id != app.id and app.status == ApplicationStatus.SUBMITTED:
        raise Refused("already_applied", receipt_no=app.receipt_no)
    is_new = app is None or app.status != ApplicationStatus.SUBMITTED
    deck = draft.data.get("deck") or {}
    values: dict[str, Any] = {f: draft.data.get(f) for f in APP_FIELDS if f not in ("deck", "departments")}
    # The wished departments must still be on the list: one deactivated while the form was open is dropped.
    wished = departments.by_ids(session, [int(i) for i in draft.data.get("departments") or []])
    values["department_ids"] = [d.id for d in wished if d.active]
    if not values["department_ids"]:
        raise Refused("form_incomplete")
    values.update(
        deck_file_id=deck.get("file_id"),
        deck_file_name=deck.get("file_name"),
        deck_file_size=deck.get("size"),
        deck_path=deck.get("path"),
    )
    if app is None:
        app = Application(company_id=company.id, month=str(cycle.month), submitted_at=now, **values)
    else:
        changed = [k for k, v in values.items() if getattr(app, k) != v]
        for key, value in values.items():
            setattr(app, key, value)
    app.status = ApplicationStatus.SUBMITTED
    app.withdrawn_at = None
    if is_new:
        app.submitted_at = now
    app.updated_at = now
    session.add(app)
    session.flush()
    if app.receipt_no is None:
        app.receipt_no = receipt_no(app)
    session.add(app)
    audit.record(
        session, now, user.id, "application_submitted" if is_new else "application_edited", "application",
        app.id, receipt_no=app.receipt_no, **({} if is_new else {"changed": changed}),
    )  # fmt: skip
    session.delete(draft)
    return app, is_new


def _own_application(session: Session, user: User, app_id: int) -> Application:
    app = session.get(Application, app_id)
    company = companies.company_of(session, user)
    if app is None or company is None or app.company_id != company.id:
        raise Refused("not_yours")
    return app


def own(session: Session, user: User, app_id: int) -> Application | None:
    """The application when it is the user's company's, else None."""
    try:
        return _own_application(session, user, app_id)
    except Refused:
        return None


def begin_edit(session: Session, user: User, app_id: int, settings: Settings, now: dt.datetime) -> FormDraft:
    app = _own_application(session, user, app_id)
    if app.status != ApplicationStatus.SUBMITTED:
        raise Refused("not_submitted")
    open_cycle_for(session, app.month, settings, now)
    draft = drafts.get_draft(session, user.id, APPLICATION)
    if draft is not None and draft.application_id == app.id:
        return draft  # an edit left midway goes on where it stood: the changes typed are not lost
    return drafts.open_draft(
        session, user.id, application_form(settings), now, month=app.month, data=_data_of(app),
        application_id=app.id, reviewing=True, found=draft,
    )  # fmt: skip


def withdraw(session: Session, user: User, app_id: int, settings: Settings, now: dt.datetime) -> Application:
    app = _own_application(session, user, app_id)
    if app.status != ApplicationStatus.SUBMITTED:
        raise Refused("not_submitted")
    open_cycle_for(session, app.month, settings, now)
    mark_withdrawn(session, app, user.id, now)
    draft = drafts.get_draft(session, user.id, APPLICATION)
    if draft is not None and draft.application_id == app.id:
        session.delete(draft)
    return app


def mark_withdrawn(session: Session, app: Application, actor_id: int, now: dt.datetime, **why: str) -> None:
    """The one way an application becomes withdrawn, by its company (``withdraw``) or with the company's consent
    (``privacy.withdraw``): its status, its time and the audit line."""
    app.status = ApplicationStatus.WITHDRAWN
    app.withdrawn_at = app.updated_at = now
    session.add(app)
    audit.record(session, now, actor_id, "application_withdrawn", "application", app.id, receipt_no=app.receipt_no,
                 **why)  # fmt: skip


@dataclass(frozen=True)
class StatusRow:
    application: Application
    cycle: Cycle
    can_change: bool


def list_for_user(session: Session, user: User, settings: Settings, now: dt.datetime) -> list[StatusRow]:
    company = companies.company_of(session, user)
    if company is None:
        return []
    apps = session.exec(
        select(Application).where(Application.company_id == company.id).order_by(col(Application.month).desc())
    ).all()
    rows = []
    for app in apps:
        cycle = cycles.get_cycle(session, Month.parse(app.month), settings)
        can_change = app.status == ApplicationStatus.SUBMITTED and cycle.window_open(now)
        rows.append(StatusRow(app, cycle, can_change))
    return rows


def deck_path_exists(app: Application) -> bool:
    return bool(app.deck_path) and Path(app.deck_path or "").exists()
