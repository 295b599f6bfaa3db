"""/selection for organizers: the ranking, the proposed top N and waitlist, moves in and out, feedback,
responsible departments, and the confirmation that releases (or holds) the results."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
)

from bot import calendar
from bot.calendar import Month
from bot.errors import Refused
from bot.models import Application, Company, Role
from bot.services import cycles, drafts, selection
from handlers import text_input as text_input_conv
from handlers.common import Keyboard, Who, app_ctx, callback_parts, has_role, refuse, render, reply, settle_query, who

END = ConversationHandler.END
TEXT_INPUT = "selection_text"


def _default_month(context: ContextTypes.DEFAULT_TYPE) -> str:
    """This month once its window has closed, else the month before."""
    ctx = app_ctx(context)
    now = ctx.clock.now()
    month = Month.of(now, ctx.settings.tz)
    with ctx.db.session() as session:
        cycle = cycles.get_cycle(session, month, ctx.settings)
    return str(month if calendar.phase(cycle, now) not in ("upcoming", "open") else month.previous())


def _results(prop: selection.Proposal) -> dict[int, str]:
    out = {r.application.id: "selected" for r in prop.selected}
    out |= {r.application.id: "waitlisted" for r in prop.waitlisted}
    out |= {r.application.id: "not_selected" for r in prop.not_selected}
    return out  # type: ignore[return-value]


async def _board(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, month: str) -> None:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        prop = selection.proposal(session, month, ctx.settings)
    results = _results(prop)
    ranked = sorted(prop.selected + prop.waitlisted + prop.not_selected, key=lambda r: _rank_key(r))
    rows = [{"ranked": r, "result": results[r.application.id or 0]} for r in ranked]
    label = ctx.texts.label
    buttons: Keyboard = []
    if prop.confirmed is None:
        apps = [(f"{i}. {r.application.receipt_no}", f"sl:a:{r.application.id}") for i, r in enumerate(ranked, 1)]
        buttons = [apps[i : i + 3] for i in range(0, len(apps), 3)]
        if ranked:
            buttons.append([(label(w.lang, "selection_buttons.confirm"), f"sl:ok:{month}")])
    html = render(
        context, w.lang, "selection/board", month=month, rows=rows, confirmed=prop.confirmed,
        released=bool(prop.confirmed and prop.confirmed.released_at), selected_count=len(prop.selected),
        waitlist_count=len(prop.waitlisted),
    )  # fmt: skip
    await reply(update, context, html, buttons)


def _rank_key(r: object) -> tuple[bool, float, int, object, int]:
    from bot.services.review import Ranked

    assert isinstance(r, Ranked)
    return (r.mean is None, -(r.mean or 0), -r.reviews, r.application.submitted_at, r.application.id or 0)


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    w = who(update, context)
    if not has_role(context, w, Role.ORGANIZER):
        await refuse(update, context, w)
        return
    month = context.args[0] if context.args else _default_month(context)
    try:
        Month.parse(month)
    except ValueError:
        month = _default_month(context)
    await _board(update, context, w, month)


async def on_board(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    w = who(update, context)
    parts = callback_parts(update)
    if not has_role(context, w, Role.ORGANIZER) or len(parts) != 3:
        await refuse(update, context, w)
        return
    await _board(update, context, w, parts[2])


def _app(context: ContextTypes.DEFAULT_TYPE, app_id: int) -> tuple[Application, Company, str] | None:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        app = session.get(Application, app_id)
        if app is None:
            return None
        company = session.get(Company, app.company_id)
        assert company is not None
        prop = selection.proposal(session, app.month, ctx.settings)
    return app, company, _results(prop).get(app_id, "not_selected")


async def _show_app(update: Update, context: ContextTypes.DEFAULT_TYPE, w: Who, app_id: int) -> None:
    found = _app(context, app_id)
    if found is None:
        await refuse(update, context, w, "not_found")
        return
    app, company, result = found
    label = app_ctx(context).texts.label
    b = "selection_buttons"
    rows: Keyboard = [
        [(label(w.lang, f"{b}.in"), f"sl:p:{app.id}:in"), (label(w.lang, f"{b}.out"), f"sl:p:{app.id}:out"),
         (label(w.lang, f"{b}.auto"), f"sl:p:{app.id}:auto")],
        [(label(w.lang, f"{b}.feedback"), f"sl:f:{app.id}"), (label(w.lang, f"{b}.departments"), f"sl:d:{app.id}")],
        [(label(w.lang, f"{b}.board"), f"sl:b:{app.month}")],
    ]  # fmt: skip
    await reply(
        update, context, render(context, w.lang, "selection/app", app=app, company=company, result=result), rows
    )


async def on_app(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    w = who(update, context)
    parts = callback_parts(update)
    if not has_role(context, w, Role.ORGANIZER) or len(parts) != 3 or not parts[2].isdigit():
        await refuse(update, context, w)
        return
    await _show_app(update, context, w, int(parts[2]))


async def on_place(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    try:
        placement = None if parts[3] == "auto" else parts[3]
        with ctx.db.session() as session:
            app = selection.place(session, w.user, int(parts[2]), placement, ctx.settings, ctx.clock.now())
    except (Refused, IndexError, ValueError) as err:
        await refuse(update, context, w, err.code if isinstance(err, Refused) else "not_allowed")
        return
    await _board(update, context, w, app.month)


async def ask_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    found = _app(context, int(parts[2])) if len(parts) == 3 and parts[2].isdigit() else None
    if not has_role(context, w, Role.ORGANIZER) or found is None:
        await refuse(update, context, w)
        return END
    what = "feedback" if parts[1] == "f" else "departments"
    with ctx.db.session() as session:
        drafts.hold_input(session, w.user.id or 0, TEXT_INPUT, {"app_id": found[0].id, "what": what}, ctx.clock.now())
    await reply(update, context, render(context, w.lang, f"selection/{what}_ask", app=found[0]))
    return text_input_conv.WAITING


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    ctx = app_ctx(context)
    w = who(update, context)
    text = update.effective_message.text if update.effective_message else ""
    with ctx.db.session() as session:
        pending = drafts.take_input(session, w.user.id or 0, TEXT_INPUT)
        if pending is None:
            return END
        save = selection.set_feedback if pending["what"] == "feedback" else selection.set_departments
        try:
            save(session, w.user, int(pending["app_id"]), text or "", ctx.settings, ctx.clock.now())
        except Refused as err:
            await refuse(update, context, w, err.code)
            return END
    await reply(update, context, render(context, w.lang, "selection/saved"))
    await _show_app(update, context, w, int(pending["app_id"]))
    return END


async def ask_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    if not has_role(context, w, Role.ORGANIZER) or len(parts) != 3:
        await refuse(update, context, w)
        return
    month = parts[2]
    with ctx.db.session() as session:
        prop = selection.proposal(session, month, ctx.settings)
        cycle = cycles.get_cycle(session, Month.parse(month), ctx.settings)
    release_at = max(ctx.clock.now(), cycle.selection_at)
    label = ctx.texts.label
    rows = [[(label(w.lang, "selection_buttons.confirm_yes"), f"sl:y:{month}"),
             (label(w.lang, "buttons.withdraw_no"), f"sl:b:{month}")]]  # fmt: skip
    html = render(
        context, w.lang, "selection/confirm_ask", month=month, selected=len(prop.selected),
        waitlisted=len(prop.waitlisted), not_selected=len(prop.not_selected), held=release_at > ctx.clock.now(),
        release_at=release_at,
    )  # fmt: skip
    await reply(update, context, html, rows)


async def on_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    parts = callback_parts(update)
    now = ctx.clock.now()
    try:
        with ctx.db.session() as session:
            confirmed = selection.confirm(session, w.user, parts[2], ctx.settings, now)
            sent = (
                len(confirmed.decided.get("selected", []))
                + len(confirmed.decided.get("waitlisted", []))
                + len(confirmed.decided.get("not_selected", []))
            )
    except (Refused, IndexError) as err:
        await refuse(update, context, w, err.code if isinstance(err, Refused) else "not_allowed")
        return
    dispatcher = context.application.bot_data.get("dispatcher")
    if dispatcher is not None:
        dispatcher.wake()
    held = confirmed.release_at > now
    html = render(context, w.lang, "selection/confirmed", month=parts[2], held=held, release_at=confirmed.release_at,
                  sent=sent)  # fmt: skip
    await reply(update, context, html)


def handlers() -> list[object]:
    text_input = text_input_conv.conversation(
        "selection_text", TEXT_INPUT, r"^sl:[fd]:\d+$", ask_text, on_text, "menu/input_cancelled"
    )
    return [
        text_input,
        CommandHandler("selection", show),
        CallbackQueryHandler(on_board, pattern=r"^sl:b:"),
        CallbackQueryHandler(on_app, pattern=r"^sl:a:"),
        CallbackQueryHandler(on_place, pattern=r"^sl:p:"),
        CallbackQueryHandler(ask_confirm, pattern=r"^sl:ok:"),
        CallbackQueryHandler(on_confirm, pattern=r"^sl:y:"),
    ]
