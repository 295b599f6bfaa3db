"""The shape of a flow. One module per area (apply, status, review...) subclasses it; the engine calls
``command`` for its commands, ``on_action`` for its buttons, and, while it is the active flow,
``on_text``/``on_file``/``resume``/``cancel``/``back``."""

from __future__ import annotations

from typing import Any

from bot.dialogue.model import Action, Choice, FileRef, Label
from bot.dialogue.turn import Turn
from bot.services import policies


class Flow:
    name: str = ""
    # Checked before every command, button and answer of this flow (and again inside the services).
    policy: policies.Policy = staticmethod(policies.anyone)  # type: ignore[assignment]

    def act(self, name: str, *args: object, entry: bool = False) -> Action:
        return Action(self.name, name, tuple(str(a) for a in args), entry=entry)

    def choice(self, label: Label, name: str, *args: object, entry: bool = False) -> Choice:
        return Choice(label, self.act(name, *args, entry=entry))

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        raise NotImplementedError

    def on_action(self, t: Turn, action: Action) -> None:
        t.refuse("stale_button")

    def on_text(self, t: Turn, text: str) -> None:
        """Text this flow's screen does not take (it asks no question): said so, and the screen shown again
        where the flow can show it (a card, a board, a list), so one word typed does not throw the person out
        of what they were doing (the next word typed was then "not understood" too). A flow that keeps no
        screen of its own, or an invitation or link code pasted alone, goes back to rest as before."""
        menu = t.engine.flows["menu"]
        if type(self).resume is Flow.resume or menu.code_typed(t):  # type: ignore[attr-defined]
            t.end()
            menu.unknown(t)  # type: ignore[attr-defined]
            return
        t.say("menu/not_here", typed=text.strip())
        self.resume(t)

    def on_file(self, t: Turn, file: FileRef) -> None:
        self.on_text(t, "")

    def on_other(self, t: Turn) -> None:
        self.on_text(t, "")

    def resume(self, t: Turn) -> None:
        """Shows the current screen again (after a stale button, or to turn a page)."""
        t.end()
        t.engine.flows["menu"].home(t)  # type: ignore[attr-defined]

    def cancel(self, t: Turn) -> None:
        t.end()
        t.say("menu/input_cancelled")

    def back(self, t: Turn) -> None:
        self.resume(t)

    def screen_data(self, t: Turn, template: str, kept: dict[str, Any]) -> dict[str, Any] | None:
        """The data of this flow's closing screen shown again under the menu (a page turn), built from what
        the flow kept of it (:meth:`MenuFlow.under_menu`'s ``again``); None when it is gone."""
        return None
