"""One turn: lock the person's conversation, drop a redelivered update, route the input to its flow, render
the screens, keep what the next turn needs, commit once. No exception reaches the person."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot import validators
from bot.context import AppContext
from bot.dialogue import commands, interpret, state, tokens
from bot.dialogue.flow import Flow
from bot.dialogue.model import Capabilities, Expect, FileRef, Incoming, Kind, Screen
from bot.dialogue.render import PAGE, Output, error_output, render
from bot.dialogue.turn import NeedFileContent, Turn
from bot.dialogue.worker import Workers
from bot.errors import FileTooLarge, Refused, UserError
from bot.services import accounts, files, policies, users

log = logging.getLogger(__name__)
Fetch = Callable[[FileRef], Awaitable[Path]]


@dataclass
class Reply:
    outputs: list[Output] = field(default_factory=list)
    lang: str = "ko"
    duplicate: bool = False  # a redelivered update: nothing was applied, nothing is to be sent
    # The commands this person's channel menu should now list (their roles changed); None: unchanged.
    menu: list[tuple[str, str]] | None = None
    entry: bool = False  # the pressed button opened something: its message keeps its buttons
    refused: bool = False  # the input was not taken (a page that sent it says so, rather than "received")


class Engine:
    def __init__(self, ctx: AppContext, flows: dict[str, Flow] | None = None) -> None:
        from bot.dialogue.flows import load

        self.ctx = ctx
        # Turns run off the event loop on threads of their own (bot/dialogue/worker.py). SQLite has one
        # writer, so one thread; PostgreSQL locks per person, so turns of different people run side by side
        # (``PITCHBOT_TURN_WORKERS`` of them).
        self._workers = Workers(1 if ctx.db.dialect == "sqlite" else ctx.settings.turn_workers)
        self.flows = flows if flows is not None else load()
        self.aliases = commands.Aliases(ctx.texts)
        # How each channel makes an invitation into something to open (Telegram: a t.me link).
        self.links: dict[str, Callable[[str], str]] = {}

    # ---- entry points --------------------------------------------------------------------------
    async def handle(self, incoming: Incoming, caps: Capabilities, fetch: Fetch | None = None) -> Reply:
        """Runs the turn off the event loop; a file a flow wants is fetched first, then the turn runs again."""
        try:
            return await self._off_loop(incoming, caps)
        except NeedFileContent:
            assert incoming.file is not None
            try:
                if fetch is None:
                    raise OSError("this channel cannot fetch files")
                path = await fetch(incoming.file)
                file = replace(incoming.file, path=path)
            except FileTooLarge as err:  # found out while receiving it: the question's size check refuses it
                log.info("file %s refused while received: %s", incoming.file.name, err)
                file = replace(incoming.file, size=err.size, path=None, channel_id=None)
                incoming = replace(incoming, file=file, profile={**incoming.profile, "fetch_failed": True})
                return await self._off_loop(incoming, caps)
            except Exception as err:  # a failed download is the person's problem to retry, not ours
                log.warning("file %s not fetched: %s", incoming.file.name, err)
                file = replace(incoming.file, path=None, channel_id=None)
                incoming = replace(incoming, file=file, profile={**incoming.profile, "fetch_failed": True})
                return await self._off_loop(incoming, caps)
            try:
                return await self._off_loop(replace(incoming, file=file), caps)
            finally:
                path.unlink(missing_ok=True)

    async def _off_loop(self, incoming: Incoming, caps: Capabilities) -> Reply:
        key = f"{incoming.channel}:{incoming.external_id}"
        return await self._workers.run(key, lambda: self.turn(incoming, caps))

    def turn(self, incoming: Incoming, caps: Capabilities) -> Reply:
        ctx = self.ctx
        now = ctx.clock.now()
        lang = "ko"
        incoming, refused = _cleaned(incoming)
        try:
            with ctx.db.session(writer=True) as session:
                user, conversation, draft = state.begin(session, incoming, now)
                users.refresh(session, user, now, incoming.display_name, incoming.client_language)
                if incoming.profile:
                    users.remember_keys(session, user, incoming.profile, now)
                lang = users.language_of(user)
                if state.seen(conversation, incoming.dedupe_key):
                    return Reply(lang=lang, duplicate=True)
                # An account joined to another acts as it (its company, roles, drafts); the conversation of
                # this channel stays this account's.
                acting = accounts.primary(session, user) if user.linked_to is not None else user
                t = Turn(self, session, acting, conversation, incoming, caps, now)
                t.account = user
                t.draft = draft if acting is user else None
                entry = False
                if refused is not None:  # nothing of it is read, nothing of it is kept
                    self.stale(t, refused)
                else:
                    entry = self._route(t)
                if not t.screens:  # every input gets an answer
                    self.flows["menu"].unknown(t)  # type: ignore[attr-defined]
                reply = self._finish(t, entry)
            return reply
        except NeedFileContent:
            raise
        except UserError as err:  # a refusal no flow caught: nothing of the turn is kept
            return Reply([error_output(ctx.texts, lang, caps, err.template, err.params)], lang, refused=True)
        except Exception:
            log.exception("turn failed for %s:%s", incoming.channel, incoming.external_id)
            return Reply([error_output(ctx.texts, lang, caps, "errors/internal", {})], lang, refused=True)

    # ---- routing -------------------------------------------------------------------------------
    def _route(self, t: Turn) -> bool:
        """Runs the input's flow; True when a pressed button opened something (an entry action)."""
        inc = t.incoming
        if inc.kind is Kind.COMMAND:
            self.command(t, inc.command or "", inc.args)
        elif inc.kind is Kind.CHOICE:
            return self._choice(t, inc.token or "")
        elif inc.kind is Kind.TEXT:
            return self._text(t, inc.text or "")
        else:
            active = self.active(t)
            if active is None:
                self.flows["menu"].unknown(t)  # type: ignore[attr-defined]
            elif inc.kind is Kind.FILE and inc.file is not None:
                active.on_file(t, inc.file)
            else:
                active.on_other(t)
        return False

    def active(self, t: Turn) -> Flow | None:
        flow = self.flows.get(t.flow or "")
        if flow is not None and not _allows(flow, t):  # the role was taken away meanwhile
            t.end()
            return None
        return flow

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        found = commands.BY_NAME.get(name)
        if found is None or (found.flow and found.flow not in self.flows):
            self.flows["menu"].unknown(t)  # type: ignore[attr-defined]
        elif not found.policy(t.roles):
            t.refuse()
        elif name in ("cancel", "back"):
            active = self.active(t)
            if active is None:
                self.flows["menu"].nothing_to(t, name)  # type: ignore[attr-defined]
            elif name == "cancel":
                active.cancel(t)
            else:
                active.back(t)
        else:
            self.flows[found.flow].command(t, name, args)

    def _choice(self, t: Turn, token: str) -> bool:
        parsed = tokens.decode(token)
        if parsed is None:
            self.stale(t)
            return False
        version, action = parsed
        flow = self.flows.get(action.flow)
        if flow is not None and not _allows(flow, t):  # a forged button of someone else's flow
            t.refuse()
            return False
        if action.flow == PAGE:
            if version == t.conversation.version and self.active(t) is not None:
                t.page = tokens.int_arg(action, 0) or 0
                self.active(t).resume(t)  # type: ignore[union-attr]
            else:
                self.stale(t)
            return False
        if flow is None or (version is not None and (version != t.conversation.version or action.flow != t.flow)):
            self.stale(t)
            return False
        flow.on_action(t, action)
        return action.entry

    def _text(self, t: Turn, text: str) -> bool:
        token = interpret.match(text, t.conversation.screen)
        if token is not None:
            return self._choice(t, token)
        found = self.aliases.find(text)
        if found is not None and not found[0].interrupts and not text.lstrip().startswith("/"):
            # A form's question asking to choose reads a word of one of its choices as that choice, before a
            # command of the same word (「박람회」 for 「박람회 안내」 opened the expo and dropped the form); the
            # words that leave a question (「취소」, 「메뉴」) and slash commands still do. Not on a confirmation.
            token = interpret.match_part(text, t.conversation.screen, asked_only=True)
            if token is not None:
                return self._choice(t, token)
        if found is not None:
            command, args = found
            # While a question waits for typed text, only a command's own words alone leave it.
            if text.lstrip().startswith("/") or not t.expects_text or (command.interrupts and not args):
                self.command(t, command.name, args)
                return False
        token = interpret.match_part(text, t.conversation.screen)
        if token is not None:
            return self._choice(t, token)
        active = self.active(t)
        if active is None:
            self.flows["menu"].unknown(t)  # type: ignore[attr-defined]
        else:
            active.on_text(t, text)
        return False

    def _files_as_links(self, t: Turn) -> None:
        """Where a channel cannot carry files, each file becomes an expiring link of the person's own, made in
        this turn's transaction; without a public address to link to, the person is told where to get it."""
        public = self.ctx.settings.public_url
        screens = []
        for screen in t.screens:
            screens.append(screen)
            if not screen.attachments:
                continue
            links = []
            for a in screen.attachments:
                if public is None:
                    continue
                link = files.offer_download(t.session, t.user, a.filename, self.ctx.settings, t.now,
                                            content=a.content, path=a.path, mime=a.mime)  # fmt: skip
                links.append({"name": a.filename, "url": f"{public.rstrip('/')}/files/{link.token}",
                              "expires_at": link.expires_at})  # fmt: skip
            screen.attachments = []
            screens.append(Screen("files/links", {"links": links}))
        t.screens = screens

    def stale(self, t: Turn, error: UserError | None = None) -> None:
        """A button from an older screen (or an input refused before any flow saw it): say so and show where
        the conversation stands."""
        t.notice(error or Refused("stale_button"))
        active = self.active(t)
        if active is not None:
            active.resume(t)
        else:
            self.flows["menu"].home(t)  # type: ignore[attr-defined]

    # ---- after the flow ------------------------------------------------------------------------
    def _finish(self, t: Turn, entry: bool) -> Reply:
        if not t.caps.files:
            self._files_as_links(t)
        # Where the channel has no menu of its own, an answer with nothing to press carries the menu's quick
        # replies: at rest, and also inside a flow (a refusal, a board with nothing to pick) unless a question
        # waits for typed text; the menu's buttons are entry buttons, taken from any screen.
        pressable = any(s.choices or s.nav for s in t.screens)
        asks = bool(t.screens) and t.screens[-1].expects is Expect.TEXT
        if not t.caps.slash_commands and t.screens and not pressable and not asks:
            self.flows["menu"].offer(t, t.screens[-1])  # type: ignore[attr-defined]
        t.settle()
        conversation = t.conversation
        version = conversation.version + 1
        outputs, kept = [], {}
        for screen in t.screens:
            output, kept = render(self.ctx.texts, t.lang, t.caps, screen, version, t.page)
            outputs.append(output)
        conversation.version = version
        conversation.screen = kept
        state.remember(conversation, t.incoming.dedupe_key)
        conversation.updated_at = t.now
        menu = None
        # The roles are read when a flow needed them, or when the stored menu was cleared (a grant clears it).
        if t.roles_known or conversation.menu is None:
            signature = commands.signature(t.roles)
            if signature != (conversation.menu or ""):
                menu = [(c.name, t.label(f"commands.{c.name}")) for c in commands.allowed(t.roles)]
            if signature != conversation.menu:
                conversation.menu = signature
        t.session.add(conversation)
        return Reply(outputs, t.lang, menu=menu, entry=entry, refused=t.refused)


def _cleaned(incoming: Incoming) -> tuple[Incoming, UserError | None]:
    """The input through the one sanitiser of typed text (``validators.clean``): what a person typed is
    refused when it holds a NUL; what the channel says about them (their name, a file's name) is cleaned."""
    try:
        text = validators.clean(incoming.text) if incoming.text is not None else None
        args = tuple(validators.clean(a) for a in incoming.args)
        refused = None
    except validators.Invalid as err:
        text, args, refused = None, (), err
    file = incoming.file
    if file is not None:
        file = replace(file, name=validators.clean_lenient(file.name))
    name = validators.clean_lenient(incoming.display_name)
    return replace(incoming, text=text, args=args, file=file, display_name=name), refused


def _allows(flow: Flow, t: Turn) -> bool:
    """A flow open to anyone needs no look at the person's roles (most turns: the company's own forms)."""
    return flow.policy is policies.anyone or flow.policy(t.roles)
