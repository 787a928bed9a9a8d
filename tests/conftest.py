"""Shared fixtures: a migrated database per test (SQLite by default, PostgreSQL when
``QBSYNC_TEST_DATABASE_URL`` names a server), and the environment the CLI reads."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

import services.store.changes  # noqa: F401  (every table is known to the metadata, to be emptied)
import services.store.tenants  # noqa: F401
from services.store.storage import make_engine, upgrade

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")
PG_URL = os.environ.get("QBSYNC_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per session: a SQLite file to copy, or a fresh PostgreSQL database."""
    if PG_URL:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        name = f"qbsync_test_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(_template_db: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for this test."""
    if PG_URL:
        engine = sa.create_engine(_template_db)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            schemas = conn.execute(
                sa.text("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, 'ws_')")
            )
            for (schema,) in schemas.all():  # the workspaces' storages of an earlier test
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()
        yield _template_db
    else:
        path = tmp_path / "qbsync.db"
        shutil.copyfile(_template_db, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for running ``qbsync`` against this test's database."""
    for name in list(os.environ):
        if name.startswith(("QBO_", "SLACK_", "QBSYNC_", "INTUIT_")) and name != "QBSYNC_TEST_DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    from services.settings import get_settings

    get_settings.cache_clear()
    return {"DATABASE_URL": database_url}


# -- QuickBooks emulator and a connected qbsync --------------------------------------------------

TEST_SECRET_KEY = "qbsync-test-secret-key"
RETRY_ATTEMPTS = 3


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[object]:
    """One real HTTP emulator for the session (reset before each test that uses it)."""
    from emulator.server import EmulatorServer

    with EmulatorServer(port=0, seed=20261125) as server:  # reset() re-seeds: reproducible faults
        yield server


@pytest.fixture
def emu(emulator_server):
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def settings(emu, database_url: str):
    from services.settings import load_settings

    return load_settings(
        DATABASE_URL=database_url,
        QBO_CLIENT_ID="qbsync-test-client",
        QBO_CLIENT_SECRET="qbsync-test-secret",
        QBO_REDIRECT_URI="http://localhost:8765/callback",
        QBO_API_BASE_URL=emu.api_base,
        INTUIT_DISCOVERY_URL=emu.discovery_url,
        QBSYNC_SECRET_KEY=TEST_SECRET_KEY,
    )


@pytest.fixture
def svc(settings, engine):
    """qbsync's services against this test's database and the emulator; fast retries."""
    from services.quickbooks import RetryPolicy
    from wiring.services import bootstrap

    services = bootstrap(  # RETRY_ATTEMPTS attempts per call
        settings, engine=engine, retry=RetryPolicy(attempts=RETRY_ATTEMPTS, base_delay=0.01, max_delay=0.05)
    )
    yield services


@pytest.fixture
def connected(svc, emu):
    """``svc`` with a stored connection to the emulator's default company."""
    from services.quickbooks import TokenSet

    grant = emu.issue_tokens()
    tokens = TokenSet(grant["access_token"], grant["refresh_token"], 3600, None, grant["realm_id"])
    svc.connection.store(tokens, grant["realm_id"], "test")
    return svc


@pytest.fixture
def env(settings, cli_env, emu, monkeypatch) -> dict[str, str]:
    """The environment ``qbsync`` reads (set in ``os.environ``), pointing at this test's database and
    the emulator; subprocesses inherit it."""
    values = {
        "DATABASE_URL": settings.database_url,
        "QBO_CLIENT_ID": settings.qbo_client_id,
        "QBO_CLIENT_SECRET": settings.qbo_client_secret.get_secret_value(),
        "QBO_API_BASE_URL": emu.api_base,
        "INTUIT_DISCOVERY_URL": emu.discovery_url,
        "QBSYNC_SECRET_KEY": settings.secret_key.get_secret_value(),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    from services.settings import get_settings

    get_settings.cache_clear()
    return values
