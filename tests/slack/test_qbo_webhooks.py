"""``POST /qbo/webhooks``: Intuit's notifications, verified (``intuit-signature``), in both forms;
answered at once, the company marked due and nothing read from QuickBooks until the changes job runs;
forged, malformed, repeated and other companies' notifications change nothing. Then the changes job
reads what changed and tells the channel once, grouped."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

import pytest
import requests
import sqlalchemy as sa
from pydantic import SecretStr
from slack_sdk import WebClient

from services.changes.webhooks import BodyRefused, parse
from services.diagnosis.problems import list_problems
from services.scheduler.changes import changes_job
from services.store.changes import QboChangeEvent, QboChangePoint
from services.store.models import Load
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from wiring.slack import digest_channel

VERIFIER = "intuit-verifier-token"
CHANNEL = "C0NOTICE01"


def signature(raw: bytes, token: str = VERIFIER) -> str:
    return base64.b64encode(hmac.new(token.encode(), raw, hashlib.sha256).digest()).decode()


def cloud_event(realm: str, entity: str, entity_id: str, action: str, event_id: str | None = None) -> dict:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
        "type": f"qbo.{entity}.{action}.v1",
        "datacontenttype": "application/json",
        "time": "2026-12-03T10:00:00.000Z",
        "intuitentityid": entity_id,
        "intuitaccountid": realm,
        "data": {},
    }


def legacy(realm: str, *entities: tuple[str, str, str]) -> dict:
    return {
        "eventNotifications": [
            {
                "realmId": realm,
                "dataChangeEvent": {
                    "entities": [
                        {"name": name, "id": id_, "operation": op, "lastUpdated": "2026-12-03T10:00:00.000Z"}
                        for name, id_, op in entities
                    ]
                },
            }
        ]
    }


def post(web, body, *, sign: str | None = "sign", raw: bytes | None = None) -> requests.Response:
    raw = raw if raw is not None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if sign == "sign":
        headers["intuit-signature"] = signature(raw)
    elif sign is not None:
        headers["intuit-signature"] = sign
    return requests.post(f"{web.url}/qbo/webhooks", data=raw, headers=headers, timeout=10)


def rows(engine, table) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(table.__table__)).all()


@pytest.fixture
def hook_web(make_web, connected):
    return make_web(qbo_webhook_verifier_token=SecretStr(VERIFIER))


def realm_of(web) -> str:
    return web.services.connection.status().realm_id


def test_both_forms_parse_to_the_same_notifications():
    ce = parse(json.dumps([cloud_event("123", "invoice", "7", "deleted", "e1")]).encode())
    lg = parse(json.dumps(legacy("123", ("Invoice", "7", "Delete"))).encode())
    assert [(n.realm_id, n.entity, n.entity_id, n.operation) for n in ce] == [
        ("123", "Invoice", "7", "Delete")
    ]
    assert [(n.realm_id, n.entity, n.entity_id, n.operation) for n in lg] == [
        ("123", "Invoice", "7", "Delete")
    ]
    assert parse(json.dumps([cloud_event("123", "vendor", "7", "created")]).encode()) == []  # not followed
    for bad in (b"{", b"[1]", b'{"eventNotifications": 3}', json.dumps([{"specversion": "1.0"}]).encode()):
        with pytest.raises(BodyRefused):
            parse(bad)
    with pytest.raises(BodyRefused):
        parse(json.dumps([cloud_event("12'3", "invoice", "7", "deleted")]).encode())


def test_a_signed_delivery_marks_the_company_due_and_reads_nothing_yet(hook_web, engine, emu):
    realm = realm_of(hook_web)
    before = emu.stats()
    body = [
        cloud_event(realm, "invoice", "1", "updated", "ev-1"),
        cloud_event("999999", "invoice", "1", "deleted"),
    ]
    answer = post(hook_web, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": 1, "repeated": 0, "ignored": 1}
    [point] = rows(engine, QboChangePoint)
    assert point.realm_id == realm and point.due_at is not None
    assert emu.stats() == before, "QuickBooks is not asked while the answer is made"
    again = post(hook_web, body)  # Intuit delivers again
    assert again.json() == {"received": 0, "repeated": 1, "ignored": 1}
    assert len(rows(engine, QboChangeEvent)) == 1
    legacy_answer = post(hook_web, legacy(realm, ("Invoice", "1", "Update"), ("Customer", "2", "Merge")))
    assert legacy_answer.json()["received"] == 2


@pytest.mark.parametrize(
    "sign,why",
    [(None, "no signature"), ("bm90IGl0", "another signature"), ("%%%", "not base64"), ("", "empty")],
)
def test_forged_deliveries_are_refused_and_change_nothing(hook_web, engine, sign, why):
    answer = post(hook_web, [cloud_event(realm_of(hook_web), "invoice", "1", "deleted")], sign=sign)
    assert answer.status_code == 401, why
    assert rows(engine, QboChangeEvent) == [] and rows(engine, QboChangePoint) == []


def test_signed_with_another_token_or_tampered_is_refused(hook_web, engine):
    raw = json.dumps([cloud_event(realm_of(hook_web), "invoice", "1", "deleted")]).encode()
    assert post(hook_web, None, raw=raw, sign=signature(raw, "another-token")).status_code == 401
    assert post(hook_web, None, raw=raw.replace(b'"1"', b'"2"'), sign=signature(raw)).status_code == 401
    assert rows(engine, QboChangeEvent) == []


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"{}",
        b'{"eventNotifications": [{"realmId": "x"}]}',
        b"[" + b"{}," * 5 + b"{}]",
        b"\xff\xfe",
    ],
)
def test_malformed_signed_bodies_are_refused_with_400(hook_web, engine, raw):
    answer = post(hook_web, None, raw=raw)
    assert answer.status_code == 400 and "error" in answer.json()
    assert rows(engine, QboChangePoint) == []


def test_without_a_verifier_token_the_route_says_so(make_web, connected, engine):
    web = make_web()
    answer = post(web, [cloud_event("1", "invoice", "1", "deleted")])
    assert answer.status_code == 503 and "verifier token" in answer.json()["error"]


def test_an_oversized_body_is_refused(hook_web, engine):
    raw = b"[" + b" " * (1024 * 1024) + b"]"
    assert post(hook_web, None, raw=raw).status_code == 413


def test_the_changes_job_reads_what_changed_and_posts_one_grouped_notice(hook_web, engine, emu, slack):
    slack.add_channel(CHANNEL, name="billing-alerts")
    services = hook_web.services
    qb_company(services.api)
    numbers = ["N-100", "N-101", "N-102"]
    tms(engine, [a_load(n) for n in numbers])
    results = {r.load_number: r for r in services.sync.sync_many(numbers, trigger="test")}
    port = digest_channel(services, WebClient(token=slack.bot_token, base_url=slack.api_url))
    every = 3600
    assert changes_job(services.changes, every, port, CHANNEL).startswith("read every synced invoice")
    assert changes_job(services.changes, every, port, CHANNEL) == "nothing due"
    for number in numbers[:2]:
        invoice = services.api.read("Invoice", results[number].qb_invoice_id)
        services.api.delete("Invoice", invoice["Id"], invoice["SyncToken"])
    realm = realm_of(hook_web)
    body = [cloud_event(realm, "invoice", results[n].qb_invoice_id, "deleted") for n in numbers[:2]]
    assert post(hook_web, body).status_code == 200
    outcome = changes_job(services.changes, every, port, CHANNEL)
    assert "2 new problems" in outcome and "2 notices posted" in outcome
    [message] = slack.messages(CHANNEL)
    assert "2 changes in QuickBooks need attention" in message.text
    assert "N-100" in message.text and "N-101" in message.text and "Clear QuickBooks ID" in message.text
    assert changes_job(services.changes, every, port, CHANNEL) == "nothing due"
    assert len(slack.messages(CHANNEL)) == 1, "told once"
    slack.remove_channel(CHANNEL)


def void_invoice(emu, invoice_id: str) -> dict:
    """Void an invoice as a person in QuickBooks would (the API's ``operation=void``)."""
    grant = emu.issue_tokens()
    current = requests.get(
        f"{emu.api_base}/company/{grant['realm_id']}/invoice/{invoice_id}",
        headers={"Authorization": f"Bearer {grant['access_token']}", "Accept": "application/json"},
        timeout=10,
    ).json()["Invoice"]
    answer = requests.post(
        f"{emu.api_base}/company/{grant['realm_id']}/invoice?operation=void",
        json={"Id": invoice_id, "SyncToken": current["SyncToken"]},
        headers={"Authorization": f"Bearer {grant['access_token']}", "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["Invoice"]


def change_everything(services, emu, results) -> None:
    """In QuickBooks: delete one invoice, void one, edit one's total, pay one in part, make an item
    inactive that a waiting load needs."""
    api = services.api
    gone = api.read("Invoice", results["W-1"].qb_invoice_id)
    api.delete("Invoice", gone["Id"], gone["SyncToken"])
    void_invoice(emu, results["W-2"].qb_invoice_id)
    edited = api.read("Invoice", results["W-3"].qb_invoice_id)
    lines = [line for line in edited["Line"] if line.get("DetailType") == "SalesItemLineDetail"][:1]
    api.update(
        "Invoice", {"Id": edited["Id"], "SyncToken": edited["SyncToken"], "sparse": True, "Line": lines}
    )
    paid = api.read("Invoice", results["W-4"].qb_invoice_id)
    api.create(
        "Payment",
        {
            "CustomerRef": paid["CustomerRef"],
            "TotalAmt": "100.00",
            "Line": [{"Amount": "100.00", "LinkedTxn": [{"TxnId": paid["Id"], "TxnType": "Invoice"}]}],
        },
    )
    from services.sync.loads import read_view

    code = next(iter(read_view(services.engine, "W-5").codes.values()))
    item = api.read("Item", code.qb_item_id)
    api.update("Item", {"Id": item["Id"], "SyncToken": item["SyncToken"], "sparse": True, "Active": False})


def expect_found(services, slack, *, notice_lines: int) -> None:
    current = {n: services.sync.current_result(n) for n in ("W-1", "W-2", "W-3", "W-4", "W-5", "W-6")}
    assert [r.code for r in current["W-1"].reasons] == ["qb_invoice_deleted"]
    assert [r.code for r in current["W-2"].reasons] == ["qb_invoice_voided"]
    assert [r.code for r in current["W-3"].reasons] == ["amount_mismatch"]
    assert current["W-4"].state == "synced"
    assert [r.code for r in current["W-6"].reasons] == ["charge_codes_not_synced"], "blocked before it fails"
    with services.engine.connect() as conn:
        total, balance = conn.execute(
            sa.select(Load.qb_total, Load.qb_balance).where(Load.load_number == "W-4")
        ).one()
    assert balance == total - 100, "the payment is kept on the load"
    diagnosis = services.diagnoser.diagnose("W-4")
    assert diagnosis.payment["status"] == "partly_paid" and "still owed" in diagnosis.payment["words"]
    voided = services.diagnoser.diagnose("W-2")
    assert [r.code for r in voided.reasons] == ["qb_invoice_voided"]
    assert voided.reasons[0].fixes == ["clear_qb_id", "dismiss"]
    [message] = slack.messages(CHANNEL)
    assert f"{notice_lines} changes in QuickBooks need attention" in message.text
    for words in ("W-1", "W-2", "W-3", "W-6", "voided in QuickBooks", "Clear QuickBooks ID"):
        assert words in message.text, words


def company_for_changes(services, engine):
    qb_company(services.api)
    tms(engine, [a_load(n) for n in ("W-1", "W-2", "W-3", "W-4", "W-5")])
    results = {r.load_number: r for r in services.sync.sync_many(None, trigger="test")}
    tms(engine, [a_load("W-6")])  # waits to sync; needs the same charge codes as W-5
    return results


def test_changes_made_in_quickbooks_reach_the_loads_and_the_channel_by_webhook(hook_web, engine, emu, slack):
    slack.add_channel(CHANNEL, name="billing-alerts")
    services = hook_web.services
    results = company_for_changes(services, engine)
    port = digest_channel(services, WebClient(token=slack.bot_token, base_url=slack.api_url))
    changes_job(services.changes, 3600, port, CHANNEL)  # the first read: every synced invoice
    emu.configure(
        webhook_url=f"{hook_web.url}/qbo/webhooks", webhook_verifier=VERIFIER, webhook_duplicate_rate=0.5
    )
    try:
        change_everything(services, emu, results)
        deliveries = emu.flush_webhooks(timeout=20)
    finally:
        emu.configure(webhook_url=None, webhook_duplicate_rate=0.0)
    assert deliveries and all(d["status"] == 200 for d in deliveries if d["state"] == "delivered")
    before = emu.stats()["total_requests"]
    outcome = changes_job(services.changes, 3600, port, CHANNEL)  # 3600: only the webhooks make it due
    assert "notices posted" in outcome, outcome
    assert emu.stats()["total_requests"] - before <= 3, "a change data capture read, not every invoice"
    expect_found(services, slack, notice_lines=4)
    assert changes_job(services.changes, 3600, port, CHANNEL) == "nothing due"
    slack.remove_channel(CHANNEL)


def test_with_webhooks_off_change_data_capture_alone_finds_the_same(make_web, connected, engine, emu, slack):
    slack.add_channel(CHANNEL, name="billing-alerts")
    web = make_web()  # no verifier token: QuickBooks' changes are read every minute
    services = web.services
    assert services.settings.changes_interval == 60
    results = company_for_changes(services, engine)
    port = digest_channel(services, WebClient(token=slack.bot_token, base_url=slack.api_url))
    changes_job(services.changes, 60, port, CHANNEL)
    change_everything(services, emu, results)
    assert changes_job(services.changes, 60, port, CHANNEL) == "nothing due", "within the minute: not yet"
    outcome = changes_job(services.changes, 0, port, CHANNEL)  # the minute has passed
    assert "notices posted" in outcome, outcome
    expect_found(services, slack, notice_lines=4)
    assert {p.load_number for p in list_problems(engine)} == {"W-1", "W-2", "W-3", "W-6"}
    slack.remove_channel(CHANNEL)
