"""Telegram's flood limits with replies and the outbox together, two dispatchers, a slow Bot API, and
texts too long for one message: over HTTP against the stand-in Bot API."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlmodel import select

from bot.clock import ManualClock, SystemClock
from bot.context import AppContext
from bot.database import Database
from bot.models import Outbox
from bot.sandbox.botapi import BotApiServer
from bot.services import outbox, users
from bot.services.outbox import Planned
from bot.settings import Settings
from handlers.telegram.api import BotApi
from handlers.telegram.sender import TelegramSender
from scheduler.dispatcher import Dispatcher
from tests.harness import running
from tests.scheduler.helpers import outbox_rows, settled
from tests.scheduler.test_dispatcher import chat_counts, plan_to


async def test_replies_are_never_dropped_while_a_broadcast_runs_at_the_limit(
    settings: Settings, clock: ManualClock
) -> None:
    s = settings.model_copy(update={"send_rate": 28.0, "send_per_chat_interval": 1.0})
    async with running(s, clock) as harness:
        harness.server.flood_limit = (30.0, 1.0)
        audience = list(range(500000, 500240))
        plan_to(harness.db, audience, harness.clock.now())
        harness.bot.wake_dispatcher()
        await asyncio.sleep(1.0)  # the broadcast is under way at full rate

        async def chat(user_id: int) -> int:
            user = harness.user(user_id)
            user.timeout = 30.0
            answered = 0
            for text in ("/start", "/help", "/status", "/help"):
                answered += len(await user.send(text))
            return answered

        answered = await asyncio.gather(*(chat(600000 + i) for i in range(20)))
        assert all(n >= 4 for n in answered)  # every message got its answer
        with harness.session() as session:
            left = session.exec(select(Outbox).where(Outbox.state != "sent")).all()
        assert left, "the replies came while the broadcast was still sending"
        await settled(harness, 60)
        counts = chat_counts(harness.server)
        assert all(counts[c] == 1 for c in audience)  # each recipient once, none lost


async def test_two_dispatchers_together_stay_within_one_budget(settings: Settings, db: Database) -> None:
    s = settings.model_copy(update={"send_rate": 25.0, "send_per_chat_interval": 0.0, "send_concurrency": 4})
    server = BotApiServer()
    server.flood_limit = (30.0, 0.0)
    await server.start()
    now = SystemClock().now()
    with db.session() as session:
        people = [users.ensure_user(session, "telegram", str(800000 + i), now) for i in range(150)]
        outbox.plan(session, [Planned(p, "outbox/text", {"text": "안내"}, "two", now) for p in people], now)
    try:
        async with BotApi(server.token, server.url) as tg:
            # Two processes: each its own context, so only the database row is shared between them.
            pair = [
                Dispatcher(AppContext.create(s, clock=SystemClock(), db=Database(s.database_url)),
                           {"telegram": TelegramSender(tg, s.send_timeout)}, f"worker-{i}", batch=20)
                for i in range(2)
            ]  # fmt: skip
            started = time.monotonic()
            await asyncio.gather(*(d.drain(120) for d in pair))
            elapsed = time.monotonic() - started
        assert sum(server.too_many.values()) == 0
        assert sum(d.sent for d in pair) == 150 and all(d.sent > 0 for d in pair)
        assert 150 / elapsed <= 26.0  # one budget of 25 a second, not 25 each
        assert Counter(chat_counts(server).values()) == Counter({1: 150})
    finally:
        await server.stop()


async def test_a_slow_bot_api_never_makes_two_dispatchers_send_the_same_row(settings: Settings, db: Database) -> None:
    # Five sends of 1.5 s one after another outlast a 6 s lease: before each send the lease is renewed,
    # so the second dispatcher, asking every 0.2 s, finds nothing to take.
    s = settings.model_copy(
        update={"send_timeout": 2.0, "outbox_lease_seconds": 6.0, "send_concurrency": 1, "send_per_chat_interval": 0.0}
    )
    server = BotApiServer()
    server.delays["sendMessage"] = 1.5
    await server.start()
    now = SystemClock().now()
    plan_to(db, [810000 + i for i in range(5)], now)
    try:
        async with BotApi(server.token, server.url) as tg:
            first, second = (
                Dispatcher(AppContext.create(s, clock=SystemClock(), db=Database(s.database_url)),
                           {"telegram": TelegramSender(tg, s.send_timeout)}, name)
                for name in ("slow", "eager")
            )  # fmt: skip
            slow = asyncio.create_task(first.run_once())
            while not _claimed(db):
                await asyncio.sleep(0.02)
            stop = asyncio.Event()
            eager = asyncio.create_task(second.run(stop, idle=0.2))
            await slow
            stop.set()
            await eager
        assert first.sent == 5 and second.sent == 0
        assert Counter(chat_counts(server).values()) == Counter({1: 5})
    finally:
        await server.stop()


def _claimed(db: Database) -> bool:
    with db.session() as session:
        return bool(session.exec(select(Outbox.id).where(Outbox.state == "sending")).first())


async def test_a_429_for_one_chat_holds_back_only_that_chat(settings: Settings, clock: ManualClock) -> None:
    s = settings.model_copy(update={"send_per_chat_interval": 0.0})
    async with running(s, clock) as harness:
        held = 820000
        harness.server.fail_next("sendMessage", 429, "Too Many Requests: retry after 4", retry_after=4, chat_id=held)
        others = [820001 + i for i in range(30)]
        plan_to(harness.db, [held, *others], harness.clock.now())
        started = time.monotonic()
        harness.bot.wake_dispatcher()
        while sum(chat_counts(harness.server)[c] for c in others) < len(others):
            await asyncio.sleep(0.05)
            assert time.monotonic() - started < 3.5, "the healthy chats waited for the held one"
        assert chat_counts(harness.server)[held] == 0
        await settled(harness, 20)
        assert chat_counts(harness.server)[held] == 1
        assert time.monotonic() - started >= 4.0


async def test_a_text_too_long_for_one_message_goes_in_parts_resumed_after_a_failure(
    settings: Settings, clock: ManualClock
) -> None:
    lines = [f"{i:03d}. 수요처 담당자께 드리는 긴 안내입니다 — 발표 순서와 장소를 확인해 주십시오." for i in range(250)]
    text = "\n".join(lines)
    assert len(text) > 2 * 4096
    async with running(settings, clock) as harness:
        now = harness.clock.now()
        with harness.session() as session:
            person = users.ensure_user(session, "telegram", "830000", now)
            outbox.plan(session, [Planned(person, "outbox/text", {"text": text}, "long", now)], now)
        # The second part fails once: the retry goes on from it, the first is not sent again.
        harness.server.fail_next("sendMessage", 502, "Bad Gateway", chat_id=830000, after=1)
        harness.bot.wake_dispatcher()
        await settled(harness)
        [row] = outbox_rows(harness, event_key="long")
        parts = [e.text for e in harness.server.events[830000]]
        assert row.state == "sent" and row.parts_sent == len(parts) - 1
        assert len(parts) >= 3 and all(len(p) <= 4096 for p in parts)
        assert "\n".join(parts).split("\n") == lines  # in order, nothing twice, nothing lost
