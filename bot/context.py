"""What every channel adapter and job needs: settings, database, clock and texts, built once."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from bot.budget import Budget
from bot.clock import Clock, clock_for
from bot.database import OTHER_CONNECTIONS, Database
from bot.services import send_budget
from bot.settings import Settings
from bot.texts import Texts, texts_for

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock
    texts: Texts
    budgets: dict[str, Budget] = field(default_factory=dict)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None, db: Database | None = None) -> AppContext:
        if clock is None:
            if settings.fake_now is not None:
                log.warning(
                    "!!! PITCHBOT_FAKE_NOW is set: the bot's clock starts at %s !!!", settings.fake_now.isoformat()
                )
            clock = clock_for(settings.fake_now)
        return cls(
            settings=settings,
            db=db or Database(settings.database_url, settings.turn_workers + OTHER_CONNECTIONS),
            clock=clock,
            texts=texts_for(settings.templates_dir, settings.timezone),
        )

    def budget(self, channel: str) -> Budget:
        """The channel's flood-limit budget, one per process, shared by its replies and its outbox."""
        found = self.budgets.get(channel)
        if found is None:

            def reserve(span: float, at: float) -> float:
                with self.db.session(durable=False) as session:
                    return send_budget.reserve(session, channel, max(time.time(), at), span)

            def hold(until: float) -> None:
                with self.db.session(durable=False) as session:
                    send_budget.hold(session, channel, until)

            rate = self.settings.kakao_send_rate if channel == "kakao" else self.settings.send_rate
            found = self.budgets[channel] = Budget(
                rate,
                lambda span, at: asyncio.to_thread(reserve, span, at),
                lambda until: asyncio.to_thread(hold, until),
            )
        return found
