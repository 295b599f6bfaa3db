"""Runs the calendar's tick in a process: at the next due time and every ``TICK_INTERVAL``. What is due
is always read from the database; this loop only says when to look.

Several processes may serve one bot (webhook workers): exactly one of them ticks at a time. On PostgreSQL
it holds an advisory lock on a connection of its own for as long as it lives; on SQLite, a lock on a file
beside the database. When it dies, the lock goes with it and another process takes over at its next try."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from collections.abc import Callable
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.context import AppContext
from scheduler.tick import TickReport, tick

log = logging.getLogger(__name__)
LOCK_KEY = 0x50495443  # "PITC": any number, the same in every process of this bot


def run_tick(ctx: AppContext) -> TickReport:
    with ctx.db.session() as session:
        return tick(session, ctx.clock.now(), ctx.settings)


class Ticker:
    def __init__(self, ctx: AppContext, on_planned: Callable[[], None] | None = None) -> None:
        self.ctx = ctx
        self.on_planned = on_planned
        self._lock: Connection | None = None
        self._file: IO[str] | None = None

    def holds_lock(self) -> bool:
        """True when this process is the one that ticks."""
        engine = self.ctx.db.engine
        if engine.dialect.name != "postgresql":
            return self._holds_file_lock()
        try:
            if self._lock is not None:
                self._lock.execute(text("SELECT 1"))  # still ours while the connection lives
                return True
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
                self._lock = conn
                log.info("this process ticks the calendar")
                return True
            conn.close()
        except Exception as err:  # a lost connection loses the lock too; try again next time
            log.warning("tick lock: %s", err)
            self.release()
        return False

    def _holds_file_lock(self) -> bool:
        database = self.ctx.db.engine.url.database
        if not database or database == ":memory:" or self._file is not None:
            return True
        handle = open(f"{database}.tick.lock", "a")  # noqa: SIM115 (held open: the lock lives with it)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the file releases its lock
            self._file = None
        if self._lock is not None:
            try:
                # A session's lock lives with its server connection, which close() would keep in the pool.
                self._lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                self._lock.close()
            except Exception:
                log.debug("tick lock connection already gone")
            self._lock = None

    async def run(self, stop: asyncio.Event) -> None:
        interval = self.ctx.settings.tick_interval
        while not stop.is_set():
            delay = interval
            try:
                if await asyncio.to_thread(self.holds_lock):
                    report = await asyncio.to_thread(run_tick, self.ctx)
                    if report.planned or report.transitions:
                        log.info("tick: planned %s message(s); phases %s", report.planned, report.transitions)
                    if report.pruned:
                        log.info("tick: deleted %s outbox row(s) past their retention", report.pruned)
                    if report.planned and self.on_planned is not None:
                        self.on_planned()
                    if report.next_due is not None:
                        # The clock may be a rehearsal clock: wait the same span of real time.
                        delay = min(interval, max((report.next_due - self.ctx.clock.now()).total_seconds(), 0) + 0.5)
            except Exception:
                log.exception("tick failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        await asyncio.to_thread(self.release)
