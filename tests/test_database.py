"""Migrations create the model's schema, and ``qbsync db upgrade`` applies them idempotently."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlmodel import Session, SQLModel, select

import services.store.changes  # noqa: F401  (its tables are part of the model)
from cli.main import qbsync
from services.store.models import ChargeCode, ChargeLine, Customer, Load
from services.store.storage import make_engine


def test_migrations_match_the_model(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_db_upgrade_on_a_new_database_then_again(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    runner = CliRunner()
    first = runner.invoke(qbsync, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "upgraded from empty to" in first.output
    second = runner.invoke(qbsync, ["db", "upgrade"])
    assert second.exit_code == 0
    assert "up to date" in second.output


def test_db_upgrade_names_a_bad_database_url(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    result = CliRunner().invoke(qbsync, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.output


def test_money_round_trips_exactly_and_times_stay_aware(engine):
    with Session(engine) as session:
        session.add(Customer(id="C-1", name="Acme"))
        session.add(ChargeCode(code="BASE", name="Base Price"))
        load = Load(load_number="L-1", customer_id="C-1", invoice_date=dt.date(2026, 11, 20))
        load.charges = [
            ChargeLine(position=0, code="BASE", amount=Decimal("1234567890.10")),
            ChargeLine(position=1, code="BASE", amount=Decimal("0.20")),
        ]
        session.add(load)
        session.commit()
    with Session(make_engine(str(engine.url.render_as_string(hide_password=False)))) as session:
        stored = session.exec(select(Load)).one()
        assert [line.amount for line in stored.charges] == [Decimal("1234567890.10"), Decimal("0.20")]
        assert stored.total == Decimal("1234567890.30")
        assert stored.created_at.tzinfo is not None
