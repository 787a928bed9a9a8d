"""Name-list entities: Customer, Item and Account.

* Customer ``DisplayName`` is unique across customers, compared case-insensitively (6240).
  When absent it is built from the name parts or CompanyName, as QuickBooks does.
* Item ``Name`` is unique only among siblings (same parent, or both top-level) and compared
  exactly, so "Chassis" under two parents, or "Fuel Surcharge" and "fuel  surcharge" at top level,
  can coexist. ``FullyQualifiedName`` is "Parent:Child". Service and NonInventory items need an
  ``IncomeAccountRef``.
* Account ``Name`` is unique among accounts (case-insensitive).

None of them can be deleted: QuickBooks makes them inactive instead (``Active: false``).
"""

from __future__ import annotations

from typing import Any

from emulator import errors
from emulator.defaults import CLASSIFICATION_BY_TYPE, USD
from emulator.records import (
    boolean,
    decimal,
    existing_for_update,
    is_sparse,
    present,
    ref_value,
    resolve_ref,
    text,
    writable,
)
from emulator.state import Realm

NAME_MAX = 100
DISPLAY_NAME_MAX = 500

# --- Customer -----------------------------------------------------------------------------------

CUSTOMER_WRITABLE = (
    "DisplayName",
    "Title",
    "GivenName",
    "MiddleName",
    "FamilyName",
    "Suffix",
    "CompanyName",
    "PrintOnCheckName",
    "PrimaryEmailAddr",
    "PrimaryPhone",
    "AlternatePhone",
    "Mobile",
    "Fax",
    "WebAddr",
    "BillAddr",
    "ShipAddr",
    "Notes",
    "Active",
    "Taxable",
    "ResaleNum",
    "PreferredDeliveryMethod",
    "SalesTermRef",
    "PaymentMethodRef",
)
CUSTOMER_TEXT = (
    "Title",
    "GivenName",
    "MiddleName",
    "FamilyName",
    "Suffix",
    "CompanyName",
    "Notes",
    "ResaleNum",
)
CUSTOMER_OBJECTS = (
    "PrimaryPhone",
    "AlternatePhone",
    "Mobile",
    "Fax",
    "WebAddr",
    "BillAddr",
    "ShipAddr",
    "SalesTermRef",
    "PaymentMethodRef",
)


def _display_name(fields: dict[str, Any]) -> str:
    name = text(fields, "DisplayName")
    if name is None:
        parts = [text(fields, key) for key in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        name = " ".join(part for part in parts if part) or text(fields, "CompanyName")
    if name is None or not name.strip():
        raise errors.required_missing("DisplayName")
    if len(name) > DISPLAY_NAME_MAX:
        raise errors.string_length("DisplayName", DISPLAY_NAME_MAX, len(name))
    return name


def _build_customer(realm: Realm, fields: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    name = _display_name(fields)
    for other in realm.all("Customer"):
        if other["Id"] != own_id and other["DisplayName"].casefold() == name.casefold():
            raise errors.duplicate_name(other["Id"])
    customer: dict[str, Any] = {}
    for key in CUSTOMER_TEXT:
        value = text(fields, key)
        if value is not None:
            customer[key] = value
    customer.update(
        {
            "DisplayName": name,
            "FullyQualifiedName": name,
            "PrintOnCheckName": text(fields, "PrintOnCheckName") or name,
            "Active": boolean(fields, "Active", True),
            "Taxable": boolean(fields, "Taxable", False),
            "Job": False,
            "BillWithParent": False,
            "IsProject": False,
            "Balance": 0,
            "BalanceWithJobs": 0,
            "CurrencyRef": dict(USD),
            "PreferredDeliveryMethod": text(fields, "PreferredDeliveryMethod") or "Print",
        }
    )
    email = fields.get("PrimaryEmailAddr")
    if isinstance(email, dict) and present(email.get("Address")):
        customer["PrimaryEmailAddr"] = {"Address": str(email["Address"]).strip()}
    for key in CUSTOMER_OBJECTS:
        if isinstance(fields.get(key), dict) and fields[key]:
            customer[key] = fields[key]
    return customer


# --- Item ---------------------------------------------------------------------------------------

ITEM_WRITABLE = (
    "Name",
    "Description",
    "Active",
    "SubItem",
    "ParentRef",
    "Type",
    "IncomeAccountRef",
    "ExpenseAccountRef",
    "UnitPrice",
    "Taxable",
    "Sku",
    "PurchaseDesc",
    "PurchaseCost",
)
ITEM_TYPES = ("Service", "NonInventory")


def _children(realm: Realm, parent_id: str) -> list[dict[str, Any]]:
    return [item for item in realm.all("Item") if (item.get("ParentRef") or {}).get("value") == parent_id]


def _check_not_descendant(realm: Realm, own_id: str | None, parent: dict[str, Any]) -> None:
    node: dict[str, Any] | None = parent
    while node is not None and own_id is not None:
        if node["Id"] == own_id:
            raise errors.business_validation("An item cannot be its own parent or ancestor.", "ParentRef")
        parent_id = (node.get("ParentRef") or {}).get("value")
        node = realm.get("Item", parent_id) if parent_id else None


def _build_item(realm: Realm, fields: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    name = text(fields, "Name")
    if name is None or not name.strip():
        raise errors.required_missing("Name")
    if len(name) > NAME_MAX:
        raise errors.string_length("Name", NAME_MAX, len(name))
    item_type = text(fields, "Type") or "Service"
    if item_type not in ITEM_TYPES:
        raise errors.invalid_property(f"Type '{item_type}' is not supported (Service, NonInventory)", "Type")
    income = resolve_ref(realm, "Account", ref_value(fields, "IncomeAccountRef"), "IncomeAccountRef")
    parent_id = ref_value(fields, "ParentRef")
    parent = None
    if boolean(fields, "SubItem", False) or parent_id is not None:
        parent = resolve_ref(realm, "Item", parent_id, "ParentRef")
        _check_not_descendant(realm, own_id, parent)
    for sibling in _children(realm, parent["Id"]) if parent else realm.all("Item"):
        if sibling["Id"] != own_id and sibling["Name"] == name and (parent or not sibling.get("ParentRef")):
            raise errors.duplicate_name(sibling["Id"])
    item: dict[str, Any] = {
        "Name": name,
        "FullyQualifiedName": f"{parent['FullyQualifiedName']}:{name}" if parent else name,
        "Active": boolean(fields, "Active", True),
        "SubItem": parent is not None,
        "Type": item_type,
        "Taxable": boolean(fields, "Taxable", False),
        "UnitPrice": decimal(fields["UnitPrice"], "UnitPrice") if present(fields.get("UnitPrice")) else 0,
        "TrackQtyOnHand": False,
        "IncomeAccountRef": {"value": income["Id"], "name": income["FullyQualifiedName"]},
    }
    if parent:
        item["ParentRef"] = {"value": parent["Id"], "name": parent["FullyQualifiedName"]}
        item["Level"] = int(parent.get("Level", 0)) + 1
    for key in ("Description", "Sku", "PurchaseDesc"):
        if text(fields, key) is not None:
            item[key] = text(fields, key)
    if present(fields.get("PurchaseCost")):
        item["PurchaseCost"] = decimal(fields["PurchaseCost"], "PurchaseCost")
    if isinstance(fields.get("ExpenseAccountRef"), dict) and ref_value(fields, "ExpenseAccountRef"):
        expense = resolve_ref(realm, "Account", ref_value(fields, "ExpenseAccountRef"), "ExpenseAccountRef")
        item["ExpenseAccountRef"] = {"value": expense["Id"], "name": expense["FullyQualifiedName"]}
    return item


def _refresh_descendants(realm: Realm, parent: dict[str, Any]) -> None:
    """Keep children's FullyQualifiedName/Level/ParentRef.name in step after a parent changes."""
    for child in _children(realm, parent["Id"]):
        child["ParentRef"] = {"value": parent["Id"], "name": parent["FullyQualifiedName"]}
        child["FullyQualifiedName"] = f"{parent['FullyQualifiedName']}:{child['Name']}"
        child["Level"] = int(parent.get("Level", 0)) + 1
        _refresh_descendants(realm, child)


# --- Account ------------------------------------------------------------------------------------

ACCOUNT_WRITABLE = ("Name", "AccountType", "AccountSubType", "Description", "AcctNum", "Active")


def _build_account(realm: Realm, fields: dict[str, Any], own_id: str | None) -> dict[str, Any]:
    name = text(fields, "Name")
    if name is None or not name.strip():
        raise errors.required_missing("Name")
    if len(name) > NAME_MAX:
        raise errors.string_length("Name", NAME_MAX, len(name))
    acct_type = text(fields, "AccountType")
    if acct_type is None:
        raise errors.required_missing("AccountType")
    if acct_type not in CLASSIFICATION_BY_TYPE:
        raise errors.invalid_property(f"AccountType '{acct_type}' is not valid", "AccountType")
    for other in realm.all("Account"):
        if other["Id"] != own_id and other["Name"].casefold() == name.casefold():
            raise errors.duplicate_name(other["Id"])
    account: dict[str, Any] = {
        "Name": name,
        "SubAccount": False,
        "FullyQualifiedName": name,
        "Active": boolean(fields, "Active", True),
        "Classification": CLASSIFICATION_BY_TYPE[acct_type],
        "AccountType": acct_type,
        "CurrentBalance": 0,
        "CurrentBalanceWithSubAccounts": 0,
        "CurrencyRef": dict(USD),
    }
    for key in ("AccountSubType", "Description", "AcctNum"):
        if text(fields, key) is not None:
            account[key] = text(fields, key)
    return account


# --- create / update ----------------------------------------------------------------------------

BUILDERS = {
    "Customer": (CUSTOMER_WRITABLE, _build_customer),
    "Item": (ITEM_WRITABLE, _build_item),
    "Account": (ACCOUNT_WRITABLE, _build_account),
}


def create(realm: Realm, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    keys, build = BUILDERS[entity]
    return realm.insert(entity, build(realm, writable(body, keys), None))


def update(realm: Realm, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    keys, build = BUILDERS[entity]
    existing = existing_for_update(realm, entity, body)
    fields = {**writable(existing, keys), **writable(body, keys)} if is_sparse(body) else writable(body, keys)
    built = build(realm, fields, existing["Id"])
    record = {key: existing[key] for key in ("Id", "SyncToken", "MetaData", "domain")}
    record.update({"sparse": False, **built})
    record = realm.replace(entity, record)
    if entity == "Item":
        _refresh_descendants(realm, record)
    return record
