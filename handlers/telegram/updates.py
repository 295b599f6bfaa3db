"""Every Telegram update goes through the engine: one turn, then its reply as Bot API calls."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram import Bot, Update

from bot.dialogue.engine import Engine, Reply
from bot.dialogue.model import TELEGRAM, FileRef
from bot.errors import FileTooLarge
from handlers.telegram.incoming import to_incoming
from handlers.telegram.output import LiveHook, deliver, set_commands
from handlers.telegram.transport import AiohttpRequest

log = logging.getLogger(__name__)


def fetcher(bot: Bot, folder: Path, limit: int) -> Callable[[FileRef], Awaitable[Path]]:
    """Downloads a file the person sent, streamed to a temporary file (at most ``limit`` bytes) that is moved
    into place when complete; the engine deletes it after the turn."""

    async def fetch(file: FileRef) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        path, part = folder / f"{name}.file", folder / f"{name}.part"
        tg_file = await bot.get_file(file.channel_id or "")
        request = bot.request
        try:
            if isinstance(request, AiohttpRequest) and (tg_file.file_path or "").startswith(("http://", "https://")):
                await request.download(tg_file.file_path, part, limit)
            else:  # another client, or a local Bot API server's own file: python-telegram-bot copies it
                await tg_file.download_to_drive(part)
                if part.stat().st_size > limit:
                    raise FileTooLarge(part.stat().st_size)
            part.replace(path)
        finally:
            part.unlink(missing_ok=True)
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
    fetch = fetcher(bot, incoming_dir, engine.ctx.settings.deck_max_bytes)
    reply = await engine.handle(incoming, TELEGRAM, fetch)
    if not reply.duplicate:
        if reply.menu is not None:  # the person's roles changed: their menu first, then the answer
            await set_commands(bot, chat.id, reply.menu)
        await deliver(bot, chat.id, reply, update.callback_query, live)
    return reply
