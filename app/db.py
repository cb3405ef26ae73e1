"""Database plumbing: the declarative base, engines, sessions and portable column types."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import anyio
from anyio.lowlevel import RunVar
from pydantic_core import to_json
from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The one declarative base; constraint names follow NAMING_CONVENTION."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONDocument,
        list[str]: JSONDocument,
    }


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    """A new random primary key."""
    return uuid.uuid4()


def normalize_url(url: str) -> str:
    """Accept the usual PostgreSQL URL spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, full fsync and a busy timeout.

    Bound parameters are left out of SQLAlchemy's error messages: they carry what users
    typed (free-text answers, names), and those messages end up in the error log.
    """
    url = normalize_url(url)
    parsed = make_url(url)
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("json_serializer", json_text)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        if database and database != ":memory:":
            # One writer at a time is all SQLite allows: queue requests for the one
            # connection in order, instead of letting SQLite's busy handler back them off.
            kwargs.setdefault("poolclass", QueuePool)
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 60)  # only threads outside requests wait here
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def json_text(value: Any) -> str:
    """A JSON column's value as text: pydantic-core's serializer, several times faster than
    ``json.dumps`` on a score snapshot (the largest document every submit stores)."""
    return to_json(value).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that
    # savepoints and transactional DDL work (SQLAlchemy's documented pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit survives power loss; a 201 promises the assessment is stored.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock up front: a transaction that reads and then writes
    # can otherwise fail with "database is locked" when another writer commits between.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def pool_capacity(engine: Engine) -> int:
    """How many connections the engine's pool can hand out at once."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        overflow = pool._max_overflow
        return pool.size() + max(overflow, 0) if overflow >= 0 else 1_000
    return 1_000  # NullPool, StaticPool, SingletonThreadPool: nothing to wait for


class ConnectionGate:
    """Admits as many requests to the database at once as the pool has connections.

    A sync route runs on one of the event loop's worker threads (40 of them). Were those
    threads to wait for a pooled connection, the request holding one could be unable to get
    a thread to finish on (the unit of work commits after the route returns), and all would
    wait for the pool timeout: on SQLite's single connection, a burst of submits stalled the
    whole service and answered 500. Waiting here happens on the event loop instead, in
    arrival order, holding no thread; a request that waited ``wait_seconds`` is refused with
    503 and ``Retry-After`` before it has done anything.
    """

    def __init__(self, capacity: int, wait_seconds: float) -> None:
        self.capacity = max(capacity, 1)
        self.wait_seconds = wait_seconds
        # One semaphore per event loop: a server has one; a test client may start several.
        self._semaphore: RunVar[anyio.Semaphore] = RunVar(f"smm-db-gate-{id(self)}")

    def _current(self) -> anyio.Semaphore:
        try:
            return self._semaphore.get()
        except LookupError:
            semaphore = anyio.Semaphore(self.capacity, fast_acquire=True)
            self._semaphore.set(semaphore)
            return semaphore

    async def enter(self) -> anyio.Semaphore | None:
        """Wait for a turn; the semaphore to release, or None when the wait timed out."""
        semaphore = self._current()
        with anyio.move_on_after(self.wait_seconds):
            await semaphore.acquire()
            return semaphore
        return None


def database_role_warning(engine: Engine) -> str | None:
    """Why the role the engine connects as is too powerful for the service, if it is.

    On PostgreSQL the audit trail is append-only by a trigger; its table's owner (the role
    migrations run as), a member of that role, or a superuser can disable the trigger and
    rewrite history. The service should connect as the application role instead.
    """
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT current_user, r.rolsuper, t.tableowner, "
                "t.tableowner IS NOT NULL AND pg_has_role(current_user, t.tableowner, 'MEMBER') "
                "FROM pg_roles r LEFT JOIN pg_tables t ON t.tablename = 'audit_events' "
                "AND t.schemaname = ANY (current_schemas(false)) "
                "WHERE r.rolname = current_user"
            )
        ).one()
    user, superuser, owner, owns = row
    if superuser:
        what = f"{user}, a superuser"
    elif owns:
        what = f"{user}, the owner of the audit trail (or a member of {owner})"
    else:
        return None
    return (
        f"SECURITY WARNING: the service connects to PostgreSQL as {what}. That role can "
        "disable the audit trail's append-only trigger and rewrite it. Run migrations as the "
        "owner role and the service as the application role (SMM_DATABASE_APP_ROLE when "
        "migrating); see the README, 'Running on PostgreSQL'."
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises."""
    with factory() as session, session.begin():
        yield session
