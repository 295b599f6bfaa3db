"""The dispatcher's statements kept prepared on PostgreSQL (``bot.database.Prepared``): they give what the
plain statements give, each connection prepares them once, and a connection that is replaced, or loses them,
prepares them again. On SQLite they run as plain statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from bot import database
from bot.database import Database
from bot.models import Broadcast, Outbox, User
from bot.services import outbox
from tests.conftest import PG_URL

NOW = dt.datetime(2026, 12, 3, 1, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=60)
pg_only = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite runs the plain statements")


@pytest.fixture
def single(db: Database, database_url: str) -> Iterator[Database]:
    """The database through one connection (the test's own pool let go): what is prepared is on that one."""
    db.dispose()
    one = Database(database_url, pool_size=1)
    yield one
    one.dispose()


def plan(db: Database, n: int, event_key: str = "broadcast:1") -> int:
    """Plans a message to ``n`` new people; returns the first one's id."""
    with db.session() as session:
        people = [
            User(channel="telegram", external_id=str(800000 + i), created_at=NOW, updated_at=NOW) for i in range(n)
        ]
        session.add_all(people)
        session.flush()
        data = {"when": NOW, "day": NOW.date(), "text": "안내"}
        items = [outbox.Planned(p, "broadcast/message", data, event_key, NOW) for p in people]
        outbox.plan(session, items, NOW)
        return people[0].id or 0


def prepares(db: Database) -> list[str]:
    """The PREPAREs sent through ``db`` from now on."""
    sent: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("PREPARE"):
            sent.append(statement.split()[1])

    return sent


def test_a_prepared_claim_and_marking_give_what_the_plain_statements_give(db: Database) -> None:
    someone = plan(db, 3)
    with db.session() as session:
        session.add(
            Broadcast(id=1, created_by=someone, audience="news", kind="text", text="안내", created_at=NOW, planned=3)
        )
    with db.session() as session:
        claimed = outbox.claim(session, "w", NOW, 10, LEASE)
        people = outbox.recipients(session, claimed)
    assert len(claimed) == 3 and set(people) == {(c.recipient_user_id, c.channel) for c in claimed}
    with db.session() as session:
        stored = {row.id: row for row in session.execute(select(Outbox)).scalars()}
        for c in claimed:
            row = stored[c.id]
            assert (c.due_at, c.due_at.utcoffset()) == (row.due_at, dt.timedelta(0))  # aware UTC, as the ORM reads it
            assert c.data == row.data and outbox.decode(c.data)["when"] == NOW
            assert (c.chat_id, c.attempts, c.parts_sent, c.document) == (row.chat_id, 1, 0, None)
    first, *rest = [c.id for c in claimed]
    with db.session() as session:
        assert outbox.mark_sent_together(session, {first: None}, "someone else", NOW) == set()
        assert outbox.mark_sent_together(session, dict.fromkeys(rest), "w", NOW) == set(rest)
        assert outbox.mark_sent_together(session, {first: "task-1"}, "w", NOW) == {first}
    with db.session() as session:
        broadcast = session.get(Broadcast, 1)
        assert broadcast is not None and broadcast.sent == 3  # counted once each, whoever's marking
        assert session.get(Outbox, first).task_id == "task-1"  # type: ignore[union-attr]


def test_rows_of_other_events_are_not_counted_into_a_broadcast(db: Database) -> None:
    someone = plan(db, 2, "news:7")
    with db.session() as session:
        session.add(Broadcast(id=7, created_by=someone, audience="news", kind="text", text="안내", created_at=NOW))
    with db.session() as session:
        ids = [c.id for c in outbox.claim(session, "w", NOW, 10, LEASE)]
        assert outbox.mark_sent_together(session, dict.fromkeys(ids), "w", NOW) == set(ids)
    with db.session() as session:
        assert session.get(Broadcast, 7).sent == 0  # type: ignore[union-attr]


@pg_only
def test_each_connection_prepares_once_and_a_replaced_one_again(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.dispose()
    single, admin = Database(database_url, pool_size=1), Database(database_url, pool_size=1)
    try:
        sent = prepares(single)
        plan(single, 4)
        for _ in range(3):
            with single.session() as session:
                outbox.claim(session, "w", NOW, 1, LEASE)
        assert sent == ["outbox_claim_expired", "outbox_claim_due"]  # three claims, one connection
        with single.session() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.engine.begin() as conn:  # the server drops it (a restart, a failover)
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)  # the pool finds out and opens another
        with single.session() as session:
            assert len(outbox.claim(session, "w", NOW, 1, LEASE)) == 1
        assert sent[2:] == ["outbox_claim_expired", "outbox_claim_due"]
    finally:
        single.dispose()
        admin.dispose()


@pg_only
def test_statements_deallocated_behind_its_back_fail_one_transaction_then_are_prepared_again(single: Database) -> None:
    plan(single, 2)
    with single.session() as session:
        outbox.claim(session, "w", NOW, 1, LEASE)
    with single.session() as session:  # a rollback keeps them; DISCARD ALL or DEALLOCATE does not
        session.execute(text("DEALLOCATE ALL"))
    with pytest.raises(DBAPIError, match="does not exist"), single.session() as session:
        outbox.claim(session, "w", NOW, 1, LEASE)
    with single.session() as session:
        assert len(outbox.claim(session, "w", NOW, 1, LEASE)) == 1


def kept(session: Any) -> dict[str, str]:
    """The statements this session's connection keeps prepared on the server, by their text."""
    rows = session.execute(text("SELECT statement, name FROM pg_prepared_statements WHERE name LIKE 'pitchbot_%'"))
    return {statement: name for statement, name in rows}


@pg_only
def test_a_statement_run_again_and_again_is_prepared_once_per_connection_and_answers_the_same(single: Database) -> None:
    plan(single, 3)
    ask = select(User.external_id).where(User.external_id.like("80000%"), User.id > 0).order_by(User.id)  # type: ignore[attr-defined]
    answers = []
    for run in range(1, database.KEEP_PREPARED_AFTER + 3):
        with single.session() as session:
            answers.append(session.execute(ask).scalars().all())
            prepared = [s for s in kept(session) if "users.external_id LIKE $1" in s]
            assert len(prepared) == (run >= database.KEEP_PREPARED_AFTER)  # from the third run on, once
    assert answers == [["800000", "800001", "800002"]] * len(answers)  # a literal "%" survives the PREPARE


@pg_only
def test_a_statement_the_server_cannot_prepare_runs_plain_and_leaves_the_transaction_whole(
    single: Database, caplog: pytest.LogCaptureFixture
) -> None:
    untyped = text("SELECT :value IS NULL")  # nothing tells the server the parameter's type: PREPARE refuses it
    plan(single, 1)
    for run in range(database.KEEP_PREPARED_AFTER + 2):
        with single.session() as session:
            session.execute(text("UPDATE users SET display_name = :name"), {"name": f"run {run}"})
            value = None if run % 2 else f"answer {run}"
            assert session.execute(untyped, {"value": value}).scalar_one() is (value is None)
            assert session.execute(text("SELECT display_name FROM users")).scalar_one() == f"run {run}"
        with single.session() as session:  # committed: the refused PREPARE undid nothing
            assert session.execute(text("SELECT display_name FROM users")).scalar_one() == f"run {run}"
            assert not [s for s in kept(session) if "SELECT $1 IS NULL" in s]
    refusals = [r for r in caplog.records if "refused to prepare" in r.getMessage()]
    assert len(refusals) == 1 and "42P18" in refusals[0].getMessage()  # asked once, then run plain
    with single.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for _ in range(database.KEEP_PREPARED_AFTER + 1):
            assert conn.execute(text("SELECT :other IS NOT NULL"), {"other": "a"}).scalar_one() is True
    refusals = [r for r in caplog.records if "refused to prepare" in r.getMessage()]
    assert len(refusals) == 2  # outside a transaction too


@pg_only
def test_repeated_statements_deallocated_behind_its_back_fail_one_transaction_then_are_prepared_again(
    single: Database,
) -> None:
    ask = text("SELECT count(*) FROM users WHERE id > :id")
    for _ in range(database.KEEP_PREPARED_AFTER):
        with single.session() as session:
            assert session.execute(ask, {"id": 0}).scalar_one() == 0
    with single.session() as session:
        session.execute(text("DEALLOCATE ALL"))
    with pytest.raises(DBAPIError, match="does not exist"), single.session() as session:
        session.execute(ask, {"id": 0})
    with single.session() as session:
        assert session.execute(ask, {"id": 0}).scalar_one() == 0
        assert any("WHERE id > $1" in s for s in kept(session))
