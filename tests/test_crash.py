"""SIGKILL of the bot process: during registration the draft survives and the conversation resumes;
during a broadcast nothing is lost and at most the message in flight is sent twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from bot.database import Database
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.users import SimUser
from bot.services import users
from tests.handlers.flows import VALID_BRN
from tests.harness import seed_departments

ORGANIZER = 900001


def bot_env(server: BotApiServer, database_url: str, tmp: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ, "PITCHBOT_TELEGRAM_TOKEN": server.token, "PITCHBOT_TELEGRAM_API_URL": server.url,
        "PITCHBOT_FAKE_NOW": "2026-12-03T10:00+09:00", "PITCHBOT_DATABASE_URL": database_url,
        "PITCHBOT_FILES_DIR": str(tmp / "files"), "PITCHBOT_POLL_TIMEOUT": "1", "PTB_TIMEDELTA": "1",
        "PITCHBOT_ORGANIZER_IDS": str(ORGANIZER), "PITCHBOT_SANDBOX_UNASKED": "true", **extra,
    }  # fmt: skip


async def start(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    out = open(log, "ab")  # noqa: SIM115
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", env=env, stdout=out, stderr=out)


async def kill(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGKILL)
    await proc.wait()


async def stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 20)


async def test_sigkill_during_registration_loses_nothing(tmp_path: Path, database_url: str) -> None:
    server = BotApiServer()
    await server.start()
    env = bot_env(server, database_url, tmp_path)
    proc = await start(env, tmp_path / "bot.log")
    try:
        user = SimUser(server, 6101, "김민준", timeout=30)
        await user.send("/apply", expect=2)
        user.timeout = 10
        await user.press("동의합니다")
        await user.send("한빛로보틱스")
        [question] = await user.send(VALID_BRN)
        assert "대표자 (4/9)" in question.text
        await kill(proc)  # before the conversation state reached the database
        proc = await start(env, tmp_path / "bot.log")
        user.timeout = 30
        [question] = await user.send("김민준")
        assert "기업 규모 (5/9)" in question.text  # the draft knew where we were
        user.timeout = 10
        [question] = await user.press("중소기업")
        assert "소재지 (6/9)" in question.text
    finally:
        await stop(proc)
        await server.stop()


async def test_sigkill_during_a_broadcast(tmp_path: Path, database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    now = dt.datetime.now(dt.UTC)
    # The list is loaded, as before any window: with none, the tick would warn the organizer (on the real
    # clock, in some weeks), and that message could arrive between the replies read below.
    seed_departments(db, now)
    people = list(range(620000, 620240))
    with db.session() as session:
        for tg in people:
            users.subscribe(session, users.ensure_user(session, "telegram", str(tg), now), "news", now)
    db.dispose()
    server = BotApiServer()
    await server.start()
    env = bot_env(server, database_url, tmp_path, PITCHBOT_SEND_RATE="40", PITCHBOT_SEND_CONCURRENCY="1",
                  PITCHBOT_SEND_PER_CHAT_INTERVAL="0", PITCHBOT_OUTBOX_LEASE_SECONDS="2")  # fmt: skip
    proc = await start(env, tmp_path / "bot.log")

    def delivered() -> Counter[int]:
        return Counter({tg: len(server.events[tg]) for tg in people if server.events[tg]})

    async def until(predicate: object, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():  # type: ignore[operator]
            assert time.monotonic() < deadline, "condition not reached in time"
            await asyncio.sleep(0.05)

    try:
        organizer = SimUser(server, ORGANIZER, "운영자", timeout=30)
        await organizer.send("/broadcast")
        organizer.timeout = 10
        await organizer.press("소식 구독자 전체")
        await organizer.press("직접 작성")
        await organizer.send("중단되어도 한 번만 도착하는 안내", expect=2)
        [progress] = await organizer.press("보내기")
        await until(lambda: sum(delivered().values()) >= 60, 30)
        await kill(proc)
        assert sum(delivered().values()) < len(people), "the broadcast ended before the kill"
        proc = await start(env, tmp_path / "bot.log")
        await until(lambda: len(delivered()) == len(people), 60)
        await until(lambda: "완료" in server.messages[(ORGANIZER, progress.message_id)]["text"], 30)
    finally:
        await stop(proc)
        await server.stop()
    counts = delivered()
    assert set(counts) == set(people)  # nothing lost
    assert all(event.unasked for tg in people for event in server.events[tg])  # marked: the outbox's, no answer
    assert sum(n - 1 for n in counts.values()) <= 1  # at most the one in flight (concurrency 1)
