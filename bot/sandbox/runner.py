"""Runs the real bot (the composition root, with its channels) in this process against the stand-ins:
Telegram's Bot API server and, when given, Kakao's platform. For the tests, simulate and benchmarks."""

from __future__ import annotations

import asyncio
import socket
import time

from pydantic import SecretStr
from sqlmodel import col, select

from bot.clock import Clock
from bot.database import Database
from bot.models import Outbox, OutboxState
from bot.runtime import Runtime
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.kakao import KakaoPlatform
from bot.services import broadcasts
from bot.settings import Settings
from scheduler.tick import TickReport

KAKAO_SECRET = "sandbox-skill-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SandboxBot:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        db: Database,
        server: BotApiServer | None,
        kakao: KakaoPlatform | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.db = db
        self.server = server
        self.kakao = kakao
        self.runtime: Runtime | None = None
        self.url = ""  # the bot's own HTTP server, when KakaoTalk is on

    def _settings(self) -> Settings:
        update: dict[str, object] = {"telegram_token": None}
        if self.server is not None:
            # A short long poll: stopping waits for the poll in flight. The outbox's calls are marked for the
            # stand-in (Settings.sandbox_unasked), as in a bot process the tests start.
            update |= {"telegram_token": SecretStr(self.server.token), "poll_timeout": 1,
                       "telegram_api_url": self.server.url, "sandbox_unasked": True}  # fmt: skip
        if self.kakao is not None:
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            update |= {
                "kakao_bot_id": self.kakao.bot_id, "kakao_skill_secret": SecretStr(KAKAO_SECRET),
                "kakao_rest_api_key": SecretStr(self.kakao.rest_api_key),
                "kakao_admin_key": SecretStr(self.kakao.admin_key), "kakao_api_url": self.kakao.url,
                "kakao_callback_hosts": ("127.0.0.1",), "http_host": "127.0.0.1", "http_port": port,
                "public_url": self.url,
            }  # fmt: skip
        return self.settings.model_copy(update=update)

    async def start(self) -> None:
        settings = self._settings()
        self.runtime = Runtime(settings, clock=self.clock, db=self.db)
        await self.runtime.start()
        if self.kakao is not None:
            self.kakao.connect_skill(f"{self.url}/kakao/skill", settings.kakao_skill_header, KAKAO_SECRET)
            self.kakao.connect_channel_webhook(f"{self.url}/kakao/channel")

    async def stop(self) -> None:
        """Stops as a process would on SIGTERM."""
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None

    async def restart(self) -> None:
        """A fresh runtime over the same database: what a process restart leaves."""
        await self.stop()
        await self.start()

    def wake_dispatcher(self) -> None:
        assert self.runtime is not None
        self.runtime.wake_dispatcher()

    async def tick(self, timeout: float = 30.0) -> TickReport:
        """One tick of the calendar at the clock's time, then waits until the outbox has sent what is due."""
        from scheduler.ticker import run_tick

        assert self.runtime is not None
        report = await asyncio.to_thread(run_tick, self.runtime.ctx)
        self.runtime.wake_dispatcher()
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
                planning = broadcasts.planning(session)
            if not left and not planning:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(left)} outbox message(s) still not sent")
            await asyncio.sleep(0.05)
