"""Where turns run: off the event loop, on threads of their own, in batches.

Under load many turns wait at once. Handing each to a thread and back costs a thread wake-up, a wake-up
of the event loop and a contest for the interpreter lock, nearly a millisecond of CPU a turn; a worker
that takes every turn waiting and wakes the loop once for all of them pays that once per batch."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
IDLE_SECONDS = 5.0
Job = tuple[Callable[[], Any], asyncio.Future[Any]]


class Worker:
    """One thread that runs jobs in the order given; several workers run side by side (PostgreSQL)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: deque[Job] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, job: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._ready:
            if self._thread is None or self._loop is not loop:
                self._loop = loop
                self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
                self._thread.start()
            self._jobs.append((job, future))
            self._ready.notify()
        return await future

    def _work(self) -> None:
        loop = self._loop
        assert loop is not None
        while True:
            with self._ready:
                if not self._jobs:
                    self._ready.wait(timeout=IDLE_SECONDS)
                if not self._jobs:  # idle a while: the thread ends, the next job starts another
                    self._thread = None
                    return
                batch = list(self._jobs)
                self._jobs.clear()
            done: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
            for job, future in batch:
                try:
                    done.append((future, job(), None))
                except BaseException as err:  # handed to the awaiting coroutine, raised there
                    done.append((future, None, err))
            if loop.is_closed():
                return
            loop.call_soon_threadsafe(_settle, done)


def _settle(done: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in done:
        if future.cancelled():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class Workers:
    """Turns of one person go to the same worker (their order kept); different people spread out."""

    def __init__(self, count: int, name: str = "turn") -> None:
        self._workers = [Worker(f"{name}-{i}") for i in range(count)]

    async def run(self, key: str, job: Callable[[], T]) -> T:
        worker = self._workers[hash(key) % len(self._workers)]
        return await worker.run(job)
