"""Alembic environment: the models' metadata, batch mode for SQLite."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import services.store.changes  # noqa: F401  (registers the tables)
import services.store.models  # noqa: F401
import services.store.tenants  # noqa: F401
from services.store.storage import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    schema = config.attributes.get("schema")
    try:
        with engine.connect() as conn:
            if schema and conn.dialect.name == "postgresql":  # one workspace's storage: its own schema
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                conn.execute(sa.text(f'SET search_path TO "{schema}"'))
                conn.commit()
                conn.dialect.default_schema_name = schema
                _run(conn, version_table_schema=schema)
                return
            _run(conn)
    finally:
        engine.dispose()


def _run(connection, **options) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
