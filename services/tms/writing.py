"""Writing a checked document: customers and charge codes, then loads, upserted by key in chunks
(one executemany per kind of change), rows already as in the file left alone, a dismissed load the TMS
changed restored, and for a TMS event the records a newer event was applied to skipped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.catalogue import restored_by_import_text
from services.errors import QbsyncError
from services.store.models import ChargeCode, Customer, Load, utcnow
from services.store.storage import dialect_insert
from services.tms.checking import Checked, Sections
from services.tms.records import SECTIONS, SPECS, ChargeCodeRecord, CustomerRecord, LoadRecord, SectionSpec
from services.tms.summary import ImportSummary, SectionCounts
from services.tms.tables import (
    CHARGE_CODES,
    CHARGE_LINES,
    CUSTOMERS,
    FIX_AUDIT,
    LOADS,
    RECORD_EVENTS,
    StoredLoads,
    chunks,
    model_defaults,
    rows_by_key,
)

ANALYZE_AFTER = 1000  # new rows after which PostgreSQL statistics are refreshed


def write_document(
    conn: Connection,
    document: Sections,
    checked: Checked,
    source: str,
    *,
    chunk_size: int,
    event_at: dt.datetime | None = None,
) -> ImportSummary:
    """Upsert the validated document: customers and charge codes first, then loads, each section in
    chunks of ``chunk_size`` records read again from the document. Sections the document holds in
    another order are written in a further pass, so that a load never comes before its customer.
    For a TMS event (``event_at``), the records a newer event was applied to are left alone."""
    summary = ImportSummary(source=source)
    pending = [name for name in SECTIONS if name in checked.keys]
    while pending:
        left = len(pending)
        for name, records, _ in document.sections():
            if records is None or not pending or name != pending[0]:
                continue  # a section written already, or one whose turn has not come (read past it)
            pending.pop(0)
            spec = SPECS[name]
            for chunk in _batched(records, chunk_size):
                validated = [spec.model.model_validate(raw) for raw in chunk]
                if event_at is not None:
                    validated = _not_older(conn, spec, validated, event_at, summary)
                _write_chunk(conn, spec, validated, summary, source)
        if len(pending) == left:
            raise QbsyncError(f"the import from {source} changed while it was read; nothing was written")
    _refresh_statistics(conn, summary)
    return summary


def _batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_chunk(
    conn: Connection, spec: SectionSpec, records: list[Any], summary: ImportSummary, source: str
) -> None:
    if spec.name == "customers":
        stored = rows_by_key(
            conn, CUSTOMERS.c.id, [CUSTOMERS.c.name, CUSTOMERS.c.qb_email], (r.id for r in records)
        )
        _write_customers(conn, records, stored, summary.customers)
    elif spec.name == "charge_codes":
        stored = rows_by_key(conn, CHARGE_CODES.c.code, [CHARGE_CODES.c.name], (r.code for r in records))
        _write_charge_codes(conn, records, stored, summary.charge_codes)
    else:
        loads = StoredLoads.fetch_loads(conn, records)
        summary.customer_changed += _write_loads(conn, records, loads, summary.loads, summary.written)
        summary.restored += _restore_changed_dismissed(conn, records, loads, source)


def _not_older(
    conn: Connection, spec: SectionSpec, records: list[Any], event_at: dt.datetime, summary: ImportSummary
) -> list[Any]:
    """The records of a TMS event signed at ``event_at`` that no newer event was applied to; their
    timestamps move to ``event_at`` (one upsert per chunk, which also locks them until the commit, so
    two concurrent events on one record apply in order). The others are added to
    ``summary.skipped_older``."""
    applied: set[str] = set()
    insert = dialect_insert(conn, RECORD_EVENTS)
    statement = insert.on_conflict_do_update(
        index_elements=[RECORD_EVENTS.c.kind, RECORD_EVENTS.c.key],
        set_={"event_at": insert.excluded.event_at},
        where=RECORD_EVENTS.c.event_at <= insert.excluded.event_at,
    ).returning(RECORD_EVENTS.c.key)
    for chunk in chunks(getattr(record, spec.key) for record in records):
        rows = [{"kind": spec.name, "key": key, "event_at": event_at} for key in chunk]
        applied.update(conn.scalars(statement.values(rows)))
    skipped = [getattr(record, spec.key) for record in records if getattr(record, spec.key) not in applied]
    if skipped:
        summary.skipped_older.setdefault(spec.name, []).extend(skipped)
    return [record for record in records if getattr(record, spec.key) in applied]


def _refresh_statistics(conn: Connection, summary: ImportSummary) -> None:
    """After a large first import, let PostgreSQL know the tables are no longer empty.

    Until autovacuum gets to them, the planner still believes the new tables are tiny, and the
    chunked IN queries of the next import (prepared after a few runs) scan them sequentially."""
    created = summary.customers.created + summary.loads.created
    if conn.dialect.name != "postgresql" or created < ANALYZE_AFTER:
        return
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql("ANALYZE " + ", ".join(quote(t.name) for t in (CUSTOMERS, LOADS, CHARGE_LINES)))


def _execute_many(conn: Connection, statement: sa.Executable, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(statement, rows)


def _write_customers(
    conn: Connection,
    records: list[CustomerRecord],
    stored: dict[str, sa.Row],
    counts: SectionCounts,
) -> None:
    """Customers by ``id``: name and QuickBooks email; the QuickBooks customer id is kept."""
    defaults = model_defaults(Customer, id="", name="")
    new, changed = [], []
    for record in records:
        row = stored.get(record.id)
        email_given = "qb_email" in record.model_fields_set
        if row is None:
            new.append({**defaults, "id": record.id, "name": record.name, "qb_email": record.qb_email})
            continue
        email = record.qb_email if email_given else row.qb_email
        if (row.name, row.qb_email) == (record.name, email):
            counts.unchanged += 1
        else:
            changed.append({"key": record.id, "name": record.name, "qb_email": email})
    _execute_many(conn, CUSTOMERS.insert(), new)
    update = CUSTOMERS.update().where(CUSTOMERS.c.id == sa.bindparam("key"))
    _execute_many(conn, update.values(name=sa.bindparam("name"), qb_email=sa.bindparam("qb_email")), changed)
    counts.created += len(new)
    counts.updated += len(changed)


def _write_charge_codes(
    conn: Connection,
    records: list[ChargeCodeRecord],
    stored: dict[str, sa.Row],
    counts: SectionCounts,
) -> None:
    """Charge codes by ``code``: the name; the QuickBooks item mapping and its state are kept."""
    defaults = model_defaults(ChargeCode, code="", name="")
    new, changed = [], []
    for record in records:
        row = stored.get(record.code)
        if row is None:
            new.append({**defaults, "code": record.code, "name": record.name})
        elif row.name == record.name:
            counts.unchanged += 1
        else:
            changed.append({"key": record.code, "name": record.name})
    _execute_many(conn, CHARGE_CODES.insert(), new)
    update = CHARGE_CODES.update().where(CHARGE_CODES.c.code == sa.bindparam("key"))
    _execute_many(conn, update.values(name=sa.bindparam("name")), changed)
    counts.created += len(new)
    counts.updated += len(changed)


def _wanted_lines(record: LoadRecord) -> list[tuple[str, str | None, Decimal]]:
    return [(charge.code, charge.description, charge.amount) for charge in record.charges]


def _write_loads(
    conn: Connection,
    records: list[LoadRecord],
    stored: StoredLoads,
    counts: SectionCounts,
    written: list[str],
) -> list[str]:
    """Loads by ``load_number``: customer, invoice date, and the charge lines (replaced as a whole;
    ``updated_at`` moves when they change). The sync columns are left alone. Returns the loads whose
    customer changed after their invoice was synced."""
    defaults = model_defaults(Load, load_number="", customer_id="", invoice_date=dt.date.min)
    new: list[LoadRecord] = []
    changed: list[tuple[int, LoadRecord]] = []
    customer_changed: list[str] = []
    for record in records:
        row = stored.loads.get(record.load_number)
        if row is None:
            new.append(record)
            continue
        if _customer_changed_after_sync(row, record.customer_id):
            customer_changed.append(record.load_number)
        same = (row.customer_id, row.invoice_date) == (record.customer_id, record.invoice_date)
        if same and stored.lines.get(row.id, []) == _wanted_lines(record):
            counts.unchanged += 1
        else:
            changed.append((row.id, record))

    _execute_many(
        conn,
        LOADS.insert(),
        [
            {**defaults, **record.model_dump(include={"load_number", "customer_id", "invoice_date"})}
            for record in new
        ],
    )
    new_ids = rows_by_key(conn, LOADS.c.load_number, [LOADS.c.id], (record.load_number for record in new))
    update = LOADS.update().where(LOADS.c.id == sa.bindparam("key"))
    _execute_many(
        conn,
        update.values(customer_id=sa.bindparam("customer_id"), invoice_date=sa.bindparam("invoice_date")),
        [
            {"key": load_id, "customer_id": record.customer_id, "invoice_date": record.invoice_date}
            for load_id, record in changed
        ],
    )
    for chunk in chunks(load_id for load_id, _ in changed):
        conn.execute(CHARGE_LINES.delete().where(CHARGE_LINES.c.load_id.in_(chunk)))
    targets = [(new_ids[record.load_number].id, record) for record in new] + changed
    _execute_many(conn, CHARGE_LINES.insert(), [line for target in targets for line in _line_rows(*target)])
    counts.created += len(new)
    counts.updated += len(changed)
    written.extend([record.load_number for record in new] + [record.load_number for _, record in changed])
    return customer_changed


def _restore_changed_dismissed(
    conn: Connection, records: list[LoadRecord], stored: StoredLoads, source: str
) -> list[str]:
    """Dismissed loads whose customer, date or charges this import changed come back, with a note in
    the fix audit (who dismissed them and why)."""
    restored = []
    for record in records:
        row = stored.loads.get(record.load_number)
        if row is None or row.dismissed_at is None:
            continue
        same = (row.customer_id, row.invoice_date) == (record.customer_id, record.invoice_date)
        if same and stored.lines.get(row.id, []) == _wanted_lines(record):
            continue
        restored.append(record.load_number)
        conn.execute(
            LOADS.update()
            .where(LOADS.c.id == row.id)
            .values(dismissed_at=None, dismissed_by=None, dismissed_reason=None)
        )
        conn.execute(
            FIX_AUDIT.insert().values(
                at=utcnow(),
                actor=("import" if source == "import" else f"import:{source}")[:100],
                load_number=record.load_number,
                fix="undismiss",
                outcome="applied",
                changes={
                    "dismissed": {
                        "from": {
                            "by": row.dismissed_by,
                            "at": row.dismissed_at.isoformat(),
                            "reason": row.dismissed_reason,
                        },
                        "to": None,
                    },
                    "changed_in_tms": True,
                },
                detail=restored_by_import_text(row.dismissed_by, row.dismissed_reason),
            )
        )
    return restored


def _line_rows(load_id: int, record: LoadRecord) -> list[dict[str, Any]]:
    return [
        {
            "load_id": load_id,
            "position": position,
            "code": charge.code,
            "description": charge.description,
            "amount": charge.amount,
        }
        for position, charge in enumerate(record.charges)
    ]


def _customer_changed_after_sync(row: sa.Row, customer_id: str) -> bool:
    """This import moves a synced invoice's load to a customer other than the one invoiced (the
    same test the sync engine applies; an adopted invoice without a recorded customer is not)."""
    return (
        row.customer_id != customer_id
        and row.qb_invoice_id is not None
        and row.synced_customer_id is not None
        and row.synced_customer_id != customer_id
    )
