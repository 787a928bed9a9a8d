"""Invoices in QuickBooks: the body qbsync sends, the marker that recognises ours, and lookups by number."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from services.quickbooks import QuickBooksApi
from services.quickbooks.escape import needs_prefix_match, quote, safe_prefix

if TYPE_CHECKING:
    from services.sync import LoadView

MARKER = "qbsync load {load_number}"
_MARKER = re.compile(r"qbsync load (?P<load>.+?)\s*$", re.MULTILINE)


def marker(load_number: str) -> str:
    return MARKER.format(load_number=load_number)


def is_ours(invoice: dict[str, Any], load_number: str) -> bool:
    """True when the invoice carries qbsync's marker for this load in its PrivateNote."""
    note = invoice.get("PrivateNote") or ""
    return any(m.group("load") == load_number for m in _MARKER.finditer(note))


def find_by_doc_number(api: QuickBooksApi, load_number: str) -> list[dict[str, Any]]:
    """Invoices whose DocNumber is exactly ``load_number`` (quotes and backslashes escaped; curly
    quotes matched by a LIKE on the safe prefix and compared here)."""
    if needs_prefix_match(load_number):
        prefix = safe_prefix(load_number)
        where = f"DocNumber LIKE {quote(prefix + '%')}" if prefix else ""
        rows = api.query_all("Invoice", where)
    else:
        rows = api.query(f"SELECT * FROM Invoice WHERE DocNumber = {quote(load_number)}").get("Invoice", [])
    return [row for row in rows if row.get("DocNumber") == load_number]


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
        "DocNumber": view.load_number,
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
