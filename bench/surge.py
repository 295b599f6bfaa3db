"""Deadline-day surge: 1,000 companies register and complete their applications within 10 minutes (the
last evening of the window). Each company starts at a uniformly spread moment of the period and answers
as fast as the bot replies. Reports the reply latency of every update (p50, p99, max) and the errors,
which must be 0.

    .venv/bin/python -m bench.surge [--companies 1000] [--minutes 10] [--speedup 1] [--database URL]

``--speedup 2`` plays the same arrivals in half the time (twice the load); ``--database`` a PostgreSQL URL
(its public schema is dropped and recreated first)."""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    add_database_option,
    bot_env,
    cpu_seconds,
    load_departments,
    peak_rss_mb,
    reset_postgres,
    start_process,
    stop_process,
    wait_polling,
)
from bot.sandbox.botapi import BotApiServer, Event
from bot.sandbox.users import SimUser
from tests.handlers.committee import brn_for
from tests.handlers.flows import fill_application, register_profile, submit

LATENCIES: list[float] = []


class TimedUser(SimUser):
    """A simulated company that notes how long each of its updates waited for the bot's reply."""

    async def _timed(self, call: Any) -> list[Event]:
        started = time.monotonic()
        events = await call
        LATENCIES.append(time.monotonic() - started)
        return events  # type: ignore[no-any-return]

    async def send(self, text: str, expect: int = 1) -> list[Event]:
        return await self._timed(super().send(text, expect))

    async def send_raw(self, expect: int = 1, **content: Any) -> list[Event]:
        return await self._timed(super().send_raw(expect, **content))

    async def press_data(self, data: str, message_id: int, expect: int = 1) -> list[Event]:
        return await self._timed(super().press_data(data, message_id, expect))


async def main(companies: int, minutes: float, speedup: float, database: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-surge-"))
    if database:
        reset_postgres(database)
    url = database or f"sqlite:///{workdir / 'surge.db'}"
    load_departments(url)
    server = BotApiServer()
    await server.start()
    proc = await start_process(["-m", "bot.cli", "run"], bot_env(server, url, workdir), workdir / "bot.log")
    period = minutes * 60 / speedup
    rng = random.Random(7)
    starts = sorted(rng.uniform(0, period) for _ in range(companies))
    errors: list[str] = []
    LATENCIES.clear()
    try:
        await wait_polling(server)

        async def company(i: int, at: float, t0: float) -> None:
            await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
            user = TimedUser(server, 800000 + i, f"기업{i}", timeout=60)
            try:
                await register_profile(user, brn=brn_for(i), name=f"마감기업{i}")
                await fill_application(user, product=f"제품 {i}", deck=i % 10 == 0)
                await submit(user)
            except Exception as err:  # a timeout, or an answer not as expected
                errors.append(f"{i}: {type(err).__name__}: {str(err)[:200]}")

        t0, cpu = time.monotonic(), cpu_seconds(proc.pid)
        await asyncio.gather(*(company(i, at, t0) for i, at in enumerate(starts)))
        elapsed = time.monotonic() - t0
        cpu_used = cpu_seconds(proc.pid) - cpu
        rss = peak_rss_mb(proc.pid)
    finally:
        await stop_process(proc)
        await server.stop()
    apologies = sum("일시적인 문제" in e.text for evs in server.events.values() for e in evs)
    lat = sorted(LATENCIES)
    p = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
    print(f"database: {'PostgreSQL' if database else 'SQLite'}; {companies} companies over {period:.0f} s "
          f"({minutes} min / speedup {speedup}); {len(lat)} updates in {elapsed:.0f} s "
          f"({len(lat) / elapsed:.1f} updates/s)")  # fmt: skip
    print(f"reply latency: p50 {p[49] * 1000:.0f} ms, p99 {p[98] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms")
    print(f"errors: {len(errors)}; apologies: {apologies}; Bot API refusals: {len(server.refusals)}")
    print(f"bot CPU per update: {cpu_used / len(lat) * 1000:.2f} ms; peak resident memory {rss:.0f} MB")
    for line in errors[:5]:
        print("  ", line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--speedup", type=float, default=1.0)
    add_database_option(parser)
    args = parser.parse_args()
    asyncio.run(main(args.companies, args.minutes, args.speedup, args.database))
