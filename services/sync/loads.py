"""Reading loads for a push: everything a push needs, read once, so no database transaction spans a
QuickBooks call. ``read_views`` reads a whole batch in four statements."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services.store.models import ChargeCode, ChargeLine, Customer, Load, LoadState
from services.sync.results import LoadView


def read_view(engine: Engine, number: str) -> LoadView | None:
    return read_views(engine, [number]).get(number)


def read_views(engine: Engine, numbers: list[str]) -> dict[str, LoadView]:
    """The loads named ``numbers`` that exist, by load number."""
    if not numbers:
        return {}
    with Session(engine) as session:
        loads = list(session.exec(select(Load).where(Load.load_number.in_(numbers))))
        if not loads:
            return {}
        lines: dict[int, list[ChargeLine]] = defaultdict(list)
        rows = session.exec(
            select(ChargeLine)
            .where(ChargeLine.load_id.in_([load.id for load in loads]))
            .order_by(ChargeLine.load_id, ChargeLine.position)
        )
        for line in rows:
            lines[line.load_id].append(line)
        customer_ids = {load.customer_id for load in loads} | {
            load.synced_customer_id for load in loads if load.synced_customer_id
        }
        customers = {c.id: c for c in session.exec(select(Customer).where(Customer.id.in_(customer_ids)))}
        all_codes = {line.code for group in lines.values() for line in group}
        codes = {c.code: c for c in session.exec(select(ChargeCode).where(ChargeCode.code.in_(all_codes)))}
        session.expunge_all()
    views = {}
    for load in loads:
        charges = lines.get(load.id, [])
        synced_name = None
        if load.synced_customer_id and load.synced_customer_id != load.customer_id:
            previous = customers.get(load.synced_customer_id)
            synced_name = previous.name if previous else None
        views[load.load_number] = LoadView(
            id=load.id,
            load_number=load.load_number,
            invoice_date=load.invoice_date,
            customer=customers[load.customer_id],
            charges=[(line.code, line.description, line.amount) for line in charges],
            codes={line.code: codes[line.code] for line in charges},
            qb_invoice_id=load.qb_invoice_id,
            qb_customer_id=load.qb_customer_id,
            synced_customer_id=load.synced_customer_id,
            synced_customer_name=synced_name,
            sync_generation=load.sync_generation,
            total=sum((line.amount for line in charges), Decimal("0.00")),
            qb_doc_number=load.qb_doc_number,
            dismissed_by=load.dismissed_by,
            dismissed_at=load.dismissed_at,
            dismissed_reason=load.dismissed_reason,
            problem_since=load.problem_since,
            was_synced=load.state == LoadState.SYNCED,
        )
    return views
