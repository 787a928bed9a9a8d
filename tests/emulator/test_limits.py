"""Throttling, concurrency, latency, random and scripted faults, intuit_tid."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from quickbooks.exceptions import QuickbooksException, SevereException, ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from emulator.clients import quickbooks_client

from .conftest import api, make_customer, make_invoice


def prefs_status(emu, tokens) -> int | str:
    """One fresh-connection API call; 'drop' when the server closed the connection."""
    try:
        return api(emu, tokens, "GET", "preferences").status_code
    except requests.ConnectionError:
        return "drop"


def test_rate_limit_per_scaled_minute(make_emulator):
    emu = make_emulator(rate_limit=5, time_scale=60)  # a "minute" lasts one second
    tokens = emu.issue_tokens()
    statuses = [prefs_status(emu, tokens) for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    throttled = api(emu, tokens, "GET", "preferences")
    error = throttled.json()["Fault"]["Error"][0]
    assert error["code"] == "3001"
    assert error["Message"] == "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    time.sleep(1.05)
    assert prefs_status(emu, tokens) == 200
    assert emu.stats()["throttled"] == 2


def test_rate_limit_is_per_realm(make_emulator):
    emu = make_emulator(rate_limit=2, time_scale=60)
    first, second = emu.issue_tokens(), emu.issue_tokens("6660001")
    assert [prefs_status(emu, first) for _ in range(3)] == [200, 200, 429]
    assert prefs_status(emu, second) == 200


def test_throttle_seen_by_python_quickbooks(make_emulator):
    emu = make_emulator(rate_limit=1, time_scale=60)
    qb = quickbooks_client(emu)
    Customer.all(qb=qb)
    with pytest.raises(ValidationException) as exc:
        Customer.all(qb=qb)
    assert exc.value.error_code == 3001


def test_throttle_in_xml(make_emulator):
    emu = make_emulator(rate_limit=1, time_scale=60, throttle_xml=True)
    qb = quickbooks_client(emu)
    Customer.all(qb=qb)
    with pytest.raises(QuickbooksException) as exc:
        Customer.all(qb=qb)
    assert exc.value.error_code == 10000  # python-quickbooks cannot read the XML body
    assert '<Error code="3001">' in exc.value.message


def test_concurrency_limit(make_emulator):
    emu = make_emulator(concurrency_limit=2, latency_ms=400)
    tokens = emu.issue_tokens()
    barrier = threading.Barrier(4)
    results: list[int | str] = []

    def call() -> None:
        barrier.wait()
        results.append(prefs_status(emu, tokens))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [200, 200, 429, 429]


def test_latency_is_added(make_emulator):
    emu = make_emulator(latency_ms=150)
    tokens = emu.issue_tokens()
    started = time.monotonic()
    assert prefs_status(emu, tokens) == 200
    assert time.monotonic() - started >= 0.15


def test_random_faults_reproducible_from_seed(make_emulator):
    outcomes = []
    for _ in range(2):
        emu = make_emulator(fault_rate=0.5, seed=7)
        tokens = emu.issue_tokens()
        outcomes.append([prefs_status(emu, tokens) for _ in range(24)])
    assert outcomes[0] == outcomes[1]
    assert 200 in outcomes[0]
    assert {500, 503, "drop"} & set(outcomes[0])
    assert emu.stats()["faults_injected"] == sum(1 for o in outcomes[1] if o != 200)


def test_random_503_is_an_html_page(make_emulator):
    emu = make_emulator(fault_rate=1.0, seed=3)
    tokens = emu.issue_tokens()
    for _ in range(20):
        try:
            response = api(emu, tokens, "GET", "preferences")
        except requests.ConnectionError:
            continue
        if response.status_code == 503:
            assert response.headers["Content-Type"].startswith("text/html")
            return
    pytest.fail("no 503 drawn in 20 faulty requests")


def test_scripted_500_then_success(emu, qb):
    emu.add_fault("500", count=1, method="POST", path_contains="/customer")
    with pytest.raises(SevereException) as exc:
        make_customer(qb, "Acme Foods")
    assert exc.value.error_code == 10000
    assert make_customer(qb, "Acme Foods").Id


def test_scripted_503_html(emu, qb):
    emu.add_fault("503", path_contains="/query")
    with pytest.raises(QuickbooksException) as exc:
        Customer.all(qb=qb)
    assert "503" in exc.value.message


def test_scripted_429(emu, qb):
    emu.add_fault("429", count=2, path_contains="/query")
    for _ in range(2):
        with pytest.raises(ValidationException):
            Customer.all(qb=qb)
    assert Customer.all(qb=qb) == []


def test_scripted_drop_closes_connection_without_response(emu, qb):
    emu.add_fault("drop", method="POST", path_contains="/customer")
    with pytest.raises(requests.ConnectionError):
        make_customer(qb, "Acme Foods")
    assert Customer.all(qb=qb) == []  # nothing was created


def test_drop_after_commit_then_retry_with_same_request_id(emu, qb):
    customer = make_customer(qb, "Acme Foods")
    emu.add_fault("drop_after_commit", method="POST", path_contains="/invoice")
    with pytest.raises(requests.ConnectionError):
        make_invoice(qb, customer.Id, doc_number="L-1", request_id="L-1-create")
    retried = make_invoice(qb, customer.Id, doc_number="L-1", request_id="L-1-create")
    assert retried.DocNumber == "L-1"
    assert Invoice.count(qb=qb) == 1


def test_scripted_latency(emu, qb):
    emu.add_fault("latency", ms=200, path_contains="/query")
    started = time.monotonic()
    Customer.all(qb=qb)
    assert time.monotonic() - started >= 0.2


def test_every_api_response_has_unique_intuit_tid(emu):
    tokens = emu.issue_tokens()
    responses = [
        api(emu, tokens, "GET", "preferences"),
        api(emu, tokens, "GET", "query", params={"query": "SELECT * FROM Nope"}),
        api(emu, {**tokens, "access_token": "bad"}, "GET", "preferences"),
    ]
    tids = [r.headers.get("intuit_tid") for r in responses]
    assert all(tids) and len(set(tids)) == 3


def test_runtime_config_change(emu):
    tokens = emu.issue_tokens()
    emu.configure(rate_limit=1)
    try:
        assert [prefs_status(emu, tokens) for _ in range(2)] == [200, 429]
    finally:
        emu.configure(rate_limit=500)


def test_batch_requests_per_minute_and_stats(make_emulator):
    emu = make_emulator(batch_rate_limit=2, time_scale=60)
    tokens = emu.issue_tokens()
    item = {"bId": "1", "Query": "SELECT * FROM Preferences"}
    body = {"BatchItemRequest": [item, {**item, "bId": "2"}]}
    statuses = [api(emu, tokens, "POST", "batch", json=body) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].headers["Retry-After"] == "1"  # scaled: under one second, rounded up
    assert prefs_status(emu, tokens) == 200  # plain requests are not batch requests
    stats = emu.stats()
    assert (stats["batch_requests"], stats["batch_items"], stats["throttled"]) == (2, 4, 1)
    assert stats["max_in_flight"] == 1
