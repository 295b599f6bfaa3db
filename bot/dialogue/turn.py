"""What a flow sees of one turn: the person, their conversation, the database session of the turn (one
transaction), the clock's time, and the screens it has shown so far."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.dialogue.model import Capabilities, Expect, Incoming, Screen
from bot.errors import Refused, UserError
from bot.models import Conversation, FormDraft, Role, User
from bot.services import policies, users
from bot.settings import Settings
from bot.texts import Texts

if TYPE_CHECKING:
    from bot.dialogue.engine import Engine


class NeedFileContent(Exception):
    """Raised by a flow that wants a file's bytes: the engine fetches it and runs the turn again."""


class Turn:
    def __init__(
        self,
        engine: Engine,
        session: Session,
        user: User,
        conversation: Conversation,
        incoming: Incoming,
        caps: Capabilities,
        now: dt.datetime,
    ) -> None:
        self.engine = engine
        self.session = session
        self.user = user
        self.conversation = conversation
        self.incoming = incoming
        self.caps = caps
        self.now = now
        self.lang = users.language_of(user)
        self.screens: list[Screen] = []
        self.page = 0
        self._roles: policies.Roles | None = None
        self._notice: UserError | None = None
        self.refused = False  # the input was not taken: an answer refused, a stale button, a "not allowed"
        self.draft: FormDraft | None = None  # the active form's draft, loaded with the conversation
        self.account = user  # this channel's account (``user`` is the one it acts as, when joined)
        # Where the conversation goes (flow, step, ref), kept here and written to the row when the turn ends
        # (:meth:`settle`): set on the row at once, a query later in the turn would flush it on its own, one
        # more UPDATE of the same row.
        self._place: tuple[str | None, str | None, dict[str, Any]] | None = None

    # ---- what the turn knows -------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.engine.ctx.settings

    @property
    def texts(self) -> Texts:
        return self.engine.ctx.texts

    @property
    def roles(self) -> policies.Roles:
        if self._roles is None:
            self._roles = policies.roles_of(self.session, self.user, self.settings)
        return self._roles

    @property
    def roles_known(self) -> bool:
        return self._roles is not None

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def flow(self) -> str | None:
        return self._place[0] if self._place is not None else self.conversation.flow

    @property
    def step(self) -> str | None:
        return self._place[1] if self._place is not None else self.conversation.step

    @property
    def ref(self) -> dict[str, Any]:
        return dict(self._place[2] if self._place is not None else self.conversation.ref)

    def label(self, key: str, **params: Any) -> str:
        return self.texts.label(self.lang, key, **params)

    # ---- where the conversation goes -----------------------------------------------------------
    def go(self, flow: str, step: str | None = None, **ref: Any) -> None:
        """Makes ``flow`` the active one: typed text and its step buttons now answer it."""
        self._place = (flow, step, ref)

    def end(self) -> None:
        """No active flow: typed text is read as a command word or gets the menu."""
        self._place = (None, None, {})

    def settle(self) -> None:
        """Writes where the conversation went to its row (the engine, once the flow is done)."""
        if self._place is not None:
            self.conversation.flow, self.conversation.step, self.conversation.ref = self._place
            self._place = None

    def set_language(self, lang: str) -> None:
        users.set_language(self.session, self.user, lang, self.now)
        self.lang = lang

    # ---- what the person sees ------------------------------------------------------------------
    def show(self, template: str, data: dict[str, Any] | None = None, **options: Any) -> Screen:
        screen = Screen(template, dict(data or {}), **options)
        self.refused = self.refused or screen.error is not None
        if self._notice is not None and screen.error is None:
            screen.error, self._notice = self._notice, None
        self.screens.append(screen)
        return screen

    def say(self, template: str, **data: Any) -> Screen:
        return self.show(template, data)

    def keep_page(self) -> None:
        """The screen shown again stays on the page the person was on."""
        self.page = int(self.conversation.screen.get("page", 0) or 0)

    def notice(self, error: UserError) -> None:
        """Shows ``error`` above the next screen (a stale button, a refused answer)."""
        self._notice, self.refused = error, True

    def refuse(self, error: UserError | str | None = None, **options: Any) -> Screen:
        """Tells the person why not: a service's refusal, an error code, or by default "not allowed"."""
        if not isinstance(error, UserError):
            error = Refused(error or "not_allowed")
        self.refused = True
        return self.show(error.template, error.params, **options)

    def need_file_content(self) -> None:
        if self.incoming.file is None or self.incoming.file.path is None:
            raise NeedFileContent()

    @property
    def expects_text(self) -> bool:
        return self.conversation.screen.get("expects") == Expect.TEXT.value
