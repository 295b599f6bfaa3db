"""Statements and round trips per conversation turn, by kind of turn: the company's walk of
``bench.conversation`` (register, apply with a deck, submit) run through the dialogue engine directly, each
turn's database work counted with SQLAlchemy's events (and, on PostgreSQL, the client's own protocol trace).

    .venv/bin/python -m bench.statements [--companies 5] [--database URL] [--verbose] [--cpu]

A *statement* is one ``execute`` SQLAlchemy sends (``BEGIN IMMEDIATE`` on SQLite included). A *round trip*
(PostgreSQL) is one wait for the server: every ``Sync`` or simple ``Query`` the client sends, ``BEGIN`` and
``COMMIT`` included, counted from libpq's trace of the wire protocol. ``--verbose`` lists each statement of
the last company's turns. ``--cpu``: nothing counted, the walk's CPU per turn instead (this process, which
runs the engine and the turns' client side, and on PostgreSQL the server processes serving it), steadier
than a benchmark's throughput on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ctypes
import datetime as dt
import os
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bench.common import add_database_option, cpu_used, database_name, own_cpu_seconds, postgres_cpu, reset_postgres
from bot.clock import ManualClock
from bot.database import Database
from bot.dialogue.engine import Engine
from bot.dialogue.model import TELEGRAM, Kind
from bot.settings import load_settings
from tests.dialogue.driver import Person, build_engine
from tests.handlers.committee import brn_for
from tests.harness import seed_departments

KST = dt.timezone(dt.timedelta(hours=9))
KIND_NAMES = {Kind.TEXT: "text answer", Kind.CHOICE: "button press", Kind.FILE: "file upload", Kind.COMMAND: "command"}


class Counter:
    """Counts what the engine's connections send while ``turn`` is open (turns run one at a time here)."""

    def __init__(self, db: Database) -> None:
        self.lock = threading.Lock()
        self.active = False
        self.statements: list[str] = []
        self.trips = 0
        self.traces: dict[int, Path] = {}
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
            if self.active:  # a statement run prepared is sent as EXECUTE: its SQL is the context's
                self.statements.append(" ".join((context.statement if context is not None else statement).split()))

        @event.listens_for(engine, "commit")
        def _commit(_conn: Any) -> None:
            if self.active:
                self.statements.append("COMMIT")

        if db.dialect == "postgresql":
            self.tracedir = Path(tempfile.mkdtemp(prefix="pgtrace-"))

            @event.listens_for(engine, "connect")
            def _trace(dbapi_conn: Any, _record: Any) -> None:
                path = self.tracedir / f"{id(dbapi_conn)}.trace"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                libpq_trace(dbapi_conn, fd)
                self.traces[id(dbapi_conn)] = path

    def _sent(self) -> int:
        """Round trips so far in all traces: the client's ``Sync`` and simple ``Query`` messages."""
        total = 0
        for path in self.traces.values():
            with open(path, errors="replace") as fh:
                total += sum(1 for line in fh if re.search(r"\tF\t\d+\t(Sync|Query)\b", line))
        return total

    @contextmanager
    def turn(self) -> Iterator[tuple[list[str], list[int]]]:
        self.statements = []
        before = self._sent() if self.traces else 0
        trips = [0]
        self.active = True
        try:
            yield self.statements, trips
        finally:
            self.active = False
            trips[0] = (self._sent() - before) if self.traces else 0


def libpq_trace(dbapi_conn: Any, fd: int) -> None:
    """libpq's trace of the wire protocol into ``fd``, line by line. psycopg2 has no call for it: libpq's
    ``PQtrace`` on the connection's own ``PGconn``, from the libpq psycopg2 loaded (its wheel brings one)."""
    if hasattr(dbapi_conn, "pgconn"):  # psycopg 3
        dbapi_conn.pgconn.trace(fd)
        return
    with open("/proc/self/maps") as maps:
        path = next(line.split()[-1] for line in maps if "/libpq" in line.split()[-1])
    libpq, libc = ctypes.CDLL(path), ctypes.CDLL(None)
    libc.fdopen.restype, libc.fdopen.argtypes = ctypes.c_void_p, [ctypes.c_int, ctypes.c_char_p]
    libpq.PQtrace.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    libpq.PQtrace(dbapi_conn.pgconn_ptr, libc.fdopen(fd, b"a"))  # PQtrace makes the stream line-buffered


class Counting(Person):
    """A person whose every turn is counted under its kind."""

    def __init__(self, *args: Any, counter: Counter, results: dict[str, list[tuple[int, int]]], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.counter, self.results = counter, results
        self.log: list[tuple[str, list[str], int]] = []

    async def handle(self, incoming: Any, fetch: Any = None) -> Any:
        with self.counter.turn() as (statements, trips):
            reply = await super().handle(incoming, fetch)
        name = KIND_NAMES.get(incoming.kind, incoming.kind.value)
        count = sum(1 for s in statements if s != "COMMIT")
        self.results[name].append((count, trips[0]))
        self.log.append((name, list(statements), trips[0]))
        return reply


async def walk(p: Person, i: int) -> None:
    from tests.dialogue.walks import fill_application, register_profile

    await register_profile(p, brn=brn_for(i), name=f"벤치기업{i}")
    await fill_application(p, product=f"제품 {i}")
    await p.press("제출하기")
    assert "접수되었습니다" in p.text, p.text


async def main(companies: int, database: str | None, verbose: bool, cpu: bool = False) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pitchbot-statements-"))
    url = database or f"sqlite:///{workdir / 'statements.db'}"
    if database:
        reset_postgres(database)
    settings = load_settings(telegram_token="123456:SANDBOX", database_url=url, files_dir=workdir / "files",
                             run_scheduler=False)  # fmt: skip
    clock = ManualClock(dt.datetime(2026, 12, 3, 10, 0, tzinfo=KST))
    db = Database(settings.database_url)
    db.upgrade()
    seed_departments(db, clock.now())
    with db.session() as session:
        session.execute(text("SELECT 1"))
    db.engine.dispose()  # connections opened from here on are traced
    engine: Engine = build_engine(settings, clock, db)
    if cpu:
        await cpu_per_turn(engine, companies, database)
        db.dispose()
        return
    counter = Counter(db)
    results: dict[str, list[tuple[int, int]]] = collections.defaultdict(list)
    last: Counting | None = None
    for i in range(companies):
        last = Counting(engine, TELEGRAM, str(700000 + i), counter=counter, results=results)
        await walk(last, i)
    print(f"database: {database_name(database)}; {companies} companies through the engine, the conversation walk")
    print(f"{'kind of turn':<14} {'turns':>5} {'statements (mean, max)':>24} {'round trips (mean, max)':>26}")
    every = [c for v in results.values() for c in v]
    for name, counts in [*sorted(results.items()), ("all", every)]:
        st, rt = [c[0] for c in counts], [c[1] for c in counts]
        trips = f"{statistics.mean(rt):>16.2f} {max(rt):>5}" if counter.traces else f"{'—':>22}"
        print(f"{name:<14} {len(counts):>5} {statistics.mean(st):>16.2f} {max(st):>6} {trips}")
    if verbose and last is not None:
        for name, statements, trips in last.log:
            print(f"\n-- {name}: {sum(1 for s in statements if s != 'COMMIT')} statements, {trips} round trips")
            for s in statements:
                print("   ", s if len(s) <= 200 else f"{s[:70]} … {s[-125:]}")
    db.dispose()


async def cpu_per_turn(engine: Engine, companies: int, database: str | None) -> None:
    """The walk's CPU per turn, after one company's walk to warm up (caches, prepared statements)."""
    await walk(Person(engine, TELEGRAM, "699999"), 10_000)
    turns = 0

    class Tally(Person):
        async def handle(self, incoming: Any, fetch: Any = None) -> Any:
            nonlocal turns
            turns += 1
            return await super().handle(incoming, fetch)

    server, own, started = postgres_cpu(database), own_cpu_seconds(), time.monotonic()
    for i in range(companies):
        await walk(Tally(engine, TELEGRAM, str(700000 + i)), i)
    elapsed = time.monotonic() - started
    own, server = own_cpu_seconds() - own, cpu_used(server, postgres_cpu(database))
    print(f"database: {database_name(database)}; {companies} companies, {turns} turns, one at a time")
    print(
        f"CPU per turn: this process {own / turns * 1000:.2f} ms; database server {server / turns * 1000:.2f} ms; "
        f"wall time per turn {elapsed / turns * 1000:.2f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=5)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--cpu", action="store_true", help="CPU per turn instead of counting statements")
    add_database_option(parser)
    args = parser.parse_args()
    asyncio.run(main(args.companies, args.database, args.verbose, args.cpu))
