"""One flood-limit budget per channel for everything a process sends: replies and the outbox.

Telegram allows about 30 messages a second for the whole bot. Replies and the outbox's messages draw
from the same budget, and replies go first: a person who is chatting waits at most one slot, however
long the broadcast. Slots are reserved from a row every process shares (``bot.services.send_budget``),
a few at a time, so two processes together stay within the limit."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

REPLY = 0  # someone is waiting for this one
OUTBOX = 1
# A 429 for a chat that got a message within the last second is that chat's own limit (about one a
# second); when several chats without one are refused at once, the whole bot is over its limit.
GLOBAL_REFUSALS = 3
PER_CHAT_WINDOW = 1.0
MAX_LEAD = 1.0  # seconds: a reservation slower than this loses its first slots rather than wait longer
# Seconds a slot may be late and still be used: the event loop, busy with a few dozen sends, comes to a slot
# a few milliseconds after its time, which at high rates is several slots' length. Late slots go out close
# together, so a second can hold at most this share of a second's slots more than the rate (at 1,000/s:
# 20 messages; below 50/s a slot is longer than this and is the measure, as before).
LATE = 0.02

# (span in seconds, earliest start, epoch) -> when the reserved run starts (epoch)
Reserve = Callable[[float, float], Awaitable[float]]
Hold = Callable[[float], Awaitable[None]]  # nobody sends before this epoch second


class Budget:
    def __init__(self, rate: float, reserve: Reserve, hold: Hold, now: Callable[[], float] = time.time) -> None:
        self.interval = 1.0 / rate
        self.late = max(self.interval, LATE)
        # Reserving a quarter of a second at a time keeps database calls rare and other processes close.
        self.chunk = max(1, int(rate / 4))
        self._reserve = reserve
        self._hold = hold
        self._now = now
        self._slots: deque[float] = deque()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self._refusals: deque[tuple[float, str]] = deque()
        self._recent: deque[float] = deque()  # when slots were given, over the last half second
        # Chats given a slot lately: when, and when the one before (was this chat's own limit reached?).
        self._chat_sent: dict[str, tuple[float, float]] = {}
        self._chat_order: deque[tuple[float, str]] = deque()
        # How long a reservation takes to come back (a thread, a database round trip, a commit): runs are
        # asked to start that much later, or their first slots would have passed on arrival and be lost.
        # The shorter of the last two: a run asked to start later than its answer comes leaves a gap.
        self._lead = 0.0
        self._took = 0.0
        self._refill: asyncio.Task[None] | None = None
        self._held_until = 0.0

    async def acquire(self, priority: int = REPLY, chat: str | None = None) -> None:
        """Returns when this process may send one message (to ``chat``, when known)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), waiter))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="send-budget")
        await waiter
        if chat is not None:
            now = self._now()
            before = self._chat_sent.get(chat, (-1e9, -1e9))[0]
            self._chat_sent[chat] = (now, before)
            self._chat_order.append((now, chat))
            while self._chat_order and now - self._chat_order[0][0] > 2 * PER_CHAT_WINDOW:
                old_at, old = self._chat_order.popleft()
                if self._chat_sent.get(old, (None,))[0] == old_at:
                    del self._chat_sent[old]

    async def refused(self, chat: str, seconds: float) -> bool:
        """The channel answered 429 for ``chat``; returns whether the whole channel is held."""
        now = self._now()
        last, before = self._chat_sent.get(chat, (0.0, -1e9))
        if last - before <= PER_CHAT_WINDOW:  # that chat had another message just before: its own limit
            self._give_back(now)
            return False
        window = max(seconds, 1.0)
        while self._refusals and now - self._refusals[0][0] > window:
            self._refusals.popleft()
        self._refusals.append((now, chat))
        if len({c for _, c in self._refusals}) < GLOBAL_REFUSALS:
            return False
        await self.pause(seconds)
        return True

    def _give_back(self, now: float) -> None:
        """A call refused for its chat's own limit put no message out and counts against no other chat:
        its slot goes to the next in line rather than pass unused (at a broadcast with people chatting,
        each chatting person's replies meet such a refusal about once a minute, 2% of the budget)."""
        self._slots.appendleft(now)
        if self._waiters and (self._pump is None or self._pump.done()):
            self._pump = asyncio.create_task(self._run(), name="send-budget")

    async def pause(self, seconds: float) -> None:
        """Nobody, in any process, sends on the channel for ``seconds``."""
        self._slots.clear()
        self._held_until = self._now() + seconds  # a reservation on its way drops what falls before
        await self._hold(self._held_until)

    async def _run(self) -> None:
        while True:
            while self._waiters and self._waiters[0][2].done():  # cancelled while waiting
                heapq.heappop(self._waiters)
            if not self._waiters:
                return
            now = self._now()
            while self._slots and self._slots[0] < now - self.late:  # unused: a slot's time is gone
                self._slots.popleft()
            # More are waiting than the run has left: the next run is asked for now, to start where this
            # one ends, so that its answer is back before the run runs out and no slot's time passes
            # while a reservation travels (at 1,000/s a reservation took as long as 5 to 10 slots).
            if len(self._waiters) > len(self._slots) and (self._refill is None or self._refill.done()):
                self._refill = asyncio.create_task(self._reserve_run(), name="send-budget-reserve")
            if not self._slots:
                assert self._refill is not None
                await asyncio.wait([self._refill])
                continue
            slot = self._slots.popleft()
            if slot > now:
                await asyncio.sleep(slot - now)
            while self._waiters:  # the most urgent at the moment the slot comes, not when it was reserved
                _, _, waiter = heapq.heappop(self._waiters)
                if not waiter.done():
                    waiter.set_result(None)
                    self._recent.append(self._now())
                    break

    async def _reserve_run(self) -> None:
        """Reserves the next run of slots and adds it to those left."""
        now = self._now()
        while self._recent and now - self._recent[0] > 0.5:
            self._recent.popleft()
        # As many as are waiting, or as the last half second's pace says will come: one database call per
        # reply when the bot is quiet would cost more than the reply.
        n = min(self.chunk, max(len(self._waiters), len(self._recent) // 2))
        after = self._slots[-1] + self.interval if self._slots else 0.0
        try:
            start = await self._reserve(n * self.interval, max(now + self._lead, after))
        except Exception:
            log.exception("send budget not reserved; trying again")
            await asyncio.sleep(0.5)
            return
        took = self._now() - now
        self._lead, self._took = min(MAX_LEAD, took, self._took), took
        slots = (start + i * self.interval for i in range(n))
        self._slots.extend(t for t in slots if t >= self._held_until)
