"""The numbering fixes built for real against the emulator: ``set_doc_number`` for load numbers longer
than QuickBooks' 21 characters, and ``enable_custom_txn_numbers`` for a company that ignores supplied
invoice numbers — through the fix service and the command line, each run twice, ending synced once."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from cli.main import qbsync
from services.errors import UserInputError
from services.store.models import FixAudit, Load
from services.sync import request_id_for
from services.sync.docnumbers import hashed
from services.sync.invoices import marker
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, set_custom_txn_numbers, tms

LONG = "PP-2026-11-0000012345X"  # 22 characters
SHORT = "PP2026110000012345X"  # separators dropped


def fix(svc, number: str, fix_code: str, **options):
    return svc.fixer.apply(number, fix_code, "test", admin=True, **options)


def stored(engine, number: str) -> Load:
    with Session(engine) as session:
        row = session.exec(select(Load).where(Load.load_number == number)).one()
        session.expunge(row)
        return row


def manual_invoice(api, number: str, company: dict, note: str | None = None) -> dict:
    body = {
        "DocNumber": number,
        "CustomerRef": {"value": company["customers"]["C-200"]["Id"]},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": "5.00",
                "SalesItemLineDetail": {"ItemRef": {"value": company["items"]["BASE"]["Id"]}, "Qty": 1},
            }
        ],
    }
    if note:
        body["PrivateNote"] = note
    return api.create("Invoice", body)


# -- set_doc_number ---------------------------------------------------------------------------------


def test_set_doc_number_offers_the_suggestion_then_syncs_once_under_it(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load(LONG)])
    diagnosis = connected.diagnoser.diagnose(LONG)
    [reason] = diagnosis.reasons
    assert reason.code == "doc_number_too_long" and reason.fixes == ["set_doc_number"]
    assert reason.evidence["suggested_doc_number"] == SHORT
    assert diagnosis.qb_requests == 1  # the short forms are checked in the same batch

    offered = fix(connected, LONG, "set_doc_number")
    assert offered.outcome == "choice" and offered.choices[0] == {"doc_number": SHORT}
    assert SHORT in offered.message and qb_invoices(connected.api) == []

    result = fix(connected, LONG, "set_doc_number", doc_number=SHORT)
    assert result.outcome == "applied" and result.diagnosis.state == "synced"
    [invoice] = qb_invoices(connected.api, SHORT)
    assert marker(LONG) in invoice["PrivateNote"]  # the marker names the load, not the invoice number
    assert result.diagnosis.doc_number == SHORT and result.diagnosis.to_dict()["qb_doc_number"] == SHORT
    assert stored(engine, LONG).qb_doc_number == SHORT

    again = fix(connected, LONG, "set_doc_number", doc_number=SHORT)
    assert again.outcome == "unchanged"
    assert len(qb_invoices(connected.api)) == 1
    assert connected.sync.sync_load(LONG, trigger="test").state == "synced"
    assert len(qb_invoices(connected.api)) == 1


def test_the_suggestion_avoids_numbers_taken_in_quickbooks_and_by_other_loads(connected, engine):
    company = qb_company(connected.api)
    manual_invoice(connected.api, SHORT, company)  # plain truncation would collide in QuickBooks
    tms(engine, [a_load(LONG)])
    suggested = connected.diagnoser.diagnose(LONG).reasons[0].evidence["suggested_doc_number"]
    assert suggested == hashed(LONG) and len(suggested) == 21 and suggested.startswith("PP2026110000012")
    assert connected.diagnoser.diagnose(LONG).reasons[0].evidence["suggested_doc_number"] == suggested

    other = "PP-2026-11-0000012345Y-B"
    tms(engine, [a_load(hashed(other)), a_load(other)])  # another load already uses the hashed form
    offered = fix(connected, other, "set_doc_number")
    assert offered.choices and hashed(other) not in [c["doc_number"] for c in offered.choices]
    assert all(len(c["doc_number"]) <= 21 for c in offered.choices)


@pytest.mark.parametrize(
    ("wanted", "message"),
    [("L-7", "is the number of load L-7"), (SHORT, "QuickBooks already has invoice")],
)
def test_a_chosen_number_already_used_is_refused(connected, engine, wanted, message):
    company = qb_company(connected.api)
    manual_invoice(connected.api, SHORT, company)
    tms(engine, [a_load(LONG), a_load("L-7")])
    result = fix(connected, LONG, "set_doc_number", doc_number=wanted)
    assert result.outcome == "refused" and message in result.message
    assert stored(engine, LONG).qb_doc_number is None


@pytest.mark.parametrize("bad", ["", "   ", "X" * 22, "A\tB", "O’Brien-1"])
def test_a_bad_number_is_a_user_error(connected, engine, bad):
    tms(engine, [a_load(LONG)])
    with pytest.raises(UserInputError):
        fix(connected, LONG, "set_doc_number", doc_number=bad)


def test_reimporting_the_load_keeps_its_invoice_number(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load(LONG)])
    fix(connected, LONG, "set_doc_number", doc_number="PP-12345X")
    tms(engine, [a_load(LONG, charges=[("BASE", "900.00")])])
    assert stored(engine, LONG).qb_doc_number == "PP-12345X"
    assert (
        json.loads(json.dumps(connected.diagnoser.diagnose(LONG).to_dict()))["qb_doc_number"] == "PP-12345X"
    )


def test_the_request_id_changes_with_the_invoice_number():
    assert request_id_for("1", "L-1", 0) == request_id_for("1", "L-1", 0, "L-1")
    assert request_id_for("1", "L-1", 0) != request_id_for("1", "L-1", 0, "L1")
    assert request_id_for("1", "L-1", 0, "A") != request_id_for("1", "L-1", 0, "B")


def test_a_number_is_not_changed_under_an_invoice_already_sent(connected, engine):
    """Exactly once: an invoice an earlier attempt made under the old number is not made again."""
    company = qb_company(connected.api)
    tms(engine, [a_load(LONG)])
    fix(connected, LONG, "set_doc_number", doc_number="PP-A")
    invoice_id = stored(engine, LONG).qb_invoice_id
    assert fix(connected, LONG, "set_doc_number", doc_number="PP-B").outcome == "refused"
    with Session(engine) as session:  # as if the answer to the create had been lost
        row = session.exec(select(Load).where(Load.load_number == LONG)).one()
        row.qb_invoice_id = None
        session.commit()
    refused = fix(connected, LONG, "set_doc_number", doc_number="PP-B")
    assert refused.outcome == "refused" and invoice_id in refused.message
    assert connected.sync.sync_load(LONG, trigger="test").qb_invoice_id == invoice_id
    assert [i["DocNumber"] for i in qb_invoices(connected.api) if i["DocNumber"] != SHORT] == ["PP-A"]
    assert company


def test_set_doc_number_through_the_command_line(connected, env, engine):
    qb_company(connected.api)
    tms(engine, [a_load(LONG)])
    runner = CliRunner()
    shown = runner.invoke(qbsync, ["diagnose", LONG])
    assert f"Suggested invoice number: {SHORT}" in shown.output
    offered = runner.invoke(qbsync, ["fix", LONG, "set_doc_number"])
    assert offered.exit_code == 0 and f"  - {SHORT}" in offered.output
    done = runner.invoke(qbsync, ["fix", LONG, "set_doc_number", "--doc-number", SHORT, "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert (data["outcome"], data["results"][0]["state"]) == ("applied", "synced")
    again = runner.invoke(qbsync, ["fix", LONG, "set_doc_number", "--doc-number", SHORT])
    assert "nothing to change" in again.output and f"number {SHORT})" in again.output
    assert runner.invoke(qbsync, ["fix", LONG, "set_doc_number", "--doc-number", "X" * 30]).exit_code == 2
    looked_up = runner.invoke(qbsync, ["diagnose", SHORT, "--json"])
    assert json.loads(looked_up.output)["reasons"][0]["evidence"]["near_matches"] == [LONG]
    assert len(qb_invoices(connected.api, SHORT)) == 1


# -- enable_custom_txn_numbers ----------------------------------------------------------------------


def test_enable_custom_txn_numbers_turns_it_on_and_retries_every_blocked_load(connected, engine):
    qb_company(connected.api)
    set_custom_txn_numbers(connected.api, False)
    tms(engine, [a_load("L-1"), a_load("L-2"), a_load("L-3")])
    results = connected.sync.sync_many(None, trigger="test")
    assert [r.reasons[0].code for r in results] == ["custom_txn_numbers_off"] * 3

    result = fix(connected, "L-1", "enable_custom_txn_numbers")
    assert result.outcome == "applied", result.message
    assert "Account and settings > Sales" in result.message and "Retried 2 other loads" in result.message
    assert result.changes["CustomTxnNumbers"] == {"from": False, "to": True}
    assert result.changes["retried"] == {"L-2": "synced", "L-3": "synced"}
    assert result.diagnosis.state == "synced"
    prefs = connected.api.query("SELECT * FROM Preferences")["Preferences"][0]
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    assert sorted(i["DocNumber"] for i in qb_invoices(connected.api)) == ["L-1", "L-2", "L-3"]

    again = fix(connected, "L-1", "enable_custom_txn_numbers")
    assert again.outcome == "unchanged" and len(qb_invoices(connected.api)) == 3


def test_enable_custom_txn_numbers_is_for_administrators(connected, engine):
    tms(engine, [a_load("L-1")])
    result = connected.fixer.apply("L-1", "enable_custom_txn_numbers", "U1", admin=False)
    assert result.outcome == "refused" and "administrators" in result.message


def test_when_quickbooks_refuses_the_setting_it_says_where_to_switch_it(connected, engine, emu):
    qb_company(connected.api)
    set_custom_txn_numbers(connected.api, False)
    tms(engine, [a_load("L-1")])
    connected.sync.sync_load("L-1", trigger="test")
    emu.add_fault(
        "fault",
        code="6000",
        message="A business validation error has occurred",
        detail="This setting cannot be changed by this app",
        method="POST",
        path_contains="/preferences",
    )
    result = fix(connected, "L-1", "enable_custom_txn_numbers")
    assert result.outcome == "failed"
    assert "QuickBooks refused" in result.message and "6000" in result.message
    assert "Account and settings > Sales" in result.message
    assert [r.code for r in result.diagnosis.reasons] == ["custom_txn_numbers_off"]
    assert qb_invoices(connected.api) == []
    with Session(engine) as session:
        audit = session.exec(select(FixAudit).where(FixAudit.fix == "enable_custom_txn_numbers")).one()
    assert audit.outcome == "failed"


def test_enable_custom_txn_numbers_through_the_command_line(connected, env, engine):
    qb_company(connected.api)
    set_custom_txn_numbers(connected.api, False)
    tms(engine, [a_load("L-1")])
    runner = CliRunner()
    out = runner.invoke(qbsync, ["fix", "L-1", "enable_custom_txn_numbers"])
    assert out.exit_code == 0, out.output
    assert "Turned on Custom transaction numbers" in out.output and "Load L-1: synced" in out.output
    again = runner.invoke(qbsync, ["fix", "L-1", "enable_custom_txn_numbers", "--json"])
    assert json.loads(again.output)["outcome"] == "unchanged"
    assert len(qb_invoices(connected.api, "L-1")) == 1


def test_problems_digest_and_reconcile_show_both_numbers(connected, env, engine):
    qb_company(connected.api)
    tms(engine, [a_load(LONG)])
    fix(connected, LONG, "set_doc_number", doc_number=SHORT)
    [invoice] = qb_invoices(connected.api, SHORT)
    connected.api.delete("Invoice", invoice["Id"], invoice["SyncToken"])
    runner = CliRunner()
    reconciled = runner.invoke(qbsync, ["reconcile"]).output
    assert f"{LONG} " in reconciled and f"number {SHORT})" in reconciled
    for command in (["problems"], ["digest"]):
        assert f"{LONG} (QuickBooks invoice number {SHORT})" in runner.invoke(qbsync, command).output
    data = json.loads(runner.invoke(qbsync, ["problems", "--json"]).output)
    assert data["problems"][0]["qb_doc_number"] == SHORT
