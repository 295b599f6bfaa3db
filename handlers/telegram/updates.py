"""Every Telegram update goes through the engine: one turn, then its reply as Bot API calls."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram import Bot, Update

from bot.dialogue.engine import Engine, Reply
from bot.dialogue.model import TELEGRAM, FileRef
from handlers.telegram.incoming import to_incoming
from handlers.telegram.output import LiveHook, deliver, set_commands

log = logging.getLogger(__name__)


def fetcher(bot: Bot, folder: Path) -> Callable[[FileRef], Awaitable[Path]]:
    """Downloads a file the person sent, to a fresh path the engine deletes after the turn."""

    async def fetch(file: FileRef) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.part"
        tg_file = await bot.get_file(file.channel_id or "")
        await tg_file.download_to_drive(path)
        return path

    return fetch


async def process(
    engine: Engine,
    bot: Bot,
    update: Update,
    incoming_dir: Path,
    live: LiveHook | None = None,
) -> Reply | None:
    """One update: the turn, then the reply sent. None when the update is nobody's."""
    incoming = to_incoming(update)
    chat = update.effective_chat
    if incoming is None or chat is None:
        return None
    reply = await engine.handle(incoming, TELEGRAM, fetcher(bot, incoming_dir))
    if not reply.duplicate:
        if reply.menu is not None:  # the person's roles changed: their menu first, then the answer
            await set_commands(bot, chat.id, reply.menu)
        await deliver(bot, chat.id, reply, update.callback_query, live)
    return reply
