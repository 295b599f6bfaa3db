"""The suite's databases at the migrations' head without running the migrations for every test, which cost
more than most tests do (a third of a second on SQLite, over a second on PostgreSQL).

SQLite: the migrations run once per session into a template file, and a test's database is a copy of it.
PostgreSQL: a test that asked for a migrated database (see :data:`MIGRATED_FIXTURES`) finds the schema the
test before it left; when that schema is exactly the one the migrations made, its tables are truncated
(each a new, empty file, as a fresh ``CREATE TABLE`` leaves it) and its sequences restarted. Anything else
(a test that migrated only part way, one that dropped the schema) is dropped and migrated from scratch.
Either way the test sees what ``Database(url).upgrade()`` on an empty database left before."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.database import Database

# Fixtures whose database is migrated through :func:`migrated` before the test sees it: for a test that asks
# for one of them the ``database_url`` fixture leaves the PostgreSQL schema to :func:`migrated`.
MIGRATED_FIXTURES = frozenset({"db", "harness", "kakao", "both", "world", "engine", "person"})

# The schema as the catalog describes it: columns, indexes, constraints, triggers, sequences and the
# migration it is at. Equal to the one taken right after migrating: nothing was changed since.
_SHAPE = """
SELECT md5(coalesce((SELECT string_agg(part, '|' ORDER BY part) FROM (
    SELECT format('c %s.%s %s %s %s', table_name, column_name, data_type, is_nullable, column_default) AS part
        FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT format('i %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT format('k %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT format('t %s', pg_get_triggerdef(t.oid)) FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
    UNION ALL SELECT format('s %s', relname) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'S'
    UNION ALL SELECT format('v %s', version_num) FROM public.alembic_version
) parts), ''))
"""
_EMPTY_TABLES = """
DO $$ BEGIN
    EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I', tablename), ', ') || ' RESTART IDENTITY'
             FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version');
    PERFORM setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s
        JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = 'public'::regnamespace;
END $$
"""


class _State:
    template: Path | None = None  # SQLite: the migrated file tests copy
    shape: str | None = None  # PostgreSQL: the schema's :data:`_SHAPE` right after migrating
    reuse: bool = False  # PostgreSQL: the next :func:`migrated` may empty the schema in place


def empty_schema(url: str) -> None:
    """PostgreSQL: the public schema dropped and created again, empty."""
    _State.reuse = False
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        db.dispose()


def leave_for_migrated() -> Callable[[], None]:
    """PostgreSQL: the test's first :func:`migrated` brings the schema, as it is, to the freshly migrated
    state. The check returned, run once the test is over, fails a test that never called it: that test
    saw what the one before it left."""
    _State.reuse = True

    def check() -> None:
        if _State.reuse:
            _State.reuse = False
            raise RuntimeError(f"a test asking for one of {sorted(MIGRATED_FIXTURES)} must get it from migrated()")

    return check


def migrated(url: str) -> Database:
    """``Database(url)`` at the migrations' head, as ``upgrade()`` leaves it; a database already in use by
    this test (its file exists, or the schema was brought to head earlier in the test) is only upgraded."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite(url)
    reuse, _State.reuse = _State.reuse, False
    db = Database(url)
    if not reuse:
        db.upgrade()
        return db
    with db.engine.connect() as conn:
        known = conn.execute(text("SELECT to_regclass('public.alembic_version') IS NOT NULL")).scalar()
        shape = conn.execute(text(_SHAPE)).scalar() if known else None
        conn.rollback()
    if shape is not None and shape == _State.shape:
        with db.engine.begin() as conn:
            conn.execute(text(_EMPTY_TABLES))
        return db
    db.dispose()
    empty_schema(url)
    db = Database(url)
    db.upgrade()
    with db.engine.connect() as conn:
        _State.shape = conn.execute(text(_SHAPE)).scalar()
        conn.rollback()
    return db


def _sqlite(url: str) -> Database:
    path = make_url(url).database
    if not path or path == ":memory:" or Path(path).exists():
        db = Database(url)
        db.upgrade()
        return db
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template(), path)
    return Database(url)


def _template() -> Path:
    if _State.template is None:
        folder = Path(tempfile.mkdtemp(prefix="pitchbot-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "migrated.db"
        db = Database(f"sqlite:///{path}")
        db.upgrade()
        db.dispose()  # the last connection's close checkpoints the WAL into the file: one file to copy
        if Path(f"{path}-wal").exists():
            raise RuntimeError("the migrated template's WAL was not checkpointed")
        _State.template = path
    return _State.template
