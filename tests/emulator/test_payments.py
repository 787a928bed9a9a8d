"""Payments: applied to invoices (partly, fully, too much), read, queried, deleted, voided."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment, PaymentLine

from .conftest import api, make_customer, make_invoice, ref


@pytest.fixture
def setup(qb):
    acme = make_customer(qb, "Acme Foods")
    other = make_customer(qb, "Other Co")
    invoice = make_invoice(qb, acme.Id, lines=[("1", "100.00")], doc_number="L-1")
    return acme, other, invoice


def pay(emu, tokens, customer_id, total, *applied, **kwargs):
    lines = [
        {"Amount": amount, "LinkedTxn": [{"TxnId": txn, "TxnType": "Invoice"}]} for txn, amount in applied
    ]
    body = {"CustomerRef": {"value": customer_id}, "TotalAmt": total, "Line": lines}
    return api(emu, tokens, "POST", "payment", json=body, **kwargs)


def read(emu, tokens, entity, record_id):
    return api(emu, tokens, "GET", f"{entity.lower()}/{record_id}").json()[entity]


def code(response):
    assert response.status_code == 400, response.text
    return response.json()["Fault"]["Error"][0]["code"]


def test_partial_payment_lowers_the_balance_and_links_both_ways(emu, tokens, setup):
    acme, _, invoice = setup
    response = pay(emu, tokens, acme.Id, 40, (invoice.Id, 40))
    assert response.status_code == 200, response.text
    payment = response.json()["Payment"]
    assert payment["TotalAmt"] == 40 and payment["UnappliedAmt"] == 0
    assert payment["CustomerRef"] == {"value": acme.Id, "name": "Acme Foods"}
    assert payment["Line"] == [{"Amount": 40, "LinkedTxn": [{"TxnId": invoice.Id, "TxnType": "Invoice"}]}]
    assert read(emu, tokens, "Payment", payment["Id"]) == payment

    after = read(emu, tokens, "Invoice", invoice.Id)
    assert after["Balance"] == 60 and after["TotalAmt"] == 100
    assert after["SyncToken"] == "1"  # QuickBooks updates the invoice when a payment is applied
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]

    query = f"SELECT * FROM Payment WHERE CustomerRef = '{acme.Id}'"
    found = api(emu, tokens, "GET", "query", params={"query": query}).json()["QueryResponse"]
    assert found["Payment"] == [payment]


def test_full_payment_then_any_more_is_an_overpayment(emu, tokens, setup):
    acme, _, invoice = setup
    assert pay(emu, tokens, acme.Id, 100, (invoice.Id, 100)).status_code == 200
    assert read(emu, tokens, "Invoice", invoice.Id)["Balance"] == 0
    assert code(pay(emu, tokens, acme.Id, 1, (invoice.Id, 1))) == "6000"


def test_overpayment_is_refused_and_changes_nothing(emu, tokens, setup):
    acme, _, invoice = setup
    assert code(pay(emu, tokens, acme.Id, 150, (invoice.Id, 150))) == "6000"
    unchanged = read(emu, tokens, "Invoice", invoice.Id)
    assert (unchanged["Balance"], unchanged["SyncToken"], unchanged["LinkedTxn"]) == (100, "0", [])
    listed = api(emu, tokens, "GET", "query", params={"query": "SELECT count(*) FROM Payment"}).json()
    assert listed["QueryResponse"]["totalCount"] == 0


def test_money_left_over_is_unapplied_and_lines_cannot_exceed_the_total(emu, tokens, setup):
    acme, _, invoice = setup
    payment = pay(emu, tokens, acme.Id, 70, (invoice.Id, 30)).json()["Payment"]
    assert payment["UnappliedAmt"] == 40
    assert code(pay(emu, tokens, acme.Id, 10, (invoice.Id, 20))) == "6000"


def test_references_are_checked(emu, tokens, setup):
    acme, other, invoice = setup
    unknown_customer = pay(emu, tokens, "999", 10, (invoice.Id, 10))
    assert code(unknown_customer) == "2500"
    assert unknown_customer.json()["Fault"]["Error"][0]["element"] == "CustomerRef"
    unknown_invoice = pay(emu, tokens, acme.Id, 10, ("999", 10))
    assert code(unknown_invoice) == "2500"
    assert unknown_invoice.json()["Fault"]["Error"][0]["element"] == "Line.LinkedTxn.TxnId"
    assert code(pay(emu, tokens, other.Id, 10, (invoice.Id, 10))) == "6000"  # another customer's invoice
    assert code(api(emu, tokens, "POST", "payment", json={"CustomerRef": {"value": acme.Id}})) == "2020"


def test_deleting_a_payment_restores_the_balance(emu, tokens, setup):
    acme, _, invoice = setup
    payment = pay(emu, tokens, acme.Id, 60, (invoice.Id, 60)).json()["Payment"]
    stale = api(emu, tokens, "POST", "payment?operation=delete", json={"Id": payment["Id"], "SyncToken": "3"})
    assert code(stale) == "5010"
    deleted = api(
        emu, tokens, "POST", "payment?operation=delete", json={"Id": payment["Id"], "SyncToken": "0"}
    )
    assert deleted.json()["Payment"] == {"status": "Deleted", "domain": "QBO", "Id": payment["Id"]}
    restored = read(emu, tokens, "Invoice", invoice.Id)
    assert (restored["Balance"], restored["SyncToken"], restored["LinkedTxn"]) == (100, "2", [])
    assert api(emu, tokens, "GET", f"payment/{payment['Id']}").json()["Fault"]["Error"][0]["code"] == "610"


def test_one_payment_over_two_invoices_and_an_update(emu, tokens, qb, setup):
    acme, _, first = setup
    second = make_invoice(qb, acme.Id, lines=[("1", "50.00")], doc_number="L-2")
    payment = pay(emu, tokens, acme.Id, 150, (first.Id, 100), (second.Id, 50)).json()["Payment"]
    assert [read(emu, tokens, "Invoice", i)["Balance"] for i in (first.Id, second.Id)] == [0, 0]
    change = {
        "Id": payment["Id"],
        "SyncToken": "0",
        "sparse": True,
        "Line": [{"Amount": 20, "LinkedTxn": [{"TxnId": first.Id, "TxnType": "Invoice"}]}],
    }
    updated = api(emu, tokens, "POST", "payment", json=change).json()["Payment"]
    assert (updated["TotalAmt"], updated["UnappliedAmt"], updated["SyncToken"]) == (150, 130, "1")
    firsts, seconds = (read(emu, tokens, "Invoice", i) for i in (first.Id, second.Id))
    assert (firsts["Balance"], seconds["Balance"], seconds["LinkedTxn"]) == (80, 50, [])


def test_an_invoice_keeps_its_payments_through_updates(emu, tokens, setup):
    acme, _, invoice = setup
    pay(emu, tokens, acme.Id, 30, (invoice.Id, 30))
    current = read(emu, tokens, "Invoice", invoice.Id)
    change = {"Id": invoice.Id, "SyncToken": current["SyncToken"], "sparse": True, "PrivateNote": "x"}
    updated = api(emu, tokens, "POST", "invoice", json=change).json()["Invoice"]
    assert updated["Balance"] == 70 and len(updated["LinkedTxn"]) == 1
    lines = [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": 20,
            "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
        }
    ]
    too_small = {"Id": invoice.Id, "SyncToken": updated["SyncToken"], "sparse": True, "Line": lines}
    assert code(api(emu, tokens, "POST", "invoice", json=too_small)) == "6000"


def test_voiding_or_deleting_a_paid_invoice_leaves_the_money_unapplied(emu, tokens, qb, setup):
    acme, _, invoice = setup
    second = make_invoice(qb, acme.Id, lines=[("1", "50.00")])
    payment = pay(emu, tokens, acme.Id, 90, (invoice.Id, 40), (second.Id, 50)).json()["Payment"]
    current = read(emu, tokens, "Invoice", invoice.Id)
    voided = api(
        emu,
        tokens,
        "POST",
        "invoice?operation=void",
        json={"Id": invoice.Id, "SyncToken": current["SyncToken"]},
    )
    assert voided.json()["Invoice"]["LinkedTxn"] == []
    after = read(emu, tokens, "Payment", payment["Id"])
    assert (after["UnappliedAmt"], after["SyncToken"], len(after["Line"])) == (40, "1", 1)
    current = read(emu, tokens, "Invoice", second.Id)
    api(
        emu,
        tokens,
        "POST",
        "invoice?operation=delete",
        json={"Id": second.Id, "SyncToken": current["SyncToken"]},
    )
    after = read(emu, tokens, "Payment", payment["Id"])
    assert (after["UnappliedAmt"], after["Line"]) == (90, [])


def test_python_quickbooks_payment_create_and_void(qb, setup):
    acme, _, invoice = setup
    payment = Payment()
    payment.CustomerRef = ref(acme.Id)
    payment.TotalAmt = Decimal("25.00")
    line = PaymentLine()
    line.Amount = Decimal("25.00")
    line.LinkedTxn.append(invoice.to_linked_txn())
    payment.Line = [line]
    payment.save(qb=qb)
    assert Invoice.get(invoice.Id, qb=qb).Balance == 75
    Payment.get(payment.Id, qb=qb).void(qb=qb)  # operation=update&include=void, as QuickBooks wants
    voided = Payment.get(payment.Id, qb=qb)
    assert (voided.TotalAmt, voided.PrivateNote) == (0, "Voided")
    assert Invoice.get(invoice.Id, qb=qb).Balance == 100


def test_seeded_payments_name_their_invoices(emu):
    seeded = emu.seed(
        {
            "customers": [{"DisplayName": "Seed Co"}],
            "invoices": [
                {
                    "CustomerRef": {"name": "Seed Co"},
                    "DocNumber": "S-1",
                    "Line": [
                        {
                            "DetailType": "SalesItemLineDetail",
                            "Amount": 80,
                            "SalesItemLineDetail": {"ItemRef": {"name": "Services"}},
                        }
                    ],
                }
            ],
            "payments": [
                {
                    "CustomerRef": {"name": "Seed Co"},
                    "TotalAmt": 30,
                    "Line": [{"Amount": 30, "LinkedTxn": [{"DocNumber": "S-1"}]}],
                }
            ],
        }
    )
    (payment,) = seeded["payments"]
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": seeded["invoices"][0]["Id"], "TxnType": "Invoice"}]
    tokens = emu.issue_tokens()
    assert read(emu, tokens, "Invoice", seeded["invoices"][0]["Id"])["Balance"] == 50
