"""The App Home's numbers: the status, plus dollars by reason, the oldest problems, and the automatic
sync's last run — from the database alone (no QuickBooks request)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.engine import Engine

from services.connect.connection import ConnectionStatus
from services.diagnosis.problems import Problem, by_reason, list_problems
from services.diagnosis.status import Status, build_status
from services.scheduler.autosync import LOCK, retry_schedule
from services.store.locks import last_run


@dataclass
class Dashboard:
    status: Status
    amount_by_reason: dict[str, Decimal] = field(default_factory=dict)
    oldest: list[Problem] = field(default_factory=list)
    auto_sync_at: dt.datetime | None = None
    auto_sync_outcome: str | None = None
    retrying: int = 0  # loads waiting for their next automatic retry


def build_dashboard(engine: Engine, connection: ConnectionStatus, *, oldest: int = 5) -> Dashboard:
    status = build_status(engine, connection)
    problems = list_problems(engine)
    finished, outcome = last_run(engine, LOCK)
    return Dashboard(
        status=status,
        amount_by_reason={
            code: sum((p.amount for p in group), Decimal("0.00"))
            for code, group in by_reason(problems).items()
        },
        oldest=problems[: max(0, oldest)],
        auto_sync_at=finished,
        auto_sync_outcome=outcome,
        retrying=len(retry_schedule(engine)),
    )
