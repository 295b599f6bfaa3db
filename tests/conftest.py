from __future__ import annotations

import datetime as dt
import os

os.environ.setdefault("PTB_TIMEDELTA", "1")
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.database import Database
from bot.sandbox.botapi import BotApiServer
from bot.settings import Settings, load_settings
from tests import loop_guard
from tests.harness import KST, Harness, running, seed_departments
from tests.schema import MIGRATED_FIXTURES, empty_schema, leave_for_migrated, migrated

# The operator's own settings (a token exported for ``scripts/run``) must not reach the tests: with a KakaoTalk id
# set, a test of ``pitchbot run`` started the real bot. Each test names what it needs.
for _name in [n for n in os.environ if n.startswith("PITCHBOT_") and n != "PITCHBOT_TEST_DATABASE_URL"]:
    del os.environ[_name]

# PITCHBOT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test runs the suite on PostgreSQL.
PG_URL = os.environ.get("PITCHBOT_TEST_DATABASE_URL", "")
loop_guard.install()


@pytest.fixture(autouse=True)
def _no_statement_on_the_loop() -> Iterator[None]:
    """Whatever a test does, the bot may not wait for the database on an event loop's thread."""
    loop_guard.take()
    yield
    found = loop_guard.take()
    if found:
        pytest.fail("the bot ran SQL on an event loop's thread:\n  " + "\n  ".join(found), pytrace=False)


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database; for a test that asks for a migrated one, what the migrations leave (see tests.schema)."""
    if PG_URL:
        url = load_settings(database_url=PG_URL).database_url
        if MIGRATED_FIXTURES.isdisjoint(request.fixturenames):
            empty_schema(url)
        else:
            request.addfinalizer(leave_for_migrated())
        yield PG_URL
    else:
        yield f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        telegram_token="123456:SANDBOX",
        database_url=database_url,
        files_dir=tmp_path / "files",
        organizer_ids="900001",
        # Tests tick the calendar themselves; the dispatcher runs in the bot as in production.
        run_scheduler=False,
    )


@pytest.fixture
def clock() -> ManualClock:
    # 3 December 2026, 10:00 KST: the December window is open.
    return ManualClock(dt.datetime(2026, 12, 3, 10, 0, tzinfo=KST))


@pytest.fixture
def db(settings: Settings, clock: ManualClock) -> Iterator[Database]:
    database = migrated(settings.database_url)
    seed_departments(database, clock.now())
    yield database
    database.dispose()


@pytest.fixture
async def harness(settings: Settings, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running(settings, clock) as h:
        yield h


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    """A bare stand-in Bot API server, for tests that talk to it without the bot."""
    s = BotApiServer()
    await s.start()
    yield s
    await s.stop()
