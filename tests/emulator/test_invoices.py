"""Invoices through python-quickbooks: validation faults, totals, DocNumber rules, updates, delete."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException, ValidationException
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.preferences import Preferences

from .conftest import api, make_customer, make_invoice, ref, sales_line


@pytest.fixture
def customer(qb):
    return make_customer(qb, "Acme Foods", "ap@acme.example")


def test_create_computes_total_balance_and_defaults(qb, customer):
    invoice = make_invoice(qb, customer.Id, [("1", "850.00"), ("1", "125.555")], doc_number="L-1001")
    assert invoice.TotalAmt == 975.56  # 850.00 + 125.56 (amounts rounded to cents)
    assert invoice.Balance == invoice.TotalAmt
    assert invoice.TxnDate == datetime.now(UTC).date().isoformat()
    assert invoice.DueDate == invoice.TxnDate
    assert invoice.DocNumber == "L-1001"
    assert invoice.CustomerRef.value == customer.Id
    assert invoice.CustomerRef.name == "Acme Foods"
    assert invoice.BillEmail.Address == "ap@acme.example"
    kinds = [line.DetailType for line in invoice.Line]
    assert kinds == ["SalesItemLineDetail", "SalesItemLineDetail", "SubTotalLineDetail"]


def test_private_note_and_customer_memo_are_kept(qb, customer):
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = [sales_line("1", "10")]
    invoice.PrivateNote = "qbsync load L-1"
    invoice.CustomerMemo = {"value": "Thanks"}
    saved = invoice.save(qb=qb)
    again = Invoice.get(saved.Id, qb=qb)
    assert again.PrivateNote == "qbsync load L-1"
    assert again.CustomerMemo.value == "Thanks"


def test_customer_ref_and_line_required(qb, customer):
    invoice = Invoice()
    invoice.Line = [sales_line("1", "10")]
    with pytest.raises(ValidationException) as missing_customer:
        invoice.save(qb=qb)
    assert missing_customer.value.error_code == 2020
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    with pytest.raises(QuickbooksException) as no_lines:
        invoice.save(qb=qb)
    assert no_lines.value.error_code == 6000


def test_unknown_item_is_invalid_reference_naming_the_field(emu, qb, customer):
    with pytest.raises(ValidationException) as exc:
        make_invoice(qb, customer.Id, [("999", "10")])
    assert exc.value.error_code == 2500
    assert exc.value.message == "Invalid Reference Id"
    # the element is in the raw Fault body
    tokens = emu.issue_tokens()
    body = {
        "CustomerRef": {"value": customer.Id},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": 1,
                "SalesItemLineDetail": {"ItemRef": {"value": "999"}},
            }
        ],
    }
    fault = api(emu, tokens, "POST", "invoice", json=body).json()["Fault"]
    assert fault["Error"][0]["element"] == "Line.SalesItemLineDetail.ItemRef"


def test_unknown_customer_is_invalid_reference(qb):
    with pytest.raises(ValidationException) as exc:
        make_invoice(qb, "4242")
    assert exc.value.error_code == 2500


def test_inactive_customer_is_object_not_found(qb, customer):
    customer.Active = False
    customer.save(qb=qb)
    with pytest.raises(ObjectNotFoundException) as exc:
        make_invoice(qb, customer.Id)
    assert exc.value.error_code == 610
    assert "Customer" in exc.value.detail


def test_inactive_item_is_object_not_found(emu, qb, customer):
    item = emu.seed({"items": [{"Name": "Detention", "Active": False}]})["items"][0]
    with pytest.raises(ObjectNotFoundException):
        make_invoice(qb, customer.Id, [(item["Id"], "75")])


def test_doc_number_longer_than_21_characters(qb, customer):
    with pytest.raises(ValidationException) as exc:
        make_invoice(qb, customer.Id, doc_number="L-" + "9" * 20)
    assert exc.value.error_code == 2050
    assert exc.value.message.startswith("String length is either shorter or longer")


def test_duplicate_doc_number_refused_when_custom_numbers_on(qb, customer):
    first = make_invoice(qb, customer.Id, doc_number="L-1001")
    with pytest.raises(QuickbooksException) as exc:
        make_invoice(qb, customer.Id, doc_number="L-1001")
    assert exc.value.error_code == 6140
    assert exc.value.message == "Duplicate Document Number Error"
    assert f"TxnId={first.Id}" in exc.value.detail


def test_doc_number_of_deleted_invoice_can_be_reused(qb, customer):
    first = make_invoice(qb, customer.Id, doc_number="L-1001")
    first.delete(qb=qb)
    assert make_invoice(qb, customer.Id, doc_number="L-1001").DocNumber == "L-1001"


def test_no_doc_number_stays_empty_when_custom_numbers_on(qb, customer):
    assert make_invoice(qb, customer.Id).DocNumber is None


def test_supplied_doc_number_replaced_when_custom_numbers_off(qb, customer):
    prefs = Preferences.get(qb=qb)
    prefs.SalesFormsPrefs.CustomTxnNumbers = False
    prefs.save(qb=qb)
    first = make_invoice(qb, customer.Id, doc_number="L-1001")
    second = make_invoice(qb, customer.Id, doc_number="L-1001")
    assert (first.DocNumber, second.DocNumber) == ("1001", "1002")


def test_read_unknown_invoice_is_610(qb):
    with pytest.raises(ObjectNotFoundException):
        Invoice.get("777", qb=qb)


def test_full_update_requires_current_sync_token(qb, customer):
    invoice = make_invoice(qb, customer.Id, doc_number="L-1")
    invoice.Line = [sales_line("1", "200")]
    updated = invoice.save(qb=qb)
    assert updated.SyncToken == "1"
    assert updated.TotalAmt == 200.0
    invoice.SyncToken = "0"  # stale
    with pytest.raises(QuickbooksException) as exc:
        invoice.save(qb=qb)
    assert exc.value.error_code == 5010
    assert exc.value.message == "Stale Object Error"


def test_sparse_update_changes_only_what_is_sent(emu, qb, customer):
    invoice = make_invoice(qb, customer.Id, [("1", "300")], doc_number="L-7")
    tokens = emu.issue_tokens()
    body = {"Id": invoice.Id, "SyncToken": invoice.SyncToken, "sparse": True, "PrivateNote": "checked"}
    result = api(emu, tokens, "POST", "invoice", json=body).json()["Invoice"]
    assert result["PrivateNote"] == "checked"
    assert result["DocNumber"] == "L-7"
    assert result["TotalAmt"] == 300.0
    assert result["SyncToken"] == "1"
    stale = api(emu, tokens, "POST", "invoice", json=body)
    assert stale.status_code == 400
    assert stale.json()["Fault"]["Error"][0]["code"] == "5010"


def test_delete_answers_status_deleted_and_invoice_vanishes(qb, customer):
    invoice = make_invoice(qb, customer.Id, doc_number="L-9")
    answer = invoice.delete(qb=qb)
    assert answer["Invoice"] == {"status": "Deleted", "domain": "QBO", "Id": invoice.Id}
    assert Invoice.filter(DocNumber="L-9", qb=qb) == []
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(invoice.Id, qb=qb)


def test_delete_with_stale_sync_token(qb, customer):
    invoice = make_invoice(qb, customer.Id)
    invoice.PrivateNote = "x"
    invoice.save(qb=qb)
    with pytest.raises(QuickbooksException) as exc:
        invoice.delete(qb=qb)  # still holds SyncToken "0"
    assert exc.value.error_code == 5010


def test_amount_must_match_quantity_times_price(qb, customer):
    invoice = Invoice()
    invoice.CustomerRef = ref(customer.Id)
    line = sales_line("1", "100")
    line.SalesItemLineDetail.Qty = 3
    line.SalesItemLineDetail.UnitPrice = 10
    invoice.Line = [line]
    with pytest.raises(QuickbooksException) as exc:
        invoice.save(qb=qb)
    assert exc.value.error_code == 6070
