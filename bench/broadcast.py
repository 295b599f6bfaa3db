"""Broadcast at Telegram's flood limit while people chat: the whole bot (replies and outbox sharing one
budget) against the stand-in enforcing 30 messages a second overall and one a second per chat.

Reports the broadcast's rate divided by the limit (target at least 0.95 with the default
``--rate 29``), the replies that never came (target 0), and lost and duplicated broadcast messages
(target 0 each), with the sends that timed out (each could have become a duplicate; none here).

    .venv/bin/python -m bench.broadcast [--recipients 3000] [--chatters 20] [--rate 29] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlmodel import func, select

from bench.common import add_database_option, reset_postgres
from bot.calendar import Month, cycle_data, default_cycle
from bot.clock import SystemClock
from bot.database import Database
from bot.models import Outbox
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.runner import SandboxBot
from bot.sandbox.users import SimUser
from bot.services import outbox, users
from bot.services.outbox import Planned
from bot.settings import load_settings

LIMIT = 30.0
FIRST_RECIPIENT = 700000
FIRST_CHATTER = 900100


def left(db: Database) -> int:
    with db.session() as session:
        busy = Outbox.state.in_(("pending", "sending"))  # type: ignore[attr-defined]
        return int(session.exec(select(func.count()).select_from(Outbox).where(busy)).one())


async def chatter(user: SimUser, done: asyncio.Event, latencies: list[float]) -> tuple[int, int]:
    """Asks the bot things until the broadcast is over; returns (messages sent, replies that never came)."""
    sent = unanswered = 0
    while not done.is_set():
        await asyncio.sleep(random.uniform(0.5, 1.5))
        started = time.monotonic()
        sent += 1
        try:
            await user.send(random.choice(["/help", "/status", "/start"]))
            latencies.append(time.monotonic() - started)
        except TimeoutError:
            unanswered += 1
    return sent, unanswered


async def main(recipients: int, chatters: int, rate: float, database: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-bench-"))
    url = database or f"sqlite:///{workdir / 'bench.db'}"
    if database:
        reset_postgres(database)
    settings = load_settings(
        telegram_token="123456:BENCH", database_url=url, files_dir=workdir / "files", run_scheduler=False,
        send_rate=rate, send_per_chat_interval=1.0, send_concurrency=4,
    )  # fmt: skip
    db = Database(settings.database_url)
    db.upgrade()
    now = dt.datetime.now(dt.UTC)
    data = {"cycle": cycle_data(default_cycle(Month(2026, 12), settings.tz))}
    with db.session() as session:
        people = [users.ensure_user(session, "telegram", str(FIRST_RECIPIENT + i), now) for i in range(recipients)]
        outbox.plan(session, [Planned(p, "reminders/window_open", data, "bench", now) for p in people], now)
    server = BotApiServer()
    server.flood_limit = (LIMIT, 1.0)
    await server.start()
    bot = SandboxBot(settings, SystemClock(), db, server)
    started = time.monotonic()
    await bot.start()  # the dispatcher starts on the planned rows at once
    done = asyncio.Event()
    latencies: list[float] = []
    sims = [SimUser(server, FIRST_CHATTER + i, "사용자", "ko", timeout=30.0) for i in range(chatters)]
    talk = [asyncio.create_task(chatter(u, done, latencies)) for u in sims]
    while left(db):
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    done.set()
    results = await asyncio.gather(*talk)
    await bot.stop()
    await server.stop()

    audience = range(FIRST_RECIPIENT, FIRST_RECIPIENT + recipients)
    delivered = Counter({chat: len(server.events[chat]) for chat in audience if server.events.get(chat)})
    with db.session() as session:
        states = Counter(r.state for r in session.exec(select(Outbox)).all())
        timed_out = session.exec(
            select(func.count()).select_from(Outbox).where(Outbox.last_error.contains("TimedOut"))  # type: ignore[union-attr]
        ).one()
    lost = recipients - len(delivered)
    duplicated = sum(n - 1 for n in delivered.values())
    asked = sum(s for s, _ in results)
    unanswered = sum(u for _, u in results)
    achieved = sum(delivered.values()) / elapsed
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan")
    kind = "PostgreSQL" if database else "SQLite"
    print(f"recipients {recipients}, {chatters} people chatting; budget {rate}/s for replies and outbox together; "
          f"stand-in limit {LIMIT:.0f}/s overall, 1/s per chat; database {kind}")  # fmt: skip
    print(f"broadcast sent in {elapsed:.1f} s: {achieved:.1f} messages/s; rows {dict(states)}; "
          f"429 answers: {sum(server.too_many.values())}")  # fmt: skip
    everything = sum(len(server.events[c]) for c in server.events) / elapsed  # replies included
    print(f"broadcast rate / limit: {achieved / LIMIT:.2f}; all messages (broadcast and replies) / limit: "
          f"{everything / LIMIT:.2f}  (target >= 0.95)")  # fmt: skip
    print(f"chat messages {asked}, replies that never came: {unanswered}  (target 0); reply latency "
          f"median {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")  # fmt: skip
    print(f"lost: {lost}, duplicated: {duplicated} (no crash; target 0 each); sends timed out: {timed_out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--chatters", type=int, default=20)
    parser.add_argument("--rate", type=float, default=29.0)
    add_database_option(parser)
    args = parser.parse_args()
    asyncio.run(main(args.recipients, args.chatters, args.rate, args.database))
