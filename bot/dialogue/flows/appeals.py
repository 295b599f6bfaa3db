"""/appeals for organizers: the appeals filed, each with its grounds, text and evidence; an organizer who
did not review the application decides it (accepted or rejected, with a reason, confirmed on a last page);
after an accepted appeal, the company can be moved into the selection before the Pitching Day."""

from __future__ import annotations

from typing import Any

from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register
from bot.dialogue.model import Action, Attachment, Choice, Expect, L, T, stored_pdf
from bot.dialogue.tokens import int_arg
from bot.dialogue.turn import Turn
from bot.errors import Refused
from bot.forms import APPEAL_DECISION
from bot.models import Appeal, FormDraft
from bot.services import appeals, policies, programme


class AppealsFlow(Flow):
    name = "appeals"
    policy = staticmethod(policies.organizer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        self.listing(t)

    def listing(self, t: Turn) -> None:
        rows = appeals.cases(t.session, t.user, t.settings, t.now)
        # The company's name first: a quick reply shows only its first characters.
        choices = [
            Choice(T(f"{i}. {c.company.name[:20]}"), self.act("case", c.appeal.id, entry=True))
            for i, c in enumerate(rows, 1)
        ]
        t.go(self.name, "list")
        t.show("appeal/list", {"rows": rows, "open": sum(c.appeal.status == "open" for c in rows)}, choices=choices,
               paged="rows")  # fmt: skip

    def card(self, t: Turn, appeal_id: int) -> None:
        c = appeals.case(t.session, t.user, appeal_id, t.settings, t.now)
        b = "appeal_buttons"
        choices = []
        if c.may_decide and c.appeal.status == "open":
            choices.append(Choice(L(f"{b}.decide"), self.act("decide", appeal_id, entry=True)))
        if c.can_promote:
            choices.append(Choice(L(f"{b}.promote"), self.act("promote", appeal_id, entry=True)))
        nav = [Choice(L(f"{b}.list"), self.act("list", entry=True))]
        t.go(self.name, "case", appeal=appeal_id)
        t.show("appeal/card", {"c": c}, choices=choices, nav=nav, columns=2, attachments=_evidence(c.appeal))

    def on_action(self, t: Turn, action: Action) -> None:
        appeal_id = int_arg(action, 0) or 0
        try:
            if action.name == "list":
                self.listing(t)
            elif action.name == "case":
                self.card(t, appeal_id)
            elif action.name == "decide":
                appeals.open_for_decision(t.session, t.user, appeal_id, t.settings, t.now)
                FORM.open(t, APPEAL_DECISION, ref={"appeal": appeal_id})
            elif action.name == "promote":
                c = appeals.case(t.session, t.user, appeal_id, t.settings, t.now)
                policies.require_appeal_decider(t.session, t.user, c.application, t.settings)
                if not c.can_promote:
                    raise Refused("appeal_not_promotable")
                t.go(self.name, "promote", appeal=appeal_id)
                yes = Choice(L("appeal_buttons.promote_yes"), self.act("py"))
                no = Choice(L("buttons.withdraw_no"), self.act("case", appeal_id, entry=True))
                ask = {"c": c, "published": programme.is_published(t.session, c.application.month)}
                t.show("appeal/promote_ask", ask, choices=[yes, no], columns=2, expects=Expect.CHOICE)
            elif action.name == "py" and t.step == "promote":
                app = appeals.promote(t.session, t.user, int(t.ref.get("appeal", 0)), t.settings, t.now)
                t.end()
                t.say("appeal/promoted", app=app, slot=programme.published_slot(t.session, app.month, app.id or 0))
            else:
                t.engine.stale(t)
        except Refused as err:
            t.refuse(err)

    def resume(self, t: Turn) -> None:
        if t.step in ("case", "promote"):
            self.card(t, int(t.ref.get("appeal", 0)))
        else:
            self.listing(t)


FLOW = AppealsFlow()


def _evidence(appeal: Appeal) -> list[Attachment]:
    return stored_pdf(appeal.file_name or "evidence.pdf", appeal.file_path, appeal.file_id)


def _context(t: Turn, draft: FormDraft) -> dict[str, Any]:
    c = appeals.case(t.session, t.user, int(draft.ref.get("appeal", 0)), t.settings, t.now)
    return {"c": c, "verdict": draft.data.get("verdict"), "reason": draft.data.get("reason")}


def _save(t: Turn, draft: FormDraft) -> None:
    appeal_id = int(draft.ref.get("appeal", 0))
    appeal = appeals.decide(t.session, t.user, appeal_id, str(draft.data.get("verdict")),
                            str(draft.data.get("reason", "")), t.settings, t.now)  # fmt: skip
    t.session.delete(draft)
    t.say("appeal/decided_saved", appeal=appeal)
    FLOW.card(t, appeal_id)


def _cancelled(t: Turn, draft: FormDraft) -> None:
    t.session.delete(draft)
    t.say("menu/input_cancelled")
    FLOW.card(t, int(draft.ref.get("appeal", 0)))


register(
    FormSpec(
        APPEAL_DECISION, _save, review_template="appeal/decision_confirm",
        confirm_label=lambda d: "appeal_buttons.confirm", edit_buttons=False, context=_context, cancelled=_cancelled,
    )
)  # fmt: skip
