"""Fix actions: one per fix code, each safe to run twice, audited, and followed by a retry of the
sync (when something changed) and a fresh diagnosis.

A fix never guesses a human choice: where several QuickBooks records could be meant, it returns
``outcome="choice"`` with the candidates, and the choice comes back through the fix's options
(``link_customer --customer-id``, ``map_charge_code --code --item-id``, ``update_customer_email
--email``). ``clear_qb_id`` is for administrators only and first verifies that the invoice in the
way is really gone from QuickBooks — what the vendor article sends to a support ticket.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from services import catalogue
from services.catalogue import ADMIN_ONLY, FIX, FIX_CODES, money
from services.connect.connection import ConnectionService
from services.connect.flow import new_state
from services.crashpoints import crash_point, sending
from services.diagnosis.diagnoser import Diagnoser, Diagnosis
from services.diagnosis.problems import list_problems
from services.errors import UserInputError
from services.fixes.matching import (
    customer_brief,
    is_active,
    item_brief,
    match_customer,
    match_item,
    normalize_email,
)
from services.quickbooks import IntuitAuth, Kind, QboError, QuickBooksApi
from services.quickbooks.escape import needs_prefix_match, quote, safe_prefix
from services.store.locks import Claim
from services.store.models import (
    INVOICE_FORGOTTEN,
    ChargeCode,
    ChargeCodeState,
    Customer,
    FixAudit,
    Load,
    LoadState,
    SyncAttempt,
    utcnow,
)
from services.store.storage import write_session
from services.sync import LoadView, SyncEngine, SyncResult, classify, invoices
from services.sync.company import ALL_STATES, CompanySnapshot
from services.sync.docnumbers import DOC_NUMBER_MAX, clean_doc_number, used_by_other_loads
from services.tms.importer import clean_email
from services.tms.loadnumbers import clean_load_number, find_forbidden_character

log = logging.getLogger(__name__)

# Fixes that act on a dismissed load (every other fix asks to restore it first).
ON_DISMISSED = frozenset({"connect", "dismiss", "undismiss"})
# Fixes that change the whole QuickBooks company: done once for every load, and one at a time.
COMPANY_WIDE = frozenset({"enable_custom_txn_numbers"})
CLAIM_LEASE = dt.timedelta(seconds=30)  # renewed every third of it while the fix runs
CLAIM_WAIT = 30.0  # seconds a click waits for the fix before it on the same load
PRESS_WINDOW = dt.timedelta(minutes=1)  # how far back a press may count ("already done" since then)
FIX_NAMESPACE = uuid.UUID("0c3f7a5e-52a4-4d8e-9a0b-6f9a2e1d7c44")


@dataclass
class FixResult:
    load_number: str
    fix: str
    outcome: str  # applied | unchanged | refused | choice | action | failed
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


@dataclass
class _Options:
    customer_id: str | None = None
    email: str | None = None
    code: str | None = None
    item_id: str | None = None
    doc_number: str | None = None
    reason: str | None = None
    actor: str = ""
    attempt: int = 0  # fix runs recorded for this load before this one (keys QuickBooks request ids)


class _Done(Exception):
    """Ends a fix early with its result (refusals and choices)."""

    def __init__(self, outcome: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.extra = extra


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

    # -- entry point ----------------------------------------------------------------------------

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
        characters). ``admin`` allows the administrators' fixes (``catalogue.ADMIN_ONLY``).

        Fixes of one load run one at a time, across processes: a click that finds another fix of the
        load running waits its turn (up to ``CLAIM_WAIT`` seconds). If meanwhile someone applied this
        same fix, it is not run again: the answer says who did it, with the fresh diagnosis.
        ``pressed_at`` is when the person pressed the button (Slack's ``action_ts``): a click that waited
        for a free listener before this call still counts from its press (at most a minute back)."""
        if fix not in FIX_CODES:
            raise UserInputError(f"unknown fix {fix!r}; fixes are: {', '.join(FIX_CODES)}")
        number = clean_load_number(load_number)
        started = utcnow()
        if pressed_at is not None:
            started = min(started, max(pressed_at, started - PRESS_WINDOW))
        if fix in ADMIN_ONLY and not admin:
            result = FixResult(number, fix, "refused", f"{fix} is for administrators only (QBSYNC_ADMINS)")
            self._audit(actor, result)
            return result
        options = _Options(customer_id, email, code, item_id, doc_number, reason, actor)
        with ExitStack() as claims:
            for name in _claim_names(fix, number):
                if not claims.enter_context(Claim(self.engine, name, CLAIM_LEASE, wait=self.claim_wait)).held:
                    busy = catalogue.fix_busy_text(number if FIX[fix].per_load else None)
                    result = FixResult(number, fix, "refused", busy)
                    self._audit(actor, result)
                    log.warning("fix %s on %s by %s: %s", fix, number, actor, busy)
                    return result
            result, view = self._apply_in_turn(number, fix, actor, options, started)
        if view is not None:  # the diagnosis only reads: the next click need not wait for it
            self._diagnose(result, view)
        return result

    def _apply_in_turn(
        self, number: str, fix: str, actor: str, options: _Options, started: dt.datetime
    ) -> tuple[FixResult, LoadView | None]:
        """``apply`` once this click holds the load's fixes (nobody else is fixing it now), up to the
        audit; the load's view when a diagnosis is to follow."""
        view = self.sync.read_view(number)
        if view is None and fix != "connect":
            missing = self.sync.not_found(number)
            result = FixResult(number, fix, "refused", missing.reasons[0].summary)
            self._audit(actor, result)
            return result, None
        if view is not None and view.dismissed and fix not in ON_DISMISSED:
            words = catalogue.dismissed_text(view.dismissed_by, view.dismissed_at, view.dismissed_reason)
            result = FixResult(number, fix, "refused", f"{words}. {catalogue.undismiss_hint(number)}")
            self._audit(actor, result)
            return result, view  # with the load's diagnosis: it shows the dismissal and Restore
        done_by = self._applied_since(fix, number, started)
        options.attempt = self._attempts(fix, number)
        try:
            if done_by is not None and not FIX[fix].choice:
                result = FixResult(
                    number, fix, "unchanged", catalogue.already_done_text(done_by), done_by=done_by
                )
            else:
                outcome, message, changes = getattr(self, f"_{fix}")(view, options)
                result = FixResult(number, fix, outcome, message, changes)
                if done_by is not None and outcome == "unchanged":  # the same choice, made a moment ago
                    result = FixResult(
                        number, fix, "unchanged", catalogue.already_done_text(done_by), done_by=done_by
                    )
        except _Done as done:
            result = FixResult(number, fix, done.outcome, done.message, **done.extra)
        except QboError as exc:
            reason = classify(exc)
            result = FixResult(
                number, fix, "failed", f"QuickBooks refused: {reason.summary}", {"error": reason.evidence}
            )
        if view is not None:
            self._follow_up(result, view, actor)
        self._audit(actor, result)
        log.info("fix %s on %s by %s: %s (%s)", fix, number, actor, result.outcome, result.message)
        return result, view

    def _follow_up(self, result: FixResult, view: LoadView, actor: str) -> None:
        """Retry the sync when the fix changed something (or the load still waits); ``_diagnose`` then
        says how the load is now."""
        current = self.sync.current_result(view.load_number)
        wants_sync = result.fix not in ("connect", "dismiss") and (
            result.outcome == "applied" or (result.outcome == "unchanged" and current.state != "synced")
        )
        if result.fix == "retry" or current.dismissed:
            wants_sync = False  # the retry itself was the sync; a dismissed load is not synced
        if wants_sync:
            result.sync = self.sync.sync_load(view.load_number, trigger=f"fix:{result.fix}:{actor}")

    def _diagnose(self, result: FixResult, view: LoadView) -> None:
        try:
            result.diagnosis = self.diagnoser.diagnose(view.load_number)
        except QboError as exc:  # the diagnosis is a courtesy; the fix has already been recorded
            log.warning("diagnosis after fix failed: %s", exc)

    def _applied_since(self, fix: str, number: str, since: dt.datetime) -> str | None:
        """Who applied ``fix`` to the load (any load, for a company-wide fix) at or after ``since``."""
        query = sa.select(FixAudit.actor).where(
            FixAudit.fix == fix, FixAudit.outcome == "applied", FixAudit.at >= since
        )
        if fix not in COMPANY_WIDE:
            query = query.where(FixAudit.load_number == number)
        with Session(self.engine) as session:
            return session.execute(query.order_by(FixAudit.id.desc()).limit(1)).scalar()

    def _attempts(self, fix: str, number: str) -> int:
        """Runs of ``fix`` recorded so far (on the load, or anywhere for a company-wide fix). A run that
        ended, however it ended, counts; one that stopped half-way (its process died) does not — so its
        next run sends the same QuickBooks request ids, and QuickBooks answers a write it already made
        with that first answer instead of making it again."""
        query = sa.select(sa.func.count()).select_from(FixAudit).where(FixAudit.fix == fix)
        if fix not in COMPANY_WIDE:
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
                    changes=_jsonable(result.changes),
                    detail=result.message[:4000],
                )
            )

    # -- connection -----------------------------------------------------------------------------

    def _connect(self, view: LoadView | None, options: _Options):
        status = self.connection.status()
        if status.connected:
            return "unchanged", f"QuickBooks is already connected (company {status.realm_id}).", {}
        state = new_state()
        url = self.auth.authorization_url(state)
        return (
            "action",
            "Open the QuickBooks authorization page to connect (or run `qbsync connect`).",
            {"authorize_url": url, "state": state},
        )

    def _retry(self, view: LoadView, options: _Options):
        confirmed = view.was_synced and self._last_push_synced(view)  # e.g. retried by someone just now
        synced = self.sync.sync_load(view.load_number, trigger="fix:retry")
        if synced.state == "synced" and synced.note:  # synced before; QuickBooks could not check it now
            invoice = synced.qb_invoice_id
            return "unchanged", f"Load {view.load_number} is synced (invoice {invoice}); {synced.note}.", {}
        if synced.state == "synced" and confirmed and synced.qb_invoice_id == view.qb_invoice_id:
            return (
                "unchanged",
                f"Load {view.load_number} is synced (QuickBooks invoice {synced.qb_invoice_id}): nothing to "
                "retry.",
                {},
            )
        if synced.state == "synced":
            return (
                "applied",
                f"Load {view.load_number} is synced (QuickBooks invoice {synced.qb_invoice_id}).",
                {"qb_invoice_id": synced.qb_invoice_id},
            )
        if synced.note:  # another worker holds the load: it is being pushed right now
            return "unchanged", f"Load {view.load_number} is being pushed right now: {synced.note}.", {}
        titles = "; ".join(catalogue.reason_title(r.code) for r in synced.reasons) or synced.state
        return "failed", f"Retried; load {view.load_number} still does not sync: {titles}.", {}

    def _last_push_synced(self, view: LoadView) -> bool:
        """Whether the load's last push ended synced (QuickBooks answered it)."""
        with Session(self.engine) as session:
            last = session.execute(
                sa.select(SyncAttempt.outcome)
                .where(SyncAttempt.load_id == view.id)
                .order_by(SyncAttempt.id.desc())
                .limit(1)
            ).scalar()
        return last == "synced"

    # -- customers ------------------------------------------------------------------------------

    def _link_customer(self, view: LoadView, options: _Options):
        wanted = _qb_id(options.customer_id, "link_customer needs --customer-id (a QuickBooks customer id)")
        customer = self.api.read("Customer", wanted)
        if customer is None:
            raise _Done("refused", f"QuickBooks has no customer {wanted}.")
        if not is_active(customer):
            raise _Done(
                "refused", f"QuickBooks customer {wanted} ({customer.get('DisplayName')}) is inactive."
            )
        tms = view.customer
        if tms.qb_customer_id == wanted:
            return "unchanged", f"{tms.name} is already linked to QuickBooks customer {wanted}.", {}
        self._set_customer(tms.id, qb_customer_id=wanted)
        brief = customer_brief(customer)
        return (
            "applied",
            f"Linked {tms.name} to QuickBooks customer {wanted} ({brief['name']}).",
            {"tms_customer": tms.id, "qb_customer_id": {"from": tms.qb_customer_id, "to": wanted}},
        )

    def _create_customer(self, view: LoadView, options: _Options):
        tms = view.customer
        customers = self.api.query_all("Customer", ALL_STATES)
        match = match_customer(tms.name, tms.qb_email, tms.qb_customer_id, customers)
        if match.customer is not None:
            if tms.qb_customer_id == match.customer["Id"]:
                return (
                    "unchanged",
                    f"{tms.name} is already in QuickBooks (customer {match.customer['Id']}).",
                    {},
                )
            self._set_customer(tms.id, qb_customer_id=match.customer["Id"])
            return (
                "applied",
                f"{tms.name} already exists in QuickBooks; linked it.",
                {"qb_customer_id": {"from": tms.qb_customer_id, "to": match.customer["Id"]}},
            )
        body: dict[str, Any] = {"DisplayName": tms.name, "CompanyName": tms.name}
        if tms.qb_email:
            body["PrimaryEmailAddr"] = {"Address": tms.qb_email}
        request_id = _request_id("create_customer", self._realm(), tms.id)
        try:
            created = self.api.create("Customer", body, request_id=request_id)
        except QboError as exc:
            if exc.code != "6240":
                raise
            choices = [customer_brief(c) for c in self._customers_named(tms.name)]
            where = (
                f"customer {choices[0]['id']} ({choices[0]['email'] or 'no email'})"
                if choices
                else "a vendor or employee"
            )
            raise _Done(
                "choice",
                f"QuickBooks already has {where} named “{tms.name}”. Link to it (link_customer), or rename "
                "the customer in the TMS and create it again.",
                choices=choices,
            ) from None
        self._set_customer(tms.id, qb_customer_id=created["Id"])
        return (
            "applied",
            f"Created QuickBooks customer {created['Id']} for {tms.name} and linked it.",
            {"created_qb_customer": customer_brief(created)},
        )

    def _customers_named(self, name: str) -> list[dict[str, Any]]:
        """QuickBooks customers called ``name`` (names compare without case). A curly quote never goes
        into a query: the part before it is matched with LIKE and the whole name compared here."""
        if needs_prefix_match(name):
            prefix = safe_prefix(name)
            where = f"DisplayName LIKE {quote(prefix + '%')} AND {ALL_STATES}" if prefix else ALL_STATES
        else:
            where = f"DisplayName = {quote(name)} AND {ALL_STATES}"
        rows = self.api.query_all("Customer", where)
        return [c for c in rows if str(c.get("DisplayName") or "").casefold() == name.casefold()]

    def _update_customer_email(self, view: LoadView, options: _Options):
        tms = view.customer
        if not options.email:
            customers = self.api.query_all("Customer")
            match = match_customer(tms.name, tms.qb_email, None, customers)
            choices = (
                match.evidence.get("candidates") or match.evidence.get("qb_customers_with_this_email") or []
            )
            raise _Done(
                "choice",
                f"Which email should {tms.name} use? Pass --email (QuickBooks candidates listed).",
                choices=[c for c in choices if c.get("email")],
            )
        email = clean_email(options.email)
        linked_ok = False
        if tms.qb_customer_id:
            linked = self.api.read("Customer", tms.qb_customer_id)
            linked_ok = linked is not None and is_active(linked)
        if normalize_email(tms.qb_email) == normalize_email(email) and (linked_ok or not tms.qb_customer_id):
            return "unchanged", f"{tms.name}'s QuickBooks email is already {email}.", {}
        self._set_customer(tms.id, qb_email=email, qb_customer_id=tms.qb_customer_id if linked_ok else None)
        return (
            "applied",
            f"Set {tms.name}'s QuickBooks email to {email} (was {tms.qb_email or 'empty'}).",
            {
                "tms_customer": tms.id,
                "qb_email": {"from": tms.qb_email, "to": email},
            },
        )

    def _set_customer(self, customer_id: str, **values: Any) -> None:
        with write_session(self.engine) as session:
            customer = session.get(Customer, customer_id)
            for name, value in values.items():
                setattr(customer, name, value)
            customer.updated_at = utcnow()

    # -- charge codes ---------------------------------------------------------------------------

    def _resync_charge_codes(self, view: LoadView, options: _Options):
        items = self.api.query_all("Item", ALL_STATES)
        changes: dict[str, Any] = {}
        choices: list[dict[str, Any]] = []
        for code, charge in sorted(view.codes.items()):
            match = match_item(charge.name, charge.qb_item_id, items)
            if match.item is not None:
                if charge.qb_item_id != match.item["Id"]:
                    changes[code] = {"linked": match.item["Id"]}
                self._link_code(code, match.item["Id"])
            elif match.problem == "duplicate":
                choices.append({"code": code, "name": charge.name, "qb_items": match.candidates})
                self._set_code_state(code, ChargeCodeState.DUPLICATE)
            elif match.problem == "inactive" and len(match.candidates) == 1:
                item = self._reactivate(
                    match.candidates[0]["id"], _scope("resync_charge_codes", view, options)
                )
                self._link_code(code, item["Id"])
                changes[code] = {"reactivated": item["Id"]}
            elif match.problem == "inactive":
                choices.append({"code": code, "name": charge.name, "qb_items": match.candidates})
            else:
                item = self._create_item(code, charge.name)
                items.append(item)
                self._link_code(code, item["Id"])
                changes[code] = {"created": item_brief(item)}
        if choices:
            raise _Done(
                "choice",
                catalogue.charge_codes_to_choose([(c["name"], len(c["qb_items"])) for c in choices]),
                changes=changes,
                choices=choices,
            )
        if not changes:
            return "unchanged", "Every charge code of this load is linked to one active QuickBooks item.", {}
        return "applied", _describe_code_changes(changes, view), changes

    def _map_charge_code(self, view: LoadView, options: _Options):
        code = (options.code or "").strip()
        if not code:
            raise UserInputError("map_charge_code needs --code (the TMS charge code) and --item-id")
        item_id = _qb_id(options.item_id, "map_charge_code needs --item-id (a QuickBooks item id)")
        with Session(self.engine) as session:
            charge = session.get(ChargeCode, code)
        if charge is None:
            raise UserInputError(f"there is no charge code {code!r} in the TMS")
        item = self.api.read("Item", item_id)
        if item is None:
            raise _Done("refused", f"QuickBooks has no item {item_id}.")
        if not is_active(item):
            raise _Done(
                "refused", f"QuickBooks item {item_id} ({item.get('FullyQualifiedName')}) is inactive."
            )
        if charge.qb_item_id == item_id and charge.sync_state == ChargeCodeState.SYNCED:
            return "unchanged", f"{code} is already mapped to QuickBooks item {item_id}.", {}
        self._link_code(code, item_id)
        full_name = item.get("FullyQualifiedName") or item.get("Name")
        return (
            "applied",
            f"Mapped {code} ({charge.name}) to QuickBooks item {item_id} ({full_name}).",
            {code: {"from": charge.qb_item_id, "to": item_id}},
        )

    def _create_item(self, code: str, name: str) -> dict[str, Any]:
        account = self._income_account()
        body = {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": account["Id"]}}
        return self.api.create("Item", body, request_id=_request_id("create_item", self._realm(), code))

    def _reactivate(self, item_id: str, scope: str) -> dict[str, Any]:
        item = self.api.read("Item", item_id)
        return self._sparse_update("Item", item, {"Active": True}, scope=scope)

    def _income_account(self) -> dict[str, Any]:
        accounts = self.api.query("SELECT * FROM Account WHERE AccountType = 'Income'").get("Account", [])
        if not accounts:
            raise _Done("failed", "QuickBooks has no income account to put new Products and Services on.")
        preferred = [a for a in accounts if (a.get("Name") or "").casefold() == "services"]
        return (preferred or accounts)[0]

    def _link_code(self, code: str, item_id: str) -> None:
        with write_session(self.engine) as session:
            charge = session.get(ChargeCode, code)
            if charge.qb_item_id != item_id or charge.sync_state != ChargeCodeState.SYNCED:
                charge.qb_item_id = item_id
                charge.sync_state = ChargeCodeState.SYNCED
                charge.sync_detail = None

    def _set_code_state(self, code: str, state: ChargeCodeState) -> None:
        with write_session(self.engine) as session:
            charge = session.get(ChargeCode, code)
            charge.sync_state = state

    # -- numbering --------------------------------------------------------------------------------

    def _set_doc_number(self, view: LoadView, options: _Options):
        if options.doc_number is None:
            offered = self.sync.suggest_doc_numbers(view, CompanySnapshot(self.api), limit=3)
            suggested = f" Suggested: {offered[0]}." if offered else ""
            raise _Done(
                "choice",
                f"Which QuickBooks invoice number should load {view.load_number} use (at most 21 "
                f"characters; the TMS keeps its number)?{suggested} Pass --doc-number.",
                choices=[{"doc_number": number} for number in offered],
            )
        wanted = clean_doc_number(options.doc_number)
        target = None if wanted == view.load_number else wanted
        if target == view.qb_doc_number:
            return "unchanged", f"Load {view.load_number} is already invoiced as {wanted}.", {}
        if view.qb_invoice_id:
            raise _Done(
                "refused",
                f"Load {view.load_number} already has QuickBooks invoice {view.qb_invoice_id} numbered "
                f"{view.doc_number}; change the number there (Sales > Invoices).",
            )
        other = used_by_other_loads(self.engine, wanted, view.id)
        if other is not None:
            whose = "the number" if other == wanted else "the QuickBooks invoice number"
            raise _Done("refused", f"{wanted} is {whose} of load {other}; choose another.")
        taken = [
            i
            for i in invoices.find_by_doc_number(self.api, wanted)
            if not invoices.is_ours(i, view.load_number)
        ]
        if taken:
            brief = invoices.invoice_brief(taken[0])
            raise _Done(
                "refused",
                f"QuickBooks already has invoice {wanted} (id {brief['qb_invoice_id']}, {brief['customer']}, "
                f"{money(brief['total'])}); choose another number.",
            )
        self._check_not_sent_as(view, view.doc_number)
        try:
            self._update_load(view, qb_doc_number=target)
        except sa.exc.IntegrityError:
            raise _Done("refused", f"{wanted} was just given to another load; choose another.") from None
        return (
            "applied",
            f"Load {view.load_number} will be invoiced in QuickBooks as {wanted} (the TMS keeps "
            f"{view.load_number}).",
            {"qb_doc_number": {"from": view.qb_doc_number, "to": target}},
        )

    def _check_not_sent_as(self, view: LoadView, doc_number: str) -> None:
        """Exactly once: an invoice an earlier attempt created under the old number is this load's."""
        if len(doc_number) > DOC_NUMBER_MAX:
            return
        ours = [
            i
            for i in invoices.find_by_doc_number(self.api, doc_number)
            if invoices.is_ours(i, view.load_number)
        ]
        if ours:
            raise _Done(
                "refused",
                f"QuickBooks already has this load's invoice {ours[0]['Id']} numbered {doc_number} (from "
                "an earlier attempt); retry to link it rather than number it again.",
            )

    def _enable_custom_txn_numbers(self, view: LoadView, options: _Options):
        prefs = self._preferences()
        if (prefs.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers"):
            retried = self._retry_blocked(view.load_number)
            return (
                "unchanged",
                "Custom transaction numbers are already on in QuickBooks." + _retried_words(retried),
                {"retried": retried} if retried else {},
            )
        by_hand = catalogue.REASON["custom_txn_numbers_off"].by_hand_text
        current = {"Id": prefs.get("Id", "1"), "SyncToken": prefs.get("SyncToken", "0")}
        try:
            updated = self._sparse_update(
                "Preferences",
                current,
                {"SalesFormsPrefs": {"CustomTxnNumbers": True}},
                reread=self._preferences,
                scope=_scope("enable_custom_txn_numbers", view, options),
            )
        except QboError as exc:
            if exc.kind in (Kind.NOT_CONNECTED, Kind.AUTH, Kind.THROTTLED, Kind.UNAVAILABLE):
                raise
            said = f"{exc.code}: {exc.detail or exc.message}" if exc.code else (exc.detail or exc.message)
            raise _Done(
                "failed",
                f"QuickBooks refused to change the setting ({said}). Switch it on by hand — {by_hand}",
                changes={"error": classify(exc).evidence},
            ) from None
        if not (updated.get("SalesFormsPrefs") or {}).get("CustomTxnNumbers"):
            raise _Done("failed", f"QuickBooks kept the setting off. Switch it on by hand — {by_hand}")
        retried = self._retry_blocked(view.load_number)
        return (
            "applied",
            "Turned on Custom transaction numbers in QuickBooks (Account and settings > Sales): invoices "
            "now carry the load numbers." + _retried_words(retried),
            {"CustomTxnNumbers": {"from": False, "to": True}, **({"retried": retried} if retried else {})},
        )

    def _preferences(self) -> dict[str, Any]:
        rows = self.api.query("SELECT * FROM Preferences").get("Preferences", [])
        return rows[0] if rows else {}

    def _retry_blocked(self, except_number: str) -> dict[str, str]:
        """Sync every other load the setting blocked (not dismissed); their states by load number."""
        blocked = [
            p.load_number
            for p in list_problems(self.engine)
            if p.load_number != except_number and any(r.code == "custom_txn_numbers_off" for r in p.reasons)
        ]
        results = self.sync.sync_many(blocked, trigger="fix:enable_custom_txn_numbers") if blocked else []
        return {r.load_number: r.state for r in results}

    # -- dismissal --------------------------------------------------------------------------------

    def _dismiss(self, view: LoadView, options: _Options):
        why = _dismiss_reason(options.reason)
        if view.dismissed:
            words = catalogue.dismissed_text(view.dismissed_by, view.dismissed_at, view.dismissed_reason)
            return "unchanged", f"Load {view.load_number} is already dismissed. {words}.", {}
        current = self.sync.current_result(view.load_number)
        if current.state == "synced":
            raise _Done(
                "refused",
                f"Load {view.load_number} is synced (QuickBooks invoice {current.qb_invoice_id}): there is "
                "nothing to dismiss; dismissing would not remove the invoice from QuickBooks.",
            )
        now = utcnow()
        self._update_load(view, dismissed_by=options.actor, dismissed_at=now, dismissed_reason=why)
        return (
            "applied",
            f"Dismissed load {view.load_number}: it is not synced, and leaves the problem list and the "
            f"digest. {catalogue.undismiss_hint(view.load_number)}",
            {"dismissed": {"by": options.actor, "at": now.isoformat(), "reason": why}},
        )

    def _undismiss(self, view: LoadView, options: _Options):
        if not view.dismissed:
            return "unchanged", f"Load {view.load_number} is not dismissed.", {}
        words = catalogue.dismissed_text(view.dismissed_by, view.dismissed_at, view.dismissed_reason)
        self._update_load(view, dismissed_by=None, dismissed_at=None, dismissed_reason=None)
        return (
            "applied",
            f"Restored load {view.load_number} ({words[0].lower()}{words[1:]}): it is back among the loads "
            "qbsync syncs.",
            {
                "dismissed": {
                    "from": {
                        "by": view.dismissed_by,
                        "at": view.dismissed_at.isoformat(),
                        "reason": view.dismissed_reason,
                    },
                    "to": None,
                }
            },
        )

    # -- invoices -------------------------------------------------------------------------------

    def _push_customer_change(self, view: LoadView, options: _Options):
        invoice = self._synced_invoice(view)
        customers = self.api.query_all("Customer", ALL_STATES)
        tms = view.customer
        match = match_customer(tms.name, tms.qb_email, tms.qb_customer_id, customers)
        if match.customer is None:
            raise _Done(
                "refused",
                f"{tms.name} is not synced to QuickBooks ({match.problem}); "
                "link or create the customer first.",
            )
        wanted = match.customer["Id"]
        current = (invoice.get("CustomerRef") or {}).get("value")
        if current == wanted and view.synced_customer_id == tms.id:
            return "unchanged", f"Invoice {invoice['Id']} is already for {tms.name}.", {}
        changes_to_send: dict[str, Any] = {"CustomerRef": {"value": wanted}}
        email = (match.customer.get("PrimaryEmailAddr") or {}).get("Address")
        if email:
            changes_to_send["BillEmail"] = {"Address": email}
        if not tms.qb_customer_id:  # first: a sync after a crash below knows the invoice is up to date
            self._set_customer(tms.id, qb_customer_id=wanted)
        if current != wanted:
            invoice = self._sparse_update(
                "Invoice", invoice, changes_to_send, scope=_scope("push_customer_change", view, options)
            )
        self._update_load(
            view, qb_customer_id=wanted, synced_customer_id=tms.id, qb_sync_token=invoice["SyncToken"]
        )
        return (
            "applied",
            f"Invoice {invoice['Id']} is now for {tms.name} (QuickBooks customer {wanted}).",
            {
                "qb_invoice_id": invoice["Id"],
                "CustomerRef": {"from": current, "to": wanted},
            },
        )

    def _push_invoice_update(self, view: LoadView, options: _Options):
        invoice = self._synced_invoice(view)
        qb_total = Decimal(str(invoice.get("TotalAmt", "0"))).quantize(Decimal("0.01"))
        if qb_total == view.total:
            self._update_load(view, synced_total=view.total)
            return "unchanged", f"Invoice {invoice['Id']} already totals {money(qb_total)}.", {}
        items = self.api.query_all("Item", ALL_STATES)
        item_ids: dict[str, str] = {}
        for code, charge in view.codes.items():
            match = match_item(charge.name, charge.qb_item_id, items)
            if match.item is None:
                raise _Done(
                    "refused",
                    f"Charge code {code} is {match.problem} in QuickBooks; resync charge codes first.",
                )
            item_ids[code] = match.item["Id"]
            self._link_code(code, match.item["Id"])
        body = invoices.invoice_body(view, (invoice.get("CustomerRef") or {}).get("value"), item_ids)
        updated = self._sparse_update(
            "Invoice", invoice, {"Line": body["Line"]}, scope=_scope("push_invoice_update", view, options)
        )
        self._update_load(view, synced_total=view.total, qb_sync_token=updated["SyncToken"])
        return (
            "applied",
            f"Invoice {invoice['Id']} lines replaced: total {money(qb_total)} → {money(view.total)}.",
            {
                "qb_invoice_id": invoice["Id"],
                "TotalAmt": {"from": str(qb_total), "to": str(view.total)},
            },
        )

    def _adopt_qb_invoice(self, view: LoadView, options: _Options):
        found = invoices.find_by_doc_number(self.api, view.doc_number)
        if not found:
            raise _Done("refused", f"QuickBooks has no invoice numbered {view.doc_number} to adopt.")
        invoice = found[0]
        if view.qb_invoice_id == invoice["Id"]:
            return "unchanged", f"Invoice {invoice['Id']} is already this load's invoice.", {}
        customers = self.api.query_all("Customer", ALL_STATES)
        tms = view.customer
        match = match_customer(tms.name, tms.qb_email, tms.qb_customer_id, customers)
        brief = invoices.invoice_brief(invoice)
        differences = []
        if match.customer is None:
            differences.append(f"the load's customer {tms.name} is not synced to QuickBooks")
        elif match.customer["Id"] != brief["qb_customer_id"]:
            differences.append(
                f"customer differs (QuickBooks: {brief['customer']}, load: {tms.name} = QuickBooks customer "
                f"{match.customer['Id']})"
            )
        if Decimal(brief["total"]) != view.total:
            differences.append(
                f"total differs (QuickBooks: {money(brief['total'])}, load: {money(view.total)})"
            )
        if differences:
            raise _Done("refused", f"Cannot adopt invoice {invoice['Id']}: " + "; ".join(differences) + ".")
        note = "\n".join(filter(None, [invoice.get("PrivateNote"), invoices.marker(view.load_number)]))
        if not invoices.is_ours(invoice, view.load_number):
            invoice = self._sparse_update(
                "Invoice", invoice, {"PrivateNote": note}, scope=_scope("adopt_qb_invoice", view, options)
            )
        now = utcnow()
        self._update_load(
            view,
            qb_invoice_id=invoice["Id"],
            qb_sync_token=invoice["SyncToken"],
            qb_customer_id=brief["qb_customer_id"],
            synced_customer_id=tms.id,
            synced_total=view.total,
            synced_at=now,
            state=LoadState.SYNCED,
            reasons=[],
            problem_since=None,
        )
        return (
            "applied",
            f"Adopted QuickBooks invoice {invoice['Id']} as load {view.load_number}'s invoice.",
            {
                "qb_invoice_id": invoice["Id"],
                "marked": True,
            },
        )

    def _clear_qb_id(self, view: LoadView, options: _Options):
        in_the_way = [
            inv
            for inv in invoices.find_by_doc_number(self.api, view.doc_number)
            if inv["Id"] != view.qb_invoice_id and not invoices.is_ours(inv, view.load_number)
        ]
        if in_the_way:
            ids = ", ".join(inv["Id"] for inv in in_the_way)
            raise _Done(
                "refused",
                f"Invoice {ids} numbered {view.doc_number} still exists in QuickBooks. "
                "Delete it there first (Sales > Invoices), then clear the QuickBooks ID.",
            )
        if view.qb_invoice_id:
            if self.api.read("Invoice", view.qb_invoice_id) is not None:
                return "unchanged", f"Nothing to clear: invoice {view.qb_invoice_id} is in QuickBooks.", {}
            self._update_load(
                view,
                **INVOICE_FORGOTTEN,
                state=LoadState.PENDING,
                sync_generation=view.sync_generation + 1,
            )
            return (
                "applied",
                f"Forgot QuickBooks invoice {view.qb_invoice_id} (verified gone); sending again.",
                {"qb_invoice_id": {"from": view.qb_invoice_id, "to": None}},
            )
        current = self.sync.current_result(view.load_number)
        if current.state == "synced":
            return "unchanged", "Nothing to clear: the load is synced.", {}
        if "duplicate_load_number" not in {r.code for r in current.reasons}:
            return (
                "unchanged",
                f"Nothing to clear: load {view.load_number} has no QuickBooks invoice, and none numbered "
                f"{view.doc_number} is in the way.",
                {},
            )
        self._update_load(view, sync_generation=view.sync_generation + 1)
        return (
            "applied",
            f"No invoice numbered {view.doc_number} is in the way any more; sending again.",
            {"verified_gone": True},
        )

    def _synced_invoice(self, view: LoadView) -> dict[str, Any]:
        if not view.qb_invoice_id:
            raise _Done("refused", f"Load {view.load_number} has no QuickBooks invoice yet; sync it first.")
        invoice = self.api.read("Invoice", view.qb_invoice_id)
        if invoice is None:
            raise _Done(
                "refused", f"Invoice {view.qb_invoice_id} no longer exists in QuickBooks (clear_qb_id)."
            )
        return invoice

    def _sparse_update(
        self,
        entity: str,
        current: dict[str, Any],
        values: dict[str, Any],
        reread: Callable[[], dict[str, Any] | None] | None = None,
        *,
        scope: str,
    ) -> dict[str, Any]:
        """A sparse update with the current SyncToken; on a stale token (5010) re-read and retry once.

        Each request carries a ``requestid`` made of ``scope`` (the fix, its load and its run), the record,
        the SyncToken it was read at and the values sent: a request repeated (a timeout, a lost answer,
        a run that died half-way) gets QuickBooks' first answer instead of a second write."""
        for attempt in range(2):
            body = {"Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True, **values}
            key = f"{entity}|{current['Id']}|{current['SyncToken']}|{_digest(values)}"
            request_id = _request_id(f"update|{scope}", self._realm(), key)
            try:
                with sending("fix_sent"):
                    return self.api.update(entity, body, request_id=request_id)
            except QboError as exc:
                if exc.kind is not Kind.STALE or attempt:
                    raise
                current = (reread() if reread else self.api.read(entity, current["Id"])) or current
        raise AssertionError("unreachable")

    def _update_load(self, view: LoadView, **values: Any) -> None:
        with write_session(self.engine) as session:
            load = session.get(Load, view.id)
            for name, value in values.items():
                setattr(load, name, value)
            load.updated_at = utcnow()
        crash_point("fix_commit")

    def _realm(self) -> str:
        return self.connection.status().realm_id or ""


def _qb_id(value: str | None, missing: str) -> str:
    value = (value or "").strip()
    if not value:
        raise UserInputError(missing)
    if not value.isdigit():
        raise UserInputError(f"QuickBooks ids are numbers, got {value!r}")
    return value


def _dismiss_reason(value: str | None) -> str:
    why = " ".join((value or "").split())
    if not why:
        raise UserInputError(
            "dismiss needs --reason: a short reason, e.g. 'invoiced by hand' or 'cancelled load'"
        )
    if find_forbidden_character(why) is not None:
        raise UserInputError("the reason contains a control character")
    if len(why) > catalogue.DISMISS_REASON_MAX:
        raise UserInputError(
            f"the reason has {len(why)} characters, at most {catalogue.DISMISS_REASON_MAX}: say it shortly"
        )
    return why


def _retried_words(retried: dict[str, str]) -> str:
    if not retried:
        return ""
    synced = sum(state == "synced" for state in retried.values())
    loads = catalogue.plural(len(retried), "other load")
    return f" Retried {loads} it blocked: {synced} synced."


def _request_id(kind: str, realm: str, key: str) -> str:
    return str(uuid.uuid5(FIX_NAMESPACE, f"{kind}|{realm}|{key}"))


def _scope(fix: str, view: LoadView, options: _Options) -> str:
    """What a fix's QuickBooks requests are keyed by: the fix, its load (none for a company-wide fix)
    and how many runs of it came before this one."""
    load = "*" if fix in COMPANY_WIDE else view.load_number
    return f"{fix}|{load}|{options.attempt}"


def _digest(values: dict[str, Any]) -> str:
    text = json.dumps(_jsonable(values), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _claim_names(fix: str, number: str) -> list[str]:
    """The locks a fix holds while it runs: its load's (every fix of one load in turn), and the fix's own
    for a fix of the company (``connect``; ``enable_custom_txn_numbers`` after its load's)."""
    if not FIX[fix].per_load:
        return [f"fix-all:{fix}"]
    return [f"fix:{number}", *([f"fix-all:{fix}"] if fix in COMPANY_WIDE else [])]


def _describe_code_changes(changes: dict[str, Any], view: LoadView) -> str:
    """What Resync charge codes did, naming each charge code as the TMS names it."""
    entries = []
    for code, change in changes.items():
        charge = view.codes.get(code)
        name = charge.name if charge is not None and charge.name else code
        if "created" in change:
            entries.append(("created", name, change["created"]["id"]))
        elif "reactivated" in change:
            entries.append(("reactivated", name, change["reactivated"]))
        else:
            entries.append(("linked", name, change["linked"]))
    return catalogue.charge_codes_resynced(entries)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
