"""Several processes serve one bot: two `pitchbot run --webhook` workers on one database, and every update
of 50 people registering and applying at once alternates between them (the stand-in posts them through
a round-robin load balancer, as Telegram's webhook would reach workers behind one). No answer is lost, no
turn is applied twice, each update gets its one reply."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

from sqlmodel import select

from bot.database import Database
from bot.models import Application, AuditLog, Conversation, User
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.health import wait_healthy
from bot.sandbox.runner import free_port
from bot.sandbox.users import SimUser
from tests.handlers.committee import brn_for
from tests.handlers.flows import fill_application, register_profile, submit
from tests.harness import seed_departments
from tests.test_crash import bot_env, stop

PEOPLE = 50
SECRET = "sandbox-webhook-secret"


async def company(server: BotApiServer, n: int) -> str:
    user = SimUser(server, 7700 + n, f"기업{n}", timeout=60)
    await register_profile(user, brn=brn_for(n), name=f"기업{n}")
    await fill_application(user, product=f"제품 {n}", deck=n % 5 == 0)
    return await submit(user)


async def test_two_webhook_workers_share_the_people(tmp_path: Path, database_url: str) -> None:
    db = Database(database_url)
    db.upgrade()
    seed_departments(db, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    db.dispose()
    server = BotApiServer()
    await server.start()
    ports = [free_port(), free_port()]
    procs = []
    logs = [tmp_path / f"worker{i}.log" for i in range(2)]
    try:
        for port, log in zip(ports, logs, strict=True):
            env = bot_env(server, database_url, tmp_path, PITCHBOT_HTTP_HOST="127.0.0.1", PITCHBOT_HTTP_PORT=str(port),
                          PITCHBOT_TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
                          PITCHBOT_TELEGRAM_WEBHOOK_SECRET=SECRET)  # fmt: skip
            out = open(log, "ab")  # noqa: SIM115
            procs.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.cli", "run", "--webhook", env=env, stdout=out, stderr=out))  # fmt: skip
        await asyncio.gather(*(wait_healthy(port, process=proc, log=log)
                               for port, proc, log in zip(ports, procs, logs, strict=True)))  # fmt: skip
        assert server.webhook is not None and server.webhook["secret"] == SECRET
        server.deliver_to = [f"http://127.0.0.1:{port}/telegram/webhook" for port in ports]
        receipts = await asyncio.gather(*(company(server, n) for n in range(PEOPLE)))
        await asyncio.sleep(1.0)  # anything sent twice would arrive meanwhile
    finally:
        for proc in procs:
            await stop(proc)
        await server.stop()

    assert len(set(receipts)) == PEOPLE  # every application received, once
    pushed = Counter(update.get("message", update.get("callback_query", {})).get("from", {}).get("id")
                     for update in server.pushed.values())  # fmt: skip
    replies = Counter({tg: len(server.events[tg]) for tg in range(7700, 7700 + PEOPLE)})
    decks = [7700 + n for n in range(PEOPLE) if n % 5 == 0]
    # Same walk, same replies: a reply lost or sent twice would make one person's count differ.
    assert len({replies[tg] for tg in replies if tg not in decks}) == 1, replies
    assert len({replies[tg] for tg in decks}) == 1, replies
    db = Database(database_url)
    with db.session() as session:
        applied = {
            int(u.external_id): len(set(c.recent))
            for u, c in session.exec(select(User, Conversation).join(Conversation, Conversation.user_id == User.id))
        }
        actions = Counter(a.action for a in session.exec(select(AuditLog)))
        assert len(session.exec(select(Application)).all()) == PEOPLE
    db.dispose()
    # Each update applied exactly once: every update key a person sent is among those their conversation applied.
    assert all(applied[tg] == pushed[tg] for tg in replies), {tg: (applied[tg], pushed[tg]) for tg in replies}
    assert actions["company_created"] == PEOPLE and actions["application_submitted"] == PEOPLE
    assert server.webhook_posts >= len(server.pushed) and not server.refusals
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]
