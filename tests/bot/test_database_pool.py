"""The connection pool on PostgreSQL: a connection the server dropped while it sat in the pool is replaced
before a turn uses it, without a ping on every checkout."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot import database
from bot.database import Database
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only (SQLite has no server to drop a connection)")


def backend(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_dropped_while_idle_is_replaced_before_use(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, admin = Database(database_url, pool_size=1), Database(database_url, pool_size=1)
    try:
        first = backend(db)
        assert backend(db) == first  # busy a moment ago: the same connection, taken without a ping
        with admin.engine.begin() as conn:  # the server drops it (a restart, a failover, an idle timeout)
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)  # it has now sat in the pool long enough
        assert backend(db) != first
        with db.session() as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        db.dispose()
        admin.dispose()
