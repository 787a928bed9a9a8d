"""requestid idempotency, batch operations and change data capture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from quickbooks.batch import batch_create, batch_delete, batch_update
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from emulator.clients import quickbooks_client

from .conftest import api, make_customer, make_invoice


@pytest.fixture
def customer(qb):
    return make_customer(qb, "Acme Foods")


# --- requestid ----------------------------------------------------------------------------------


def test_same_request_id_returns_first_response_and_creates_nothing(qb, customer):
    first = make_invoice(qb, customer.Id, doc_number="L-1", request_id="load-L-1-attempt")
    again = make_invoice(qb, customer.Id, doc_number="L-1", request_id="load-L-1-attempt")
    assert again.Id == first.Id
    assert Invoice.count(qb=qb) == 1


def test_replayed_fault_has_same_status_and_body(emu, customer):
    tokens = emu.issue_tokens()
    body = {"CustomerRef": {"value": "999"}, "Line": []}
    first = api(emu, tokens, "POST", "invoice?requestid=r-1", json=body)
    body["CustomerRef"] = {"value": customer.Id}  # a fixed body does not matter: the id was used
    second = api(emu, tokens, "POST", "invoice?requestid=r-1", json=body)
    assert first.status_code == second.status_code == 400
    assert first.content == second.content


def test_request_ids_are_per_realm(emu, customer):
    default_tokens = emu.issue_tokens()
    other_tokens = emu.issue_tokens("5550001")
    body = {"DisplayName": "Shared Name"}
    a = api(emu, default_tokens, "POST", "customer?requestid=same", json=body).json()["Customer"]
    b = api(emu, other_tokens, "POST", "customer?requestid=same", json=body).json()["Customer"]
    assert a["DisplayName"] == b["DisplayName"] == "Shared Name"
    assert Customer.filter(DisplayName="Shared Name", qb=quickbooks_client(emu, realm_id="5550001"))


def test_request_id_over_50_characters_refused(emu):
    response = api(
        emu, emu.issue_tokens(), "POST", "customer?requestid=" + "x" * 51, json={"DisplayName": "A"}
    )
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["element"] == "requestid"


def test_request_id_on_delete(qb, customer):
    invoice = make_invoice(qb, customer.Id)
    first = invoice.delete(qb=qb, request_id="del-1")
    second = invoice.delete(qb=qb, request_id="del-1")  # would be 610 without the id
    assert first == second


# --- batch --------------------------------------------------------------------------------------


def test_batch_helpers_create_update_delete(qb):
    customers = []
    for name in ("A Co", "B Co", "A Co"):
        c = Customer()
        c.DisplayName = name
        customers.append(c)
    created = batch_create(customers, qb=qb)
    assert sorted(c.DisplayName for c in created.successes) == ["A Co", "B Co"]
    assert [f.Error[0].code for f in created.faults] == ["6240"]

    saved = created.successes[0]
    saved.CompanyName = "Renamed"
    updated = batch_update([saved], qb=qb)
    assert updated.successes[0].CompanyName == "Renamed"
    assert updated.successes[0].SyncToken == "1"


def test_batch_delete_invoices(qb, customer):
    invoices = [make_invoice(qb, customer.Id), make_invoice(qb, customer.Id)]
    result = batch_delete(invoices, qb=qb)
    assert len(result.successes) == 2
    assert Invoice.count(qb=qb) == 0


def test_batch_mixed_items_each_answered_with_bid(emu, customer):
    tokens = emu.issue_tokens()
    body = {
        "BatchItemRequest": [
            {"bId": "q1", "Query": "SELECT * FROM Customer"},
            {"bId": "c1", "operation": "create", "Customer": {"DisplayName": "New Co"}},
            {"bId": "bad", "operation": "update", "Customer": {"Id": customer.Id, "SyncToken": "7"}},
            {"bId": "q2", "Query": "SELECT * FROM Nowhere"},
        ]
    }
    response = api(emu, tokens, "POST", "batch", json=body)
    assert response.status_code == 200
    items = {item["bId"]: item for item in response.json()["BatchItemResponse"]}
    assert items["q1"]["QueryResponse"]["Customer"][0]["DisplayName"] == "Acme Foods"
    assert items["c1"]["Customer"]["DisplayName"] == "New Co"
    assert items["bad"]["Fault"]["Error"][0]["code"] == "5010"
    assert items["q2"]["Fault"]["Error"][0]["code"] == "4000"


def test_batch_over_30_items_is_a_fault(emu):
    items = [{"bId": str(i), "Query": "SELECT * FROM Item"} for i in range(31)]
    response = api(emu, emu.issue_tokens(), "POST", "batch", json={"BatchItemRequest": items})
    assert response.status_code == 400
    assert "Fault" in response.json()


# --- change data capture ------------------------------------------------------------------------


def test_cdc_returns_changed_and_deleted_objects(qb, customer):
    since = datetime.now(UTC) - timedelta(minutes=5)
    kept = make_invoice(qb, customer.Id, doc_number="L-1")
    gone = make_invoice(qb, customer.Id, doc_number="L-2")
    gone.delete(qb=qb)
    response = change_data_capture([Invoice, Customer], since, qb=qb)
    invoices = list(response.Invoice)
    assert [i.Id for i in invoices] == [kept.Id, gone.Id]
    assert invoices[1].status == "Deleted"
    assert [c.DisplayName for c in response.Customer] == ["Acme Foods"]


def test_cdc_raw_shape_and_no_changes(emu, customer):
    tokens = emu.issue_tokens()
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    body = api(emu, tokens, "GET", "cdc", params={"entities": "Invoice", "changedSince": future}).json()
    assert body["CDCResponse"] == [{"QueryResponse": [{}]}]
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    body = api(emu, tokens, "GET", "cdc", params={"entities": "customer", "changedSince": past}).json()
    entry = body["CDCResponse"][0]["QueryResponse"][0]
    assert entry["Customer"][0]["Id"] == customer.Id
    assert entry["startPosition"] == 1 and entry["maxResults"] == 1


def test_cdc_deleted_object_shape(emu, qb, customer):
    invoice = make_invoice(qb, customer.Id)
    invoice.delete(qb=qb)
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    body = api(
        emu, emu.issue_tokens(), "GET", "cdc", params={"entities": "Invoice", "changedSince": since}
    ).json()
    deleted = body["CDCResponse"][0]["QueryResponse"][0]["Invoice"][0]
    assert set(deleted) == {"Id", "status", "domain", "MetaData"}
    assert deleted["status"] == "Deleted"


def test_cdc_older_than_30_days_is_a_fault(qb):
    with pytest.raises(QuickbooksException) as exc:
        change_data_capture([Invoice], datetime.now(UTC) - timedelta(days=31), qb=qb)
    assert exc.value.error_code == 4001


def test_cdc_caps_at_1000_objects(emu, qb):
    emu.seed({"customers": [{"DisplayName": f"Customer {n:04d}"} for n in range(1005)]})
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    body = api(
        emu, emu.issue_tokens(), "GET", "cdc", params={"entities": "Customer", "changedSince": since}
    ).json()
    assert len(body["CDCResponse"][0]["QueryResponse"][0]["Customer"]) == 1000
