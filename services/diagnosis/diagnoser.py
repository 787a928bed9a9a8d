"""Diagnose one load: every reason that applies now, checked afresh against QuickBooks, with evidence
and the fixes that apply, in the order they must be fixed.

The QuickBooks lookups a diagnosis needs (company preferences, customers, items, invoices carrying the
load number, the synced invoice) go out as one batch request; only a company with more than 1,000
customers or items costs extra pages. ``qb_requests`` reports how many requests it took.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from services import catalogue
from services.diagnosis.reasons import Reason, ordered
from services.quickbooks import Kind, QboError
from services.quickbooks.escape import in_list
from services.store.models import FixAudit, LoadRetry, SyncAttempt, utcnow
from services.sync import LoadView, SyncEngine, classify, not_connected_reason
from services.sync.company import ALL_STATES, CompanySnapshot
from services.sync.docnumbers import DOC_NUMBER_MAX, candidates
from services.sync.invoices import doc_number_select, numbered
from services.tms.loadnumbers import clean_load_number

PAGE = 1000


@dataclass
class Diagnosis:
    load_number: str
    state: str  # synced | problem | pending | not_found
    qb_invoice_id: str | None
    reasons: list[Reason] = field(default_factory=list)
    qb_requests: int = 0
    checked_at: dt.datetime = field(default_factory=utcnow)
    note: str | None = None
    doc_number: str | None = None  # the QuickBooks invoice number, when it is not the load number
    dismissed: dict[str, Any] | None = None  # {"by", "at", "reason"} while the load is dismissed
    payment: dict[str, str] | None = None  # {"total", "balance", "status": paid | partly_paid, "words"}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "load_number": self.load_number,
            "state": self.state,
            "qb_invoice_id": self.qb_invoice_id,
            "reasons": [r.to_dict() for r in self.reasons],
            "qb_requests": self.qb_requests,
        }
        if self.doc_number:
            data["qb_doc_number"] = self.doc_number
        if self.dismissed:
            data["dismissed"] = {**self.dismissed, "at": self.dismissed["at"].isoformat()}
        if self.payment:
            data["payment"] = {key: value for key, value in self.payment.items() if key != "words"}
        return data


class Diagnoser:
    def __init__(self, sync: SyncEngine) -> None:
        self.sync = sync
        self.api = sync.api

    def diagnose(self, load_number: str) -> Diagnosis:
        number = clean_load_number(load_number)
        start = self.api.request_count
        view = self.sync.read_view(number)
        if view is None:
            missing = self.sync.not_found(number)
            return Diagnosis(number, "not_found", None, missing.reasons)
        reasons, invoice = self._check(view)
        state = "problem" if reasons else ("synced" if view.qb_invoice_id else "pending")
        note = None
        dismissed = None
        if view.dismissed:
            dismissed = {"by": view.dismissed_by, "at": view.dismissed_at, "reason": view.dismissed_reason}
            note = catalogue.undismiss_hint(view.load_number)
        elif state == "pending":
            note = "Nothing blocks this load: it is ready to sync (Retry)."
        if not view.dismissed and state != "synced":
            note = " ".join(filter(None, [self._restored_note(view.load_number), note])) or None
        return Diagnosis(
            view.load_number,
            state,
            view.qb_invoice_id,
            reasons,
            qb_requests=self.api.request_count - start,
            note=note,
            doc_number=view.qb_doc_number,
            dismissed=dismissed,
            payment=_payment(invoice),
        )

    def _restored_note(self, number: str) -> str | None:
        """The note left when a TMS change brought a dismissed load back, while it is the last word."""
        with Session(self.sync.engine) as session:
            last = session.exec(
                select(FixAudit).where(FixAudit.load_number == number).order_by(FixAudit.id.desc()).limit(1)
            ).first()
        if last and last.fix == "undismiss" and (last.changes or {}).get("changed_in_tms"):
            return last.detail
        return None

    def _check(self, view: LoadView) -> tuple[list[Reason], dict[str, Any] | None]:
        """The reasons that apply, and the load's QuickBooks invoice as read (None: none, or not read)."""
        status = self.sync.connection.status()
        if not status.connected:
            return [not_connected_reason(status.state.value, status.broken_reason)], None
        company = CompanySnapshot(self.api)
        try:
            self._prefetch(view, company)
        except QboError as exc:
            return [classify(exc)], None
        outcome = self.sync.evaluate(view, company)
        reasons = list(outcome.reasons)
        reasons.extend(self._only_known_by_trying(view, reasons))
        invoice = outcome.invoice or (company.invoice(view.qb_invoice_id) if view.qb_invoice_id else None)
        return ordered(reasons), invoice

    def _prefetch(self, view: LoadView, company: CompanySnapshot) -> None:
        """One batch request for everything the checks read."""
        items: list[dict[str, Any]] = [
            {"bId": "preferences", "Query": "SELECT * FROM Preferences"},
        ]
        if view.qb_invoice_id:
            invoice_id = _digits(view.qb_invoice_id)
            items.append({"bId": "invoice", "Query": f"SELECT * FROM Invoice WHERE Id = '{invoice_id}'"})
        else:
            items += [
                {"bId": "numbered", "Query": doc_number_select(view.doc_number)},
                {"bId": "customers", "Query": f"SELECT * FROM Customer WHERE {ALL_STATES} MAXRESULTS {PAGE}"},
                {"bId": "items", "Query": f"SELECT * FROM Item WHERE {ALL_STATES} MAXRESULTS {PAGE}"},
            ]
            if len(view.doc_number) > DOC_NUMBER_MAX:  # the short forms a suggestion may use
                shorts = f"DocNumber IN {in_list(candidates(view.load_number))}"
                items.append(
                    {"bId": "shorts", "Query": f"SELECT * FROM Invoice WHERE {shorts} MAXRESULTS {PAGE}"}
                )
        answers = self.api.batch(items)
        rows = {bid: _rows(answer, bid) for bid, answer in answers.items()}
        prefs = rows.get("preferences") or [{}]
        company.prime(preferences=prefs[0])
        if view.qb_invoice_id:
            found = rows.get("invoice") or []
            company.prime(invoices_by_id={view.qb_invoice_id: found[0] if found else None})
            return
        company.prime(numbered={view.doc_number: numbered(rows.get("numbered", []), view.doc_number)})
        if "shorts" in rows:
            company.prime(numbered={n: numbered(rows["shorts"], n) for n in candidates(view.load_number)})
        for name in ("customers", "items"):
            page = rows.get(name, [])
            if len(page) < PAGE:  # a full page means there may be more: let the snapshot page them
                company.prime(**{name: page})

    def _only_known_by_trying(self, view: LoadView, found: list[Reason]) -> list[Reason]:
        """A rejection QuickBooks gave at the last attempt cannot be re-checked without trying again:
        keep it (marked as from the last attempt) while nothing else explains the failure."""
        if view.qb_invoice_id or found:
            return []
        kept = []
        for data in self.sync.recorded_reasons(view.id):
            if data.get("code") == "qb_validation_error":
                reason = Reason.from_dict(data)
                reason.evidence = {**reason.evidence, "from_last_attempt": True}
                kept.append(reason)
            elif data.get("code") in catalogue.TRANSIENT:  # throttled or down: when, and when again
                reason = Reason.from_dict(data)
                failed_at, retry_at = self._retry_times(view.id)
                reason.evidence = {
                    **reason.evidence,
                    "from_last_attempt": True,
                    "failed_at": failed_at,
                    "retry_at": retry_at,
                }
                kept.append(reason)
        return kept

    def _retry_times(self, load_id: int) -> tuple[str | None, str | None]:
        """When the load's last attempt ended, and when the automatic sync tries it again (its back-off;
        None: with the next automatic sync), as ISO times."""
        with Session(self.sync.engine) as session:
            failed = session.exec(
                select(SyncAttempt.finished_at, SyncAttempt.started_at)
                .where(SyncAttempt.load_id == load_id)
                .order_by(SyncAttempt.id.desc())
                .limit(1)
            ).first()
            retry = session.get(LoadRetry, load_id)
            retry_at = retry.next_attempt_at if retry is not None else None
        failed_at = (failed[0] or failed[1]) if failed else None
        return _iso(failed_at), _iso(retry_at)


def _payment(invoice: dict[str, Any] | None) -> dict[str, str] | None:
    """What was paid on the invoice in QuickBooks, when anything was."""
    if not invoice or invoice.get("status") == "Deleted":
        return None
    words = catalogue.payment_words(invoice.get("TotalAmt"), invoice.get("Balance"))
    if words is None:
        return None
    total, balance = str(invoice.get("TotalAmt")), str(invoice.get("Balance"))
    status = "paid" if float(balance) <= 0 else "partly_paid"
    return {"total": total, "balance": balance, "status": status, "words": words}


def _rows(answer: dict[str, Any], bid: str) -> list[dict[str, Any]]:
    if "Fault" in answer:
        error = (answer["Fault"].get("Error") or [{}])[0]
        raise QboError(
            kind=Kind.VALIDATION,
            message=error.get("Message", f"batch item {bid} failed"),
            code=str(error.get("code", "")),
            detail=error.get("Detail", ""),
            element=error.get("element", ""),
        )
    response = answer.get("QueryResponse") or {}
    return next((value for value in response.values() if isinstance(value, list)), [])


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return (value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value).isoformat()


def _digits(value: str) -> str:
    if not value.isdigit():
        raise ValueError(f"QuickBooks ids are numeric, got {value!r}")
    return value
