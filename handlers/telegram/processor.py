"""Updates of different people are handled concurrently (up to a limit), each person's strictly in order,
so a conversation never sees two of its own updates at once while the bot waits on the network for
others. Each person with updates waiting has one task that takes them one after another."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

log = logging.getLogger(__name__)


class PerPerson:
    def __init__(self, limit: int, handle: Callable[[dict[str, Any]], Awaitable[object]]) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._handle = handle
        self._queues: dict[Hashable, deque[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, key: Hashable, update: dict[str, Any]) -> None:
        queue = self._queues.get(key)
        if queue is not None:  # this person's task is running: it takes the update after the ones before
            queue.append(update)
            return
        self._queues[key] = deque((update,))
        task = asyncio.create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: Hashable) -> None:
        queue = self._queues[key]
        try:
            while queue:
                async with self._slots:
                    try:
                        await self._handle(queue[0])
                    except Exception:  # the update's own answer failed on the way out; the next one goes on
                        log.exception("update not fully delivered")
                queue.popleft()
        finally:
            del self._queues[key]

    @property
    def busy(self) -> int:
        """Updates taken and not finished yet."""
        return sum(len(q) for q in self._queues.values())

    async def drain(self) -> None:
        """Waits until every update taken so far was handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
