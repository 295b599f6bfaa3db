"""The engine on the suite's settings, clock and migrated database, and people who talk to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.database import Database
from bot.dialogue.engine import Engine
from bot.dialogue.model import Capabilities
from bot.settings import Settings
from tests.dialogue.driver import Person, World, build_engine


@pytest.fixture
def world(settings: Settings, clock: ManualClock, db: Database) -> World:
    return World(settings, clock, db)


@pytest.fixture
def engine(settings: Settings, clock: ManualClock, db: Database) -> Engine:
    return build_engine(settings, clock, db)


@pytest.fixture
def person(engine: Engine) -> Callable[..., Person]:
    """``person(caps, external_id, **options)``: someone on that channel."""

    def make(caps: Capabilities, external_id: int | str, **options: Any) -> Person:
        return Person(engine, caps, str(external_id), **options)

    return make
