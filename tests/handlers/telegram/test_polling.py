"""Long polling with the bot's own getUpdates loop, against the stand-in Bot API: one person's updates
strictly in order while other people are answered meanwhile, errors waited out, and nothing dropped or
handled twice across a stop and a start."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.clock import ManualClock
from bot.sandbox.users import SimUser
from bot.settings import Settings
from tests.harness import Harness, running

COMMANDS = ("/help", "/status", "/privacy")


def push(user: SimUser, text: str) -> int:
    """An update the person sends without waiting for its answer."""
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return user.server.push_update({"message": user._message(**content)})


async def answers(harness: Harness, user_id: int) -> list[list[str]]:
    """What one person sees for each of COMMANDS, asked one at a time (the order to expect)."""
    user = harness.user(user_id, "순서")
    return [[e.text for e in await user.send(c)] for c in COMMANDS]


async def test_one_persons_updates_in_order_while_others_are_answered(harness: Harness) -> None:
    expected = await answers(harness, 7100)
    assert len({tuple(texts) for texts in expected}) == len(COMMANDS) and all(len(t) == 1 for t in expected)
    slow, other = harness.user(7101, "순서"), harness.user(7102, "다른")
    # The first answer to the slow person takes 2 s and then fails: their next updates wait for it.
    harness.server.fail_next("sendMessage", 502, "Bad Gateway", chat_id=slow.id, delay=2.0)
    started = time.monotonic()
    for command in COMMANDS:
        push(slow, command)
    [meanwhile] = await other.send("/help")
    assert time.monotonic() - started < 1.5, "another person waited for the slow one"
    assert meanwhile.text == expected[0][0]
    got = await slow._collect(len(COMMANDS) - 1)
    assert time.monotonic() - started >= 2.0
    # The failed answer is logged and left; the rest came in the order sent.
    assert [e.text for e in got] == [texts[0] for texts in expected[1:]]


async def test_polling_waits_out_errors(settings: Settings, clock: ManualClock) -> None:
    s = settings.model_copy(update={"telegram_retry_seconds": 0.1, "telegram_retry_max_seconds": 0.4})
    async with running(s, clock) as harness:
        user = harness.user(7200)
        await user.send("/help")
        polls = harness.server.calls["getUpdates"]
        harness.server.fail_next("getUpdates", 502, "Bad Gateway", times=3)
        harness.server.fail_next("getUpdates", 409, "Conflict: terminated by other getUpdates request")
        harness.server.fail_next("getUpdates", 429, "Too Many Requests: retry after 1", retry_after=1)
        started = time.monotonic()
        while harness.server.faults:  # the poll in flight comes back empty (1 s); the next ones fail
            assert time.monotonic() - started < 10, "polling stopped after an error"
            await asyncio.sleep(0.05)
        # Waited out: 0.1 + 0.2 + 0.4 s, then the cap (0.4 s), then the second Telegram asked for.
        [answer] = await user.send("/status")
        assert answer.text
        assert time.monotonic() - started >= 1.0 + 0.1 + 0.2 + 0.4 + 0.4
        assert harness.server.calls["getUpdates"] >= polls + 6


async def test_nothing_is_dropped_or_handled_twice_across_a_restart(harness: Harness) -> None:
    expected = await answers(harness, 7300)
    people = [harness.user(7301 + i, "순서") for i in range(4)]
    for person in people:
        push(person, COMMANDS[0])
    await asyncio.sleep(0.02)
    await harness.bot.stop()  # stops with updates in flight: those taken are handled first
    queued = {u["message"]["from"]["id"] for u in harness.server.updates}
    for person in people:  # answered before the stop, or still waiting at Telegram: never both, never neither
        answered = len(person.events) > person.cursor
        assert answered != (person.id in queued), (person.id, answered, queued)
    for person in people:  # while the bot is down
        push(person, COMMANDS[1])
    await harness.bot.start()
    for person in people:
        got = await person._collect(len(expected[0]) + len(expected[1]))
        assert [e.text for e in got] == expected[0] + expected[1]
    await asyncio.sleep(0.5)  # nothing more comes: no update was handled twice
    assert all(len(person.events) == person.cursor for person in people)
