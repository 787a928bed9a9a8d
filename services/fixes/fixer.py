"""Running a fix: the fix of a code comes from :data:`~services.fixes.registry.REGISTRY`; the runner
(:class:`Fixer`) checks who may run it, holds the load's claim while it runs (fixes of one load go one
at a time, across processes), audits what it did, retries the sync when something changed and
diagnoses the load again. Each fix is safe to run twice.

A fix never guesses a human choice: where several QuickBooks records could be meant, it answers
``outcome="choice"`` with the candidates, and the choice comes back through the fix's options
(``link_customer --customer-id``, ``map_charge_code --code --item-id``, ``update_customer_email
--email``). ``clear_qb_id`` is for administrators only and first verifies that the invoice in the
way is really gone from QuickBooks — what the vendor article sends to a support ticket.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import catalogue
from services.catalogue import FIX_CODES
from services.connect.connection import ConnectionService
from services.diagnosis.diagnoser import Diagnoser, Diagnosis
from services.errors import UserInputError
from services.fixes.base import Fix
from services.fixes.context import FixContext, Options, jsonable
from services.fixes.outcome import OutcomeKind
from services.fixes.registry import REGISTRY
from services.quickbooks import IntuitAuth, QboError, QuickBooksApi
from services.store.locks import Claim
from services.store.models import FixAudit, utcnow
from services.store.storage import write_session
from services.sync import LoadView, SyncEngine, SyncResult, classify
from services.tms.loadnumbers import clean_load_number

log = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(seconds=30)  # renewed every third of it while the fix runs
CLAIM_WAIT = 30.0  # seconds a click waits for the fix before it on the same load
PRESS_WINDOW = dt.timedelta(minutes=1)  # how far back a press may count ("already done" since then)


@dataclass
class FixResult:
    load_number: str
    fix: str
    outcome: str  # an OutcomeKind's value: applied | unchanged | refused | choice | action | failed
    message: str
    changes: dict[str, Any] = field(default_factory=dict)
    choices: list[dict[str, Any]] = field(default_factory=list)
    sync: SyncResult | None = None
    diagnosis: Diagnosis | None = None
    done_by: str | None = None  # "already done": who applied this fix while this click waited its turn

    @property
    def state(self) -> str:
        if self.diagnosis is not None:
            return self.diagnosis.state
        return self.sync.state if self.sync else "unknown"

    def to_dict(self) -> dict[str, Any]:
        diagnosis = self.diagnosis
        return {
            "fix": self.fix,
            "outcome": self.outcome,
            "message": self.message,
            "changes": self.changes,
            "choices": self.choices,
            "results": [
                {
                    "load_number": self.load_number,
                    "state": self.state,
                    "qb_invoice_id": diagnosis.qb_invoice_id if diagnosis else None,
                    "reasons": [r.code for r in diagnosis.reasons] if diagnosis else [],
                }
            ],
        }


class Fixer:
    def __init__(
        self,
        engine: Engine,
        api: QuickBooksApi,
        auth: IntuitAuth,
        connection: ConnectionService,
        sync: SyncEngine,
        diagnoser: Diagnoser,
    ) -> None:
        self.engine = engine
        self.api = api
        self.auth = auth
        self.connection = connection
        self.sync = sync
        self.diagnoser = diagnoser
        self.claim_wait = CLAIM_WAIT

    def apply(
        self,
        load_number: str,
        fix: str,
        actor: str,
        *,
        customer_id: str | None = None,
        email: str | None = None,
        code: str | None = None,
        item_id: str | None = None,
        doc_number: str | None = None,
        reason: str | None = None,
        admin: bool = False,
        pressed_at: dt.datetime | None = None,
    ) -> FixResult:
        """Apply ``fix`` to the load. The options carry a person's choice: ``customer_id``
        (link_customer), ``email`` (update_customer_email), ``code`` and ``item_id``
        (map_charge_code), ``doc_number`` (set_doc_number), ``reason`` (dismiss: why, ≤ 200
        characters). ``admin`` allows the administrators' fixes (``Fix.admin_only``).

        Fixes of one load run one at a time, across processes: a click that finds another fix of the
        load running waits its turn (up to ``CLAIM_WAIT`` seconds). If meanwhile someone applied this
        same fix, it is not run again: the answer says who did it, with the fresh diagnosis.
        ``pressed_at`` is when the person pressed the button (Slack's ``action_ts``): a click that waited
        for a free listener before this call still counts from its press (at most a minute back)."""
        chosen = REGISTRY.get(fix)
        if chosen is None:
            raise UserInputError(f"unknown fix {fix!r}; fixes are: {', '.join(FIX_CODES)}")
        number = clean_load_number(load_number)
        started = utcnow()
        if pressed_at is not None:
            started = min(started, max(pressed_at, started - PRESS_WINDOW))
        if chosen.admin_only and not admin:
            return self._refuse(actor, number, fix, f"{fix} is for administrators only (QBSYNC_ADMINS)")
        options = Options(customer_id, email, code, item_id, doc_number, reason)
        with ExitStack() as claims:
            for name in chosen.claim_names(number):
                if not claims.enter_context(Claim(self.engine, name, CLAIM_LEASE, wait=self.claim_wait)).held:
                    busy = catalogue.fix_busy_text(number if chosen.per_load else None)
                    log.warning("fix %s on %s by %s: %s", fix, number, actor, busy)
                    return self._refuse(actor, number, fix, busy)
            result, view = self._apply_in_turn(number, chosen, actor, options, started)
        if view is not None:  # the diagnosis only reads: the next click need not wait for it
            self._diagnose(result, view)
        return result

    def _refuse(self, actor: str, number: str, fix: str, message: str) -> FixResult:
        result = FixResult(number, fix, OutcomeKind.REFUSED.value, message)
        self._audit(actor, result)
        return result

    def _apply_in_turn(
        self, number: str, fix: Fix, actor: str, options: Options, started: dt.datetime
    ) -> tuple[FixResult, LoadView | None]:
        """``apply`` once this click holds the load's fixes (nobody else is fixing it now), up to the
        audit; the load's view when a diagnosis is to follow."""
        view = self.sync.read_view(number)
        if view is None and fix.per_load:
            return self._refuse(actor, number, fix.code, self.sync.not_found(number).reasons[0].summary), None
        if view is not None and view.dismissed and not fix.on_dismissed:
            words = catalogue.dismissed_text(view.dismissed_by, view.dismissed_at, view.dismissed_reason)
            # with the load's diagnosis: it shows the dismissal and Restore
            return self._refuse(actor, number, fix.code, f"{words}. {catalogue.undismiss_hint(number)}"), view
        done_by = self._applied_since(fix, number, started)
        ctx = FixContext(
            self.engine,
            self.api,
            self.auth,
            self.connection,
            self.sync,
            fix.code,
            fix.company_wide,
            actor,
            self._attempts(fix, number),
        )
        try:
            if done_by is not None and fix.choice is None:
                result = _already_done(number, fix, done_by)
            else:
                outcome = fix.apply(ctx, view, options)
                result = FixResult(
                    number, fix.code, outcome.kind.value, outcome.message, outcome.changes, outcome.choices
                )
                if done_by is not None and outcome.kind is OutcomeKind.NOTHING_TO_DO:
                    result = _already_done(number, fix, done_by)  # the same choice, made a moment ago
        except QboError as exc:
            reason = classify(exc)
            result = FixResult(
                number,
                fix.code,
                OutcomeKind.FAILED.value,
                f"QuickBooks refused: {reason.summary}",
                {"error": reason.evidence},
            )
        if view is not None:
            self._follow_up(result, fix, view, actor)
        self._audit(actor, result)
        log.info("fix %s on %s by %s: %s (%s)", fix.code, number, actor, result.outcome, result.message)
        return result, view

    def _follow_up(self, result: FixResult, fix: Fix, view: LoadView, actor: str) -> None:
        """Retry the sync when the fix changed something (or the load still waits); ``_diagnose`` then
        says how the load is now. A dismissed load is not synced."""
        current = self.sync.current_result(view.load_number)
        wants_sync = fix.sync_after and (
            result.outcome == OutcomeKind.APPLIED
            or (result.outcome == OutcomeKind.NOTHING_TO_DO and current.state != "synced")
        )
        if wants_sync and not current.dismissed:
            result.sync = self.sync.sync_load(view.load_number, trigger=f"fix:{result.fix}:{actor}")

    def _diagnose(self, result: FixResult, view: LoadView) -> None:
        try:
            result.diagnosis = self.diagnoser.diagnose(view.load_number)
        except QboError as exc:  # the diagnosis is a courtesy; the fix has already been recorded
            log.warning("diagnosis after fix failed: %s", exc)

    def _applied_since(self, fix: Fix, number: str, since: dt.datetime) -> str | None:
        """Who applied ``fix`` to the load (any load, for a company-wide fix) at or after ``since``."""
        query = sa.select(FixAudit.actor).where(
            FixAudit.fix == fix.code, FixAudit.outcome == OutcomeKind.APPLIED.value, FixAudit.at >= since
        )
        if not fix.company_wide:
            query = query.where(FixAudit.load_number == number)
        with Session(self.engine) as session:
            return session.execute(query.order_by(FixAudit.id.desc()).limit(1)).scalar()

    def _attempts(self, fix: Fix, number: str) -> int:
        """Runs of ``fix`` recorded so far (on the load, or anywhere for a company-wide fix). A run that
        ended, however it ended, counts; one that stopped half-way (its process died) does not — so its
        next run sends the same QuickBooks request ids, and QuickBooks answers a write it already made
        with that first answer instead of making it again."""
        query = sa.select(sa.func.count()).select_from(FixAudit).where(FixAudit.fix == fix.code)
        if not fix.company_wide:
            query = query.where(FixAudit.load_number == number)
        with Session(self.engine) as session:
            return int(session.execute(query).scalar() or 0)

    def _audit(self, actor: str, result: FixResult) -> None:
        with write_session(self.engine) as session:
            session.add(
                FixAudit(
                    at=utcnow(),
                    actor=actor,
                    load_number=result.load_number,
                    fix=result.fix,
                    outcome=result.outcome,
                    changes=jsonable(result.changes),
                    detail=result.message[:4000],
                )
            )


def _already_done(number: str, fix: Fix, done_by: str) -> FixResult:
    """Nothing to do: ``done_by`` applied this fix while this click waited its turn."""
    message = catalogue.already_done_text(done_by)
    return FixResult(number, fix.code, OutcomeKind.NOTHING_TO_DO.value, message, done_by=done_by)
