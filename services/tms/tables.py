"""The database side of imports: the tables written, and the chunked reads of the stored rows an
import compares its records with (``rows_by_key``, ``StoredLoads``, ``existing_keys``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from services.store.models import ChargeCode, ChargeLine, Customer, FixAudit, Load, TmsEvent, TmsRecordEvent
from services.tms.records import LoadRecord

QUERY_CHUNK = 500


# --------------------------------------------------------------------------- database side
#
# Plain SQL statements over the model's tables: tens of thousands of loads are read in a few chunked
# IN queries and written with one executemany per kind of change.

CUSTOMERS: sa.Table = Customer.__table__  # type: ignore[attr-defined]
CHARGE_CODES: sa.Table = ChargeCode.__table__  # type: ignore[attr-defined]
LOADS: sa.Table = Load.__table__  # type: ignore[attr-defined]
CHARGE_LINES: sa.Table = ChargeLine.__table__  # type: ignore[attr-defined]
FIX_AUDIT: sa.Table = FixAudit.__table__  # type: ignore[attr-defined]
TMS_EVENTS: sa.Table = TmsEvent.__table__  # type: ignore[attr-defined]
RECORD_EVENTS: sa.Table = TmsRecordEvent.__table__  # type: ignore[attr-defined]


def chunks(keys: Iterable[Any]) -> Iterator[list[Any]]:
    batch = sorted(set(keys))
    for start in range(0, len(batch), QUERY_CHUNK):
        yield batch[start : start + QUERY_CHUNK]


def rows_by_key(conn: Connection, key: sa.Column, columns: Sequence[sa.Column], keys: Iterable[Any]):
    """``{key: row}`` for the stored rows whose ``key`` is one of ``keys``, in chunked IN queries."""
    found: dict[Any, sa.Row] = {}
    for chunk in chunks(keys):
        for row in conn.execute(sa.select(key, *columns).where(key.in_(chunk))):
            found[row[0]] = row
    return found


def model_defaults(model: type[SQLModel], **required: Any) -> dict[str, Any]:
    """The values a new ``model`` row gets from the model's own defaults (e.g. a load's state), for
    every column without a database-side default or a value of its own."""
    instance = model(**required)
    return {
        column.name: getattr(instance, column.name)
        for column in model.__table__.columns  # type: ignore[attr-defined]
        if column.default is None and not column.primary_key and column.name not in required
    }


@dataclass
class StoredLoads:
    """The stored rows the document's records will update: ``(key, …)`` rows and charge lines."""

    customers: dict[str, sa.Row]
    charge_codes: dict[str, sa.Row]
    loads: dict[str, sa.Row]
    lines: dict[int, list[tuple[str, str | None, Decimal]]]

    @classmethod
    def fetch_loads(cls, conn: Connection, records: Sequence[LoadRecord]) -> StoredLoads:
        """The stored loads of ``records`` and their charge lines."""
        loads = rows_by_key(
            conn,
            LOADS.c.load_number,
            [
                LOADS.c.id,
                LOADS.c.customer_id,
                LOADS.c.invoice_date,
                LOADS.c.qb_invoice_id,
                LOADS.c.synced_customer_id,
                LOADS.c.dismissed_at,
                LOADS.c.dismissed_by,
                LOADS.c.dismissed_reason,
            ],
            (record.load_number for record in records),
        )
        lines = _charge_lines_of(conn, (row.id for row in loads.values()))
        return cls(customers={}, charge_codes={}, loads=loads, lines=lines)


def _charge_lines_of(
    conn: Connection, load_ids: Iterable[int]
) -> dict[int, list[tuple[str, str | None, Decimal]]]:
    """The stored charge lines of each load, in position order, as ``(code, description, amount)``."""
    lines: dict[int, list[tuple[str, str | None, Decimal]]] = {}
    columns = [CHARGE_LINES.c.load_id, CHARGE_LINES.c.code, CHARGE_LINES.c.description, CHARGE_LINES.c.amount]
    for chunk in chunks(load_ids):
        query = (
            sa.select(*columns)
            .where(CHARGE_LINES.c.load_id.in_(chunk))
            .order_by(CHARGE_LINES.c.load_id, CHARGE_LINES.c.position)
        )
        for load_id, code, description, amount in conn.execute(query):
            lines.setdefault(load_id, []).append((code, description, amount))
    return lines


def existing_keys(conn: Connection, column: sa.Column, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` exist in ``column``."""
    found: set[str] = set()
    for chunk in chunks(keys):
        found.update(conn.scalars(sa.select(column).where(column.in_(chunk))))
    return found
