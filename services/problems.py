"""The problem invoices: loads whose last sync named a reason, grouped by reason, with amounts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services.models import Load, LoadState
from services.reasons import ORDER, Reason


@dataclass
class Problem:
    load_number: str
    reasons: list[Reason]
    amount: Decimal
    since: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_number": self.load_number,
            "reasons": [r.code for r in self.reasons],
            "amount": str(self.amount),
            "since": self.since.isoformat() if self.since else None,
        }


def list_problems(engine: Engine) -> list[Problem]:
    """Every load in the problem state, oldest problem first."""
    with Session(engine) as session:
        loads = session.exec(
            select(Load).where(Load.state == LoadState.PROBLEM).order_by(Load.problem_since, Load.id)
        ).all()
        return [
            Problem(
                load.load_number, [Reason.from_dict(r) for r in load.reasons], load.total, load.problem_since
            )
            for load in loads
        ]


def by_reason(problems: list[Problem]) -> dict[str, list[Problem]]:
    """Problems grouped by reason code, in fix order; a load with two reasons is in both groups."""
    groups: dict[str, list[Problem]] = {}
    for problem in problems:
        for reason in problem.reasons:
            groups.setdefault(reason.code, []).append(problem)
    return dict(sorted(groups.items(), key=lambda pair: ORDER.get(pair[0], 99)))


def problems_json(problems: list[Problem]) -> dict[str, Any]:
    total = sum((p.amount for p in problems), Decimal("0.00"))
    return {"problems": [p.to_dict() for p in problems], "total_amount": str(total)}
