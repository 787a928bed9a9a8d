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

from services.company import ALL_STATES, CompanySnapshot
from services.invoices import doc_number_select, numbered
from services.loadnumbers import clean_load_number
from services.models import utcnow
from services.quickbooks import Kind, QboError
from services.reasons import Reason, ordered
from services.sync import LoadView, SyncEngine, classify, not_connected_reason

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_number": self.load_number,
            "state": self.state,
            "qb_invoice_id": self.qb_invoice_id,
            "reasons": [r.to_dict() for r in self.reasons],
            "qb_requests": self.qb_requests,
        }


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
        reasons = self._check(view)
        state = "problem" if reasons else ("synced" if view.qb_invoice_id else "pending")
        note = None
        if state == "pending":
            note = "Nothing blocks this load: it is ready to sync (Retry)."
        return Diagnosis(
            view.load_number,
            state,
            view.qb_invoice_id,
            reasons,
            qb_requests=self.api.request_count - start,
            note=note,
        )

    def _check(self, view: LoadView) -> list[Reason]:
        status = self.sync.connection.status()
        if not status.connected:
            return [not_connected_reason(status.state.value, status.broken_reason)]
        company = CompanySnapshot(self.api)
        try:
            self._prefetch(view, company)
        except QboError as exc:
            return [classify(exc)]
        outcome = self.sync.evaluate(view, company)
        reasons = list(outcome.reasons)
        reasons.extend(self._only_known_by_trying(view, reasons))
        return ordered(reasons)

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
                {"bId": "numbered", "Query": doc_number_select(view.load_number)},
                {"bId": "customers", "Query": f"SELECT * FROM Customer WHERE {ALL_STATES} MAXRESULTS {PAGE}"},
                {"bId": "items", "Query": f"SELECT * FROM Item WHERE {ALL_STATES} MAXRESULTS {PAGE}"},
            ]
        answers = self.api.batch(items)
        rows = {bid: _rows(answer, bid) for bid, answer in answers.items()}
        prefs = rows.get("preferences") or [{}]
        company.prime(preferences=prefs[0])
        if view.qb_invoice_id:
            found = rows.get("invoice") or []
            company.prime(invoices_by_id={view.qb_invoice_id: found[0] if found else None})
            return
        company.prime(numbered={view.load_number: numbered(rows.get("numbered", []), view.load_number)})
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
        return kept


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


def _digits(value: str) -> str:
    if not value.isdigit():
        raise ValueError(f"QuickBooks ids are numeric, got {value!r}")
    return value
