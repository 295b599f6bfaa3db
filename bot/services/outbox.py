"""The outbox: every message the bot sends on its own initiative is a row here first.

Planning is idempotent (one row per recipient and event key); claiming is one atomic
``UPDATE … RETURNING`` with a lease, so two dispatchers never send the same row and a row claimed by a
dead process is picked up again when its lease runs out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlmodel import Session

from bot.database import insert_for, notify
from bot.models import Outbox, OutboxState, User
from bot.services import accounts

_DT = "__dt__"
_DATE = "__date__"


def encode(value: Any) -> Any:
    """Template data as JSON: aware datetimes and dates become tagged ISO strings."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in outbox data")
        return {_DT: value.astimezone(dt.UTC).isoformat()}
    if isinstance(value, dt.date):
        return {_DATE: value.isoformat()}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_DT}:
            return dt.datetime.fromisoformat(value[_DT])
        if set(value) == {_DATE}:
            return dt.date.fromisoformat(value[_DATE])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


@dataclass(frozen=True)
class Planned:
    user: User
    template: str
    data: dict[str, Any]
    event_key: str
    due_at: dt.datetime
    document: dict[str, Any] | None = None


def plan(session: Session, items: Iterable[Planned], now: dt.datetime) -> int:
    """Inserts the messages that are not planned yet, in the caller's transaction (a workflow step and its
    messages land together); returns how many were new. The dispatcher is woken once it commits."""
    items = list(items)
    routes = accounts.deliver_to(session, list({i.user.id: i.user for i in items}.values()))
    rows = [
        {
            "recipient_user_id": item.user.id,
            "channel": routes.get(item.user.id or 0, item.user).channel,
            "chat_id": routes.get(item.user.id or 0, item.user).external_id,
            "template": item.template,
            "data": encode(item.data),
            "event_key": item.event_key,
            "document": item.document,
            "state": OutboxState.PENDING.value,
            "due_at": item.due_at,
            "attempts": 0,
            "created_at": now,
        }
        for item in items
    ]
    if not rows:
        return 0
    insert = insert_for(session)
    new = 0
    for start in range(0, len(rows), 500):
        stmt = insert(Outbox).values(rows[start : start + 500])
        stmt = stmt.on_conflict_do_nothing(index_elements=["recipient_user_id", "event_key"])
        new += len(session.execute(stmt.returning(Outbox.id)).all())  # type: ignore[attr-defined]
    if new:
        notify(session, "outbox")
    return new


def claim(session: Session, worker: str, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[Outbox]:
    """Claims up to ``limit`` due rows for ``worker`` in one statement (the caller commits at once)."""
    claimable = or_(
        and_(Outbox.state == OutboxState.PENDING.value, Outbox.due_at <= now),
        and_(Outbox.state == OutboxState.SENDING.value, Outbox.lease_until < now),
    )
    due = select(Outbox.id).where(claimable).order_by(Outbox.due_at, Outbox.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    # A CTE, not "id IN (subquery)": PostgreSQL may run such a subquery again per row and so ignore
    # its LIMIT (one worker took every row). The condition is repeated outside the CTE: PostgreSQL
    # re-checks it on a row another transaction changed meanwhile, so a row is never claimed twice.
    picked = due.cte("picked")
    stmt = (
        update(Outbox)
        .where(Outbox.id == picked.c.id, claimable)
        .values(
            state=OutboxState.SENDING.value,
            lease_until=now + lease,
            claimed_by=worker,
            attempts=Outbox.attempts + 1,
        )
        .returning(Outbox)
    )
    rows = list(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())
    for row in rows:
        session.expunge(row)
    return sorted(rows, key=lambda r: (r.due_at, r.id or 0))


def _finish(session: Session, row_id: int, worker: str, **values: Any) -> bool:
    stmt = (
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.claimed_by == worker, Outbox.state == OutboxState.SENDING.value)
        .values(**values)
    )
    done = session.execute(stmt, execution_options={"synchronize_session": False}).rowcount  # type: ignore[attr-defined]
    return bool(done)


def mark_sent(session: Session, row_id: int, worker: str, now: dt.datetime, task_id: str | None = None) -> bool:
    return _finish(session, row_id, worker, state=OutboxState.SENT.value, sent_at=now, lease_until=None,
                   task_id=task_id)  # fmt: skip


def renew(session: Session, row_ids: list[int], worker: str, now: dt.datetime, lease: dt.timedelta) -> set[int]:
    """Extends the lease of the rows still this worker's; returns them (the others went to another)."""
    if not row_ids:
        return set()
    stmt = (
        update(Outbox)
        .where(Outbox.id.in_(row_ids), Outbox.claimed_by == worker, Outbox.state == OutboxState.SENDING.value)  # type: ignore[attr-defined]
        .values(lease_until=now + lease)
        .returning(Outbox.id)
    )
    return set(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())


def mark_parts(session: Session, row_ids: list[int], worker: str, parts_sent: int) -> int:
    """The first ``parts_sent`` messages of a long text are out: a retry goes on from the next one."""
    stmt = (
        update(Outbox)
        .where(Outbox.id.in_(row_ids), Outbox.claimed_by == worker, Outbox.state == OutboxState.SENDING.value)  # type: ignore[attr-defined]
        .values(parts_sent=parts_sent)
    )
    return int(session.execute(stmt, execution_options={"synchronize_session": False}).rowcount)  # type: ignore[attr-defined]


def mark_sent_many(session: Session, row_ids: list[int], worker: str, now: dt.datetime, task_id: str | None) -> int:
    """Rows sent in one call (one message to many): all marked in one statement, with the call's task."""
    stmt = (
        update(Outbox)
        .where(Outbox.id.in_(row_ids), Outbox.claimed_by == worker, Outbox.state == OutboxState.SENDING.value)  # type: ignore[attr-defined]
        .values(state=OutboxState.SENT.value, sent_at=now, lease_until=None, task_id=task_id)
    )
    return int(session.execute(stmt, execution_options={"synchronize_session": False}).rowcount)  # type: ignore[attr-defined]


def unchecked_tasks(session: Session, channel: str, sent_before: dt.datetime, limit: int = 20) -> list[str]:
    """Tasks of a channel that only acknowledges (KakaoTalk) whose delivery has not been asked about."""
    stmt = (
        select(Outbox.task_id)
        .where(Outbox.channel == channel, Outbox.state == OutboxState.SENT.value, Outbox.task_id.is_not(None),  # type: ignore[union-attr]
               Outbox.task_checked_at.is_(None), Outbox.sent_at <= sent_before)  # type: ignore[union-attr]
        .distinct()
        .limit(limit)
    )  # fmt: skip
    return [str(t) for t in session.execute(stmt).scalars()]


def record_delivery(session: Session, task_id: str, failed: dict[str, str], now: dt.datetime) -> int:
    """What the channel says of a task: who did not get the message and why (their rows fail, and such a
    person is marked so the next messages are not sent in vain). Returns the rows that failed."""
    n = 0
    for chat_id, reason in failed.items():
        stmt = (
            update(Outbox)
            .where(Outbox.task_id == task_id, Outbox.chat_id == chat_id)
            .values(state=OutboxState.FAILED.value, last_error=f"not delivered: {reason}"[:2000])
        )
        n += int(session.execute(stmt, execution_options={"synchronize_session": False}).rowcount)  # type: ignore[attr-defined]
        recipient = select(Outbox.recipient_user_id).where(Outbox.task_id == task_id, Outbox.chat_id == chat_id)
        session.execute(
            update(User).where(User.id.in_(recipient)).values(is_friend=False, inactive_reason=reason[:200])  # type: ignore[attr-defined]
        )
    session.execute(
        update(Outbox).where(Outbox.task_id == task_id).values(task_checked_at=now),
        execution_options={"synchronize_session": False},
    )
    return n


def mark_failed(session: Session, row_id: int, worker: str, reason: str) -> bool:
    return _finish(session, row_id, worker, state=OutboxState.FAILED.value, last_error=reason[:2000], lease_until=None)


def retry_later(
    session: Session, row_id: int, worker: str, due_at: dt.datetime, reason: str | None, count_attempt: bool = True
) -> bool:
    values: dict[str, Any] = {"state": OutboxState.PENDING.value, "due_at": due_at, "lease_until": None}
    if reason is not None:
        values["last_error"] = reason[:2000]
    if not count_attempt:
        values["attempts"] = Outbox.attempts - 1
    return _finish(session, row_id, worker, **values)


def deactivate(session: Session, user_id: int, now: dt.datetime) -> None:
    """The user blocked the bot: nothing more is sent until they write to it again."""
    session.execute(update(User).where(User.id == user_id).values(active=False, updated_at=now))  # type: ignore[arg-type]


def counts(session: Session, event_prefix: str | None = None) -> dict[str, int]:
    from sqlalchemy import func

    stmt = select(Outbox.state, func.count()).group_by(Outbox.state)
    if event_prefix is not None:
        stmt = stmt.where(Outbox.event_key.startswith(event_prefix))  # type: ignore[attr-defined]
    return {state: n for state, n in session.execute(stmt).all()}


def next_due(session: Session) -> dt.datetime | None:
    """When the earliest pending row falls due (or a lease runs out)."""
    from sqlalchemy import func

    pending = session.execute(
        select(func.min(Outbox.due_at)).where(Outbox.state == OutboxState.PENDING.value)
    ).scalar_one_or_none()
    leased = session.execute(
        select(func.min(Outbox.lease_until)).where(Outbox.state == OutboxState.SENDING.value)
    ).scalar_one_or_none()
    found: Sequence[dt.datetime] = [t for t in (pending, leased) if t is not None]
    if not found:
        return None
    return min(t if t.tzinfo else t.replace(tzinfo=dt.UTC) for t in found)


def counts_for(session: Session, event_key: str) -> dict[str, int]:
    """Rows of one event (a broadcast) by state."""
    from sqlalchemy import func

    stmt = select(Outbox.state, func.count()).where(Outbox.event_key == event_key).group_by(Outbox.state)
    return {state: n for state, n in session.execute(stmt).all()}
