"""What a push reads, finds and answers: the load as read once, the outcome, the result, and the
QuickBooks request ids derived from them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.diagnosis.reasons import Reason
from services.quickbooks import QboError
from services.store.models import ChargeCode, ChargeCodeState, Customer

REQUEST_NAMESPACE = uuid.UUID("6f1d5a43-8b0e-4c1e-9a55-3b0c1f6d7e21")


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
    problem_since: dt.datetime | None = None
    was_synced: bool = False  # synced when read: a check that cannot be made leaves it so

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
    intuit_tid: str | None = None  # of the request that answered this push (a batch's, for its items)
    customer_caught_up: bool = False  # the invoice already names the load's current customer


def request_id_for(realm_id: str, load_number: str, generation: int, doc_number: str | None = None) -> str:
    """The same load, company, generation and invoice number always give the same 36-character request
    id; another invoice number (``set_doc_number``) gives another id, so QuickBooks never answers a
    create with an invoice numbered otherwise."""
    key = f"{realm_id}|{load_number}|{generation}"
    if doc_number and doc_number != load_number:
        key += f"|{doc_number}"
    return str(uuid.uuid5(REQUEST_NAMESPACE, key))


def batch_request_id(realm_id: str, items: list[tuple[str, dict[str, Any]]]) -> str:
    """The 36-character ``requestid`` of a batch of creates: derived from the company, each item's own
    request id (load, sync generation, invoice number) and the bodies sent. The same batch sent again
    (a lost answer, a crash) gets QuickBooks' first answer back; any other batch gets another id."""
    digest = hashlib.sha256()
    for request_id, body in items:
        digest.update(request_id.encode())
        digest.update(json.dumps(body, sort_keys=True, default=str).encode())
    return str(uuid.uuid5(REQUEST_NAMESPACE, f"{realm_id}|batch|{digest.hexdigest()}"))
