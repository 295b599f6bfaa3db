"""/decisions: officials record their department's purchase decisions (buy, not buying, more review),
with a confirmation step; organizers see the status board and may record too."""

from __future__ import annotations

import enum
import warnings

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.calendar import Month
from bot.errors import Refused
from bot.models import Application, Company, DecisionStatus, PurchaseDecision, Role
from bot.services import cycles, decisions, drafts, programme, users
from handlers.common import (
    Keyboard,
    Who,
    app_ctx,
    callback_parts,
    held_input,
    keep_input,
    refuse,
    render,
    reply,
    settle_query,
    who,
)

END = ConversationHandler.END
HELD = "decision"


class S(enum.IntEnum):
    CHOOSE = 1
    AMOUNT = 2
    TIMING = 3
    REASON = 4
    CONFIRM = 5


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    now = ctx.clock.now()
    with ctx.db.session() as session:
        departments = decisions.official_departments(session, w.user)
        organizer = users.has_role(session, w.user, Role.ORGANIZER, ctx.settings)
        if departments:
            rows = decisions.for_official(session, w.user, ctx.settings, now)
            names = sorted({r.decision.department for r in rows})
            html = render(context, w.lang, "decisions/list", rows=rows, departments=", ".join(names))
        elif organizer:
            month = (context.args[0] if context.args else None) or programme.month_with_selection(session, now) or ""
            rows = decisions.board(session, month, ctx.settings, now)
            decided = sum(r.decision.status != DecisionStatus.OPEN for r in rows)
            overdue = sum(r.overdue for r in rows)
            html = render(context, w.lang, "decisions/board", month=month, rows=rows, decided=decided,
                          open=len(rows) - decided - overdue, overdue=overdue)  # fmt: skip
        else:
            await refuse(update, context, w)
            return
    buttons: Keyboard = [
        [(f"{r.company.name[:20]} / {r.decision.department[:20]}", f"dc:o:{r.decision.id}")]
        for r in rows
        if not r.overdue and now <= r.cycle.decision_deadline_at
    ]
    await reply(update, context, html, buttons)


def _row(context: ContextTypes.DEFAULT_TYPE, w: Who, decision_id: int) -> decisions.Row:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        decision = decisions.get_for(session, w.user, decision_id, ctx.settings)
        app = session.get(Application, decision.application_id)
        assert app is not None
        company = session.get(Company, app.company_id)
        assert company is not None
        cycle = cycles.get_cycle(session, Month.parse(app.month), ctx.settings)
    return decisions.Row(decision, app, company, cycle, False)


async def open_decision(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    try:
        row = _row(context, w, int(parts[2]))
    except (Refused, IndexError, ValueError) as err:
        await refuse(update, context, w, err if isinstance(err, Refused) else None)
        return END
    with ctx.db.session() as session:
        drafts.hold_input(session, w.user.id or 0, HELD, {"id": row.decision.id}, ctx.clock.now())
    label = ctx.texts.label
    b = "decision_buttons"
    buttons: Keyboard = [
        [(label(w.lang, f"{b}.buy"), "dc:c:buy"), (label(w.lang, f"{b}.no_buy"), "dc:c:no_buy"),
         (label(w.lang, f"{b}.review"), "dc:c:review")],
        [(label(w.lang, f"{b}.cancel"), "dc:x")],
    ]  # fmt: skip
    await reply(update, context, render(context, w.lang, "decisions/choose", r=row), buttons)
    return S.CHOOSE


async def _ask(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, key: str, skippable: bool) -> None:
    label = app_ctx(context).texts.label
    buttons: Keyboard = [[(label(w.lang, "decision_buttons.skip"), "dc:skip")]] if skippable else []
    buttons.append([(label(w.lang, "decision_buttons.cancel"), "dc:x")])
    await reply(update, context, render(context, w.lang, key), buttons)


async def on_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    w = who(update, context)
    held = held_input(context, w, HELD)
    parts = callback_parts(update)
    if held is None or len(parts) != 3 or parts[2] not in {c.value for c in decisions.CHOICES}:
        await refuse(update, context, w)
        return END
    keep_input(context, w, HELD, {"id": held["id"], "status": parts[2]})
    if parts[2] == DecisionStatus.BUY:
        await _ask(update, context, w, "decisions/amount_ask", skippable=True)
        return S.AMOUNT
    await _ask(update, context, w, "decisions/reason_ask", skippable=False)
    return S.REASON


def _text(update: Update) -> str | None:
    if update.callback_query is not None:  # "skip"
        return None
    return (update.effective_message.text if update.effective_message else "") or None


async def on_amount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    w = who(update, context)
    held = held_input(context, w, HELD) or {}
    keep_input(context, w, HELD, {**held, "amount": _text(update)})
    await _ask(update, context, w, "decisions/timing_ask", skippable=True)
    return S.TIMING


async def on_timing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    w = who(update, context)
    held = {**(held_input(context, w, HELD) or {}), "timing": _text(update)}
    keep_input(context, w, HELD, held)
    return await _confirm(update, context, w, held)


async def on_reason(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    w = who(update, context)
    reason = (_text(update) or "").strip()
    if not reason:
        await refuse(update, context, w, Refused("reason_required"))
        return S.REASON
    held = {**(held_input(context, w, HELD) or {}), "reason": reason}
    keep_input(context, w, HELD, held)
    return await _confirm(update, context, w, held)


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, held: dict[str, object]) -> int:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        decision = session.get(PurchaseDecision, int(held["id"]))  # type: ignore[arg-type]
        if decision is None:
            return END
        app = session.get(Application, decision.application_id)
        company = session.get(Company, app.company_id) if app else None
    label = ctx.texts.label
    buttons: Keyboard = [
        [(label(w.lang, "decision_buttons.confirm"), "dc:y"), (label(w.lang, "decision_buttons.cancel"), "dc:x")]
    ]
    html = render(
        context, w.lang, "decisions/confirm", company=company.name if company else "",
        product_name=app.product_name if app else "", department=decision.department, status=held["status"],
        amount=held.get("amount"), timing=held.get("timing"), reason=held.get("reason"),
    )  # fmt: skip
    await reply(update, context, html, buttons)
    return S.CONFIRM


async def on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    with ctx.db.session() as session:
        held = drafts.take_input(session, w.user.id or 0, HELD)
        if held is None or "status" not in held:
            await refuse(update, context, w)
            return END
        try:
            _, corrected = decisions.record(
                session, w.user, int(held["id"]), str(held["status"]), ctx.settings, ctx.clock.now(),
                amount=held.get("amount"), timing=held.get("timing"), reason=held.get("reason"),
            )  # fmt: skip
        except Refused as err:
            await refuse(update, context, w, err)
            return END
    dispatcher = context.application.bot_data.get("dispatcher")
    if dispatcher is not None:
        dispatcher.wake()
    await reply(update, context, render(context, w.lang, "decisions/saved", corrected=corrected))
    return END


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    with ctx.db.session() as session:
        drafts.take_input(session, w.user.id or 0, HELD)
    await reply(update, context, render(context, w.lang, "decisions/cancelled"))
    return END


async def expected_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    w = who(update, context)
    await reply(update, context, render(context, w.lang, "errors/expected_button"))


def handlers() -> list[object]:
    text = filters.TEXT & ~filters.COMMAND
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        flow = ConversationHandler(
            entry_points=[CallbackQueryHandler(open_decision, pattern=r"^dc:o:\d+$")],
            states={
                S.CHOOSE: [CallbackQueryHandler(on_choice, pattern=r"^dc:c:"), MessageHandler(text, expected_button)],
                S.AMOUNT: [MessageHandler(text, on_amount), CallbackQueryHandler(on_amount, pattern=r"^dc:skip$")],
                S.TIMING: [MessageHandler(text, on_timing), CallbackQueryHandler(on_timing, pattern=r"^dc:skip$")],
                S.REASON: [MessageHandler(text, on_reason)],
                S.CONFIRM: [CallbackQueryHandler(on_confirm, pattern=r"^dc:y$"), MessageHandler(text, expected_button)],
            },
            fallbacks=[CommandHandler("cancel", cancel), CallbackQueryHandler(cancel, pattern=r"^dc:x$")],
            name="decision",
            persistent=True,
            allow_reentry=True,
        )
    return [flow, CommandHandler("decisions", show)]
