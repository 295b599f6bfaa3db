"""Migration 0016 keeps earlier months working: the names typed before (a company's wish, an organizer's
responsible departments, an official's department, a decision's) become entries of the department list,
spelled differently or not, so the rows that met by name still meet by id; and it goes back down."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from alembic import command
from sqlalchemy import Connection, text

from bot.database import Database, alembic_config

NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)


def insert(conn: Connection, table: str, **values: Any) -> None:
    names = ", ".join(values)
    conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in values)})"), values)


def _seed_0015(db: Database) -> None:
    """Rows as the bot kept them at revision 0015, free text everywhere (and what 0013–0015 added: a
    reviewer's pledge, an appeal, a decision's version)."""
    with db.engine.begin() as conn:
        for i in (1, 2, 3):
            insert(conn, "users", id=i, channel="telegram", external_id=str(1000 + i), display_name="", active=True,
                   news_opt_out=False, created_at=NOW, updated_at=NOW)  # fmt: skip
        for user_id, role, department in ((2, "official", "서울교통공사"), (3, "official", "기후 환경본부 "),
                                          (1, "reviewer", None)):  # fmt: skip
            pledge = {"pledge_version": "v1", "pledged_at": NOW} if role == "reviewer" else {}
            insert(conn, "role_grants", user_id=user_id, role=role, department=department, granted_at=NOW, **pledge)
        insert(conn, "invitations", token="tok1", role="official", department="서울 교통공사", created_at=NOW,
               expires_at=NOW)  # fmt: skip
        insert(conn, "companies", id=1, owner_user_id=1, name="한빛", brn="2208162517", representative="대표",
               size="sme", address="서울", contact_name="담당", phone="+8210", email="a@b.kr", consent_version="v1",
               consent_at=NOW, created_at=NOW, updated_at=NOW)  # fmt: skip
        insert(conn, "applications", id=1, company_id=1, month="2026-11", status="selected", product_name="로봇",
               tech_fields=json.dumps(["ai"]), trl=7, summary="요약", city_use="적용",
               departments="서울교통공사, 푸른도시여가국", responsible_departments="서울교통공사,기후환경본부",
               submitted_at=NOW, updated_at=NOW)  # fmt: skip
        for department, status, version in (("서울교통공사", "buy", 2), ("기후환경본부", "open", 0)):
            insert(conn, "purchase_decisions", application_id=1, department=department, status=status,
                   corrections=0, version=version, updated_at=NOW)  # fmt: skip
        insert(conn, "appeals", application_id=1, filed_by=1, ground="fact_error", details="근거", filed_at=NOW,
               status="open")  # fmt: skip


def _list(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_typed_names_become_entries_and_still_meet(database_url: str) -> None:
    db = Database(database_url)
    cfg = alembic_config(db.engine)
    command.upgrade(cfg, "0015")
    _seed_0015(db)
    command.upgrade(cfg, "0016")
    with db.engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT name, id FROM departments")).all())
        assert set(ids) == {"서울교통공사", "기후 환경본부", "푸른도시여가국"}  # spacing aside, one entry each
        metro, climate, park = ids["서울교통공사"], ids["기후 환경본부"], ids["푸른도시여가국"]
        grants = dict(conn.execute(text("SELECT user_id, department_id FROM role_grants")).all())
        assert grants == {1: None, 2: metro, 3: climate}
        assert conn.execute(text("SELECT department_id FROM invitations")).scalar_one() == metro
        wished, responsible = conn.execute(
            text("SELECT department_ids, responsible_department_ids FROM applications")
        ).one()
        assert _list(wished) == [metro, park] and _list(responsible) == [metro, climate]
        decided = conn.execute(text("SELECT department_id, department, status, version FROM purchase_decisions")).all()
        assert sorted(decided) == sorted([(metro, "서울교통공사", "buy", 2), (climate, "기후 환경본부", "open", 0)])
        # The tables rebuilt on the way keep what the earlier revisions added.
        assert conn.execute(text("SELECT pledge_version FROM role_grants WHERE user_id = 1")).scalar_one() == "v1"
        assert conn.execute(text("SELECT application_id FROM appeals")).scalar_one() == 1

    command.downgrade(cfg, "0015")
    with db.engine.connect() as conn:
        assert tuple(conn.execute(text("SELECT departments, responsible_departments FROM applications")).one()) == (
            "서울교통공사, 푸른도시여가국",
            "서울교통공사, 기후 환경본부",
        )
        official = conn.execute(text("SELECT department FROM role_grants WHERE user_id = 2")).scalar_one()
        assert official == "서울교통공사"
        assert conn.execute(text("SELECT pledge_version FROM role_grants WHERE user_id = 1")).scalar_one() == "v1"
        versions = conn.execute(text("SELECT department, version FROM purchase_decisions")).all()
        assert sorted(versions) == sorted([("서울교통공사", 2), ("기후 환경본부", 0)])
    command.upgrade(cfg, "head")
    db.dispose()
