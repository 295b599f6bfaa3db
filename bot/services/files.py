"""Links to files for one person, expiring: downloads (a pitch deck, an .ics, an export) for channels that
cannot carry a file in chat, and single-use upload pages for a form's file question there.

A link is a capability: 32 random bytes, kept in the database with whom it is for and until when. That is
worth more than a signature made over the URL: a link can be looked up, spent once, and withdrawn."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from bot.database import after_commit
from bot.errors import Refused
from bot.models import Conversation, FileLink, FormDraft, User
from bot.services.users import language_of
from bot.settings import Settings
from bot.validators import file_name

DOWNLOAD = "download"
UPLOAD = "upload"
SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # an export: every applicant


def _token() -> str:
    return secrets.token_urlsafe(32)


def safe_name(name: str) -> str:
    """A file name fit for a disk and a header: no path, no control characters, not too long."""
    return file_name(name, "file")


def offer_download(
    session: Session,
    user: User,
    filename: str,
    settings: Settings,
    now: dt.datetime,
    *,
    content: bytes | None = None,
    path: Path | None = None,
    mime: str = "application/octet-stream",
) -> FileLink:
    """A link to a file for ``user``: a file already kept (a deck) or bytes made for them (an .ics)."""
    token = _token()
    if path is None:
        assert content is not None
        folder = settings.files_dir / "links" / token[:2]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{token}.bin"
        path.write_bytes(content)
    expires = now + dt.timedelta(hours=settings.file_link_hours)
    link = FileLink(token=token, kind=DOWNLOAD, user_id=user.id or 0, path=str(path), filename=safe_name(filename),
                    mime=mime, created_at=now, expires_at=expires)  # fmt: skip
    session.add(link)
    return link


def _link(session: Session, token: str) -> FileLink | None:
    return session.get(FileLink, token) if len(token) < 60 else None  # a longer one was never made here


def download(session: Session, token: str, now: dt.datetime) -> FileLink:
    link = _link(session, token)
    if link is None or link.kind != DOWNLOAD or not link.path or not Path(link.path).exists():
        raise Refused("file_link_unknown")
    if link.expires_at <= now:
        raise Refused("file_link_expired")
    return link


def offer_upload(
    session: Session,
    user: User,
    form: str,
    field: str,
    settings: Settings,
    now: dt.datetime,
    until: dt.datetime | None = None,
) -> FileLink:
    """The person's upload page for one question: the one still open if there is one, else a new one, open
    ``UPLOAD_LINK_MINUTES`` or until ``until`` (the window's close), whichever comes first."""
    fresh = now + dt.timedelta(minutes=5)
    if until is not None:
        fresh = min(fresh, until - dt.timedelta(seconds=1))
    open_link = session.exec(
        select(FileLink).where(
            FileLink.kind == UPLOAD, FileLink.user_id == user.id, FileLink.form == form, FileLink.field == field,
            # Five minutes left at least, or all there will be (in the window's last minutes, each question
            # shown again made a new one).
            col(FileLink.used_at).is_(None),
            FileLink.expires_at > fresh,
        )
    ).first()  # fmt: skip
    if open_link is not None:
        return open_link
    expires = now + dt.timedelta(minutes=settings.upload_link_minutes)
    link = FileLink(token=_token(), kind=UPLOAD, user_id=user.id or 0, filename="", form=form, field=field,
                    created_at=now, expires_at=min(expires, until) if until is not None else expires)  # fmt: skip
    session.add(link)
    return link


def upload(session: Session, token: str, now: dt.datetime) -> tuple[FileLink, User]:
    """An upload page that may still be used, and whose it is."""
    link = _link(session, token)
    if link is None or link.kind != UPLOAD:
        raise Refused("file_link_unknown")
    if link.used_at is not None:
        raise Refused("file_link_used")
    if link.expires_at <= now:
        raise Refused("file_link_expired")
    person = session.get(User, link.user_id)
    assert person is not None
    return link, person


def holder_language(session: Session, token: str) -> str:
    """The language of whom a link was made for (Korean for a link that never was)."""
    link = _link(session, token)
    person = session.get(User, link.user_id) if link is not None else None
    return language_of(person) if person is not None else "ko"


def spend_upload(session: Session, link: FileLink, filename: str, now: dt.datetime) -> str | None:
    """Marks the page used for this file, in one statement: two uploads through one page cannot both count.
    None when it did; else why not: the page used meanwhile, or the chat no longer at the question the page
    was made for (the person typed on, or skipped it): the file would answer nothing, and the page stays
    usable for when the chat is back at that question."""
    if not awaits_upload(session, link):
        return "upload_not_asked"
    done = session.execute(
        update(FileLink)
        .where(col(FileLink.token) == link.token, col(FileLink.used_at).is_(None))
        .values(used_at=now, filename=safe_name(filename))
    ).rowcount  # type: ignore[attr-defined]
    return None if done else "file_link_used"


def awaits_upload(session: Session, link: FileLink) -> bool:
    """Whether the person's conversation is at the form question the upload page was made for."""
    state = session.get(Conversation, link.user_id)
    if state is None or state.flow != "form" or state.step != link.form:
        return False
    draft = session.exec(
        select(FormDraft).where(col(FormDraft.user_id) == link.user_id, col(FormDraft.form) == link.form)
    ).first()
    return draft is not None and draft.current == link.field


def forget_links(session: Session, settings: Settings, *where: Any) -> int:
    """Deletes the links that match ``where``, and the files made for them alone (an .ics, an export; not a
    deck, which stays with its application) once the deletion has committed. How many went."""
    rows = session.exec(select(FileLink.token, FileLink.path).where(*where)).all()
    if not rows:
        return 0
    session.execute(delete(FileLink).where(col(FileLink.token).in_([token for token, _ in rows])))
    made = (settings.files_dir / "links").resolve()
    owned = [Path(path) for _, path in rows if path and Path(path).resolve().is_relative_to(made)]
    if owned:
        after_commit(session, lambda: [path.unlink(missing_ok=True) for path in owned])
    return len(rows)


def prune_expired(session: Session, settings: Settings, now: dt.datetime, batch: int = 1000) -> int:
    """Links past their time, with what was made for them: an export holds every applicant's contacts, and
    a link nobody can open any more is no reason to keep it on disk."""
    expired = select(FileLink.token).where(col(FileLink.expires_at) <= now).limit(batch)
    return forget_links(session, settings, col(FileLink.token).in_(expired.scalar_subquery()))
