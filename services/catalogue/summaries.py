"""The one sentence of each reason, filled in from its evidence (``summary_*``), and what QuickBooks'
own refusals stand for (``QUICKBOOKS_SAYS``)."""

from __future__ import annotations

from typing import Any

from services.catalogue.connection import connection_words
from services.catalogue.values import money


def summary_not_connected(state: str, detail: str | None = None) -> str:
    if state == "broken":
        return f"QuickBooks disconnected: {detail or 'Intuit refused the stored connection; connect again'}"
    text = connection_words(state)
    return f"{text}: {detail}" if detail else text


def summary_qb_invoice_deleted(qb_invoice_id: str, load_number: str) -> str:
    return f"Invoice {qb_invoice_id} for load {load_number} is no longer in QuickBooks"


def summary_doc_number_too_long(doc_number: str, max_length: int, suggested: str | None = None) -> str:
    text = (
        f"Load number {doc_number} has {len(doc_number)} characters; QuickBooks invoice numbers hold "
        f"at most {max_length}"
    )
    return f"{text} (suggested invoice number: {suggested})" if suggested else text


def summary_custom_txn_numbers_off(doc_number: str) -> str:
    return (
        "Custom transaction numbers are off in QuickBooks, so the invoice would not carry "
        f"the number {doc_number}"
    )


def summary_duplicate_load_number(doc_number: str, brief: dict[str, Any]) -> str:
    return (
        f"QuickBooks already has invoice {doc_number} (id {brief['qb_invoice_id']}, {brief['customer']}, "
        f"{money(brief['total'])}, {brief['date']}) that qbsync did not create"
    )


def summary_customer_changed(load_number: str, now_for: str, qb_invoice_id: str, was_for: str) -> str:
    return f"Load {load_number} is now for {now_for}, but invoice {qb_invoice_id} was synced for {was_for}"


def summary_amount_mismatch(qb_invoice_id: str, qb_total: Any, tms_total: Any) -> str:
    return f"QuickBooks invoice {qb_invoice_id} totals {money(qb_total)}, the load totals {money(tms_total)}"


_CHARGE_CODE_PROBLEM = {
    "missing": "is not in QuickBooks Products and Services",
    "duplicate": "appears more than once in QuickBooks Products and Services",
    "inactive": "is inactive in QuickBooks Products and Services",
}


def summary_charge_code(name: str, problem: str | None, code: str | None = None) -> str:
    label = f"{code} ({name})" if code else name
    return f"{label} {_CHARGE_CODE_PROBLEM.get(problem or 'missing', 'is not synced')}"


def summary_load_not_found(number: str, near: list[str], doc_number_of: str | None = None) -> str:
    if doc_number_of:
        return f"No load {number!r}; it is the QuickBooks invoice number of load {doc_number_of}"
    return f"No load {number!r}" + (f"; did you mean {', '.join(near)}?" if near else "")


# What QuickBooks' own refusals stand for; ``{message}`` and ``{code}`` come from its Fault.
QUICKBOOKS_SAYS = {
    "qb_not_connected": "QuickBooks refused the connection: {message}",
    "qb_throttled": "QuickBooks is limiting requests (HTTP 429); retry in a minute",
    "qb_unavailable": "QuickBooks did not answer: {message}",
    "charge_codes_not_synced": "QuickBooks says a charge code's item does not exist or is inactive",
    "customer_not_synced": "QuickBooks says the customer does not exist or is inactive",
    "doc_number_too_long": "QuickBooks says the invoice number is too long",
    "duplicate_load_number": "QuickBooks says the invoice number is already used",
    "qb_validation_error": "QuickBooks rejected the invoice (code {code}): {message}",
}


def summary_quickbooks_says(code: str, message: str = "", qb_code: str | None = None) -> str:
    return QUICKBOOKS_SAYS[code].format(message=message, code=qb_code or "?")
