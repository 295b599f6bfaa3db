"""Conversation throughput and CPU: 200 companies register, apply (each with a 5 MB pitch deck) and submit
at once, against echo bots answering the same number of messages from the same number of people.

The yardstick is an echo bot on the bot's own HTTP client (aiohttp) and its own concurrency (32 updates
at once, each person's in order), so the ratio shows the bot's own work; a bare python-telegram-bot echo
(httpx, one update at a time) is the second yardstick. Rounds are paired: each round runs the bot and
both echo bots one after the other (the bot first in even rounds, last in odd ones), so a busy minute on a
shared machine weighs on both sides; every figure is the median of the rounds with the lowest and highest.
Targets: the bot's CPU per update at most 2.5 times the aiohttp echo's; peak resident memory under 250 MB.

    .venv/bin/python -m bench.conversation [--companies 200] [--rounds 5] [--deck-mb 5] [--database URL] [--workers N]

``--database`` runs the bot on PostgreSQL (its public schema is dropped and recreated before each round);
the CPU of the database server's processes serving the bot is then reported beside the bot's.
``--workers N`` runs the bot as N webhook workers on the one database, the stand-in posting each update to
the next of them (README's "Running several workers"); their CPU is summed, and every round is checked for
updates lost or doubled. Without it the bot is one long-polling process, as the echo bots always are.
``PITCHBOT_SEND_RATE`` is 1,000 (Telegram's ceiling for paid broadcasts) so the flood-limit budget, which
still runs, does not cap the figure; the stand-in enforces no limit here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    add_database_option,
    bot_env,
    cpu_seconds,
    cpu_used,
    database_name,
    load_departments,
    own_cpu_seconds,
    pdf_deck,
    peak_rss_mb,
    pin_postgres,
    pin_split,
    postgres_cpu,
    reset_postgres,
    spread,
    start_process,
    stop_process,
    wait_polling,
)
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.health import wait_healthy
from bot.sandbox.runner import free_port
from bot.sandbox.users import SimUser
from tests.handlers.committee import brn_for
from tests.handlers.flows import fill_application, register_profile, submit

WEBHOOK_SECRET = "bench-webhook-secret"
UPDATES_PER_COMPANY = 23  # the walk below: 11 to register, 11 to apply (the deck one, 「선택 완료」 one), 1 to submit


@dataclass(frozen=True)
class Run:
    rate: float  # updates per second
    updates: int
    cpu_per_update: float  # seconds of the bot processes' CPU (every worker's)
    load_cpu: float  # share of a core the load generator and stand-in server used
    rss_mb: float = float("nan")
    db_cpu_per_update: float = 0.0  # seconds of the database server's CPU (PostgreSQL)
    problems: tuple[str, ...] = ()  # what several workers got wrong (lost, doubled), checked with --workers
    loop_cpu_per_update: float = 0.0  # of that, the main threads', where the event loops run


async def echo_rate(companies: int, per_user: int, workdir: Path, transport: str = "") -> Run:
    server = BotApiServer()
    await server.start()
    env = {"ECHO_TOKEN": server.token, "ECHO_API_URL": server.url, "ECHO_TRANSPORT": transport}
    proc = await start_process(["-m", "bench.echo_bot"], env, workdir / "echo.log")
    try:
        await wait_polling(server)

        async def one(i: int) -> None:
            user = SimUser(server, 500000 + i, f"echo{i}", timeout=120)
            for n in range(per_user):
                await user.send(f"message {n}")

        started, cpu, own = time.monotonic(), cpu_seconds(proc.pid), own_cpu_seconds()
        await asyncio.gather(*(one(i) for i in range(companies)))
        elapsed = time.monotonic() - started
        updates = companies * per_user
        return Run(updates / elapsed, updates, (cpu_seconds(proc.pid) - cpu) / updates,
                   (own_cpu_seconds() - own) / elapsed)  # fmt: skip
    finally:
        await stop_process(proc)
        await server.stop()


async def start_bots(server: BotApiServer, env: dict[str, str], workdir: Path, workers: int,
                     procs: list[asyncio.subprocess.Process]) -> None:  # fmt: skip
    """One long-polling bot (``workers`` 0), or that many webhook workers behind the stand-in's round-robin
    load balancer, as README's "Running several workers" deploys them; ``procs`` gets each as it starts."""
    profile = os.environ.get("BENCH_PROFILE")
    if not workers:
        args = ["-m", "cProfile", "-o", profile] if profile else []
        procs.append(await start_process([*args, "-m", "bot.cli", "run"], env, workdir / "bot.log"))
        await wait_polling(server)
        return
    ports = [free_port() for _ in range(workers)]
    hooks = [f"http://127.0.0.1:{port}/telegram/webhook" for port in ports]
    logs = [workdir / f"bot{i}.log" for i in range(workers)]
    for i, (port, hook, log) in enumerate(zip(ports, hooks, logs, strict=True)):
        args = ["-m", "cProfile", "-o", f"{profile}.{i}"] if profile else []
        own = {"PITCHBOT_HTTP_HOST": "127.0.0.1", "PITCHBOT_HTTP_PORT": str(port),
               "PITCHBOT_TELEGRAM_WEBHOOK_URL": hook, "PITCHBOT_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET}  # fmt: skip
        procs.append(await start_process([*args, "-m", "bot.cli", "run", "--webhook"], {**env, **own}, log))
    await asyncio.gather(*(wait_healthy(port, process=proc, log=log)
                           for port, proc, log in zip(ports, procs[-workers:], logs, strict=True)))  # fmt: skip
    server.deliver_to = hooks


def delivery_problems(server: BotApiServer, url: str, receipts: list[str], workdir: Path) -> list[str]:
    """What the workers got wrong, if anything: an update posted twice or refused, one not applied (each
    person's conversation remembers the keys of its last 32 updates, more than the walk's 23), a reply
    lost or sent twice (everyone walks the same path, so everyone gets as many messages), a receipt
    missing or given twice, a traceback in a worker's log."""
    from sqlmodel import select

    from bot.database import Database
    from bot.models import Conversation, User
    from bot.settings import load_settings

    found = []
    if server.webhook_posts != len(server.pushed) or server.webhook_failures or server.refusals:
        found.append(f"{server.webhook_posts} posts for {len(server.pushed)} updates, {len(server.webhook_failures)} "
                     f"failed, {len(server.refusals)} Bot API calls refused")  # fmt: skip
    pushed = Counter(update.get("message", update.get("callback_query", {})).get("from", {}).get("id")
                     for update in server.pushed.values())  # fmt: skip
    db = Database(load_settings(database_url=url).database_url)
    try:
        with db.session() as session:
            people = select(User, Conversation).join(Conversation, Conversation.user_id == User.id)
            applied = {int(u.external_id): len(set(c.recent)) for u, c in session.exec(people)}
    finally:
        db.dispose()
    unapplied = sum(max(n - applied.get(tg, 0), 0) for tg, n in pushed.items())
    if unapplied:
        found.append(f"{unapplied} updates not applied")
    replies = Counter(len(server.events[tg]) for tg in pushed)
    if len(replies) > 1:
        found.append(f"people got different numbers of messages (count: people): {dict(replies)}")
    if len(set(receipts)) != len(receipts):
        found.append(f"{len(receipts) - len(set(receipts))} receipts given twice")
    for log in sorted(workdir.glob("bot*.log")):
        if "Traceback" in log.read_text(errors="replace"):
            found.append(f"a traceback in {log.name}")
    return found


async def bot_rate(companies: int, workdir: Path, database: str | None = None, deck: bytes | None = None,
                   workers: int = 0) -> Run:  # fmt: skip
    if database:
        reset_postgres(database)
    server = BotApiServer()
    await server.start()
    env = bot_env(server, database or f"sqlite:///{workdir / 'bench.db'}", workdir, PITCHBOT_SEND_RATE="1000")
    load_departments(env["PITCHBOT_DATABASE_URL"])
    procs: list[asyncio.subprocess.Process] = []
    try:
        await start_bots(server, env, workdir, workers, procs)
        first = next(server._update_ids)

        async def one(i: int) -> str:
            user = SimUser(server, 600000 + i, f"기업{i}", timeout=180)
            await register_profile(user, brn=brn_for(i), name=f"벤치기업{i}")
            if deck is None:
                await fill_application(user, product=f"제품 {i}")
            else:
                await fill_application(user, product=f"제품 {i}", deck_content=deck)
            return await submit(user)

        def bots_cpu() -> float:
            return sum(cpu_seconds(proc.pid) for proc in procs)

        def loops_cpu() -> float:  # `pitchbot run` serves on its main thread; turns run on threads of their own
            return sum(cpu_seconds(proc.pid, proc.pid) for proc in procs)

        db_before = postgres_cpu(database)
        started, cpu, loop, own = time.monotonic(), bots_cpu(), loops_cpu(), own_cpu_seconds()
        receipts = await asyncio.gather(*(one(i) for i in range(companies)))
        elapsed = time.monotonic() - started
        bot_cpu, loop_cpu, own_cpu = bots_cpu() - cpu, loops_cpu() - loop, own_cpu_seconds() - own
        db_cpu = cpu_used(db_before, postgres_cpu(database))
        updates = next(server._update_ids) - first - 1
        rss = max(peak_rss_mb(proc.pid) for proc in procs)
        problems = delivery_problems(server, env["PITCHBOT_DATABASE_URL"], receipts, workdir) if workers else []
        return Run(updates / elapsed, updates, bot_cpu / updates, own_cpu / elapsed, rss, db_cpu / updates,
                   tuple(problems), loop_cpu / updates)  # fmt: skip
    finally:
        await asyncio.gather(*(stop_process(proc) for proc in procs))
        await server.stop()


async def paired_round(n: int, companies: int, database: str | None, deck: bytes | None,
                       workers: int = 0) -> tuple[Run, Run | None, Run, Run]:  # fmt: skip
    """The bot and both echo bots once, in reverse order in odd rounds so that a busy minute weighs on both
    sides; with ``database``, the bot on PostgreSQL and then (or before) on SQLite, side by side."""
    workdir = Path(tempfile.mkdtemp(prefix=f"pitchbot-bench-{n}-"))
    found: dict[str, Run] = {}
    legs = {
        "bot": lambda: bot_rate(companies, workdir / "bot", database, deck, workers),
        "sqlite": lambda: bot_rate(companies, workdir / "sqlite", None, deck, workers),
        "same": lambda: echo_rate(companies, UPDATES_PER_COMPANY, workdir / "same", transport="aiohttp"),
        "bare": lambda: echo_rate(companies, UPDATES_PER_COMPANY, workdir / "bare"),
    }
    order = ["bot", "sqlite", "same", "bare"] if database else ["bot", "same", "bare"]
    try:
        for leg in order if n % 2 == 0 else reversed(order):
            (workdir / leg).mkdir()
            found[leg] = await legs[leg]()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    bot = found["bot"]
    if bot.updates != companies * UPDATES_PER_COMPANY:
        print(f"  note: the bot got {bot.updates} updates, the echo bots {companies * UPDATES_PER_COMPANY}")
    for problem in bot.problems + (found["sqlite"].problems if database else ()):
        print(f"  note: {problem}")
    return bot, found.get("sqlite"), found["same"], found["bare"]


def ms(values: list[float]) -> str:
    return spread([v * 1000 for v in values])


async def main(companies: int, rounds: int, database: str | None = None, deck_mb: float = 5.0,
               workers: int = 0, pin: bool = False) -> None:  # fmt: skip
    deck = pdf_deck(deck_mb) if deck_mb > 0 else None
    runs: list[tuple[Run, Run | None, Run, Run]] = []
    if pin:
        bot_cores, rest = pin_split()
        trouble = pin_postgres(database, rest)
        print(f"pinned: the bot and the echo bots on core {min(bot_cores)}; the stand-in, the simulated people"
              f"{' and the database server' if database else ''} on {', '.join(map(str, sorted(rest)))}"
              f"{f' ({trouble})' if trouble else ''}", flush=True)  # fmt: skip
    try:
        for n in range(rounds):
            bot, lite, same, bare = await paired_round(n, companies, database, deck, workers)
            runs.append((bot, lite, same, bare))
            beside = f" (SQLite {lite.rate:.0f})" if lite else ""
            print(f"round {n + 1}: updates/s bot {bot.rate:.0f}{beside}, aiohttp echo {same.rate:.0f}, bare echo "
                  f"{bare.rate:.0f}; CPU per update bot {bot.cpu_per_update * 1000:.2f} ms (+ database "
                  f"{bot.db_cpu_per_update * 1000:.2f}), aiohttp echo {same.cpu_per_update * 1000:.2f}, bare echo "
                  f"{bare.cpu_per_update * 1000:.2f}", flush=True)  # fmt: skip
    finally:
        if pin:
            pin_postgres(database, bot_cores | rest)  # every core again
    bots, sames, bares = ([r[i] for r in runs] for i in (0, 2, 3))
    decks = f"a {deck_mb:g} MB deck each" if deck else "the sample deck"
    bots_are = f"; the bot as {workers} webhook worker{'s' if workers > 1 else ''}" if workers else ""
    print(f"database: {database_name(database)}{bots_are}; {companies} companies, {UPDATES_PER_COMPANY} updates "
          f"each ({decks}); {rounds} paired rounds; median (lowest–highest round)")  # fmt: skip
    print(
        f"updates/s: bot {spread([b.rate for b in bots], '{:.0f}')}; echo on aiohttp "
        f"{spread([s.rate for s in sames], '{:.0f}')}; bare PTB echo {spread([b.rate for b in bares], '{:.0f}')}"
    )
    print(f"throughput, bot ÷ aiohttp echo (same round): {spread([b.rate / s.rate for b, _, s, _ in runs])}; "
          f"bot ÷ bare PTB echo: {spread([b.rate / e.rate for b, _, _, e in runs])}")  # fmt: skip
    print(
        f"CPU per update (ms): bot {ms([b.cpu_per_update for b in bots])}; aiohttp echo "
        f"{ms([s.cpu_per_update for s in sames])}; bare PTB echo {ms([b.cpu_per_update for b in bares])}"
    )
    ratio = [b.cpu_per_update / s.cpu_per_update for b, _, s, _ in runs]
    print(f"CPU per update, bot ÷ aiohttp echo (same round): {spread(ratio)}  (target <= 2.5)")
    loops = [b.loop_cpu_per_update / s.cpu_per_update for b, _, s, _ in runs]
    print(f"of the bot's, its event loop's thread (the rest: turns, file writes): "
          f"{ms([b.loop_cpu_per_update for b in bots])} ms; ÷ aiohttp echo (same round): {spread(loops)}")  # fmt: skip
    if database:
        both = [(b.cpu_per_update + b.db_cpu_per_update) / s.cpu_per_update for b, _, s, _ in runs]
        print(f"database server CPU per update (ms): {ms([b.db_cpu_per_update for b in bots])}; bot and database "
              f"÷ aiohttp echo: {spread(both)}")  # fmt: skip
        pairs = [(b, lite) for b, lite, _, _ in runs if lite is not None]
        print(f"the same bot on SQLite in the same rounds: updates/s {spread([lt.rate for _, lt in pairs], '{:.0f}')}"
              f"; CPU per update {ms([lt.cpu_per_update for _, lt in pairs])} ms, its event loop's thread "
              f"{ms([lt.loop_cpu_per_update for _, lt in pairs])} ms")  # fmt: skip
        cpu = [b.cpu_per_update / lt.cpu_per_update for b, lt in pairs]
        print(f"PostgreSQL ÷ SQLite (same round): updates/s {spread([b.rate / lt.rate for b, lt in pairs])} "
              f"(target >= 1); the bot's CPU per update {spread(cpu)}")  # fmt: skip
    print(f"load generator busy (share of a core): bot runs {spread([b.load_cpu for b in bots], '{:.0%}')}; "
          f"aiohttp echo runs {spread([s.load_cpu for s in sames], '{:.0%}')}")  # fmt: skip
    largest = " (the largest worker's)" if workers > 1 else ""
    print(f"bot peak resident memory{largest}: {spread([b.rss_mb for b in bots], '{:.0f}')} MB  (target < 250 MB)")
    if workers:
        wrong = sum(1 for b in bots if b.problems)
        print(f"every update posted once and applied once, every reply and receipt once: "
              f"{'yes, every round' if not wrong else f'NO, in {wrong} of {rounds} rounds (notes above)'}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--deck-mb", type=float, default=5.0, help="size of each pitch deck; 0: the tiny sample")
    parser.add_argument("--workers", type=int, default=0, metavar="N",
                        help="N bot processes in webhook mode behind the stand-in's round-robin; default one "
                        "long-polling process")  # fmt: skip
    parser.add_argument("--pin", action="store_true",
                        help="the bot (and the echo bots) on a core of their own; the stand-in, the simulated "
                        "people and a local database server on the others, as with the database on a machine of "
                        "its own")  # fmt: skip
    add_database_option(parser)
    args = parser.parse_args()
    if args.workers < 0:
        parser.error("--workers must be 1 or more")
    if args.pin and args.workers:
        parser.error("--pin gives one process a core of its own: not with --workers")
    asyncio.run(main(args.companies, args.rounds, args.database, args.deck_mb, args.workers, args.pin))
