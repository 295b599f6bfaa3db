"""One free-text answer after a button (a comment, feedback, a venue...): the same small conversation
for every such question. What the text is for is held in the database (drafts.hold_input), so a restart
between the question and the answer loses nothing."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable
from typing import Any

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

from bot.services import drafts
from handlers.common import app_ctx, render, reply, who

WAITING = 1
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]


def cancel(key: str, template: str) -> Handler:
    """/cancel: forget what the text was for, and say so."""

    async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        ctx = app_ctx(context)
        w = who(update, context)
        with ctx.db.session() as session:
            drafts.take_input(session, w.user.id or 0, key)
        await reply(update, context, render(context, w.lang, template))
        return ConversationHandler.END

    return handle


def conversation(
    name: str, key: str, pattern: str, ask: Handler, answer: Handler, cancelled: str
) -> ConversationHandler:  # type: ignore[type-arg]
    """``ask`` (a button matching ``pattern``) holds the input and returns WAITING; ``answer`` takes the text."""
    with warnings.catch_warnings():
        # per_message=False is intended: the conversation follows the user, not one message.
        warnings.simplefilter("ignore", PTBUserWarning)
        return ConversationHandler(
            entry_points=[CallbackQueryHandler(ask, pattern=pattern)],
            states={WAITING: [MessageHandler(filters.TEXT & ~filters.COMMAND, answer)]},
            fallbacks=[CommandHandler("cancel", cancel(key, cancelled))],
            name=name,
            persistent=True,
            allow_reentry=True,
        )
