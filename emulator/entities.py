"""One entry point for entity operations, used by the REST endpoints, batch and the seed endpoint.

``operate(realm, entity, operation, body)`` returns the object to put under the entity's name in
the response, or raises :class:`emulator.errors.QBOError`.
"""

from __future__ import annotations

import copy
from typing import Any

from emulator import errors, invoices, names, payments, prefs
from emulator.state import ENTITY_NAMES, Realm

BY_LOWER = {name.lower(): name for name in ENTITY_NAMES}
WRITABLE_ENTITIES = ("Invoice", "Customer", "Item", "Account", "Payment")
OPERATIONS = ("create", "update", "delete", "void")


def canonical(name: str) -> str | None:
    """The entity name as QuickBooks spells it, from any capitalisation."""
    return BY_LOWER.get(name.strip().lower())


def operate(
    realm: Realm, entity: str, operation: str, body: Any, allow_duplicate_doc: bool = False
) -> dict[str, Any]:
    """Create, update, delete or void (Invoice, Payment); ``operation`` is one of OPERATIONS."""
    if not isinstance(body, dict):
        raise errors.invalid_property(f"{entity} must be a JSON object")
    if entity == "Preferences" and operation == "update":
        return copy.deepcopy(prefs.update(realm, body))
    if entity not in WRITABLE_ENTITIES:
        raise errors.unsupported_operation(f"{operation.capitalize()} {entity}")
    if operation == "delete":
        if entity == "Invoice":
            return invoices.delete(realm, body)
        if entity == "Payment":
            return payments.delete(realm, body)
        raise errors.unsupported_operation(f"Delete {entity}")
    if operation == "void":
        if entity == "Invoice":
            record = invoices.void(realm, body)
        elif entity == "Payment":
            record = payments.void(realm, body)
        else:
            raise errors.unsupported_operation(f"Void {entity}")
    elif operation == "create":
        if entity == "Invoice":
            record = invoices.create(realm, body, allow_duplicate_doc)
        elif entity == "Payment":
            record = payments.create(realm, body)
        else:
            record = names.create(realm, entity, body)
    elif operation == "update":
        if entity == "Invoice":
            record = invoices.update(realm, body, allow_duplicate_doc)
        elif entity == "Payment":
            record = payments.update(realm, body)
        else:
            record = names.update(realm, entity, body)
    else:
        raise errors.unsupported_operation(operation)
    return copy.deepcopy(record)


def save(realm: Realm, entity: str, body: Any, allow_duplicate_doc: bool = False) -> dict[str, Any]:
    """POST to an entity endpoint without ``operation``: an Id in the body means update."""
    operation = "update" if isinstance(body, dict) and body.get("Id") not in (None, "") else "create"
    return operate(realm, entity, operation, body, allow_duplicate_doc)


def read(realm: Realm, entity: str, record_id: str) -> dict[str, Any]:
    """GET one record; unknown or deleted ids are 610 Object Not Found."""
    if entity == "CompanyInfo" and record_id in (realm.realm_id, "1"):
        return copy.deepcopy(realm.company_info)
    record = realm.get(entity, record_id)
    if record is None:
        raise errors.object_not_found("Id", f"{entity} Id={record_id}")
    return copy.deepcopy(record)
