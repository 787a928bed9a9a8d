"""Open problem invoices and their dollars at the end of each of the last days, for the digest's chart.

Computed from the record of sync attempts, so the chart has a history from the first day (no daily
snapshot table to fill): a load was an open problem at an instant when its last attempt before that
instant failed (``problem`` or ``error``) and it was not dismissed by then. Its dollars are the load's
total now (charges are not versioned). The last point is today's live count, so the chart ends at the
digest's headline numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.diagnosis.problems import list_problems
from services.digest.build import FAILED
from services.store.models import ChargeLine, Load, SyncAttempt

DAYS = 14


@dataclass(frozen=True)
class DayPoint:
    day: dt.date
    open: int
    amount: Decimal

    def to_dict(self) -> dict[str, object]:
        return {"day": self.day.isoformat(), "open": self.open, "amount": str(self.amount)}


def open_history(
    engine: Engine, *, today: dt.date, tz: str, now: dt.datetime | None = None, days: int = DAYS
) -> list[DayPoint]:
    """One point per day, oldest first, ending with ``today``: open problems at the end of each day in
    ``tz`` (today: now)."""
    zone = ZoneInfo(tz)
    now = now or dt.datetime.now(dt.UTC)
    first = today - dt.timedelta(days=days - 1)
    ends = [
        dt.datetime.combine(first + dt.timedelta(days=i + 1), dt.time(), zone).astimezone(dt.UTC)
        for i in range(days - 1)
    ]
    window_start = dt.datetime.combine(first, dt.time(), zone).astimezone(dt.UTC)
    attempt = SyncAttempt.__table__  # type: ignore[attr-defined]
    lines = ChargeLine.__table__  # type: ignore[attr-defined]
    loads = Load.__table__  # type: ignore[attr-defined]
    with Session(engine) as session:
        totals = {load_id: Decimal("0.00") for load_id in session.execute(sa.select(loads.c.id)).scalars()}
        for row in session.execute(
            sa.select(lines.c.load_id, sa.func.sum(lines.c.amount).label("total")).group_by(lines.c.load_id)
        ):
            totals[row.load_id] = row.total or Decimal("0.00")
        dismissed = dict(
            session.execute(
                sa.select(loads.c.id, loads.c.dismissed_at).where(loads.c.dismissed_at.is_not(None))
            ).all()
        )
        state = _last_outcomes_before(session, attempt, window_start)
        later = session.execute(
            sa.select(attempt.c.load_id, attempt.c.started_at, attempt.c.outcome)
            .where(attempt.c.started_at >= window_start, attempt.c.started_at < now)
            .order_by(attempt.c.started_at, attempt.c.id)
        ).all()
    points = []
    index = 0
    for i, end in enumerate(ends):
        while index < len(later) and _aware(later[index].started_at) < end:
            state[later[index].load_id] = later[index].outcome
            index += 1
        open_ids = [
            load_id
            for load_id, outcome in state.items()
            if outcome in FAILED and load_id in totals and not _dismissed_by(dismissed.get(load_id), end)
        ]
        amount = sum((totals[load_id] for load_id in open_ids), Decimal("0.00"))
        points.append(DayPoint(first + dt.timedelta(days=i), len(open_ids), amount))
    live = list_problems(engine)
    points.append(DayPoint(today, len(live), sum((p.amount for p in live), Decimal("0.00"))))
    return points


def _last_outcomes_before(session: Session, attempt, instant: dt.datetime) -> dict[int, str]:
    rank = (
        sa.func.row_number()
        .over(partition_by=attempt.c.load_id, order_by=(attempt.c.started_at.desc(), attempt.c.id.desc()))
        .label("rank")
    )
    earlier = (
        sa.select(attempt.c.load_id, attempt.c.outcome, rank).where(attempt.c.started_at < instant).subquery()
    )
    rows = session.execute(sa.select(earlier.c.load_id, earlier.c.outcome).where(earlier.c.rank == 1))
    return {row.load_id: row.outcome for row in rows}


def _dismissed_by(dismissed_at: dt.datetime | None, instant: dt.datetime) -> bool:
    return dismissed_at is not None and _aware(dismissed_at) <= instant


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
