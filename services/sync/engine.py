"""Push each load's invoice to QuickBooks exactly once, and name the reason for every failure.

A push: claim the load (so two workers or a double click never push it twice), check the
connection, the company's numbering, the customer and the charge codes, look for an invoice that
already carries the load number (ours → adopt, someone else's → ``duplicate_load_number``), then
create the invoice with a ``requestid`` derived from the load and its sync generation — a retry after
a crash gets the same invoice back. Every attempt is recorded with its ``intuit_tid``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services import catalogue, invoices
from services.catalogue import reason_title
from services.company import CompanySnapshot
from services.connection import ConnectionService
from services.docnumbers import DOC_NUMBER_MAX, candidates, suggestions, used_by_other_loads
from services.loadnumbers import clean_load_number, suggest_load_numbers
from services.matching import match_customer, match_item
from services.models import (
    ChargeCode,
    ChargeCodeState,
    ChargeLine,
    Customer,
    Load,
    LoadState,
    SyncAttempt,
    utcnow,
)
from services.quickbooks import Kind, QboError, QuickBooksApi
from services.quickbooks.escape import in_list
from services.reasons import Reason, ordered
from services.storage import immediate_transaction, retry_busy, write_session

log = logging.getLogger(__name__)

CLAIM_TTL = dt.timedelta(minutes=10)
RECONCILE_CHUNK = 100
REQUEST_NAMESPACE = uuid.UUID("6f1d5a43-8b0e-4c1e-9a55-3b0c1f6d7e21")
_LOAD = Load.__table__  # type: ignore[attr-defined]


@dataclass
class SyncResult:
    load_number: str
    state: str  # synced | problem | pending | not_found
    qb_invoice_id: str | None = None
    reasons: list[Reason] = field(default_factory=list)
    note: str | None = None
    doc_number: str | None = None  # the QuickBooks invoice number, when it is not the load number
    dismissed: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "load_number": self.load_number,
            "state": self.state,
            "qb_invoice_id": self.qb_invoice_id,
            "reasons": [r.code for r in self.reasons],
        }
        if self.note:  # e.g. another worker is pushing the load right now
            data["note"] = self.note
        return data


@dataclass
class LoadView:
    """What a push needs of a load, read once so no database transaction spans a QuickBooks call."""

    id: int
    load_number: str
    invoice_date: dt.date
    customer: Customer
    charges: list[tuple[str, str | None, Decimal]]  # code, description, amount
    codes: dict[str, ChargeCode]
    qb_invoice_id: str | None
    qb_customer_id: str | None
    synced_customer_id: str | None
    synced_customer_name: str | None
    sync_generation: int
    total: Decimal
    qb_doc_number: str | None = None
    dismissed_by: str | None = None
    dismissed_at: dt.datetime | None = None
    dismissed_reason: str | None = None

    @property
    def doc_number(self) -> str:
        """The number the QuickBooks invoice carries: the override, or the load number."""
        return self.qb_doc_number or self.load_number

    @property
    def dismissed(self) -> bool:
        return self.dismissed_at is not None


@dataclass
class Outcome:
    """What a push found and did; applied to the database in one transaction."""

    reasons: list[Reason] = field(default_factory=list)
    invoice: dict[str, Any] | None = None  # the QuickBooks invoice the load is now linked to
    qb_customer_id: str | None = None
    item_links: dict[str, str] = field(default_factory=dict)
    code_states: dict[str, tuple[ChargeCodeState, str | None]] = field(default_factory=dict)
    bump_generation: bool = False
    error: QboError | None = None
    request_id: str | None = None
    note: str | None = None


def request_id_for(realm_id: str, load_number: str, generation: int, doc_number: str | None = None) -> str:
    """The same load, company, generation and invoice number always give the same 36-character request
    id; another invoice number (``set_doc_number``) gives another id, so QuickBooks never answers a
    create with an invoice numbered otherwise."""
    key = f"{realm_id}|{load_number}|{generation}"
    if doc_number and doc_number != load_number:
        key += f"|{doc_number}"
    return str(uuid.uuid5(REQUEST_NAMESPACE, key))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class SyncEngine:
    def __init__(
        self,
        engine: Engine,
        api: QuickBooksApi,
        connection: ConnectionService,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.api = api
        self.connection = connection
        self.clock = clock

    # -- public ---------------------------------------------------------------------------------

    def sync_load(
        self, load_number: str, *, trigger: str, snapshot: CompanySnapshot | None = None
    ) -> SyncResult:
        number = clean_load_number(load_number)
        view = self.read_view(number)
        if view is None:
            return self.not_found(number)
        if view.dismissed:
            current = self.current_result(number)
            current.note = (
                f"{catalogue.dismissed_text(view.dismissed_by, view.dismissed_at, view.dismissed_reason)}. "
                f"Not synced. {catalogue.undismiss_hint(number)}"
            )
            return current
        me = worker_id()
        if not self._claim(view.id, me):
            current = self.current_result(number)
            current.note = "another worker is pushing this load right now; try again in a moment"
            return current
        try:
            outcome = self._push(view, snapshot or CompanySnapshot(self.api))
            return self._record(view, outcome, trigger)
        finally:
            self._release(view.id, me)

    def sync_many(
        self,
        load_numbers: Iterable[str] | None,
        *,
        trigger: str,
        progress: Callable[[SyncResult], None] | None = None,
    ) -> list[SyncResult]:
        """Sync the named loads, or every load not yet synced; one company snapshot for the run."""
        numbers = list(load_numbers) if load_numbers is not None else self.unsynced_load_numbers()
        snapshot = CompanySnapshot(self.api)
        results = []
        for number in numbers:
            result = self.sync_load(number, trigger=trigger, snapshot=snapshot)
            results.append(result)
            if progress:
                progress(result)
        return results

    def unsynced_load_numbers(self) -> list[str]:
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
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def reconcile(
        self, *, trigger: str = "reconcile", progress: Callable[[SyncResult], None] | None = None
    ) -> list[SyncResult]:
        """Read every synced invoice back from QuickBooks (100 per query) and flag the ones deleted
        there (``qb_invoice_deleted``) or drifted from the load (``amount_mismatch``,
        ``customer_changed``). Returns the loads found with a problem."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(_LOAD.c.load_number, _LOAD.c.qb_invoice_id)
                .where(_LOAD.c.state == LoadState.SYNCED.value, _LOAD.c.qb_invoice_id.is_not(None))
                .where(_LOAD.c.dismissed_at.is_(None))
                .order_by(_LOAD.c.id)
            ).all()
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(rows), RECONCILE_CHUNK):
            ids = [
                row.qb_invoice_id
                for row in rows[start : start + RECONCILE_CHUNK]
                if row.qb_invoice_id.isdigit()
            ]
            if ids:
                answer = self.api.query(f"SELECT * FROM Invoice WHERE Id IN {in_list(ids)} MAXRESULTS 1000")
                found.update({invoice["Id"]: invoice for invoice in answer.get("Invoice", [])})
        problems = []
        for row in rows:
            view = self.read_view(row.load_number)
            me = worker_id()
            if view is None or not self._claim(view.id, me):
                continue  # a sync of this load is running; it checks the same things
            try:
                outcome = Outcome()
                self._check_synced(view, found.get(row.qb_invoice_id), outcome)
                if outcome.reasons:
                    result = self._record(view, outcome, trigger)
                    problems.append(result)
                    if progress:
                        progress(result)
            finally:
                self._release(view.id, me)
        return problems

    def unknown_load_numbers(self, numbers: Iterable[str]) -> list[str]:
        """The ones of ``numbers`` that name no load, in the order given."""
        numbers = list(numbers)
        with self.engine.connect() as conn:
            known = set(
                conn.execute(sa.select(_LOAD.c.load_number).where(_LOAD.c.load_number.in_(numbers))).scalars()
            )
        return [number for number in numbers if number not in known]

    def not_found(self, number: str) -> SyncResult:
        with Session(self.engine) as session:
            known = session.exec(select(Load.load_number)).all()
            owner = session.exec(select(Load.load_number).where(Load.qb_doc_number == number)).first()
        near = [owner] if owner else suggest_load_numbers(number, known)
        summary = catalogue.summary_load_not_found(number, near, owner)
        reason = Reason("load_not_found", summary, {"load_number": number, "near_matches": near})
        return SyncResult(number, "not_found", None, [reason])

    def recorded_reasons(self, load_id: int) -> list[dict[str, Any]]:
        """The reasons stored at the load's last attempt."""
        with Session(self.engine) as session:
            load = session.get(Load, load_id)
            return list(load.reasons) if load else []

    def current_result(self, number: str) -> SyncResult:
        with Session(self.engine) as session:
            load = session.exec(select(Load).where(Load.load_number == number)).first()
            if load is None:
                return self.not_found(number)
            return SyncResult(
                load.load_number,
                load.state.value if isinstance(load.state, LoadState) else str(load.state),
                load.qb_invoice_id,
                [Reason.from_dict(r) for r in load.reasons],
                doc_number=load.qb_doc_number,
                dismissed=load.dismissed_at is not None,
            )

    # -- claim ------------------------------------------------------------------------------------

    def _claim(self, load_id: int, me: str) -> bool:
        return retry_busy(lambda: self._take_claim(load_id, me))

    def _take_claim(self, load_id: int, me: str) -> bool:
        now = self.clock()
        with immediate_transaction(self.engine) as conn:
            taken = conn.execute(
                sa.update(_LOAD)
                .where(_LOAD.c.id == load_id)
                .where(sa.or_(_LOAD.c.claimed_until.is_(None), _LOAD.c.claimed_until < now))
                .values(claimed_by=me, claimed_until=now + CLAIM_TTL)
            ).rowcount
            if taken:
                return True
            holder = conn.execute(sa.select(_LOAD.c.claimed_by).where(_LOAD.c.id == load_id)).scalar()
            if holder and _holder_is_dead(holder):
                log.warning("taking over the claim of a dead worker %s", holder)
                return bool(
                    conn.execute(
                        sa.update(_LOAD)
                        .where(_LOAD.c.id == load_id, _LOAD.c.claimed_by == holder)
                        .values(claimed_by=me, claimed_until=now + CLAIM_TTL)
                    ).rowcount
                )
        return False

    def _release(self, load_id: int, me: str) -> None:
        def release() -> None:
            with immediate_transaction(self.engine) as conn:
                conn.execute(
                    sa.update(_LOAD)
                    .where(_LOAD.c.id == load_id, _LOAD.c.claimed_by == me)
                    .values(claimed_by=None, claimed_until=None)
                )

        retry_busy(release)

    # -- read -------------------------------------------------------------------------------------

    def read_view(self, number: str) -> LoadView | None:
        with Session(self.engine) as session:
            load = session.exec(select(Load).where(Load.load_number == number)).first()
            if load is None:
                return None
            customer = session.get(Customer, load.customer_id)
            codes = {
                c.code: c
                for c in session.exec(
                    select(ChargeCode).where(ChargeCode.code.in_({line.code for line in load.charges}))
                )
            }
            synced_name = None
            if load.synced_customer_id and load.synced_customer_id != load.customer_id:
                previous = session.get(Customer, load.synced_customer_id)
                synced_name = previous.name if previous else None
            session.expunge_all()
            return LoadView(
                id=load.id,
                load_number=load.load_number,
                invoice_date=load.invoice_date,
                customer=customer,
                charges=[(line.code, line.description, line.amount) for line in load.charges],
                codes=codes,
                qb_invoice_id=load.qb_invoice_id,
                qb_customer_id=load.qb_customer_id,
                synced_customer_id=load.synced_customer_id,
                synced_customer_name=synced_name,
                sync_generation=load.sync_generation,
                total=load.total,
                qb_doc_number=load.qb_doc_number,
                dismissed_by=load.dismissed_by,
                dismissed_at=load.dismissed_at,
                dismissed_reason=load.dismissed_reason,
            )

    # -- push -------------------------------------------------------------------------------------

    def evaluate(self, view: LoadView, company: CompanySnapshot) -> Outcome:
        """Every check of a push, without pushing: what a sync would find now."""
        return self._push(view, company, dry_run=True)

    def _push(self, view: LoadView, company: CompanySnapshot, dry_run: bool = False) -> Outcome:
        outcome = Outcome()
        status = self.connection.status()
        if not status.connected:
            outcome.reasons.append(not_connected_reason(status.state.value, status.broken_reason))
            return outcome
        try:
            if view.qb_invoice_id:
                self._verify(view, company, outcome)
            else:
                self._create(view, company, outcome, dry_run)
        except QboError as exc:
            outcome.error = exc
            outcome.reasons.append(classify(exc))
        outcome.reasons = ordered(outcome.reasons)
        return outcome

    def _verify(self, view: LoadView, company: CompanySnapshot, outcome: Outcome) -> None:
        """An invoice was synced before: is it still there, for the right customer and amount?"""
        self._check_synced(view, company.invoice(view.qb_invoice_id), outcome)

    def _check_synced(self, view: LoadView, invoice: dict[str, Any] | None, outcome: Outcome) -> None:
        if invoice is None:
            outcome.reasons.append(
                Reason(
                    "qb_invoice_deleted",
                    catalogue.summary_qb_invoice_deleted(view.qb_invoice_id, view.load_number),
                    {"qb_invoice_id": view.qb_invoice_id},
                )
            )
            return
        outcome.invoice = invoice
        outcome.reasons.extend(drift_reasons(view, invoice))

    def _create(self, view: LoadView, company: CompanySnapshot, outcome: Outcome, dry_run: bool) -> None:
        numbering_ok = True
        doc_number = view.doc_number
        if len(doc_number) > DOC_NUMBER_MAX:
            numbering_ok = False
            outcome.reasons.append(self.too_long_reason(view, company))
        if not company.custom_txn_numbers():
            numbering_ok = False
            outcome.reasons.append(
                Reason(
                    "custom_txn_numbers_off",
                    catalogue.summary_custom_txn_numbers_off(doc_number),
                    {"preference": "SalesFormsPrefs.CustomTxnNumbers", "value": False},
                )
            )
        if numbering_ok:
            existing = company.invoices_numbered(doc_number)
            ours = [inv for inv in existing if invoices.is_ours(inv, view.load_number)]
            if ours:
                outcome.invoice = ours[0]
                outcome.note = f"found invoice {ours[0]['Id']} created by an earlier attempt; linked it"
                outcome.qb_customer_id = (ours[0].get("CustomerRef") or {}).get("value")
                outcome.reasons.extend(drift_reasons(view, ours[0], adopted=True))
                return
            if existing:
                outcome.reasons.append(duplicate_reason(doc_number, existing[0]))

        customer_id = self._resolve_customer(view, company, outcome)
        item_ids = self._resolve_items(view, company, outcome)
        if outcome.reasons or dry_run:
            return
        request_id = request_id_for(self.api_realm(), view.load_number, view.sync_generation, doc_number)
        outcome.request_id = request_id
        body = invoices.invoice_body(view, customer_id, item_ids)
        try:
            invoice = self.api.create("Invoice", body, request_id=request_id)
        except QboError as exc:
            if not exc.transient and exc.kind is not Kind.NOT_CONNECTED:
                outcome.bump_generation = True  # QuickBooks would replay this answer for the same id
            if exc.code == "6140":
                outcome.error = exc
                duplicates = invoices.find_by_doc_number(self.api, doc_number)
                if duplicates:
                    outcome.reasons.append(duplicate_reason(doc_number, duplicates[0]))
                    return
            raise
        outcome.invoice = invoice
        outcome.qb_customer_id = customer_id

    def too_long_reason(self, view: LoadView, company: CompanySnapshot) -> Reason:
        """``doc_number_too_long`` with a suggested short invoice number that no other load uses and
        no QuickBooks invoice carries."""
        suggested = self.suggest_doc_numbers(view, company)
        evidence: dict[str, Any] = {
            "load_number": view.load_number,
            "length": len(view.doc_number),
            "max": DOC_NUMBER_MAX,
        }
        if suggested:
            evidence["suggested_doc_number"] = suggested[0]
        summary = catalogue.summary_doc_number_too_long(view.doc_number, DOC_NUMBER_MAX)
        return Reason("doc_number_too_long", summary, evidence)

    def suggest_doc_numbers(self, view: LoadView, company: CompanySnapshot, limit: int = 1) -> list[str]:
        company.prefetch_numbered(candidates(view.load_number))

        def taken(number: str) -> bool:
            if used_by_other_loads(self.engine, number, view.id):
                return True
            return any(not invoices.is_ours(i, view.load_number) for i in company.invoices_numbered(number))

        return suggestions(view.load_number, taken, limit)

    def api_realm(self) -> str:
        return self.connection.status().realm_id or ""

    def _resolve_customer(self, view: LoadView, company: CompanySnapshot, outcome: Outcome) -> str | None:
        customer = view.customer
        match = match_customer(customer.name, customer.qb_email, customer.qb_customer_id, company.customers())
        if match.customer is None:
            outcome.reasons.append(
                Reason(
                    "customer_not_synced",
                    match.problem or reason_title("customer_not_synced"),
                    match.evidence,
                )
            )
            return None
        outcome.qb_customer_id = match.customer["Id"]
        return match.customer["Id"]

    def _resolve_items(self, view: LoadView, company: CompanySnapshot, outcome: Outcome) -> dict[str, str]:
        links: dict[str, str] = {}
        problems = []
        for code, charge in sorted(view.codes.items()):
            match = match_item(charge.name, charge.qb_item_id, company.items())
            if match.item is not None:
                links[code] = match.item["Id"]
                outcome.item_links[code] = match.item["Id"]
                continue
            state = {
                "missing": ChargeCodeState.MISSING,
                "duplicate": ChargeCodeState.DUPLICATE,
                "inactive": ChargeCodeState.INACTIVE,
            }[match.problem or "missing"]
            outcome.code_states[code] = (state, catalogue.summary_charge_code(charge.name, match.problem))
            problems.append(
                {"code": code, "name": charge.name, "problem": match.problem, "qb_items": match.candidates}
            )
        if problems:
            words = "; ".join(
                catalogue.summary_charge_code(p["name"], p["problem"], p["code"]) for p in problems
            )
            outcome.reasons.append(Reason("charge_codes_not_synced", words, {"charge_codes": problems}))
        return links

    # -- record -------------------------------------------------------------------------------------

    def _record(self, view: LoadView, outcome: Outcome, trigger: str) -> SyncResult:
        """Apply ``outcome`` to the database in one short write transaction (again if it was busy)."""
        now = self.clock()
        invoice = outcome.invoice
        blocking = list(outcome.reasons)
        state = LoadState.PROBLEM if blocking else (LoadState.SYNCED if invoice else LoadState.PENDING)
        error = outcome.error
        retry_busy(lambda: self._write_outcome(view, outcome, trigger, now, state))
        log.info(
            "load %s: %s%s (intuit_tid %s)",
            view.load_number,
            state.value,
            f" {[r.code for r in blocking]}" if blocking else "",
            (error.intuit_tid if error else None) or self.api.last_intuit_tid,
        )
        return SyncResult(
            view.load_number,
            state.value,
            invoice["Id"] if invoice else view.qb_invoice_id,
            blocking,
            outcome.note,
            doc_number=view.qb_doc_number,
        )

    def _write_outcome(
        self, view: LoadView, outcome: Outcome, trigger: str, now: dt.datetime, state: LoadState
    ) -> None:
        invoice = outcome.invoice
        blocking = outcome.reasons
        error = outcome.error
        with write_session(self.engine) as session:
            load = session.get(Load, view.id)
            if invoice is not None:
                load.qb_invoice_id = invoice["Id"]
                load.qb_sync_token = invoice.get("SyncToken")
                if not view.qb_invoice_id:
                    load.qb_customer_id = (invoice.get("CustomerRef") or {}).get("value")
                    load.synced_customer_id = view.customer.id
                    load.synced_total = view.total
                    load.synced_at = now
            if outcome.bump_generation:
                load.sync_generation += 1
            load.state = state
            load.reasons = [r.to_dict() for r in blocking]
            if state is LoadState.PROBLEM:
                load.problem_since = load.problem_since or now
            else:
                load.problem_since = None
            load.updated_at = now
            if outcome.qb_customer_id and not view.customer.qb_customer_id:
                customer = session.get(Customer, view.customer.id)
                customer.qb_customer_id = outcome.qb_customer_id
            for code, item_id in outcome.item_links.items():
                charge = session.get(ChargeCode, code)
                if charge.qb_item_id != item_id or charge.sync_state != ChargeCodeState.SYNCED:
                    charge.qb_item_id = item_id
                    charge.sync_state = ChargeCodeState.SYNCED
                    charge.sync_detail = None
            for code, (code_state, detail) in outcome.code_states.items():
                charge = session.get(ChargeCode, code)
                charge.sync_state = code_state
                charge.sync_detail = detail
            session.add(
                SyncAttempt(
                    load_id=view.id,
                    started_at=now,
                    finished_at=self.clock(),
                    trigger=trigger,
                    outcome="synced" if state is LoadState.SYNCED else ("error" if error else "problem"),
                    reasons=[r.code for r in blocking],
                    qb_error_code=error.code if error else None,
                    detail=(str(error) if error else outcome.note),
                    intuit_tid=(error.intuit_tid if error else None) or self.api.last_intuit_tid,
                    request_id=outcome.request_id,
                    qb_invoice_id=invoice["Id"] if invoice else view.qb_invoice_id,
                )
            )


# -- reasons from QuickBooks answers ---------------------------------------------------------------


def not_connected_reason(state: str, detail: str | None) -> Reason:
    evidence: dict[str, Any] = {"connection": state}
    if detail:
        evidence["detail"] = detail
    return Reason("qb_not_connected", catalogue.summary_not_connected(state, detail), evidence)


def duplicate_reason(doc_number: str, invoice: dict[str, Any]) -> Reason:
    evidence = invoices.invoice_brief(invoice)
    return Reason(
        "duplicate_load_number", catalogue.summary_duplicate_load_number(doc_number, evidence), evidence
    )


def drift_reasons(view: LoadView, invoice: dict[str, Any], adopted: bool = False) -> list[Reason]:
    reasons = []
    if not adopted and view.synced_customer_id and view.synced_customer_id != view.customer.id:
        reasons.append(
            Reason(
                "customer_changed",
                catalogue.summary_customer_changed(
                    view.load_number,
                    view.customer.name,
                    invoice["Id"],
                    view.synced_customer_name or view.synced_customer_id,
                ),
                {
                    "synced_customer": {
                        "tms_id": view.synced_customer_id,
                        "name": view.synced_customer_name,
                        "qb_customer_id": (invoice.get("CustomerRef") or {}).get("value"),
                        "qb_customer_name": (invoice.get("CustomerRef") or {}).get("name"),
                    },
                    "current_customer": {"tms_id": view.customer.id, "name": view.customer.name},
                    "qb_invoice_id": invoice["Id"],
                },
            )
        )
    qb_total = Decimal(str(invoice.get("TotalAmt", "0"))).quantize(Decimal("0.01"))
    if qb_total != view.total:
        reasons.append(
            Reason(
                "amount_mismatch",
                catalogue.summary_amount_mismatch(invoice["Id"], qb_total, view.total),
                {"qb_invoice_id": invoice["Id"], "qb_total": str(qb_total), "tms_total": str(view.total)},
            )
        )
    return reasons


def classify(exc: QboError) -> Reason:
    """The reason a QuickBooks failure stands for."""
    evidence: dict[str, Any] = {"qb_code": exc.code or None, "detail": exc.detail or exc.message}
    if exc.element:
        evidence["element"] = exc.element
    if exc.intuit_tid:
        evidence["intuit_tid"] = exc.intuit_tid
    code = _classify_code(exc)
    text = catalogue.summary_quickbooks_says(code, exc.detail or exc.message, exc.code)
    if code in ("qb_not_connected", "qb_unavailable"):
        text = catalogue.summary_quickbooks_says(code, exc.message)
    return Reason(code, text, evidence)


def _classify_code(exc: QboError) -> str:
    if exc.kind in (Kind.NOT_CONNECTED, Kind.AUTH, Kind.FORBIDDEN):
        return "qb_not_connected"
    if exc.kind is Kind.THROTTLED:
        return "qb_throttled"
    if exc.kind is Kind.UNAVAILABLE:
        return "qb_unavailable"
    element = exc.element or ""
    if exc.code in ("2500", "610") and "ItemRef" in element:
        return "charge_codes_not_synced"
    if exc.code in ("2500", "610") and "CustomerRef" in element:
        return "customer_not_synced"
    if exc.code == "2050" and "DocNumber" in element:
        return "doc_number_too_long"
    if exc.code == "6140":
        return "duplicate_load_number"
    return "qb_validation_error"


def _holder_is_dead(holder: str) -> bool:
    """A claim by a process on this host that no longer runs may be taken over."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


__all__ = ["SyncEngine", "SyncResult", "classify", "request_id_for"]
