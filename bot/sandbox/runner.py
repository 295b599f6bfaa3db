"""Runs the real Application against the stand-in server in this process: tests, simulate, benchmarks."""

from __future__ import annotations

import asyncio
import time

from sqlmodel import col, select
from telegram.ext import Application

from bot.clock import Clock
from bot.context import AppContext
from bot.database import Database
from bot.models import Outbox, OutboxState
from bot.sandbox.botapi import BotApiServer
from bot.settings import Settings
from scheduler.tick import TickReport


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

    async def tick(self, timeout: float = 30.0) -> TickReport:
        """One tick of the calendar at the clock's time, then waits until the outbox has sent what is due."""
        from scheduler.jobs import run_tick

        assert self.app is not None
        report = await asyncio.to_thread(run_tick, self.app.bot_data["app"])
        dispatcher = self.app.bot_data.get("dispatcher")
        if dispatcher is not None:
            dispatcher.wake()
        await self.outbox_settled(timeout)
        return report

    async def outbox_settled(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        busy = (OutboxState.PENDING.value, OutboxState.SENDING.value)
        while True:
            with self.db.session() as session:
                left = session.exec(
                    select(Outbox.id).where(col(Outbox.state).in_(busy), Outbox.due_at <= self.clock.now())
                ).all()
            if not left:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(left)} outbox message(s) still not sent")
            await asyncio.sleep(0.05)
