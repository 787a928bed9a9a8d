"""Test and operator endpoints under ``/_emulator/`` (no authentication).

* ``POST reset`` -- a fresh default company; other realms, tokens, stats and faults forgotten.
* ``POST seed`` -- ``{"realm_id"?, "preferences"?, "company_info"?, "accounts"?, "customers"?,
  "items"?, "invoices"?, "payments"?}``; records are created in that order through the same rules
  as the API (only authentication is skipped), made by the ``X-Emulator-User`` user, and announced
  by webhooks like API writes. For convenience a reference may name its target instead of giving
  its id (``{"name": "Acme Foods"}``), a payment's ``LinkedTxn`` may name its invoice by
  ``{"DocNumber": "L-1"}``, and an item without ``IncomeAccountRef`` gets the "Services" income
  account. All or nothing: on a fault nothing of the seed is kept (nor announced) and the answer is
  400 naming the section and index.
* ``GET stats`` -- requests by realm, endpoint and method; throttled, faults injected, auth failures;
  ``webhooks``: deliveries sent (2xx), events queued, deliveries failed (retries exhausted),
  duplicates, retries, events queued now.
* ``GET|POST users`` -- a company's user ids and display names (``?realm_id=``;
  ``{"realm_id"?, "users": {"id": "Jane Clerk"}}`` adds or renames). QuickBooks itself exposes only
  the id (``MetaData.LastModifiedByRef``); the names are for tests.
* ``GET|DELETE webhooks`` -- the recent deliveries (body, signature, attempts and their status),
  newest last; ``DELETE`` clears the list. ``POST webhooks/flush`` ``{"timeout"?: seconds}`` waits
  until no event is queued and every delivery is answered (200 ``{"idle": true}``, else 504).
* ``GET queries`` -- the query log: each statement (``/query`` and batch) with its entity and the
  literal values of each condition as parsed, or its fault; ``DELETE`` clears it.
* ``POST tokens`` -- ``{"realm_id"?, "client_id"?}``: mint a grant, returns access and refresh tokens.
* ``POST tokens/expire`` -- ``{"realm_id"?}``: expire every access token of the realm now.
* ``POST faults`` -- one scripted fault or a list (see :mod:`emulator.limits`); ``GET`` lists
  pending ones.
* ``GET|POST config`` -- read or change latency_ms, fault_rate, rate_limit, concurrency_limit
  (alias concurrency), throttle_xml, batch_limit, batch_rate_limit, webhook_url (null: off),
  webhook_verifier, webhook_format, webhook_delay_ms, webhook_duplicate_rate, webhook_batch_ms.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from emulator import changes, entities, errors, prefs
from emulator.context import current
from emulator.limits import ScriptedFault
from emulator.responses import json_response
from emulator.state import Realm

bp = Blueprint("emulator_admin", __name__, url_prefix="/_emulator")

SEED_ORDER = ("accounts", "customers", "items", "invoices", "payments")
SEED_ENTITY = {
    "accounts": "Account",
    "customers": "Customer",
    "items": "Item",
    "invoices": "Invoice",
    "payments": "Payment",
}
FLUSH_TIMEOUT_MAX = 120.0


def _payload() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _bad(message: str, **extra: Any) -> Response:
    return json_response({"error": message, **extra}, 400)


def _realm_id(data: dict[str, Any]) -> str:
    return str(data.get("realm_id") or current().store.default_realm_id)


@bp.route("/", methods=["GET"])
def index() -> Response:
    """What the admin endpoints are (the banner of ``qbsync emulator`` points here)."""
    endpoints = {
        "POST reset": "a fresh default company; other realms, tokens, stats and faults forgotten",
        "POST seed": "create customers, items, invoices… in a realm",
        "GET stats": "requests by realm, endpoint and method; throttled, faults injected, auth failures",
        "GET|DELETE queries": "the query log, each condition's literal values",
        "POST tokens": "mint a grant (access and refresh tokens)",
        "POST tokens/expire": "expire every access token of a realm now",
        "GET|POST faults": "pending scripted faults; script one or a list",
        "GET|POST config": "latency, fault rate, limits, throttle_xml, webhook settings",
        "GET|POST users": "a company's user ids and display names (LastModifiedByRef)",
        "GET|DELETE webhooks": "recent webhook deliveries: body, signature, attempts",
        "POST webhooks/flush": "wait until every queued webhook event is delivered or dropped",
    }
    return json_response({"endpoints": endpoints})


@bp.route("/reset", methods=["POST"])
def reset() -> Response:
    emu = current()
    emu.reset()
    return json_response({"ok": True, "realm_id": emu.store.default_realm_id})


# --- seed ---------------------------------------------------------------------------------------


def _by_name(realm: Realm, entity: str, name: str) -> str | None:
    key = {"Customer": "DisplayName", "Item": "FullyQualifiedName", "Account": "Name"}[entity]
    for record in realm.all(entity):
        if record.get(key) == name:
            return record["Id"]
    return None


def _named_ref(realm: Realm, holder: dict[str, Any], key: str, entity: str) -> None:
    ref = holder.get(key)
    if isinstance(ref, dict) and not ref.get("value") and ref.get("name"):
        found = _by_name(realm, entity, str(ref["name"]))
        if found is not None:
            holder[key] = {**ref, "value": found}


def _prepare(realm: Realm, section: str, record: dict[str, Any]) -> dict[str, Any]:
    record = dict(record)
    if section == "items":
        if "IncomeAccountRef" not in record:
            record["IncomeAccountRef"] = {"name": "Services"}
        _named_ref(realm, record, "IncomeAccountRef", "Account")
        _named_ref(realm, record, "ParentRef", "Item")
    elif section == "invoices":
        _named_ref(realm, record, "CustomerRef", "Customer")
        lines = []
        for line in record.get("Line") or []:
            line = dict(line) if isinstance(line, dict) else line
            detail = line.get("SalesItemLineDetail") if isinstance(line, dict) else None
            if isinstance(detail, dict):
                line["SalesItemLineDetail"] = dict(detail)
                _named_ref(realm, line["SalesItemLineDetail"], "ItemRef", "Item")
            lines.append(line)
        if lines:
            record["Line"] = lines
    elif section == "payments":
        _named_ref(realm, record, "CustomerRef", "Customer")
        record["Line"] = [_payment_line(realm, line) for line in record.get("Line") or []]
    return record


def _payment_line(realm: Realm, line: Any) -> Any:
    """A payment line whose LinkedTxn names its invoice by DocNumber gets the invoice's id."""
    if not isinstance(line, dict) or not isinstance(line.get("LinkedTxn"), list):
        return line
    links = []
    for link in line["LinkedTxn"]:
        if isinstance(link, dict) and not link.get("TxnId") and link.get("DocNumber"):
            found = [i["Id"] for i in realm.all("Invoice") if i.get("DocNumber") == link["DocNumber"]]
            link = {
                "TxnId": found[0] if found else link["DocNumber"],
                "TxnType": link.get("TxnType", "Invoice"),
            }
        links.append(link)
    return {**line, "LinkedTxn": links}


@bp.route("/seed", methods=["POST"])
def seed() -> Response:
    emu = current()
    data = _payload()
    realm_id = _realm_id(data)
    if not realm_id.isdigit():
        return _bad("realm_id must be numeric")
    user = changes.user_from_header(request.headers.get(changes.USER_HEADER))
    with emu.store.lock, changes.recording(user) as rec:
        realm = emu.store.realm(realm_id, create=True)
        assert realm is not None
        before = realm.snapshot()
        created: dict[str, Any] = {"realm_id": realm_id}
        where = {"section": "preferences", "index": 0}
        try:
            if isinstance(data.get("preferences"), dict):
                created["preferences"] = prefs.merge_overrides(realm, data["preferences"])
            if isinstance(data.get("company_info"), dict):
                realm.replace("CompanyInfo", {**realm.company_info, **data["company_info"]})
            for section in SEED_ORDER:
                created[section] = []
                for index, record in enumerate(data.get(section) or []):
                    where = {"section": section, "index": index}
                    if not isinstance(record, dict):
                        raise errors.invalid_property("seed records must be objects")
                    body = _prepare(realm, section, record)
                    created[section].append(entities.operate(realm, SEED_ENTITY[section], "create", body))
        except errors.QBOError as err:
            realm.restore(before)
            return _bad(f"seed failed in {where['section']}[{where['index']}]", **where, Fault=err.fault())
        emu.webhooks.enqueue(rec.changes)
    return json_response(created)


# --- users ---------------------------------------------------------------------------------------


@bp.route("/users", methods=["GET", "POST"])
def users() -> Response:
    emu = current()
    data = _payload() if request.method == "POST" else {"realm_id": request.args.get("realm_id")}
    realm_id = _realm_id(data)
    if not realm_id.isdigit():
        return _bad("realm_id must be numeric")
    with emu.store.lock:
        realm = emu.store.realm(realm_id, create=request.method == "POST")
        if realm is None:
            return json_response({"error": f"no company {realm_id}"}, 404)
        if request.method == "POST":
            names = data.get("users")
            if not isinstance(names, dict) or not all(
                isinstance(k, str) and k.strip() and isinstance(v, str) for k, v in names.items()
            ):
                return _bad('users must be an object of user id -> display name, e.g. {"1": "Jane"}')
            realm.users.update({k.strip(): v for k, v in names.items()})
        return json_response(
            {"realm_id": realm_id, "default_user_id": changes.DEFAULT_USER_ID, "users": dict(realm.users)}
        )


# --- stats, tokens, faults, config ---------------------------------------------------------------


@bp.route("/stats", methods=["GET"])
def stats() -> Response:
    emu = current()
    return json_response({**emu.limits.stats.snapshot(), "webhooks": emu.webhooks.stats()})


@bp.route("/webhooks", methods=["GET", "DELETE"])
def webhooks() -> Response:
    sender = current().webhooks
    if request.method == "DELETE":
        sender.clear_log()
    return json_response({"deliveries": sender.deliveries(), "stats": sender.stats()})


@bp.route("/webhooks/flush", methods=["POST"])
def flush_webhooks() -> Response:
    raw = _payload().get("timeout", 10)
    try:
        timeout = min(max(float(raw), 0.0), FLUSH_TIMEOUT_MAX)
    except (TypeError, ValueError):
        return _bad("timeout must be a number of seconds")
    sender = current().webhooks
    idle = sender.flush(timeout)
    return json_response({"idle": idle, "stats": sender.stats()}, 200 if idle else 504)


@bp.route("/queries", methods=["GET", "DELETE"])
def queries() -> Response:
    log = current().queries
    if request.method == "DELETE":
        log.clear()
    return json_response({"queries": log.entries()})


@bp.route("/tokens", methods=["POST"])
def tokens() -> Response:
    emu = current()
    data = _payload()
    realm_id = _realm_id(data)
    if not realm_id.isdigit():
        return _bad("realm_id must be numeric")
    emu.store.realm(realm_id, create=True)
    minted = emu.tokens.mint(realm_id, data.get("client_id"))
    return json_response({**minted, "realm_id": realm_id})


@bp.route("/tokens/expire", methods=["POST"])
def expire_tokens() -> Response:
    realm_id = _realm_id(_payload())
    return json_response({"realm_id": realm_id, "expired": current().tokens.expire_access(realm_id)})


@bp.route("/faults", methods=["GET", "POST"])
def faults() -> Response:
    limits = current().limits
    if request.method == "POST":
        data = request.get_json(silent=True)
        items = data if isinstance(data, list) else [data]
        try:
            parsed = [ScriptedFault.from_json(item) for item in items]
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        for fault in parsed:
            limits.add_fault(fault)
    return json_response({"pending": limits.pending_faults()})


@bp.route("/config", methods=["GET", "POST"])
def config() -> Response:
    emu = current()
    if request.method == "POST":
        try:
            emu.config.update(_payload())
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
    return json_response(emu.config.public())
