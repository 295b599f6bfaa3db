"""Drives the real bot over HTTP against the stand-in Bot API server."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.clock import ManualClock
from bot.database import Database
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.runner import SandboxBot
from bot.sandbox.users import SimUser
from bot.settings import Settings
from tests.schema import migrated

KST = dt.timezone(dt.timedelta(hours=9))


class Harness:
    def __init__(self, settings: Settings, clock: ManualClock, db: Database) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.server = BotApiServer()
        self.bot = SandboxBot(settings, clock, db, self.server)

    async def restart_bot(self) -> None:
        await self.bot.restart()

    def user(self, user_id: int, first_name: str = "테스트", language_code: str | None = "ko") -> SimUser:
        return SimUser(self.server, user_id, first_name, language_code)

    def session(self) -> Any:
        return self.db.session()


def seed_departments(db: Database, now: dt.datetime) -> None:
    """The city's department list as organizers load it (``samples/departments.csv``)."""
    from bot.services import departments

    with db.session() as session:
        departments.load_path(session, departments.SAMPLE, now)


@asynccontextmanager
async def running(settings: Settings, clock: ManualClock) -> AsyncIterator[Harness]:
    db = migrated(settings.database_url)
    seed_departments(db, clock.now())
    harness = Harness(settings, clock, db)
    await harness.server.start()
    try:
        await harness.bot.start()
        yield harness
    finally:
        await harness.bot.stop()
        await harness.server.stop()
        db.dispose()
