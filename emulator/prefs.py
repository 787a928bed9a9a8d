"""Company Preferences: read, and (sparse or full) update with a current SyncToken.

Only a subset of preferences is writable in QuickBooks; the emulator merges whatever sections are
sent into the stored preferences (nested objects merged, lists replaced) after checking types of
the one that matters to invoicing, ``SalesFormsPrefs.CustomTxnNumbers``.
"""

from __future__ import annotations

from typing import Any

from emulator import errors
from emulator.records import SYSTEM_KEYS, deep_merge, present
from emulator.state import Realm


def _check(changes: dict[str, Any]) -> None:
    sales = changes.get("SalesFormsPrefs")
    if sales is None:
        return
    if not isinstance(sales, dict):
        raise errors.invalid_property("SalesFormsPrefs must be an object", "SalesFormsPrefs")
    if "CustomTxnNumbers" in sales and not isinstance(sales["CustomTxnNumbers"], bool):
        raise errors.invalid_property(
            "SalesFormsPrefs.CustomTxnNumbers must be a boolean", "SalesFormsPrefs.CustomTxnNumbers"
        )


def merge_overrides(realm: Realm, overrides: dict[str, Any]) -> dict[str, Any]:
    """Apply preference overrides without a SyncToken (used by the admin seed endpoint)."""
    changes = {key: value for key, value in overrides.items() if key not in SYSTEM_KEYS}
    _check(changes)
    record = deep_merge(realm.preferences, changes)
    return realm.replace("Preferences", record)


def update(realm: Realm, body: dict[str, Any]) -> dict[str, Any]:
    current = realm.preferences
    token = body.get("SyncToken")
    if not present(token):
        raise errors.required_missing("SyncToken")
    if str(token).strip() != current["SyncToken"]:
        raise errors.stale_object()
    return merge_overrides(realm, body)
