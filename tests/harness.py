"""Drives the real python-telegram-bot Application over HTTP against the stand-in Bot API server."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application

from bot.clock import ManualClock
from bot.context import AppContext
from bot.database import Database
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.users import SimUser
from bot.settings import Settings
from handlers.app import build_application

KST = dt.timezone(dt.timedelta(hours=9))


class Harness:
    def __init__(self, settings: Settings, clock: ManualClock, db: Database) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.server = BotApiServer()
        self.app: Application | None = None  # type: ignore[type-arg]
        self.ctx = AppContext.create(settings, clock=clock, db=db)

    async def start_bot(self) -> None:
        self.app = build_application(self.ctx, self.server.token, self.server.url)
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0.0, timeout=1)

    async def stop_bot(self) -> None:
        if self.app is None:
            return
        assert self.app.updater is not None
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()
        self.app = None

    async def restart_bot(self) -> None:
        """A fresh Application over the same database: what a process restart leaves."""
        await self.stop_bot()
        self.ctx = AppContext.create(self.settings, clock=self.clock, db=self.db)
        await self.start_bot()

    def user(self, user_id: int, first_name: str = "테스트", language_code: str | None = "ko") -> SimUser:
        return SimUser(self.server, user_id, first_name, language_code)

    def session(self) -> Any:
        return self.db.session()


@asynccontextmanager
async def running(settings: Settings, clock: ManualClock) -> AsyncIterator[Harness]:
    db = Database(settings.database_url)
    db.upgrade()
    harness = Harness(settings, clock, db)
    await harness.server.start()
    try:
        await harness.start_bot()
        yield harness
    finally:
        await harness.stop_bot()
        await harness.server.stop()
        db.dispose()
