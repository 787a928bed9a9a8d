"""Building situations for tests: TMS data through the import service, QuickBooks data through the
real python-quickbooks client (``svc.api``), exactly as a person or another app would create it."""

from __future__ import annotations

from typing import Any

from services.tms.importer import import_data

CUSTOMERS = [
    {"id": "C-100", "name": "Acme Foods", "qb_email": "ap@acme.example"},
    {"id": "C-200", "name": "Blue Harbor Imports", "qb_email": "billing@blueharbor.example"},
]
CHARGE_CODES = [
    {"code": "BASE", "name": "Base Price"},
    {"code": "FSC", "name": "Fuel Surcharge"},
    {"code": "CHASSIS", "name": "Chassis"},
]


def tms(engine, loads: list[dict[str, Any]] | None = None, **sections: Any) -> None:
    data = {
        "customers": sections.get("customers", CUSTOMERS),
        "charge_codes": sections.get("charge_codes", CHARGE_CODES),
        "loads": loads or [],
    }
    import_data(engine, data)


def load(
    number: str, customer: str = "C-100", charges: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    charges = charges or [("BASE", "850.00"), ("FSC", "127.50")]
    return {
        "load_number": number,
        "customer_id": customer,
        "invoice_date": "2026-11-20",
        "charges": [
            {"code": code, "description": f"{code} charge", "amount": amount} for code, amount in charges
        ],
    }


def income_account(api) -> str:
    rows = api.query("SELECT * FROM Account WHERE AccountType = 'Income'").get("Account", [])
    return rows[0]["Id"]


def qb_item(api, name: str, *, parent: dict | None = None, active: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Name": name,
        "Type": "Service",
        "IncomeAccountRef": {"value": income_account(api)},
    }
    if parent is not None:
        body.update({"SubItem": True, "ParentRef": {"value": parent["Id"]}})
    item = api.create("Item", body)
    if not active:
        item = api.update(
            "Item", {"Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": True, "Active": False}
        )
    return item


def qb_customer(api, name: str, email: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"DisplayName": name}
    if email:
        body["PrimaryEmailAddr"] = {"Address": email}
    return api.create("Customer", body)


def qb_company(api) -> dict[str, Any]:
    """The standard company: both customers and all charge codes present once."""
    return {
        "customers": {c["id"]: qb_customer(api, c["name"], c["qb_email"]) for c in CUSTOMERS},
        "items": {c["code"]: qb_item(api, c["name"]) for c in CHARGE_CODES},
    }


def qb_invoices(api, doc_number: str | None = None) -> list[dict[str, Any]]:
    rows = api.query_all("Invoice")
    return [r for r in rows if doc_number is None or r.get("DocNumber") == doc_number]


def set_custom_txn_numbers(api, on: bool) -> None:
    prefs = api.query("SELECT * FROM Preferences")["Preferences"][0]
    api.update(
        "Preferences",
        {
            "Id": prefs.get("Id", "1"),
            "SyncToken": prefs["SyncToken"],
            "sparse": True,
            "SalesFormsPrefs": {"CustomTxnNumbers": on},
        },
    )
