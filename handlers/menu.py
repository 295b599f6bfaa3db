"""/start, the menu, help, schedule, language, and the answer to anything not understood."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.calendar import Month
from bot.services import cycles, invitations, users
from handlers.common import app_ctx, menu_rows, render, reply, settle_query, who


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    w = who(update, context)
    now = ctx.clock.now()
    payload = context.args[0] if context.args else ""
    with ctx.db.session() as session:
        if payload:
            users.remember_start_payload(session, w.user, payload, now)
    if payload.startswith(invitations.PREFIX):
        from handlers import invite

        await invite.accept(update, context, w, payload)
        return
    with ctx.db.session() as session:
        status = cycles.window_status(session, now, ctx.settings)
        cycle = status.open_cycle or cycles.get_cycle(session, Month.of(now, ctx.settings.tz), ctx.settings)
    tg = update.effective_user
    html = render(
        context, w.lang, "start/welcome", name=tg.first_name if tg else "", cycle=cycle,
        open=status.open_cycle is not None, next_cycle=status.next_cycle,
    )  # fmt: skip
    await reply(update, context, html, menu_rows(ctx, w.lang))


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    w = who(update, context)
    await reply(update, context, render(context, w.lang, "menu/help"), menu_rows(app_ctx(context), w.lang))


async def schedule(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    now = ctx.clock.now()
    with ctx.db.session() as session:
        status = cycles.window_status(session, now, ctx.settings)
        cycle = status.open_cycle or cycles.get_cycle(session, Month.of(now, ctx.settings.tz), ctx.settings)
    html = render(
        context, w.lang, "menu/schedule", cycle=cycle, open=status.open_cycle is not None,
        next_cycle=status.next_cycle,
    )  # fmt: skip
    await reply(update, context, html)


async def language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query, drop_keyboard=False)
    ctx = app_ctx(context)
    w = who(update, context)
    rows = [[(ctx.texts.label(w.lang, "buttons.ko"), "lang:ko"), (ctx.texts.label(w.lang, "buttons.en"), "lang:en")]]
    await reply(update, context, render(context, w.lang, "menu/language"), rows)


async def set_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    chosen = (update.callback_query.data or "").split(":")[-1] if update.callback_query else ""
    if chosen not in users.LANGUAGES:
        await reply(update, context, render(context, w.lang, "errors/language"))
        return
    with ctx.db.session() as session:
        users.set_language(session, w.user, chosen, ctx.clock.now())
    await reply(update, context, render(context, chosen, "menu/language_set"), menu_rows(ctx, chosen))


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        w = who(update, context)
        await update.callback_query.answer()
        await reply(
            update, context, render(context, w.lang, "errors/stale_button"), menu_rows(app_ctx(context), w.lang)
        )
        return
    if update.effective_user is None or update.effective_chat is None:
        return
    w = who(update, context)
    await reply(update, context, render(context, w.lang, "menu/unknown"), menu_rows(app_ctx(context), w.lang))


async def notify_window(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The company asked to be told when the next application window opens."""
    await settle_query(update.callback_query)
    ctx = app_ctx(context)
    w = who(update, context)
    now = ctx.clock.now()
    with ctx.db.session() as session:
        added = users.subscribe(session, w.user, users.TOPIC_WINDOW_OPEN, now)
        status = cycles.window_status(session, now, ctx.settings)
    key = "apply/notify_ok" if added else "apply/notify_already"
    await reply(update, context, render(context, w.lang, key, next_cycle=status.next_cycle))


# Commands that also end any conversation in progress (its answers stay in the draft).
MENU_COMMANDS = {"start": start, "help": help_, "schedule": schedule, "language": language}
MENU_BUTTONS = {"m:help": help_, "m:schedule": schedule, "m:lang": language}


def handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    out: list[BaseHandler] = [CommandHandler(name, fn) for name, fn in MENU_COMMANDS.items()]  # type: ignore[type-arg]
    out += [CallbackQueryHandler(fn, pattern=f"^{data}$") for data, fn in MENU_BUTTONS.items()]
    out.append(CallbackQueryHandler(set_language, pattern=r"^lang:"))
    out.append(CallbackQueryHandler(notify_window, pattern=r"^sub:window$"))
    return out


def fallback_handlers() -> list[BaseHandler]:  # type: ignore[type-arg]
    """The last resort, registered last: every message and button gets an answer."""
    return [CallbackQueryHandler(unknown), MessageHandler(filters.ALL, unknown)]
