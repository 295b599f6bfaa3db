"""What every channel adapter and job needs: settings, database, clock and texts, built once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.clock import Clock, ShiftedClock, SystemClock
from bot.database import Database
from bot.settings import Settings
from bot.texts import Texts

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock
    texts: Texts

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None, db: Database | None = None) -> AppContext:
        if clock is None:
            if settings.fake_now is not None:
                log.warning(
                    "!!! PITCHBOT_FAKE_NOW is set: the bot's clock starts at %s !!!", settings.fake_now.isoformat()
                )
                clock = ShiftedClock(settings.fake_now)
            else:
                clock = SystemClock()
        return cls(
            settings=settings,
            db=db or Database(settings.database_url),
            clock=clock,
            texts=Texts(settings.templates_dir, settings.tz),
        )
