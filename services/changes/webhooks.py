"""Intuit's change notifications (``POST /qbo/webhooks``): the signature, and the two forms of body.

Intuit signs each delivery with ``intuit-signature``: base64 of HMAC-SHA256 of the raw body, keyed with
the app's verifier token. It sends either the CloudEvents form (a JSON array of events, each
``{"specversion": "1.0", "id", "type": "qbo.invoice.deleted.v1", "time", "intuitentityid",
"intuitaccountid", …}``) or, while it still does, the legacy form (``{"eventNotifications": [{"realmId",
"dataChangeEvent": {"entities": [{"name", "id", "operation", "lastUpdated"}]}}]}``). One delivery may
name several companies and entities. Notifications carry ids only: what changed is read afterwards.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "intuit-signature"
MAX_BODY = 1024 * 1024  # Intuit's deliveries are a few kilobytes
MAX_EVENTS = 1000
ENTITIES = {"invoice": "Invoice", "customer": "Customer", "item": "Item", "payment": "Payment"}
OPERATIONS = {
    "create": "Create",
    "created": "Create",
    "update": "Update",
    "updated": "Update",
    "delete": "Delete",
    "deleted": "Delete",
    "merge": "Merge",
    "merged": "Merge",
    "void": "Void",
    "voided": "Void",
    "emailed": "Emailed",
}
QB_ID = re.compile(r"\d{1,32}")
CLOUD_TYPE = re.compile(r"qbo\.([a-z]{1,40})\.([a-z]{1,20})\.v\d{1,3}")
EVENT_ID = re.compile(r"[\x21-\x7e]{1,200}")


class SignatureRefused(Exception):
    """The delivery is not Intuit's: no signature, a malformed one, or one that does not match."""


class BodyRefused(ValueError):
    """A signed body that is not a notification qbsync can read (what is wrong, for the log)."""


@dataclass(frozen=True)
class Notification:
    """One entity changed in one company: ``operation`` is Create, Update, Delete, Merge, Void or
    Emailed. ``key`` identifies the notification across deliveries."""

    key: str
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    occurred_at: dt.datetime | None


def verify(verifier_token: str, raw: bytes, signature: str | None) -> None:
    """Raise :class:`SignatureRefused` unless ``signature`` is Intuit's for ``raw``."""
    if not signature:
        raise SignatureRefused("no intuit-signature header")
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureRefused("the intuit-signature header is not base64") from exc
    expected = hmac.new(verifier_token.encode("utf-8"), raw, hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise SignatureRefused("the intuit-signature does not match the body")


def parse(raw: bytes) -> list[Notification]:
    """The notifications of a verified body, of the entities qbsync follows (others are left out).
    :class:`BodyRefused` when the body is not one of Intuit's two forms."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyRefused("the body is not JSON") from exc
    if isinstance(body, list):
        return _cloud_events(body)
    if isinstance(body, dict) and "eventNotifications" in body:
        return _legacy(body["eventNotifications"])
    if isinstance(body, dict) and body.get("specversion"):  # one CloudEvent on its own
        return _cloud_events([body])
    raise BodyRefused("neither a list of CloudEvents nor eventNotifications")


def _cloud_events(events: list[Any]) -> list[Notification]:
    if len(events) > MAX_EVENTS:
        raise BodyRefused(f"more than {MAX_EVENTS} events")
    found = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or str(event.get("specversion")) != "1.0":
            raise BodyRefused(f"event {index}: not a CloudEvent 1.0")
        kind = CLOUD_TYPE.fullmatch(str(event.get("type", "")))
        if kind is None:
            raise BodyRefused(f"event {index}: type is not qbo.<entity>.<action>.v<n>")
        event_id = _text(event.get("id"), EVENT_ID, f"event {index}: id")
        realm_id = _text(event.get("intuitaccountid"), QB_ID, f"event {index}: intuitaccountid")
        entity_id = _text(event.get("intuitentityid"), QB_ID, f"event {index}: intuitentityid")
        entity, operation = ENTITIES.get(kind.group(1)), OPERATIONS.get(kind.group(2))
        if entity is None or operation is None:
            continue  # an entity or action qbsync does not follow
        key = "ce:" + hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:56]
        found.append(Notification(key, realm_id, entity, entity_id, operation, _time(event.get("time"))))
    return found


def _legacy(notifications: Any) -> list[Notification]:
    if not isinstance(notifications, list) or len(notifications) > MAX_EVENTS:
        raise BodyRefused("eventNotifications is not a list (of at most 1000)")
    found = []
    for index, notification in enumerate(notifications):
        if not isinstance(notification, dict):
            raise BodyRefused(f"eventNotifications[{index}] is not an object")
        realm_id = _text(notification.get("realmId"), QB_ID, f"eventNotifications[{index}].realmId")
        entities = (notification.get("dataChangeEvent") or {}).get("entities")
        if not isinstance(entities, list) or len(entities) > MAX_EVENTS:
            raise BodyRefused(f"eventNotifications[{index}].dataChangeEvent.entities is not a list")
        for position, change in enumerate(entities):
            where = f"eventNotifications[{index}].entities[{position}]"
            if not isinstance(change, dict):
                raise BodyRefused(f"{where} is not an object")
            entity = ENTITIES.get(str(change.get("name", "")).lower())
            operation = OPERATIONS.get(str(change.get("operation", "")).lower())
            entity_id = _text(change.get("id"), QB_ID, f"{where}.id")
            if entity is None or operation is None:
                continue
            occurred = _time(change.get("lastUpdated"))
            stamp = occurred.isoformat() if occurred else ""
            digest = hashlib.sha256(
                f"{realm_id}|{entity}|{entity_id}|{operation}|{stamp}".encode()
            ).hexdigest()
            found.append(Notification("lg:" + digest[:56], realm_id, entity, entity_id, operation, occurred))
    return found


def _text(value: Any, pattern: re.Pattern[str], what: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or not pattern.fullmatch(str(value)):
        raise BodyRefused(f"{what} is missing or malformed")
    return str(value)


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
