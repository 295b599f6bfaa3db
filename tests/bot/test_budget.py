"""The flood-limit budget: replies before the outbox, never faster than the rate, one chat's 429 is
that chat's, several chats' is everyone's."""

from __future__ import annotations

import asyncio
import time

from bot.budget import OUTBOX, REPLY, Budget


class Row:
    """The shared row, as the database keeps it: reservations one after another."""

    def __init__(self) -> None:
        self.next_at = 0.0
        self.holds: list[float] = []

    async def reserve(self, span: float, at: float) -> float:
        start = max(self.next_at, time.time(), at)
        self.next_at = start + span
        return start

    async def hold(self, until: float) -> None:
        self.holds.append(until)
        self.next_at = max(self.next_at, until)


async def test_a_reply_goes_before_the_outbox_messages_already_waiting() -> None:
    row = Row()
    budget = Budget(20.0, row.reserve, row.hold)
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await budget.acquire(priority)
        order.append(name)

    outbox = [asyncio.create_task(take(f"outbox{i}", OUTBOX)) for i in range(10)]
    await asyncio.sleep(0.12)  # two or three outbox messages have gone
    await take("reply", REPLY)
    await asyncio.gather(*outbox)
    assert 1 <= order.index("reply") <= 4


async def test_two_budgets_on_one_row_never_exceed_the_rate() -> None:
    row = Row()
    pair = [Budget(40.0, row.reserve, row.hold) for _ in range(2)]
    times: list[float] = []

    async def take(budget: Budget) -> None:
        await budget.acquire(OUTBOX)
        times.append(time.monotonic())

    await asyncio.gather(*(take(pair[i % 2]) for i in range(60)))
    times.sort()
    assert (times[-1] - times[0]) >= 59 / 40 * 0.95  # 40 a second between them, not 40 each


async def test_one_chat_refused_holds_nobody_else_several_hold_everyone() -> None:
    row = Row()
    budget = Budget(30.0, row.reserve, row.hold)
    assert not await budget.refused("1", 5)
    assert not await budget.refused("1", 5)  # the same chat again
    assert not await budget.refused("2", 5)
    assert row.holds == []
    assert await budget.refused("3", 5)
    assert row.holds and row.holds[0] >= time.time() + 4


async def test_chats_that_just_had_a_message_are_refused_by_their_own_limit() -> None:
    row = Row()
    budget = Budget(100.0, row.reserve, row.hold)
    for chat in ("1", "2", "3", "4"):  # two messages each within a second: Telegram's one a second per chat
        await budget.acquire(REPLY, chat)
        await budget.acquire(REPLY, chat)
        assert not await budget.refused(chat, 1)
    assert row.holds == []


class SlowRow(Row):
    """A row whose answer comes back late (a thread hop, a round trip, a commit), later than a slot lasts."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay
        self.reserved = 0.0

    async def reserve(self, span: float, at: float) -> float:
        start = await super().reserve(span, at)
        self.reserved += span
        await asyncio.sleep(self.delay)
        return start


async def test_a_reservation_slower_than_a_slot_still_gives_its_slots() -> None:
    row = SlowRow(0.1)
    budget = Budget(20.0, row.reserve, row.hold)  # a slot every 50 ms; a reservation takes 100 ms

    async def one_after_another() -> None:
        for _ in range(10):  # a quiet bot: one reply at a time
            await budget.acquire(REPLY)

    await asyncio.wait_for(one_after_another(), 20)
    # Runs are asked to start when the answer will be back, so next to nothing is thrown away unused
    # (the first run, asked before the delay was known, and what is left at the end).
    assert row.reserved / budget.interval <= 2 * 10


class CountingRow(Row):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def reserve(self, span: float, at: float) -> float:
        self.calls += 1
        return await super().reserve(span, at)


async def test_a_slot_refused_for_its_chat_goes_to_the_next_in_line() -> None:
    row = CountingRow()
    budget = Budget(2.0, row.reserve, row.hold)  # a slot every half second, reserved one at a time
    await budget.acquire(REPLY, "1")
    await budget.acquire(REPLY, "1")  # a second message to the chat within the second
    assert not await budget.refused("1", 1)  # Telegram refused it: that chat's own limit
    calls = row.calls
    started = time.monotonic()
    await budget.acquire(OUTBOX, "2")
    assert row.calls == calls  # the refused call's slot, not a new one
    assert time.monotonic() - started < 0.4  # rather than the next slot, half a second on


async def test_a_refusal_for_the_whole_bot_gives_nothing_back() -> None:
    row = CountingRow()
    budget = Budget(2.0, row.reserve, row.hold)
    for chat in ("1", "2", "3"):  # one message each, refused: the bot is over its limit
        await budget.acquire(REPLY, chat)
    for chat in ("1", "2"):
        assert not await budget.refused(chat, 1)
    assert await budget.refused("3", 1)
    calls = row.calls
    started = time.monotonic()
    await budget.acquire(OUTBOX, "4")
    assert row.calls > calls and time.monotonic() - started >= 0.9  # after the hold, from a new reservation
