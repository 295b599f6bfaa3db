"""A broadcast to 100,000 news subscribers, the bot in its own process against the stand-in Bot API (its
flood limit off, the bot's send rate raised, to keep the run short), while 20 people chat.

Reports how soon the organizer's confirmation is answered, the first message is out and the audience is
planned; the reply latency of the people chatting while it is planned; with ``--send``, the whole run (lost,
duplicated; the rate from the press to the last message's arrival, alone and, with the replies to the people
chatting, which draw on the same budget, as a share of the configured rate) and the bot's resident memory as
the messages go (the dispatcher keeps nothing per recipient, so it stays flat). ``--dispatchers N`` sends
from N ``pitchbot dispatch`` processes beside the bot (``PITCHBOT_RUN_DISPATCHER=false``), as README's
"several dispatchers": their CPU counts as the bot's.
``--claims`` times one claim of 100 rows with 0, 100,000 and 200,000 rows queued, the progress read
against a count of the outbox, and (PostgreSQL) prints the claim's query plan.

    .venv/bin/python -m bench.broadcast_large [--recipients 100000] [--chatters 20] [--rate 1000] [--send]
        [--dispatchers N] [--per-second] [--database URL]
    .venv/bin/python -m bench.broadcast_large --claims [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import and_, or_, select, text
from sqlmodel import Session, col

from bench.common import (
    bot_env,
    cpu_seconds,
    cpu_used,
    load_departments,
    own_cpu_seconds,
    peak_rss_mb,
    postgres_cpu,
    reset_postgres,
    start_process,
    stop_process,
)
from bot.database import Database
from bot.models import Broadcast, Outbox, OutboxState, User
from bot.sandbox.botapi import BotApiServer
from bot.sandbox.users import SimUser
from bot.services import outbox
from bot.settings import load_settings
from tests.handlers.committee import add_subscribers

ORGANIZER = 900001
FIRST = 3_000_000
CHATTER = 910000
NOW = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)  # the bot's PITCHBOT_FAKE_NOW (bench.common.bot_env)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))] if ordered else float("nan")


def broadcast_row(db: Database) -> Broadcast | None:
    with db.session() as session:
        row = session.exec(select(Broadcast)).scalars().first()  # type: ignore[call-overload]
        if row is not None:
            session.expunge(row)
        return row  # type: ignore[no-any-return]


async def until(check: Callable[[], bool], timeout: float, every: float = 0.05) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise TimeoutError("not reached in time")
        await asyncio.sleep(every)
    return time.monotonic()


async def chat(user: SimUser, stop: asyncio.Event, latencies: list[tuple[float, float]]) -> None:
    """Asks the bot things until told to stop; (when asked, how long the answer took)."""
    while not stop.is_set():
        await asyncio.sleep(random.uniform(0.5, 1.5))
        asked = time.monotonic()
        await user.send(random.choice(["/help", "/status", "/start"]))
        latencies.append((asked, time.monotonic() - asked))


async def broadcast(
    recipients: int,
    chatters: int,
    rate: float,
    send_all: bool,
    database: str | None,
    dispatchers: int = 0,
    per_second: bool = False,
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-bench-large-"))
    url = database or f"sqlite:///{workdir / 'bench.db'}"
    if database:
        reset_postgres(database)
    db = Database(url)
    db.upgrade()
    load_departments(url)  # as before a window: no empty-list warning among the organizer's replies
    seeded = time.monotonic()
    add_subscribers(db, NOW, recipients, FIRST)
    seeded = time.monotonic() - seeded
    server = BotApiServer()
    await server.start()
    env = bot_env(server, url, workdir, PITCHBOT_ORGANIZER_IDS=str(ORGANIZER), PITCHBOT_SEND_RATE=str(rate),
                  PITCHBOT_SEND_PER_CHAT_INTERVAL="0", PITCHBOT_SEND_CONCURRENCY="32")  # fmt: skip
    profile = ["-m", "cProfile", "-o", os.environ["BENCH_PROFILE"]] if os.environ.get("BENCH_PROFILE") else []
    if dispatchers:
        env["PITCHBOT_RUN_DISPATCHER"] = "false"
    proc = await start_process([*profile, "-m", "bot.cli", "run"], env, workdir / "bot.log")
    others = [
        await start_process(["-m", "bot.cli", "dispatch", "--worker", f"bench-{i}"], env, workdir / f"dispatch-{i}.log")
        for i in range(dispatchers)
    ]
    stop = asyncio.Event()
    talk: list[asyncio.Task[None]] = []
    try:
        organizer = SimUser(server, ORGANIZER, "운영자", timeout=120)
        await organizer.send("/start")  # the bot is up
        await organizer.send("/broadcast")
        await organizer.press("소식 구독자 전체")
        await organizer.press("직접 작성")
        await organizer.send("10만 명에게 보내는 안내입니다.", expect=2)
        latencies: list[tuple[float, float]] = []
        people = [SimUser(server, CHATTER + i, "사용자", timeout=60) for i in range(chatters)]
        talk = [asyncio.create_task(chat(p, stop, latencies)) for p in people]
        await asyncio.sleep(3)  # the chatting is under way
        rss_before = rss_mb(proc.pid)
        pressed = time.monotonic()
        [progress] = await organizer.press("보내기")
        replied = time.monotonic()
        first_out = asyncio.create_task(until(lambda: any(server.events.get(FIRST + i) for i in range(100)), 120))
        planned = await until(lambda: (b := broadcast_row(db)) is not None and b.status != "planning", 600, 0.1)
        first = await first_out
        during = [lat for at, lat in latencies if pressed <= at <= planned]
        before = [lat for at, lat in latencies if at < pressed]
        row = broadcast_row(db)
        assert row is not None
        kind = "PostgreSQL" if database else "SQLite"
        print(f"{recipients} news subscribers (seeded in {seeded:.1f} s), {chatters} people chatting; {kind}")
        print(f"confirmation answered in {replied - pressed:.2f} s; first message out after {first - pressed:.2f} s; "
              f"audience planned ({row.planned} rows) after {planned - pressed:.2f} s")  # fmt: skip
        if during and before:
            print(f"reply latency while planning: median {statistics.median(during) * 1000:.0f} ms, p99 "
                  f"{percentile(during, 0.99) * 1000:.0f} ms, max {max(during) * 1000:.0f} ms ({len(during)} "
                  f"replies); before: median {statistics.median(before) * 1000:.0f} ms")  # fmt: skip
        else:  # a small audience is planned before anyone chatting gets a reply in
            print(f"reply latency while planning: no reply fell within it ({len(before)} before)")
        if send_all:
            await _send_all(db, server, [proc.pid, *(p.pid for p in others)], recipients, pressed, rss_before,
                            database, rate, per_second)  # fmt: skip
        assert "공지 #1" in progress.text
    finally:
        stop.set()
        await asyncio.gather(*talk, return_exceptions=True)
        for process in [proc, *others]:
            await stop_process(process)
        await server.stop()
        db.dispose()


async def _send_all(db: Database, server: BotApiServer, pids: list[int], recipients: int, pressed: float,
                    rss_before: float, database: str | None, rate: float, per_second: bool) -> None:  # fmt: skip
    """Until every message is out: the bot's memory as they go, what arrived, and where the CPU went (the
    bot and its dispatcher processes if any, this process: the stand-in and the people chatting, PostgreSQL's
    processes serving the bot). ``pids``: the bot's first."""
    pid = pids[0]
    samples: list[tuple[int, float]] = []
    cpu = (sum(map(cpu_seconds, pids)), own_cpu_seconds(), postgres_cpu(database), _commits(db))
    while (row := broadcast_row(db)) is not None and row.status != "done":
        samples.append((row.sent + row.failed, rss_mb(pid)))
        # The stand-in keeps every message it got (100,000 of them) in this process: out of the collector's
        # sight, or its full collections pause the stand-in (~100 ms at a time), and the bot's sends with it.
        gc.freeze()
        await asyncio.sleep(2)
    # The send ended when its last message arrived (the broadcast's row says "done" at its next progress
    # check, and this loop looks every 2 s). The budget is shared with the replies to the people chatting.
    arrived = [e.at for i in range(recipients) for e in server.events.get(FIRST + i, ())]
    done = max(arrived) - pressed
    replies = sum(1 for i in range(CHATTER, CHATTER + 1000) for e in server.events.get(i, ())
                  if pressed <= e.at <= pressed + done)  # fmt: skip
    seconds = Counter(int(at - pressed) for at in arrived)
    slowest = min(seconds[s] for s in range(int(done)) if s >= 10) if done > 11 else None
    used = (sum(map(cpu_seconds, pids)) - cpu[0], own_cpu_seconds() - cpu[1], cpu_used(cpu[2], postgres_cpu(database)),
            _commits(db) - cpu[3])  # fmt: skip
    delivered = [len(server.events.get(FIRST + i, [])) for i in range(recipients)]
    lost = sum(1 for n in delivered if n == 0)
    duplicated = sum(n - 1 for n in delivered if n > 1)
    print(
        f"all sent in {done:.1f} s ({recipients / done:.0f} messages/s, with the {replies} replies to the people "
        f"chatting {(recipients + replies) / done / rate:.3f} of the rate); lost {lost}, duplicated {duplicated}"
    )
    if per_second:
        print("broadcast messages arrived in each second:", " ".join(str(seconds[k]) for k in range(int(done) + 1)))
    if slowest is not None:
        print(f"broadcast messages in the slowest whole second after the first ten: {slowest}")
    marks = [samples[int(share * (len(samples) - 1))] for share in (0.1, 0.25, 0.5, 0.75, 1.0)] if samples else []
    print(f"bot resident memory before {rss_before:.0f} MB; as messages went out: "
          + ", ".join(f"{n} sent: {mb:.0f} MB" for n, mb in marks)
          + f"; peak {peak_rss_mb(pid):.0f} MB")  # fmt: skip
    per = 1000 / recipients
    bot = f"bot and {len(pids) - 1} dispatchers" if len(pids) > 1 else "bot"
    print(f"CPU per message sent: {bot} {used[0] * per:.2f} ms, stand-in and chatting {used[1] * per:.2f} ms"
          + (f", PostgreSQL {used[2] * per:.2f} ms; transactions committed per message {used[3] / recipients:.2f}"
             if database else "")
          + f" (of {done:.0f} s on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f})")  # fmt: skip


def _commits(db: Database) -> int:
    """Transactions committed in this database so far (PostgreSQL; 0 on SQLite)."""
    if db.dialect != "postgresql":
        return 0
    with db.session() as session:
        found = session.execute(text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"))
        return int(found.scalar_one())


# ---- claims --------------------------------------------------------------------------------------------
def _timed(db: Database, action: Callable[[Session], object], rounds: int = 15) -> float:
    """Median milliseconds of ``action`` in a transaction rolled back each time (the queue stays as it is)."""
    times = []
    for _ in range(rounds + 1):
        with Session(db.engine) as session:
            started = time.perf_counter()
            action(session)
            times.append(time.perf_counter() - started)
            session.rollback()
    return statistics.median(times[1:]) * 1000  # the first one warms the statement cache


def _claim(session: Session) -> object:
    return outbox.claim(session, "bench", NOW, 100, dt.timedelta(seconds=60))


def _old_claim(session: Session) -> object:
    """The claim of before: one statement over pending and lease-expired rows together."""
    claimable = or_(
        and_(Outbox.state == OutboxState.PENDING.value, Outbox.due_at <= NOW),
        and_(Outbox.state == OutboxState.SENDING.value, Outbox.lease_until < NOW),
    )
    stmt = outbox.claim_statement(session, "bench", NOW, claimable, col(Outbox.due_at), 100, dt.timedelta(seconds=60))
    return session.execute(stmt, execution_options={"synchronize_session": False}).all()


def claims(database: str | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-bench-claims-"))
    url = database or f"sqlite:///{workdir / 'bench.db'}"
    if database:
        reset_postgres(database)
    db = Database(load_settings(database_url=url).database_url)
    db.upgrade()
    add_subscribers(db, NOW, 200_000, FIRST)
    with db.session() as session:
        ids = list(session.execute(select(User.id).order_by(User.id)).scalars())
    print(f"database: {'PostgreSQL' if database else 'SQLite'}; claim of 100 rows, median of 15")
    queued = 0
    for target in (0, 100_000, 200_000):
        if target > queued:
            with db.session() as session:
                who = (col(User.id) > ids[queued - 1] if queued else col(User.id) > 0) & (
                    col(User.id) <= ids[target - 1]
                )
                outbox.plan_audience(session, who, "broadcast/message", {"text": "x"}, "bench", NOW, NOW)
            queued = target
        if database:  # as autovacuum would after such an insert
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE outbox"))
        print(f"{queued:>7} queued: claim {_timed(db, _claim):.2f} ms (before: {_timed(db, _old_claim):.2f} ms); "
              f"counting the outbox for progress, as before: "
              f"{_timed(db, lambda s: outbox.counts_for(s, 'bench')):.2f} ms")  # fmt: skip
    print(f"progress now (the broadcast's row): {_timed(db, lambda s: s.get(Broadcast, 1)):.2f} ms")
    if database:
        _explain(db)
    db.dispose()


def _explain(db: Database) -> None:
    with Session(db.engine) as session:
        stmt = outbox.claim_statement(session, "bench", NOW, outbox.due(NOW), col(Outbox.due_at), 100,
                                      dt.timedelta(seconds=60))  # fmt: skip
        compiled = stmt.compile(dialect=session.get_bind().dialect)
        explain = f"EXPLAIN (ANALYZE, BUFFERS) {compiled}"
        plan = session.connection().exec_driver_sql(explain, compiled.params).scalars().all()
        session.rollback()
    print("the claim's plan at 200,000 queued:\n  " + "\n  ".join(plan))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--chatters", type=int, default=20)
    parser.add_argument("--rate", type=float, default=1000.0, help="the bot's send rate (the stand-in has no limit)")
    parser.add_argument("--send", action="store_true", help="send the whole broadcast, not only plan it")
    parser.add_argument("--claims", action="store_true", help="time claims at 0, 100,000 and 200,000 queued")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL; default SQLite")
    parser.add_argument("--dispatchers", type=int, default=0,
                        help="send from this many `pitchbot dispatch` processes, not the bot's")  # fmt: skip
    parser.add_argument("--per-second", action="store_true", help="with --send: the messages that arrived each second")
    args = parser.parse_args()
    if args.claims:
        claims(args.database)
    else:
        asyncio.run(broadcast(args.recipients, args.chatters, args.rate, args.send, args.database, args.dispatchers,
                              args.per_second))  # fmt: skip
