"""Reasons from QuickBooks' answers: not connected, a duplicate number, drift of a synced invoice, and
``classify`` for any failure (a single create's and a batch item's alike)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services import catalogue
from services.diagnosis.reasons import Reason
from services.quickbooks import Kind, QboError
from services.sync import invoices
from services.sync.results import LoadView


def not_connected_reason(state: str, detail: str | None) -> Reason:
    evidence: dict[str, Any] = {"connection": state}
    if detail:
        evidence["detail"] = detail
    return Reason("qb_not_connected", catalogue.summary_not_connected(state, detail), evidence)


def duplicate_reason(doc_number: str, invoice: dict[str, Any]) -> Reason:
    evidence = invoices.invoice_brief(invoice)
    if invoices.is_voided(invoice):  # QuickBooks keeps a voided invoice and its number
        evidence["voided"] = True
        summary = catalogue.summary_number_held_by_voided(doc_number, evidence["qb_invoice_id"])
        return Reason("duplicate_load_number", summary, evidence, fixes=["set_doc_number"])
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
    elif not adopted and view.qb_customer_id and _customer_of(invoice) not in (None, view.qb_customer_id):
        reasons.append(moved_in_quickbooks(view, invoice))
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


def _customer_of(invoice: dict[str, Any]) -> str | None:
    return (invoice.get("CustomerRef") or {}).get("value")


def moved_in_quickbooks(view: LoadView, invoice: dict[str, Any]) -> Reason:
    """The invoice was moved to another customer in QuickBooks (the load's customer did not change)."""
    now = invoice.get("CustomerRef") or {}
    return Reason(
        "customer_changed",
        catalogue.summary_customer_changed_in_quickbooks(
            view.load_number,
            invoice["Id"],
            now.get("name") or f"customer {now.get('value')}",
            view.customer.name,
        ),
        {
            "synced_customer": {
                "tms_id": view.synced_customer_id,
                "name": view.synced_customer_name,
                "qb_customer_id": view.qb_customer_id,
            },
            "current_customer": {"tms_id": view.customer.id, "name": view.customer.name},
            "qb_customer_now": {"id": now.get("value"), "name": now.get("name")},
            "qb_invoice_id": invoice["Id"],
            "changed_in": "quickbooks",
            "changed_by": invoices.changed_by(invoice),
            "changed_at": invoices.changed_at(invoice),
        },
    )


def voided_reason(view: LoadView, invoice: dict[str, Any]) -> Reason:
    by, at = invoices.changed_by(invoice), invoices.changed_at(invoice)
    return Reason(
        "qb_invoice_voided",
        catalogue.summary_qb_invoice_voided(
            invoice["Id"], view.load_number, by, catalogue.when(at) if at else None
        ),
        {
            "qb_invoice_id": invoice["Id"],
            "changed_by": by,
            "changed_at": at,
            "synced_total": str(view.total),
        },
    )


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
