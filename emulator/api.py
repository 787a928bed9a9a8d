"""The QuickBooks Online API v3 blueprint: ``/v3/company/<realmId>/...``.

Every request passes the same gate, in this order: statistics, bearer-token check (401 fault 3200
/ 403 fault 3100), rate limit and concurrency limit (429 fault 3001), latency, scripted or random
fault injection, then the operation itself under the store lock. Writes honour ``?requestid=``:
the first response for an id in a realm is stored and replayed byte for byte.

Writes are made by the user named in the ``X-Emulator-User`` header (default: the app's user,
see :mod:`emulator.changes`); what they change is handed to the webhook sender.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from emulator import cdc, changes, entities, errors, query
from emulator.context import Emulator, current
from emulator.responses import dumps, json_response, raw_json_response
from emulator.state import Realm
from emulator.timeutil import response_time
from emulator.tokens import AccessDenied

bp = Blueprint("qbo_api", __name__, url_prefix="/v3/company/<realm_id>")

REQUEST_ID_MAX = 50
DROP_FLAG = "emulator.drop"

Operation = Callable[[Realm], tuple[int, dict[str, Any]]]


# --- gate ---------------------------------------------------------------------------------------


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _throttled(emu: Emulator, retry_after: float | None = None) -> Response:
    headers = {"Retry-After": str(max(1, math.ceil(retry_after)))} if retry_after else {}
    if emu.config.throttle_xml:
        return Response(errors.throttle_xml_body(), status=429, mimetype="application/xml", headers=headers)
    return json_response(errors.throttle_json_body(), 429, headers or None)


def _injected(emu: Emulator, realm_id: str, kind: str) -> Response:
    emu.limits.stats.bump(realm_id, "faults_injected")
    if kind == "500":
        return json_response(errors.system_failure().body(), 500)
    if kind == "503":
        return Response(
            errors.html_error_page(503, "Service Temporarily Unavailable"), 503, mimetype="text/html"
        )
    if kind == "429":
        return _throttled(emu)
    request.environ[DROP_FLAG] = True  # "drop": the middleware closes the socket
    return Response("", 500)


def _gate(realm_id: str, endpoint: str, operation: Operation) -> Response:
    emu = current()
    limits = emu.limits
    limits.stats.request(realm_id, endpoint, request.method)
    try:
        emu.tokens.check_access(_bearer(), realm_id)
    except AccessDenied as denied:
        limits.stats.bump(realm_id, "auth_failures")
        if denied.status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'}
            return json_response(errors.authentication_failed_body(denied.detail), 401, headers)
        return json_response(errors.authorization_failed_body(denied.detail), 403)
    realm = emu.store.realm(realm_id)
    if realm is None:
        return json_response(errors.authorization_failed_body("Unknown company"), 403)
    wait = limits.rate.wait_for(realm_id, emu.config.rate_limit, emu.config.minute)
    if not wait and endpoint == "batch":
        wait = limits.batch_rate.wait_for(realm_id, emu.config.batch_rate_limit, emu.config.minute)
        if wait:
            limits.rate.forget_last(realm_id)
    if wait:
        limits.stats.bump(realm_id, "throttled")
        return _throttled(emu, wait)
    in_flight = limits.concurrency.acquire(realm_id, emu.config.concurrency_limit)
    if not in_flight:
        limits.stats.bump(realm_id, "throttled")
        return _throttled(emu)
    limits.stats.in_flight(realm_id, in_flight)
    try:
        scripted = limits.take_scripted(request.method, request.full_path)
        limits.sleep_latency(scripted.ms if scripted and scripted.kind == "latency" else 0)
        kind = scripted.kind if scripted and scripted.kind != "latency" else None
        if scripted is None:
            kind = limits.random_fault()
        if kind in ("500", "503", "429", "drop"):
            return _injected(emu, realm_id, kind)
        if kind == "fault" and scripted is not None:
            limits.stats.bump(realm_id, "faults_injected")
            err = errors.QBOError(**scripted.fault)
            return json_response(err.body(), err.status)
        response = _run(emu, realm, operation)
        if kind == "latency_after_commit" and scripted is not None:
            limits.sleep_latency(scripted.ms)
        if kind == "drop_after_commit":
            limits.stats.bump(realm_id, "faults_injected")
            request.environ[DROP_FLAG] = True
        return response
    finally:
        limits.concurrency.release(realm_id)


def _run(emu: Emulator, realm: Realm, operation: Operation) -> Response:
    """Run under the store lock; replay or record the response for a ``requestid``."""
    request_id = request.args.get("requestid")
    with emu.store.lock:
        if request_id is not None and request.method == "POST":
            if len(request_id) > REQUEST_ID_MAX:
                err = errors.invalid_property(
                    f"requestid longer than {REQUEST_ID_MAX} characters", "requestid"
                )
                return json_response(err.body(), err.status)
            if request_id in realm.request_ids:
                status, text = realm.request_ids[request_id]
                return raw_json_response(text, status)
        with changes.recording(changes.user_from_header(request.headers.get(changes.USER_HEADER))) as rec:
            try:
                status, body = operation(realm)
            except errors.QBOError as err:
                status, body = err.status, err.body()
        emu.webhooks.enqueue(rec.changes)
        text = dumps(body)
        if request_id is not None and request.method == "POST":
            realm.request_ids[request_id] = (status, text)
        return raw_json_response(text, status)


def _json_body() -> Any:
    raw = request.get_data(as_text=True)
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError as exc:
        raise errors.invalid_property(f"Malformed JSON request body: {exc}") from exc


def _ok(key: str, value: Any) -> tuple[int, dict[str, Any]]:
    return 200, {key: value, "time": response_time()}


# --- endpoints ----------------------------------------------------------------------------------


@bp.route("/query", methods=["GET", "POST"])
def run_query(realm_id: str) -> Response:
    def operation(realm: Realm) -> tuple[int, dict[str, Any]]:
        text = request.args.get("query")
        if request.method == "POST" and request.get_data(as_text=True).strip():
            text = request.get_data(as_text=True)
        return _ok("QueryResponse", query.run(realm, text or ""))

    return _gate(realm_id, "query", operation)


@bp.route("/batch", methods=["POST"])
def batch(realm_id: str) -> Response:
    def operation(realm: Realm) -> tuple[int, dict[str, Any]]:
        body = _json_body()
        items = body.get("BatchItemRequest") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise errors.required_missing("BatchItemRequest")
        limit = current().config.batch_limit
        if len(items) > limit:
            raise errors.business_validation(
                f"Batch request contains {len(items)} items; the maximum is {limit}.", "BatchItemRequest"
            )
        stats = current().limits.stats
        stats.bump(realm.realm_id, "batch_requests")
        stats.bump(realm.realm_id, "batch_items", len(items))
        return _ok("BatchItemResponse", [_batch_item(realm, item) for item in items])

    return _gate(realm_id, "batch", operation)


def _batch_item(realm: Realm, item: Any) -> dict[str, Any]:
    bid = item.get("bId") if isinstance(item, dict) else None
    try:
        if not isinstance(item, dict):
            raise errors.invalid_property("BatchItemRequest items must be objects")
        if "Query" in item:
            return {"bId": bid, "QueryResponse": query.run(realm, item["Query"])}
        keys = [key for key in item if entities.canonical(key)]
        if len(keys) != 1:
            raise errors.invalid_property("a batch item needs exactly one entity object or a Query")
        entity = entities.canonical(keys[0]) or ""
        operation = str(item.get("operation") or "")
        if operation not in entities.OPERATIONS:
            raise errors.invalid_property(f"operation '{operation}' is not supported", "operation")
        operation = _operation(entity, operation, "")
        return {"bId": bid, entity: entities.operate(realm, entity, operation, item[keys[0]])}
    except errors.QBOError as err:
        return {"bId": bid, "Fault": err.fault()}


@bp.route("/cdc", methods=["GET"])
def change_data_capture(realm_id: str) -> Response:
    def operation(realm: Realm) -> tuple[int, dict[str, Any]]:
        found = cdc.changes(realm, request.args.get("entities"), request.args.get("changedSince"))
        return _ok("CDCResponse", [{"QueryResponse": found}])

    return _gate(realm_id, "cdc", operation)


@bp.route("/preferences", methods=["GET", "POST"])
def preferences(realm_id: str) -> Response:
    def operation(realm: Realm) -> tuple[int, dict[str, Any]]:
        if request.method == "GET":
            return _ok("Preferences", entities.read(realm, "Preferences", "1"))
        return _ok("Preferences", entities.operate(realm, "Preferences", "update", _json_body()))

    return _gate(realm_id, "preferences", operation)


def _operation(entity: str, op: str, include: str) -> str:
    """Invoices are voided with ``operation=void``; payments with ``operation=update&include=void``."""
    if entity == "Payment" and op in ("update", "") and "void" in include:
        return "void"
    if op == "void" and entity != "Invoice":
        raise errors.unsupported_operation(f"void {entity}")
    return op


@bp.route("/<entity_name>", methods=["POST"])
def write_entity(realm_id: str, entity_name: str) -> Response:
    def operation(realm: Realm) -> tuple[int, dict[str, Any]]:
        entity = entities.canonical(entity_name)
        if entity is None:
            raise errors.unsupported_operation(f"POST /{entity_name}")
        body = _json_body()
        include = request.args.get("include", "").lower()
        allow_dup = "allowduplicatedocnum" in include
        op = _operation(entity, request.args.get("operation", "").lower(), include)
        if op in ("delete", "void"):
            return _ok(entity, entities.operate(realm, entity, op, body))
        if op in ("", "update", "create"):
            if op:
                return _ok(entity, entities.operate(realm, entity, op, body, allow_dup))
            return _ok(entity, entities.save(realm, entity, body, allow_dup))
        raise errors.unsupported_operation(f"{op} {entity}")

    return _gate(realm_id, entity_name.lower(), operation)


@bp.route("/<entity_name>/<record_id>", methods=["GET"])
def read_entity(realm_id: str, entity_name: str, record_id: str) -> Response:
    def operation(realm: Realm) -> tuple[int, dict[str, Any]]:
        entity = entities.canonical(entity_name)
        if entity is None:
            raise errors.unsupported_operation(f"GET /{entity_name}")
        return _ok(entity, entities.read(realm, entity, record_id))

    return _gate(realm_id, entity_name.lower(), operation)


@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def unsupported(realm_id: str, rest: str) -> Response:
    def operation(realm: Realm) -> tuple[int, dict[str, Any]]:
        raise errors.unsupported_operation(f"{request.method} /{rest}")

    return _gate(realm_id, rest.split("/")[0].lower(), operation)
