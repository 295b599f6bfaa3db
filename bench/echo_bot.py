"""A bare python-telegram-bot echo bot: the yardstick of the conversation benchmark (with
``ECHO_TRANSPORT=aiohttp``, the same on the bot's HTTP client)."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.callback_query is not None:
        await update.callback_query.answer()
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, "echo")


def main() -> None:
    api = os.environ["ECHO_API_URL"]
    builder = (
        ApplicationBuilder().token(os.environ["ECHO_TOKEN"]).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
    )
    if os.environ.get("ECHO_TRANSPORT") == "aiohttp":
        # The like-for-like yardstick: the bot's HTTP client and the bot's concurrency (32 updates at once,
        # each person's in order), so the ratio shows the bot's own work and nothing else.
        from bench.ptb_aiohttp import PerUserUpdateProcessor, on_aiohttp

        builder = on_aiohttp(builder, 8).concurrent_updates(PerUserUpdateProcessor(32))
    app = builder.build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(echo))
    app.run_polling(timeout=1)


if __name__ == "__main__":
    main()
