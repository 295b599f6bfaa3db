"""/decisions: officials record their department's purchase decisions (buy, not buying, more review) in a
form with a confirmation page; organizers see the status board and may record too. Before the Pitching Day
and after the deadline the list says so at once, with the dates. A decision someone else recorded while
this person was deciding is shown to them, and replaced only when they confirm it again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.calendar import Month
from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import SPECS, FormSpec, register
from bot.dialogue.model import Action, Choice, Expect, L, T
from bot.dialogue.tokens import int_arg, month_typed
from bot.dialogue.turn import Turn
from bot.errors import Refused
from bot.forms import DECISION, form_by_key
from bot.models import Application, Company, DecisionStatus, FormDraft, Role
from bot.services import cycles, decisions, drafts, policies, programme

OPEN = DecisionStatus.OPEN.value


# An official's list shows the months whose deadline passed less than this long ago.
SHOWN_AFTER_DEADLINE = dt.timedelta(days=31)


class DecisionsFlow(Flow):
    name = "decisions"
    policy = staticmethod(policies.official_or_organizer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        # Read as the other organizer commands read a month (「2026.11」 and 「2026년 11월」 gave an empty board
        # headed 「2026년」, beside "November: 2 open"); what is not one is refused with the format.
        month = month_typed(args, Month.of(t.now, t.settings.tz)) if Role.ORGANIZER in t.roles else None
        self.listing(t, str(month) if month else None)

    def listing(self, t: Turn, month: str | None = None) -> None:
        if Role.OFFICIAL in t.roles and Role.ORGANIZER not in t.roles:  # an organizer's board holds every department
            rows = decisions.for_official(t.session, t.user, t.settings, t.now)
            names = sorted({r.decision.department for r in rows})
            # Months long closed are left out: each added its companies and a "deadline passed" paragraph, and
            # after nine months this month's companies were on the list's second message.
            recent = [r for r in rows if r.decision.status == OPEN
                      or r.cycle.decision_deadline_at > t.now - SHOWN_AFTER_DEADLINE]  # fmt: skip
            template, data = "decisions/list", {"rows": recent, "departments": ", ".join(names),
                                                "older": len(rows) - len(recent)}  # fmt: skip
            rows = recent
        else:
            # Before any selection: this month (the heading read 「 구매결정 현황」, no month).
            chosen = month or programme.month_with_selection(t.session, t.now) or str(Month.of(t.now, t.settings.tz))
            rows = decisions.board_for(t.session, t.user, chosen, t.settings, t.now)
            decided = sum(r.decision.status != DecisionStatus.OPEN for r in rows)
            overdue = sum(r.overdue for r in rows)
            template = "decisions/board"
            data = {"month": chosen, "rows": rows, "decided": decided, "open": len(rows) - decided - overdue,
                    "overdue": overdue, "late": any(r.cycle.decision_deadline_passed(t.now) for r in rows),
                    "elsewhere": decisions.open_elsewhere(t.session, chosen, t.settings, t.now)}  # fmt: skip
        # The rows that can still be decided come first, numbered in the text and on their buttons alike and
        # paged with them (on KakaoTalk a quick reply shows only its first characters, and typing 「12」 opens
        # the twelfth on its page); the others follow, marked, with nothing to press.
        organizer = Role.ORGANIZER in t.roles
        decidable = [r for r in rows if decisions.recordable(r.cycle, t.now, organizer)]
        choices = [
            Choice(T(f"{i}. {r.company.name[:20]} / {r.decision.department[:20]}"),
                   self.act("open", r.decision.id, entry=True))
            for i, r in enumerate(decidable, 1)
        ]  # fmt: skip
        windows = _windows(t, rows)
        if template == "decisions/board":
            # "ask the organizers" and "your department's companies" are not for the organizers; the board marks
            # what is late and, empty, says so.
            windows["closed"], windows["upcoming"] = [], None
        data.update(windows, rows=decidable, others=[r for r in rows if r not in decidable], decidable=bool(choices))
        t.go(self.name, "list")
        t.show(template, data, choices=choices, paged="rows")

    def on_action(self, t: Turn, action: Action) -> None:
        if action.name == "open" or (action.name == "od" and t.step == "switch"):
            self.open(t, int_arg(action, 0) or 0, discard=action.name == "od")
        else:
            t.engine.stale(t)

    def open(self, t: Turn, decision_id: int, discard: bool = False) -> None:
        """The decision's form; one left midway goes on where it was. One draft at a time: another company's
        answers typed and not confirmed are not thrown away unasked (they were, without a word)."""
        try:
            row = _row(t, decision_id)
        except Refused as err:
            t.refuse(err)
            return
        left = drafts.get_draft(t.session, t.user.id or 0, DECISION)
        if left is not None and left.data and left.ref.get("decision") == row.decision.id:
            FORM.continue_draft(t, left)
            return
        other = _other_row(t, left)
        if other is not None and not discard:
            t.go(self.name, "switch", decision=row.decision.id)
            on = Choice(L("decision_buttons.unsaved_continue"), self.act("open", other.decision.id, entry=True))
            drop = Choice(L("decision_buttons.unsaved_discard"), self.act("od", row.decision.id))
            t.show("decisions/unsaved_elsewhere", {"r": other, "new": row}, choices=[on, drop], columns=1,
                   expects=Expect.CHOICE)  # fmt: skip
            return
        FORM.open(t, DECISION, ref={"decision": row.decision.id, "version": row.decision.version})

    def resume(self, t: Turn) -> None:
        if t.step == "switch":
            self.open(t, int(t.ref.get("decision", 0)))
        else:
            self.listing(t)


FLOW = DecisionsFlow()


def _row(t: Turn, decision_id: int) -> decisions.Row:
    """A decision this person may record now; refused at once when it is too early or too late."""
    decision = decisions.get_for(t.session, t.user, decision_id, t.settings)
    app = t.session.get(Application, decision.application_id)
    assert app is not None
    company = t.session.get(Company, app.company_id)
    assert company is not None
    cycle = cycles.get_cycle(t.session, Month.parse(app.month), t.settings)
    decisions.check_window(cycle, t.now, Role.ORGANIZER in t.roles)
    return decisions.Row(decision, app, company, cycle, False)


def _other_row(t: Turn, left: FormDraft | None) -> decisions.Row | None:
    """The decision whose answers this person typed and has not confirmed, while it may still be recorded."""
    if left is None or not left.data:
        return None
    try:
        return _row(t, int(left.ref.get("decision", 0)))
    except Refused:
        return None


def _windows(t: Turn, rows: list[decisions.Row]) -> dict[str, Any]:
    """The months whose decisions open later (with when) and those whose deadline has passed; with no rows,
    the next Pitching Day's dates, so an official knows when to come back (this month's once its Pitching Day
    has begun without a company of theirs is past: it said "you can record them from then")."""
    early = {str(r.cycle.month): r.cycle for r in rows if t.now < r.cycle.pitch_at}
    closed = {str(r.cycle.month): r.cycle for r in rows if r.cycle.decision_deadline_passed(t.now)}
    upcoming = None
    if not rows:
        upcoming = cycles.get_cycle(t.session, Month.of(t.now, t.settings.tz), t.settings)
        if t.now >= upcoming.pitch_at:
            upcoming = cycles.get_cycle(t.session, upcoming.month.next(), t.settings)
    return {"early": list(early.values()), "closed": list(closed.values()), "upcoming": upcoming}


def _context(t: Turn, draft: FormDraft) -> dict[str, Any]:
    decision_id = int(draft.ref.get("decision", 0))
    decision = decisions.get_for(t.session, t.user, decision_id, t.settings)
    app = t.session.get(Application, decision.application_id)
    company = t.session.get(Company, app.company_id) if app else None
    cycle = cycles.get_cycle(t.session, Month.parse(app.month), t.settings) if app else None
    row = decisions.Row(decision, app, company, cycle, False)  # type: ignore[arg-type]
    return {"r": row, "company": company.name if company else "", "product_name": app.product_name if app else "",
            "department": decision.department, "status": draft.data.get("status"), "amount": draft.data.get("amount"),
            "timing": draft.data.get("timing"), "reason": draft.data.get("reason")}  # fmt: skip


def _save(t: Turn, draft: FormDraft) -> None:
    try:
        _, corrected = decisions.record(
            t.session, t.user, int(draft.ref.get("decision", 0)), str(draft.data.get("status")), t.settings, t.now,
            amount=draft.data.get("amount"), timing=draft.data.get("timing"), reason=draft.data.get("reason"),
            expected_version=draft.ref.get("version"),
        )  # fmt: skip
    except decisions.DecisionChanged as changed:
        # The decision now on record is shown above this person's own; confirming again replaces it on purpose.
        draft.ref = {**draft.ref, "version": changed.version, "changed": True}
        t.session.add(draft)
        FORM.review(t, SPECS[DECISION], form_by_key(DECISION, t.settings), draft, changed)
        return
    except Refused as err:
        if err.code != "decision_unchanged":
            raise
        t.session.delete(draft)
        t.end()
        t.say("decisions/unchanged")
        return
    t.session.delete(draft)
    t.end()
    t.say("decisions/saved", corrected=corrected)


def _confirm_label(draft: FormDraft) -> str:
    return "decision_buttons.confirm_change" if draft.ref.get("changed") else "decision_buttons.confirm"


def _cancelled(t: Turn, draft: FormDraft) -> None:
    t.session.delete(draft)
    t.say("decisions/cancelled")


register(
    FormSpec(
        DECISION, _save, review_template="decisions/confirm",
        confirm_label=_confirm_label,
        cancel_label="decision_buttons.cancel", edit_buttons=False, context=_context, cancelled=_cancelled,
    )
)  # fmt: skip
