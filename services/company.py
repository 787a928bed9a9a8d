"""A per-run view of the QuickBooks company: preferences, customers, items, fetched once when needed.

A bulk sync of a thousand loads reads the customer and item lists once, not a thousand times (reads
are metered by Intuit). ``invalidate`` drops what a fix has changed.
"""

from __future__ import annotations

from typing import Any

from services.quickbooks import QuickBooksApi

# QuickBooks lists only active customers and items unless the query filters on Active.
ALL_STATES = "Active IN (true, false)"


class CompanySnapshot:
    def __init__(self, api: QuickBooksApi) -> None:
        self.api = api
        self._preferences: dict[str, Any] | None = None
        self._customers: list[dict[str, Any]] | None = None
        self._items: list[dict[str, Any]] | None = None

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

    def invalidate(self, *what: str) -> None:
        for name in what or ("preferences", "customers", "items"):
            setattr(self, f"_{name}", None)

    def prime(self, **data: Any) -> None:
        """Seed the cache with data already fetched (e.g. by one batch request)."""
        for name, value in data.items():
            setattr(self, f"_{name}", value)
