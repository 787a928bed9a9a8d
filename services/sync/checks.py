"""The checks of a push, each adding its reasons to the load's ``Outcome``: before a create, the
company's numbering, an invoice already numbered like the load (ours: adopted; someone else's:
``duplicate_load_number``), the customer and the charge codes (``prepare``); for an invoice synced
before, whether it is still there, for the right customer and amount (``verify``, ``check_synced``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from services import catalogue
from services.catalogue import reason_title
from services.diagnosis.reasons import Reason
from services.fixes.matching import match_customer, match_item
from services.store.models import ChargeCodeState
from services.sync import invoices
from services.sync.answers import drift_reasons, duplicate_reason, voided_reason
from services.sync.company import CompanySnapshot
from services.sync.docnumbers import DOC_NUMBER_MAX, candidates, suggestions, used_by_other_loads
from services.sync.results import LoadView, Outcome


def verify(view: LoadView, company: CompanySnapshot, outcome: Outcome) -> None:
    """An invoice was synced before: is it still there, for the right customer and amount?"""
    invoice = company.invoice(view.qb_invoice_id)
    if invoice is not None and view.synced_customer_id and view.synced_customer_id != view.customer.id:
        # The customer changed in the TMS. If the invoice already names the new customer (a
        # ``push_customer_change`` that reached QuickBooks but was not recorded), record it.
        linked = view.customer.qb_customer_id
        if linked and (invoice.get("CustomerRef") or {}).get("value") == linked:
            outcome.customer_caught_up = True
            outcome.qb_customer_id = linked
    check_synced(view, invoice, outcome)


def check_synced(view: LoadView, invoice: dict[str, Any] | None, outcome: Outcome) -> None:
    if invoice is None or invoice.get("status") == "Deleted":  # a deletion as change data capture tells it
        evidence = {"qb_invoice_id": view.qb_invoice_id}
        if invoice is not None:
            evidence.update(changed_by=invoices.changed_by(invoice), changed_at=invoices.changed_at(invoice))
        outcome.reasons.append(
            Reason(
                "qb_invoice_deleted",
                catalogue.summary_qb_invoice_deleted(view.qb_invoice_id, view.load_number),
                evidence,
            )
        )
        return
    outcome.invoice = invoice
    if invoices.is_voided(invoice):
        outcome.reasons.append(voided_reason(view, invoice))
        return
    outcome.reasons.extend(drift_reasons(view, invoice, adopted=outcome.customer_caught_up))


def prepare(
    engine: Engine, view: LoadView, company: CompanySnapshot, outcome: Outcome
) -> tuple[str, dict[str, Any]] | None:
    """Every check before a create; (QuickBooks customer id, invoice body) when nothing is in the
    way, else None with the reasons (or the invoice of an earlier attempt, adopted) in ``outcome``."""
    numbering_ok = True
    doc_number = view.doc_number
    if len(doc_number) > DOC_NUMBER_MAX:
        numbering_ok = False
        outcome.reasons.append(too_long_reason(engine, view, company))
    if not company.custom_txn_numbers():
        numbering_ok = False
        outcome.reasons.append(
            Reason(
                "custom_txn_numbers_off",
                catalogue.summary_custom_txn_numbers_off(doc_number),
                {"preference": "SalesFormsPrefs.CustomTxnNumbers", "value": False},
            )
        )
    if numbering_ok:
        existing = company.invoices_numbered(doc_number)
        # a voided invoice of ours is never adopted again: it holds the number, nothing more
        ours = [
            inv for inv in existing if invoices.is_ours(inv, view.load_number) and not invoices.is_voided(inv)
        ]
        if ours:
            outcome.invoice = ours[0]
            outcome.note = f"found invoice {ours[0]['Id']} created by an earlier attempt; linked it"
            outcome.qb_customer_id = (ours[0].get("CustomerRef") or {}).get("value")
            outcome.reasons.extend(drift_reasons(view, ours[0], adopted=True))
            return None
        if existing:
            outcome.reasons.append(duplicate_reason(doc_number, existing[0]))

    customer_id = _resolve_customer(view, company, outcome)
    item_ids = _resolve_items(view, company, outcome)
    if outcome.reasons or customer_id is None:
        return None
    return customer_id, invoices.invoice_body(view, customer_id, item_ids)


def too_long_reason(engine: Engine, view: LoadView, company: CompanySnapshot) -> Reason:
    """``doc_number_too_long`` with a suggested short invoice number that no other load uses and
    no QuickBooks invoice carries."""
    suggested = suggest_doc_numbers(engine, view, company)
    evidence: dict[str, Any] = {
        "load_number": view.load_number,
        "length": len(view.doc_number),
        "max": DOC_NUMBER_MAX,
    }
    if suggested:
        evidence["suggested_doc_number"] = suggested[0]
    summary = catalogue.summary_doc_number_too_long(view.doc_number, DOC_NUMBER_MAX)
    return Reason("doc_number_too_long", summary, evidence)


def suggest_doc_numbers(
    engine: Engine, view: LoadView, company: CompanySnapshot, limit: int = 1
) -> list[str]:
    company.prefetch_numbered(candidates(view.load_number))

    def taken(number: str) -> bool:
        if used_by_other_loads(engine, number, view.id):
            return True
        return any(not invoices.is_ours(i, view.load_number) for i in company.invoices_numbered(number))

    return suggestions(view.load_number, taken, limit)


def _resolve_customer(view: LoadView, company: CompanySnapshot, outcome: Outcome) -> str | None:
    customer = view.customer
    match = match_customer(customer.name, customer.qb_email, customer.qb_customer_id, company.customers())
    if match.customer is None:
        outcome.reasons.append(
            Reason(
                "customer_not_synced",
                match.problem or reason_title("customer_not_synced"),
                match.evidence,
            )
        )
        return None
    outcome.qb_customer_id = match.customer["Id"]
    return match.customer["Id"]


def _resolve_items(view: LoadView, company: CompanySnapshot, outcome: Outcome) -> dict[str, str]:
    links: dict[str, str] = {}
    problems = []
    for code, charge in sorted(view.codes.items()):
        match = match_item(charge.name, charge.qb_item_id, company.items())
        if match.item is not None:
            links[code] = match.item["Id"]
            outcome.item_links[code] = match.item["Id"]
            continue
        state = {
            "missing": ChargeCodeState.MISSING,
            "duplicate": ChargeCodeState.DUPLICATE,
            "inactive": ChargeCodeState.INACTIVE,
        }[match.problem or "missing"]
        outcome.code_states[code] = (state, catalogue.summary_charge_code(charge.name, match.problem))
        problems.append(
            {"code": code, "name": charge.name, "problem": match.problem, "qb_items": match.candidates}
        )
    if problems:
        words = "; ".join(catalogue.summary_charge_code(p["name"], p["problem"], p["code"]) for p in problems)
        outcome.reasons.append(Reason("charge_codes_not_synced", words, {"charge_codes": problems}))
    return links


def looks_changed(row: Any, invoice: dict[str, Any] | None) -> bool:
    """Whether a synced load's invoice, as read, may differ from what the load says (the whole check
    decides): gone or voided, another total or customer, or the load's customer changed in the TMS."""
    if invoice is None or invoices.is_voided(invoice):
        return True
    total = Decimal(str(invoice.get("TotalAmt", "0"))).quantize(Decimal("0.01"))
    if int(total * 100) != int(row.total_cents or 0):
        return True
    customer = (invoice.get("CustomerRef") or {}).get("value")
    return customer != row.qb_customer_id or (
        row.synced_customer_id is not None and row.synced_customer_id != row.customer_id
    )
