"""``problems``, ``digest`` and the App Home status over 100,000 loads with 10,000 problems, on SQLite
(and PostgreSQL when ``QBSYNC_BENCH_PG_URL`` names a server), with the peak Python memory of each,
against a baseline measured in the same run: the problem list as loaded before (each problem load an
ORM object whose total lazily loads its charges).

Run: ``.venv/bin/python -m benchmarks.reports [--loads 100000] [--problems 10000]``. Target: < 1 s each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time
import tracemalloc
import uuid
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from benchmarks.common import table
from services.store.models import ChargeCode, ChargeLine, Customer, Load, LoadState
from services.store.storage import make_engine, upgrade

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
REASONS = ["customer_not_synced", "charge_codes_not_synced", "qb_unavailable", "duplicate_load_number"]


def fill(engine: sa.Engine, loads: int, problems: int) -> None:
    load, line = Load.__table__, ChargeLine.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Customer.__table__), [{"id": "C-1", "name": "Acme", "qb_email": "ap@acme.example"}]
        )  # type: ignore[attr-defined]
        conn.execute(
            sa.insert(ChargeCode.__table__),
            [{"code": "BASE", "name": "Base Price", "sync_state": "unsynced"}],
        )  # type: ignore[attr-defined]
        step = 5000
        for start in range(0, loads, step):
            rows, lines = [], []
            for i in range(start, min(loads, start + step)):
                problem = i % (loads // problems) == 0 and i // (loads // problems) < problems
                code = REASONS[i % len(REASONS)]
                rows.append(
                    {
                        "id": i + 1,
                        "load_number": f"L-{i:06d}",
                        "customer_id": "C-1",
                        "invoice_date": dt.date(2026, 11, 1),
                        "state": (LoadState.PROBLEM if problem else LoadState.SYNCED).value,
                        "reasons": [{"code": code, "summary": "…", "evidence": {}}] if problem else [],
                        "problem_since": NOW - dt.timedelta(minutes=i) if problem else None,
                        "sync_generation": 0,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
                lines += [
                    {"load_id": i + 1, "position": p, "code": "BASE", "amount": Decimal("100.25")}
                    for p in (1, 2, 3)
                ]
            conn.execute(sa.insert(load), rows)
            conn.execute(sa.insert(line), lines)


def baseline_problems(engine: sa.Engine) -> str:
    """The problem list as main loaded it: ORM loads, each total summing lazily loaded charges."""
    with Session(engine) as session:
        rows = session.exec(
            select(Load)
            .where(Load.state == LoadState.PROBLEM, Load.dismissed_at.is_(None))
            .order_by(Load.problem_since)  # type: ignore[union-attr]
        ).all()
        return json.dumps(
            [{"load_number": r.load_number, "amount": str(r.total), "reasons": r.reason_codes} for r in rows]
        )


def measure(name: str, work) -> list[str]:
    tracemalloc.start()
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return [name, f"{elapsed * 1000:.0f}", f"{peak / 2**20:.1f}"]


def run(label: str, url: str, loads: int, problems: int) -> list[list[str]]:
    from services.connect.connection import ConnectionStatus
    from services.diagnosis.problems import list_dismissed, list_problems, problems_json
    from services.diagnosis.status import build_status
    from services.digest.build import build_digest
    from services.store.models import ConnectionState

    upgrade(url)
    engine = make_engine(url)
    fill(engine, loads, problems)
    status = ConnectionStatus(ConnectionState.CONNECTED, "1", None, None, None, None, None)
    rows = [
        measure(f"{label}: problem list, as before (baseline)", lambda: baseline_problems(engine)),
        measure(
            f"{label}: problems --json",
            lambda: json.dumps(problems_json(list_problems(engine), list_dismissed(engine))),
        ),
        measure(
            f"{label}: digest --json", lambda: json.dumps(build_digest(engine, today=NOW.date()).to_dict())
        ),
        measure(f"{label}: App Home / status", lambda: build_status(engine, status)),
    ]
    engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> list[list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=100_000)
    parser.add_argument("--problems", type=int, default=10_000)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += run("SQLite", f"sqlite:///{Path(folder) / 'reports.db'}", args.loads, args.problems)
    pg = os.environ.get("QBSYNC_BENCH_PG_URL")
    if pg:
        admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
        name = f"qbsync_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = sa.make_url(pg).set(database=name).render_as_string(hide_password=False)
            rows += run("PostgreSQL", url, args.loads, args.problems)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    print(f"{args.loads:,} loads, {args.problems:,} problems (PostgreSQL when QBSYNC_BENCH_PG_URL is set)")
    print(table(["report", "ms", "peak MB"], rows))
    return rows


if __name__ == "__main__":
    main()
