"""The QuickBooks adapter against every Fault the emulator produces: each becomes a ``QboError`` with
QuickBooks' code, detail, element and ``intuit_tid`` — through python-quickbooks, never patched."""

from __future__ import annotations

import threading

import pytest

from emulator.server import EmulatorServer
from services.connect.connection import ConnectionService
from services.quickbooks import Kind, NotConnected, QboError, RetryPolicy
from services.quickbooks.errors import parse_faults
from services.quickbooks.escape import quote, safe_prefix
from services.store.models import ConnectionState
from tests.builders import income_account, qb_customer, qb_item


def invoice_body(customer_id: str, item_id: str, doc: str = "A-1", amount: str = "100.00") -> dict:
    return {
        "DocNumber": doc,
        "CustomerRef": {"value": customer_id},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": amount,
                "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": 1, "UnitPrice": amount},
            }
        ],
    }


@pytest.fixture
def basics(connected):
    return qb_customer(connected.api, "Acme Foods", "ap@acme.example"), qb_item(connected.api, "Base Price")


def fault_of(call) -> QboError:
    with pytest.raises(QboError) as caught:
        call()
    return caught.value


def test_duplicate_doc_number_is_6140(connected, basics):
    customer, item = basics
    connected.api.create("Invoice", invoice_body(customer["Id"], item["Id"]))
    error = fault_of(lambda: connected.api.create("Invoice", invoice_body(customer["Id"], item["Id"])))
    assert (error.kind, error.code, error.http_status) == (Kind.VALIDATION, "6140", 400)
    assert error.intuit_tid and "A-1" in error.detail


def test_duplicate_name_is_6240(connected, basics):
    error = fault_of(lambda: qb_customer(connected.api, "acme foods", None))
    assert (error.kind, error.code) == (Kind.VALIDATION, "6240")


def test_unknown_item_reference_is_2500_naming_the_element(connected, basics):
    customer, _item = basics
    error = fault_of(lambda: connected.api.create("Invoice", invoice_body(customer["Id"], "99999")))
    assert error.code == "2500"
    assert "ItemRef" in error.element


def test_inactive_customer_is_610_naming_the_element(connected, basics):
    customer, item = basics
    connected.api.update(
        "Customer",
        {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Active": False},
    )
    error = fault_of(lambda: connected.api.create("Invoice", invoice_body(customer["Id"], item["Id"])))
    assert (error.kind, error.code) == (Kind.NOT_FOUND, "610")
    assert "CustomerRef" in error.element


def test_doc_number_too_long_is_2050(connected, basics):
    customer, item = basics
    body = invoice_body(customer["Id"], item["Id"], doc="X" * 22)
    error = fault_of(lambda: connected.api.create("Invoice", body))
    assert error.code == "2050" and "DocNumber" in error.element


def test_stale_sync_token_is_5010(connected, basics):
    customer, _ = basics
    connected.api.update("Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"})
    error = fault_of(
        lambda: connected.api.update("Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True})
    )
    assert (error.kind, error.code) == (Kind.STALE, "5010")


def test_reading_a_missing_entity_gives_none(connected):
    assert connected.api.read("Invoice", "424242") is None


def test_a_malformed_query_is_4000(connected):
    error = fault_of(lambda: connected.api.query("SELECT * FROM Invoice WHERE DocNumber = 'O'Brien'"))
    assert error.code == "4000"


@pytest.mark.parametrize("name", ["O'Brien Trucking", "Back\\slash Cartage", "Quote'\\'Mix"])
def test_escaped_values_match_exactly(connected, name):
    created = qb_customer(connected.api, name, None)
    qb_customer(connected.api, name + " Two", None)
    rows = connected.api.query(f"SELECT * FROM Customer WHERE DisplayName = {quote(name)}").get(
        "Customer", []
    )
    assert [r["Id"] for r in rows] == [created["Id"]]


def test_curly_quotes_are_never_put_in_a_query():
    with pytest.raises(ValueError):
        quote("D’ANGELO")
    assert safe_prefix("D’ANGELO") == "D"
    assert safe_prefix("L-10%") == "L-10"


def test_throttling_is_retried_then_reported(connected, emu):
    emu.add_fault("429", count=1, path_contains="/query")
    assert connected.api.query("SELECT count(*) FROM Item")["totalCount"] >= 1
    emu.add_fault("429", count=5, path_contains="/query")
    error = fault_of(lambda: connected.api.query("SELECT count(*) FROM Item"))
    assert (error.kind, error.code, error.http_status) == (Kind.THROTTLED, "3001", 429)


def test_throttling_answered_in_xml_is_understood(connected, emu):
    emu.configure(throttle_xml=True)
    emu.add_fault("429", count=5, path_contains="/query")
    error = fault_of(lambda: connected.api.query("SELECT count(*) FROM Item"))
    assert (error.kind, error.code) == (Kind.THROTTLED, "3001")
    assert (
        parse_faults(
            "<IntuitResponse><Fault><Error code='3001'><Message>x</Message></Error></Fault></IntuitResponse>"
        )[0].code
        == "3001"
    )


@pytest.mark.parametrize("kind", ["500", "503", "drop"])
def test_outages_are_retried_then_reported(connected, emu, kind):
    emu.add_fault(kind, count=1, path_contains="/query")
    assert "totalCount" in connected.api.query("SELECT count(*) FROM Item")
    emu.add_fault(kind, count=5, path_contains="/query")
    error = fault_of(lambda: connected.api.query("SELECT count(*) FROM Item"))
    assert error.kind is Kind.UNAVAILABLE and error.transient


def test_a_create_without_request_id_is_not_repeated_after_an_outage(connected, emu, basics):
    customer, item = basics
    emu.add_fault("drop_after_commit", count=1, path_contains="/invoice")
    error = fault_of(lambda: connected.api.create("Invoice", invoice_body(customer["Id"], item["Id"])))
    assert error.kind is Kind.UNAVAILABLE
    rows = connected.api.query("SELECT * FROM Invoice").get("Invoice", [])
    assert len(rows) == 1  # created once, not retried blindly


def test_a_create_with_request_id_is_retried_and_answered_once(connected, emu, basics):
    customer, item = basics
    emu.add_fault("drop_after_commit", count=1, path_contains="/invoice")
    invoice = connected.api.create("Invoice", invoice_body(customer["Id"], item["Id"]), request_id="req-1")
    rows = connected.api.query("SELECT * FROM Invoice").get("Invoice", [])
    assert [r["Id"] for r in rows] == [invoice["Id"]]


def test_an_injected_business_fault_keeps_code_detail_and_element(connected, emu, basics):
    customer, item = basics
    emu.add_fault(
        "fault",
        path_contains="/invoice",
        code="6210",
        message="Account Period Closed",
        detail="The account period has closed",
        element="TxnDate",
    )
    error = fault_of(lambda: connected.api.create("Invoice", invoice_body(customer["Id"], item["Id"])))
    assert (error.kind, error.code, error.element) == (Kind.VALIDATION, "6210", "TxnDate")
    assert error.detail == "The account period has closed"


def test_batch_answers_each_item(connected, basics):
    customer, item = basics
    answers = connected.api.batch(
        [
            {"bId": "prefs", "Query": "SELECT * FROM Preferences"},
            {"bId": "bad", "Query": "SELECT * FROM Nowhere"},
            {"bId": "inv", "operation": "create", "Invoice": invoice_body(customer["Id"], item["Id"])},
        ]
    )
    assert "Preferences" in answers["prefs"]["QueryResponse"]
    assert answers["bad"]["Fault"]["Error"][0]["code"] == "4000"
    assert answers["inv"]["Invoice"]["DocNumber"] == "A-1"


def test_paging_reads_every_row(connected):
    account = income_account(connected.api)
    for n in range(7):
        connected.api.create(
            "Item", {"Name": f"Code {n}", "Type": "Service", "IncomeAccountRef": {"value": account}}
        )
    rows = connected.api.query_all("Item", page_size=3)
    assert {f"Code {n}" for n in range(7)} <= {r["Name"] for r in rows}


# -- tokens ---------------------------------------------------------------------------------------


def test_an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_stored(connected, emu, engine):
    from sqlmodel import Session

    from services.store.models import QboConnection

    with Session(engine) as session:
        before = session.get(QboConnection, 1).refresh_token
    emu.expire_tokens()
    assert "totalCount" in connected.api.query("SELECT count(*) FROM Item")
    with Session(engine) as session:
        row = session.get(QboConnection, 1)
    assert row.refresh_token != before
    plaintext = connected.cipher.decrypt(row.refresh_token)
    assert plaintext and plaintext not in row.refresh_token  # stored encrypted
    assert connected.connection.status().connected


def test_concurrent_refreshes_do_not_disconnect_the_company(connected, emu):
    emu.expire_tokens()
    errors: list[Exception] = []

    def work() -> None:
        try:
            connected.api.query("SELECT count(*) FROM Item")
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert connected.connection.status().connected


def test_concurrent_refreshes_from_separate_services_share_the_database_lock(connected, emu, svc):
    """Two ConnectionService objects (as two processes would have) refresh one after the other."""
    other = ConnectionService(svc.engine, svc.auth, svc.cipher)
    emu.expire_tokens()
    results: list[object] = []

    def refresh(service: ConnectionService) -> None:
        try:
            results.append(service.current())
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=refresh, args=(s,)) for s in (svc.connection, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(r, tuple) for r in results), results
    assert connected.connection.status().connected


def test_a_retired_refresh_token_marks_the_connection_broken(connected, emu):
    grant = emu.issue_tokens()
    connected.auth.refresh(grant["refresh_token"])  # rotates: the original is now retired
    from services.quickbooks import TokenSet

    connected.connection.store(TokenSet("expired", grant["refresh_token"], 0, None), grant["realm_id"], "t")
    with pytest.raises(NotConnected):
        connected.api.query("SELECT count(*) FROM Item")
    status = connected.connection.status()
    assert status.state is ConnectionState.BROKEN
    assert "invalid_grant" in (status.broken_reason or "")


def test_wrong_client_credentials_are_not_connected(tmp_path):
    from services.quickbooks import IntuitAuth
    from services.settings import load_settings

    with EmulatorServer(port=0, client_id="right", client_secret="right") as emu:
        settings = load_settings(
            DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
            QBO_CLIENT_ID="wrong",
            QBO_CLIENT_SECRET="wrong",
            INTUIT_DISCOVERY_URL=emu.discovery_url,
        )
        auth = IntuitAuth(settings)
        with pytest.raises(NotConnected) as caught:
            auth.refresh("whatever")
        assert caught.value.code == "invalid_client"


def test_plain_http_is_refused_outside_loopback(tmp_path):
    from services.errors import ConfigurationError
    from services.quickbooks.auth import allow_loopback_http

    with pytest.raises(ConfigurationError):
        allow_loopback_http("http://quickbooks.example.com/v3")
    allow_loopback_http("https://quickbooks.api.intuit.com/v3", "http://127.0.0.1:8089/v3")


def test_backoff_waits_are_jittered_and_bounded(connected, emu):
    slept: list[float] = []
    connected.api.retry = RetryPolicy(attempts=4, base_delay=0.5, max_delay=2.0, sleep=slept.append)
    emu.add_fault("503", count=3, path_contains="/query")
    assert "totalCount" in connected.api.query("SELECT count(*) FROM Item")
    assert len(slept) == 3
    assert all(0 <= s <= 2.0 for s in slept)


REFRESH_IN_A_PROCESS = """
import sys, time
from wiring.services import bootstrap
from services.settings import load_settings
svc = bootstrap(load_settings())
deadline = float(sys.argv[1])
while time.time() < deadline:
    time.sleep(0.001)
svc.api.query("SELECT count(*) FROM Item")  # 401: the access token was expired at Intuit
realm, token = svc.connection.current()
print(token)
"""


def test_two_processes_refreshing_at_once_keep_the_company_connected(connected, emu, env):
    """Rotating refresh tokens: without the database lock one process would store a retired token."""
    import subprocess
    import sys
    import time

    emu.expire_tokens()
    start_at = str(time.time() + 3)  # both processes ask at the same moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", REFRESH_IN_A_PROCESS, start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    tokens = [out.strip() for out, _err in outputs]
    assert tokens[0] == tokens[1]  # the second found the first one's refresh and used it
    assert connected.connection.status().connected
    assert "totalCount" in connected.api.query("SELECT count(*) FROM Item")


def test_disconnect_with_a_changed_key_still_forgets_the_tokens(connected, svc):
    from services.store.models import ConnectionState
    from services.store.secrets import TokenCipher

    other = ConnectionService(svc.engine, svc.auth, TokenCipher("a-different-key"))
    assert other.disconnect() is False  # cannot decrypt, so cannot revoke: but the tokens go
    assert connected.connection.status().state is ConnectionState.DISCONNECTED


def test_realm_ids_are_ascii_digits():
    from services.connect.flow import check_realm_id
    from services.errors import UserInputError

    assert check_realm_id(" 9341453050298551 ") == "9341453050298551"
    for bad in ("١٢٣", "12a", "", "1" * 33):
        with pytest.raises(UserInputError):
            check_realm_id(bad)
