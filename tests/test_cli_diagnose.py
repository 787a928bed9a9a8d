"""``qbsync diagnose`` and ``qbsync fix`` through the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli.main import qbsync
from tests.builders import load as a_load
from tests.builders import qb_company, qb_item, tms


@pytest.fixture
def run(connected, env):
    def invoke(*args: str):
        return CliRunner().invoke(qbsync, list(args))

    return invoke


def test_diagnose_text_names_reason_evidence_fix_and_where_by_hand(run, connected, engine):
    qb_company(connected.api)
    qb_item(connected.api, "fuel  SURCHARGE")
    tms(engine, [a_load("L-1")])
    result = run("diagnose", "L-1")
    assert result.exit_code == 0
    assert "Charge codes are not synced to QuickBooks [charge_codes_not_synced]" in result.output
    assert "appears more than once" in result.output
    assert "Fix: Resync charge codes (resync_charge_codes)" in result.output
    assert "Products and Services" in result.output


def test_diagnose_json_follows_the_contract(run, connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("L-2")])
    data = json.loads(run("diagnose", "L-2", "--json").output)
    assert data == {
        "load_number": "L-2",
        "state": "pending",
        "qb_invoice_id": None,
        "reasons": [],
        "qb_requests": 1,
    }


def test_fix_applies_and_prints_the_new_state(run, connected, engine):
    qb_company(connected.api)
    tms(
        engine,
        [a_load("L-3", charges=[("BASE", "10.00"), ("STORAGE", "5.00")])],
        charge_codes=[{"code": "BASE", "name": "Base Price"}, {"code": "STORAGE", "name": "Storage"}],
    )
    result = run("fix", "L-3", "resync_charge_codes", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["outcome"] == "applied"
    assert data["results"] == [
        {
            "load_number": "L-3",
            "state": "synced",
            "qb_invoice_id": data["results"][0]["qb_invoice_id"],
            "reasons": [],
        }
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fix", "L-4", "explode"), "Invalid value for 'FIX'"),
        (("fix", "L-4", "map_charge_code", "--code", "FSC"), "--item-id"),
        (("fix", "L-4", "link_customer", "--customer-id", "abc"), "numbers"),
        (("diagnose", "L-\n4"), "newline"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(run, engine, args, message):
    tms(engine, [a_load("L-4")])
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_fix_of_a_load_that_does_not_exist_is_bad_input(run, engine):
    from tests.builders import load as a_load
    from tests.builders import tms

    tms(engine, [a_load("L-2003")])
    answer = run("fix", "L-2OO3", "retry")
    assert answer.exit_code == 2
    assert (
        "no load 'L-2OO3'" in answer.output
        and "L-2003" in answer.output
        and "nothing was changed" in answer.output
    )
