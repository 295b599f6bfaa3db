"""The threads turns run on: a person's turns in order, errors handed back to the awaiting coroutine, and a
thread that ends when idle and starts again when there is work."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.dialogue import worker as worker_module
from bot.dialogue.worker import Worker, Workers


async def test_jobs_run_in_order_off_the_loop() -> None:
    w = Worker("t")
    seen: list[int] = []
    loop_thread = threading.get_ident()

    def job(n: int) -> int:
        assert threading.get_ident() != loop_thread
        seen.append(n)
        return n * 2

    results = await asyncio.gather(*(w.run(lambda n=n: job(n)) for n in range(50)))
    assert results == [n * 2 for n in range(50)] and seen == list(range(50))


async def test_an_error_reaches_the_caller_and_the_worker_goes_on() -> None:
    w = Worker("t")

    def broken() -> None:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await w.run(broken)
    assert await w.run(lambda: 7) == 7


async def test_an_idle_thread_ends_and_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "IDLE_SECONDS", 0.05)
    w = Worker("t")
    assert await w.run(lambda: 1) == 1
    for _ in range(100):
        if w._thread is None:
            break
        await asyncio.sleep(0.02)
    assert w._thread is None
    assert await w.run(lambda: 2) == 2


async def test_one_persons_jobs_go_to_one_worker() -> None:
    pool = Workers(4)
    names = {await pool.run("telegram:42", lambda: threading.current_thread().name) for _ in range(20)}
    assert len(names) == 1
