"""Engine, sessions and migrations. SQLite gets WAL, a busy timeout and foreign keys; PostgreSQL works too.

A session is a unit of work: it commits once when its block ends (rolls back on an exception), then
tells the listeners which events its transaction carried (``notify``), e.g. that the outbox has new rows."""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import re
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.types import DateTime, TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)
Listener = Callable[[set[str]], None]
PING_AFTER_IDLE = 10.0  # seconds in the pool after which a connection is tried before use
# Connections kept open (PostgreSQL) besides the turn workers' (see ``AppContext``): the dispatcher, the
# ticker and the default executor's threads each hold one at times. A connection opened beyond the pool is
# closed after use, and opening one costs the server a new process: the pool holds all that are busy at once.
OTHER_CONNECTIONS = 8
POOL_SIZE = 8 + OTHER_CONNECTIONS


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite forgets the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC times")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def insert_for(session: Session) -> Any:
    """The backend's INSERT construct, which knows ON CONFLICT (both SQLite and PostgreSQL have it)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_new(session: Session, row: SQLModel) -> bool:
    """Inserts ``row`` unless a row with its key is there (another transaction's, on PostgreSQL waited for
    until it commits): True when it was this one. For a row two people may create at the same moment, where
    a plain INSERT would fail the second with a duplicate key. Read it back with ``session.get``."""
    table = type(row).__table__  # type: ignore[attr-defined]
    values = {c.name: getattr(row, c.name) for c in table.columns if getattr(row, c.name) is not None}
    keys = [c.name for c in table.primary_key.columns]
    stmt = insert_for(session)(table).values(**values).on_conflict_do_nothing(index_elements=keys)
    return session.execute(stmt.returning(*table.primary_key.columns)).first() is not None


def with_driver(url: str) -> str:
    """A bare PostgreSQL URL with the driver we ship named: psycopg2, whose statement is one C call, where
    psycopg 3's Python layers cost a turn more CPU than the rest of its database work on SQLite (SQLAlchemy
    2.1 would take psycopg 3 for a bare URL)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def make_engine(url: str, pool_size: int = POOL_SIZE, durable: bool = True) -> Engine:
    """``durable=False`` (PostgreSQL): commits return before the server has flushed them to disk, for rows
    that matter only while the process runs (the send budget); a server crash may forget the last of them."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # hide_parameters: an error's message never carries the values bound to it (a phone, an e-mail).
    options = {} if durable else {"connect_args": {"options": "-c synchronous_commit=off"}}
    engine = create_engine(with_driver(url), pool_size=pool_size, max_overflow=10, hide_parameters=True, **options)
    _ping_when_idle(engine)
    if engine.dialect.driver == "psycopg2":  # psycopg 3 prepares what it runs again by itself
        _keep_repeated_prepared(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """A connection that sat in the pool a while is tried before use, and replaced when the server dropped
    it (a restart, a failover). One busy a moment ago is not: a ping on every checkout, as SQLAlchemy's
    pre-ping does, is one more round trip for each turn, often a fifth of its statements."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _try(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("returned_at", float("-inf")) < PING_AFTER_IDLE:
            return
        try:
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_conn.rollback()
        except Exception as err:  # the pool throws this connection away and checks out a fresh one
            raise DisconnectionError(f"connection dropped while idle: {type(err).__name__}") from err


def notify(session: Session, event: str) -> None:
    """Announces ``event`` to the database's listeners once this session's transaction has committed."""
    session.info.setdefault("events", set()).add(event)


def cached(session: Session, key: Hashable, load: Callable[[], T]) -> T:
    """What ``load`` reads, read once in this unit of work: rows a turn looks at again and again and hardly
    ever changes (the department list, the month's calendar overrides). A service that writes them calls
    :func:`forget`; a commit or a rollback (of a savepoint too) forgets everything, so a unit of work that
    commits on the way (the tick) reads them afresh after each commit."""
    found = session.info.setdefault("cache", {})
    if key not in found:
        found[key] = load()
    return found[key]  # type: ignore[no-any-return]


def peek(session: Session, key: Hashable) -> Any:
    """What :func:`cached` keeps under ``key`` in this unit of work, or None when nothing was read yet."""
    return session.info.get("cache", {}).get(key)


def forget(session: Session) -> None:
    session.info.pop("cache", None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous: Any) -> None:
    forget(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint released
        forget(session)


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Runs ``action`` once this session's transaction has committed (never if it rolls back): what
    cannot be undone, such as deleting a file, waits until the database has let go of it for good."""
    session.info.setdefault("after", []).append(action)


# Prepared statements of a PostgreSQL connection, kept in its pool record's info: (the DBAPI connection they
# were prepared on, their names). The pool clears the info when it replaces the connection; the connection
# is compared too, so that one opened by any other path never counts as prepared.
_PREPARED_ON = "prepared_statements"
_PREPARED_NAMES: set[str] = set()
_NUMBERED = postgresql.psycopg2.dialect(paramstyle="numeric_dollar")  # $1, $2 …, as PREPARE takes them


def _prepared_on(pool: Any) -> set[str]:
    """The names of the statements prepared on this pooled connection (a set the caller adds to)."""
    known = pool.info.get(_PREPARED_ON)
    if known is None or known[0] is not pool.dbapi_connection:
        known = pool.info[_PREPARED_ON] = (pool.dbapi_connection, set())
    return known[1]  # type: ignore[no-any-return]


def _sqlstate(err: BaseException | None) -> str | None:
    return getattr(err, "pgcode", None) or getattr(err, "sqlstate", None)  # psycopg2, psycopg 3


class Prepared:
    """A statement kept prepared on each PostgreSQL connection that runs it: the server parses and plans it
    once per connection, not at every run. psycopg2 sends plain statements, which the server parses each
    time; for the dispatcher's few statements, run for every few messages of a broadcast, that was most of
    the server's CPU per message. psycopg2 has no call for it, so each connection gets an explicit
    ``PREPARE`` the first time and ``EXECUTE`` after; a prepared statement outlives a rollback and dies with
    its connection, which the pool's replacing a connection forgets (see ``_PREPARED_ON``). Elsewhere
    (SQLite) the statement runs as it is: ``others``, when given, is the statement for other dialects."""

    def __init__(self, name: str, statement: Any, others: Any = None) -> None:
        if name in _PREPARED_NAMES:  # one name on a connection is one statement
            raise ValueError(f"prepared statement {name!r} defined twice")
        _PREPARED_NAMES.add(name)
        self.name = name
        self.statement = statement
        self.others = statement if others is None else others
        compiled = statement.compile(dialect=_NUMBERED)
        self._prepare = f"PREPARE {name} AS {compiled.string}"
        self._order: Sequence[str] = compiled.positiontup or ()
        self._defaults = compiled.params  # values the statement carries itself (e.g. a state it sets)
        self._execute = f"EXECUTE {name}({', '.join(['%s'] * len(self._order))})" if self._order else f"EXECUTE {name}"
        self._binds = [compiled.binds[key].type for key in self._order]
        self._columns = [column.type for column in getattr(statement, "exported_columns", ())]
        # The types' conversions, as the dialect last used would make them (one engine's in a bot process).
        self._processors: tuple[Any, tuple[list[Any], list[tuple[int, Any]]]] | None = None

    def run(self, session: Session | Connection, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """The statement's rows (none for a statement that returns none), its values converted by the
        columns' types as a plain run converts them; in the session's transaction, or the connection's."""
        connection = session if isinstance(session, Connection) else session.connection()
        dialect = connection.dialect
        if dialect.name != "postgresql":
            result = connection.execute(self.others, dict(params))
            return list(result.all()) if result.returns_rows else []
        found = self._processors
        binds, columns = found[1] if found is not None and found[0] is dialect else self._processors_for(dialect)
        values = {**self._defaults, **params}
        args = tuple(
            value if bind is None else bind(value)
            for bind, value in zip(binds, (values[key] for key in self._order), strict=True)
        )
        known = _prepared_on(connection.connection)
        try:
            if self.name not in known:
                connection.exec_driver_sql(self._prepare)
                known.add(self.name)
            result = connection.exec_driver_sql(self._execute, args)
        except DBAPIError as err:
            if _sqlstate(err.orig) == "42P05":  # already there, though not known to be: the next transaction uses it
                known.add(self.name)
            raise  # "26000", gone: the engine's error hook forgets this connection's (see ``_keep_repeated_prepared``)
        if not result.returns_rows:
            return []
        rows = result.all()
        if not columns:
            return list(rows)
        converted = []
        for row in rows:
            row = list(row)
            for i, process in columns:
                row[i] = process(row[i])
            converted.append(row)
        return converted

    def _processors_for(self, dialect: Any) -> tuple[list[Any], list[tuple[int, Any]]]:
        """Each parameter's conversion on the way in and each column's on the way out (None: as it is)."""
        binds = [kind.dialect_impl(dialect).bind_processor(dialect) for kind in self._binds]
        columns = [
            (i, kind.dialect_impl(dialect).result_processor(dialect, None)) for i, kind in enumerate(self._columns)
        ]
        found = (binds, [(i, p) for i, p in columns if p is not None])
        self._processors = (dialect, found)
        return found


# Statements that ``_keep_repeated_prepared`` keeps prepared: after this many runs in the process, and no
# more than this many (a text made for one list's length, say, is one of many and never run three times).
KEEP_PREPARED_AFTER = 3
KEEP_PREPARED_AT_MOST = 1000
_KEEPABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
_PYFORMAT = re.compile(r"%%|%\((\w+)\)s")
_SAVEPOINT = "pitchbot_prepare"
_FAILED = 3  # libpq's PQTRANS_INERROR: a transaction that failed and waits for its rollback
_PLAIN = ("", "", "")  # a statement run as it is: the server cannot prepare it (a parameter of no known type)


def _prepared_form(name: str, statement: str) -> tuple[str, str, str]:
    """(name, its PREPARE, its EXECUTE with psycopg2's placeholders) for one of SQLAlchemy's statements."""
    if "$" in statement:  # a $1 of its own (in a literal) would be taken for a parameter
        return _PLAIN
    order: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        key = match.group(1)
        if key is None:
            return "%"  # "%%" stands for "%" only where parameters are interpolated
        if key not in order:
            order.append(key)
        return f"${order.index(key) + 1}"

    body = _PYFORMAT.sub(numbered, statement)
    arguments = f"({', '.join(f'%({key})s' for key in order)})" if order else ""
    return name, f"PREPARE {name} AS {body}", f"EXECUTE {name}{arguments}"


class _Repeated:
    """What the statements run so far in this process have shown: how often each ran, and the prepared form
    of those that ran often enough (shared by every connection of one engine, on any thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[str, int] = {}
        self.kept: dict[str, tuple[str, str, str]] = {}

    def form(self, statement: str) -> tuple[str, str, str] | None:
        """The statement's prepared form once it has run often enough; None until then, _PLAIN for never."""
        found = self.kept.get(statement)
        if found is not None:
            return found
        if not statement[:6].upper().startswith(_KEEPABLE):
            return None
        with self.lock:
            if statement in self.kept:
                return self.kept[statement]
            runs = self.runs.pop(statement, 0) + 1
            if runs < KEEP_PREPARED_AFTER or len(self.kept) >= KEEP_PREPARED_AT_MOST:
                if len(self.runs) >= 10 * KEEP_PREPARED_AT_MOST:
                    self.runs.clear()
                self.runs[statement] = runs
                return None
            found = self.kept[statement] = _prepared_form(f"pitchbot_{len(self.kept) + 1}", statement)
            return found

    def refused(self, statement: str) -> None:
        self.kept[statement] = _PLAIN


def _keep_repeated_prepared(engine: Engine) -> None:
    """Keeps each statement this process runs again and again prepared on every connection that runs it, so
    the server parses and plans it once per connection instead of at every run (psycopg2 sends plain
    statements, and parsing and planning was about a third of the server's CPU for a turn). The parameters'
    types are the server's inference from the statement, as for a plain statement's literals; a statement
    whose parameter it cannot type is refused in a savepoint of its own and from then on run plain. A
    connection's prepared statements outlive a rollback; when they are gone all the same (``DISCARD ALL``,
    ``DEALLOCATE``), that transaction fails and the next prepares them again."""
    repeated = _Repeated()
    dbapi = engine.dialect.loaded_dbapi

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _run_prepared(
        conn: Connection, cursor: Any, statement: str, parameters: Any, _context: Any, executemany: bool
    ) -> tuple[str, Any]:
        if executemany or not isinstance(parameters, dict) or cursor.name is not None:  # a named cursor DECLAREs
            return statement, parameters
        form = repeated.form(statement)
        if form is None or form is _PLAIN:
            return statement, parameters
        name, prepare, execute = form
        known = _prepared_on(conn.connection)
        if name not in known:
            if cursor.connection.info.transaction_status == _FAILED:  # the statement fails as it is
                return statement, parameters
            refusal = _prepare(cursor, prepare, dbapi)
            if refusal not in (None, "42P05"):  # 42P05: there already, though not known to be
                log.warning("statement run plain: the server refused to prepare it (%s): %.200s", refusal, statement)
                repeated.refused(statement)
                return statement, parameters
            known.add(name)
        return execute, parameters

    @event.listens_for(engine, "handle_error")
    def _forget_when_gone(context: Any) -> None:
        gone = _sqlstate(context.original_exception) == "26000"
        if gone and context.connection is not None and not context.connection.invalidated:
            _prepared_on(context.connection.connection).clear()


def _prepare(cursor: Any, prepare: str, dbapi: Any) -> str | None:
    """Sends ``prepare``; the server's refusal (its SQLSTATE) or None. In a transaction the PREPARE has a
    savepoint of its own, in the same round trip, so that a refusal leaves the transaction as it was."""
    alone = bool(cursor.connection.autocommit)
    try:
        cursor.execute(prepare if alone else f"SAVEPOINT {_SAVEPOINT}; {prepare}; RELEASE SAVEPOINT {_SAVEPOINT}")
        return None
    except dbapi.OperationalError:  # the connection, not the statement: the caller's run fails as it would
        raise
    except dbapi.DatabaseError as err:
        if not alone:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}; RELEASE SAVEPOINT {_SAVEPOINT}")
        return _sqlstate(err) or "?"


class Database:
    """Hands out sessions; the only place that knows the engine."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        self.dialect = self.engine.dialect.name
        self._transient: Engine | None = None
        # SQLite has one writer: threads of this process queue here instead of in SQLite's busy handler,
        # which sleeps in steps of up to 100 ms.
        self._writer = threading.Lock()
        self._listeners: list[Listener] = []

    def on_commit(self, listener: Listener) -> None:
        self._listeners.append(listener)

    @contextmanager
    def session(self, *, writer: bool = False, durable: bool = True) -> Iterator[Session]:
        """A unit of work. ``writer=True`` (a conversation turn, off the event loop) queues behind this
        process's other writers on SQLite, so its first write never waits in SQLite's busy handler.
        ``durable=False``: what it writes matters only while the bot runs (the send budget), so on PostgreSQL
        its commit does not wait for the disk (see :func:`make_engine`)."""
        queue = self._writer if writer and self.dialect == "sqlite" else nullcontext()
        with queue, Session(self._engine_for(durable), expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            events = session.info.pop("events", None)
            actions = session.info.pop("after", [])
        for action in actions:
            try:
                action()
            except Exception:
                log.exception("after-commit action failed")
        if events:
            for listener in self._listeners:
                try:
                    listener(events)
                except Exception:  # a listener must never undo what was committed
                    log.exception("after-commit listener failed")

    @contextmanager
    def statements(self) -> Iterator[Connection]:
        """A connection for statements each complete on its own, without a session's unit of work (no
        listeners told, nothing cached): for the dispatcher's markings, a statement run for every few
        messages of a broadcast, where setting up a session cost about as much CPU as the statement. On
        PostgreSQL each statement commits by itself (no BEGIN and COMMIT, two round trips fewer); elsewhere
        the block's statements share one transaction, committed when it ends."""
        if self.dialect != "postgresql":
            with self.engine.begin() as connection:
                yield connection
            return
        with self.engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")

    def _engine_for(self, durable: bool) -> Engine:
        if durable or self.dialect != "postgresql":
            return self.engine
        with self._writer:
            if self._transient is None:
                self._transient = make_engine(self.url, pool_size=2, durable=False)
            return self._transient

    def upgrade(self) -> None:
        upgrade(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._transient is not None:
            self._transient.dispose()


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


MIGRATION_LOCK = 0x50495444  # a PostgreSQL advisory lock, the same in every process of this bot


def upgrade(engine: Engine) -> None:
    """Applies the migrations. Several workers starting at once take turns: the first migrates, the others
    find the schema current."""
    from alembic import command

    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                command.upgrade(alembic_config(engine), "head")
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        command.upgrade(alembic_config(engine), "head")
        return
    with open(f"{database}.migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        command.upgrade(alembic_config(engine), "head")
