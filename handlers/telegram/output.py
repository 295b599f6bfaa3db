"""A reply of the engine as Telegram messages: HTML split at 4,096 characters, inline keyboards, files
(with the text as caption when it fits), an edit in place where the screen replaces the pressed one, and
every pressed button answered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
)
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.dialogue.engine import Reply
from bot.dialogue.model import Attachment
from bot.dialogue.render import Output
from bot.split import split_html
from bot.texts import to_plain

log = logging.getLogger(__name__)
CAPTION_LIMIT = 1024
# Called with (kind, id, chat_id, message_id) once a message the channel keeps up to date was sent.
LiveHook = Callable[[str, int, int, int], None]


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    rows = [row for row in rows if row]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def _input_file(attachment: Attachment) -> InputFile | str:
    if attachment.channel_id:
        return attachment.channel_id
    content = attachment.content if attachment.content is not None else Path(attachment.path or "").read_bytes()
    return InputFile(content, filename=attachment.filename)


def fits_caption(html: str) -> bool:
    return len(to_plain(html).encode("utf-16-le")) // 2 <= CAPTION_LIMIT


async def send_output(bot: Bot, chat_id: int, out: Output, live: LiveHook | None = None) -> Message | None:
    """Sends one screen; returns its last message."""
    markup = keyboard(out.buttons)
    last: Message | None = None
    files = list(out.attachments)
    if files and fits_caption(out.text):
        first = files.pop(0)
        last = await bot.send_document(
            chat_id, _input_file(first), filename=first.filename, caption=out.text, parse_mode=ParseMode.HTML,
            reply_markup=markup if not files else None,
        )  # fmt: skip
        for extra in files:
            last = await bot.send_document(chat_id, _input_file(extra), filename=extra.filename)
        return last
    for extra in files:  # too long to be a caption: the files first, then the text
        await bot.send_document(chat_id, _input_file(extra), filename=extra.filename)
    parts = split_html(out.text, MessageLimit.MAX_TEXT_LENGTH)
    for i, part in enumerate(parts):
        last = await bot.send_message(
            chat_id, part, parse_mode=ParseMode.HTML, reply_markup=markup if i == len(parts) - 1 else None,
            disable_web_page_preview=True,
        )  # fmt: skip
    if live is not None and out.live is not None and last is not None:
        live(out.live[0], out.live[1], chat_id, last.message_id)
    return last


async def deliver(
    bot: Bot, chat_id: int, reply: Reply, query: CallbackQuery | None = None, live: LiveHook | None = None
) -> None:
    outputs = list(reply.outputs)
    if query is not None:
        first = outputs[0] if outputs else None
        if first is not None and first.replace and query.message is not None and len(first.text) <= 4096:
            outputs.pop(0)
            try:
                await bot.edit_message_text(
                    first.text, chat_id=chat_id, message_id=query.message.message_id, parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(first.buttons), disable_web_page_preview=True,
                )  # fmt: skip
            except BadRequest as err:
                if "not modified" not in str(err):
                    outputs.insert(0, first)  # the old message is gone: send it anew
            await _answer(query, first.toast)
        elif first is not None and first.toast_only:
            outputs.pop(0)
            await _answer(query, first.toast)
        else:
            await _answer(query, first.toast if first is not None else None)
            if not reply.entry and getattr(query.message, "reply_markup", None):
                # The question was answered: its buttons go, so the chat reads as a record.
                try:
                    await bot.edit_message_reply_markup(chat_id, query.message.message_id, reply_markup=None)  # type: ignore[union-attr]
                except BadRequest as err:
                    log.debug("keyboard already gone: %s", err)
    for out in outputs:
        await send_output(bot, chat_id, out, live)


async def _answer(query: CallbackQuery, toast: str | None) -> None:
    try:
        await query.answer((toast or "")[:200] or None)
    except TelegramError as err:  # too old, or answered: the person still gets the messages
        log.debug("callback not answered: %s", err)


async def set_commands(bot: Bot, chat_id: int, commands: list[tuple[str, str]]) -> None:
    """The chat's own command menu (its person's roles); empty: back to everyone's."""
    scope = BotCommandScopeChat(chat_id)
    try:
        if commands:
            await bot.set_my_commands([BotCommand(name, text[:256]) for name, text in commands], scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except TelegramError as err:
        log.warning("command menu of chat %s not updated: %s", chat_id, err)
