"""Invoices in QuickBooks: the body qbsync sends, the marker that recognises ours, and lookups by number."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from services.quickbooks import QuickBooksApi
from services.quickbooks.escape import needs_prefix_match, quote, safe_prefix
from services.sync.results import LoadView

MARKER = "qbsync load {load_number}"
_MARKER = re.compile(r"qbsync load (?P<load>.+?)\s*$", re.MULTILINE)


def marker(load_number: str) -> str:
    return MARKER.format(load_number=load_number)


def is_ours(invoice: dict[str, Any], load_number: str) -> bool:
    """True when the invoice carries qbsync's marker for this load in its PrivateNote."""
    note = invoice.get("PrivateNote") or ""
    return any(m.group("load") == load_number for m in _MARKER.finditer(note))


def is_ours_live(invoice: dict[str, Any], load_number: str) -> bool:
    """Ours and not voided: an invoice a retry may adopt (a voided one only holds its number)."""
    return is_ours(invoice, load_number) and not is_voided(invoice)


def is_voided(invoice: dict[str, Any]) -> bool:
    """Voided in QuickBooks: the invoice stays, its amounts are zeroed and its memo starts "Voided"."""
    note = (invoice.get("PrivateNote") or "").lstrip()
    return note.startswith("Voided") and not invoice.get("TotalAmt")


def changed_by(record: dict[str, Any]) -> str | None:
    """Who last changed a QuickBooks record: their name when QuickBooks gives one (its API usually
    gives only a user id, which says nothing to a clerk and is left out)."""
    ref = (record.get("MetaData") or {}).get("LastModifiedByRef") or {}
    return ref.get("name") or None


def changed_at(record: dict[str, Any]) -> str | None:
    return (record.get("MetaData") or {}).get("LastUpdatedTime") or None


def doc_number_where(load_number: str) -> str:
    """A WHERE condition selecting invoices numbered ``load_number`` (a superset when it has a curly
    quote: those are never put in a query; the part before it is matched with LIKE instead)."""
    if needs_prefix_match(load_number):
        prefix = safe_prefix(load_number)
        return f"DocNumber LIKE {quote(prefix + '%')}" if prefix else ""
    return f"DocNumber = {quote(load_number)}"


def doc_number_select(load_number: str) -> str:
    where = doc_number_where(load_number)
    return "SELECT * FROM Invoice" + (f" WHERE {where}" if where else "") + " MAXRESULTS 1000"


def numbered(rows: list[dict[str, Any]], load_number: str) -> list[dict[str, Any]]:
    """The rows whose DocNumber is exactly ``load_number``."""
    return [row for row in rows if row.get("DocNumber") == load_number]


def find_by_doc_number(api: QuickBooksApi, load_number: str) -> list[dict[str, Any]]:
    """Invoices whose DocNumber is exactly ``load_number``."""
    return numbered(api.query_all("Invoice", doc_number_where(load_number)), load_number)


def invoice_body(view: LoadView, customer_id: str, item_ids: dict[str, str]) -> dict[str, Any]:
    lines = []
    for position, (code, description, amount) in enumerate(view.charges, start=1):
        lines.append(
            {
                "LineNum": position,
                "DetailType": "SalesItemLineDetail",
                "Amount": amount,
                "Description": description or view.codes[code].name,
                "SalesItemLineDetail": {"ItemRef": {"value": item_ids[code]}, "Qty": 1, "UnitPrice": amount},
            }
        )
    return {
        "DocNumber": view.doc_number,
        "TxnDate": view.invoice_date.isoformat(),
        "CustomerRef": {"value": customer_id},
        "PrivateNote": marker(view.load_number),
        "Line": lines,
    }


def invoice_brief(invoice: dict[str, Any]) -> dict[str, Any]:
    customer = invoice.get("CustomerRef") or {}
    total = Decimal(str(invoice.get("TotalAmt", "0"))).quantize(Decimal("0.01"))
    return {
        "qb_invoice_id": invoice.get("Id"),
        "doc_number": invoice.get("DocNumber"),
        "customer": customer.get("name") or f"customer {customer.get('value')}",
        "qb_customer_id": customer.get("value"),
        "total": str(total),
        "date": invoice.get("TxnDate"),
        "created": (invoice.get("MetaData") or {}).get("CreateTime"),
    }
