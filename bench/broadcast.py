"""Broadcast: 3,000 recipients, the stand-in enforcing Telegram's 30 messages a second overall and one a
second per chat. Reports the achieved rate divided by the limit (target at least 0.9) and the counts of
lost, duplicated and unanswered-429 messages (target 0 each).

    .venv/bin/python -m bench.broadcast [--recipients 3000] [--rate 29]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlmodel import select
from telegram import Bot

from bot.calendar import Month, cycle_data, default_cycle
from bot.clock import SystemClock
from bot.context import AppContext
from bot.database import Database
from bot.models import Outbox
from bot.sandbox.botapi import BotApiServer
from bot.services import outbox, users
from bot.services.outbox import Planned
from bot.settings import load_settings
from handlers.telegram.sender import TelegramSender
from scheduler.dispatcher import Dispatcher

LIMIT = 30.0


async def main(recipients: int, rate: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-bench-"))
    settings = load_settings(database_url=f"sqlite:///{workdir / 'bench.db'}", send_rate=rate,
                             send_per_chat_interval=1.0, send_concurrency=4)  # fmt: skip
    db = Database(settings.database_url)
    db.upgrade()
    now = dt.datetime.now(dt.UTC)
    data = {"cycle": cycle_data(default_cycle(Month(2026, 12), settings.tz))}
    with db.session() as session:
        people = [users.ensure_user(session, "telegram", str(700000 + i), now) for i in range(recipients)]
        outbox.plan(session, [Planned(p, "reminders/window_open", data, "bench", now) for p in people], now)
    server = BotApiServer()
    server.flood_limit = (LIMIT, 1.0)
    await server.start()
    ctx = AppContext.create(settings, clock=SystemClock(), db=db)
    api = server.url
    async with Bot(server.token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot") as tg:
        dispatcher = Dispatcher(ctx, {"telegram": TelegramSender(tg, settings.send_timeout)}, "bench")
        started = time.monotonic()
        await dispatcher.drain(timeout=3600)
        elapsed = time.monotonic() - started
    await server.stop()
    delivered = Counter({chat: len(evs) for chat, evs in server.events.items() if evs})
    with db.session() as session:
        states = Counter(r.state for r in session.exec(select(Outbox)).all())
    lost = recipients - len(delivered)
    duplicated = sum(n - 1 for n in delivered.values())
    unanswered = sum(1 for chat in server.too_many if chat not in delivered)
    achieved = sum(delivered.values()) / elapsed
    print(f"recipients: {recipients}; dispatcher rate setting {rate}/s; stand-in limit {LIMIT:.0f}/s, 1/s per chat")
    refused = sum(server.too_many.values())
    print(f"sent in {elapsed:.1f} s: {achieved:.1f} messages/s; rows {dict(states)}; 429 answers: {refused}")
    print(f"rate ratio (achieved / limit): {achieved / LIMIT:.2f}  (target >= 0.9)")
    print(f"lost: {lost}, duplicated: {duplicated}, unanswered 429: {unanswered}  (target 0 each)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=29.0)
    args = parser.parse_args()
    asyncio.run(main(args.recipients, args.rate))
