"""A person talking to the conversation engine directly, as a channel adapter would make them: commands,
typed text, pressed buttons (by label or by token), files and stickers go in as ``Incoming``; what comes
back is kept so the next step can press one of its buttons.

No transport is involved: what is asserted is what every channel gets from the engine. Every output is
also checked against the channel's limits as it arrives (see :func:`check_fits`), so each walk of every
test doubles as a check that the screens fit the channel."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select

from bot.clock import ManualClock
from bot.context import AppContext
from bot.database import Database
from bot.dialogue.engine import Engine, Fetch, Reply
from bot.dialogue.model import PLAIN, TELEGRAM, Capabilities, FileRef, Incoming, Kind
from bot.dialogue.render import Output
from bot.models import (
    Application,
    AuditLog,
    Broadcast,
    Company,
    Conversation,
    FormDraft,
    Invitation,
    Outbox,
    Programme,
    PurchaseDecision,
    Review,
    Role,
    RoleGrant,
    Selection,
    Subscription,
    User,
)
from bot.services import pledge, users
from bot.services.departments import ensure as ensure_department
from bot.settings import Settings
from bot.texts import to_plain
from tests.handlers.committee import brn_for

SAMPLE_PDF = (Path(__file__).resolve().parents[2] / "bot" / "sandbox" / "sample_deck.pdf").read_bytes()

# Most behaviour is the engine's and must hold on both kinds of channel: a test takes ``caps``.
BOTH = pytest.mark.parametrize("caps", [pytest.param(TELEGRAM, id="telegram"), pytest.param(PLAIN, id="plain")])

# One counter for the whole run: a fresh key never collides with one a test passes on purpose.
_KEYS = itertools.count(1)

# Telegram's HTML subset, and the entities escaping leaves behind: neither may reach a plain-text channel.
HTML_MARKUP = re.compile(r"</?(b|i|u|s|a|code|pre|em|strong|blockquote|tg-spoiler)\b[^>]*>|&(lt|gt|amp|quot|#\d+);")

STALE = "이전 화면의 버튼"
NOT_ALLOWED = "권한이 없어"
NOT_FOUND = "찾을 수 없습니다"
NOT_UNDERSTOOD = "이해하지 못했습니다"


def fresh_key() -> str:
    return f"k{next(_KEYS)}"


def check_fits(caps: Capabilities, output: Output) -> None:
    """What the channel can carry: its number of choices, tokens within its bytes, plain text where it
    has no markup."""
    tokens = [token for row in output.buttons for _, token in row]
    assert len(tokens) <= caps.max_choices, (len(tokens), output.text[:200])
    for token in tokens:
        assert len(token.encode()) <= caps.max_token_bytes, token
    if caps.markup == "plain":
        assert not HTML_MARKUP.search(output.text), output.text
        assert output.toast is None or not HTML_MARKUP.search(output.toast), output.toast


class Person:
    def __init__(
        self, engine: Engine, caps: Capabilities, external_id: str, lang: str = "ko", channel: str | None = None
    ) -> None:
        self.engine = engine
        self.caps = caps
        self.external_id = str(external_id)
        self.lang = lang
        self.channel = channel or caps.channel
        self.outputs: list[Output] = []  # everything this person was shown, oldest first
        self.last: list[Output] = []  # the outputs of the last turn
        self.reply: Reply | None = None  # the last turn's whole reply (duplicate, menu, entry)

    # ---- what a person can do ------------------------------------------------------------------
    async def send(self, text: str, key: str | None = None) -> list[Output]:
        """Typed text; a slash command where the channel has them (elsewhere "/apply" is just text)."""
        await self.handle(self.message(text, key))
        return self.last

    def message(self, text: str, key: str | None = None) -> Incoming:
        """What :meth:`send` sends, for turns run side by side."""
        if text.startswith("/") and self.caps.slash_commands:
            name, *args = text[1:].split()
            command = name.split("@")[0].lower()
            return self.incoming(Kind.COMMAND, key, command=command, args=tuple(args), text=text)
        return self.incoming(Kind.TEXT, key, text=text)

    async def press(self, label: str, key: str | None = None) -> list[Output]:
        """Presses the button whose label contains ``label``, on the newest output that has one."""
        return await self.press_token(self.token(label), key=key)

    async def press_token(self, token: str, key: str | None = None) -> list[Output]:
        return await self._turn(Kind.CHOICE, key, token=token)

    async def upload(self, content: bytes, name: str, mime: str, key: str | None = None) -> list[Output]:
        """A document; its bytes are written to a temporary file only when the engine asks for them."""

        async def fetch(file: FileRef) -> Path:
            handle, raw = tempfile.mkstemp(suffix=".part")
            with open(handle, "wb") as fh:
                fh.write(content)
            return Path(raw)  # the engine deletes it after the turn, as it does a real download

        ref = FileRef(name, mime, len(content), channel_id=f"file-{fresh_key()}")
        return await self._turn(Kind.FILE, key, fetch, file=ref)

    async def other(self, key: str | None = None) -> list[Output]:
        """A sticker (or a photo, a voice message): nothing a question can take."""
        return await self._turn(Kind.OTHER, key)

    # ---- what a person sees --------------------------------------------------------------------
    @property
    def text(self) -> str:
        """The last turn's words joined, without markup: for assertions that do not care which message
        said it, nor on which channel."""
        return "\n\n".join(self.read(o) for o in self.last)

    def read(self, output: Output) -> str:
        """An output's words without markup: what the person reads (a plain channel's text already is)."""
        return output.text if self.caps.markup == "plain" else to_plain(output.text)

    def buttons(self, output: Output | None = None) -> list[tuple[str, str]]:
        """(label, token) of every button of ``output`` (default: the newest output that has any)."""
        if output is None:
            output = next((o for o in reversed(self.outputs) if o.buttons), None)
        return [b for row in output.buttons for b in row] if output is not None else []

    def labels(self, output: Output | None = None) -> list[str]:
        return [label for label, _ in self.buttons(output)]

    def token(self, label: str) -> str:
        """The token of the newest button whose label contains ``label``."""
        for output in reversed(self.outputs):
            for shown, token in self.buttons(output):
                if label in shown:
                    return token
        raise AssertionError(f"no button {label!r}; last buttons: {self.labels()}")

    # ---- the turn ------------------------------------------------------------------------------
    def incoming(self, kind: Kind, key: str | None = None, **fields: Any) -> Incoming:
        return Incoming(
            channel=self.channel, external_id=self.external_id, kind=kind, display_name=f"사용자{self.external_id}",
            client_language=self.lang, dedupe_key=key or fresh_key(), **fields,
        )  # fmt: skip

    async def handle(self, incoming: Incoming, fetch: Fetch | None = None) -> Reply:
        """One turn of ``incoming`` as given (for turns run side by side); what it shows is kept."""
        reply = await self.engine.handle(incoming, self.caps, fetch)
        assert not self.caps.max_outputs or len(reply.outputs) <= self.caps.max_outputs, [o.text for o in reply.outputs]
        for output in reply.outputs:
            check_fits(self.caps, output)
        self.reply = reply
        self.last = list(reply.outputs)
        self.outputs.extend(reply.outputs)
        return reply

    async def _turn(self, kind: Kind, key: str | None, fetch: Fetch | None = None, **fields: Any) -> list[Output]:
        await self.handle(self.incoming(kind, key, **fields), fetch)
        return self.last


def build_engine(settings: Settings, clock: ManualClock, db: Database) -> Engine:
    return Engine(AppContext.create(settings, clock=clock, db=db))


class World:
    """The database around the conversation: seeding, and looking at what the turns left behind. It has
    what the seed helpers of ``tests/handlers/committee.py`` need of a harness (``session``, ``clock``,
    ``settings``), so they serve here too."""

    def __init__(self, settings: Settings, clock: ManualClock, db: Database) -> None:
        self.settings, self.clock, self.db = settings, clock, db

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.db.session() as session:
            yield session

    def grant(
        self, channel: str, external_id: str, role: Role, department: str | None = None, pledged: bool = False
    ) -> None:
        """The role; ``department``: a name of the department list (made an entry when not there yet);
        ``pledged``: a reviewer who has accepted the conflict-of-interest pledge."""
        with self.session() as session:
            entry = ensure_department(session, department, self.clock.now()) if department else None
            users.grant_role(session, channel, external_id, role, self.clock.now(),
                             department_id=entry.id if entry else None)  # fmt: skip
            if pledged:
                pledge.accept(session, users.ensure_user(session, channel, external_id, self.clock.now()),
                              self.clock.now())  # fmt: skip

    def applications(
        self, count: int, month: str = "2026-12", first: int = 8001, channel: str = "telegram"
    ) -> list[int]:
        """``count`` companies (ids ``first``, ``first + 1``...) with submitted applications, as
        ``tests/handlers/committee.py`` seeds them but on any channel and from any id; returns their ids."""
        submitted = at(3)
        ids = []
        with self.session() as session:
            for n in range(first, first + count):
                owner = users.ensure_user(session, channel, str(n), submitted, display_name=f"기업{n}")
                company = Company(owner_user_id=owner.id or 0, name=f"기업{n}", brn=brn_for(n), representative="대표",
                                  size="sme", address="서울 중구", contact_name="담당", phone="+821012345678",
                                  email="a@b.kr", consent_version="t", consent_at=submitted, created_at=submitted,
                                  updated_at=submitted)  # fmt: skip
                session.add(company)
                session.flush()
                app = Application(company_id=company.id or 0, month=month, status="submitted", product_name=f"제품{n}",
                                  tech_fields=["ai"], trl=7, summary="요약 " * 10, city_use="적용 방안",
                                  department_ids=[ensure_department(session, f"수요처{n}", submitted).id],
                                  submitted_at=submitted, updated_at=submitted)  # fmt: skip
                session.add(app)
                session.flush()
                app.receipt_no = f"PD-{month.replace('-', '')}-{app.id:04d}"
                ids.append(app.id or 0)
        return ids

    def user(self, channel: str, external_id: str) -> User:
        with self.session() as session:
            return session.exec(select(User).where(User.channel == channel, User.external_id == external_id)).one()

    def conversation(self, channel: str, external_id: str) -> Conversation:
        user = self.user(channel, external_id)
        with self.session() as session:
            found = session.get(Conversation, user.id)
            assert found is not None
            return found

    def draft(self, channel: str, external_id: str, form: str) -> FormDraft | None:
        user = self.user(channel, external_id)
        with self.session() as session:
            return session.exec(select(FormDraft).where(FormDraft.user_id == user.id, FormDraft.form == form)).first()

    def all(self, model: type[Any]) -> list[Any]:
        with self.session() as session:
            return list(session.exec(select(model)).all())

    def snapshot(self) -> dict[str, object]:
        """Everything a turn could change but a refused, stale or repeated one must not: every row of
        substance (users and conversations aside, which every turn touches)."""

        def count(session: Session, model: type[Any]) -> int:
            return session.exec(select(func.count()).select_from(model)).one()

        with self.session() as session:
            return {
                "applications": sorted(
                    (
                        a.id,
                        a.status,
                        a.placement,
                        a.feedback,
                        tuple(a.responsible_department_ids or ()),
                        a.product_name,
                        a.trl,
                    )
                    for a in session.exec(select(Application))
                ),
                "reviews": sorted(
                    (r.id, r.innovation, r.safety, r.applicability, r.economy, r.comment, r.conflict)
                    for r in session.exec(select(Review))
                ),
                "decisions": sorted((d.id, d.status, d.reason) for d in session.exec(select(PurchaseDecision))),
                "drafts": sorted(
                    (d.user_id, d.form, repr(d.data), repr(d.pending), d.current)
                    for d in session.exec(select(FormDraft))
                ),
                "programmes": sorted((p.month, p.venue, p.version) for p in session.exec(select(Programme))),
                **{
                    m.__name__: count(session, m)
                    for m in (Company, Selection, Invitation, Broadcast, Subscription, Outbox, AuditLog, RoleGrant)
                },
            }


def at(day: int, hour: int = 10, month: int = 12, year: int = 2026) -> dt.datetime:
    """A time in Seoul."""
    return dt.datetime(year, month, day, hour, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
