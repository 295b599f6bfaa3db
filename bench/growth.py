"""Growth: the cost of one conversation step with 50,000 companies and 200,000 outbox rows in the
database, divided by its cost with an empty one (target at most 1.25: indexes, no query per row).

    .venv/bin/python -m bench.growth [--companies 50000] [--outbox 200000] [--users 15]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bot.clock import ManualClock
from bot.database import Database
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.runner import SandboxBot
from bot.sandbox.users import SimUser
from bot.settings import load_settings
from tests.handlers.committee import brn_for
from tests.handlers.flows import register_profile

KST = dt.timezone(dt.timedelta(hours=9))


async def step_cost(server: BotApiServer, first_id: int, users: int, brn_offset: int) -> float:
    """Mean seconds per conversation step: people register one after another (no queueing)."""
    steps, started = 0, time.monotonic()
    for i in range(users):
        user = SimUser(server, first_id + i, f"성장{i}", timeout=60)
        await register_profile(user, brn=brn_for(brn_offset + i), name=f"성장기업{i}")
        steps += 11
    return (time.monotonic() - started) / steps


def populate(db: Database, companies: int, rows: int) -> None:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO users (channel, external_id, display_name, active, news_opt_out, created_at, "
                          "updated_at) VALUES ('telegram', :e, 'bulk', 1, 0, :t, :t)"),
                     [{"e": str(10_000_000 + i), "t": now} for i in range(companies)])  # fmt: skip
        first = conn.execute(text("SELECT min(id) FROM users WHERE display_name = 'bulk'")).scalar_one()
        conn.execute(text("INSERT INTO companies (owner_user_id, name, brn, representative, size, address, "
                          "contact_name, phone, email, consent_version, consent_at, created_at, updated_at) VALUES "
                          "(:u, 'bulk', :b, 'r', 'sme', '서울', 'c', '+821012345678', 'a@b.kr', 'v', :t, :t, :t)"),
                     [{"u": first + i, "b": f"9{i:09d}"[-10:], "t": now} for i in range(companies)])  # fmt: skip
        conn.execute(text("INSERT INTO outbox (recipient_user_id, channel, chat_id, template, data, event_key, state, "
                          "due_at, attempts, created_at, sent_at) VALUES (:u, 'telegram', :c, 'reminders/window_open', "
                          ":d, :k, 'sent', :t, 1, :t, :t)"),
                     [{"u": first + i % companies, "c": str(10_000_000 + i % companies), "d": json.dumps({}),
                       "k": f"bulk:{i // companies}", "t": now} for i in range(rows)])  # fmt: skip


async def main(companies: int, rows: int, users: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-bench-"))
    settings = load_settings(telegram_token="1:BENCH", database_url=f"sqlite:///{workdir / 'bench.db'}",
                             files_dir=workdir / "files", run_scheduler=False)  # fmt: skip
    db = Database(settings.database_url)
    db.upgrade()
    server = BotApiServer()
    await server.start()
    bot = SandboxBot(settings, ManualClock(dt.datetime(2026, 12, 3, 10, 0, tzinfo=KST)), db, server)
    await bot.start()
    try:
        await step_cost(server, 800000, 3, 10000)  # warm-up: imports, caches, compiled templates
        empty = min([await step_cost(server, 810000 + 1000 * r, users, 11000 + 1000 * r) for r in range(2)])
        started = time.monotonic()
        populate(db, companies, rows)
        filled = time.monotonic() - started
        grown = min([await step_cost(server, 830000 + 1000 * r, users, 13000 + 1000 * r) for r in range(2)])
    finally:
        await bot.stop()
        await server.stop()
    print(f"empty: {empty * 1000:.2f} ms per step; with {companies:,} companies and {rows:,} outbox rows "
          f"(loaded in {filled:.0f} s): {grown * 1000:.2f} ms per step")  # fmt: skip
    print(f"growth ratio (full / empty): {grown / empty:.2f}  (target <= 1.25)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=50_000)
    parser.add_argument("--outbox", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(main(args.companies, args.outbox, args.users))
