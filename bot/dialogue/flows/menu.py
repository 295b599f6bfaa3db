"""/start, the menu, help (per role, with this month's dates), schedule, language, and the answer to
anything not understood."""

from __future__ import annotations

from bot.calendar import Month
from bot.dialogue import commands
from bot.dialogue.flow import Flow
from bot.dialogue.model import Action, Choice, Expect, L
from bot.dialogue.tokens import str_arg
from bot.dialogue.turn import Turn
from bot.models import Role
from bot.services import cycles, invitations, users

# The menu's buttons. A person with a role gets the role's items first, most used first (a channel of ten
# quick replies shows eight a page, with the page turn: the first page is their daily work, ❓ 도움말 naming
# every command among it), then everyone's. An organizer's list holds every organizer command, so that none is
# reached only by knowing its typed word; a test checks it against the command registry.
_EVERYONE = ("apply", "status", "schedule", "profile", "help", "language", "mydata")
_BY_ROLE = ((Role.ORGANIZER, ("selection", "appeals", "reviewers", "programme", "decisions", "broadcast", "export",
                              "help", "departments", "invite", "broadcasts", "expo_edit")),
            (Role.REVIEWER, ("review",)), (Role.OFFICIAL, ("decisions",)))  # fmt: skip


class MenuFlow(Flow):
    name = "menu"

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        if name == "start":
            self.start(t, args)
        elif name == "help":
            self.help(t)
        elif name == "schedule":
            self.schedule(t)
        else:
            t.show("menu/language", choices=self._languages(t), columns=2, expects=Expect.CHOICE)

    def on_action(self, t: Turn, action: Action) -> None:
        if action.name == "cmd":
            t.engine.command(t, str_arg(action, 0) or "start", ())
        elif action.name == "lang" and str_arg(action, 0) in users.LANGUAGES:
            t.set_language(str_arg(action, 0) or "ko")
            t.show("menu/language_set", choices=self.choices(t), columns=2)
        else:
            t.refuse("language")

    # ---- screens other flows use ---------------------------------------------------------------
    def choices(self, t: Turn) -> list[Choice]:
        """The menu as buttons: the person's role items, then everyone's."""
        names: list[str] = []
        for role, items in _BY_ROLE:
            if role in t.roles:
                names += [n for n in items if n not in names]
        names += [n for n in _EVERYONE if n not in names]
        return [Choice(L(f"menu_buttons.{n}"), Action(self.name, "cmd", (n,), entry=True)) for n in names]

    def home(self, t: Turn, name: str = "") -> None:
        status = cycles.window_status(t.session, t.now, t.settings)
        cycle = status.open_cycle or cycles.get_cycle(t.session, Month.of(t.now, t.settings.tz), t.settings)
        data = {"name": name, "cycle": cycle, "open": status.open_cycle is not None, "next_cycle": status.next_cycle}
        self._rest(t, "home")
        t.show("start/welcome", data, choices=self.choices(t), columns=2)

    def unknown(self, t: Turn) -> None:
        self._rest(t, "unknown")
        t.show("menu/unknown", choices=self.choices(t), columns=2)

    def nothing_to(self, t: Turn, name: str) -> None:
        """/cancel or /back with nothing in progress."""
        if name == "cancel":
            self._rest(t, "unknown")
            t.show("menu/nothing_to_cancel", choices=self.choices(t), columns=2)
        else:
            self.unknown(t)

    def _rest(self, t: Turn, step: str) -> None:
        """The menu's screens belong to the menu flow, so their page buttons turn (a role's menu is long on a
        channel of ten quick replies); typed text there is read as at rest."""
        if t.flow in (None, self.name):
            t.go(self.name, step)

    # ---- the menu as the active flow -----------------------------------------------------------
    def resume(self, t: Turn) -> None:
        if t.step == "help":
            self.help(t)
        elif t.step == "unknown":
            self.unknown(t)
        else:
            self.home(t)

    def on_text(self, t: Turn, text: str) -> None:
        t.end()
        self.unknown(t)

    def cancel(self, t: Turn) -> None:
        t.end()
        self.nothing_to(t, "cancel")

    def back(self, t: Turn) -> None:
        t.end()
        self.unknown(t)

    # ---- the commands --------------------------------------------------------------------------
    def start(self, t: Turn, args: tuple[str, ...]) -> None:
        payload = args[0] if args else ""
        if payload:
            users.remember_start_payload(t.session, t.user, payload, t.now)
        if payload.startswith(invitations.PREFIX):
            t.engine.flows["invite"].accept(t, payload)  # type: ignore[attr-defined]
            return
        t.end()
        self.home(t, t.incoming.display_name.split(" ")[0] if t.incoming.display_name else "")

    def help(self, t: Turn) -> None:
        status = cycles.window_status(t.session, t.now, t.settings)
        cycle = status.open_cycle or cycles.get_cycle(t.session, Month.of(t.now, t.settings.tz), t.settings)
        allowed = [(c.name, t.label(f"commands.{c.name}")) for c in commands.allowed(t.roles)]
        self._rest(t, "help")
        data = {"commands": allowed, "cycle": cycle, "open": status.open_cycle is not None,
                "next_cycle": status.next_cycle, "roles": sorted(r.value for r in t.roles),
                "selected_count": t.settings.selected_count}  # fmt: skip
        t.show("menu/help", data, choices=self.choices(t), columns=2)

    def schedule(self, t: Turn) -> None:
        status = cycles.window_status(t.session, t.now, t.settings)
        cycle = status.open_cycle or cycles.get_cycle(t.session, Month.of(t.now, t.settings.tz), t.settings)
        t.say("menu/schedule", cycle=cycle, open=status.open_cycle is not None, next_cycle=status.next_cycle)

    def _languages(self, t: Turn) -> list[Choice]:
        return [
            Choice(L(f"buttons.{code}"), Action(self.name, "lang", (code,), entry=True)) for code in users.LANGUAGES
        ]


FLOW = MenuFlow()
