"""The problem invoices: loads whose last sync named a reason, grouped by reason, with amounts; and the
loads a person dismissed (not to be synced), kept apart with who, when and why."""

from __future__ import annotations

import datetime as dt
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
    doc_number: str | None = None  # the QuickBooks invoice number, when it is not the load number

    def to_dict(self) -> dict[str, Any]:
        data = {
            "load_number": self.load_number,
            "reasons": [r.code for r in self.reasons],
            "amount": str(self.amount),
            "since": self.since.isoformat() if self.since else None,
        }
        if self.doc_number:
            data["qb_doc_number"] = self.doc_number
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


def list_problems(engine: Engine) -> list[Problem]:
    """Every load in the problem state and not dismissed, oldest problem first."""
    with Session(engine) as session:
        loads = session.exec(
            select(Load)
            .where(Load.state == LoadState.PROBLEM, Load.dismissed_at.is_(None))  # type: ignore[union-attr]
            .order_by(Load.problem_since, Load.id)
        ).all()
        return [
            Problem(
                load.load_number,
                [Reason.from_dict(r) for r in load.reasons],
                load.total,
                load.problem_since,
                load.qb_doc_number,
            )
            for load in loads
        ]


def list_dismissed(engine: Engine) -> list[Dismissed]:
    """Every dismissed load, most recently dismissed first."""
    with Session(engine) as session:
        loads = session.exec(
            select(Load)
            .where(Load.dismissed_at.is_not(None))  # type: ignore[union-attr]
            .order_by(Load.dismissed_at.desc(), Load.id)  # type: ignore[union-attr]
        ).all()
        return [
            Dismissed(
                load.load_number,
                [Reason.from_dict(r) for r in load.reasons],
                load.total,
                load.dismissed_by or "",
                load.dismissed_at,
                load.dismissed_reason or "",
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


def problems_json(problems: list[Problem], dismissed: list[Dismissed] | None = None) -> dict[str, Any]:
    total = sum((p.amount for p in problems), Decimal("0.00"))
    return {
        "problems": [p.to_dict() for p in problems],
        "total_amount": str(total),
        "dismissed": [d.to_dict() for d in dismissed or []],
    }
