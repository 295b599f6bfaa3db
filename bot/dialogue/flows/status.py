"""/status: the company's applications and the stage of each, with edit and withdraw while open."""

from __future__ import annotations

from typing import Any

from bot.dialogue.flow import Flow
from bot.dialogue.flows.appeal import FLOW as APPEAL
from bot.dialogue.flows.apply import FLOW as APPLY
from bot.dialogue.model import Choice, L
from bot.dialogue.turn import Turn
from bot.forms import APPLICATION, application_form
from bot.services import appeals, applications, companies, decisions, drafts, programme, selection
from bot.services.applications import StatusRow


class StatusFlow(Flow):
    name = "status"

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        t.end()
        company = companies.company_of(t.session, t.user)
        if company is None:
            t.say("status/no_company")
            return
        rows = applications.list_for_user(t.session, t.user, t.settings, t.now)
        draft = drafts.get_draft(t.session, t.user.id or 0, APPLICATION)
        draft_info = None
        if draft is not None and draft.application_id is None:
            form = application_form(t.settings)
            draft_info = {"month": draft.month, "answered": drafts.answered(form, draft),
                          "total": len(form.asked(draft.data))}  # fmt: skip
        if not rows and draft_info is None:
            t.say("status/empty")
            return
        facts = {row.application.id: _facts(t, row) for row in rows if row.application.status == "selected"}
        appealable = {a.application.id: a for a in appeals.for_company(t.session, t.user, t.settings)}
        for row in rows:
            # A result still on the waitlist or not selected; one moved up since keeps its Pitching Day facts
            # (its appeal is listed for /appeal, and its row here failed with the waitlist's facts).
            if row.application.id in appealable and row.application.status in appeals.APPEALABLE:
                facts[row.application.id] = _result_facts(t, row, appealable[row.application.id])
        buttons: list[Choice] = []
        for row in rows:
            if row.can_change:
                buttons += APPLY.changes(row.application.id or 0, row.application.receipt_no or "")
            if facts.get(row.application.id, {}).get("can_appeal"):
                buttons.append(APPEAL.choice(L("appeal_buttons.file"), "new", row.application.id, entry=True))
        t.show("status/list", {"company": company, "rows": rows, "draft": draft_info, "facts": facts}, choices=buttons,
               columns=2)  # fmt: skip


def _facts(t: Turn, row: StatusRow) -> dict[str, Any]:
    """A selected company's own facts: before the pitch its slot and the venue; after, each responsible
    department's decision (or that it is still open, and until when)."""
    app, cycle = row.application, row.cycle
    if t.now < cycle.pitch_at:
        told = programme.published_slot(t.session, app.month, app.id or 0)
        venue = told.venue if told else programme.venue_of(t.session, app.month, t.settings)
        return {"slot": told, "venue": venue, "after": False}
    return {"decisions": decisions.of_application(t.session, app.id or 0), "after": True,
            "overdue": t.now > cycle.decision_deadline_at}  # fmt: skip


def _result_facts(t: Turn, row: StatusRow, found: appeals.Appealable) -> dict[str, Any]:
    """A company waitlisted or not selected: its place on the waitlist while the Pitching Day is ahead, and its
    appeal (이의신청): where it stands, or until when one can be filed."""
    app = row.application
    waiting = app.status == "waitlisted" and t.now < row.cycle.pitch_at
    return {"position": selection.positions(t.session, app.month).get(app.id or 0) if waiting else None,
            "appeal": found.appeal, "appeal_deadline": found.deadline,
            "can_appeal": found.appeal is None and t.now <= found.deadline}  # fmt: skip


FLOW = StatusFlow()
