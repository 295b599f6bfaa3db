"""Every Telegram update goes through the engine: one turn, then its reply as Bot API calls."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot.dialogue.engine import Engine, Reply
from bot.dialogue.model import TELEGRAM, FileRef
from handlers.telegram.api import BotApi
from handlers.telegram.incoming import chat_of, to_incoming
from handlers.telegram.output import LiveHook, deliver, set_commands

log = logging.getLogger(__name__)


def fetcher(api: BotApi, folder: Path, limit: int) -> Callable[[FileRef], Awaitable[Path]]:
    """Downloads a file the person sent, streamed to a temporary file (at most ``limit`` bytes) that is moved
    into place when complete; the engine deletes it after the turn."""

    async def fetch(file: FileRef) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        path, part = folder / f"{name}.file", folder / f"{name}.part"
        found = await api.call("getFile", {"file_id": file.channel_id or ""})
        try:
            await api.download(str(found.get("file_path") or ""), part, limit)
            part.replace(path)
        finally:
            part.unlink(missing_ok=True)
        return path

    return fetch


async def process(
    engine: Engine,
    api: BotApi,
    update: dict[str, Any],
    incoming_dir: Path,
    live: LiveHook | None = None,
) -> Reply | None:
    """One update (the Bot API's JSON): the turn, then the reply sent. None when the update is nobody's."""
    incoming = to_incoming(update)
    chat = chat_of(update)
    if incoming is None or chat is None:
        return None
    fetch = fetcher(api, incoming_dir, engine.ctx.settings.deck_max_bytes)
    reply = await engine.handle(incoming, TELEGRAM, fetch)
    if not reply.duplicate:
        if reply.menu is not None:  # the person's roles changed: their menu first, then the answer
            await set_commands(api, chat, reply.menu)
        query = update.get("callback_query")
        await deliver(api, chat, reply, query if isinstance(query, dict) else None, live)
    return reply
