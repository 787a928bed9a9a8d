"""Database engine, sessions and migrations. SQLite for the embedded default, PostgreSQL in production."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_ATTEMPTS = 5
BUSY_BASE_DELAY = 0.05
T = TypeVar("T")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, WAL, a busy timeout, and explicit BEGINs so that
    ``immediate_transaction`` can take the write lock up front."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
            dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            if not url.endswith(":memory:") and url not in ("sqlite://", "sqlite:///"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # pragma: no cover - exercised by every SQLite test
            mode = conn.info.pop("sqlite_begin", "BEGIN")
            conn.exec_driver_sql(mode)

        return engine
    return sa.create_engine(url, echo=echo, pool_pre_ping=True)


def scope_of(engine: Engine) -> str | None:
    """The workspace storage ``engine`` is scoped to on PostgreSQL (``services.store.tenancy``), or None."""
    return (engine.get_execution_options().get("schema_translate_map") or {}).get(None)


def engine_key(engine: Engine) -> str:
    """What tells two databases apart in this process: the URL, and the workspace schema if any."""
    url = engine.url.render_as_string(hide_password=False)
    schema = scope_of(engine)
    return f"{url}#{schema}" if schema else url


@contextlib.contextmanager
def immediate_transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction, committed on success and rolled back on error.

    On SQLite it begins with ``BEGIN IMMEDIATE``: the write lock is taken (waiting up to the busy
    timeout) before anything is read. A deferred transaction that reads and then writes cannot wait:
    once another process has committed since its read, SQLite answers "database is locked" at once.
    Keep these transactions short — no network call inside.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.info["sqlite_begin"] = "BEGIN IMMEDIATE"
        with conn.begin():
            yield conn


def dialect_insert(conn: Connection, table: sa.Table):
    """An ``INSERT`` in this connection's dialect, for ``ON CONFLICT`` clauses (SQLite's and
    PostgreSQL's read the same)."""
    # the dialect's own insert is chosen at run time: a SQLite deployment never loads PostgreSQL's
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def lock_row(conn: Connection, table: sa.Table, key: dict[str, object], defaults: dict[str, object]):
    """Inside a write transaction: the row of ``table`` whose primary key is ``key``, created from
    ``defaults`` when missing and locked until the transaction ends. Two writers that both find no row
    would otherwise both insert it, and PostgreSQL would refuse the second (a unique violation)."""
    conn.execute(dialect_insert(conn, table).values(**key, **defaults).on_conflict_do_nothing())
    query = sa.select(table).where(*(table.c[name] == value for name, value in key.items()))
    if conn.dialect.name != "sqlite":  # SQLite's write lock is the whole database, taken at BEGIN
        query = query.with_for_update()
    return conn.execute(query).one()


@contextlib.contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """An ORM session inside ``immediate_transaction``; committed on success."""
    with immediate_transaction(engine) as conn, Session(bind=conn, expire_on_commit=False) as session:
        yield session
        session.commit()


def is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database is busy" (the write lock stayed taken too long)."""
    if not isinstance(exc, OperationalError):
        return False
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


def retry_busy(
    write: Callable[[], T],
    *,
    attempts: int = BUSY_ATTEMPTS,
    base_delay: float = BUSY_BASE_DELAY,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``write`` (one whole transaction, safe to run again after a rollback), again after a busy
    database, at most ``attempts`` times with jittered exponential backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except OperationalError as exc:
            if attempt == attempts or not is_busy(exc):
                raise
            delay = random.uniform(0, base_delay * 2 ** (attempt - 1))
            log.info("database busy (attempt %d of %d); again in %.2fs", attempt, attempts, delay)
            sleep(delay)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def interprocess_lock(engine: Engine, name: str) -> Iterator[None]:
    """Held by one process (and one call) at a time for the database ``engine`` names, without holding
    a database transaction: a lock file beside a SQLite database (``flock``), a PostgreSQL advisory
    lock elsewhere. Released when the block ends or the process dies."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if not path or path == ":memory:":  # one process only: nothing to share
            yield
            return
        import fcntl  # POSIX only, and only a SQLite file needs it: loaded where it is used

        handle = os.open(f"{path}.{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)  # releases the lock
        return
    schema = scope_of(engine)
    scoped = f"{schema}:{name}" if schema else name  # one workspace's lock, not every workspace's
    key = int.from_bytes(hashlib.sha256(scoped.encode()).digest()[:8], "big", signed=True)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextlib.contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str):
    # Alembic loads only when migrations run or are read (start-up of every other command stays fast)
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads", *, schema: str | None = None) -> None:
    """Apply migrations up to ``revision``: ``heads`` for the home database (its workspace's tables and
    the registry of workspaces), ``tenant@head`` for the storage of one workspace — in PostgreSQL
    ``schema`` (created if missing), or its own SQLite file (``url``)."""
    from alembic import command  # Alembic loads only when migrations run (start-up stays fast)

    config = alembic_config(url)
    config.attributes["schema"] = schema
    command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revisions the database is at (comma-separated when both the workspace tables' and the
    registry's are applied), or None for a database without qbsync's tables."""
    from alembic.runtime.migration import MigrationContext  # as above: loaded when asked

    schema = scope_of(engine)
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn, opts={"version_table_schema": schema}).get_current_heads()
    return ",".join(sorted(heads)) or None
