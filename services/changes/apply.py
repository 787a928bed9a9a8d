"""What QuickBooks' changes mean for the loads: each changed invoice of a load is checked as a sync
checks a synced invoice (deleted, voided, moved to another customer, another total); what QuickBooks
now says of its money (total, balance) is kept; a customer or item made inactive, merged or deleted
in QuickBooks marks the loads still to sync that it will block, before they fail.

Applying the same change twice changes nothing: a load is recorded again only when its reasons
change, so repeated deliveries, overlapping reads and out-of-order notifications are harmless."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from services import catalogue
from services.diagnosis.reasons import Reason
from services.quickbooks.escape import in_list
from services.store.models import ChargeCode, ChargeLine, Customer, Load, LoadState
from services.store.storage import immediate_transaction, retry_busy
from services.store.workers import worker_id
from services.sync import SyncEngine
from services.sync.checks import check_synced
from services.sync.invoices import changed_at
from services.sync.loads import read_views
from services.sync.results import Outcome, SyncResult

log = logging.getLogger(__name__)

# The reasons QuickBooks' side of a synced invoice can give; a load held by nothing else is synced again
# once QuickBooks is put right by hand.
FROM_QUICKBOOKS = frozenset(
    {"qb_invoice_deleted", "qb_invoice_voided", "amount_mismatch", "customer_changed"}
)
CHUNK = 500
_LOAD = Load.__table__  # type: ignore[attr-defined]
_CUSTOMER = Customer.__table__  # type: ignore[attr-defined]
_CODE = ChargeCode.__table__  # type: ignore[attr-defined]
_LINE = ChargeLine.__table__  # type: ignore[attr-defined]


@dataclass
class Found:
    """What applying one set of changes found: ``problems`` (each result with the reason that is new),
    loads put right in QuickBooks (``settled``), invoices whose money changed (``paid``), and per
    customer or item gone from QuickBooks the loads it blocks (``blocked``: reason, load numbers)."""

    problems: list[tuple[SyncResult, Reason]] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    paid: list[str] = field(default_factory=list)
    blocked: list[tuple[Reason, list[str]]] = field(default_factory=list)
    objects: int = 0

    def extend(self, other: Found) -> None:
        self.problems += other.problems
        self.settled += other.settled
        self.paid += other.paid
        self.blocked += other.blocked
        self.objects += other.objects


def apply_changes(sync: SyncEngine, changed: dict[str, list[dict[str, Any]]], trigger: str) -> Found:
    """Apply the objects QuickBooks says changed (``changed``: entity → objects, as change data capture
    answers) to the loads they concern."""
    found = Found(objects=sum(len(objects) for objects in changed.values()))
    invoices = {obj["Id"]: obj for obj in changed.get("Invoice", []) if isinstance(obj.get("Id"), str)}
    linked = _paid_invoices(changed.get("Payment", [])) - set(invoices)
    if linked:
        invoices.update(_read_invoices(sync, sorted(linked)))
    if invoices:
        _apply_invoices(sync, invoices, trigger, found)
    _apply_gone_customers(sync, changed.get("Customer", []), trigger, found)
    _apply_gone_items(sync, changed.get("Item", []), trigger, found)
    return found


def _paid_invoices(payments: Iterable[dict[str, Any]]) -> set[str]:
    """The invoices live payments are applied to (a deleted payment's invoice changes too, and comes
    with the changed invoices)."""
    ids = set()
    for payment in payments:
        for line in payment.get("Line") or []:
            for txn in line.get("LinkedTxn") or []:
                if txn.get("TxnType") == "Invoice" and str(txn.get("TxnId", "")).isdigit():
                    ids.add(str(txn["TxnId"]))
    return ids


def _read_invoices(sync: SyncEngine, ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        answer = sync.api.query(f"SELECT * FROM Invoice WHERE Id IN {in_list(chunk)} MAXRESULTS 1000")
        found.update({invoice["Id"]: invoice for invoice in answer.get("Invoice", [])})
    return found


def _money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None
    except ArithmeticError:
        return None


def _apply_invoices(
    sync: SyncEngine, invoices: dict[str, dict[str, Any]], trigger: str, found: Found
) -> None:
    rows = []
    ids = list(invoices)
    with sync.engine.connect() as conn:
        for start in range(0, len(ids), CHUNK):
            rows += conn.execute(
                sa.select(
                    _LOAD.c.id,
                    _LOAD.c.load_number,
                    _LOAD.c.qb_invoice_id,
                    _LOAD.c.state,
                    _LOAD.c.reasons,
                    _LOAD.c.dismissed_at,
                    _LOAD.c.qb_total,
                    _LOAD.c.qb_balance,
                ).where(_LOAD.c.qb_invoice_id.in_(ids[start : start + CHUNK]))
            ).all()
    money = []
    for row in rows:
        invoice = invoices[row.qb_invoice_id]
        if invoice.get("status") == "Deleted":
            continue
        total, balance = _money(invoice.get("TotalAmt")), _money(invoice.get("Balance"))
        if (total, balance) != (row.qb_total, row.qb_balance):
            money.append({"load_id": row.id, "total": total, "balance": balance})
            if balance is not None and total and balance < total:
                found.paid.append(row.load_number)
    if money:
        _write_money(sync, money)
    candidates = [row for row in rows if row.dismissed_at is None and _worth_checking(row)]
    if not candidates:
        return
    views = read_views(sync.engine, [row.load_number for row in candidates])
    me = worker_id()
    claimed = sync.claims.claim_many([row.id for row in candidates], me)
    try:
        pushes = []
        for row in candidates:
            view = views.get(row.load_number)
            if view is None or row.id not in claimed or view.qb_invoice_id != row.qb_invoice_id:
                continue
            outcome = Outcome()
            check_synced(view, invoices[row.qb_invoice_id], outcome)
            before = {reason.get("code") for reason in row.reasons or []}
            after = {reason.code for reason in outcome.reasons}
            if after == before:
                continue  # nothing new: still clean, or the same problem as recorded
            pushes.append((view, outcome, after - before))
        results = sync.recorder.record_many([(view, outcome) for view, outcome, _ in pushes], trigger)
        for (_, outcome, new), result in zip(pushes, results, strict=True):
            if not outcome.reasons:
                found.settled.append(result.load_number)
                continue
            for reason in outcome.reasons:
                if reason.code in new:
                    found.problems.append((result, reason))
    finally:
        sync.claims.release_many(sorted(claimed), me)


def _worth_checking(row: Any) -> bool:
    """A synced load, or one held only by what QuickBooks' side of its invoice said."""
    if row.state == LoadState.SYNCED.value:
        return True
    codes = {reason.get("code") for reason in row.reasons or []}
    return row.state == LoadState.PROBLEM.value and bool(codes) and codes <= FROM_QUICKBOOKS


def _write_money(sync: SyncEngine, money: list[dict[str, Any]]) -> None:
    def write() -> None:
        with immediate_transaction(sync.engine) as conn:
            conn.execute(
                sa.update(_LOAD)
                .where(_LOAD.c.id == sa.bindparam("load_id"))
                .values(
                    qb_total=sa.bindparam("total", type_=_LOAD.c.qb_total.type),
                    qb_balance=sa.bindparam("balance", type_=_LOAD.c.qb_balance.type),
                ),
                money,
            )

    retry_busy(write)


def _gone(objects: Iterable[dict[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Of changed customers or items, the ones no longer usable: id → (how, the object)."""
    gone = {}
    for obj in objects:
        if not isinstance(obj.get("Id"), str):
            continue
        if obj.get("status") == "Deleted":
            gone[obj["Id"]] = ("deleted", obj)
        elif obj.get("Active") is False:  # also how QuickBooks leaves a customer merged into another
            gone[obj["Id"]] = ("inactive", obj)
    return gone


def _mark_blocked(sync: SyncEngine, numbers: list[str], reason: Reason, trigger: str, found: Found) -> None:
    """Record ``reason`` on the loads still to sync that it blocks (a load already showing that reason
    is left as it is)."""
    views = read_views(sync.engine, numbers)
    me = worker_id()
    ids = {view.id: view for view in views.values()}
    claimed = sync.claims.claim_many(sorted(ids), me)
    try:
        pushes = []
        for load_id in sorted(claimed):
            outcome = Outcome(reasons=[reason])
            pushes.append((ids[load_id], outcome))
        results = sync.recorder.record_many(pushes, trigger)
    finally:
        sync.claims.release_many(sorted(claimed), me)
    if results:
        found.blocked.append((reason, [result.load_number for result in results]))


def _waiting_without(sync: SyncEngine, which: Any, code: str) -> list[str]:
    """The loads still to sync among ``which`` (a condition on loads) not already showing ``code``."""
    query = sa.select(_LOAD.c.load_number, _LOAD.c.reasons).where(
        which,
        _LOAD.c.state.in_([LoadState.PENDING.value, LoadState.PROBLEM.value]),
        _LOAD.c.dismissed_at.is_(None),
        _LOAD.c.qb_invoice_id.is_(None),
    )
    with sync.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [row.load_number for row in rows if code not in {r.get("code") for r in row.reasons or []}]


def _apply_gone_customers(
    sync: SyncEngine, objects: list[dict[str, Any]], trigger: str, found: Found
) -> None:
    gone = _gone(objects)
    if not gone:
        return
    with sync.engine.connect() as conn:
        customers = conn.execute(
            sa.select(_CUSTOMER.c.id, _CUSTOMER.c.name, _CUSTOMER.c.qb_customer_id).where(
                _CUSTOMER.c.qb_customer_id.in_(list(gone))
            )
        ).all()
    for customer in customers:
        how, obj = gone[customer.qb_customer_id]
        numbers = _waiting_without(sync, _LOAD.c.customer_id == customer.id, "customer_not_synced")
        if not numbers:
            continue
        qb_name = obj.get("DisplayName") or f"customer {customer.qb_customer_id}"
        words = catalogue.gone_words(how)
        reason = Reason(
            "customer_not_synced",
            catalogue.summary_customer_gone(customer.name, qb_name, words),
            {
                "tms_customer": customer.name,
                "linked_qb_customer_id": customer.qb_customer_id,
                "gone_in_quickbooks": words,
                "changed_at": changed_at(obj),
            },
        )
        _mark_blocked(sync, numbers, reason, trigger, found)


def _apply_gone_items(sync: SyncEngine, objects: list[dict[str, Any]], trigger: str, found: Found) -> None:
    gone = _gone(objects)
    if not gone:
        return
    with sync.engine.connect() as conn:
        codes = conn.execute(
            sa.select(_CODE.c.code, _CODE.c.name, _CODE.c.qb_item_id).where(
                _CODE.c.qb_item_id.in_(list(gone))
            )
        ).all()
    by_how: dict[str, list[Any]] = defaultdict(list)
    for code in codes:
        by_how[gone[code.qb_item_id][0]].append(code)
    for how, group in by_how.items():
        names = [code.code for code in group]
        uses = _LOAD.c.id.in_(sa.select(_LINE.c.load_id).where(_LINE.c.code.in_(names)))
        numbers = _waiting_without(sync, uses, "charge_codes_not_synced")
        if not numbers:
            continue
        reason = Reason(
            "charge_codes_not_synced",
            catalogue.summary_items_gone(names, catalogue.gone_words(how)),
            {
                "charge_codes": [
                    {
                        "code": code.code,
                        "name": code.name,
                        "problem": "inactive",
                        "qb_item_id": code.qb_item_id,
                    }
                    for code in group
                ]
            },
        )
        _mark_blocked(sync, numbers, reason, trigger, found)
