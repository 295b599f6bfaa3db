"""Runs the real Application against the stand-in server in this process: tests, simulate, benchmarks."""

from __future__ import annotations

from telegram.ext import Application

from bot.clock import Clock
from bot.context import AppContext
from bot.database import Database
from bot.sandbox.botapi import BotApiServer
from bot.settings import Settings


class SandboxBot:
    def __init__(self, settings: Settings, clock: Clock, db: Database, server: BotApiServer) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.server = server
        self.app: Application | None = None  # type: ignore[type-arg]

    async def start(self) -> None:
        from handlers.app import build_application

        ctx = AppContext.create(self.settings, clock=self.clock, db=self.db)
        self.app = build_application(ctx, self.server.token, self.server.url)
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(poll_interval=0.0, timeout=1)

    async def stop(self) -> None:
        """Stops as a process would on SIGTERM: conversation states are flushed to the database."""
        if self.app is None:
            return
        assert self.app.updater is not None
        await self.app.updater.stop()
        await self.app.stop()
        if self.app.post_stop:  # run_polling would call it; here we drive the lifecycle ourselves
            await self.app.post_stop(self.app)
        await self.app.shutdown()
        self.app = None

    async def restart(self) -> None:
        """A fresh Application over the same database: what a process restart leaves."""
        await self.stop()
        await self.start()
