"""The sync engine: push each load's invoice to QuickBooks exactly once, and name the reason for
every failure.

A push: claim the load (so two workers or a double click never push it twice), check the
connection, the company's numbering, the customer and the charge codes, look for an invoice that
already carries the load number (ours → adopt, someone else's → ``duplicate_load_number``), then
create the invoice with a ``requestid`` derived from the load and its sync generation — a retry after
a crash gets the same invoice back. Every attempt is recorded with its ``intuit_tid``.

``sync_load`` pushes one load (one-off syncs and fixes). ``sync_many`` pushes loads in batches
(``batch.py``): a worker pool within the limiter's in-flight cap takes ``batch_size`` loads at a
time, claims, reads, checks and records them with a few set-based statements, and creates their
invoices in one QuickBooks batch request.

The checks of a push are in ``checks.py``; what the store says of loads without asking QuickBooks
(a load's last result, the loads still to sync) in ``stored.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services import catalogue
from services.connect.connection import ConnectionService
from services.crashpoints import crash_point, sending
from services.diagnosis.reasons import Reason, ordered
from services.quickbooks import Kind, QboError, QuickBooksApi
from services.quickbooks.escape import in_list, needs_prefix_match
from services.store.models import Load, LoadState, utcnow
from services.store.workers import worker_id
from services.sync import batch, invoices, stored
from services.sync.answers import classify, duplicate_reason, not_connected_reason
from services.sync.checks import (
    check_synced,
    looks_changed,
    prepare,
    suggest_doc_numbers,
    too_long_reason,
    verify,
)
from services.sync.claims import CLAIM_LEASE, Claims
from services.sync.company import CompanySnapshot
from services.sync.docnumbers import DOC_NUMBER_MAX
from services.sync.loads import read_view, read_views
from services.sync.record import Recorder
from services.sync.results import LoadView, Outcome, SyncResult, request_id_for
from services.sync.stored import total_cents
from services.tms.loadnumbers import clean_load_number

log = logging.getLogger(__name__)

RECONCILE_CHUNK = 100
DEFAULT_BATCH_SIZE = 30
_LOAD = Load.__table__  # type: ignore[attr-defined]


class SyncEngine:
    def __init__(
        self,
        engine: Engine,
        api: QuickBooksApi,
        connection: ConnectionService,
        clock: Callable[[], dt.datetime] = utcnow,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        workers: int = 4,
        lease: dt.timedelta = CLAIM_LEASE,
    ) -> None:
        self.engine = engine
        self.api = api
        self.connection = connection
        self.clock = clock
        self.batch_size = max(1, min(batch_size, DEFAULT_BATCH_SIZE))
        self.workers = max(1, workers)
        self.claims = Claims(engine, lambda: self.clock(), lease=lease)
        self.recorder = Recorder(engine, api, lambda: self.clock())

    # -- public ---------------------------------------------------------------------------------

    def sync_load(
        self, load_number: str, *, trigger: str, snapshot: CompanySnapshot | None = None
    ) -> SyncResult:
        number = clean_load_number(load_number)
        view = self.read_view(number)
        if view is None:
            return self.not_found(number)
        if view.dismissed:
            return self._dismissed(view)
        me = worker_id()
        if not self.claims.claim(view.id, me):
            return self._busy(number)
        try:
            outcome = self._push(view, snapshot or CompanySnapshot(self.api))
            return self.recorder.record(view, outcome, trigger)
        finally:
            self.claims.release(view.id, me)

    def sync_many(
        self,
        load_numbers: Iterable[str] | None,
        *,
        trigger: str,
        progress: Callable[[SyncResult], None] | None = None,
        snapshot: CompanySnapshot | None = None,
    ) -> list[SyncResult]:
        """Sync the named loads, or every load not yet synced, ``batch_size`` to a QuickBooks batch
        request, ``workers`` batches at a time; one company snapshot for the run. ``progress`` is
        called with each result as it is recorded (from one thread at a time, under a lock every batch
        waits for), in no fixed order: it must only count, never wait or call a network (a Slack
        message is updated from another thread; see ``commands.actions``). The results are returned in
        the order of the load numbers."""
        numbers = list(load_numbers) if load_numbers is not None else self.unsynced_load_numbers()
        numbers = list(dict.fromkeys(clean_load_number(n) for n in numbers))
        snapshot = snapshot or CompanySnapshot(self.api)
        if len(numbers) <= 1:
            results = [self.sync_load(number, trigger=trigger, snapshot=snapshot) for number in numbers]
            for result in results:
                if progress:
                    progress(result)
            return results
        with self.api.patient():
            self._warm(snapshot)
        chunks = [numbers[i : i + self.batch_size] for i in range(0, len(numbers), self.batch_size)]
        told = threading.Lock()
        stop = threading.Event()  # set when the caller is interrupted (Ctrl-C): no batch starts or waits

        def run(chunk: list[str]) -> list[SyncResult]:
            if stop.is_set():
                return []
            with self.api.patient(cancel=stop):  # a bulk sync waits for QuickBooks' budget, however long
                results = self._sync_chunk(chunk, trigger, snapshot)
            if progress:
                with told:
                    for result in results:
                        progress(result)
            return results

        if self.workers == 1 or len(chunks) == 1:
            done = [run(chunk) for chunk in chunks]
        else:
            pool = ThreadPoolExecutor(min(self.workers, len(chunks)), thread_name_prefix="qbsync-sync")
            try:
                futures = [pool.submit(run, chunk) for chunk in chunks]
                done = [future.result() for future in futures]
            except BaseException:
                # Interrupted: batches not started never start, those waiting for QuickBooks' budget stop
                # waiting (nothing sent), those sent are answered and recorded; then the interruption goes on.
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
        return [result for results in done for result in results]

    def unsynced_load_numbers(self) -> list[str]:
        """Loads not synced, and synced loads whose customer or total changed in the TMS since; never a
        dismissed load."""
        return stored.unsynced_load_numbers(self.engine)

    def reconcile(
        self, *, trigger: str = "reconcile", progress: Callable[[SyncResult], None] | None = None
    ) -> list[SyncResult]:
        """Read every synced invoice back from QuickBooks (100 per query) and flag the ones deleted
        there (``qb_invoice_deleted``), voided (``qb_invoice_voided``) or drifted from the load
        (``amount_mismatch``, ``customer_changed``). Returns the loads found with a problem.

        Only the loads whose invoice looks changed from what is stored (gone, voided, another total or
        customer) are read whole, claimed and checked: a company's 100,000 unchanged invoices cost
        their queries and one read of the loads, not 100,000 claims."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    _LOAD.c.load_number,
                    _LOAD.c.qb_invoice_id,
                    _LOAD.c.qb_customer_id,
                    _LOAD.c.customer_id,
                    _LOAD.c.synced_customer_id,
                    total_cents().label("total_cents"),
                )
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
        suspects = [row.load_number for row in rows if looks_changed(row, found.get(row.qb_invoice_id))]
        problems = []
        views = read_views(self.engine, suspects)
        me = worker_id()
        for number in suspects:
            view = views.get(number)
            if view is None or not self.claims.claim(view.id, me):
                continue  # a sync of this load is running; it checks the same things
            try:
                outcome = Outcome()
                check_synced(view, found.get(view.qb_invoice_id or ""), outcome)
                if outcome.reasons:
                    result = self.recorder.record(view, outcome, trigger)
                    problems.append(result)
                    if progress:
                        progress(result)
            finally:
                self.claims.release(view.id, me)
        return problems

    def unknown_load_numbers(self, numbers: Iterable[str]) -> list[str]:
        """The ones of ``numbers`` that name no load, in the order given."""
        return stored.unknown_load_numbers(self.engine, numbers)

    def not_found(self, number: str) -> SyncResult:
        return stored.not_found(self.engine, number)

    def recorded_reasons(self, load_id: int) -> list[dict[str, Any]]:
        """The reasons stored at the load's last attempt."""
        return stored.recorded_reasons(self.engine, load_id)

    def current_result(self, number: str) -> SyncResult:
        return stored.current_result(self.engine, number)

    # -- read -------------------------------------------------------------------------------------

    def read_view(self, number: str) -> LoadView | None:
        return read_view(self.engine, number)

    # -- batches --------------------------------------------------------------------------------

    def _warm(self, snapshot: CompanySnapshot) -> None:
        """Read the company once before the workers start (each would otherwise read it too)."""
        if not self.connection.status().connected:
            return
        try:
            snapshot.preferences()
            snapshot.customers()
            snapshot.items()
        except QboError as exc:  # each load meets it again and gets its reason
            log.info("reading the company before a bulk sync failed: %s", exc)

    def _sync_chunk(self, numbers: list[str], trigger: str, company: CompanySnapshot) -> list[SyncResult]:
        views = read_views(self.engine, numbers)
        answered: dict[str, SyncResult] = {}
        candidates_ = []
        for number in numbers:
            view = views.get(number)
            if view is None:
                answered[number] = self.not_found(number)
            elif view.dismissed:
                answered[number] = self._dismissed(view)
            else:
                candidates_.append(view)
        me = worker_id()
        claimed = self.claims.claim_many([view.id for view in candidates_], me)
        mine = [view for view in candidates_ if view.id in claimed]
        for view in candidates_:
            if view.id not in claimed:
                answered[view.load_number] = self._busy(view.load_number)
        try:
            outcomes = self._push_many(mine, company)
            recorded = self.recorder.record_many(list(zip(mine, outcomes, strict=True)), trigger)
        finally:
            self.claims.release_many(sorted(claimed), me)
        answered.update({result.load_number: result for result in recorded})
        return [answered[number] for number in numbers]

    def _push_many(self, views: list[LoadView], company: CompanySnapshot) -> list[Outcome]:
        """What ``_push`` does for each load, with the lookups of the whole batch made together and
        the creates sent as one batch request."""
        outcomes = [Outcome() for _ in views]
        if not views:
            return outcomes
        status = self.connection.status()
        if not status.connected:
            for outcome in outcomes:
                outcome.reasons.append(not_connected_reason(status.state.value, status.broken_reason))
            return outcomes
        ready: list[batch.Create] = []
        with contextlib.suppress(QboError):  # each load below meets the failure again, with its reason
            self._prefetch(views, company)
        realm = status.realm_id or ""
        for view, outcome in zip(views, outcomes, strict=True):
            try:
                if view.qb_invoice_id:
                    verify(view, company, outcome)
                else:
                    prepared = prepare(self.engine, view, company, outcome)
                    if prepared is not None:
                        customer_id, body = prepared
                        request_id = request_id_for(
                            realm, view.load_number, view.sync_generation, view.doc_number
                        )
                        ready.append(batch.Create(view, outcome, body, customer_id, request_id))
            except QboError as exc:
                outcome.error = exc
                outcome.reasons.append(classify(exc))
        batch.create_invoices(self.api, realm, ready)
        for outcome in outcomes:
            outcome.reasons = ordered(outcome.reasons)
        return outcomes

    def _prefetch(self, views: list[LoadView], company: CompanySnapshot) -> None:
        """One query for the invoice numbers of the batch, one for the invoices it synced before."""
        numbers = [
            v.doc_number
            for v in views
            if not v.qb_invoice_id
            and len(v.doc_number) <= DOC_NUMBER_MAX
            and not needs_prefix_match(v.doc_number)
        ]
        if numbers and company.custom_txn_numbers():
            company.prefetch_numbered(numbers)
        company.prefetch_invoices([v.qb_invoice_id for v in views if v.qb_invoice_id])

    def _dismissed(self, view: LoadView) -> SyncResult:
        current = self.current_result(view.load_number)
        current.note = (
            f"{catalogue.dismissed_text(view.dismissed_by, view.dismissed_at, view.dismissed_reason)}. "
            f"Not synced. {catalogue.undismiss_hint(view.load_number)}"
        )
        return current

    def _busy(self, number: str) -> SyncResult:
        current = self.current_result(number)
        current.note = "another worker is pushing this load right now; try again in a moment"
        return current

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
                verify(view, company, outcome)
            else:
                self._create(view, company, outcome, dry_run)
        except QboError as exc:
            outcome.error = exc
            outcome.reasons.append(classify(exc))
        outcome.reasons = ordered(outcome.reasons)
        return outcome

    def _create(self, view: LoadView, company: CompanySnapshot, outcome: Outcome, dry_run: bool) -> None:
        prepared = prepare(self.engine, view, company, outcome)
        if prepared is None or dry_run:
            return
        customer_id, body = prepared
        doc_number = view.doc_number
        request_id = request_id_for(self.api_realm(), view.load_number, view.sync_generation, doc_number)
        outcome.request_id = request_id
        try:
            with sending("create_sent"):
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
        crash_point("create_answered")
        outcome.invoice = invoice
        outcome.qb_customer_id = customer_id

    def too_long_reason(self, view: LoadView, company: CompanySnapshot) -> Reason:
        """``doc_number_too_long`` with a suggested short invoice number that no other load uses and
        no QuickBooks invoice carries."""
        return too_long_reason(self.engine, view, company)

    def suggest_doc_numbers(self, view: LoadView, company: CompanySnapshot, limit: int = 1) -> list[str]:
        return suggest_doc_numbers(self.engine, view, company, limit)

    def api_realm(self) -> str:
        return self.connection.status().realm_id or ""
