"""The clock is injected everywhere: real time, a rehearsal clock that runs on, or a test clock."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class ShiftedClock:
    """Starts at ``start`` and runs on at real speed: rehearsals and demos (``PITCHBOT_FAKE_NOW``)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = start.astimezone(UTC)
        self._origin = time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._origin)


class ManualClock:
    """Stands still until moved: tests and the simulation."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("when must be timezone-aware")
        self._now = when.astimezone(UTC)

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta


def clock_for(fake_now: dt.datetime | None) -> Clock:
    """The process's clock: the system's, or one that starts at ``PITCHBOT_FAKE_NOW`` and runs on from it."""
    return ShiftedClock(fake_now) if fake_now is not None else SystemClock()
