"""Sends due outbox rows within the channel's flood limits; one failing message never stops the others.

A row is marked sent in its own transaction right after the channel accepted it, so a crash can
duplicate at most the message in flight."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import time
from collections import defaultdict

from sqlmodel import select

from bot import delivery
from bot.context import AppContext
from bot.models import Outbox, User
from bot.services import outbox, users

log = logging.getLogger(__name__)


class _Pace:
    """At most ``rate`` sends a second overall; a 429 pauses everything for as long as asked."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            now = time.monotonic()
            slot = max(now, self.next)
            self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def pause(self, seconds: float) -> None:
        self.next = max(self.next, time.monotonic() + seconds)


class Dispatcher:
    def __init__(
        self,
        ctx: AppContext,
        senders: dict[str, delivery.Sender],
        worker: str | None = None,
        *,
        rate: float | None = None,
        per_chat_interval: float | None = None,
        batch: int = 50,
        lease: dt.timedelta | None = None,
        concurrency: int | None = None,
        max_attempts: int = 6,
        backoff: float = 1.0,
    ) -> None:
        s = ctx.settings
        self.ctx = ctx
        self.senders = senders
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.pace = _Pace(rate or s.send_rate)
        self.per_chat = per_chat_interval if per_chat_interval is not None else s.send_per_chat_interval
        self.batch = batch
        self.lease = lease or dt.timedelta(seconds=s.outbox_lease_seconds)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._slots = asyncio.Semaphore(concurrency or s.send_concurrency)
        self._chat_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._chat_next: dict[str, float] = {}
        self._wake = asyncio.Event()
        self.sent = 0
        self.failed = 0

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("dispatcher round failed; trying again")
                handled = 0
            if handled == 0:
                self._wake.clear()
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
                for w in waiters:
                    w.cancel()

    async def run_once(self) -> int:
        rows, people = await asyncio.to_thread(self._claim)
        if not rows:
            return 0
        await asyncio.gather(*(self._deliver(row, people.get(row.recipient_user_id)) for row in rows))
        return len(rows)

    async def drain(self, timeout: float = 60.0) -> None:
        """Sends until nothing is due (tests, the CLI's --once)."""
        deadline = time.monotonic() + timeout
        while await self.run_once():
            if time.monotonic() > deadline:
                raise TimeoutError("outbox not drained in time")

    # ---- one round -----------------------------------------------------------------------------
    def _claim(self) -> tuple[list[Outbox], dict[int, User]]:
        with self.ctx.db.session() as session:
            rows = outbox.claim(session, self.worker, self.ctx.clock.now(), self.batch, self.lease)
            ids = {r.recipient_user_id for r in rows}
            people = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids)))} if ids else {}  # type: ignore[union-attr]
        return rows, people  # type: ignore[return-value]

    def _db(self, fn: object, *args: object) -> asyncio.Future[bool]:
        def call() -> bool:
            with self.ctx.db.session() as session:
                return fn(session, *args)  # type: ignore[operator,no-any-return]

        return asyncio.ensure_future(asyncio.to_thread(call))

    async def _deliver(self, row: Outbox, person: User | None) -> None:
        assert row.id is not None
        sender = self.senders.get(row.channel)
        if person is None or not person.active or sender is None:
            reason = "recipient inactive (blocked the bot)" if person is not None else "recipient unknown"
            await self._fail(row, reason if sender else f"no sender for channel {row.channel}")
            return
        try:
            lang = users.language_of(person)
            html = self.ctx.texts.render(lang, row.template, **outbox.decode(row.data))
        except Exception as err:  # a template that cannot render will not render on a retry either
            await self._fail(row, f"template {row.template}: {err}")
            return
        plain = self.ctx.texts.render_plain(lang, row.template, **outbox.decode(row.data))
        async with self._slots:
            await self._send_with_retries(row, sender, html, plain, person)

    async def _send_with_retries(
        self, row: Outbox, sender: delivery.Sender, html: str, plain: str, person: User
    ) -> None:
        assert row.id is not None
        attempt = row.attempts
        waited = 0.0
        budget = self.lease.total_seconds() / 2  # retries in place must end well inside the lease
        chat_lock = self._chat_locks[row.chat_id]
        while True:
            async with chat_lock:
                gap = self._chat_next.get(row.chat_id, 0.0) - time.monotonic()
                if gap > 0:
                    await asyncio.sleep(gap)
                await self.pace.wait()
                try:
                    if row.document:
                        await sender.send_document(row.chat_id, row.document, html, plain)
                    else:
                        await sender.send(row.chat_id, html, plain)
                except delivery.RetryAfter as err:
                    self.pace.pause(err.seconds)
                    self._chat_next[row.chat_id] = time.monotonic() + err.seconds
                    delay, reason, counted = err.seconds, f"429 retry after {err.seconds}s", False
                except delivery.Blocked as err:
                    await asyncio.to_thread(self._deactivate, person)
                    await self._fail(row, f"blocked: {err}")
                    return
                except delivery.Rejected as err:
                    await self._fail(row, f"rejected: {err}")
                    return
                except (delivery.Transient, delivery.DeliveryError) as err:
                    attempt += 1
                    delay, reason, counted = min(self.backoff * 2 ** (attempt - row.attempts - 1), 60), str(err), True
                    if attempt >= self.max_attempts:
                        await self._fail(row, f"gave up after {attempt} attempts: {reason}")
                        return
                else:
                    self._chat_next[row.chat_id] = time.monotonic() + self.per_chat
                    await self._db(outbox.mark_sent, row.id, self.worker, self.ctx.clock.now())
                    self.sent += 1
                    return
            if waited + delay > budget:
                due = self.ctx.clock.now() + dt.timedelta(seconds=delay)
                await self._db(outbox.retry_later, row.id, self.worker, due, reason, counted)
                return
            log.info("outbox %s: %s; again in %.1fs", row.id, reason, delay)
            waited += delay
            await asyncio.sleep(delay)

    async def _fail(self, row: Outbox, reason: str) -> None:
        log.warning("outbox %s to %s failed: %s", row.id, row.chat_id, reason)
        self.failed += 1
        await self._db(outbox.mark_failed, row.id, self.worker, reason)

    def _deactivate(self, person: User) -> None:
        with self.ctx.db.session() as session:
            outbox.deactivate(session, person.id or 0, self.ctx.clock.now())
