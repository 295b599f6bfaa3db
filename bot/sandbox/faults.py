"""Injected faults of the stand-ins: the first matching fault, after letting ``after`` calls through,
answers ``times`` calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar


class _Fault(Protocol):
    times: int
    after: int


F = TypeVar("F", bound=_Fault)


def take(faults: list[F], matches: Callable[[F], bool]) -> F | None:
    for fault in faults:
        if matches(fault):
            if fault.after > 0:
                fault.after -= 1
                return None
            fault.times -= 1
            if fault.times <= 0:
                faults.remove(fault)
            return fault
    return None
