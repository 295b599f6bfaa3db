"""Migration 0018: a registration number is unique among current companies only. The table keeps its rows
and what refers to them; a company kept erased for the city's records lets its number be registered again
as a new company, while two current companies still cannot share one; and it goes back down."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.database import Database, alembic_config
from tests.test_migration_departments import insert

NOW = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
COMPANY = {"name": "한빛", "brn": "2208162517", "representative": "", "size": "sme", "address": "서울",
           "contact_name": "", "phone": "", "email": "", "consent_version": "v1", "consent_at": NOW,
           "created_at": NOW, "updated_at": NOW}  # fmt: skip


def test_the_number_is_unique_among_current_companies_only(database_url: str) -> None:
    db = Database(database_url)
    cfg = alembic_config(db.engine)
    command.upgrade(cfg, "0017")
    with db.engine.begin() as conn:
        for i in (1, 2, 3):
            insert(conn, "users", id=i, channel="telegram", external_id=str(1000 + i), display_name="", active=True,
                   news_opt_out=False, created_at=NOW, updated_at=NOW)  # fmt: skip
        insert(conn, "companies", id=1, owner_user_id=1, erased_at=NOW, **COMPANY)
        insert(conn, "applications", id=1, company_id=1, month="2026-11", status="selected", product_name="로봇",
               tech_fields="[]", trl=7, summary="요약", city_use="적용", department_ids="[]",
               responsible_department_ids="[]", submitted_at=NOW, updated_at=NOW)  # fmt: skip
    command.upgrade(cfg, "0018")
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT company_id FROM applications")).scalar_one() == 1
        insert(conn, "companies", id=2, owner_user_id=2, erased_at=None, **COMPANY)  # the number again: a new one
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        insert(conn, "companies", id=3, owner_user_id=3, erased_at=None, **COMPANY)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM companies WHERE id = 2"))
    command.downgrade(cfg, "0017")
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        insert(conn, "companies", id=3, owner_user_id=3, erased_at=NOW, **COMPANY)
    command.upgrade(cfg, "head")
    db.dispose()


def test_going_down_is_refused_while_a_number_is_shared_and_changes_nothing(database_url: str) -> None:
    """A refused downgrade dropped the number's index first (SQLite committed it) and left a half-built table:
    no check on the number at all, and every later try failed on the leftover."""
    db = Database(database_url)
    cfg = alembic_config(db.engine)
    command.upgrade(cfg, "head")
    with db.engine.begin() as conn:
        for i in (1, 2):
            insert(conn, "users", id=i, channel="telegram", external_id=str(1000 + i), display_name="", active=True,
                   news_opt_out=False, created_at=NOW, updated_at=NOW)  # fmt: skip
        insert(conn, "companies", id=1, owner_user_id=1, erased_at=NOW, **COMPANY)
        insert(conn, "companies", id=2, owner_user_id=2, erased_at=None, **COMPANY)
    with pytest.raises(RuntimeError, match="2208162517"):
        command.downgrade(cfg, "0017")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0018"
    with pytest.raises(IntegrityError), db.engine.begin() as conn:  # the number's check is still there
        insert(conn, "users", id=3, channel="telegram", external_id="1003", display_name="", active=True,
               news_opt_out=False, created_at=NOW, updated_at=NOW)  # fmt: skip
        insert(conn, "companies", id=3, owner_user_id=3, erased_at=None, **COMPANY)
    db.dispose()


def test_an_old_row_that_refers_to_nothing_elsewhere_does_not_stop_it(database_url: str) -> None:
    """SQLite: the check after rebuilding read the whole database, so an orphan left in another table long
    ago stopped 0018, and its half-built table stopped every later try."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite rebuilds the table")
    db = Database(database_url)
    cfg = alembic_config(db.engine)
    command.upgrade(cfg, "0017")
    raw = db.engine.raw_connection()
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("INSERT INTO subscriptions (user_id, topic, created_at) VALUES (999, 'news', '2026-01-01')")
    raw.commit()
    raw.close()
    command.upgrade(cfg, "head")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0018"
        assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name LIKE '_alembic_tmp%'")).scalar() == 0
    db.dispose()
