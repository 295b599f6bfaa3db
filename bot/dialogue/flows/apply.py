"""The company's own path: the profile (once, consent first), the month's application, its review page and
submission, editing until the window closes, withdrawal, and the "tell me when it opens" notice.

The questions are data (``bot/forms.py``); the form flow walks them. This module says what happens
around them: where /apply leads, and what saving the profile or submitting the application does."""

from __future__ import annotations

from typing import Any

from bot.calendar import Month
from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register
from bot.dialogue.model import Action, Choice, Expect, L
from bot.dialogue.tokens import int_arg
from bot.dialogue.turn import Turn
from bot.errors import Refused, UserError
from bot.forms import APPLICATION, PROFILE, form_by_key
from bot.models import Application, Company, FormDraft
from bot.services import applications, companies, cycles, drafts, privacy, users
from bot.validators import Invalid


class ApplyFlow(Flow):
    name = "apply"

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        if name == "profile":
            self.profile(t)
        else:
            self.begin(t)

    def begin(self, t: Turn, company: Company | None = None) -> None:
        """Where /apply leads: the closed notice, the profile first, the form, or the submitted one."""
        start = applications.start(t.session, t.user, t.settings, t.now, company)
        if start.kind == "closed":
            t.end()
            notify = Choice(L("buttons.notify"), self.act("notify", entry=True))
            t.show("apply/closed", {"next_cycle": start.cycle}, choices=[notify])
            return
        if start.kind == "submitted":
            t.end()
            app = start.application
            assert app is not None
            t.show("apply/already_submitted", {"app": app, "cycle": start.cycle}, choices=self.changes(app.id or 0),
                   columns=2)  # fmt: skip
            return
        draft = start.draft
        assert draft is not None
        form = form_by_key(draft.form, t.settings)
        if not draft.data and draft.current == form.questions[0].field:
            t.say("apply/profile_intro" if start.kind == "profile" else "apply/form_intro", cycle=start.cycle)
        FORM.continue_draft(t, draft)

    def profile(self, t: Turn) -> None:
        draft = companies.start_profile(t.session, t.user, t.now, next_step="end")
        if not draft.data:
            t.say("apply/profile_intro")
        FORM.continue_draft(t, draft)

    def screen_data(self, t: Turn, template: str, kept: dict[str, Any]) -> dict[str, Any] | None:
        """The receipt of an application submitted or edited, as it is now."""
        app = applications.own(t.session, t.user, int(kept.get("application") or 0))
        return None if app is None else _receipt(t, app)

    def changes(self, app_id: int, receipt_no: str = "") -> list[Choice]:
        suffix = f" {receipt_no}" if receipt_no else ""
        return [
            Choice(L("buttons.edit_app", suffix=suffix), self.act("edit", app_id, entry=True)),
            Choice(L("buttons.withdraw_app", suffix=suffix), self.act("wd", app_id, entry=True)),
        ]

    # ---- buttons -------------------------------------------------------------------------------
    def on_action(self, t: Turn, action: Action) -> None:
        app_id = int_arg(action, 0) or 0
        if action.name == "notify":
            added = users.subscribe(t.session, t.user, users.TOPIC_WINDOW_OPEN, t.now)
            status = cycles.window_status(t.session, t.now, t.settings)
            t.say("apply/notify_ok" if added else "apply/notify_already", next_cycle=status.next_cycle)
        elif action.name == "edit":
            try:
                draft = applications.begin_edit(t.session, t.user, app_id, t.settings, t.now)
            except Refused as err:
                t.refuse(err)
                return
            FORM.continue_draft(t, draft)
        elif action.name == "wd":
            self._ask_withdraw(t, app_id)
        elif action.name == "wdy" and t.step == "withdraw":
            self._withdraw(t, int(t.ref.get("app", 0)))
        elif action.name == "wdn" and t.step == "withdraw":
            t.end()
            t.say("apply/withdraw_kept")
        else:
            t.engine.stale(t)

    def resume(self, t: Turn) -> None:
        if t.step == "withdraw":
            self._ask_withdraw(t, int(t.ref.get("app", 0)))
        else:
            super().resume(t)

    def _ask_withdraw(self, t: Turn, app_id: int) -> None:
        rows = applications.list_for_user(t.session, t.user, t.settings, t.now)
        mine = next((r for r in rows if r.application.id == app_id and r.can_change), None)
        if mine is None:
            t.end()
            t.refuse("not_yours")
            return
        t.go(self.name, "withdraw", app=app_id)
        yes = Choice(L("buttons.withdraw_yes"), self.act("wdy"))
        no = Choice(L("buttons.withdraw_no"), self.act("wdn"))
        t.show("apply/withdraw_confirm", {"app": mine.application}, choices=[yes, no], columns=2,
               expects=Expect.CHOICE)  # fmt: skip

    def _withdraw(self, t: Turn, app_id: int) -> None:
        t.end()
        try:
            app = applications.withdraw(t.session, t.user, app_id, t.settings, t.now)
        except Refused as err:
            t.refuse(err)
            return
        cycle = cycles.get_cycle(t.session, Month.parse(app.month), t.settings)
        t.say("apply/withdrawn", app=app, cycle=cycle)


FLOW = ApplyFlow()


def _under_menu(
    t: Turn, template: str, data: dict[str, Any] | None = None, again: tuple[str, dict[str, Any]] | None = None
) -> None:
    """A closing screen with the menu under it, paged as the menu is (its page turn shows this screen again)."""
    t.engine.flows["menu"].under_menu(t, template, data, again=again)  # type: ignore[attr-defined]


# ---- the two forms around the company --------------------------------------------------------------
def _paused(t: Turn, draft: FormDraft) -> None:
    """Stopping the profile or the application keeps every answer for later. Cancelling an edit of a submitted
    application throws the changes away: the application stays as submitted (an edit merely left, for another
    command, is kept and goes on when 「수정」 is pressed again)."""
    if draft.application_id is not None and draft.month:
        cycle = cycles.get_cycle(t.session, Month.parse(draft.month), t.settings)
        t.session.delete(draft)
        _under_menu(t, "apply/edit_cancelled", {"closes_at": cycle.window_closes_at})
        return
    _under_menu(t, "apply/cancelled")


def _consent_refused(t: Turn, draft: FormDraft) -> None:
    privacy.consent_refused(t.session, t.user, t.now)
    has_company = companies.company_of(t.session, t.user) is not None
    _under_menu(t, "apply/consent_refused", {"has_company": has_company})


def _save_profile(t: Turn, draft: FormDraft) -> None:
    then = draft.next_step
    form = form_by_key(PROFILE, t.settings)
    try:
        company = companies.save_profile(t.session, t.user, draft, t.now)
    except Invalid as err:
        if err.code not in ("brn_taken", "brn_fixed"):
            raise
        FORM.show(t, PROFILE_SPEC, form, draft, err, step=drafts.edit(t.session, form, draft, "brn", t.now))
        return
    t.end()
    t.say("apply/profile_saved", company=company)
    if then == "apply":
        FLOW.begin(t, company)


def _window_closed(t: Turn, draft: FormDraft) -> bool:
    """Once the window has closed the form stops at the next answer, not at the submit: the answers are kept
    for the next window, and the person is told when it opens."""
    if not draft.month or cycles.open_by_the_rules(Month.parse(draft.month), t.now, t.settings):
        return False  # no statement at each answer; a window an organizer shortened is refused at the submit
    try:
        applications.open_cycle_for(t.session, draft.month, t.settings, t.now)
    except Refused as err:
        t.end()
        t.refused = True  # the answer is not taken (an upload page must not say "uploaded")
        _under_menu(t, err.template, err.params)
        return True
    return False


def _submit_application(t: Turn, draft: FormDraft) -> None:
    form = form_by_key(APPLICATION, t.settings)
    try:
        app, is_new = applications.submit(t.session, t.user, draft, t.settings, t.now)
    except Refused as err:
        if err.code == "form_incomplete":
            step = drafts.back(t.session, form, draft, t.now) if draft.current is None else None
            FORM.show(t, APPLICATION_SPEC, form, draft, err, step=step)
            return
        if err.code in ("window_closed", "already_applied", "no_profile"):
            t.end()
            _under_menu(t, err.template, err.params)
            return
        raise
    t.end()
    template = "apply/submitted" if is_new else "apply/edited"
    _under_menu(t, template, _receipt(t, app), again=(FLOW.name, {"application": app.id}))


def _receipt(t: Turn, app: Application) -> dict[str, Any]:
    return {"app": app, "cycle": cycles.get_cycle(t.session, Month.parse(app.month), t.settings)}


def _application_context(t: Turn, draft: FormDraft) -> dict[str, Any]:
    cycle = cycles.get_cycle(t.session, Month.parse(draft.month), t.settings) if draft.month else None
    return {"cycle": cycle}


PROFILE_SPEC = register(
    FormSpec(
        PROFILE, _save_profile, confirm_label=lambda d: "buttons.save", cancelled=_paused, refused=_consent_refused,
        db_check=companies.brn_check,
    )
)  # fmt: skip
APPLICATION_SPEC = register(
    FormSpec(
        APPLICATION, _submit_application, cancelled=_paused, review_context=_application_context,
        confirm_label=lambda d: "buttons.save_changes" if d.application_id else "buttons.submit",
        store_file=applications.deck_store, closed=_window_closed,
    )
)  # fmt: skip

__all__ = ["APPLICATION_SPEC", "FLOW", "PROFILE_SPEC", "UserError"]
