"""Builds the python-telegram-bot Application: handlers, persistence, error handler, commands."""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from bot.context import AppContext
from handlers import (
    apply,
    broadcast,
    common,
    decisions,
    export,
    invite,
    menu,
    news,
    programme,
    review,
    selection,
    status,
)
from handlers.persistence import DbPersistence
from handlers.processor import PerUserUpdateProcessor
from handlers.transport import on_aiohttp
from scheduler import jobs

log = logging.getLogger(__name__)
COMMANDS = (
    "start", "apply", "status", "profile", "schedule", "help", "language", "cancel", "back", "review", "selection",
    "invite", "programme", "decisions", "export", "subscribe", "unsubscribe", "expo", "broadcast",
)  # fmt: skip


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """No exception reaches the user: log it, apologise, and keep the draft (it is already saved)."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        lang = common.who(update, context).lang
    except Exception:  # the database itself may be the problem
        lang = "ko"
    try:
        if update.callback_query is not None:
            await update.callback_query.answer()
    except Exception:
        log.debug("callback already answered")
    try:
        await common.reply(update, context, common.render(context, lang, "errors/internal"))
    except Exception:
        log.exception("could not tell the user about the error")


async def _post_init(application: Application) -> None:  # type: ignore[type-arg]
    ctx: AppContext = application.bot_data["app"]
    for lang, code in (("ko", None), ("en", "en")):
        commands = [BotCommand(name, ctx.texts.label(lang, f"commands.{name}")) for name in COMMANDS]
        await application.bot.set_my_commands(commands, language_code=code)
    await jobs.start(application)


async def _post_stop(application: Application) -> None:  # type: ignore[type-arg]
    await jobs.stop(application)


async def _cancel_outside(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await apply.cancel(update, context)


def _more() -> list[object]:
    return programme.handlers() + decisions.handlers() + export.handlers() + news.handlers() + broadcast.handlers()


def build_application(ctx: AppContext, token: str, api_url: str | None = None) -> Application:  # type: ignore[type-arg]
    api = (api_url or ctx.settings.telegram_api_url).rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .persistence(DbPersistence(ctx.db, ctx.clock, ctx.settings.persistence_interval))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .concurrent_updates(PerUserUpdateProcessor(ctx.settings.concurrent_updates))
    )
    application = on_aiohttp(builder, ctx.settings.connection_pool_size, ctx.settings.telegram_proxy).build()
    application.bot_data["app"] = ctx
    application.add_handler(apply.conversation(ctx.db), group=0)
    for handler in (
        menu.handlers() + status.handlers() + review.handlers() + selection.handlers() + invite.handlers() + _more()
    ):
        application.add_handler(handler, group=0)  # type: ignore[arg-type]
    application.add_handler(CommandHandler("cancel", _cancel_outside), group=0)
    # Last in the same group: only what nothing above handled reaches them.
    for handler in menu.fallback_handlers():
        application.add_handler(handler, group=0)
    application.add_error_handler(on_error)
    return application
