"""The bodies of webhook deliveries, as Intuit sends them, and their ``intuit-signature``.

CloudEvents (Intuit's current format): a JSON array with one event per change::

    [{"specversion": "1.0", "id": "<uuid>", "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
      "type": "qbo.invoice.updated.v1", "datacontenttype": "application/json",
      "time": "2026-12-03T10:00:00.123Z", "intuitentityid": "42", "intuitaccountid": "<realm id>",
      "data": {}}]

Legacy: one notification per company, in the order the companies first appear::

    {"eventNotifications": [{"realmId": "<realm id>", "dataChangeEvent": {"entities": [
        {"name": "Invoice", "id": "42", "operation": "Update", "lastUpdated": "2026-12-03T10:00:00.123Z"}]}}]}

The timestamps are the moment of the change with milliseconds; the record's
``MetaData.LastUpdatedTime`` is the same moment to the second.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable
from typing import Any

from emulator.changes import Change

SOURCE = "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU="
PAST_TENSE = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Void": "voided",
    "Merge": "merged",
}
SIGNATURE_HEADER = "intuit-signature"


def cloud_event(change: Change) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": SOURCE,
        "type": f"qbo.{change.entity.lower()}.{PAST_TENSE[change.operation]}.v1",
        "datacontenttype": "application/json",
        "time": change.moment_text(),
        "intuitentityid": change.entity_id,
        "intuitaccountid": change.realm_id,
        "data": {},
    }


def legacy(changes: Iterable[Change]) -> dict[str, Any]:
    by_realm: dict[str, list[dict[str, Any]]] = {}
    for change in changes:
        by_realm.setdefault(change.realm_id, []).append(
            {
                "name": change.entity,
                "id": change.entity_id,
                "operation": change.operation,
                "lastUpdated": change.moment_text(),
            }
        )
    return {
        "eventNotifications": [
            {"realmId": realm_id, "dataChangeEvent": {"entities": entities}}
            for realm_id, entities in by_realm.items()
        ]
    }


def body(changes: list[Change], fmt: str) -> bytes:
    """The raw body of one delivery (compact JSON, UTF-8)."""
    document: Any = legacy(changes) if fmt == "legacy" else [cloud_event(c) for c in changes]
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def signature(verifier: str, raw: bytes) -> str:
    """``intuit-signature``: base64 of HMAC-SHA256 of the raw body keyed with the verifier token."""
    digest = hmac.new(verifier.encode("utf-8"), raw, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
