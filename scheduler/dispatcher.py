"""Sends due outbox rows within the channel's flood limits; one failing message never stops the others.

A row is marked sent right after the channel accepted it, together with the rows accepted while the
marking before ran (one statement and one commit for them all, not one per message); a send keeps its
place among the ``send_concurrency`` until its row is marked, so a crash can duplicate at most that many
messages, the ones in flight. One person's messages leave in the order they were planned:
a message waits for the one before it, and goes back to the outbox with it when that one is put off."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import json
import logging
import os
import socket
import time
from collections import defaultdict

from bot import delivery
from bot.budget import OUTBOX
from bot.context import AppContext
from bot.services import accounts, broadcasts, outbox, users
from bot.services.outbox import Claimed, Recipient
from bot.services.results import BUTTONS
from bot.texts import to_plain

log = logging.getLogger(__name__)


# Rows claimed at once: one KakaoTalk Event API call carries up to 100 people.
CLAIM_BATCH = 100


class Dispatcher:
    def __init__(
        self,
        ctx: AppContext,
        senders: dict[str, delivery.Sender],
        worker: str | None = None,
        *,
        per_chat_interval: float | None = None,
        batch: int = CLAIM_BATCH,
        lease: dt.timedelta | None = None,
        concurrency: int | None = None,
        max_attempts: int = 6,
        backoff: float = 1.0,
    ) -> None:
        s = ctx.settings
        self.ctx = ctx
        self.senders = senders
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.per_chat = per_chat_interval if per_chat_interval is not None else s.send_per_chat_interval
        self.batch = batch
        self.lease = lease or dt.timedelta(seconds=s.outbox_lease_seconds)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.concurrency = concurrency or s.send_concurrency
        self._slots = _Slots(self.concurrency)
        # Each person's latest row still on its way, across rounds: a row claimed by the next round waits
        # for it, as a row waits for the one before it within a round.
        self._last: dict[int, asyncio.Future[dt.datetime | None]] = {}
        self._chat_locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._chat_next: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._plan_wake = asyncio.Event()
        self._marks = _Marks(self)
        self._rendered: dict[tuple[str, ...], tuple[str, str]] = {}
        self.sent = 0
        self.failed = 0

    def wake(self) -> None:
        self._wake.set()
        self._plan_wake.set()

    async def _turn(self, channel: str, chat: str | None = None) -> None:
        """A slot of the channel's flood-limit budget, after any reply waiting for one."""
        await self.ctx.budget(channel).acquire(OUTBOX, chat)

    async def run(self, stop: asyncio.Event, idle: float = 1.0) -> None:
        """Rounds one after another; the next is claimed as soon as the last rows of the one before are
        on their way (no more of them left than sends at once), so the sends never run dry between
        rounds and no slot of the budget passes unused while a claim runs. Two rounds at most at once."""
        planner = asyncio.create_task(self._planner(stop, idle), name="broadcast-planner")
        earlier: asyncio.Task[int] | None = None
        current: asyncio.Task[int] | None = None
        try:
            while not stop.is_set():
                self._wake.clear()  # a wake from now on may be for rows this round's claim comes too early for
                nearly = asyncio.Event()
                current = asyncio.create_task(self.run_once(nearly), name="dispatcher-round")
                almost = asyncio.ensure_future(nearly.wait())
                await asyncio.wait([current, almost], return_when=asyncio.FIRST_COMPLETED)
                almost.cancel()
                if earlier is not None:
                    await _finished(earlier)
                    earlier = None
                if not current.done():
                    earlier = current  # its last rows are on their way: the next round is claimed meanwhile
                elif await _finished(current) == 0:
                    await _idle(stop, self._wake, idle, clear=False)
            if earlier is not None:
                await _finished(earlier)
        finally:  # cancelled (a stop that took too long): the rounds go with it, as they did inside it
            for round_ in (earlier, current):
                if round_ is not None and not round_.done():
                    round_.cancel()
        await planner

    async def _planner(self, stop: asyncio.Event, idle: float) -> None:
        """Plans broadcasts batch by batch beside the sending: the first rows go out while the rest are
        being planned, and each batch is a short transaction of its own."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                busy = await self.plan_once()
            except Exception:
                log.exception("planning a broadcast failed; trying again")
                busy = False
            if not busy:
                await _idle(stop, self._plan_wake, idle)
            elif self.ctx.db.dialect == "sqlite":  # one writer: it is left to turns and sends as long again
                await asyncio.sleep(time.monotonic() - started)

    async def plan_once(self) -> bool:
        """One batch of a broadcast being planned; False when none is."""
        return await asyncio.to_thread(self._plan_batch)

    def _plan_batch(self) -> bool:
        with self.ctx.db.session() as session:
            if not broadcasts.planning(session):  # a read: an idle planner never takes SQLite's write lock
                return False
        with self.ctx.db.session(writer=True) as session:
            return broadcasts.plan_batch(session, self.ctx.clock.now()) is not None

    async def run_once(self, nearly: asyncio.Event | None = None) -> int:
        """One round: claims due rows and sends them. ``nearly`` is set once no more of its rows are left
        than sends at once (:meth:`run`)."""
        started = time.monotonic()
        rows, people = await asyncio.to_thread(self._claim)
        if not rows:
            return 0
        lease = _Lease(self, [row.id for row in rows], started)
        loop = asyncio.get_running_loop()
        # Each row's outcome: None once sent or failed for good, else when it is due again.
        outcome: dict[int, asyncio.Future[dt.datetime | None]] = {row.id: loop.create_future() for row in rows}
        previous: dict[int, int] = {}
        last: dict[int, int] = {}
        earlier: dict[int, asyncio.Future[dt.datetime | None]] = {}  # rows whose person's row before is elsewhere
        for row in rows:  # claimed in planning order
            if row.recipient_user_id in last:
                previous[row.id] = last[row.recipient_user_id]
            elif (before := self._last.get(row.recipient_user_id)) is not None and not before.done():
                earlier[row.id] = before  # in the round before, still on its way
            last[row.recipient_user_id] = row.id
            self._last[row.recipient_user_id] = outcome[row.id]
        left = len(rows)
        if nearly is not None and left <= self.concurrency:
            nearly.set()

        async def send(unit: list[Claimed], batched: bool) -> None:
            nonlocal left
            due: dt.datetime | None = self.ctx.clock.now() + self.lease
            size = len(unit)
            try:
                befores = [await _after(outcome.get(previous.get(r.id, -1)) or earlier.get(r.id))
                           for r in unit]  # fmt: skip
                held = [(r, d) for r, d in zip(unit, befores, strict=True) if d is not None]
                if held:  # the one before was put off: this one goes back with it, to follow it again
                    await asyncio.gather(
                        *(self._db(outbox.retry_later, r.id, self.worker, d, None, False) for r, d in held)
                    )
                    for r, d in held:
                        outcome[r.id].set_result(d)
                    unit = [r for r in unit if not outcome[r.id].done()]
                if unit and batched:
                    due = await self._deliver_batch(unit, _addressed(people, unit[0]), lease)
                elif unit:
                    due = await self._deliver(unit[0], _addressed(people, unit[0]), lease)
            finally:  # a unit that broke leaves its rows to the lease; what follows them waits as long
                for r in unit:
                    if not outcome[r.id].done():
                        outcome[r.id].set_result(due)
                left -= size
                if nearly is not None and left <= self.concurrency:
                    nearly.set()

        singles, batches = self._units(rows, people, previous)
        try:
            await asyncio.gather(*(send([row], False) for row in singles), *(send(b, True) for b in batches))
        finally:
            for row in rows:
                if self._last.get(row.recipient_user_id) is outcome[row.id]:
                    del self._last[row.recipient_user_id]
        self._forget_chats()
        return len(rows)

    def _forget_chats(self) -> None:
        """The round is over: its chats' locks are free and go, and so do pauses that have passed; what a
        dispatcher keeps per chat stays as small as one round, however many people a broadcast reaches."""
        self._rendered.clear()
        for chat in [c for c, lock in self._chat_locks.items() if not lock.locked()]:
            del self._chat_locks[chat]
        now = time.monotonic()
        for chat in [c for c, until in self._chat_next.items() if until <= now]:
            del self._chat_next[chat]

    def _units(
        self, rows: list[Claimed], people: dict[tuple[int, str], Recipient], previous: dict[int, int]
    ) -> tuple[list[Claimed], list[list[Claimed]]]:
        """The same message to many (a broadcast) goes in one call where a channel takes many recipients at
        once (KakaoTalk: 100); everything else goes row by row. Only rows at the same place in their
        person's queue share a call, so a shared call never overtakes anyone's earlier message and no
        two calls wait for each other."""
        singles: list[Claimed] = []
        groups: dict[tuple[object, ...], list[Claimed]] = defaultdict(list)
        place: dict[int, int] = {}
        for row in rows:
            row_id = row.id
            place[row_id] = place[previous[row_id]] + 1 if row_id in previous else 0
            sender = self.senders.get(row.channel)
            person = _addressed(people, row)
            buttons = BUTTONS in (row.data or {})
            if sender is None or not hasattr(sender, "send_many") or row.document or buttons or not _reachable(person):
                singles.append(row)
                continue
            data = json.dumps(row.data, sort_keys=True)
            key = (place[row_id], row.channel, row.template, data, users.language_of(person), row.parts_sent)
            groups[key].append(row)
        batches = []
        for (_, channel, *_), group in groups.items():
            size = getattr(self.senders[channel], "batch", 1)
            batches += [group[i : i + size] for i in range(0, len(group), size)]
        return singles, batches

    async def _deliver_batch(self, rows: list[Claimed], person: Recipient | None, lease: _Lease) -> dt.datetime | None:
        """``person``: the first recipient, whose language the whole batch shares."""
        first = rows[0]
        sender = self.senders[first.channel]
        lang = users.language_of(person) if person else "ko"
        try:
            html, plain = self._render(first, lang)
        except Exception as err:
            for row in rows:
                await self._fail(row, f"template {first.template}: {err}")
            return None
        async with self._slots:
            await self._turn(first.channel)
            rows = [row for row in rows if await lease.keep(row.id)]
            if not rows:  # they outlived their lease and another dispatcher has them
                return self.ctx.clock.now()
            first = rows[0]  # its attempts and parts speak for the batch
            ids = [row.id for row in rows]
            pieces = (
                sender.pieces(html, plain, None)  # type: ignore[attr-defined]
                if hasattr(sender, "pieces")
                else [delivery.Piece(html, plain)]
            )
            start = min(first.parts_sent, len(pieces) - 1)
            try:
                for i in range(start, len(pieces)):
                    if i > start:
                        await self._turn(first.channel)
                    chat_ids = [row.chat_id for row in rows]
                    task = await sender.send_many(chat_ids, pieces[i].html, pieces[i].plain)  # type: ignore[attr-defined]
                    if i + 1 < len(pieces):  # a retry goes on from the next part
                        await self._db(outbox.mark_parts, ids, self.worker, i + 1)
                        first.parts_sent = i + 1
            except delivery.RetryAfter as err:
                await self.ctx.budget(first.channel).pause(err.seconds)
                due = self.ctx.clock.now() + dt.timedelta(seconds=err.seconds)
                await asyncio.gather(*(self._db(outbox.retry_later, i, self.worker, due, str(err), False) for i in ids))
                return due
            except delivery.Rejected as err:
                for row in rows:
                    await self._fail(row, f"rejected: {err}")
            except delivery.DeliveryError as err:
                if first.attempts >= self.max_attempts:
                    for row in rows:
                        await self._fail(row, f"gave up after {first.attempts} attempts: {err}")
                    return None
                due = self.ctx.clock.now() + dt.timedelta(seconds=min(self.backoff * 2**first.attempts, 60))
                await asyncio.gather(*(self._db(outbox.retry_later, i, self.worker, due, str(err)) for i in ids))
                return due
            else:
                await self._db(outbox.mark_sent_many, ids, self.worker, self.ctx.clock.now(), task)
                self.sent += len(rows)
        return None

    def _render(self, row: Claimed, lang: str) -> tuple[str, str]:
        """The row's text as HTML and plain text. A broadcast's rows share one text: it is rendered once a
        round for each language, not once a recipient (the round's end forgets it)."""
        key = (lang, row.template, row.channel, json.dumps(row.data, sort_keys=True))
        found = self._rendered.get(key)
        if found is None:
            data = outbox.decode(row.data)
            data.pop(BUTTONS, None)
            html = self.ctx.texts.render(lang, row.template, channel=row.channel, **data)
            found = self._rendered[key] = (html, to_plain(html))
        return found

    async def drain(self, timeout: float = 60.0) -> None:
        """Sends until nothing is due (tests, the CLI's --once)."""
        deadline = time.monotonic() + timeout
        while await self.plan_once() or await self.run_once():
            if time.monotonic() > deadline:
                raise TimeoutError("outbox not drained in time")

    # ---- one round -----------------------------------------------------------------------------
    def _claim(self) -> tuple[list[Claimed], dict[tuple[int, str], Recipient]]:
        with self.ctx.db.session() as session:
            rows = outbox.claim(session, self.worker, self.ctx.clock.now(), self.batch, self.lease)
            people = outbox.recipients(session, rows)
        return rows, people

    def _db(self, fn: object, *args: object) -> asyncio.Future[bool]:
        def call() -> bool:
            with self.ctx.db.session() as session:
                return fn(session, *args)  # type: ignore[operator,no-any-return]

        return asyncio.ensure_future(asyncio.to_thread(call))

    async def _deliver(self, row: Claimed, person: Recipient | None, lease: _Lease) -> dt.datetime | None:
        sender = self.senders.get(row.channel)
        if person is not None and not _reachable(person) and await self._readdress(row):
            return self.ctx.clock.now()
        if not _reachable(person) or sender is None:
            reason = "recipient unknown"
            if person is not None:
                reason = person.inactive_reason or "recipient inactive (blocked the bot)"
            await self._fail(row, reason if sender else f"no sender for channel {row.channel}")
            return None
        try:
            lang = users.language_of(person)
            buttons = [(self.ctx.texts.label(lang, key), token) for key, token in (row.data or {}).get(BUTTONS) or []]
            html, plain = self._render(row, lang)
        except Exception as err:  # a template that cannot render will not render on a retry either
            await self._fail(row, f"template {row.template}: {err}")
            return None
        pieces = (
            sender.pieces(html, plain, row.document)  # type: ignore[attr-defined]
            if hasattr(sender, "pieces")
            else [delivery.Piece(html, plain, row.document)]
        )
        if buttons:  # under the last part, where a long text ends
            pieces[-1] = dataclasses.replace(pieces[-1], buttons=tuple(buttons))
        return await self._send_with_retries(row, sender, pieces, person, lease)

    async def _send_with_retries(
        self, row: Claimed, sender: delivery.Sender, pieces: list[delivery.Piece], person: Recipient, lease: _Lease
    ) -> dt.datetime | None:
        """None once the row is sent or failed for good; else the time it is due again."""
        attempt = row.attempts
        waited = 0.0
        budget = self.lease.total_seconds() / 2  # retries in place must end well inside the lease
        chat_lock = self._chat_locks[row.chat_id]
        while True:
            async with chat_lock:
                gap = self._chat_next.get(row.chat_id, 0.0) - time.monotonic()
                if gap > 0:
                    await asyncio.sleep(gap)
                piece = pieces[min(row.parts_sent, len(pieces) - 1)]
                try:
                    async with self._slots:  # held until the row is marked: a crash duplicates no more
                        await self._turn(row.channel, row.chat_id)
                        if not await lease.keep(row.id):  # it outlived its lease and another dispatcher has it
                            return self.ctx.clock.now()
                        if piece.document:
                            task = await sender.send_document(row.chat_id, piece.document, piece.html, piece.plain)
                        elif piece.buttons:
                            task = await sender.send(row.chat_id, piece.html, piece.plain, buttons=piece.buttons)
                        else:
                            task = await sender.send(row.chat_id, piece.html, piece.plain)
                        self._chat_next[row.chat_id] = time.monotonic() + self.per_chat
                        if row.parts_sent + 1 < len(pieces):  # more of a long text to send
                            row.parts_sent += 1
                            await self._db(outbox.mark_parts, [row.id], self.worker, row.parts_sent)
                            continue
                        await self._marks.sent(row.id, task if isinstance(task, str) else None)
                        self.sent += 1
                        return None
                except delivery.RetryAfter as err:
                    # This chat waits; the others go on unless the whole channel is over its limit.
                    self._chat_next[row.chat_id] = time.monotonic() + err.seconds
                    await self.ctx.budget(row.channel).refused(row.chat_id, err.seconds)
                    delay, reason, counted = err.seconds, f"429 retry after {err.seconds}s", False
                except delivery.Blocked as err:
                    await asyncio.to_thread(self._deactivate, person)
                    if await self._readdress(row):  # the person's other channel
                        return self.ctx.clock.now()
                    await self._fail(row, f"blocked: {err}")
                    return None
                except delivery.Rejected as err:
                    await self._fail(row, f"rejected: {err}")
                    return None
                except (delivery.Transient, delivery.DeliveryError) as err:
                    attempt += 1
                    delay, reason, counted = min(self.backoff * 2 ** (attempt - row.attempts - 1), 60), str(err), True
                    if attempt >= self.max_attempts:
                        await self._fail(row, f"gave up after {attempt} attempts: {reason}")
                        return None
            if waited + delay > budget:
                due = self.ctx.clock.now() + dt.timedelta(seconds=delay)
                await self._db(outbox.retry_later, row.id, self.worker, due, reason, counted)
                return due
            log.info("outbox %s: %s; again in %.1fs", row.id, reason, delay)
            waited += delay
            await asyncio.sleep(delay)

    async def _fail(self, row: Claimed, reason: str) -> None:
        log.warning("outbox %s to %s failed: %s", row.id, row.chat_id, reason)
        self.failed += 1
        await self._db(outbox.mark_failed, row.id, self.worker, reason)

    def _mark_sent(self, sent: dict[int, str | None], now: dt.datetime) -> set[int]:
        with self.ctx.db.statements() as connection:
            return outbox.mark_sent_together(connection, sent, self.worker, now)

    def _readdress(self, row: Claimed) -> asyncio.Future[bool]:
        return self._db(outbox.readdress, row.id, row.recipient_user_id, self.worker, self.ctx.clock.now())

    def _deactivate(self, person: Recipient) -> None:
        with self.ctx.db.session() as session:
            outbox.deactivate(session, person.id, self.ctx.clock.now())


class _Marks:
    """Rows sent one by one are marked sent together: while one marking runs (a thread, a statement, a
    commit that waits for the disk), the rows sent meanwhile gather and go in the next, so a broadcast costs
    a commit for every few dozen messages rather than one each, and no row waits longer than one marking
    before its own starts. Each send waits until its row is marked (or the marking failed, which the round
    reports): nothing counts as sent before the database says so."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._waiting: dict[int, tuple[str | None, asyncio.Future[bool]]] = {}
        self._marking: asyncio.Task[None] | None = None

    async def sent(self, row_id: int, task_id: str | None) -> bool:
        """Returns once the row is marked; False when another dispatcher had taken it meanwhile."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting[row_id] = (task_id, done)
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark(), name="outbox-marks")
        return await done

    async def _mark(self) -> None:
        d = self.dispatcher
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            sent = {row_id: task_id for row_id, (task_id, _) in batch.items()}
            try:
                marked = await asyncio.to_thread(d._mark_sent, sent, d.ctx.clock.now())
            except Exception as err:  # each send raises it: the round fails, the lease brings the rows back
                for _, done in batch.values():
                    if not done.done():
                        done.set_exception(err)
                continue
            for row_id, (_, done) in batch.items():
                if not done.done():
                    done.set_result(row_id in marked)


class _Slots:
    """The sends at once: a semaphore, first come first served, whose every step costs the same however many
    wait. asyncio's own looks at all its waiters on each acquire (``locked()``): with a round's rows queued
    for 32 slots, 17 µs a send at 1,000 a second."""

    def __init__(self, n: int) -> None:
        self._free = n
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed the slot as it was cancelled: it goes on
                self._release()
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    async def __aexit__(self, *_exc: object) -> None:
        self._release()

    def _release(self) -> None:
        while self._waiters:  # straight to the next in line: nobody arriving meanwhile overtakes it
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class _Lease:
    """A round's rows stay this dispatcher's only while their lease holds. Before a send that could
    outlast it the lease is renewed, and a row another dispatcher has claimed meanwhile is not sent:
    a slow channel never makes two dispatchers send the same row."""

    def __init__(self, dispatcher: Dispatcher, ids: list[int], started: float) -> None:
        self.dispatcher = dispatcher
        self.seconds = dispatcher.lease.total_seconds()
        self.valid_until = started + self.seconds
        self.margin = min(dispatcher.ctx.settings.send_timeout + 1.0, self.seconds / 2)
        self.kept = set(ids)
        self._lock = asyncio.Lock()

    async def keep(self, row_id: int) -> bool:
        if row_id in self.kept and time.monotonic() + self.margin < self.valid_until:
            return True
        async with self._lock:
            if time.monotonic() + self.margin >= self.valid_until:
                d = self.dispatcher
                started = time.monotonic()
                self.kept = await d._db(outbox.renew, list(self.kept), d.worker, d.ctx.clock.now(), d.lease)
                self.valid_until = started + self.seconds
        return row_id in self.kept


async def _idle(stop: asyncio.Event, wake: asyncio.Event, idle: float, clear: bool = True) -> None:
    """Waits for a wake-up, the stop, or ``idle`` seconds."""
    if clear:
        wake.clear()
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    await asyncio.wait(waiters, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
    for w in waiters:
        w.cancel()


async def _finished(round_: asyncio.Task[int]) -> int:
    """The rows a round handled; 0 when it failed (logged: the lease brings its rows back)."""
    try:
        return await round_
    except Exception:
        log.exception("dispatcher round failed; trying again")
        return 0


async def _after(before: asyncio.Future[dt.datetime | None] | None) -> dt.datetime | None:
    return None if before is None else await before


def _addressed(people: dict[tuple[int, str], Recipient], row: Claimed) -> Recipient | None:
    return people.get((row.recipient_user_id, row.channel))


def _reachable(person: Recipient | None) -> bool:
    """Someone who blocked the bot, or left the KakaoTalk channel, gets nothing until they come back."""
    return person is not None and accounts.reachable(person)
