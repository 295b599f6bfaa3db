"""The bot with its KakaoTalk channel, run against the stand-in for Kakao's platform over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.database import Database
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.kakao import KakaoPlatform, KakaoUser
from bot.sandbox.runner import SandboxBot
from bot.settings import Settings
from tests.harness import seed_departments
from tests.schema import migrated

# A loaded test machine must not turn an ordinary answer into the slow path (a "being prepared" note, the
# answer following later) while the test reads the first answer; the tests of the slow path set their own.
PATIENT = 60.0


@dataclass
class KakaoWorld:
    platform: KakaoPlatform
    bot: SandboxBot
    db: Database
    clock: ManualClock
    settings: Settings
    telegram: BotApiServer | None = None

    def user(self, **kw: Any) -> KakaoUser:
        return KakaoUser(self.platform, **kw)

    def session(self) -> Any:
        return self.db.session()

    def events(self, user: KakaoUser) -> list[str]:
        """The texts the bot sent this person through the Event API, oldest first."""
        return [str(data.get("text", "")) for _, data in self.platform.events[user.user_id]]


async def running(settings: Settings, clock: ManualClock, *, telegram: bool = False, **platform: Any):  # type: ignore[no-untyped-def]
    db = migrated(settings.database_url)
    seed_departments(db, clock.now())
    kakao = KakaoPlatform(**{"timeout": PATIENT, **platform})
    await kakao.start()
    server = BotApiServer() if telegram else None
    if server is not None:
        await server.start()
    bot = SandboxBot(settings.model_copy(update={"send_per_chat_interval": 0.0}), clock, db, server, kakao)
    await bot.start()
    assert bot.runtime is not None and bot.runtime.kakao is not None
    bot.runtime.kakao.answer_within = PATIENT
    return KakaoWorld(kakao, bot, db, clock, settings, server)


async def finish(world: KakaoWorld) -> None:
    await world.bot.stop()
    await world.platform.stop()
    if world.telegram is not None:
        await world.telegram.stop()
    world.db.dispose()


@pytest.fixture
async def kakao(settings: Settings, clock: ManualClock) -> AsyncIterator[KakaoWorld]:
    world = await running(settings, clock)
    try:
        yield world
    finally:
        await finish(world)


@pytest.fixture
async def both(settings: Settings, clock: ManualClock) -> AsyncIterator[KakaoWorld]:
    """KakaoTalk and Telegram at once, on one database."""
    world = await running(settings, clock, telegram=True)
    try:
        yield world
    finally:
        await finish(world)
