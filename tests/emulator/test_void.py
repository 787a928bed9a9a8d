"""Voiding invoices: they stay, worth nothing, with the memo "Voided"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from quickbooks.objects.invoice import Invoice

from .conftest import api, make_customer, make_invoice

SINCE = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds").replace("+00:00", "Z")


def void(emu, tokens, body, **kwargs):
    return api(emu, tokens, "POST", "invoice?operation=void", json=body, **kwargs)


def test_void_keeps_the_invoice_worth_nothing(emu, tokens, invoice):
    response = void(emu, tokens, {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == {"Invoice", "time"}
    voided = answer["Invoice"]
    assert voided["Id"] == invoice["Id"] and voided["DocNumber"] == "L-100"
    assert voided["SyncToken"] == "1"
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    assert voided["PrivateNote"] == "Voided load L-100", "prepended to the memo there was"
    sales = [line for line in voided["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert [line["Amount"] for line in voided["Line"]] == [0, 0, 0]  # two sales lines and SubTotal
    for line in sales:
        detail = line["SalesItemLineDetail"]
        assert detail["Qty"] * detail["UnitPrice"] == line["Amount"] == 0
    assert [line["SalesItemLineDetail"]["UnitPrice"] for line in sales] == [50.0, 25.5]
    assert voided["MetaData"]["LastUpdatedTime"] >= invoice["MetaData"]["LastUpdatedTime"]

    read = api(emu, tokens, "GET", f"invoice/{invoice['Id']}").json()["Invoice"]
    assert read == voided
    found = api(
        emu, tokens, "GET", "query", params={"query": "SELECT * FROM Invoice WHERE DocNumber = 'L-100'"}
    )
    assert found.json()["QueryResponse"]["Invoice"] == [voided]
    cdc = api(emu, tokens, "GET", "cdc", params={"entities": "Invoice", "changedSince": SINCE})
    assert cdc.json()["CDCResponse"][0]["QueryResponse"][0]["Invoice"] == [voided]


def test_void_with_a_stale_sync_token_is_5010_and_unknown_is_610(emu, tokens, invoice):
    stale = void(emu, tokens, {"Id": invoice["Id"], "SyncToken": "7"})
    assert stale.status_code == 400
    assert stale.json()["Fault"]["Error"][0]["code"] == "5010"
    unknown = void(emu, tokens, {"Id": "999", "SyncToken": "0"})
    assert unknown.json()["Fault"]["Error"][0]["code"] == "610"
    unchanged = api(emu, tokens, "GET", f"invoice/{invoice['Id']}").json()["Invoice"]
    assert unchanged["TotalAmt"] == 125.5 and unchanged["SyncToken"] == "0"


def test_a_void_is_made_by_the_header_user(emu, tokens, invoice):
    voided = void(emu, tokens, {"Id": invoice["Id"], "SyncToken": "0"}, headers={"X-Emulator-User": "78"})
    assert voided.json()["Invoice"]["MetaData"]["LastModifiedByRef"] == {"value": "78"}


def test_python_quickbooks_void(qb):
    customer = make_customer(qb, "Beta Co")
    invoice = make_invoice(qb, customer.Id, lines=[("1", "80.00")])
    invoice.void(qb=qb)
    again = Invoice.get(invoice.Id, qb=qb)
    assert (again.TotalAmt, again.Balance, again.PrivateNote, again.SyncToken) == (0, 0, "Voided", "1")


def test_void_as_a_batch_item(emu, tokens, invoice):
    items = [
        {"bId": "v1", "operation": "void", "Invoice": {"Id": invoice["Id"], "SyncToken": "0"}},
        {"bId": "v2", "operation": "void", "Customer": {"Id": "1", "SyncToken": "0"}},
    ]
    answer = api(emu, tokens, "POST", "batch", json={"BatchItemRequest": items}).json()["BatchItemResponse"]
    assert answer[0]["Invoice"]["PrivateNote"] == "Voided load L-100"
    assert answer[1]["Fault"]["Error"][0]["Message"] == "Unsupported Operation"


def test_only_invoices_are_voided_with_operation_void(emu, tokens, invoice):
    response = api(emu, tokens, "POST", "customer?operation=void", json={"Id": "1", "SyncToken": "0"})
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["Message"] == "Unsupported Operation"
