"""/appeal (이의신청) for a company: one tap on the result message, or the command, opens the appeal form
(grounds, details, an optional PDF, a review page); the appeal is filed once and the organizers decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register
from bot.dialogue.model import Action
from bot.dialogue.tokens import int_arg
from bot.dialogue.turn import Turn
from bot.errors import Refused
from bot.forms import APPEAL
from bot.models import Application, FormDraft
from bot.services import appeals, applications, drafts


class AppealFlow(Flow):
    name = "appeal"

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        t.end()
        found = appeals.for_company(t.session, t.user, t.settings)
        if not found:
            t.say("appeal/none")
            return
        latest = found[0]  # the newest result; older months' appeal periods have closed long ago
        if latest.appeal is not None:
            t.say("appeal/status", appeal=latest.appeal, app=latest.application)
            return
        self.start(t, latest.application.id or 0)

    def start(self, t: Turn, app_id: int) -> None:
        try:
            found = appeals.check_open(t.session, t.user, app_id, t.settings, t.now)
        except Refused as err:
            t.end()
            t.refuse(err)
            return
        left = drafts.get_draft(t.session, t.user.id or 0, APPEAL)
        if left is not None and left.ref.get("app") == found.application.id:
            FORM.continue_draft(t, left)  # what was written goes on, not from the first question again
            return
        FORM.open(t, APPEAL, ref={"app": found.application.id, "deadline": found.deadline.isoformat()})

    def on_action(self, t: Turn, action: Action) -> None:
        if action.name == "new":
            self.start(t, int_arg(action, 0) or 0)
        else:
            t.engine.stale(t)


FLOW = AppealFlow()


def _context(t: Turn, draft: FormDraft) -> dict[str, Any]:
    app = t.session.get(Application, int(draft.ref.get("app", 0)))
    return {"app": app, "deadline": _deadline(draft)}


def _deadline(draft: FormDraft) -> dt.datetime | None:
    raw = draft.ref.get("deadline")
    return dt.datetime.fromisoformat(raw) if raw else None


def _submit(t: Turn, draft: FormDraft) -> None:
    app_id = int(draft.ref.get("app", 0))
    appeal = appeals.file(t.session, t.user, app_id, str(draft.data.get("ground")), str(draft.data.get("details", "")),
                          draft.data.get("evidence"), t.settings, t.now)  # fmt: skip
    t.session.delete(draft)
    t.end()
    t.say("appeal/filed", appeal=appeal, app=t.session.get(Application, app_id))


def _cancelled(t: Turn, draft: FormDraft) -> None:
    t.session.delete(draft)
    t.say("appeal/cancelled", deadline=_deadline(draft))


register(
    FormSpec(
        APPEAL, _submit, review_template="appeal/review", confirm_label=lambda d: "appeal_buttons.submit",
        context=_context, cancelled=_cancelled, store_file=applications.deck_store,
    )
)  # fmt: skip
