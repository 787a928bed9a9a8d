"""Every reason built for real, diagnosed, fixed through the fix service, and ending with the load
synced once in QuickBooks (or with the candidates offered). Every fix run twice changes nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from sqlmodel import Session, select

from services.connect.flow import complete_authorization
from services.store.models import ChargeCode, Customer, FixAudit
from tests.builders import (
    income_account,
    qb_company,
    qb_customer,
    qb_invoices,
    qb_item,
    set_custom_txn_numbers,
    tms,
)
from tests.builders import load as a_load


def codes(diagnosis) -> list[str]:
    return [r.code for r in diagnosis.reasons]


def fix(svc, number: str, fix_code: str, **options):
    return svc.fixer.apply(number, fix_code, "test", admin=True, **options)


def assert_synced_once(svc, result, number: str) -> None:
    assert result.diagnosis.state == "synced", (result.message, result.diagnosis.reasons)
    assert len(qb_invoices(svc.api, number)) == 1


def manual_invoice(api, number: str, customer: dict, item: dict, amount: str) -> dict:
    return api.create(
        "Invoice",
        {
            "DocNumber": number,
            "CustomerRef": {"value": customer["Id"]},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": amount,
                    "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": amount},
                }
            ],
        },
    )


def test_connect_then_retry(svc, engine, emu):
    tms(engine, [a_load("L-100")])
    assert codes(svc.diagnoser.diagnose("L-100")) == ["qb_not_connected"]
    result = fix(svc, "L-100", "connect")
    assert result.outcome == "action"
    answer = requests.get(result.changes["authorize_url"], allow_redirects=False, timeout=5)
    query = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["Location"]).query).items()}
    assert query["state"] == result.changes["state"]
    connected = complete_authorization(
        svc.connector, code=query["code"], realm_id=query["realmId"], actor="test"
    )
    assert connected.company_name
    qb_company(svc.api)
    retried = fix(svc, "L-100", "retry")
    assert_synced_once(svc, retried, "L-100")


def test_link_customer_by_choice(connected, engine):
    company = qb_company(connected.api)
    tms(
        engine,
        [a_load("L-200", customer="C-300")],
        customers=[{"id": "C-300", "name": "Acme", "qb_email": None}],
    )
    assert codes(connected.diagnoser.diagnose("L-200")) == ["customer_not_synced"]
    chosen = company["customers"]["C-100"]["Id"]
    result = fix(connected, "L-200", "link_customer", customer_id=chosen)
    assert result.outcome == "applied"
    assert_synced_once(connected, result, "L-200")
    again = fix(connected, "L-200", "link_customer", customer_id=chosen)
    assert again.outcome == "unchanged" and len(qb_invoices(connected.api, "L-200")) == 1


def test_link_customer_refuses_an_unknown_id(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-201")])
    assert fix(connected, "L-201", "link_customer", customer_id="9999").outcome == "refused"


def test_create_customer(connected, engine):
    qb_company(connected.api)
    tms(
        engine,
        [a_load("L-300", customer="C-300")],
        customers=[{"id": "C-300", "name": "Harbor Cold Storage", "qb_email": "ap@harborcold.example"}],
    )
    result = fix(connected, "L-300", "create_customer")
    assert result.outcome == "applied"
    assert result.changes["created_qb_customer"]["email"] == "ap@harborcold.example"
    assert_synced_once(connected, result, "L-300")
    assert fix(connected, "L-300", "create_customer").outcome == "unchanged"


def test_create_customer_with_a_name_clash_offers_the_existing_customer(connected, engine):
    qb_company(connected.api)
    existing = qb_customer(connected.api, "Globex Logistics", "old@globex.example")
    tms(
        engine,
        [a_load("L-301", customer="C-301")],
        customers=[{"id": "C-301", "name": "Globex Logistics", "qb_email": "ap@globex.example"}],
    )
    result = fix(connected, "L-301", "create_customer")
    assert result.outcome == "choice"
    assert result.choices[0]["id"] == existing["Id"]
    assert qb_invoices(connected.api) == []


def test_update_customer_email(connected, engine):
    qb_company(connected.api)
    tms(
        engine,
        [a_load("L-400")],
        customers=[{"id": "C-100", "name": "Acme Foods", "qb_email": "wrong@acme.example"}],
    )
    offered = fix(connected, "L-400", "update_customer_email")
    assert offered.outcome == "choice" and offered.choices[0]["email"] == "ap@acme.example"
    result = fix(connected, "L-400", "update_customer_email", email="ap@acme.example")
    assert result.outcome == "applied"
    assert_synced_once(connected, result, "L-400")
    assert fix(connected, "L-400", "update_customer_email", email="AP@acme.example ").outcome == "unchanged"
    with Session(connected.engine) as session:
        assert session.get(Customer, "C-100").qb_email == "ap@acme.example"


def test_resync_creates_missing_codes_and_reactivates_inactive_ones(connected, engine):
    qb_customer(connected.api, "Acme Foods", "ap@acme.example")
    qb_item(connected.api, "Base Price", active=False)
    tms(engine, [a_load("L-500")])
    result = fix(connected, "L-500", "resync_charge_codes")
    assert result.outcome == "applied"
    assert set(result.changes) == {"BASE", "FSC"}
    assert "reactivated" in result.changes["BASE"] and "created" in result.changes["FSC"]
    assert_synced_once(connected, result, "L-500")
    assert fix(connected, "L-500", "resync_charge_codes").outcome == "unchanged"
    items = connected.api.query_all("Item")
    assert sum(1 for i in items if i["Name"] == "Fuel Surcharge") == 1


def test_resync_never_guesses_between_duplicates_then_map(connected, engine):
    qb_customer(connected.api, "Acme Foods", "ap@acme.example")
    qb_item(connected.api, "Base Price")
    first = qb_item(connected.api, "Fuel Surcharge")
    qb_item(connected.api, "fuel  surcharge")
    tms(engine, [a_load("L-501")])
    offered = fix(connected, "L-501", "resync_charge_codes")
    assert offered.outcome == "choice"
    assert offered.choices[0]["code"] == "FSC" and len(offered.choices[0]["qb_items"]) == 2
    assert qb_invoices(connected.api) == []
    result = fix(connected, "L-501", "map_charge_code", code="FSC", item_id=first["Id"])
    assert result.outcome == "applied"
    assert_synced_once(connected, result, "L-501")
    assert fix(connected, "L-501", "map_charge_code", code="FSC", item_id=first["Id"]).outcome == "unchanged"
    with Session(connected.engine) as session:
        assert session.get(ChargeCode, "FSC").qb_item_id == first["Id"]


def test_push_customer_change(connected, engine):
    company = qb_company(connected.api)
    tms(engine, [a_load("L-600")])
    connected.sync.sync_load("L-600", trigger="test")
    tms(engine, [a_load("L-600", customer="C-200")])
    assert codes(connected.diagnoser.diagnose("L-600")) == ["customer_changed"]
    result = fix(connected, "L-600", "push_customer_change")
    assert result.outcome == "applied"
    assert_synced_once(connected, result, "L-600")
    [invoice] = qb_invoices(connected.api, "L-600")
    assert invoice["CustomerRef"]["value"] == company["customers"]["C-200"]["Id"]
    assert fix(connected, "L-600", "push_customer_change").outcome == "unchanged"


def test_push_customer_change_survives_a_stale_sync_token(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-601")])
    synced = connected.sync.sync_load("L-601", trigger="test")
    invoice = connected.api.read("Invoice", synced.qb_invoice_id)
    connected.api.update(
        "Invoice",
        {
            "Id": invoice["Id"],
            "SyncToken": invoice["SyncToken"],
            "sparse": True,
            "CustomerMemo": {"value": "edited by a person"},
        },
    )
    tms(engine, [a_load("L-601", customer="C-200")])
    assert fix(connected, "L-601", "push_customer_change").outcome == "applied"


def test_push_invoice_update(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-700")])
    connected.sync.sync_load("L-700", trigger="test")
    tms(engine, [a_load("L-700", charges=[("BASE", "850.00"), ("FSC", "150.00"), ("CHASSIS", "45.00")])])
    assert codes(connected.diagnoser.diagnose("L-700")) == ["amount_mismatch"]
    result = fix(connected, "L-700", "push_invoice_update")
    assert result.outcome == "applied"
    assert_synced_once(connected, result, "L-700")
    [invoice] = qb_invoices(connected.api, "L-700")
    assert str(invoice["TotalAmt"]) in ("1045.00", "1045.0", "1045")
    assert fix(connected, "L-700", "push_invoice_update").outcome == "unchanged"


def test_adopt_a_matching_manual_invoice(connected, engine):
    company = qb_company(connected.api)
    tms(engine, [a_load("L-800", charges=[("BASE", "400.00")])])
    manual = manual_invoice(
        connected.api, "L-800", company["customers"]["C-100"], company["items"]["BASE"], "400.00"
    )
    assert codes(connected.diagnoser.diagnose("L-800")) == ["duplicate_load_number"]
    result = fix(connected, "L-800", "adopt_qb_invoice")
    assert result.outcome == "applied"
    assert_synced_once(connected, result, "L-800")
    assert result.diagnosis.qb_invoice_id == manual["Id"]
    assert fix(connected, "L-800", "adopt_qb_invoice").outcome == "unchanged"


def test_adopt_refuses_and_names_what_differs(connected, engine):
    company = qb_company(connected.api)
    tms(engine, [a_load("L-801")])
    manual_invoice(connected.api, "L-801", company["customers"]["C-200"], company["items"]["BASE"], "400.00")
    result = fix(connected, "L-801", "adopt_qb_invoice")
    assert result.outcome == "refused"
    assert "customer differs" in result.message and "total differs" in result.message


def test_clear_qb_id_after_the_manual_invoice_is_deleted(connected, engine):
    company = qb_company(connected.api)
    tms(engine, [a_load("L-900")])
    manual = manual_invoice(
        connected.api, "L-900", company["customers"]["C-200"], company["items"]["BASE"], "1.00"
    )
    connected.sync.sync_load("L-900", trigger="test")
    refused = fix(connected, "L-900", "clear_qb_id")
    assert refused.outcome == "refused" and manual["Id"] in refused.message
    connected.api.delete("Invoice", manual["Id"], manual["SyncToken"])  # deleted by hand in QuickBooks
    result = fix(connected, "L-900", "clear_qb_id")
    assert result.outcome == "applied"
    assert_synced_once(connected, result, "L-900")
    assert fix(connected, "L-900", "clear_qb_id").outcome == "unchanged"


def test_connect_when_connected_says_so(connected, engine):
    tms(engine, [a_load("L-101")])
    result = fix(connected, "L-101", "connect")
    assert result.outcome == "unchanged" and "already connected" in result.message
    assert "authorize_url" not in result.changes


def test_clear_qb_id_of_a_load_with_nothing_to_clear_says_so(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-903")])  # never pushed: no QuickBooks invoice, no duplicate in the way
    result = fix(connected, "L-903", "clear_qb_id")
    assert result.outcome == "unchanged" and "Nothing to clear" in result.message, result


def test_clear_qb_id_is_for_administrators_only(connected, engine):
    tms(engine, [a_load("L-901")])
    result = connected.fixer.apply("L-901", "clear_qb_id", "U123", admin=False)
    assert result.outcome == "refused" and "administrators" in result.message
    with Session(connected.engine) as session:
        audit = session.exec(select(FixAudit)).one()
    assert (audit.actor, audit.fix, audit.outcome) == ("U123", "clear_qb_id", "refused")


def test_a_deleted_invoice_is_sent_again_after_clear_qb_id(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-902")])
    synced = connected.sync.sync_load("L-902", trigger="test")
    invoice = connected.api.read("Invoice", synced.qb_invoice_id)
    connected.api.delete("Invoice", invoice["Id"], invoice["SyncToken"])
    assert codes(connected.diagnoser.diagnose("L-902")) == ["qb_invoice_deleted"]
    result = fix(connected, "L-902", "clear_qb_id")
    assert result.outcome == "applied"
    assert_synced_once(connected, result, "L-902")
    assert result.diagnosis.qb_invoice_id != invoice["Id"]


def test_custom_numbers_fixed_by_hand_then_retry(connected, engine):
    qb_company(connected.api)
    set_custom_txn_numbers(connected.api, False)
    tms(engine, [a_load("L-1000")])
    assert codes(connected.sync.sync_load("L-1000", trigger="test")) == ["custom_txn_numbers_off"]
    set_custom_txn_numbers(connected.api, True)  # Account and settings > Sales, by a person
    assert_synced_once(connected, fix(connected, "L-1000", "retry"), "L-1000")


@pytest.mark.parametrize(
    ("fault", "reason", "options"),
    [
        ("429", "qb_throttled", {}),
        ("503", "qb_unavailable", {}),
        ("fault", "qb_validation_error", {"code": "6210", "message": "Account Period Closed"}),
    ],
)
def test_transient_and_rejected_syncs_are_fixed_by_retry(connected, engine, emu, fault, reason, options):
    qb_company(connected.api)
    tms(engine, [a_load("L-1100")])
    count = 1 if fault == "fault" else 3
    emu.add_fault(fault, count=count, method="POST", path_contains="/invoice", **options)
    assert codes(connected.sync.sync_load("L-1100", trigger="test")) == [reason]
    assert_synced_once(connected, fix(connected, "L-1100", "retry"), "L-1100")


def test_too_long_load_numbers_offer_an_invoice_number_and_say_what_to_do(connected, engine):
    qb_company(connected.api)
    number = "PP-2026-11-0000012345X"
    tms(engine, [a_load(number)])
    diagnosis = connected.diagnoser.diagnose(number)
    assert codes(diagnosis) == ["doc_number_too_long"] and diagnosis.reasons[0].fixes == ["set_doc_number"]
    assert "21 characters" in diagnosis.reasons[0].info.by_hand_text
    missing = connected.fixer.apply("L-404", "retry", "test")
    assert missing.outcome == "refused" and "No load" in missing.message


def test_unknown_fix_codes_and_missing_options_are_user_errors(connected, engine):
    from services.errors import UserInputError

    tms(engine, [a_load("L-1200")])
    with pytest.raises(UserInputError):
        connected.fixer.apply("L-1200", "delete_everything", "test")
    with pytest.raises(UserInputError):
        connected.fixer.apply("L-1200", "map_charge_code", "test", code="FSC")
    assert income_account(connected.api)


def test_a_retry_that_still_fails_says_so(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("L-1300")])
    emu.add_fault("503", count=6, method="POST")  # QuickBooks still down for this retry
    result = fix(connected, "L-1300", "retry")
    assert result.outcome == "failed", result.message
    assert "still does not sync" in result.message and "QuickBooks did not answer" in result.message
    assert qb_invoices(connected.api) == []
