"""/export for organizers: the month's records as an Excel file, sent in the chat."""

from __future__ import annotations

import re

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import CommandHandler, ContextTypes

from bot.calendar import Month
from bot.models import Role
from bot.services import export, programme, users
from handlers.common import app_ctx, render, reply, who


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    w = who(update, context)
    now = ctx.clock.now()
    with ctx.db.session() as session:
        if not users.has_role(session, w.user, Role.ORGANIZER, ctx.settings):
            await reply(update, context, render(context, w.lang, "errors/not_allowed"))
            return
        wanted = context.args[0] if context.args and re.fullmatch(r"\d{4}-\d{2}", context.args[0]) else None
        month = wanted or programme.month_with_selection(session, now) or str(Month.of(now, ctx.settings.tz))
        content = export.workbook(session, month, ctx.settings, now, ctx.texts, w.lang)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id, InputFile(content, filename=f"pitchday-{month}.xlsx"),
        caption=render(context, w.lang, "export/caption", month=month), parse_mode=ParseMode.HTML,
    )  # fmt: skip


def handlers() -> list[object]:
    return [CommandHandler("export", send)]
