"""Replies within Telegram's flood limit: each message a reply sends takes a slot of the bot's budget
(ahead of the outbox), and a 429 is waited out and the call made again, so a reply is never dropped
because a broadcast was running."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from bot.budget import REPLY, Budget

log = logging.getLogger(__name__)

# Bot API methods that put a message in a chat, the ones Telegram's flood limit counts.
COUNTED = frozenset({"sendMessage", "sendDocument", "sendPhoto", "editMessageText", "editMessageReplyMarkup"})
PACED_FOR = 60.0  # seconds a refused chat keeps Telegram's per-chat pace
# Set by the outbox's sender: the dispatcher has taken its slot already and decides about a 429 itself.
FROM_OUTBOX: ContextVar[bool] = ContextVar("pitchbot_from_outbox", default=False)


class ReplyGate:
    def __init__(self, budget: Budget, per_chat: float = 1.0, max_wait: float = 60.0) -> None:
        self.budget = budget
        self.per_chat = per_chat  # Telegram: about one message a second in one chat
        self.max_wait = max_wait  # beyond this the person has given up on the answer anyway
        self._chat_next: dict[str, float] = {}
        # Chats Telegram refused lately: their screens keep one a second for a while. Others send a
        # reply's messages at once, as Telegram mostly allows in a private chat.
        self._paced_until: dict[str, float] = {}

    async def send(
        self, method: str, chat: str | None, call: Callable[[], Awaitable[tuple[int, bytes]]]
    ) -> tuple[int, bytes]:
        if method not in COUNTED or FROM_OUTBOX.get():
            return await call()
        waited = 0.0
        while True:
            await self._chat_turn(chat)
            await self.budget.acquire(REPLY, chat)
            if chat is not None:
                self._chat_next[chat] = time.monotonic() + self.per_chat
            status, body = await call()
            seconds = _retry_after(body) if status == 429 else None
            if seconds is None or waited + seconds > self.max_wait:
                return status, body
            await self.budget.refused(chat or "", seconds)
            if chat is not None:
                self._paced_until[chat] = time.monotonic() + PACED_FOR
            log.info("%s to chat %s: 429, again in %.0f s", method, chat, seconds)
            await asyncio.sleep(seconds)
            waited += seconds

    async def _chat_turn(self, chat: str | None) -> None:
        """In a chat Telegram refused lately, the screens of a reply keep the chat's own pace rather than
        meet another 429 and waste a slot of the whole bot's budget."""
        if chat is None or self.per_chat <= 0:
            return
        now = time.monotonic()
        if len(self._chat_next) > 10_000:  # only chats of the last second matter
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            self._paced_until = {c: t for c, t in self._paced_until.items() if t > now}
        if self._paced_until.get(chat, 0.0) <= now:
            return
        gap = self._chat_next.get(chat, 0.0) - now
        if gap > 0:
            await asyncio.sleep(gap)


def _retry_after(body: bytes) -> float | None:
    try:
        seconds = json.loads(body).get("parameters", {}).get("retry_after")
    except (ValueError, AttributeError):
        return None
    return float(seconds) if isinstance(seconds, int | float) and seconds >= 0 else None
