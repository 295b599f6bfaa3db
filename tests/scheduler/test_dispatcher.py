"""The dispatcher under faults: every message ends sent or failed with its reason, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.calendar import Month, cycle_data, default_cycle
from bot.clock import ManualClock
from bot.database import Database
from bot.models import Outbox, User
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.kakao import KakaoPlatform, KakaoUser
from bot.services import outbox, users
from bot.services.outbox import Planned
from bot.settings import Settings
from tests.scheduler.helpers import outbox_rows, settled

CYCLE = cycle_data(default_cycle(Month(2026, 12), ZoneInfo("Asia/Seoul")))


def plan_to(db: Database, chat_ids: list[int], now: dt.datetime, key: str = "test") -> None:
    with db.session() as session:
        people = [users.ensure_user(session, "telegram", str(c), now, display_name=f"u{c}") for c in chat_ids]
        items = [Planned(p, "reminders/window_open", {"cycle": CYCLE}, key, now) for p in people]
        outbox.plan(session, items, now)


def chat_counts(server: BotApiServer) -> Counter[int]:
    return Counter({chat: len(events) for chat, events in server.events.items() if events})


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"send_timeout": 1.0, "send_per_chat_interval": 0.0})


async def test_faults_end_sent_or_failed_with_reason(fast_settings: Settings, clock: ManualClock) -> None:
    from tests.harness import running

    async with running(fast_settings, clock) as harness:
        s = harness.server
        s.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=3001)
        s.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", chat_id=3002)
        s.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=3003)
        s.fail_next("sendMessage", 502, "Bad Gateway", chat_id=3004, times=2)
        s.fail_next("sendMessage", 200, "late", chat_id=3005, delay=1.5)  # longer than the send timeout
        plan_to(harness.db, [3001, 3002, 3003, 3004, 3005, 3006], harness.clock.now())
        harness.bot.wake_dispatcher()

        # The bot keeps answering people while the outbox struggles.
        [welcome] = await harness.user(3999).send("/start")
        assert "피칭데이" in welcome.text

        await settled(harness)
        rows = {int(r.chat_id): r for r in outbox_rows(harness)}
        assert {c: r.state for c, r in rows.items()} == {
            3001: "sent", 3002: "failed", 3003: "failed", 3004: "sent", 3005: "sent", 3006: "sent",
        }  # fmt: skip
        assert rows[3002].last_error and "blocked" in rows[3002].last_error
        assert rows[3003].last_error and "chat not found" in rows[3003].last_error.lower()
        assert rows[3004].attempts == 1  # retried in place, within one claim
        with harness.session() as session:
            blocked = session.exec(select(User).where(User.external_id == "3002")).one()
            assert not blocked.active
        counts = chat_counts(s)
        assert all(counts[c] == 1 for c in (3001, 3004, 3005, 3006))
        assert counts[3002] == 0 and counts[3003] == 0

        # A blocked user who writes again is active again; new messages reach them.
        await harness.user(3002).send("/start")
        with harness.session() as session:
            assert session.exec(select(User).where(User.external_id == "3002")).one().active


async def test_a_lease_that_runs_out_is_claimed_again(db: Database) -> None:
    now = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
    plan_to(db, [4001, 4002], now)
    lease = dt.timedelta(seconds=30)
    with db.session() as session:
        first = outbox.claim(session, "dead", now, 10, lease)
        assert len(first) == 2
        assert outbox.claim(session, "other", now + dt.timedelta(seconds=10), 10, lease) == []
        again = outbox.claim(session, "other", now + dt.timedelta(seconds=31), 10, lease)
        assert [r.id for r in again] == [r.id for r in first]
        assert {r.attempts for r in again} == {2}
        # The dead worker's late answer no longer counts.
        assert not outbox.mark_sent(session, first[0].id or 0, "dead", now)
        assert outbox.mark_sent(session, again[0].id or 0, "other", now)


def dispatch_process(server: BotApiServer, database_url: str, tmp: Path, name: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PITCHBOT_TELEGRAM_TOKEN": server.token,
        "PITCHBOT_TELEGRAM_API_URL": server.url,
        "PITCHBOT_DATABASE_URL": database_url,
        "PITCHBOT_FILES_DIR": str(tmp / "files"),
        "PTB_TIMEDELTA": "1",
        **extra,
    }


async def wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.05)


def states(db: Database) -> Counter[str]:
    with db.session() as session:
        return Counter(r.state for r in session.exec(select(Outbox)).all())


async def kill_then_resume(
    server: BotApiServer, db: Database, env: dict[str, str], tmp_path: Path, total: int, kill_after: int
) -> tuple[set[int], Counter[int]]:
    """A dispatcher process killed (SIGKILL) once ``kill_after`` messages arrived, then a second one run until
    all ``total`` rows are sent. Returns the chats whose rows were marked sent and the messages received, both
    as they were at the kill."""
    cmd = [sys.executable, "-m", "bot.cli", "dispatch"]
    with open(tmp_path / "dispatch.log", "wb") as log:
        first = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=log, stderr=log)
        try:
            await wait_for(lambda: sum(chat_counts(server).values()) >= kill_after, 30)
        finally:  # also when the wait failed: a dispatcher left running would send in the next test's database
            first.send_signal(signal.SIGKILL)
            await first.wait()
        marked, at_kill = sent_chats(db), chat_counts(server)
        second = await asyncio.create_subprocess_exec(*cmd, env=env, stdout=log, stderr=log)
        try:
            await wait_for(lambda: states(db).get("sent", 0) == total, 60)
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(second.wait(), 20)
            except TimeoutError:
                second.kill()
                await second.wait()
                raise
    return marked, at_kill


def sent_chats(db: Database) -> set[int]:
    with db.session() as session:
        return {int(r.chat_id) for r in session.exec(select(Outbox).where(Outbox.state == "sent")).all()}


async def test_sigkill_mid_batch_loses_nothing(tmp_path: Path, db: Database, settings: Settings) -> None:
    server = BotApiServer()
    await server.start()
    chats = list(range(5001, 5121))
    plan_to(db, chats, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    env = dispatch_process(server, settings.database_url, tmp_path, "a", PITCHBOT_SEND_RATE="40",
                           PITCHBOT_SEND_CONCURRENCY="1", PITCHBOT_OUTBOX_LEASE_SECONDS="2")  # fmt: skip
    try:
        _, at_kill = await kill_then_resume(server, db, env, tmp_path, len(chats), kill_after=40)
    finally:
        await server.stop()
    assert sum(at_kill.values()) < len(chats), "the batch finished before the kill; nothing was tested"
    counts = chat_counts(server)
    assert set(counts) == set(chats)  # every message arrived
    duplicated = [c for c, n in counts.items() if n > 1]
    assert len(duplicated) <= 1, duplicated  # at most the one in flight (concurrency 1)
    assert max(counts.values()) <= 2


async def test_sigkill_while_rows_are_marked_together_resends_none_marked(
    tmp_path: Path, db: Database, settings: Settings
) -> None:
    """Eight sends at once: rows sent meanwhile are marked in one statement. A kill in the middle loses
    nothing, sends none of the rows marked sent again, and duplicates at most the eight in flight."""
    server = BotApiServer()
    # No pacing and answers that take a while: the eight in flight go out and come back together, so rows
    # are marked together whatever the machine's speed (at an even pace each could be marked alone).
    server.delays["sendMessage"] = 0.05
    await server.start()
    chats = list(range(5201, 5401))
    plan_to(db, chats, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    env = dispatch_process(server, settings.database_url, tmp_path, "a", PITCHBOT_SEND_RATE="1000",
                           PITCHBOT_SEND_CONCURRENCY="8", PITCHBOT_SEND_PER_CHAT_INTERVAL="0",
                           PITCHBOT_OUTBOX_LEASE_SECONDS="2")  # fmt: skip
    try:
        marked, at_kill = await kill_then_resume(server, db, env, tmp_path, len(chats), kill_after=60)
    finally:
        await server.stop()
    assert len(at_kill) < len(chats), "the broadcast finished before the kill; nothing was tested"
    assert marked and all(at_kill[c] == 1 for c in marked)
    counts = chat_counts(server)
    assert set(counts) == set(chats)  # every message arrived
    assert all(counts[c] == 1 for c in marked)  # none marked sent went again
    duplicated = [c for c, n in counts.items() if n > 1]
    assert len(duplicated) <= 8, duplicated  # at most the sends in flight at the kill
    with db.session() as session:
        marks = Counter(r.sent_at for r in session.exec(select(Outbox)).all())
    assert max(marks.values()) > 1  # rows were marked together, not one by one


async def test_a_persons_message_in_the_next_round_waits_for_the_one_before(settings: Settings, db: Database) -> None:
    """Rounds overlap (the next is claimed while the last rows of the one before are out), yet a person's
    messages keep their order: the second waits while the first is held back by a 429."""
    from bot.clock import SystemClock
    from bot.context import AppContext
    from handlers.telegram.api import BotApi
    from handlers.telegram.sender import TelegramSender
    from scheduler.dispatcher import Dispatcher

    s = settings.model_copy(update={"send_per_chat_interval": 0.0, "send_concurrency": 4})
    server = BotApiServer()
    await server.start()
    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    with db.session() as session:
        person = users.ensure_user(session, "telegram", "840000", now)
        items = [Planned(person, "outbox/text", {"text": f"message {i}"}, f"order:{i}", now) for i in range(3)]
        outbox.plan(session, items, now)
    server.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, chat_id=840000)
    try:
        async with BotApi(server.token, server.url, 2) as tg:
            ctx = AppContext.create(s, clock=SystemClock(), db=Database(s.database_url))
            dispatcher = Dispatcher(ctx, {"telegram": TelegramSender(tg, s.send_timeout)}, "w", batch=1)
            stop = asyncio.Event()
            running = asyncio.create_task(dispatcher.run(stop, idle=0.1))
            await wait_for(lambda: len(server.events.get(840000, [])) >= 3, 20)
            stop.set()
            await running
            ctx.db.dispose()
    finally:
        await server.stop()
    assert [e.text for e in server.events[840000]] == ["message 0", "message 1", "message 2"]
    assert server.calls["sendMessage"] == 4  # the first refused once, sent again a second on


async def test_two_dispatchers_share_the_work_without_duplicates(
    tmp_path: Path, db: Database, settings: Settings
) -> None:
    server = BotApiServer()
    await server.start()
    chats = list(range(6001, 6301))
    cmd = [sys.executable, "-m", "bot.cli", "dispatch"]
    log = open(tmp_path / "dispatch.log", "wb")  # noqa: SIM115
    procs = []
    try:
        for name in ("w1", "w2"):
            env = dispatch_process(server, settings.database_url, tmp_path, name, PITCHBOT_SEND_RATE="100")
            procs.append(await asyncio.create_subprocess_exec(*cmd, "--worker", name, env=env, stdout=log, stderr=log))
        # Both are up and polling before the work arrives, so both can take part.
        await wait_for(lambda: server.calls["getMe"] >= 2, 30)
        await asyncio.sleep(0.5)
        plan_to(db, chats, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        await wait_for(lambda: states(db).get("sent", 0) == len(chats), 60)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                await asyncio.wait_for(proc.wait(), 20)
        log.close()
        await server.stop()
    counts = chat_counts(server)
    assert set(counts) == set(chats) and set(counts.values()) == {1}
    with db.session() as session:
        workers = Counter(r.claimed_by for r in session.exec(select(Outbox)).all())
    assert set(workers) == {"w1", "w2"}, workers  # both took part


async def test_claim_takes_at_most_its_limit(db: Database) -> None:
    now = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
    plan_to(db, list(range(4101, 4111)), now)
    with db.session() as session:
        first = outbox.claim(session, "a", now, 3, dt.timedelta(seconds=30))
        second = outbox.claim(session, "b", now, 3, dt.timedelta(seconds=30))
    assert len(first) == 3 and len(second) == 3
    assert not {r.id for r in first} & {r.id for r in second}


@pytest.mark.parametrize("telegram", [True, False], ids=["both channels", "KakaoTalk only"])
async def test_the_dispatch_command_sends_on_every_channel(
    tmp_path: Path, db: Database, settings: Settings, telegram: bool
) -> None:
    """`pitchbot dispatch` had a Telegram sender only: every KakaoTalk row failed ("no sender for channel
    kakao"), and a KakaoTalk-only deployment could not start it at all."""
    platform, server = KakaoPlatform(), BotApiServer()
    await platform.start()
    await server.start()
    person = KakaoUser(platform)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    plan_to(db, [5201] if telegram else [], now)
    with db.session() as session:
        kakao = users.ensure_user(session, "kakao", person.user_id, now)
        outbox.plan(session, [Planned(kakao, "reminders/window_open", {"cycle": CYCLE}, "test", now)], now)
    env = dispatch_process(
        server, settings.database_url, tmp_path, "k", PITCHBOT_KAKAO_BOT_ID=platform.bot_id,
        PITCHBOT_KAKAO_SKILL_SECRET="secret", PITCHBOT_KAKAO_REST_API_KEY=platform.rest_api_key,
        PITCHBOT_KAKAO_API_URL=platform.url, PITCHBOT_PUBLIC_URL="http://127.0.0.1:9",
    )  # fmt: skip
    if not telegram:
        del env["PITCHBOT_TELEGRAM_TOKEN"]
    try:
        run = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "dispatch", "--once", env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(run.communicate(), 60)
    finally:
        await server.stop()
        await platform.stop()
    sent = 2 if telegram else 1
    assert run.returncode == 0 and f"sent {sent}, failed 0" in output.decode(), output.decode()
    assert states(db) == Counter({"sent": sent})
    assert "신청 접수" in " ".join(str(data.get("text", "")) for _, data in platform.events[person.user_id])
    assert chat_counts(server) == (Counter({5201: 1}) if telegram else Counter())
