"""News for everyone: /subscribe, /unsubscribe, /expo (with an .ics file); for organizers /expo_edit
(send a YAML file in the chat) and /broadcasts (the history)."""

from __future__ import annotations

import enum
import warnings

from telegram import InputFile, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.errors import Refused
from bot.models import Role
from bot.services import broadcasts, expo
from handlers.common import app_ctx, has_role, render, reply, who

END = ConversationHandler.END


class S(enum.IntEnum):
    WAIT_FILE = 1


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    w = who(update, context)
    with ctx.db.session() as session:
        session.add(w.user)
        added = broadcasts.subscribe(session, w.user, ctx.clock.now())
    await reply(update, context, render(context, w.lang, "news/subscribed" if added else "news/already"))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    w = who(update, context)
    with ctx.db.session() as session:
        session.add(w.user)
        removed = broadcasts.unsubscribe(session, w.user, ctx.clock.now())
    await reply(update, context, render(context, w.lang, "news/unsubscribed" if removed else "news/not_subscribed"))


async def show_expo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    w = who(update, context)
    with ctx.db.session() as session:
        current = expo.current(session)
        if current is None:
            await reply(update, context, render(context, w.lang, "expo/none"))
            return
        data = expo.data(current)
        calendar_file = expo.calendar_file(current, ctx.settings.tz, w.lang, ctx.clock.now())
    await reply(update, context, render(context, w.lang, "expo/show", expo=data))
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id, InputFile(calendar_file.encode("utf-8"), filename="testbed-expo.ics"),
        caption=render(context, w.lang, "expo/ics_caption"), parse_mode=ParseMode.HTML,
    )  # fmt: skip


async def edit_expo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    ctx = app_ctx(context)
    w = who(update, context)
    if not has_role(context, who(update, context), Role.ORGANIZER):
        await reply(update, context, render(context, w.lang, "errors/not_allowed"))
        return END
    with ctx.db.session() as session:
        current = expo.current(session)
        text = expo.to_yaml(current) if current else ""
    await reply(update, context, render(context, w.lang, "expo/edit_ask", has_current=bool(text)))
    if text:
        chat = update.effective_chat
        assert chat is not None
        await context.bot.send_document(chat.id, InputFile(text.encode("utf-8"), filename="expo.yaml"))
    return S.WAIT_FILE


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    ctx = app_ctx(context)
    w = who(update, context)
    doc = update.effective_message.document if update.effective_message else None
    if doc is None or (doc.file_size or 0) > 200_000:
        await reply(update, context, render(context, w.lang, "errors/expo_file"))
        return S.WAIT_FILE
    try:
        content = bytes(await (await context.bot.get_file(doc.file_id)).download_as_bytearray())
        with ctx.db.session() as session:
            session.add(w.user)
            loaded = expo.load(session, content.decode("utf-8"), ctx.clock.now(), by=w.user)
            data = expo.data(loaded)
    except (UnicodeDecodeError, TelegramError):
        await reply(update, context, render(context, w.lang, "errors/expo_file"))
        return S.WAIT_FILE
    except Refused as err:
        await reply(update, context, render(context, w.lang, err.template, **err.params))
        return S.WAIT_FILE  # a second chance: send the corrected file
    await reply(update, context, render(context, w.lang, "expo/loaded", expo=data))
    return END


async def not_a_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    w = who(update, context)
    await reply(update, context, render(context, w.lang, "errors/expo_file"))
    return S.WAIT_FILE


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    w = who(update, context)
    await reply(update, context, render(context, w.lang, "menu/input_cancelled"))
    return END


async def history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    w = who(update, context)
    if not has_role(context, who(update, context), Role.ORGANIZER):
        await reply(update, context, render(context, w.lang, "errors/not_allowed"))
        return
    with ctx.db.session() as session:
        rows = broadcasts.history(session)
    await reply(update, context, render(context, w.lang, "broadcast/history", rows=rows))


def handlers() -> list[object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        editing = ConversationHandler(
            entry_points=[CommandHandler("expo_edit", edit_expo)],
            states={
                S.WAIT_FILE: [
                    MessageHandler(filters.Document.ALL, on_file),
                    MessageHandler(~filters.COMMAND, not_a_file),
                ]
            },
            fallbacks=[CommandHandler("cancel", cancel)],
            name="expo_edit",
            persistent=True,
            allow_reentry=True,
        )
    return [
        editing,
        CommandHandler("subscribe", subscribe),
        CommandHandler("unsubscribe", unsubscribe),
        CommandHandler("expo", show_expo),
        CommandHandler("broadcasts", history),
    ]
