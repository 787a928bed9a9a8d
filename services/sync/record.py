"""Recording what pushes found: the load's state and reasons, what it is linked to in QuickBooks, the
customer and charge-code links learned on the way, and one ``SyncAttempt`` per push. A batch of
outcomes is written in one short write transaction (again if the database was busy): the rows it
touches are read in one statement per table, the changes flushed together."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from services import catalogue
from services.crashpoints import crash_point
from services.quickbooks import QuickBooksApi
from services.store.models import ChargeCode, ChargeCodeState, Customer, Load, LoadState, SyncAttempt
from services.store.storage import retry_busy, write_session
from services.sync.results import LoadView, Outcome, SyncResult

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, engine: Engine, api: QuickBooksApi, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.api = api
        self.clock = clock

    def record(self, view: LoadView, outcome: Outcome, trigger: str) -> SyncResult:
        return self.record_many([(view, outcome)], trigger)[0]

    def record_many(self, pushes: list[tuple[LoadView, Outcome]], trigger: str) -> list[SyncResult]:
        if not pushes:
            return []
        now = self.clock()
        unchecked = [_unchecked(view, outcome) for view, outcome in pushes]  # stays synced as it was
        states = []
        for (_, outcome), kept in zip(pushes, unchecked, strict=True):
            if kept:
                outcome.note = catalogue.unchecked_note(outcome.reasons[0].code)
            states.append(LoadState.SYNCED if kept else _state(outcome))
        retry_busy(lambda: self._write(pushes, states, trigger, now))
        crash_point("local_commit")
        results = []
        for (view, outcome), state, kept in zip(pushes, states, unchecked, strict=True):
            error = outcome.error
            log.info(
                "load %s: %s%s (intuit_tid %s)",
                view.load_number,
                state.value,
                f" {[r.code for r in outcome.reasons]}" if outcome.reasons else "",
                (error.intuit_tid if error else None) or outcome.intuit_tid or self.api.last_intuit_tid,
            )
            invoice = outcome.invoice
            results.append(
                SyncResult(
                    view.load_number,
                    state.value,
                    invoice["Id"] if invoice else view.qb_invoice_id,
                    [] if kept else list(outcome.reasons),
                    outcome.note,
                    doc_number=view.qb_doc_number,
                )
            )
        return results

    def _write(
        self,
        pushes: list[tuple[LoadView, Outcome]],
        states: list[LoadState],
        trigger: str,
        now: dt.datetime,
    ) -> None:
        with write_session(self.engine) as session:
            ids = [view.id for view, _ in pushes]
            loads = {load.id: load for load in session.exec(select(Load).where(Load.id.in_(ids)))}
            codes = {code for _, outcome in pushes for code in [*outcome.item_links, *outcome.code_states]}
            charges = {}
            if codes:
                charges = {
                    c.code: c for c in session.exec(select(ChargeCode).where(ChargeCode.code.in_(codes)))
                }
            finished = self.clock()
            for (view, outcome), state in zip(pushes, states, strict=True):
                self._apply(session, loads[view.id], charges, view, outcome, state, now)
                session.add(_attempt(view, outcome, state, trigger, now, finished, self.api.last_intuit_tid))

    def _apply(
        self,
        session: Session,
        load: Load,
        charges: dict[str, ChargeCode],
        view: LoadView,
        outcome: Outcome,
        state: LoadState,
        now: dt.datetime,
    ) -> None:
        if _unchecked(view, outcome):
            return  # the load stays as it was; only the attempt is recorded
        invoice = outcome.invoice
        if invoice is not None:
            load.qb_invoice_id = invoice["Id"]
            load.qb_sync_token = invoice.get("SyncToken")
            if not view.qb_invoice_id:
                load.qb_customer_id = (invoice.get("CustomerRef") or {}).get("value")
                load.synced_customer_id = view.customer.id
                load.synced_total = view.total
                load.synced_at = now
        if outcome.customer_caught_up:
            load.synced_customer_id = view.customer.id
            load.qb_customer_id = outcome.qb_customer_id
        if outcome.bump_generation:
            load.sync_generation += 1
        load.state = state
        load.reasons = [r.to_dict() for r in outcome.reasons]
        load.problem_since = (load.problem_since or now) if state is LoadState.PROBLEM else None
        load.updated_at = now
        if outcome.qb_customer_id and not view.customer.qb_customer_id:
            customer = session.get(Customer, view.customer.id)
            if customer is not None and customer.qb_customer_id != outcome.qb_customer_id:
                customer.qb_customer_id = outcome.qb_customer_id
        for code, item_id in outcome.item_links.items():
            charge = charges[code]
            if charge.qb_item_id != item_id or charge.sync_state != ChargeCodeState.SYNCED:
                charge.qb_item_id = item_id
                charge.sync_state = ChargeCodeState.SYNCED
                charge.sync_detail = None
        for code, (code_state, detail) in outcome.code_states.items():
            charge = charges[code]
            charge.sync_state = code_state
            charge.sync_detail = detail


def _unchecked(view: LoadView, outcome: Outcome) -> bool:
    """A synced load whose check QuickBooks could not answer just now (throttled, unavailable, a
    timeout): nothing was learned, so nothing changes but the attempt's record."""
    error = outcome.error
    return view.was_synced and outcome.invoice is None and error is not None and error.transient


def _state(outcome: Outcome) -> LoadState:
    if outcome.reasons:
        return LoadState.PROBLEM
    return LoadState.SYNCED if outcome.invoice else LoadState.PENDING


def _attempt(
    view: LoadView,
    outcome: Outcome,
    state: LoadState,
    trigger: str,
    started: dt.datetime,
    finished: dt.datetime,
    last_tid: str | None,
) -> SyncAttempt:
    error = outcome.error
    invoice = outcome.invoice
    return SyncAttempt(
        load_id=view.id,
        started_at=started,
        finished_at=finished,
        trigger=trigger,
        outcome="error" if error else ("synced" if state is LoadState.SYNCED else "problem"),
        reasons=[r.code for r in outcome.reasons],
        qb_error_code=error.code if error else None,
        detail=(str(error) if error else outcome.note),
        intuit_tid=(error.intuit_tid if error else None) or outcome.intuit_tid or last_tid,
        request_id=outcome.request_id,
        qb_invoice_id=invoice["Id"] if invoice else view.qb_invoice_id,
    )
