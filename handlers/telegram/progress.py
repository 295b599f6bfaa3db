"""A broadcast's progress, kept up to date in the organizer's chat by editing one message (Telegram can
edit; the other channels get the final count instead). Followed again after a restart."""

from __future__ import annotations

import asyncio
import logging

from bot.context import AppContext
from bot.dialogue import tokens
from bot.dialogue.model import Action
from bot.models import Broadcast, User
from bot.services import broadcasts, users
from handlers.telegram.api import BadRequest, BotApi, TelegramError
from handlers.telegram.output import keyboard

log = logging.getLogger(__name__)


class Progress:
    """Follows each broadcast in progress and edits its message until the broadcast ends."""

    def __init__(self, ctx: AppContext, api: BotApi, interval: float = 1.0) -> None:
        self.ctx = ctx
        self.api = api
        self.interval = interval
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def track(self, kind: str, broadcast_id: int, chat_id: int, message_id: int) -> None:
        """The progress message was just sent: remember it, and keep it up to date."""
        if kind == "broadcast":
            self._tasks[broadcast_id] = asyncio.create_task(self._start(broadcast_id, chat_id, message_id))

    async def _start(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        def remember() -> None:
            with self.ctx.db.session() as session:
                broadcasts.set_progress_message(session, broadcast_id, str(chat_id), message_id)

        await asyncio.to_thread(remember)
        await self._track(broadcast_id)

    def follow(self, broadcast_id: int) -> None:
        task = self._tasks.get(broadcast_id)
        if task is None or task.done():
            self._tasks[broadcast_id] = asyncio.create_task(self._track(broadcast_id), name=f"broadcast-{broadcast_id}")

    async def resume(self) -> None:
        """After a restart: the broadcasts still sending are followed again."""

        def sending() -> list[int]:
            with self.ctx.db.session() as session:
                return [row.id or 0 for row in broadcasts.in_progress(session)]

        for broadcast_id in await asyncio.to_thread(sending):
            self.follow(broadcast_id)

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()

    def _snapshot(self, broadcast_id: int) -> tuple[Broadcast | None, User | None, broadcasts.Progress | None]:
        with self.ctx.db.session() as session:
            row = session.get(Broadcast, broadcast_id)
            if row is None:
                return None, None, None
            progress = broadcasts.progress(session, broadcast_id, self.ctx.clock.now())
            return row, session.get(User, row.created_by), progress

    async def _track(self, broadcast_id: int) -> None:
        shown = ""
        while True:
            try:
                row, owner, progress = await asyncio.to_thread(self._snapshot, broadcast_id)
                if row is None or owner is None or progress is None or row.progress_message_id is None:
                    return
                lang = users.language_of(owner)
                text = self.ctx.texts.render(lang, "broadcast/progress", b=row, p=progress)
                live = progress.status in (broadcasts.PLANNING, broadcasts.SENDING)
                if text != shown:
                    stop = Action("broadcast", "stop", (str(row.id),), entry=True)
                    label = self.ctx.texts.label(lang, "broadcast_buttons.stop")
                    markup = keyboard([[(label, tokens.encode(stop, 0))]]) if live else None
                    await self.api.call("editMessageText", {
                        "chat_id": int(row.progress_chat_id or 0), "message_id": row.progress_message_id,
                        "text": text, "parse_mode": "HTML", "reply_markup": markup,
                    })  # fmt: skip
                    shown = text
                if not live:
                    return
            except BadRequest as err:
                if "not modified" not in str(err):
                    log.warning("progress of broadcast %s: %s", broadcast_id, err)
                    return
            except TelegramError as err:
                log.info("progress of broadcast %s not updated now: %s", broadcast_id, err)
            await asyncio.sleep(self.interval)
