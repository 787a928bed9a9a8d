"""Where each workspace's data lives, and the one place that scopes a database engine to it.

A workspace's tables are its own: on PostgreSQL a schema (``ws_t0123abcd``) in the home database, on
SQLite a file beside the home database (``qbsync.ws_t0123abcd.db``). :meth:`Tenancy.engine_for` gives
the engine of one workspace's storage, and every service of that workspace is built on it
(``wiring.services.Services.for_workspace``). A query therefore cannot name another workspace's rows:
on PostgreSQL the engine renders every table into the workspace's schema (SQLAlchemy's
``schema_translate_map``, applied when each statement is compiled, ORM and Core alike), on SQLite it
opens another file. No query carries a tenant filter that could be forgotten.

The home tables (``services.store.tenants``: the workspace registry, Slack's installations) are read
through the home engine only. The workspace of a single-workspace deployment keeps its tables where
they always were, in the home schema (storage ``None``): upgrading to many workspaces moves nothing.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from services.errors import ConfigurationError
from services.store.storage import interprocess_lock, make_engine, upgrade

log = logging.getLogger(__name__)

STORAGE = re.compile(r"^ws_[a-z0-9]{2,31}$")
TENANT_HEAD = "tenant@head"


def storage_name(team_id: str) -> str:
    """The storage of workspace ``team_id`` (a Slack team id, checked by the caller): ``ws_t0123abcd``."""
    name = f"ws_{team_id.lower()}"
    if not STORAGE.fullmatch(name):
        raise ValueError(f"not a Slack team id: {team_id[:40]!r}")
    return name


def _checked(storage: str) -> str:
    if not STORAGE.fullmatch(storage):  # the name goes into DDL and a file name: only this shape
        raise ValueError(f"not a workspace storage name: {storage[:40]!r}")
    return storage


def sqlite_file(home_url: str, storage: str) -> str:
    """The SQLite URL of ``storage`` beside the home database file."""
    url = make_url(home_url)
    if not url.database or url.database == ":memory:":
        raise ConfigurationError(
            "many workspaces need a database file or PostgreSQL: DATABASE_URL is an in-memory SQLite database"
        )
    path = Path(url.database)
    found = url.set(database=str(path.with_name(f"{path.stem}.{_checked(storage)}{path.suffix or '.db'}")))
    return found.render_as_string(hide_password=False)


class Tenancy:
    """The engines of the workspaces' storages over the ``home`` engine (``DATABASE_URL``)."""

    def __init__(self, home: Engine, url: str) -> None:
        self.home = home
        self.url = url
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()

    @property
    def sqlite(self) -> bool:
        return self.home.dialect.name == "sqlite"

    def engine_for(self, storage: str | None) -> Engine:
        """The engine whose every statement reads and writes ``storage`` only (``None``: the home tables)."""
        if storage is None:
            return self.home
        with self._lock:
            engine = self._engines.get(storage)
            if engine is None:
                _checked(storage)
                if self.sqlite:
                    engine = make_engine(sqlite_file(self.url, storage))
                else:  # shares the home engine's pool: one set of connections for every workspace
                    engine = self.home.execution_options(schema_translate_map={None: storage})
                self._engines[storage] = engine
            return engine

    def url_of(self, storage: str | None) -> str:
        if storage is None or not self.sqlite:
            return self.url
        return sqlite_file(self.url, storage)

    def provision(self, storage: str) -> None:
        """Create ``storage`` if it is new and bring its tables to the latest revision (safe again)."""
        _checked(storage)
        with interprocess_lock(self.home, f"provision-{storage}"):  # two installs at once: one migrates
            upgrade(self.url_of(storage), TENANT_HEAD, schema=None if self.sqlite else storage)

    def exists(self, storage: str) -> bool:
        _checked(storage)
        if self.sqlite:
            path = make_url(self.url_of(storage)).database
            return bool(path) and os.path.exists(path)
        with self.home.connect() as conn:
            found = conn.execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :n"), {"n": storage})
            return found.first() is not None

    def drop(self, storage: str) -> None:
        """Erase ``storage`` and everything in it."""
        _checked(storage)
        with self._lock:
            engine = self._engines.pop(storage, None)
        if self.sqlite:
            if engine is not None:
                engine.dispose()
            path = make_url(self.url_of(storage)).database
            for suffix in ("", "-wal", "-shm"):
                if path and os.path.exists(path + suffix):
                    os.remove(path + suffix)
            return
        with self.home.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{storage}" CASCADE'))

    def clear_home(self) -> None:
        """Erase the rows of the home workspace (the tables of a single-workspace deployment), keeping the
        tables and the registry of workspaces."""
        from sqlmodel import SQLModel

        import services.store.changes  # noqa: F401  (every table of a workspace is known to the metadata)
        import services.store.models  # noqa: F401
        from services.store.tenants import HOME_TABLES

        with self.home.begin() as conn:
            for table in reversed(SQLModel.metadata.sorted_tables):
                if table.name not in HOME_TABLES:
                    conn.execute(table.delete())

    def close(self) -> None:
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            if self.sqlite:
                engine.dispose()
