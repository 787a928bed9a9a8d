"""Helpers shared by the entity rules: values, references, SyncToken checks, sparse merges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from emulator import errors
from emulator.state import Realm

CENT = Decimal("0.01")


def present(value: Any) -> bool:
    """QuickBooks treats null and the empty string alike: 'no value'."""
    return value is not None and value != ""


def text(body: dict[str, Any], key: str) -> str | None:
    """An optional string property, or None when absent/empty."""
    value = body.get(key)
    if not present(value):
        return None
    if isinstance(value, bool | dict | list):
        raise errors.invalid_property(f"{key} must be a string", key)
    return str(value)


def boolean(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key)
    if not present(value):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise errors.invalid_property(f"{key} must be a boolean", key)


def decimal(value: Any, element: str) -> Decimal:
    """A money/quantity value sent as a JSON number or numeric string."""
    if isinstance(value, bool) or not present(value):
        raise errors.invalid_property(f"{element}: not a number", element)
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise errors.invalid_property(
            f"{element}: Can not construct instance of java.math.BigDecimal from String value '{value}'",
            element,
        ) from exc
    if not number.is_finite():
        raise errors.invalid_property(f"{element}: not a finite number", element)
    return number


def money(value: Any, element: str) -> Decimal:
    return decimal(value, element).quantize(CENT, rounding=ROUND_HALF_UP)


def ref_value(body: dict[str, Any], key: str) -> str | None:
    """The ``value`` of a reference property (``{"value": "12", "name": ...}``), or None."""
    ref = body.get(key)
    if ref is None or ref == "":
        return None
    if isinstance(ref, dict):
        value = ref.get("value")
        return str(value).strip() if present(value) else None
    if isinstance(ref, str | int):
        return str(ref)
    raise errors.invalid_property(f"{key} must be a reference object", key)


def resolve_ref(
    realm: Realm, entity: str, ref_id: str | None, element: str, must_be_active: bool = True
) -> dict[str, Any]:
    """Look up a referenced record: unknown -> 2500, inactive -> 610, both naming ``element``."""
    if ref_id is None:
        raise errors.required_missing(element)
    record = realm.get(entity, ref_id)
    if record is None:
        raise errors.invalid_reference(entity, ref_id, element)
    if must_be_active and not record.get("Active", True):
        raise errors.object_not_found(element, f"{entity} {ref_id} is inactive")
    return record


def existing_for_update(realm: Realm, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """The stored record an update/delete targets, after the Id and SyncToken checks."""
    record_id = body.get("Id")
    if not present(record_id):
        raise errors.required_missing("Id")
    record = realm.get(entity, record_id)
    if record is None:
        raise errors.object_not_found("Id", f"{entity} Id={record_id}")
    token = body.get("SyncToken")
    if not present(token):
        raise errors.required_missing("SyncToken")
    if str(token).strip() != record["SyncToken"]:
        raise errors.stale_object()
    return record


def is_sparse(body: dict[str, Any]) -> bool:
    value = body.get("sparse")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into a copy of ``base``; nested objects are merged, lists replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


SYSTEM_KEYS = ("Id", "SyncToken", "MetaData", "domain", "sparse")


def writable(body: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The client-writable properties present in a request body."""
    return {key: body[key] for key in keys if key in body}
