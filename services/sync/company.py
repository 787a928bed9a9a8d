"""A per-run view of the QuickBooks company: preferences, customers, items, fetched once when needed.

A bulk sync of a thousand loads reads the customer and item lists once, not a thousand times (reads
are metered by Intuit). ``invalidate`` drops what a fix has changed.
"""

from __future__ import annotations

from typing import Any

from services.quickbooks import QuickBooksApi
from services.quickbooks.escape import in_list
from services.sync import invoices

# QuickBooks lists only active customers and items unless the query filters on Active.
ALL_STATES = "Active IN (true, false)"


class CompanySnapshot:
    def __init__(self, api: QuickBooksApi) -> None:
        self.api = api
        self._preferences: dict[str, Any] | None = None
        self._customers: list[dict[str, Any]] | None = None
        self._items: list[dict[str, Any]] | None = None
        self._numbered: dict[str, list[dict[str, Any]]] = {}
        self._invoices: dict[str, dict[str, Any] | None] = {}

    def preferences(self) -> dict[str, Any]:
        if self._preferences is None:
            rows = self.api.query("SELECT * FROM Preferences").get("Preferences", [])
            self._preferences = rows[0] if rows else {}
        return self._preferences

    def custom_txn_numbers(self) -> bool:
        prefs = self.preferences().get("SalesFormsPrefs") or {}
        return bool(prefs.get("CustomTxnNumbers", False))

    def customers(self) -> list[dict[str, Any]]:
        if self._customers is None:
            self._customers = self.api.query_all("Customer", ALL_STATES)
        return self._customers

    def items(self) -> list[dict[str, Any]]:
        if self._items is None:
            self._items = self.api.query_all("Item", ALL_STATES)
        return self._items

    def invoices_numbered(self, doc_number: str) -> list[dict[str, Any]]:
        """Invoices whose DocNumber is exactly ``doc_number``."""
        if doc_number not in self._numbered:
            self._numbered[doc_number] = invoices.find_by_doc_number(self.api, doc_number)
        return self._numbered[doc_number]

    def prefetch_numbered(self, doc_numbers: list[str]) -> None:
        """Look up invoices carrying any of ``doc_numbers`` (no curly quotes) in one query."""
        missing = [n for n in dict.fromkeys(doc_numbers) if n not in self._numbered]
        if not missing:
            return
        rows = self.api.query_all("Invoice", f"DocNumber IN {in_list(missing)}")
        for number in missing:
            self._numbered[number] = invoices.numbered(rows, number)

    def prefetch_invoices(self, invoice_ids: list[str]) -> None:
        """Read the invoices ``invoice_ids`` in one query (absent ones are remembered as deleted)."""
        missing = [i for i in dict.fromkeys(invoice_ids) if i not in self._invoices and i.isdigit()]
        if not missing:
            return
        rows = self.api.query_all("Invoice", f"Id IN {in_list(missing)}")
        found = {row["Id"]: row for row in rows}
        for invoice_id in missing:
            self._invoices[invoice_id] = found.get(invoice_id)

    def invoice(self, invoice_id: str) -> dict[str, Any] | None:
        """One invoice by id, or None when it no longer exists."""
        if invoice_id not in self._invoices:
            self._invoices[invoice_id] = self.api.read("Invoice", invoice_id)
        return self._invoices[invoice_id]

    def invalidate(self, *what: str) -> None:
        """Forget what a change made stale ("preferences", "customers", "items", "invoices")."""
        for name in what or ("preferences", "customers", "items", "invoices"):
            if name == "invoices":
                self._numbered.clear()
                self._invoices.clear()
            else:
                setattr(self, f"_{name}", None)

    def prime(
        self,
        *,
        preferences: dict[str, Any] | None = None,
        customers: list[dict[str, Any]] | None = None,
        items: list[dict[str, Any]] | None = None,
        numbered: dict[str, list[dict[str, Any]]] | None = None,
        invoices_by_id: dict[str, dict[str, Any] | None] | None = None,
    ) -> None:
        """Seed the cache with data already fetched (e.g. by one batch request)."""
        if preferences is not None:
            self._preferences = preferences
        if customers is not None:
            self._customers = customers
        if items is not None:
            self._items = items
        self._numbered.update(numbered or {})
        self._invoices.update(invoices_by_id or {})
