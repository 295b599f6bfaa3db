"""/programme for organizers: venue, start, slot length and running order of Pitching Day; publish."""

from __future__ import annotations

import datetime as dt

from bot.calendar import Month
from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register
from bot.dialogue.model import Action, Choice, L
from bot.dialogue.tokens import int_arg, month_typed, str_arg
from bot.dialogue.turn import Turn
from bot.errors import Refused
from bot.forms import PROGRAMME_SLOT, PROGRAMME_START, PROGRAMME_VENUE
from bot.models import FormDraft
from bot.services import cycles, policies, programme

_FORMS = {"venue": PROGRAMME_VENUE, "start": PROGRAMME_START, "slot": PROGRAMME_SLOT}


def month_asked(t: Turn, args: tuple[str, ...]) -> str:
    """The month asked for; else the latest month whose selection went out."""
    given = month_typed(args, Month.of(t.now, t.settings.tz))
    if given is not None:
        return str(given)
    return programme.month_with_selection(t.session, t.now) or str(Month.of(t.now, t.settings.tz))


class ProgrammeFlow(Flow):
    name = "programme"
    policy = staticmethod(policies.organizer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        self.board(t, month_asked(t, args))

    def board(self, t: Turn, month: str) -> None:
        prog, slots = programme.board(t.session, t.user, month, t.settings, t.now)
        b = "programme_buttons"
        choices: list[Choice] = []
        nav: list[Choice] = []
        if slots:
            choices = [Choice(L(f"{b}.{what}"), self.act("edit", month, what, entry=True)) for what in _FORMS]
            choices += [Choice(L(f"{b}.up", n=s.position), self.act("up", month, s.application.id, entry=True))
                        for s in slots[1:]]  # fmt: skip
            nav = [Choice(L(f"{b}.publish"), self.act("pub", month, entry=True))]
        t.go(self.name, "board", month=month)
        data = {"month": month, "version": prog.version, "venue": prog.venue, "starts_at": prog.starts_at,
                "slot_minutes": prog.slot_minutes, "slots": slots}  # fmt: skip
        t.show("programme/board", data, choices=choices, nav=nav, columns=3)

    def on_action(self, t: Turn, action: Action) -> None:
        month = month_asked(t, (str_arg(action, 0) or "",))
        try:
            if action.name == "edit" and str_arg(action, 1) in _FORMS:
                programme.board(t.session, t.user, month, t.settings, t.now)  # organizers only
                FORM.open(t, _FORMS[str_arg(action, 1) or ""], ref={"month": month})
            elif action.name == "up":
                programme.move_up(t.session, t.user, month, int_arg(action, 1) or 0, t.settings, t.now)
                self.board(t, month)
            elif action.name == "pub":
                sent = programme.publish(t.session, t.user, month, t.settings, t.now)
                version = programme.get(t.session, month, t.settings, t.now).version
                t.end()
                missing = [d.name for d in programme.unstaffed(t.session, month)]
                t.say("programme/published", version=version, sent=sent, unstaffed=missing)
            else:
                t.engine.stale(t)
        except Refused as err:
            t.refuse(err)

    def resume(self, t: Turn) -> None:
        self.board(t, str(t.ref.get("month") or month_asked(t, ())))


FLOW = ProgrammeFlow()


def _save(t: Turn, draft: FormDraft) -> None:
    month = str(draft.ref.get("month"))
    if "venue" in draft.data:
        programme.set_venue(t.session, t.user, month, str(draft.data["venue"]), t.settings, t.now)
    elif "start" in draft.data:
        day = cycles.get_cycle(t.session, Month.parse(month), t.settings).pitch_at.astimezone(t.settings.tz).date()
        when = dt.datetime.combine(day, dt.time.fromisoformat(str(draft.data["start"])), tzinfo=t.settings.tz)
        programme.set_start(t.session, t.user, month, when, t.settings, t.now)
    else:
        programme.set_slot_minutes(t.session, t.user, month, int(draft.data["slot"]), t.settings, t.now)
    t.session.delete(draft)
    FLOW.board(t, month)


def _cancelled(t: Turn, draft: FormDraft) -> None:
    t.session.delete(draft)
    t.say("menu/input_cancelled")
    FLOW.board(t, str(draft.ref.get("month")))


def _context(t: Turn, draft: FormDraft) -> dict[str, object]:
    month = Month.parse(str(draft.ref.get("month")))
    return {"pitch_at": cycles.get_cycle(t.session, month, t.settings).pitch_at}


for _key in _FORMS.values():
    register(FormSpec(_key, _save, review=False, cancelled=_cancelled, context=_context))
