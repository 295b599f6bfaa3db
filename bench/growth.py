"""Growth: the cost of a conversation step with 50,000 companies, 100,000 applications and 200,000 outbox
rows in the database, divided by its cost with an empty one (target at most 1.25: indexes, no query per
row). A step is any of a company's walk: registering its profile, filling in the application (with a
deck) and submitting it, so the application's own queries (one per company and month, receipt numbers,
the month's window) are measured too.

    .venv/bin/python -m bench.growth [--companies 50000] [--outbox 200000] [--users 15] [--database URL]

The figure is the best of two passes per database state (people one after another, so nothing queues);
``--database`` runs on PostgreSQL (its public schema is dropped and recreated first).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench.common import add_database_option, database_name, load_departments, reset_postgres
from bench.conversation import UPDATES_PER_COMPANY
from bot.clock import ManualClock
from bot.database import Database
from bot.models import Application, Company, Outbox, User
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.runner import SandboxBot
from bot.sandbox.users import SimUser
from bot.settings import load_settings
from tests.handlers.committee import brn_for
from tests.handlers.flows import fill_application, register_profile, submit

KST = dt.timezone(dt.timedelta(hours=9))
CHUNK = 5_000  # rows a statement when filling the database


async def step_cost(server: BotApiServer, first_id: int, users: int, brn_offset: int) -> float:
    """Mean seconds per conversation step: companies register, apply and submit one after another."""
    started = time.monotonic()
    for i in range(users):
        user = SimUser(server, first_id + i, f"성장{i}", timeout=60)
        await register_profile(user, brn=brn_for(brn_offset + i), name=f"성장기업{i}")
        await fill_application(user, product=f"성장 제품 {i}")
        await submit(user)
    return (time.monotonic() - started) / (users * UPDATES_PER_COMPANY)


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def populate(db: Database, companies: int, rows: int) -> None:
    """Companies with a profile, each with an application last month and half of them this month too, and
    a history of sent outbox rows: what a few years of the programme leave behind."""
    now = dt.datetime.now(dt.UTC)
    stamps = {"created_at": now, "updated_at": now}
    profile = {
        "name": "bulk",
        "representative": "r",
        "size": "sme",
        "address": "서울",
        "contact_name": "c",
        "phone": "+821012345678",
        "email": "a@b.kr",
        "consent_version": "v",
        "consent_at": now,
        **stamps,
    }
    form = {
        "status": "submitted",
        "product_name": "bulk",
        "tech_fields": ["ai"],
        "trl": 7,
        "summary": "s",
        "city_use": "c",
        "department_ids": [1],
        "submitted_at": now,
        "updated_at": now,
    }
    sent = {"channel": "telegram", "template": "reminders/window_open", "data": {}, "state": "sent", "due_at": now,
            "attempts": 1, "created_at": now, "sent_at": now}  # fmt: skip
    with db.engine.begin() as conn:
        people = [{"channel": "telegram", "external_id": str(10_000_000 + i), "display_name": "bulk", "active": True,
                   "news_opt_out": False, **stamps} for i in range(companies)]  # fmt: skip
        for part in _chunks(people):
            conn.execute(insert(User), part)
        first = conn.execute(select(User.id).where(User.external_id == "10000000")).scalar_one()  # type: ignore[arg-type]
        owned = [{"owner_user_id": first + i, "brn": f"9{i:09d}"[-10:], **profile} for i in range(companies)]
        for part in _chunks(owned):
            conn.execute(insert(Company), part)
        company0 = conn.execute(select(Company.id).where(Company.owner_user_id == first)).scalar_one()  # type: ignore[arg-type]
        applied = [("2026-11", i) for i in range(companies)] + [("2026-12", i) for i in range(0, companies, 2)]
        apps = [{"company_id": company0 + i, "month": m, "receipt_no": f"BULK-{m}-{i}", **form} for m, i in applied]
        for part in _chunks(apps):
            conn.execute(insert(Application), part)
        history = [{"recipient_user_id": first + i % companies, "chat_id": str(10_000_000 + i % companies),
                    "event_key": f"bulk:{i // companies}", **sent} for i in range(rows)]  # fmt: skip
        for part in _chunks(history):
            conn.execute(insert(Outbox), part)
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:  # as autovacuum would soon: the planner sees the new sizes
            conn.exec_driver_sql("ANALYZE")


async def main(companies: int, rows: int, users: int, database: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-bench-"))
    if database:
        reset_postgres(database)
    settings = load_settings(telegram_token="1:BENCH", database_url=database or f"sqlite:///{workdir / 'bench.db'}",
                             files_dir=workdir / "files", run_scheduler=False, send_rate=1000)  # fmt: skip
    db = Database(settings.database_url)
    db.upgrade()
    load_departments(settings.database_url)
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
    print(f"database: {database_name(database)}; {users} companies register, apply and submit, "
          f"{UPDATES_PER_COMPANY} steps each, best of two passes")  # fmt: skip
    print(f"empty: {empty * 1000:.2f} ms per step; with {companies:,} companies, {companies * 3 // 2:,} applications "
          f"and {rows:,} outbox rows (loaded in {filled:.0f} s): {grown * 1000:.2f} ms per step")  # fmt: skip
    print(f"growth ratio (full / empty): {grown / empty:.2f}  (target <= 1.25)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=50_000)
    parser.add_argument("--outbox", type=int, default=200_000)
    parser.add_argument("--users", type=int, default=15)
    add_database_option(parser)
    args = parser.parse_args()
    asyncio.run(main(args.companies, args.outbox, args.users, args.database))
