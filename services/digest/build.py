"""The daily digest: how many invoices are stuck, what is new and what got fixed today, computed from the
database alone (posting it to Slack is someone else's job).

- open: loads now in the problem state; their totals make ``total_amount``;
- new: open loads whose problem started today (or since the previous digest, when given);
- resolved: loads whose last attempt today (or since the previous digest) ended synced after a failed
  one — a failed attempt earlier in that window, or a failed attempt as the last one before it;
- by_reason: open loads per reason code, in fix order (a load with two reasons counts in both);
- oldest: the ``oldest`` open problems, oldest first;
- dismissed: loads a person dismissed (not to be synced), counted apart from all of the above.

"Today" is a calendar day in the given IANA time zone; the database keeps UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services.diagnosis.problems import Problem, list_problems, summarize
from services.store.models import SyncAttempt

FAILED = frozenset({"problem", "error"})


@dataclass
class Digest:
    date: dt.date
    open: int
    new: int
    resolved: int
    total_amount: Decimal
    by_reason: dict[str, int] = field(default_factory=dict)
    oldest: list[Problem] = field(default_factory=list)
    dismissed: int = 0  # loads a person dismissed: in none of the counts above (not in the JSON contract)
    amount_by_reason: dict[str, Decimal] = field(default_factory=dict)  # dollars per reason (not in JSON)
    since: dt.datetime | None = None  # new and resolved were counted from here (the previous digest)
    dismissed_amount: Decimal = Decimal("0.00")  # what the dismissed loads total (not in the JSON)

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "open": self.open,
            "new": self.new,
            "resolved": self.resolved,
            "total_amount": str(self.total_amount),
            "by_reason": dict(self.by_reason),
            "oldest": [problem.to_dict() for problem in self.oldest],
        }


def day_bounds(today: dt.date, tz: str) -> tuple[dt.datetime, dt.datetime]:
    """The start and end (exclusive) of ``today`` in ``tz``, as UTC instants."""
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(today, dt.time(), zone)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def build_digest(
    engine: Engine,
    *,
    today: dt.date,
    tz: str = "UTC",
    oldest: int = 5,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Digest:
    """The digest of ``today`` (a date in ``tz``). New and resolved count the calendar day, or the
    window [``since``, ``until``) when ``since`` is given (the scheduled digest: since the previous one)."""
    start, end = day_bounds(today, tz)
    if since is not None:
        start, end = since, until or dt.datetime.now(dt.UTC)
    summary = summarize(engine, new_since=start, new_until=end)  # counted by the database
    return Digest(
        date=today,
        open=summary.open,
        new=summary.new,
        resolved=count_resolved(engine, start, end),
        total_amount=summary.total_amount,
        by_reason=summary.by_reason,
        oldest=list_problems(engine, limit=max(0, oldest)),  # oldest problem first
        dismissed=summary.dismissed,
        amount_by_reason=summary.amount_by_reason,
        since=since,
        dismissed_amount=summary.dismissed_amount,
    )


def count_resolved(engine: Engine, start: dt.datetime, end: dt.datetime) -> int:
    """Loads whose last attempt in [start, end) ended synced, after a failed attempt that day or a failed
    last attempt before it."""
    attempt = SyncAttempt.__table__  # type: ignore[attr-defined]
    with Session(engine) as session:
        today = session.execute(
            sa.select(attempt.c.load_id, attempt.c.outcome)
            .where(attempt.c.started_at >= start, attempt.c.started_at < end)
            .order_by(attempt.c.load_id, attempt.c.started_at, attempt.c.id)
        ).all()
        before = _last_outcome_before(session, attempt, start, end)
    outcomes: dict[int, list[str]] = {}
    for row in today:
        outcomes.setdefault(row.load_id, []).append(row.outcome)
    resolved = 0
    for load_id, seen in outcomes.items():
        failed_first = before.get(load_id) in FAILED or any(o in FAILED for o in seen[:-1])
        if seen[-1] == "synced" and failed_first:
            resolved += 1
    return resolved


def _last_outcome_before(session: Session, attempt: Any, start: dt.datetime, end: dt.datetime) -> dict:
    """The outcome of the last attempt before ``start`` of each load attempted in [start, end)."""
    attempted = sa.select(attempt.c.load_id).where(attempt.c.started_at >= start, attempt.c.started_at < end)
    rank = (
        sa.func.row_number()
        .over(partition_by=attempt.c.load_id, order_by=(attempt.c.started_at.desc(), attempt.c.id.desc()))
        .label("rank")
    )
    earlier = (
        sa.select(attempt.c.load_id, attempt.c.outcome, rank)
        .where(attempt.c.started_at < start, attempt.c.load_id.in_(attempted))
        .subquery()
    )
    rows = session.execute(sa.select(earlier.c.load_id, earlier.c.outcome).where(earlier.c.rank == 1))
    return {row.load_id: row.outcome for row in rows}
