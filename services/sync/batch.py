"""Invoices created 30 to a QuickBooks batch request.

Each item is the invoice a single create would send (with the load's marker) and its ``bId`` is the
load's id. The batch carries a ``requestid`` derived from its contents and the loads' sync
generations (``batch_request_id``): a batch sent again after a lost answer or a crash gets QuickBooks'
first answer back and creates nothing twice. Each item's answer becomes the load's outcome exactly as
a single create's would: an invoice, or a Fault classified by the same rules (6140 looks up the
invoice in the way). A load whose item QuickBooks refused moves to its next sync generation, so the
next batch it is in is a new request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from services.crashpoints import crash_point, sending
from services.quickbooks import Kind, QboError, QuickBooksApi
from services.quickbooks.errors import from_fault
from services.sync import invoices
from services.sync.answers import classify, duplicate_reason
from services.sync.results import LoadView, Outcome, batch_request_id

log = logging.getLogger(__name__)


@dataclass
class Create:
    view: LoadView
    outcome: Outcome
    body: dict[str, Any]
    customer_id: str
    request_id: str  # the load's own, as a single create would send it

    @property
    def bid(self) -> str:
        return str(self.view.id)


def create_invoices(api: QuickBooksApi, realm_id: str, creates: list[Create]) -> None:
    """Send ``creates`` (at most one batch) and put each answer in its outcome."""
    if not creates:
        return
    request_id = batch_request_id(realm_id, [(c.request_id, c.body) for c in creates])
    items = [{"bId": c.bid, "operation": "create", "Invoice": c.body} for c in creates]
    for create in creates:
        create.outcome.request_id = request_id
    try:
        with sending("batch_sent"):
            answers = api.batch(items, request_id=request_id)
    except QboError as exc:
        for create in creates:
            _failed(api, create, exc, whole_batch=True)
        return
    crash_point("batch_answered")
    tid = api.last_intuit_tid
    for create in creates:
        create.outcome.intuit_tid = tid
        answer = answers.get(create.bid)
        if answer is not None and "Invoice" in answer:
            create.outcome.invoice = answer["Invoice"]
            create.outcome.qb_customer_id = create.customer_id
        elif answer is not None and "Fault" in answer:
            _failed(api, create, from_fault(answer["Fault"], tid), whole_batch=False)
        else:
            missing = QboError(
                Kind.UNAVAILABLE, "QuickBooks answered the batch without this invoice", intuit_tid=tid
            )
            _failed(api, create, missing, whole_batch=False)


def _failed(api: QuickBooksApi, create: Create, exc: QboError, *, whole_batch: bool) -> None:
    outcome = create.outcome
    outcome.error = exc
    # A refused item was not created: its load moves on to a new request id (and so does any batch it
    # is in next). A whole batch that failed may have been committed: only a definite refusal moves on.
    if not whole_batch or (not exc.transient and exc.kind is not Kind.NOT_CONNECTED):
        outcome.bump_generation = True
    if exc.code == "6140":
        doc_number = create.view.doc_number
        try:
            duplicates = invoices.find_by_doc_number(api, doc_number)
        except QboError as lookup:
            log.info("looking up invoice %s after a 6140 failed: %s", doc_number, lookup)
            duplicates = []
        if duplicates:
            outcome.reasons.append(duplicate_reason(doc_number, duplicates[0]))
            return
    outcome.reasons.append(classify(exc))
