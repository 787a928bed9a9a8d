"""Diagnosis: every reason that applies, checked afresh, in fix order, with evidence and fixes —
in one batch request to QuickBooks."""

from __future__ import annotations

from tests.builders import load as a_load
from tests.builders import qb_company, qb_customer, qb_invoices, qb_item, set_custom_txn_numbers, tms


def codes(diagnosis) -> list[str]:
    return [r.code for r in diagnosis.reasons]


def test_a_synced_load_that_matches_says_so(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-1001")])
    synced = connected.sync.sync_load("L-1001", trigger="test")
    diagnosis = connected.diagnoser.diagnose("L-1001")
    assert (diagnosis.state, diagnosis.qb_invoice_id, diagnosis.reasons) == (
        "synced",
        synced.qb_invoice_id,
        [],
    )
    assert diagnosis.qb_requests == 1


def test_a_ready_load_is_pending_and_nothing_is_created(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-1002")])
    diagnosis = connected.diagnoser.diagnose("L-1002")
    assert diagnosis.state == "pending" and diagnosis.reasons == []
    assert qb_invoices(connected.api) == []


def test_every_reason_at_once_in_fix_order_with_one_request(connected, engine):
    qb_customer(connected.api, "Acme Foods", "someone-else@acme.example")
    qb_item(connected.api, "Base Price")
    qb_item(connected.api, "Fuel Surcharge")
    qb_item(connected.api, "FUEL surcharge")
    set_custom_txn_numbers(connected.api, False)
    number = "PP-2026-11-0000012345X"
    tms(engine, [a_load(number)])
    diagnosis = connected.diagnoser.diagnose(number)
    assert codes(diagnosis) == [
        "custom_txn_numbers_off",
        "doc_number_too_long",
        "customer_not_synced",
        "charge_codes_not_synced",
    ]
    assert diagnosis.state == "problem"
    assert diagnosis.qb_requests == 1
    by_code = {r.code: r for r in diagnosis.reasons}
    assert by_code["customer_not_synced"].evidence["tms_email"] == "ap@acme.example"
    assert by_code["customer_not_synced"].fixes == [
        "link_customer",
        "create_customer",
        "update_customer_email",
    ]
    duplicates = by_code["charge_codes_not_synced"].evidence["charge_codes"][0]["qb_items"]
    assert len(duplicates) == 2


def test_not_connected_is_the_only_reason_and_costs_no_request(svc, engine, emu):
    tms(engine, [a_load("L-1003")])
    before = emu.stats()["total_requests"]
    diagnosis = svc.diagnoser.diagnose("L-1003")
    assert codes(diagnosis) == ["qb_not_connected"]
    assert diagnosis.reasons[0].fixes == ["connect"]
    assert diagnosis.qb_requests == 0 and emu.stats()["total_requests"] == before


def test_diagnosis_rechecks_instead_of_repeating_the_last_attempt(connected, engine):
    tms(engine, [a_load("L-1004")])
    first = connected.sync.sync_load("L-1004", trigger="test")
    assert "customer_not_synced" in [r.code for r in first.reasons]
    qb_company(connected.api)  # fixed by hand in QuickBooks since
    assert connected.diagnoser.diagnose("L-1004").state == "pending"


def test_deleted_and_drifted_invoices(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-1005"), a_load("L-1006")])
    deleted = connected.sync.sync_load("L-1005", trigger="test")
    connected.sync.sync_load("L-1006", trigger="test")
    invoice = connected.api.read("Invoice", deleted.qb_invoice_id)
    connected.api.delete("Invoice", invoice["Id"], invoice["SyncToken"])
    tms(engine, [a_load("L-1006", customer="C-200", charges=[("BASE", "900.00")])])
    assert codes(connected.diagnoser.diagnose("L-1005")) == ["qb_invoice_deleted"]
    drift = connected.diagnoser.diagnose("L-1006")
    assert codes(drift) == ["customer_changed", "amount_mismatch"]
    assert drift.qb_requests == 1


def test_unknown_load_has_near_matches(connected, engine):
    tms(engine, [a_load("L-2001")])
    diagnosis = connected.diagnoser.diagnose("l2001")
    assert diagnosis.state == "not_found"
    assert diagnosis.reasons[0].evidence["near_matches"] == ["L-2001"]


def test_the_json_shape_follows_the_contract(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-2002", customer="C-200")])
    data = connected.diagnoser.diagnose("L-2002").to_dict()
    assert set(data) == {"load_number", "state", "qb_invoice_id", "reasons", "qb_requests"}
