"""The outbox: every message the bot sends on its own initiative is a row here first.

Planning is idempotent (one row per recipient and event key); claiming is one atomic
``UPDATE … RETURNING`` with a lease, so two dispatchers never send the same row and a row claimed by a
dead process is picked up again when its lease runs out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    any_,
    bindparam,
    cast,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from bot.database import Prepared, insert_for, notify
from bot.models import Broadcast, Outbox, OutboxState, User
from bot.services import accounts

# Rows of these events count into their broadcast's row (progress without counting the outbox).
COUNTED = "broadcast:"
FINAL = (OutboxState.SENT.value, OutboxState.FAILED.value, OutboxState.CANCELLED.value)

# The dispatcher's statements run on the tables, not the ORM classes: a statement naming an ORM class
# takes the ORM's execution path, which for a claim or a marking cost more CPU than the round trip.
_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
_BROADCASTS = Broadcast.__table__  # type: ignore[attr-defined]

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


@dataclass(slots=True)
class Claimed:
    """A claimed row as plain values, what the dispatcher needs of it. Not an ORM object: at 1,000 messages
    a second, building and tracking an instance for every row (and its recipient) cost more of the bot's
    CPU than sending the message."""

    id: int
    recipient_user_id: int
    channel: str
    chat_id: str
    template: str
    data: dict[str, Any]
    event_key: str
    document: dict[str, Any] | None
    due_at: dt.datetime
    attempts: int
    parts_sent: int


_CLAIMED = [_OUTBOX.c[f.name] for f in dataclasses.fields(Claimed)]


@dataclass(slots=True)
class Recipient:
    """Whom a claimed row goes to, as the dispatcher needs them (plain values, as :class:`Claimed`)."""

    id: int
    channel: str
    active: bool
    is_friend: bool | None
    inactive_reason: str | None
    language: str | None
    client_language: str | None


def _by_ids(build: Callable[[ColumnElement[bool]], Any], column: Any) -> dict[str, Any]:
    """``build``'s statement for "``column`` is one of the parameter ``ids``", by dialect. PostgreSQL takes the
    ids as one array: one short statement text whatever their number, compiled once (``IN`` with a parameter
    per id is a statement of its own for each number, a hundred parameters long)."""
    return {
        "postgresql": build(column == any_(bindparam("ids", type_=postgresql.ARRAY(Integer)))),
        "sqlite": build(column.in_(bindparam("ids", expanding=True))),
    }


def _dialect(session: Session | Connection) -> str:
    return session.dialect.name if isinstance(session, Connection) else session.get_bind().dialect.name


def _prepared(name: str, statements: dict[str, Any]) -> Prepared:
    return Prepared(name, statements["postgresql"], statements["sqlite"])


_RECIPIENTS = _prepared(
    "outbox_recipients", _by_ids(select(*[_USERS.c[f.name] for f in dataclasses.fields(Recipient)]).where, _USERS.c.id)
)


def recipients(session: Session, rows: Iterable[Claimed]) -> dict[tuple[int, str], Recipient]:
    """Whom claimed rows go to, by person and channel: the account a row is addressed to, in its person's
    language. For someone on two channels a row may go to another account than the one it names, and whether
    it can be reached (and what is marked when it was blocked) is that account's own."""
    rows = list(rows)
    ids = list({r.recipient_user_id for r in rows})
    if not ids:
        return {}
    people = {row[0]: Recipient(*row) for row in _RECIPIENTS.run(session, {"ids": ids})}
    out = {(person.id, person.channel): person for person in people.values()}
    elsewhere = {
        (r.recipient_user_id, r.channel): r.chat_id
        for r in rows
        if (r.recipient_user_id, r.channel) not in out and r.chat_id and r.recipient_user_id in people
    }
    if elsewhere:
        wanted = [(col(User.channel) == channel) & (col(User.external_id) == chat)
                  for (_, channel), chat in elsewhere.items()]  # fmt: skip
        found = {(a.channel, a.external_id): a for a in session.scalars(select(User).where(or_(*wanted)))}
        for (person_id, channel), chat in elsewhere.items():
            if (account := found.get((channel, chat))) is not None:
                out[person_id, channel] = dataclasses.replace(
                    people[person_id], id=account.id or 0, channel=account.channel, active=account.active,
                    is_friend=account.is_friend, inactive_reason=account.inactive_reason,
                )  # fmt: skip
    return out


@dataclass(frozen=True)
class Planned:
    user: User
    template: str
    data: dict[str, Any]
    event_key: str
    due_at: dt.datetime
    document: dict[str, Any] | None = None


def plan_texts(session: Session, user: User, texts: Sequence[str], now: dt.datetime) -> int:
    """An answer that follows after the chat's own (KakaoTalk: a late answer, the rest of a long one, the
    screens after an upload page), as plain texts in order, each planned once."""
    key = f"reply:{uuid.uuid4().hex}"
    return plan(session, [Planned(user, "outbox/text", {"text": text}, f"{key}:{i}", now)
                          for i, text in enumerate(texts)], now)  # fmt: skip


def plan(session: Session, items: Iterable[Planned], now: dt.datetime) -> int:
    """Inserts the messages that are not planned yet, in the caller's transaction (a workflow step and its
    messages land together); returns how many were new. The dispatcher is woken once it commits."""
    items = list(items)
    # A message for a joined account (an official's grant held there, say) goes where its person is reached.
    persons = accounts.primaries(session, [i.user for i in items if i.user.linked_to is not None])
    people = {i.user.id: i.user for i in items if i.user.linked_to is None} | {p.id: p for p in persons.values()}
    routes = accounts.deliver_to(session, list(people.values()))

    def route(user: User) -> User:
        return routes.get((persons.get(user.id or 0) or user).id or 0, user)

    rows = [
        {
            "recipient_user_id": item.user.id,
            "channel": route(item.user).channel,
            "chat_id": route(item.user).external_id,
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


def plan_audience(
    session: Session,
    who: ColumnElement[bool],
    template: str,
    data: dict[str, Any],
    event_key: str,
    due_at: dt.datetime,
    now: dt.datetime,
) -> int:
    """Plans one message to every user matching ``who`` with one INSERT … SELECT (no id leaves the database,
    however many there are); returns how many rows were new. People with accounts on several channels are
    left to :func:`plan`, which picks the account each of them used last: ``who`` must leave them out."""
    values = {
        "recipient_user_id": col(User.id),
        "channel": col(User.channel),
        "chat_id": col(User.external_id),
        "template": literal(template),
        "data": bindparam("data", encode(data), type_=Outbox.__table__.c.data.type),  # type: ignore[attr-defined]
        "event_key": literal(event_key),
        "state": literal(OutboxState.PENDING.value),
        "due_at": bindparam("due_at", due_at, type_=Outbox.__table__.c.due_at.type),  # type: ignore[attr-defined]
        "attempts": literal(0),
        "created_at": bindparam("created_at", now, type_=Outbox.__table__.c.created_at.type),  # type: ignore[attr-defined]
        "parts_sent": literal(0),
    }
    rows = select(*values.values()).where(who)
    stmt = insert_for(session)(Outbox).from_select(list(values), rows)
    stmt = stmt.on_conflict_do_nothing(index_elements=["recipient_user_id", "event_key"])
    new = len(session.execute(stmt.returning(Outbox.id)).all())  # the driver's rowcount is not always told
    if new:
        notify(session, "outbox")
    return new


def claim(session: Session, worker: str, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[Claimed]:
    """Claims up to ``limit`` due rows for ``worker`` (the caller commits at once): first those whose lease
    ran out (their dispatcher died), then pending rows in due order. Each is one statement that reads only
    the rows it takes (the pending ones by a partial index), so a claim costs the same at any queue length."""
    rows: list[Claimed] = []
    for stmt in _CLAIMS:
        if len(rows) < limit:
            params = {"now": now, "worker": worker, "until": now + lease, "limit": limit - len(rows)}
            rows += [Claimed(*row) for row in stmt.run(session, params)]
    return sorted(rows, key=lambda r: (r.due_at, r.id))


def due(now: dt.datetime | ColumnElement[dt.datetime]) -> ColumnElement[bool]:
    return and_state(OutboxState.PENDING, _OUTBOX.c.due_at <= now)


def and_state(state: OutboxState, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    # The state as a literal, not a parameter: a prepared statement's generic plan can then still prove
    # the partial index's condition and use it.
    return (_OUTBOX.c.state == literal_column(f"'{state.value}'")) & condition


def claim_statement(
    session: Session,
    worker: str,
    now: dt.datetime,
    claimable: ColumnElement[bool],
    order: Any,
    limit: int,
    lease: dt.timedelta,
) -> Any:
    """The claim's one statement (apart, so that its query plan can be looked at); it returns the columns
    of :class:`Claimed`."""
    return _claim_statement(session.get_bind().dialect.name, claimable, order, worker, now + lease, limit)


def _claim_statement(
    dialect: str, claimable: ColumnElement[bool], order: Any, worker: Any, until: Any, limit: Any
) -> Any:
    picking = select(_OUTBOX.c.id).where(claimable).order_by(order, _OUTBOX.c.id).limit(limit)
    if dialect == "postgresql":
        picking = picking.with_for_update(skip_locked=True)
    # A CTE, not "id IN (subquery)": PostgreSQL may run such a subquery again per row and so ignore
    # its LIMIT (one worker took every row). The condition is repeated outside the CTE: PostgreSQL
    # re-checks it on a row another transaction changed meanwhile, so a row is never claimed twice.
    picked = picking.cte("picked")
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == picked.c.id, claimable)
        .values(
            state=OutboxState.SENDING.value,
            lease_until=until,
            claimed_by=worker,
            attempts=_OUTBOX.c.attempts + 1,
        )
        .returning(*_CLAIMED)
    )


def _claims() -> list[Prepared]:
    """The claim's two statements (expired leases, then pending rows), built once: they are the same at every
    claim, only their values change."""
    now = bindparam("now", type_=_OUTBOX.c.due_at.type)
    expired = and_state(OutboxState.SENDING, _OUTBOX.c.lease_until < now), _OUTBOX.c.lease_until
    worker, until, limit = bindparam("worker"), bindparam("until"), bindparam("limit")
    return [
        Prepared(
            f"outbox_claim_{which}",
            _claim_statement("postgresql", claimable, order, worker, until, limit),
            _claim_statement("sqlite", claimable, order, worker, until, limit),
        )
        for which, (claimable, order) in (("expired", expired), ("due", (due(now), _OUTBOX.c.due_at)))
    ]


_CLAIMS = _claims()


def _finish(session: Session, row_id: int, worker: str, **values: Any) -> bool:
    stmt = (
        update(Outbox)
        .where(Outbox.id == row_id, Outbox.claimed_by == worker, Outbox.state == OutboxState.SENDING.value)
        .values(**values)
        .returning(Outbox.event_key)
    )
    keys = list(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())
    if values["state"] in FINAL:
        tally(session, keys, values["state"])
    return bool(keys)


# Statements the dispatcher runs for every few messages, built once: building one cost about as much CPU
# as running it.
_TALLY = {
    state: update(_BROADCASTS)
    .where(_BROADCASTS.c.id == bindparam("broadcast"))
    .values({state: _BROADCASTS.c[state] + bindparam("n")})
    for state in FINAL
}


def _sent_together(ids: ColumnElement[bool]) -> Any:
    return (
        update(_OUTBOX)
        .where(ids, _OUTBOX.c.claimed_by == bindparam("worker"), _OUTBOX.c.state == OutboxState.SENDING.value)
        .values(state=OutboxState.SENT.value, sent_at=bindparam("now"), lease_until=None, task_id=bindparam("task_id"))
        .returning(_OUTBOX.c.id, _OUTBOX.c.event_key)
    )


_SENT_TOGETHER = _by_ids(_sent_together, _OUTBOX.c.id)


def _sent_and_counted() -> Any:
    """PostgreSQL: the marking and its broadcasts' counts in one statement (a data-modifying CTE), which
    SQLite lacks. The count's broadcast is the number after the event key's prefix, as :func:`tally` reads it."""
    marked = _SENT_TOGETHER["postgresql"].cte("marked")
    broadcast = cast(func.substr(marked.c.event_key, len(COUNTED) + 1), BigInteger)
    counted = (
        select(broadcast.label("id"), func.count().label("n"))
        .where(marked.c.event_key.regexp_match(literal_column(f"'^{COUNTED}[0-9]+$'")))
        .group_by(broadcast)
        .subquery("counted")
    )
    sent = OutboxState.SENT.value
    tallied = (
        update(_BROADCASTS)
        .where(_BROADCASTS.c.id == counted.c.id)
        .values({sent: _BROADCASTS.c[sent] + counted.c.n})
        .cte("tallied")
    )
    return select(marked.c.id).add_cte(tallied)


_SENT_AND_COUNTED = Prepared("outbox_mark_sent", _sent_and_counted(), _SENT_TOGETHER["sqlite"])


def tally(session: Session | Connection, event_keys: list[str], state: str, sign: int = 1) -> None:
    """Rows of broadcasts that reached ``state`` (or, with ``sign`` -1, left it): their broadcasts' counts."""
    found = Counter(k.removeprefix(COUNTED) for k in event_keys if k.startswith(COUNTED))
    for broadcast_id, n in found.items():
        if broadcast_id.isdigit():
            session.execute(_TALLY[state], {"broadcast": int(broadcast_id), "n": sign * n})


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


def mark_sent_together(
    session: Session | Connection, sent: dict[int, str | None], worker: str, now: dt.datetime
) -> set[int]:
    """Rows sent one by one (row id → the channel's task id, if any) marked: one statement for each task id
    (Telegram gives none, so one in all) and one count per broadcast, however many rows. On PostgreSQL a
    statement counts its own rows (a statement complete on its own, see ``Database.statements``); elsewhere
    the counts follow in the same transaction. Returns the rows marked; a row missing was taken meanwhile
    by another dispatcher (its lease ran out)."""
    by_task: dict[str | None, list[int]] = {}
    for row_id, task_id in sent.items():
        by_task.setdefault(task_id, []).append(row_id)
    marked: set[int] = set()
    keys: list[str] = []
    counted = _dialect(session) == "postgresql"
    for task_id, row_ids in by_task.items():
        params = {"ids": row_ids, "worker": worker, "now": now, "task_id": task_id}
        for row in _SENT_AND_COUNTED.run(session, params):
            marked.add(row[0])
            if not counted:
                keys.append(row[1])
    tally(session, keys, OutboxState.SENT.value)
    return marked


def mark_sent_many(session: Session, row_ids: list[int], worker: str, now: dt.datetime, task_id: str | None) -> int:
    """Rows sent in one call (one message to many): all marked in one statement, with the call's task."""
    stmt = (
        update(Outbox)
        .where(Outbox.id.in_(row_ids), Outbox.claimed_by == worker, Outbox.state == OutboxState.SENDING.value)  # type: ignore[attr-defined]
        .values(state=OutboxState.SENT.value, sent_at=now, lease_until=None, task_id=task_id)
        .returning(Outbox.event_key)
    )
    keys = list(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())
    tally(session, keys, OutboxState.SENT.value)
    return len(keys)


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
            .where(Outbox.task_id == task_id, Outbox.chat_id == chat_id, Outbox.state == OutboxState.SENT.value)
            .values(state=OutboxState.FAILED.value, last_error=f"not delivered: {reason}"[:2000])
            .returning(Outbox.event_key)
        )
        keys = list(session.execute(stmt, execution_options={"synchronize_session": False}).scalars())
        tally(session, keys, OutboxState.SENT.value, -1)
        tally(session, keys, OutboxState.FAILED.value)
        n += len(keys)
        # The account the row was addressed to (for someone on two channels, not always their first).
        channel = select(Outbox.channel).where(Outbox.task_id == task_id, Outbox.chat_id == chat_id).limit(1)
        session.execute(
            update(User)
            .where(User.external_id == chat_id, User.channel == channel.scalar_subquery())
            .values(is_friend=False, inactive_reason=reason[:200])
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


def readdress(session: Session, row_id: int, recipient_id: int, worker: str, now: dt.datetime) -> bool:
    """A claimed row whose account cannot be reached (blocked, the KakaoTalk channel left) goes to another
    account of the same person that can, due at once; False when the person has none."""
    recipient = session.get(User, recipient_id)
    if recipient is None:
        return False
    person = accounts.primary(session, recipient)
    to = accounts.deliver_to(session, [person]).get(person.id or 0)
    if to is None or not accounts.reachable(to):
        return False
    return _finish(session, row_id, worker, state=OutboxState.PENDING.value, channel=to.channel,
                   chat_id=to.external_id, due_at=now, lease_until=None, parts_sent=0)  # fmt: skip


def deactivate(session: Session, user_id: int, now: dt.datetime) -> None:
    """The user blocked the bot: nothing more is sent until they write to it again."""
    session.execute(update(User).where(User.id == user_id).values(active=False, updated_at=now))  # type: ignore[arg-type]


def prune(session: Session, before: dt.datetime, keep: list[str], limit: int = 1000) -> int:
    """Deletes up to ``limit`` rows sent, failed or stopped that were due and made before ``before``;
    returns how many. ``keep``: prefixes of event keys that may still be planned. A row is what keeps its
    event from being planned twice (one row per recipient and event), so an event that could come again
    keeps its rows whatever their age."""
    old = [
        and_state(OutboxState(state), (col(Outbox.due_at) < before) & (col(Outbox.created_at) < before))
        for state in FINAL
    ]
    stmt = select(Outbox.id).where(or_(*old)).limit(limit)
    for prefix in keep:
        stmt = stmt.where(~col(Outbox.event_key).startswith(prefix, autoescape=True))
    ids = list(session.execute(stmt).scalars())
    if ids:
        session.execute(delete(Outbox).where(col(Outbox.id).in_(ids)), execution_options={"synchronize_session": False})
    return len(ids)


def counts(session: Session, event_prefix: str | None = None) -> dict[str, int]:
    stmt = select(Outbox.state, func.count()).group_by(Outbox.state)
    if event_prefix is not None:
        stmt = stmt.where(Outbox.event_key.startswith(event_prefix))  # type: ignore[attr-defined]
    return {state: n for state, n in session.execute(stmt).all()}


def next_due(session: Session) -> dt.datetime | None:
    """When the earliest pending row falls due (or a lease runs out)."""
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
    stmt = select(Outbox.state, func.count()).where(Outbox.event_key == event_key).group_by(Outbox.state)
    return {state: n for state, n in session.execute(stmt).all()}
