"""What the store says of loads, without asking QuickBooks: the loads a sync of everything takes
(``unsynced_load_numbers``), the numbers that name no load, a load's last recorded result and reasons,
and the answer for a number that names no load (``not_found``, with near matches)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services import catalogue
from services.diagnosis.reasons import Reason
from services.store.models import ChargeLine, Load, LoadState
from services.sync.results import SyncResult
from services.tms.loadnumbers import suggest_load_numbers

_LOAD = Load.__table__  # type: ignore[attr-defined]
_LINE_TABLE = ChargeLine.__table__  # type: ignore[attr-defined]


def unsynced_load_numbers(engine: Engine) -> list[str]:
    """Loads not synced, and synced loads whose customer or total changed in the TMS since; never a
    dismissed load."""
    lines = ChargeLine.__table__  # type: ignore[attr-defined]
    total_cents = (
        sa.select(sa.func.coalesce(sa.func.sum(lines.c.amount), 0))
        .where(lines.c.load_id == _LOAD.c.id)
        .scalar_subquery()
    )
    changed = sa.and_(
        _LOAD.c.qb_invoice_id.is_not(None),
        sa.or_(_LOAD.c.customer_id != _LOAD.c.synced_customer_id, _LOAD.c.synced_total != total_cents),
    )
    query = (
        sa.select(_LOAD.c.load_number)
        .where(sa.or_(_LOAD.c.state != LoadState.SYNCED.value, changed))
        .where(_LOAD.c.dismissed_at.is_(None))
        .order_by(_LOAD.c.id)
    )
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def unknown_load_numbers(engine: Engine, numbers: Iterable[str]) -> list[str]:
    """The ones of ``numbers`` that name no load, in the order given."""
    numbers = list(numbers)
    with engine.connect() as conn:
        known = set(
            conn.execute(sa.select(_LOAD.c.load_number).where(_LOAD.c.load_number.in_(numbers))).scalars()
        )
    return [number for number in numbers if number not in known]


def not_found(engine: Engine, number: str) -> SyncResult:
    with Session(engine) as session:
        known = session.exec(select(Load.load_number)).all()
        owner = session.exec(select(Load.load_number).where(Load.qb_doc_number == number)).first()
    near = [owner] if owner else suggest_load_numbers(number, known)
    summary = catalogue.summary_load_not_found(number, near, owner)
    reason = Reason("load_not_found", summary, {"load_number": number, "near_matches": near})
    return SyncResult(number, "not_found", None, [reason])


def recorded_reasons(engine: Engine, load_id: int) -> list[dict[str, Any]]:
    """The reasons stored at the load's last attempt."""
    with Session(engine) as session:
        load = session.get(Load, load_id)
        return list(load.reasons) if load else []


def current_result(engine: Engine, number: str) -> SyncResult:
    with Session(engine) as session:
        load = session.exec(select(Load).where(Load.load_number == number)).first()
        if load is None:
            return not_found(engine, number)
        return SyncResult(
            load.load_number,
            load.state.value if isinstance(load.state, LoadState) else str(load.state),
            load.qb_invoice_id,
            [Reason.from_dict(r) for r in load.reasons],
            doc_number=load.qb_doc_number,
            dismissed=load.dismissed_at is not None,
        )


def total_cents() -> sa.ScalarSelect:
    """A load's total in cents, summed by the database (``charge_line.load_id`` is indexed)."""
    return (
        sa.select(sa.func.coalesce(sa.func.sum(sa.type_coerce(_LINE_TABLE.c.amount, sa.BigInteger)), 0))
        .where(_LINE_TABLE.c.load_id == _LOAD.c.id)
        .scalar_subquery()
    )
