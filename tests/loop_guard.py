"""Every test checks that the bot runs no SQL statement on an event loop's thread (issue 16: a statement there
stops every chat, webhook and send until the database answers).

A statement counts against the bot when, walking out from it, a coroutine of the bot's own code (or a plain
callback the loop runs) comes before any frame of the tests, the sandbox's scripted people or the benchmarks:
those may read and write the database on the loop to set up and check a scene, the bot may not."""

from __future__ import annotations

import asyncio
import inspect
import sys
import threading
from pathlib import Path
from types import FrameType

from sqlalchemy import event
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
# Code's file names are as it was imported: a checkout reached through a symbolic link is named both ways.
_ROOTS = tuple(dict.fromkeys(f"{root}/" for root in (ROOT, Path(__file__).absolute().parents[1])))
_BOT = tuple(f"{root}{part}/" for root in _ROOTS for part in ("bot", "handlers", "scheduler"))
_ALLOWED = tuple(f"{root}{part}/" for root in _ROOTS for part in ("tests", "bench", "bot/sandbox"))
_ASYNC = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR

_found: list[str] = []
_lock = threading.Lock()


def _on_the_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def culprit(frame: FrameType | None) -> list[str] | None:
    """The bot's frames that ran a statement on the loop, innermost first; None when the statement is not the
    bot's doing (a test's, or code that no coroutine of the bot called)."""
    ours: list[str] = []
    while frame is not None:
        code = frame.f_code
        name = code.co_filename
        if name.startswith(_ALLOWED):
            return None
        if name.startswith(_BOT):
            short = next(name[len(root) :] for root in _ROOTS if name.startswith(root))
            ours.append(f"{short}:{frame.f_lineno} {code.co_name}")
            if code.co_flags & _ASYNC:
                return ours
        elif code.co_name == "_run" and name.endswith("asyncio/events.py"):
            return ours or None  # the top of a loop callback: a plain function of the bot's, or nobody's
        frame = frame.f_back
    return None


def _check(conn: object, cursor: object, statement: str, *args: object) -> None:
    if not _on_the_loop():
        return
    frames = culprit(sys._getframe(1))
    if frames:
        with _lock:
            _found.append(f"{statement.split(chr(10))[0][:100]}\n      " + "\n      ".join(frames[:8]))


def install() -> None:
    """Every engine, every test: the listener is on the class."""
    if not event.contains(Engine, "before_cursor_execute", _check):
        event.listen(Engine, "before_cursor_execute", _check)


def take() -> list[str]:
    """What was found since the last call, and forget it."""
    with _lock:
        found = list(_found)
        _found.clear()
    return found
