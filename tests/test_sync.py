"""The sync engine against the emulator, through the real python-quickbooks / intuit-oauth clients.
Each reason is built for real in QuickBooks, and the sync must name exactly that reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select

from services.store.models import ChargeCode, ConnectionState, Customer, Load, SyncAttempt
from tests.builders import load as a_load
from tests.builders import (
    qb_company,
    qb_customer,
    qb_invoices,
    qb_item,
    set_custom_txn_numbers,
    tms,
)


def codes(result) -> list[str]:
    return [r.code for r in result.reasons]


def stored(engine, number: str) -> Load:
    with Session(engine) as session:
        row = session.exec(select(Load).where(Load.load_number == number)).one()
        session.expunge(row)
        return row


def attempts(engine, number: str) -> list[SyncAttempt]:
    with Session(engine) as session:
        load_id = session.exec(select(Load.id).where(Load.load_number == number)).one()
        return list(session.exec(select(SyncAttempt).where(SyncAttempt.load_id == load_id)))


def test_a_load_syncs_once_with_the_load_number_and_our_marker(connected, engine):
    company = qb_company(connected.api)
    tms(engine, [a_load("L-1001")])
    result = connected.sync.sync_load("L-1001", trigger="test")
    assert result.state == "synced", result.reasons
    [invoice] = qb_invoices(connected.api, "L-1001")
    assert invoice["Id"] == result.qb_invoice_id
    assert invoice["CustomerRef"]["value"] == company["customers"]["C-100"]["Id"]
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("977.50")
    assert "qbsync load L-1001" in invoice["PrivateNote"]
    row = stored(engine, "L-1001")
    assert (row.qb_invoice_id, row.synced_customer_id, row.synced_total) == (
        invoice["Id"],
        "C-100",
        Decimal("977.50"),
    )
    [attempt] = attempts(engine, "L-1001")
    assert attempt.outcome == "synced" and attempt.intuit_tid and attempt.request_id
    with Session(engine) as session:
        assert session.get(Customer, "C-100").qb_customer_id == company["customers"]["C-100"]["Id"]
        assert session.get(ChargeCode, "FSC").qb_item_id == company["items"]["FSC"]["Id"]


def test_syncing_twice_leaves_one_invoice(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-1002")])
    first = connected.sync.sync_load("L-1002", trigger="test")
    second = connected.sync.sync_load("L-1002", trigger="test")
    assert first.state == second.state == "synced"
    assert first.qb_invoice_id == second.qb_invoice_id
    assert len(qb_invoices(connected.api, "L-1002")) == 1


def test_not_connected_names_the_reason_without_calling_quickbooks(svc, emu, engine):
    tms(engine, [a_load("L-2001")])
    before = emu.stats()
    result = svc.sync.sync_load("L-2001", trigger="test")
    assert codes(result) == ["qb_not_connected"]
    assert emu.stats()["total_requests"] == before["total_requests"]


def test_a_revoked_grant_marks_the_connection_broken(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("L-2002"), a_load("L-2003")])
    status_before = connected.connection.status()
    assert status_before.connected
    _realm, token = connected.connection.current()
    connected.auth.revoke(token)  # the grant is revoked at Intuit: access and refresh tokens die
    result = connected.sync.sync_load("L-2002", trigger="test")
    assert codes(result) == ["qb_not_connected"]
    assert connected.connection.status().state is ConnectionState.BROKEN
    requests_before = emu.stats()["total_requests"]
    other = connected.sync.sync_load("L-2003", trigger="test")
    assert codes(other) == ["qb_not_connected"]
    assert emu.stats()["total_requests"] == requests_before


def test_customer_email_mismatch_is_customer_not_synced_with_candidates(connected, engine):
    qb_company(connected.api)
    qb_customer(connected.api, "Globex Logistics", "accounts@globex.example")
    tms(
        engine,
        [a_load("L-3001", customer="C-300")],
        customers=[{"id": "C-300", "name": "Globex Logistics", "qb_email": "ap@globex.example"}],
    )
    result = connected.sync.sync_load("L-3001", trigger="test")
    assert codes(result) == ["customer_not_synced"]
    evidence = result.reasons[0].evidence
    assert evidence["tms_email"] == "ap@globex.example"
    assert evidence["candidates"][0]["email"] == "accounts@globex.example"
    assert qb_invoices(connected.api) == []


def test_email_match_is_trimmed_and_case_insensitive(connected, engine):
    qb_company(connected.api)
    qb_customer(connected.api, "Initech Freight", "AP@Initech.Example")
    tms(
        engine,
        [a_load("L-3002", customer="C-400")],
        customers=[{"id": "C-400", "name": "Initech", "qb_email": " ap@initech.example "}],
    )
    assert connected.sync.sync_load("L-3002", trigger="test").state == "synced"


def test_missing_charge_code(connected, engine):
    qb_customer(connected.api, "Acme Foods", "ap@acme.example")
    qb_item(connected.api, "Base Price")
    tms(engine, [a_load("L-4001")])
    result = connected.sync.sync_load("L-4001", trigger="test")
    assert codes(result) == ["charge_codes_not_synced"]
    [problem] = result.reasons[0].evidence["charge_codes"]
    assert (problem["code"], problem["problem"]) == ("FSC", "missing")
    with Session(engine) as session:
        assert session.get(ChargeCode, "FSC").sync_state == "missing"


def test_two_items_sharing_a_name_under_different_parents_are_duplicates(connected, engine):
    qb_customer(connected.api, "Acme Foods", "ap@acme.example")
    qb_item(connected.api, "Base Price")
    drayage = qb_item(connected.api, "Drayage")
    fuel = qb_item(connected.api, "Fuel Surcharge")
    nested = qb_item(connected.api, "Fuel Surcharge", parent=drayage)
    tms(engine, [a_load("L-4002")])
    result = connected.sync.sync_load("L-4002", trigger="test")
    assert codes(result) == ["charge_codes_not_synced"]
    [problem] = result.reasons[0].evidence["charge_codes"]
    assert problem["problem"] == "duplicate"
    assert {i["id"] for i in problem["qb_items"]} == {fuel["Id"], nested["Id"]}
    assert "Drayage:Fuel Surcharge" in {i["full_name"] for i in problem["qb_items"]}


def test_names_differing_only_in_case_or_spacing_are_duplicates(connected, engine):
    qb_customer(connected.api, "Acme Foods", "ap@acme.example")
    qb_item(connected.api, "Base Price")
    qb_item(connected.api, "Fuel Surcharge")
    qb_item(connected.api, "fuel  SURCHARGE")
    tms(engine, [a_load("L-4003")])
    result = connected.sync.sync_load("L-4003", trigger="test")
    assert result.reasons[0].evidence["charge_codes"][0]["problem"] == "duplicate"


def test_inactive_charge_code(connected, engine):
    qb_customer(connected.api, "Acme Foods", "ap@acme.example")
    qb_item(connected.api, "Base Price")
    qb_item(connected.api, "Fuel Surcharge", active=False)
    tms(engine, [a_load("L-4004")])
    result = connected.sync.sync_load("L-4004", trigger="test")
    assert result.reasons[0].evidence["charge_codes"][0]["problem"] == "inactive"


def test_manual_invoice_with_the_same_number_is_duplicate_load_number(connected, engine):
    company = qb_company(connected.api)
    other = company["customers"]["C-200"]
    manual = connected.api.create(
        "Invoice",
        {
            "DocNumber": "L-5001",
            "CustomerRef": {"value": other["Id"]},
            "TxnDate": "2026-11-18",
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "400.00",
                    "SalesItemLineDetail": {"ItemRef": {"value": company["items"]["BASE"]["Id"]}},
                }
            ],
        },
    )
    tms(engine, [a_load("L-5001")])
    result = connected.sync.sync_load("L-5001", trigger="test")
    assert codes(result) == ["duplicate_load_number"]
    evidence = result.reasons[0].evidence
    assert evidence["qb_invoice_id"] == manual["Id"]
    assert evidence["total"] == "400.00"
    assert evidence["date"] == "2026-11-18"
    assert evidence["qb_customer_id"] == other["Id"]
    assert len(qb_invoices(connected.api, "L-5001")) == 1


def test_customer_changed_in_the_load_after_sync(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-6001", customer="C-100")])
    assert connected.sync.sync_load("L-6001", trigger="test").state == "synced"
    tms(engine, [a_load("L-6001", customer="C-200")])
    result = connected.sync.sync_load("L-6001", trigger="test")
    assert codes(result) == ["customer_changed"]
    evidence = result.reasons[0].evidence
    assert evidence["synced_customer"]["tms_id"] == "C-100"
    assert evidence["current_customer"] == {"tms_id": "C-200", "name": "Blue Harbor Imports"}


def test_load_number_longer_than_21_characters(connected, engine):
    qb_company(connected.api)
    number = "PP-2026-11-0000012345X"  # 22 characters
    tms(engine, [a_load(number)])
    result = connected.sync.sync_load(number, trigger="test")
    assert codes(result) == ["doc_number_too_long"]
    assert result.reasons[0].evidence["length"] == 22


def test_custom_transaction_numbers_off(connected, engine):
    qb_company(connected.api)
    set_custom_txn_numbers(connected.api, False)
    tms(engine, [a_load("L-7001")])
    result = connected.sync.sync_load("L-7001", trigger="test")
    assert codes(result) == ["custom_txn_numbers_off"]
    assert qb_invoices(connected.api) == []


def test_synced_invoice_deleted_in_quickbooks(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-8001")])
    result = connected.sync.sync_load("L-8001", trigger="test")
    invoice = connected.api.read("Invoice", result.qb_invoice_id)
    connected.api.delete("Invoice", invoice["Id"], invoice["SyncToken"])
    again = connected.sync.sync_load("L-8001", trigger="test")
    assert codes(again) == ["qb_invoice_deleted"]
    assert again.reasons[0].evidence["qb_invoice_id"] == invoice["Id"]


def test_total_changed_in_the_tms_is_amount_mismatch(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-8002")])
    connected.sync.sync_load("L-8002", trigger="test")
    tms(engine, [a_load("L-8002", charges=[("BASE", "850.00"), ("FSC", "150.00")])])
    result = connected.sync.sync_load("L-8002", trigger="test")
    assert codes(result) == ["amount_mismatch"]
    assert result.reasons[0].evidence["qb_total"] == "977.50"
    assert result.reasons[0].evidence["tms_total"] == "1000.00"


@pytest.mark.parametrize("number", ["O'BRIEN-1", "L\\2001", "L-9001'", "D’ANGELO-7", "L-9%_1"])
def test_load_numbers_with_quotes_and_backslashes_are_literals(connected, engine, number):
    qb_company(connected.api)
    tms(engine, [a_load(number)])
    result = connected.sync.sync_load(number, trigger="test")
    assert result.state == "synced", result.reasons
    assert [inv["DocNumber"] for inv in qb_invoices(connected.api)] == [number]
    assert connected.sync.sync_load(number, trigger="test").qb_invoice_id == result.qb_invoice_id


def test_unknown_load_suggests_near_matches(connected, engine):
    tms(engine, [a_load("L-1001"), a_load("L-1002")])
    result = connected.sync.sync_load("L-1010", trigger="test")
    assert result.state == "not_found"
    assert codes(result) == ["load_not_found"]
    assert "L-1001" in result.reasons[0].evidence["near_matches"]


def test_sync_all_also_rechecks_synced_loads_changed_in_the_tms(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-9101"), a_load("L-9102"), a_load("L-9103")])
    connected.sync.sync_many(None, trigger="test")
    assert connected.sync.unsynced_load_numbers() == []
    tms(engine, [a_load("L-9101", customer="C-200"), a_load("L-9102", charges=[("BASE", "1.00")])])
    assert connected.sync.unsynced_load_numbers() == ["L-9101", "L-9102"]
    results = {r.load_number: codes(r) for r in connected.sync.sync_many(None, trigger="test")}
    assert results == {"L-9101": ["customer_changed"], "L-9102": ["amount_mismatch"]}


def test_reconcile_finds_deleted_and_drifted_invoices_in_few_requests(connected, engine, emu):
    qb_company(connected.api)
    numbers = [f"L-92{n:02d}" for n in range(5)]
    tms(engine, [a_load(n) for n in numbers])
    results = {r.load_number: r for r in connected.sync.sync_many(numbers, trigger="test")}
    gone = connected.api.read("Invoice", results["L-9200"].qb_invoice_id)
    connected.api.delete("Invoice", gone["Id"], gone["SyncToken"])
    edited = connected.api.read("Invoice", results["L-9201"].qb_invoice_id)
    lines = [line for line in edited["Line"] if line.get("DetailType") == "SalesItemLineDetail"][:1]
    connected.api.update(
        "Invoice", {"Id": edited["Id"], "SyncToken": edited["SyncToken"], "sparse": True, "Line": lines}
    )
    before = connected.api.request_count
    problems = {r.load_number: codes(r) for r in connected.sync.reconcile()}
    assert problems == {"L-9200": ["qb_invoice_deleted"], "L-9201": ["amount_mismatch"]}
    assert connected.api.request_count - before == 1
    assert stored(engine, "L-9200").state == "problem"
