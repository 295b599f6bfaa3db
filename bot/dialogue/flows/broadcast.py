"""/broadcast for organizers: audience, a written message or the expo announcement, a preview exactly as
recipients will see it, confirmation (an expo that is already over is named as such, with its dates, and
sent only with a button that says so); then one message keeps the progress and carries a stop button."""

from __future__ import annotations

from typing import Any

from sqlmodel import func, select

from bot.calendar import Month
from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import SPECS, FormSpec, register
from bot.dialogue.model import Action, Choice, Expect, L
from bot.dialogue.tokens import int_arg, month_typed
from bot.dialogue.turn import Turn
from bot.errors import Refused, UserError
from bot.forms import BROADCAST, MAX_BROADCAST_TEXT, form_by_key
from bot.models import Application, Broadcast, FormDraft
from bot.services import audience, broadcasts, drafts, expo, policies


class BroadcastFlow(Flow):
    name = "broadcast"
    policy = staticmethod(policies.organizer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        # A month typed after the command (last month's selected companies, their decisions still open), else
        # the latest month anyone applied to.
        try:
            typed = month_typed(args, Month.of(t.now, t.settings.tz))
        except Refused as err:  # 「공지 12월」 fell back to the latest month unsaid
            t.refuse(err)
            return
        month = str(typed) if typed else t.session.exec(select(func.max(Application.month))).one()
        FORM.open(t, BROADCAST, ref={"month": month})

    def on_action(self, t: Turn, action: Action) -> None:
        if action.name != "stop":
            t.engine.stale(t)
            return
        try:
            stopped = broadcasts.cancel(t.session, t.user, int_arg(action, 0) or 0, t.settings, t.now)
        except Refused as err:
            t.refuse(err)
            return
        t.show("broadcast/stopped", {"stopped": stopped}, toast="broadcast/stopped", toast_only=True)

    def progress(self, t: Turn, row: Broadcast) -> None:
        p = broadcasts.progress(t.session, row.id or 0, t.now)
        stop = [Choice(L("broadcast_buttons.stop"), self.act("stop", row.id, entry=True))]
        t.show("broadcast/progress", {"b": row, "p": p}, choices=stop, live=("broadcast", row.id or 0))


FLOW = BroadcastFlow()


def _params(t: Turn, draft: FormDraft) -> dict[str, Any]:
    """An audience's month as people write it: 「2026년 12월 신청 기업」."""
    return {"month": t.texts.month_name(t.lang, draft.ref.get("month") or "-")}


def _context(t: Turn, draft: FormDraft) -> dict[str, Any]:
    return {"max": MAX_BROADCAST_TEXT}


def _preview(t: Turn, draft: FormDraft, error: UserError | None) -> None:
    """The message exactly as recipients will get it, then how many will get it."""
    month = draft.ref.get("month")
    try:
        template, data = broadcasts.message(t.session, str(draft.data.get("kind")), draft.data.get("text"))
        count = audience.count(t.session, str(draft.data.get("audience")), month)
    except Refused as err:
        t.end()
        t.session.delete(draft)
        t.refuse(err)
        return
    if count == 0:  # asked again: the page offered "send to 0 people", refused it, and offered it again
        form = form_by_key(BROADCAST, t.settings)
        drafts.edit(t.session, form, draft, "audience", t.now)
        FORM.ask(t, SPECS[BROADCAST], form, draft, Refused("audience_empty"))
        return
    t.show(template, data, error=error)
    label = t.label(f"audiences.{draft.data.get('audience')}", **_params(t, draft))
    confirm = {"count": count, "audience": label}
    past = broadcasts.past_expo(t.session, str(draft.data.get("kind")), t.settings, t.now)
    # Sending stays possible, but only with a button that says what it does, under the expo's dates.
    send = "broadcast_buttons.send_past" if past is not None else "broadcast_buttons.send"
    draft.ref = {**draft.ref, "past_expo": past.id if past is not None else None}
    t.session.add(draft)
    if past is not None:
        confirm.update(past=expo.over_params(past, t.now, t.settings.tz))
    nav = [FORM.choice(L(send), "ok"), FORM.choice(L("broadcast_buttons.cancel"), "x")]
    t.show("broadcast/confirm", confirm, nav=nav, expects=Expect.CHOICE)


def _send(t: Turn, draft: FormDraft) -> None:
    row = broadcasts.start(
        t.session, t.user, str(draft.data.get("audience")), draft.ref.get("month"), str(draft.data.get("kind")),
        draft.data.get("text"), t.settings, t.now, past_expo_confirmed=draft.ref.get("past_expo"),
    )  # fmt: skip
    t.session.delete(draft)
    t.end()
    FLOW.progress(t, row)


register(
    FormSpec(
        BROADCAST, _send, show_review=_preview, label_params=_params, context=_context,
        cancel_label="broadcast_buttons.cancel",
    )
)  # fmt: skip
