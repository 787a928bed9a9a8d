"""Webhook deliveries sent by the emulator: formats, signature, grouping, duplicates, retries, settings."""

from __future__ import annotations

import socket
import threading
from datetime import datetime

import pytest

from emulator.server import EmulatorServer

from .conftest import api
from .receiver import Receiver

VERIFIER = "test-verifier-token"
OTHER_REALM = "5550003"
SOURCE = "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU="


@pytest.fixture
def receiver():
    with Receiver(VERIFIER) as running:
        yield running


@pytest.fixture
def hooked(make_emulator, receiver):
    """An emulator sending CloudEvents to ``receiver`` 50 ms after each change."""
    return make_emulator(webhook_url=receiver.url, webhook_verifier=VERIFIER, webhook_delay_ms=50, seed=7)


def customer(emu, tokens, name):
    response = api(emu, tokens, "POST", "customer", json={"DisplayName": name})
    assert response.status_code == 200, response.text
    return response.json()["Customer"]


def invoice(emu, tokens, customer_id, amount=100):
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
    }
    response = api(
        emu, tokens, "POST", "invoice", json={"CustomerRef": {"value": customer_id}, "Line": [line]}
    )
    assert response.status_code == 200, response.text
    return response.json()["Invoice"]


def test_cloudevents_body_headers_and_signature(hooked, receiver):
    tokens = hooked.issue_tokens()
    created = customer(hooked, tokens, "Acme Foods")
    deliveries = hooked.flush_webhooks(5)
    (got,) = receiver.received
    assert got.signature_ok and got.path == "/qbo/webhooks"
    assert got.headers["content-type"] == "application/json"
    (event,) = got.body
    assert set(event) == {
        "specversion",
        "id",
        "source",
        "type",
        "datacontenttype",
        "time",
        "intuitentityid",
        "intuitaccountid",
        "data",
    }
    assert (event["specversion"], event["source"], event["type"]) == (
        "1.0",
        SOURCE,
        "qbo.customer.created.v1",
    )
    assert (event["intuitentityid"], event["intuitaccountid"]) == (created["Id"], hooked.realm_id)
    assert (event["datacontenttype"], event["data"]) == ("application/json", {})
    assert event["time"].endswith("Z")
    when = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
    assert when.replace(microsecond=0) == datetime.fromisoformat(created["MetaData"]["LastUpdatedTime"])
    (logged,) = deliveries
    assert (logged["state"], logged["status"], logged["events"], logged["body"]) == (
        "delivered",
        200,
        1,
        got.body,
    )
    assert logged["raw_body"].encode() == got.raw and logged["signature"] == got.headers["intuit-signature"]
    assert hooked.stats()["webhooks"] | {"queued": 0} == {
        "sent": 1,
        "events": 1,
        "failed": 0,
        "duplicates": 0,
        "retries": 0,
        "queued": 0,
    }


def test_every_operation_has_its_event_type(hooked, receiver):
    tokens = hooked.issue_tokens()
    owner = customer(hooked, tokens, "Acme Foods")
    first = invoice(hooked, tokens, owner["Id"])
    second = invoice(hooked, tokens, owner["Id"])
    payment = {"CustomerRef": {"value": owner["Id"]}, "TotalAmt": 10}
    api(hooked, tokens, "POST", "payment", json=payment)
    api(hooked, tokens, "POST", "invoice?operation=void", json={"Id": first["Id"], "SyncToken": "0"})
    api(hooked, tokens, "POST", "invoice?operation=delete", json={"Id": second["Id"], "SyncToken": "0"})
    api(hooked, tokens, "POST", "account", json={"Name": "Fuel", "AccountType": "Expense"})  # no webhook
    hooked.flush_webhooks(5)
    assert all(got.signature_ok for got in receiver.received)
    types = [(e["type"], e["intuitentityid"]) for e in sorted(receiver.events(), key=lambda e: e["time"])]
    assert types == [
        ("qbo.customer.created.v1", owner["Id"]),
        ("qbo.invoice.created.v1", first["Id"]),
        ("qbo.invoice.created.v1", second["Id"]),
        ("qbo.payment.created.v1", "1"),
        ("qbo.invoice.voided.v1", first["Id"]),
        ("qbo.invoice.deleted.v1", second["Id"]),
    ]


def test_several_entities_and_companies_in_one_delivery(make_emulator, receiver):
    emu = make_emulator(webhook_url=receiver.url, webhook_verifier=VERIFIER, webhook_delay_ms=500)
    home, other = emu.issue_tokens(), emu.issue_tokens(OTHER_REALM)
    owner = customer(emu, home, "Acme Foods")
    invoice(emu, home, owner["Id"])
    customer(emu, other, "Other Co")
    emu.flush_webhooks(5)
    (got,) = receiver.received
    assert got.signature_ok
    assert [(e["intuitaccountid"], e["type"]) for e in got.body] == [
        (emu.realm_id, "qbo.customer.created.v1"),
        (emu.realm_id, "qbo.invoice.created.v1"),
        (OTHER_REALM, "qbo.customer.created.v1"),
    ]


def test_legacy_format_one_notification_per_company(make_emulator, receiver):
    emu = make_emulator(
        webhook_url=receiver.url, webhook_verifier=VERIFIER, webhook_format="legacy", webhook_delay_ms=500
    )
    home, other = emu.issue_tokens(), emu.issue_tokens(OTHER_REALM)
    owner = customer(emu, home, "Acme Foods")
    elsewhere = customer(emu, other, "Other Co")
    bill = invoice(emu, home, owner["Id"])
    emu.flush_webhooks(5)
    (got,) = receiver.received
    assert got.signature_ok
    notifications = got.body["eventNotifications"]
    assert [n["realmId"] for n in notifications] == [emu.realm_id, OTHER_REALM]
    home_entities = notifications[0]["dataChangeEvent"]["entities"]
    assert [(e["name"], e["id"], e["operation"]) for e in home_entities] == [
        ("Customer", owner["Id"], "Create"),
        ("Invoice", bill["Id"], "Create"),
    ]
    (other_entity,) = notifications[1]["dataChangeEvent"]["entities"]
    assert (other_entity["name"], other_entity["id"]) == ("Customer", elsewhere["Id"])
    assert home_entities[0]["lastUpdated"].endswith("Z") and set(home_entities[0]) == {
        "name",
        "id",
        "operation",
        "lastUpdated",
    }


def test_batch_and_seed_changes_are_announced_but_a_failed_seed_is_not(hooked, receiver):
    tokens = hooked.issue_tokens()
    items = [{"bId": str(n), "operation": "create", "Customer": {"DisplayName": f"C{n}"}} for n in range(3)]
    api(hooked, tokens, "POST", "batch", json={"BatchItemRequest": items})
    hooked.seed({"items": [{"Name": "Fuel Surcharge", "Type": "Service"}]})
    failed = hooked._http.post(
        f"{hooked.url}/_emulator/seed", json={"customers": [{"DisplayName": "Kept?"}, {"DisplayName": "C1"}]}
    )
    assert failed.status_code == 400
    hooked.flush_webhooks(5)
    assert sorted(e["type"] for e in receiver.events()) == ["qbo.customer.created.v1"] * 3 + [
        "qbo.item.created.v1"
    ]


def test_a_replayed_request_id_sends_nothing_new(hooked, receiver):
    tokens = hooked.issue_tokens()
    for _ in range(2):
        api(hooked, tokens, "POST", "customer?requestid=once", json={"DisplayName": "Acme Foods"})
    hooked.flush_webhooks(5)
    assert len(receiver.events()) == 1


def test_duplicates_are_byte_for_byte_copies(make_emulator, receiver):
    emu = make_emulator(
        webhook_url=receiver.url, webhook_verifier=VERIFIER, webhook_delay_ms=20, webhook_duplicate_rate=1.0
    )
    customer(emu, emu.issue_tokens(), "Acme Foods")
    deliveries = emu.flush_webhooks(5)
    first, second = receiver.received
    assert first.raw == second.raw and first.signature_ok and second.signature_ok
    assert [d["duplicate"] for d in deliveries] == [False, True]
    assert emu.stats()["webhooks"]["duplicates"] == 1 and emu.stats()["webhooks"]["sent"] == 2


def test_a_500_answer_is_retried(hooked, receiver):
    receiver.statuses = [500, 503]
    customer(hooked, hooked.issue_tokens(), "Acme Foods")
    (delivery,) = hooked.flush_webhooks(5)
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["state"] == "delivered"
    assert len({got.raw for got in receiver.received}) == 1 and len(receiver.received) == 3
    stats = hooked.stats()["webhooks"]
    assert (stats["sent"], stats["retries"], stats["failed"]) == (1, 2, 0)


def test_a_delivery_never_accepted_is_dropped_and_counted(hooked, receiver):
    receiver.statuses = [500] * 10
    customer(hooked, hooked.issue_tokens(), "Acme Foods")
    (delivery,) = hooked.flush_webhooks(5)
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 4
    assert hooked.stats()["webhooks"]["failed"] == 1


def test_connection_refused_is_retried_then_dropped(make_emulator):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    emu = make_emulator(webhook_url=f"http://127.0.0.1:{port}/", webhook_delay_ms=10)
    customer(emu, emu.issue_tokens(), "Acme Foods")
    (delivery,) = emu.flush_webhooks(5)
    assert delivery["state"] == "failed"
    assert all(a["status"] is None and "ConnectionError" in a["error"] for a in delivery["attempts"])


def test_settings_change_at_run_time(make_emulator, receiver):
    emu = make_emulator()
    tokens = emu.issue_tokens()
    customer(emu, tokens, "Before")  # webhooks are off by default
    assert emu.stats()["webhooks"]["events"] == 0
    settings = emu.configure(
        webhook_url=receiver.url, webhook_verifier=VERIFIER, webhook_format="legacy", webhook_delay_ms=20
    )
    assert (settings["webhook_url"], settings["webhook_format"], settings["webhook_verifier"]) == (
        receiver.url,
        "legacy",
        "***",
    )
    customer(emu, tokens, "During")
    emu.flush_webhooks(5)
    (got,) = receiver.received
    assert got.signature_ok and "eventNotifications" in got.body
    emu.configure(webhook_url=None)
    customer(emu, tokens, "After")
    emu.flush_webhooks(5)
    assert len(receiver.received) == 1
    bad = emu._http.post(f"{emu.url}/_emulator/config", json={"webhook_format": "xml"})
    assert bad.status_code == 400


def test_flush_gives_up_after_its_timeout(make_emulator, receiver):
    emu = make_emulator(webhook_url=receiver.url, webhook_verifier=VERIFIER, webhook_delay_ms=1500)
    customer(emu, emu.issue_tokens(), "Acme Foods")
    with pytest.raises(TimeoutError):
        emu.flush_webhooks(0.1)
    emu.clear_webhooks()
    assert emu.webhooks() == []


def test_stopping_the_server_stops_the_sender(receiver):
    with EmulatorServer(
        port=0, webhook_url=receiver.url, webhook_verifier=VERIFIER, webhook_delay_ms=5
    ) as emu:
        customer(emu, emu.issue_tokens(), "Acme Foods")
        emu.flush_webhooks(5)
        assert any(t.name.startswith("qbo-emulator-webhooks") for t in threading.enumerate())
        customer(emu, emu.issue_tokens(), "Queued at stop")
    assert not any(t.name.startswith("qbo-emulator-webhooks") for t in threading.enumerate())
