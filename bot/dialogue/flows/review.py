"""/review for the expert committee: the assigned applications, a card per application with its pitch deck,
the score form (혁신성, 안전성, 시정 적용가능성, 경제성 on a labelled 1–5 scale, and a comment), or a
declared conflict of interest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from bot.calendar import Month
from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register
from bot.dialogue.model import Action, Attachment, Choice, Expect, L, T, stored_pdf
from bot.dialogue.tokens import int_arg
from bot.dialogue.turn import Turn
from bot.display import review_rows
from bot.errors import Refused
from bot.forms import AFFILIATION, CRITERIA, PLEDGE, REVIEW, application_form
from bot.models import Application, FormDraft, Review
from bot.services import applications, cycles, departments, drafts, pledge, policies, review


class ReviewFlow(Flow):
    name = "review"
    policy = staticmethod(policies.reviewer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        if self._pledged(t):
            self.listing(t)

    @staticmethod
    def _pledged(t: Turn) -> bool:
        """No application opens before the conflict-of-interest pledge: without it, the pledge is asked
        (saying why), and accepting it goes on to the list."""
        if pledge.accepted(t.session, t.user):
            return True
        FORM.open(t, PLEDGE, ref={"then": "review"})
        return False

    def listing(self, t: Turn) -> None:
        mine = review.my_reviews(t.session, t.user, t.settings)
        if not mine:
            t.end()
            t.say("review/empty")
            return
        month = mine[0].application.month
        mine = [m for m in mine if m.application.month == month]
        cycle = cycles.get_cycle(t.session, Month.parse(month), t.settings)
        t.go(self.name, "list")
        # Numbered in the text and on the buttons alike: on KakaoTalk a quick reply shows only its first
        # characters, and typing 「2」 opens the second.
        choices = [
            Choice(T(f"{i}. {t.label('review_buttons.done' if m.complete else 'review_buttons.todo')} "
                     f"{m.application.receipt_no} {m.application.product_name[:30]}"),
                   self.act("open", m.review.id, entry=True))
            for i, m in enumerate(mine, 1)
        ]  # fmt: skip
        unsaved = self._unsaved(t, drafts.get_draft(t.session, t.user.id or 0, REVIEW))  # typed, not saved yet
        data = {"month": month, "mine": mine, "done": sum(m.complete for m in mine), "total": len(mine),
                "unsaved": unsaved[0].id if unsaved is not None else None,
                "deadline": review.review_deadline(cycle, t.settings),
                "late": t.now > review.review_deadline(cycle, t.settings),
                "confirmed": review.confirmed(t.session, month)}  # fmt: skip
        t.show("review/list", data, choices=choices, paged="mine")

    def card(self, t: Turn, review_id: int, with_deck: bool = True) -> None:
        try:
            rv, app = review.get_own(t.session, t.user, review_id, t.settings)
        except Refused as err:
            t.end()
            t.refuse(err)
            return
        confirmed = review.confirmed(t.session, app.month)
        form = application_form(t.settings)
        answers = {f: v for f, v in applications.answers(app).items() if f != "deck"}
        sources = departments.form_sources(t.session, form)
        rows = [r for r in review_rows(t.texts, t.lang, form, answers, None, sources) if r["field"] != "deck"]
        criteria = [{"key": c, "value": getattr(rv, c)} for c in CRITERIA]
        choices: list[Choice] = []
        if not confirmed:
            choices = [
                Choice(L("review_buttons.score"), self.act("score", rv.id, entry=True)),
                Choice(L("review_buttons.conflict"), self.act("conflict", rv.id, entry=True)),
            ]
        choices.append(Choice(L("review_buttons.list"), self.act("list", entry=True)))
        deck = _deck(app) if with_deck else []
        t.go(self.name, "card", review=rv.id)
        t.show("review/card", {"app": app, "rows": rows, "criteria": criteria, "comment": rv.comment,
                               "confirmed": confirmed}, choices=choices, columns=2, attachments=deck)  # fmt: skip

    def on_action(self, t: Turn, action: Action) -> None:
        review_id = int_arg(action, 0) or 0
        if not self._pledged(t):
            return
        if action.name == "list":
            self.listing(t)
        elif action.name == "open":
            self.card(t, review_id)
        elif action.name == "score":
            self._score(t, review_id)
        elif action.name == "sd" and t.step == "switch":  # the other application's unsaved scores let go
            self._score(t, review_id, discard=True)
        elif action.name == "conflict":
            self._ask_conflict(t, review_id)
        elif action.name == "cy" and t.step == "conflict":
            self._conflict(t, int(t.ref.get("review", 0)))
        elif action.name == "cn" and t.step == "conflict":
            self.card(t, int(t.ref.get("review", 0)), with_deck=False)
        else:
            t.engine.stale(t)

    def resume(self, t: Turn) -> None:
        if t.step == "card":
            self.card(t, int(t.ref.get("review", 0)), with_deck=False)
        elif t.step == "conflict":
            self._ask_conflict(t, int(t.ref.get("review", 0)))
        elif t.step == "switch":
            self._score(t, int(t.ref.get("review", 0)))
        else:
            self.listing(t)

    def _changeable(self, t: Turn, review_id: int) -> tuple[Review, Application] | None:
        """The reviewer's own review while scores may still change; else the refusal is shown."""
        try:
            rv, app = review.get_own(t.session, t.user, review_id, t.settings)
            if review.confirmed(t.session, app.month):
                raise Refused("selection_confirmed")
        except Refused as err:
            t.refuse(err)
            return None
        return rv, app

    def _score(self, t: Turn, review_id: int, discard: bool = False) -> None:
        found = self._changeable(t, review_id)
        if found is None:
            return
        rv = found[0]
        left = drafts.get_draft(t.session, t.user.id or 0, REVIEW)
        if left is not None and left.ref.get("review") == rv.id:
            FORM.continue_draft(t, left)  # scores typed and not saved yet, where the reviewer left them
            return
        other = self._unsaved(t, left)
        if other is not None and not discard:
            # One draft of scores at a time: starting another application's threw this one away unsaid.
            t.go(self.name, "switch", review=rv.id)
            on = Choice(L("review_buttons.unsaved_continue"), self.act("score", other[0].id or 0, entry=True))
            drop = Choice(L("review_buttons.unsaved_discard"), self.act("sd", rv.id))
            t.show("review/unsaved_elsewhere", {"app": other[1], "new": found[1]}, choices=[on, drop], columns=1,
                   expects=Expect.CHOICE)  # fmt: skip
            return
        given = {c: str(getattr(rv, c)) for c in CRITERIA if getattr(rv, c) is not None}
        if rv.comment:
            given["comment"] = rv.comment
        FORM.open(t, REVIEW, data=given, ref={"review": rv.id}, reviewing=review.is_complete(rv))

    @staticmethod
    def _unsaved(t: Turn, left: FormDraft | None) -> tuple[Review, Application] | None:
        """The review whose scores the reviewer typed and did not save (not merely opened), if any."""
        rv = t.session.get(Review, int(left.ref.get("review", 0))) if left is not None else None
        if left is None or rv is None or rv.reviewer_user_id != t.user.id or review.confirmed(
            t.session, t.session.get(Application, rv.application_id).month  # type: ignore[union-attr]
        ):  # fmt: skip
            return None
        saved = {c: str(getattr(rv, c)) for c in CRITERIA if getattr(rv, c) is not None}
        if rv.comment:
            saved["comment"] = rv.comment
        typed = {k: str(v) for k, v in left.data.items() if v not in (None, "")}
        app = t.session.get(Application, rv.application_id)
        return (rv, app) if typed != saved and app is not None else None

    def _ask_conflict(self, t: Turn, review_id: int) -> None:
        found = self._changeable(t, review_id)
        if found is None:
            return
        rv, app = found
        t.go(self.name, "conflict", review=rv.id)
        yes = Choice(L("review_buttons.conflict_yes"), self.act("cy"))
        no = Choice(L("buttons.withdraw_no"), self.act("cn"))
        t.show("review/conflict_ask", {"app": app}, choices=[yes, no], columns=2, expects=Expect.CHOICE)

    def _conflict(self, t: Turn, review_id: int) -> None:
        try:
            rv = review.declare_conflict(t.session, t.user, review_id, t.settings, t.now)
        except Refused as err:
            t.refuse(err)
            return
        t.end()
        t.say("review/conflict_done", app=t.session.get(Application, rv.application_id))


FLOW = ReviewFlow()


def _deck(app: Application) -> list[Attachment]:
    return stored_pdf(app.deck_file_name or "deck.pdf", app.deck_path, app.deck_file_id)


def _context(t: Turn, draft: FormDraft) -> dict[str, Any]:
    rv = t.session.get(Review, int(draft.ref.get("review", 0)))
    app = t.session.get(Application, rv.application_id) if rv else None
    return {"app": app}


def _save(t: Turn, draft: FormDraft) -> None:
    review_id = int(draft.ref.get("review", 0))
    scores = {c: int(draft.data[c]) for c in CRITERIA if draft.data.get(c) is not None}
    review.record(t.session, t.user, review_id, scores, draft.data.get("comment"), t.settings, t.now)
    t.session.delete(draft)
    t.say("review/saved")
    FLOW.card(t, review_id, with_deck=False)


def _cancelled(t: Turn, draft: FormDraft) -> None:
    review_id = int(draft.ref.get("review", 0))
    t.session.delete(draft)
    t.say("menu/input_cancelled")
    FLOW.card(t, review_id, with_deck=False)


def _no_longer_scorable(t: Turn, draft: FormDraft) -> bool:
    """The review may no longer be scored (an organizer took the role back midway): said once, the form and its
    typed scores dropped. Each answer failed with "internal error, your answers are saved" instead."""
    try:
        review.require_scorable(t.session, t.user, int(draft.ref.get("review", 0)), t.settings)
    except Refused as err:
        t.session.delete(draft)
        t.end()
        t.refuse(Refused("review_closed", reason=err.code, contact=t.settings.organizer_contact))
        return True
    return False


SPEC = register(FormSpec(REVIEW, _save, context=_context, cancelled=_cancelled, closed=_no_longer_scorable,
                         confirm_label=lambda d: "buttons.save"))  # fmt: skip


def _then(t: Turn, draft: FormDraft) -> None:
    """After the pledge's answer: the affiliation question of someone joining, or the list of /review."""
    if draft.ref.get("then") == AFFILIATION:
        FORM.open(t, AFFILIATION)
    elif pledge.accepted(t.session, t.user):
        FLOW.listing(t)


def _pledge_accepted(t: Turn, draft: FormDraft) -> None:
    pledge.accept(t.session, t.user, t.now)
    t.session.delete(draft)
    t.say("review/pledge_accepted", version=pledge.VERSION)
    _then(t, draft)


def _pledge_declined(t: Turn, draft: FormDraft) -> None:
    """Declined (or left): nothing is recorded but that; /review asks again."""
    if not inspect(draft).was_deleted:  # a declined consent question has already dropped it
        t.session.delete(draft)
    pledge.declined(t.session, t.user, t.now)
    t.say("review/pledge_declined")
    _then(t, draft)


register(FormSpec(PLEDGE, _pledge_accepted, review=False, refused=_pledge_declined, cancelled=_pledge_declined,
                  context=lambda t, d: {"needed": d.ref.get("then") != AFFILIATION}))  # fmt: skip
