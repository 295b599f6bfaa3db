"""/start, the menu, help (per role, with this month's dates), schedule, language, and the answer to
anything not understood."""

from __future__ import annotations

from typing import Any

from bot.calendar import Cycle, Month
from bot.dialogue import commands
from bot.dialogue.flow import Flow
from bot.dialogue.model import PLAIN, Action, Choice, Expect, Kind, L, Screen
from bot.dialogue.tokens import str_arg
from bot.dialogue.turn import Turn
from bot.forms import APPLICATION, PROFILE
from bot.models import Role
from bot.services import accounts, companies, cycles, drafts, invitations, outbox, policies, users

# The menu's buttons. A person with a role gets the role's items first, most used first, then everyone's. The
# menu pages alike on every channel, as KakaoTalk's ten quick replies must: eight items a page with the page
# turn, so the first page is a role's daily work (❓ 도움말 naming every command among it) and the rest is one
# 「다음 목록 ▶」 away; a company's seven items fit one page. On Telegram a page turn edits the menu in place.
# An organizer's list holds every organizer command, so that none is reached only by knowing its typed word; a
# test checks it against the command registry.
_EVERYONE = ("apply", "status", "schedule", "profile", "help", "language", "mydata")
_BY_ROLE = ((Role.ORGANIZER, ("selection", "appeals", "reviewers", "programme", "decisions", "broadcast", "export",
                              "help", "departments", "invite", "broadcasts", "expo_edit")),
            (Role.REVIEWER, ("review",)), (Role.OFFICIAL, ("decisions",)))  # fmt: skip
MENU_PAGE = PLAIN.max_choices  # choices on one page of a menu screen, page turns included


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
            self.language_set(t)
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
        data = {"name": name, "cycle": cycle, "open": status.open_cycle is not None, "next_cycle": status.next_cycle,
                "unfinished": self._unfinished(t, status.open_cycle)}  # fmt: skip
        self._menu(t, "home", "start/welcome", data)

    def unknown(self, t: Turn) -> None:
        typed = self._typed(t)
        if invitations.looks_like_code(typed):  # the code pasted alone, without 「시작」 or /start before it
            self.start(t, (typed,))
        elif accounts.looks_like_code(typed):  # a link code pasted alone, without 「연결」 before it
            t.engine.flows["link"].command(t, "link", (typed,))
        else:
            open_cycle = cycles.window_status(t.session, t.now, t.settings).open_cycle
            self._menu(t, "unknown", "menu/unknown", {"unfinished": self._unfinished(t, open_cycle)})

    @staticmethod
    def _unfinished(t: Turn, open_cycle: Cycle | None) -> dict[str, Any] | None:
        """A company's registration, or its application in an open window, left midway (by 「시작」, say): the
        start screen and "not understood" name it with the command that takes it up again, so an answer typed
        after leaving is not met with silence on how to go on. A profile draft of a registered company is
        no registration left midway: opening 「기업 정보」 to look makes one."""
        draft = drafts.get_draft(t.session, t.user.id or 0, APPLICATION)
        if draft is not None and draft.data and draft.application_id is None and open_cycle is not None \
                and draft.month == str(open_cycle.month):  # fmt: skip
            return {"form": APPLICATION, "month": draft.month, "command": "apply"}
        draft = drafts.get_draft(t.session, t.user.id or 0, PROFILE)
        if draft is not None and draft.data and companies.company_of(t.session, t.user) is None:
            return {"form": PROFILE, "month": None, "command": "profile"}
        return None

    def code_typed(self, t: Turn) -> bool:
        """An invitation or a link code typed alone: :meth:`unknown` takes it as such."""
        typed = self._typed(t)
        return invitations.looks_like_code(typed) or accounts.looks_like_code(typed)

    @staticmethod
    def _typed(t: Turn) -> str:
        return (t.incoming.text or "").strip() if t.incoming.kind is Kind.TEXT else ""

    def nothing_to(self, t: Turn, name: str) -> None:
        """/cancel or /back with nothing in progress."""
        if name == "cancel":
            self._menu(t, "nothing_to_cancel", "menu/nothing_to_cancel")
        else:
            self.unknown(t)

    def language_set(self, t: Turn) -> None:
        self._menu(t, "language_set", "menu/language_set")

    def under_menu(
        self,
        t: Turn,
        template: str,
        data: dict[str, Any] | None = None,
        *,
        again: tuple[str, dict[str, Any]] | None = None,
    ) -> Screen:
        """Another flow's last screen (a form left for later, an application submitted) with the menu under it,
        paged as the menu is. The page turn shows the screen again from what the conversation keeps: ``data``
        itself (JSON values, aware datetimes and dates), or, with ``again`` = (a flow's name, JSON values), the
        data that flow builds again from them (:meth:`Flow.screen_data`: database rows, say)."""
        if again is None:
            ref: dict[str, Any] = {"template": template, "data": outbox.encode(data or {})}
        else:
            ref = {"template": template, "again": [again[0], again[1]]}
        return self._menu(t, "screen", template, data, ref)

    def _screen_again(self, t: Turn) -> bool:
        template = str(t.ref["template"])
        if "again" not in t.ref:
            self.under_menu(t, template, outbox.decode(t.ref.get("data") or {}))
            return True
        flow, kept = t.ref["again"]
        data = t.engine.flows[flow].screen_data(t, template, kept) if flow in t.engine.flows else None
        if data is not None:
            self.under_menu(t, template, data, again=(flow, kept))
        return data is not None

    def offer(self, t: Turn, screen: Screen) -> None:
        """The menu under a last screen with nothing to press, where the channel has no menu of its own
        (KakaoTalk's quick replies are the way on); its page turns show the menu alone."""
        self._rest(t, "more")
        screen.choices, screen.columns, screen.max_choices = self.choices(t), 2, MENU_PAGE

    def _menu(
        self, t: Turn, step: str, template: str, data: dict[str, Any] | None = None, ref: dict[str, Any] | None = None
    ) -> Screen:
        """A screen with the menu under it, paged as every channel pages the menu."""
        self._rest(t, step, **(ref or {}))
        return t.show(template, data, choices=self.choices(t), columns=2, max_choices=MENU_PAGE)

    def _rest(self, t: Turn, step: str, **ref: Any) -> None:
        """The menu's screens belong to the menu flow, so their page buttons turn (a role's menu has pages);
        typed text there is read as at rest."""
        if t.flow in (None, self.name):
            t.go(self.name, step, **ref)

    # ---- the menu as the active flow -----------------------------------------------------------
    def resume(self, t: Turn) -> None:
        """The menu's screen again: after a stale button (under its notice), or at the page turned to, in place
        of the page turned where the channel edits."""
        shown = len(t.screens)
        if t.step == "help":
            self.help(t)
        elif t.step == "unknown":
            self.unknown(t)
        elif t.step == "nothing_to_cancel":
            self.nothing_to(t, "cancel")
        elif t.step == "language_set":
            self.language_set(t)
        elif t.step == "more":
            self._menu(t, "more", "menu/more")
        elif not (t.step == "screen" and t.ref.get("template") and self._screen_again(t)):
            self.home(t, _first_name(t))
        screen = t.screens[shown] if len(t.screens) > shown else None
        if screen is not None and screen.error is None:  # no stale button's notice: a page turn
            screen.replace = True

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
        if invitations.is_code(payload):
            t.engine.flows["invite"].accept(t, payload)  # type: ignore[attr-defined]
            return
        t.end()
        self.home(t, _first_name(t))

    def help(self, t: Turn) -> None:
        status = cycles.window_status(t.session, t.now, t.settings)
        cycle = status.open_cycle or cycles.get_cycle(t.session, Month.of(t.now, t.settings.tz), t.settings)
        # A role's own commands first, as in the menu (an official read 신청, 현황, 기업 정보… and 구매결정 last).
        mine = sorted(commands.allowed(t.roles), key=lambda c: c.policy is policies.anyone)
        allowed = [(c.name, t.label(f"commands.{c.name}")) for c in mine]
        data = {"commands": allowed, "cycle": cycle, "open": status.open_cycle is not None,
                "next_cycle": status.next_cycle, "roles": sorted(r.value for r in t.roles),
                "selected_count": t.settings.selected_count}  # fmt: skip
        self._menu(t, "help", "menu/help", data)

    def schedule(self, t: Turn) -> None:
        status = cycles.window_status(t.session, t.now, t.settings)
        cycle = status.open_cycle or cycles.get_cycle(t.session, Month.of(t.now, t.settings.tz), t.settings)
        t.say("menu/schedule", cycle=cycle, open=status.open_cycle is not None, next_cycle=status.next_cycle)

    def _languages(self, t: Turn) -> list[Choice]:
        return [
            Choice(L(f"buttons.{code}"), Action(self.name, "lang", (code,), entry=True)) for code in users.LANGUAGES
        ]


def _first_name(t: Turn) -> str:
    return t.incoming.display_name.split(" ")[0] if t.incoming.display_name else ""


FLOW = MenuFlow()
