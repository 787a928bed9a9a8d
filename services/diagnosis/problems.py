"""The problem invoices: loads whose last sync named a reason, grouped by reason, with amounts; and the
loads a person dismissed (not to be synced), kept apart with who, when and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.catalogue import REASON_ORDER
from services.diagnosis.reasons import Reason
from services.store.models import ChargeLine, Load, LoadState
from services.sync.stored import total_cents

_LOAD = Load.__table__  # type: ignore[attr-defined]
_LINES = ChargeLine.__table__  # type: ignore[attr-defined]


@dataclass
class Problem:
    load_number: str
    reasons: list[Reason]
    amount: Decimal
    since: Any
    doc_number: str | None = None  # the QuickBooks invoice number, when it is not the load number
    qb_total: Decimal | None = None  # what QuickBooks last said of the invoice (its changes)
    qb_balance: Decimal | None = None

    @property
    def payment(self) -> str | None:
        """``paid`` or ``partly_paid`` in QuickBooks, or None."""
        if (
            self.qb_total is None
            or self.qb_balance is None
            or self.qb_total <= 0
            or self.qb_balance >= self.qb_total
        ):
            return None
        return "paid" if self.qb_balance <= 0 else "partly_paid"

    def to_dict(self) -> dict[str, Any]:
        data = {
            "load_number": self.load_number,
            "reasons": [r.code for r in self.reasons],
            "amount": str(self.amount),
            "since": self.since.isoformat() if self.since else None,
        }
        if self.doc_number:
            data["qb_doc_number"] = self.doc_number
        if self.payment:
            data["paid"] = {
                "status": self.payment,
                "balance": str(self.qb_balance),
                "total": str(self.qb_total),
            }
        return data


@dataclass
class Dismissed:
    load_number: str
    reasons: list[Reason]
    amount: Decimal
    by: str
    at: dt.datetime
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_number": self.load_number,
            "reasons": [r.code for r in self.reasons],
            "amount": str(self.amount),
            "by": self.by,
            "at": self.at.isoformat(),
            "reason": self.why,
        }


@dataclass
class Summary:
    """Open problems counted and summed by the database: what status, App Home and the digest show."""

    open: int
    total_amount: Decimal
    by_reason: dict[str, int]
    new: int = 0  # problems that started within the window asked for
    dismissed: int = 0
    amount_by_reason: dict[str, Decimal] = field(default_factory=dict)
    dismissed_amount: Decimal = Decimal("0.00")  # what the dismissed loads total


def summarize(engine: Engine, *, new_since: Any = None, new_until: Any = None) -> Summary:
    """Counts, amounts and reasons of the open problems in three set-based statements; the reason
    lists are read as a stream of small rows, never as loads."""
    open_problem = sa.and_(_LOAD.c.state == LoadState.PROBLEM.value, _LOAD.c.dismissed_at.is_(None))
    new = sa.literal(0)
    if new_since is not None and new_until is not None:
        window = sa.and_(open_problem, _LOAD.c.problem_since >= new_since, _LOAD.c.problem_since < new_until)
        new = sa.func.coalesce(sa.func.sum(sa.case((window, 1), else_=0)), 0)
    dismissed = sa.func.coalesce(sa.func.sum(sa.case((_LOAD.c.dismissed_at.is_not(None), 1), else_=0)), 0)
    counts = sa.select(
        sa.func.coalesce(sa.func.sum(sa.case((open_problem, 1), else_=0)), 0), new, dismissed
    ).where(sa.or_(open_problem, _LOAD.c.dismissed_at.is_not(None)))
    amount = (
        sa.select(sa.func.coalesce(sa.func.sum(sa.type_coerce(_LINES.c.amount, sa.BigInteger)), 0))
        .select_from(_LINES.join(_LOAD, _LINES.c.load_id == _LOAD.c.id))
        .where(open_problem)
    )
    dismissed_amount = (
        sa.select(sa.func.coalesce(sa.func.sum(sa.type_coerce(_LINES.c.amount, sa.BigInteger)), 0))
        .select_from(_LINES.join(_LOAD, _LINES.c.load_id == _LOAD.c.id))
        .where(_LOAD.c.dismissed_at.is_not(None))
    )
    tally: dict[str, int] = {}
    held: dict[str, int] = {}  # cents per reason
    with engine.connect() as conn:
        opened, started, gone = conn.execute(counts).one()
        total = conn.execute(amount).scalar()
        set_aside = conn.execute(dismissed_amount).scalar() if gone else 0
        rows = conn.execution_options(stream_results=True, yield_per=2000).execute(
            sa.select(_LOAD.c.reasons, total_cents()).where(open_problem)
        )
        for reasons, load_cents in rows:
            for code in dict.fromkeys(r["code"] for r in reasons):
                tally[code] = tally.get(code, 0) + 1
                held[code] = held.get(code, 0) + int(load_cents or 0)
    order = sorted(tally, key=lambda code: REASON_ORDER.get(code, 99))
    return Summary(
        int(opened or 0),
        cents(total),
        {code: tally[code] for code in order},
        int(started or 0),
        int(gone or 0),
        {code: cents(held[code]) for code in order},
        cents(set_aside),
    )


def list_problems(engine: Engine, *, limit: int | None = None, offset: int = 0) -> list[Problem]:
    """The loads in the problem state and not dismissed, oldest problem first (a page of them with
    ``limit``/``offset``): one statement, each load's amount summed by the database."""
    query = (
        sa.select(
            _LOAD.c.load_number,
            _LOAD.c.reasons,
            total_cents(),
            _LOAD.c.problem_since,
            _LOAD.c.qb_doc_number,
            _LOAD.c.qb_total,
            _LOAD.c.qb_balance,
        )
        .where(_LOAD.c.state == LoadState.PROBLEM.value, _LOAD.c.dismissed_at.is_(None))
        .order_by(_LOAD.c.problem_since, _LOAD.c.id)
        .offset(offset)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [
            Problem(
                row[0], [Reason.from_dict(r) for r in row[1]], cents(row[2]), row[3], row[4], row[5], row[6]
            )
            for row in conn.execute(query)
        ]


def list_dismissed(engine: Engine, *, limit: int | None = None) -> list[Dismissed]:
    """Every dismissed load (the ``limit`` latest), most recently dismissed first (one statement)."""
    query = (
        sa.select(
            _LOAD.c.load_number,
            _LOAD.c.reasons,
            total_cents(),
            _LOAD.c.dismissed_by,
            _LOAD.c.dismissed_at,
            _LOAD.c.dismissed_reason,
        )
        .where(_LOAD.c.dismissed_at.is_not(None))
        .order_by(_LOAD.c.dismissed_at.desc(), _LOAD.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [
            Dismissed(
                row[0],
                [Reason.from_dict(r) for r in row[1]],
                cents(row[2]),
                row[3] or "",
                row[4],
                row[5] or "",
            )
            for row in conn.execute(query)
        ]


def cents(value: int | None) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


def by_reason(problems: list[Problem]) -> dict[str, list[Problem]]:
    """Problems grouped by reason code, in fix order; a load with two reasons is in both groups."""
    groups: dict[str, list[Problem]] = {}
    for problem in problems:
        for reason in problem.reasons:
            groups.setdefault(reason.code, []).append(problem)
    return dict(sorted(groups.items(), key=lambda pair: REASON_ORDER.get(pair[0], 99)))


def problems_json(problems: list[Problem], dismissed: list[Dismissed] | None = None) -> dict[str, Any]:
    total = sum((p.amount for p in problems), Decimal("0.00"))
    return {
        "problems": [p.to_dict() for p in problems],
        "total_amount": str(total),
        "dismissed": [d.to_dict() for d in dismissed or []],
    }
