"""A reply of the engine as Telegram messages: HTML split at 4,096 characters, inline keyboards, files
(with the text as caption when it fits), an edit in place where the screen replaces the pressed one, and
every pressed button answered. Bot API calls with plain dicts (:mod:`handlers.telegram.api`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.dialogue.engine import Reply
from bot.dialogue.model import Attachment
from bot.dialogue.render import Output
from bot.split import split_html
from bot.texts import to_plain
from handlers.telegram.api import BadRequest, BotApi, TelegramError, Upload

log = logging.getLogger(__name__)
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
NO_PREVIEW = {"is_disabled": True}
# Called with (kind, id, chat_id, message_id) once a message the channel keeps up to date was sent.
LiveHook = Callable[[str, int, int, int], None]


def keyboard(rows: list[list[tuple[str, str]]]) -> dict[str, Any] | None:
    """An inline keyboard of (label, callback data) rows, as the Bot API reads it; None when empty."""
    buttons = [[{"text": text, "callback_data": data} for text, data in row] for row in rows if row]
    return {"inline_keyboard": buttons} if buttons else None


def _document(attachment: Attachment) -> Upload | str:
    if attachment.channel_id:
        return attachment.channel_id
    return Upload(attachment.filename, attachment.content, attachment.path)


def fits_caption(html: str) -> bool:
    return len(to_plain(html).encode("utf-16-le")) // 2 <= CAPTION_LIMIT


async def send_output(api: BotApi, chat_id: int, out: Output, live: LiveHook | None = None) -> dict[str, Any] | None:
    """Sends one screen; returns its last message."""
    markup = keyboard(out.buttons)
    last: dict[str, Any] | None = None
    files = list(out.attachments)
    if files and fits_caption(out.text):
        first = files.pop(0)
        last = await api.call("sendDocument", {
            "chat_id": chat_id, "document": _document(first), "caption": out.text, "parse_mode": "HTML",
            "reply_markup": markup if not files else None,
        })  # fmt: skip
        for extra in files:
            last = await api.call("sendDocument", {"chat_id": chat_id, "document": _document(extra)})
        return last
    for extra in files:  # too long to be a caption: the files first, then the text
        await api.call("sendDocument", {"chat_id": chat_id, "document": _document(extra)})
    parts = split_html(out.text, TEXT_LIMIT)
    for i, part in enumerate(parts):
        last = await api.call("sendMessage", {
            "chat_id": chat_id, "text": part, "parse_mode": "HTML", "link_preview_options": NO_PREVIEW,
            "reply_markup": markup if i == len(parts) - 1 else None,
        })  # fmt: skip
    if live is not None and out.live is not None and last is not None:
        live(out.live[0], out.live[1], chat_id, int(last["message_id"]))
    return last


async def deliver(
    api: BotApi, chat_id: int, reply: Reply, query: dict[str, Any] | None = None, live: LiveHook | None = None
) -> None:
    """``query``: the pressed button's callback query, as the update brought it."""
    outputs = list(reply.outputs)
    if query is not None:
        message = query.get("message")
        message_id = message.get("message_id") if isinstance(message, dict) else None
        first = outputs[0] if outputs else None
        if first is not None and first.replace and message_id is not None and len(first.text) <= TEXT_LIMIT:
            outputs.pop(0)
            try:
                await api.call("editMessageText", {
                    "chat_id": chat_id, "message_id": message_id, "text": first.text, "parse_mode": "HTML",
                    "reply_markup": keyboard(first.buttons), "link_preview_options": NO_PREVIEW,
                })  # fmt: skip
            except BadRequest as err:
                if "not modified" not in str(err):
                    outputs.insert(0, first)  # the old message is gone: send it anew
            await _answer(api, query, first.toast)
        elif first is not None and first.toast_only:
            outputs.pop(0)
            await _answer(api, query, first.toast)
        else:
            await _answer(api, query, first.toast if first is not None else None)
            if not reply.entry and message_id is not None and message.get("reply_markup"):  # type: ignore[union-attr]
                # The question was answered: its buttons go, so the chat reads as a record.
                try:
                    await api.call("editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id})
                except BadRequest as err:
                    log.debug("keyboard already gone: %s", err)
    for out in outputs:
        await send_output(api, chat_id, out, live)


async def _answer(api: BotApi, query: dict[str, Any], toast: str | None) -> None:
    try:
        await api.call(
            "answerCallbackQuery", {"callback_query_id": query.get("id"), "text": (toast or "")[:200] or None}
        )
    except TelegramError as err:  # too old, or answered: the person still gets the messages
        log.debug("callback not answered: %s", err)


async def set_commands(api: BotApi, chat_id: int, commands: list[tuple[str, str]]) -> None:
    """The chat's own command menu (its person's roles); empty: back to everyone's."""
    scope = {"type": "chat", "chat_id": chat_id}
    try:
        if commands:
            listed = [{"command": name, "description": text[:256]} for name, text in commands]
            await api.call("setMyCommands", {"commands": listed, "scope": scope})
        else:
            await api.call("deleteMyCommands", {"scope": scope})
    except TelegramError as err:
        log.warning("command menu of chat %s not updated: %s", chat_id, err)
