"""/selection for organizers: the ranking, the proposed top N and waitlist, moves in and out, feedback,
responsible departments, and the confirmation that releases (or holds) the results."""

from __future__ import annotations

from bot import calendar
from bot.calendar import Month
from bot.dialogue.flow import Flow
from bot.dialogue.flows.form import FLOW as FORM
from bot.dialogue.flows.form import FormSpec, register
from bot.dialogue.model import Action, Choice, Expect, L, T
from bot.dialogue.tokens import int_arg, month_typed, str_arg
from bot.dialogue.turn import Turn
from bot.errors import Refused
from bot.forms import SELECTION_DEPARTMENTS, SELECTION_FEEDBACK, SELECTION_WITHDRAW
from bot.models import Application, Company, FormDraft, Programme, Selection
from bot.services import cycles, decisions, departments, policies, results, selection
from bot.services.review import CRITERIA, Ranked
from bot.services.review import confirmed as is_confirmed


def month_asked(t: Turn, args: tuple[str, ...]) -> str:
    """The month asked for; else this month once its window has closed, else the month before."""
    given = month_typed(args, Month.of(t.now, t.settings.tz))
    if given is not None:
        return str(given)
    month = Month.of(t.now, t.settings.tz)
    cycle = cycles.get_cycle(t.session, month, t.settings)
    return str(month if calendar.phase(cycle, t.now) not in ("upcoming", "open") else month.previous())


def _results(prop: selection.Proposal) -> dict[int, str]:
    if prop.confirmed is not None:  # as confirmed, and changed since by withdrawals and promotions
        decided = prop.confirmed.decided
        return {i: key for key in ("selected", "waitlisted", "not_selected", "withdrawn") for i in decided.get(key, [])}
    out = {r.application.id or 0: "selected" for r in prop.selected}
    out |= {r.application.id or 0: "waitlisted" for r in prop.waitlisted}
    out |= {r.application.id or 0: "not_selected" for r in prop.not_selected}
    return out


def _rank_key(r: Ranked) -> tuple[bool, float, int, object, int]:
    return (r.mean is None, -(r.mean or 0), -r.reviews, r.application.submitted_at, r.application.id or 0)


def _aggregation(t: Turn) -> dict[str, object]:
    """How the ranking's means are taken, for the board to say: the weights, the trimming, the pass marks."""
    s = t.settings
    return {"weights": [{"key": c, "value": w} for c, w in zip(CRITERIA, s.score_weights, strict=True)],
            "trim": s.trim_min_reviews,
            "marks": [{"key": c, "value": m} for c, m in zip(CRITERIA, s.pass_marks, strict=True) if m]}  # fmt: skip


class SelectionFlow(Flow):
    name = "selection"
    policy = staticmethod(policies.organizer)

    def command(self, t: Turn, name: str, args: tuple[str, ...]) -> None:
        # 「선정 확정」 typed (the board's button in words) asks to confirm, as the button does; it was read as
        # a month and refused ("「확정」은 연월로 알아볼 수 없습니다").
        button = t.label("selection_buttons.confirm").casefold()
        words = [a for a in args if a.casefold() in button and not any(c.isdigit() for c in a)]
        if words:
            try:
                self._ask_confirm(t, month_asked(t, tuple(a for a in args if a not in words)))
            except Refused as err:
                t.refuse(err)
            return
        self.board(t, month_asked(t, args))

    def board(self, t: Turn, month: str) -> None:
        prop = selection.board(t.session, t.user, month, t.settings)
        placed = _results(prop)
        ranked = sorted(prop.selected + prop.waitlisted + prop.not_selected, key=_rank_key)
        rows = [{"ranked": r, "result": placed[r.application.id or 0]} for r in ranked]
        choices: list[Choice] = []
        nav: list[Choice] = []
        replaceable = prop.confirmed is not None and selection.replaceable(t.session, month, t.settings, t.now)
        # Before confirmation every application can change; after it, until the programme is published,
        # the selected companies' responsible departments still can.
        open_apps = [r for r in ranked if selection.departments_open(t.session, r.application)]
        if prop.confirmed is None or open_apps:
            choices = [
                Choice(T(f"{i}. {r.application.receipt_no}"), self.act("app", r.application.id, entry=True))
                for i, r in enumerate(ranked, 1) if r in open_apps or prop.confirmed is None
            ]  # fmt: skip
        if prop.confirmed is None and ranked:
            nav = [Choice(L("selection_buttons.confirm"), self.act("ok", month, entry=True))]
        if replaceable:
            # After the results, before the pitch: a selected company may give up its place. The receipt's
            # serial alone keeps the label within KakaoTalk's 14 characters.
            choices += [
                Choice(L("selection_buttons.withdraw", receipt=(r.application.receipt_no or "").rsplit("-", 1)[-1]),
                       self.act("wd", r.application.id, entry=True))
                for r in ranked if placed[r.application.id or 0] == "selected"
            ]  # fmt: skip
        t.go(self.name, "board", month=month)
        data = {"month": month, "rows": rows, "offset": 0, "confirmed": prop.confirmed,
                "withdrawn": self._withdrawn(t, prop),
                "released": bool(prop.confirmed and prop.confirmed.released_at), "replaceable": replaceable,
                "selected_count": len(prop.selected), "waitlist_count": len(prop.waitlisted),
                "aggregation": _aggregation(t)}  # fmt: skip
        columns = 3 if prop.confirmed is None else 1  # "↩ PD-202612-0001 선정 포기" is long
        t.show("selection/board", data, choices=choices, nav=nav, columns=columns, paged="rows")

    @staticmethod
    def _withdrawn(t: Turn, prop: selection.Proposal) -> list[dict[str, object]]:
        """Companies that gave up their place after the results (no longer ranked, still on record)."""
        out = []
        for app_id in (prop.confirmed.decided if prop.confirmed else {}).get("withdrawn", []):
            app = t.session.get(Application, app_id)
            if app is not None:
                out.append({"app": app, "company": t.session.get(Company, app.company_id)})
        return out

    def application(self, t: Turn, app_id: int) -> None:
        app = t.session.get(Application, app_id)
        if app is None:
            t.refuse("not_found")
            return
        company = t.session.get(Company, app.company_id)
        prop = selection.board(t.session, t.user, app.month, t.settings)
        result = _results(prop).get(app_id, "not_selected")
        ranked = next((r for r in prop.selected + prop.waitlisted + prop.not_selected if r.application.id == app_id),
                      None)  # fmt: skip
        b = "selection_buttons"
        confirmed = t.session.get(Selection, app.month) is not None
        choices = [] if confirmed else [
            Choice(L(f"{b}.in"), self.act("place", app_id, "in", entry=True)),
            Choice(L(f"{b}.out"), self.act("place", app_id, "out", entry=True)),
            Choice(L(f"{b}.auto"), self.act("place", app_id, "auto", entry=True)),
            Choice(L(f"{b}.feedback"), self.act("feedback", app_id, entry=True)),
        ]  # fmt: skip
        if selection.departments_open(t.session, app):
            choices.append(Choice(L(f"{b}.departments"), self.act("departments", app_id, entry=True)))
        back = [Choice(L(f"{b}.board"), self.act("board", app.month, entry=True))]
        t.go(self.name, "app", app=app_id)
        data = {"app": app, "company": company, "result": result, "confirmed": confirmed, "ranked": ranked,
                "aggregation": _aggregation(t), "wished": departments.names(t.session, app.department_ids),
                "responsible": departments.names(t.session, decisions.responsible(app))}  # fmt: skip
        t.show("selection/app", data, choices=choices, nav=back, columns=3)

    def on_action(self, t: Turn, action: Action) -> None:
        app_id = int_arg(action, 0) or 0
        try:
            if action.name == "board":
                self.board(t, month_asked(t, (str_arg(action, 0) or "",)))
            elif action.name == "app":
                self.application(t, app_id)
            elif action.name == "place":
                placement = str_arg(action, 1)
                app = selection.place(t.session, t.user, app_id, None if placement == "auto" else placement,
                                      t.settings, t.now)  # fmt: skip
                self.board(t, app.month)
            elif action.name == "feedback":
                app = selection.open_application(t.session, t.user, app_id, t.settings)
                FORM.open(t, SELECTION_FEEDBACK, ref={"app": app.id})
            elif action.name == "departments":
                app = selection.application_for_departments(t.session, t.user, app_id, t.settings)
                now = [str(i) for i in decisions.responsible(app)]
                FORM.open(t, SELECTION_DEPARTMENTS, ref={"app": app.id}, pending={"responsible_departments": now})
            elif action.name == "wd":
                app = selection.withdrawable(t.session, t.user, app_id, t.settings, t.now)
                FORM.open(t, SELECTION_WITHDRAW, ref={"app": app.id})
            elif action.name == "ok":
                self._ask_confirm(t, month_asked(t, (str_arg(action, 0) or "",)))
            elif action.name == "y" and t.step == "confirm":
                self._confirm(t, str(t.ref.get("month")))
            else:
                t.engine.stale(t)
        except Refused as err:
            t.refuse(err)

    def resume(self, t: Turn) -> None:
        if t.step == "app":
            self.application(t, int(t.ref.get("app", 0)))
        elif t.step == "confirm":
            self._ask_confirm(t, str(t.ref.get("month")))
        else:
            self.board(t, str(t.ref.get("month") or month_asked(t, ())))

    def _ask_confirm(self, t: Turn, month: str) -> None:
        if is_confirmed(t.session, month):  # an older board's button: it asked as if nothing had happened
            t.notice(Refused("selection_confirmed"))
            self.board(t, month)
            return
        prop = selection.board(t.session, t.user, month, t.settings)
        selection.require_reasons(prop)  # said before the question, and again when confirming
        unscored = selection.require_reviews_in(t.session, month, t.settings, t.now)
        cycle = cycles.get_cycle(t.session, Month.parse(month), t.settings)
        release_at = max(t.now, cycle.selection_at)
        t.go(self.name, "confirm", month=month, shown=selection.decided_of(prop))
        yes = Choice(L("selection_buttons.confirm_yes"), self.act("y"))
        no = Choice(L("buttons.withdraw_no"), self.act("board", month, entry=True))
        missing = selection.without_official(t.session, [r.application for r in prop.selected])
        data = {"month": month, "selected": len(prop.selected), "waitlisted": len(prop.waitlisted),
                "not_selected": len(prop.not_selected), "held": release_at > t.now, "release_at": release_at,
                "unstaffed": [d.name for d in missing], "unscored": unscored}  # fmt: skip
        t.show("selection/confirm_ask", data, choices=[yes, no], columns=2, expects=Expect.CHOICE)

    def _confirm(self, t: Turn, month: str) -> None:
        try:
            confirmed = selection.confirm(t.session, t.user, month, t.settings, t.now, shown=t.ref.get("shown"))
        except Refused as err:
            if err.code != "selection_changed":
                raise
            t.notice(err)  # confirming it would have confirmed what the question did not show
            self._ask_confirm(t, month)
            return
        t.end()
        sent = sum(len(confirmed.decided.get(k, [])) for k in ("selected", "waitlisted", "not_selected"))
        t.say("selection/confirmed", month=month, held=confirmed.release_at > t.now,
              release_at=confirmed.release_at, sent=sent,
              unstaffed=[d.name for d in selection.unstaffed(t.session, month)])  # fmt: skip


FLOW = SelectionFlow()


def _save(what: str):  # type: ignore[no-untyped-def]
    def save(t: Turn, draft: FormDraft) -> None:
        app_id = int(draft.ref.get("app", 0))
        if what == "feedback":
            selection.set_feedback(t.session, t.user, app_id, str(draft.data.get(what, "")), t.settings, t.now)
            t.session.delete(draft)
            t.say("selection/saved")
        else:
            ids = [int(i) for i in draft.data.get(what) or []]
            app = selection.set_departments(t.session, t.user, app_id, ids, t.settings, t.now)
            t.session.delete(draft)
            missing = departments.without_official(t.session, decisions.responsible(app))
            t.say("selection/saved", unstaffed=[d.name for d in missing])
        FLOW.application(t, app_id)

    return save


def _cancelled(t: Turn, draft: FormDraft) -> None:
    t.session.delete(draft)
    t.say("menu/input_cancelled")
    FLOW.application(t, int(draft.ref.get("app", 0)))


def _context(t: Turn, draft: FormDraft) -> dict[str, object]:
    app_id = int(draft.ref.get("app", 0))
    # The reviewers' comments, in no one's name, are what the committee's opinion is written from.
    comments = results.comments_for(t.session, app_id) if draft.form == SELECTION_FEEDBACK else []
    return {"app": t.session.get(Application, app_id), "comments": comments}


register(FormSpec(SELECTION_FEEDBACK, _save("feedback"), review=False, cancelled=_cancelled, context=_context))
register(
    FormSpec(
        SELECTION_DEPARTMENTS, _save("responsible_departments"), review=False, cancelled=_cancelled, context=_context
    )
)


def _withdraw(t: Turn, draft: FormDraft) -> None:
    app_id = int(draft.ref.get("app", 0))
    # Refused if the waitlist changed since the confirmation named who takes the place (an appeal, another
    # organizer): the confirmation is shown again, as things stand now.
    named = (draft.ref["named"],) if "named" in draft.ref else None
    try:
        done = selection.withdraw_and_promote(t.session, t.user, app_id, str(draft.data.get("reason", "")),
                                              t.settings, t.now, named=named)  # fmt: skip
    except Refused as err:
        if err.code != "not_selected_now":
            raise
        # Another organizer did it first: nothing here can be confirmed any more (it was offered again).
        app = t.session.get(Application, app_id)
        t.session.delete(draft)
        t.end()
        t.notice(err)
        FLOW.board(t, app.month if app is not None else month_asked(t, ()))
        return
    t.session.delete(draft)
    t.say("selection/withdrawn", withdrawn=done.withdrawn, promoted=done.promoted, messages=done.messages)
    FLOW.board(t, done.withdrawn.month)


def _withdraw_context(t: Turn, draft: FormDraft) -> dict[str, object]:
    """Who gives up, and who would take the place: the confirmation names both."""
    app = t.session.get(Application, int(draft.ref.get("app", 0)))
    if app is None:
        return {"app": None, "company": None}
    waiting = selection.next_waitlisted(t.session, app.month)
    draft.ref = {**draft.ref, "named": waiting[1].id if waiting else None}  # what the organizer is shown
    t.session.add(draft)
    promoted = None
    if waiting is not None:
        position, nxt = waiting
        promoted = {"position": position, "app": nxt, "company": t.session.get(Company, nxt.company_id),
                    "others": len(selection.waiting(t.session, app.month)) - 1}  # fmt: skip
    shown = t.session.get(Programme, app.month)
    return {"app": app, "company": t.session.get(Company, app.company_id), "promoted": promoted,
            "reason": draft.data.get("reason", ""), "published": bool(shown and shown.version)}  # fmt: skip


def _withdraw_cancelled(t: Turn, draft: FormDraft) -> None:
    t.session.delete(draft)
    t.say("menu/input_cancelled")
    app = t.session.get(Application, int(draft.ref.get("app", 0)))
    FLOW.board(t, app.month if app else month_asked(t, ()))


register(
    FormSpec(
        SELECTION_WITHDRAW, _withdraw, review_template="selection/withdraw_confirm",
        confirm_label=lambda d: "selection_buttons.withdraw_yes", edit_buttons=False, context=_withdraw_context,
        cancelled=_withdraw_cancelled,
    )
)  # fmt: skip
