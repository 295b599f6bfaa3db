"""The guard every test runs under (tests/loop_guard.py): it names a coroutine of the bot's that runs a statement
on the event loop, and lets alone the same statement run off the loop, or by a test."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.database import Database
from tests import loop_guard

# Code that reads as the bot's own: compiled under a file name in bot/ (no such file is written).
BOT_CODE = """
import asyncio
from sqlalchemy import text

async def on_the_loop(db):
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))

async def off_the_loop(db):
    def read():
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 2"))
    await asyncio.to_thread(read)

def read_now(db):
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 3"))

async def scheduled(db):
    done = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(lambda: (read_now(db), done.set_result(None)))
    await done
"""


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[tuple[Database, dict[str, Any]]]:
    """A database, and the bot's made-up module; the guard's findings so far forgotten."""
    names: dict[str, Any] = {}
    exec(compile(BOT_CODE, str(loop_guard.ROOT / "bot" / "made_for_the_guard_test.py"), "exec"), names)
    db = Database(f"sqlite:///{tmp_path / 'g.db'}")
    loop_guard.take()
    yield db, names
    db.dispose()


async def test_a_bot_coroutine_reading_on_the_loop_is_named(scene: tuple[Database, dict[str, Any]]) -> None:
    db, bot = scene
    await bot["on_the_loop"](db)
    [found] = loop_guard.take()
    assert "SELECT 1" in found and "bot/made_for_the_guard_test.py:7 on_the_loop" in found


async def test_a_plain_callback_of_the_bot_on_the_loop_is_named(scene: tuple[Database, dict[str, Any]]) -> None:
    db, bot = scene
    await bot["scheduled"](db)
    [found] = loop_guard.take()
    assert "SELECT 3" in found and "read_now" in found


async def test_the_bot_off_the_loop_and_a_test_on_it_are_let_alone(scene: tuple[Database, dict[str, Any]]) -> None:
    db, bot = scene
    await bot["off_the_loop"](db)
    with db.engine.connect() as conn:  # the test itself, setting up or checking a scene
        conn.execute(text("SELECT 4"))
    bot["read_now"](db)  # a plain function of the bot's, called by the test
    await asyncio.sleep(0)
    assert loop_guard.take() == []
