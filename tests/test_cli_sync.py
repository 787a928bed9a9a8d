"""``qbsync sync``, ``retry`` and ``problems`` end to end: the click command, the environment it reads,
the sync engine and the QuickBooks emulator over HTTP. Text is what a billing clerk reads; JSON is
what a script relies on, so it is compared with the contract key for key."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from decimal import Decimal

import pytest
from click.testing import CliRunner, Result

from cli.main import qbsync
from tests.builders import load as a_load
from tests.builders import qb_company, qb_customer, qb_invoices, qb_item, tms

GLOBEX = {"id": "C-300", "name": "Globex Logistics", "qb_email": "ap@globex.example"}
CUSTOMERS = [
    {"id": "C-100", "name": "Acme Foods", "qb_email": "ap@acme.example"},
    {"id": "C-200", "name": "Blue Harbor Imports", "qb_email": "billing@blueharbor.example"},
    GLOBEX,
]
RESULT_KEYS = {"load_number", "state", "qb_invoice_id", "reasons"}


def run(*args: str) -> Result:
    return CliRunner().invoke(qbsync, list(args))


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result.stdout


def usage_error(result: Result) -> str:
    """Exit 2 with one ``qbsync:`` line on stderr, nothing on stdout, and no traceback."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qbsync: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def block(text: str, load_number: str) -> str:
    """The lines printed for one load: its head line and the indented lines under it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(load_number + " "))
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    return "\n".join(lines[start:end])


def unwrapped(text: str) -> str:
    """Text with its wrapped lines joined, to look for a sentence however it was wrapped."""
    return " ".join(line.strip() for line in text.splitlines())


@pytest.fixture
def company(connected, engine):
    """Acme and Blue Harbor in QuickBooks with every charge code; Globex only in the TMS."""
    created = qb_company(connected.api)
    tms(engine, customers=CUSTOMERS)
    return created


# -- sync -----------------------------------------------------------------------------------------


def test_sync_prints_the_invoice_of_a_synced_load_and_the_reason_of_a_problem(
    env, company, engine, connected
):
    tms(engine, [a_load("L-1"), a_load("L-2", customer="C-300")], customers=CUSTOMERS)
    out = ok(run("sync", "L-1", "L-2"))

    [invoice] = qb_invoices(connected.api, "L-1")
    assert block(out, "L-1").split() == ["L-1", "synced", "(QuickBooks", "invoice", f"{invoice['Id']})"]
    problem = block(out, "L-2")
    assert problem.splitlines()[0].split() == ["L-2", "problem"]
    text = unwrapped(problem)
    assert "✗ The customer is not synced to QuickBooks [customer_not_synced]" in text
    assert "QuickBooks email ap@globex.example in the TMS matches no QuickBooks customer" in text
    assert (
        "Fix: Link customer (link_customer), Create customer in QuickBooks (create_customer), "
        "Update QuickBooks email (update_customer_email)"
    ) in text
    assert "By hand: TMS: Customers > Customer Profiles > QuickBooks Email" in text
    assert out.rstrip().splitlines()[-2:] == [
        "1 of 2 synced; 1 need attention.",
        "qbsync diagnose LOAD shows the evidence; qbsync fix LOAD FIX applies a fix.",
    ]
    assert qb_invoices(connected.api, "L-2") == []


def test_sync_json_is_exactly_the_contract(env, company, engine, connected):
    tms(engine, [a_load("L-1"), a_load("L-2", customer="C-300")], customers=CUSTOMERS)
    data = json.loads(ok(run("sync", "L-1", "L-2", "--json")))
    [invoice] = qb_invoices(connected.api, "L-1")
    assert data == {
        "results": [
            {"load_number": "L-1", "state": "synced", "qb_invoice_id": invoice["Id"], "reasons": []},
            {
                "load_number": "L-2",
                "state": "problem",
                "qb_invoice_id": None,
                "reasons": ["customer_not_synced"],
            },
        ]
    }
    again = json.loads(ok(run("sync", "L-1", "--json")))  # already synced: the same invoice, no second one
    assert again["results"] == [data["results"][0]]
    assert len(qb_invoices(connected.api, "L-1")) == 1


def test_sync_all_pushes_every_unsynced_load_then_has_nothing_to_do(env, company, engine, connected):
    tms(engine, [a_load("L-1"), a_load("L-2"), a_load("L-3", customer="C-200")], customers=CUSTOMERS)
    ok(run("sync", "L-1"))
    first = qb_invoices(connected.api, "L-1")

    data = json.loads(ok(run("sync", "--all", "--json")))
    assert [(r["load_number"], r["state"]) for r in data["results"]] == [("L-2", "synced"), ("L-3", "synced")]
    assert all(set(r) == RESULT_KEYS and r["qb_invoice_id"] for r in data["results"])
    assert sorted(i["DocNumber"] for i in qb_invoices(connected.api)) == ["L-1", "L-2", "L-3"]
    assert qb_invoices(connected.api, "L-1") == first  # the synced load was not pushed again

    assert ok(run("sync", "--all")).strip() == "Nothing to sync: every load is synced."
    assert json.loads(ok(run("sync", "--all", "--json"))) == {"results": []}


def test_sync_all_text_lists_each_load_and_a_tally(env, company, engine):
    tms(engine, [a_load("L-1"), a_load("L-2", customer="C-300")], customers=CUSTOMERS)
    out = ok(run("sync", "--all"))
    assert block(out, "L-1").startswith("L-1") and "synced" in block(out, "L-1")
    assert "[customer_not_synced]" in block(out, "L-2")
    assert "1 of 2 synced; 1 need attention." in out.splitlines()


def test_sync_needs_load_numbers_or_all_but_not_both(env):
    assert usage_error(run("sync")) == "qbsync: name one or more load numbers, or use --all"
    assert usage_error(run("sync", "--json")) == "qbsync: name one or more load numbers, or use --all"
    assert usage_error(run("sync", "L-1", "--all")) == "qbsync: name load numbers or use --all, not both"


def test_an_unknown_load_is_bad_input_with_near_matches_and_nothing_pushed(env, company, engine, connected):
    tms(engine, [a_load("L-1001")], customers=CUSTOMERS)
    assert usage_error(run("sync", "L-1011", "--json")) == (
        "qbsync: no load 'L-1011' (did you mean L-1001?); nothing was synced"
    )
    assert usage_error(run("sync", "L-1001", "L-1011", "ZZ-9")) == (
        "qbsync: no load 'L-1011' (did you mean L-1001?); no load 'ZZ-9'; nothing was synced"
    )
    assert qb_invoices(connected.api) == []  # L-1001, named too, was not pushed


def test_a_load_number_with_a_newline_is_refused_before_anything_is_pushed(env, company, engine, connected):
    tms(engine, [a_load("L-1")], customers=CUSTOMERS)
    message = usage_error(run("sync", "L-1", "L-2\nrm -rf"))
    assert message == "qbsync: load number contains a newline at position 4: 'L-2\\nrm -rf'"
    assert qb_invoices(connected.api) == []  # L-1, named first, was not pushed either
    assert (
        usage_error(run("retry", "L-\n1")) == "qbsync: load number contains a newline at position 3: 'L-\\n1'"
    )
    assert qb_invoices(connected.api) == []
    assert usage_error(run("sync", "   ")) == "qbsync: load number is empty (got '   ')"


def test_the_same_load_named_twice_is_pushed_once(env, company, engine, connected):
    tms(engine, [a_load("L-1")], customers=CUSTOMERS)
    data = json.loads(ok(run("sync", "L-1", " L-1 ", "--json")))
    assert [r["load_number"] for r in data["results"]] == ["L-1"]
    assert len(qb_invoices(connected.api, "L-1")) == 1


def test_without_a_connection_every_load_names_qb_not_connected(env, svc, emu, engine):
    tms(engine, [a_load("L-1"), a_load("L-2", customer="C-200")], customers=CUSTOMERS)
    before = emu.stats()["total_requests"]
    data = json.loads(ok(run("sync", "--all", "--json")))
    assert data["results"] == [
        {"load_number": n, "state": "problem", "qb_invoice_id": None, "reasons": ["qb_not_connected"]}
        for n in ("L-1", "L-2")
    ]
    out = ok(run("sync", "L-1"))
    text = unwrapped(block(out, "L-1"))
    assert "✗ QuickBooks is not connected [qb_not_connected]" in text
    assert "Fix: Connect QuickBooks (connect)" in text
    assert "By hand: TMS: Customers > Customer Profiles > Connect to QB" in text
    assert emu.stats()["total_requests"] == before  # nobody asked QuickBooks


# -- retry ------------------------------------------------------------------------------------------


def test_retry_after_the_fix_by_hand_syncs_the_load(env, company, engine, connected):
    tms(engine, [a_load("L-7", customer="C-300")], customers=CUSTOMERS)
    first = json.loads(ok(run("retry", "L-7", "--json")))
    assert first == {
        "results": [
            {
                "load_number": "L-7",
                "state": "problem",
                "qb_invoice_id": None,
                "reasons": ["customer_not_synced"],
            }
        ]
    }
    globex = qb_customer(connected.api, "Globex Logistics", "ap@globex.example")  # fixed in QuickBooks

    out = ok(run("retry", "L-7"))
    [invoice] = qb_invoices(connected.api, "L-7")
    assert out.split() == ["L-7", "synced", "(QuickBooks", "invoice", f"{invoice['Id']})"]
    assert invoice["CustomerRef"]["value"] == globex["Id"]
    again = json.loads(ok(run("retry", "L-7", "--json")))
    assert again["results"][0] == {
        "load_number": "L-7",
        "state": "synced",
        "qb_invoice_id": invoice["Id"],
        "reasons": [],
    }
    assert len(qb_invoices(connected.api, "L-7")) == 1


def test_retry_of_an_unknown_load_is_bad_input_with_near_matches(env, company, engine):
    tms(engine, [a_load("L-401")], customers=CUSTOMERS)
    assert usage_error(run("retry", "L-404", "--json")) == (
        "qbsync: no load 'L-404' (did you mean L-401?); nothing was synced"
    )
    assert usage_error(run("retry", "L-404")).startswith("qbsync: no load 'L-404'")
    assert run("retry").exit_code == 2  # the load is required


# -- problems ---------------------------------------------------------------------------------------


@pytest.fixture
def problem_loads(connected, engine, env):
    """In QuickBooks: Acme, and Base Price and Fuel Surcharge only (no Chassis).
    L-1 syncs; L-2 and L-3 have the wrong customer; L-3 and L-4 use Chassis."""
    qb_customer(connected.api, "Acme Foods", "ap@acme.example")
    qb_item(connected.api, "Base Price")
    qb_item(connected.api, "Fuel Surcharge")
    tms(
        engine,
        [
            a_load("L-1"),
            a_load("L-2", customer="C-300", charges=[("BASE", "1200.00")]),
            a_load("L-3", customer="C-300", charges=[("BASE", "1000.00"), ("CHASSIS", "35.25")]),
            a_load("L-4", charges=[("CHASSIS", "99.99")]),
        ],
        customers=CUSTOMERS,
    )
    results = json.loads(ok(run("sync", "--all", "--json")))["results"]
    assert {r["load_number"]: r["reasons"] for r in results} == {
        "L-1": [],
        "L-2": ["customer_not_synced"],
        "L-3": ["customer_not_synced", "charge_codes_not_synced"],
        "L-4": ["charge_codes_not_synced"],
    }


def test_problems_json_is_exactly_the_contract(problem_loads):
    data = json.loads(ok(run("problems", "--json")))
    assert set(data) == {"problems", "total_amount", "dismissed"}
    assert data["dismissed"] == []
    assert [(p["load_number"], p["reasons"], p["amount"]) for p in data["problems"]] == [
        ("L-2", ["customer_not_synced"], "1200.00"),
        ("L-3", ["customer_not_synced", "charge_codes_not_synced"], "1035.25"),
        ("L-4", ["charge_codes_not_synced"], "99.99"),
    ]
    assert all(set(p) == {"load_number", "reasons", "amount", "since"} for p in data["problems"])
    since = [dt.datetime.fromisoformat(p["since"]) for p in data["problems"]]
    assert since == sorted(since)  # oldest problem first
    assert all(abs(dt.datetime.now(dt.UTC) - s) < dt.timedelta(minutes=5) for s in since)
    assert data["total_amount"] == "2335.24"  # each load once, though L-3 has two reasons
    assert Decimal(data["total_amount"]) == sum(Decimal(p["amount"]) for p in data["problems"])


def test_problems_text_groups_by_reason_with_counts_and_amounts(problem_loads):
    out = ok(run("problems"))
    lines = out.splitlines()
    customer = lines.index(
        "The customer is not synced to QuickBooks [customer_not_synced] — 2 loads, $2,235.25"
    )
    codes = lines.index(
        "Charge codes are not synced to QuickBooks [charge_codes_not_synced] — 2 loads, $1,135.24"
    )
    assert customer < codes  # in the order they must be fixed
    assert [line.split()[:2] for line in lines[customer + 1 : customer + 3]] == [
        ["L-2", "$1,200.00"],
        ["L-3", "$1,035.25"],
    ]
    assert [line.split()[:2] for line in lines[codes + 1 : codes + 3]] == [
        ["L-3", "$1,035.25"],
        ["L-4", "$99.99"],
    ]
    assert all(" since " in line and line.endswith(" UTC") for line in lines if line.startswith("    "))
    assert "L-1 " not in out
    assert lines[-1] == "3 problem invoices, $2,335.24 in all."


def test_problems_when_there_are_none(env, company, engine):
    assert ok(run("problems")).strip() == "No problem invoices."
    assert json.loads(ok(run("problems", "--json"))) == {
        "problems": [],
        "total_amount": "0.00",
        "dismissed": [],
    }
    tms(engine, [a_load("L-1")], customers=CUSTOMERS)
    ok(run("sync", "L-1"))
    assert ok(run("problems")).strip() == "No problem invoices."


def test_problems_needs_only_the_database(cli_env, engine):
    """Listing problems reads the database; no QuickBooks credentials are needed."""
    assert ok(run("problems")).strip() == "No problem invoices."


# -- failures: one line, the contract's exit code, never a traceback -----------------------------


def qbsync_process(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("QBO_", "QBSYNC_", "INTUIT_", "SLACK_"))
    }
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_real_process_exits_with_the_contract_codes_and_no_traceback(env, tmp_path):
    bad = qbsync_process(env, "sync", "L-1\nx")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "qbsync: load number contains a newline at position 4: 'L-1\\nx'\n"

    missing = qbsync_process(env, "sync", "L-404", "--json")
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == "qbsync: no load 'L-404'; nothing was synced\n"

    empty_db = qbsync_process({**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}, "problems")
    assert (empty_db.returncode, empty_db.stdout) == (1, "")
    assert len(empty_db.stderr.splitlines()) == 1 and "Traceback" not in empty_db.stderr
    assert empty_db.stderr.startswith("qbsync: the database has no qbsync tables")
    assert "run qbsync db upgrade" in empty_db.stderr

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = qbsync_process(
        {**env, "DATABASE_URL": f"postgresql+psycopg://qbsync:s3cret-pw@127.0.0.1:{port}/x"}, "problems"
    )
    assert (down.returncode, down.stdout) == (1, "")
    assert len(down.stderr.splitlines()) == 1 and "Traceback" not in down.stderr
    assert down.stderr.startswith(
        "qbsync: cannot reach the database named by DATABASE_URL: connection failed"
    )
    assert "s3cret" not in down.stderr  # the password is never printed


def test_a_bad_setting_exits_2_naming_it(env, monkeypatch):
    monkeypatch.setenv("QBSYNC_LOG_LEVEL", "chatty")
    assert "QBSYNC_LOG_LEVEL" in usage_error(run("problems"))
    monkeypatch.delenv("QBSYNC_LOG_LEVEL")
    monkeypatch.setenv("DATABASE_URL", "mysql://db/qbsync")
    from services.settings import get_settings

    get_settings.cache_clear()
    assert "DATABASE_URL" in usage_error(run("sync", "--all"))


def test_a_sync_without_the_secret_key_or_app_credentials_stops_with_the_setting_named(
    env, company, engine, connected, monkeypatch
):
    tms(engine, [a_load("L-1")], customers=CUSTOMERS)
    monkeypatch.delenv("QBSYNC_SECRET_KEY")
    from services.settings import get_settings

    get_settings.cache_clear()
    assert usage_error(run("sync", "L-1")) == (
        "qbsync: QBSYNC_SECRET_KEY must be set to read the stored QuickBooks tokens"
    )
    assert qb_invoices(connected.api) == []
    assert json.loads(ok(run("problems", "--json")))["problems"] == []  # nothing recorded against the load


def test_a_load_another_worker_is_pushing_is_pending_with_a_note(env, company, engine, connected):
    import datetime as dt

    import sqlalchemy as sa

    from services.store.models import Load
    from services.store.workers import this_host as _host

    tms(engine, [a_load("L-1")], customers=CUSTOMERS)
    holder = f"{_host()}:{os.getpid()}:1"  # a live worker on this host
    until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    with engine.begin() as conn:
        conn.execute(sa.update(Load.__table__).values(claimed_by=holder, claimed_until=until))
    data = json.loads(ok(run("sync", "L-1", "--json")))
    assert data["results"] == [
        {
            "load_number": "L-1",
            "state": "pending",
            "qb_invoice_id": None,
            "reasons": [],
            "note": "another worker is pushing this load right now; try again in a moment",
        }
    ]
    assert qb_invoices(connected.api) == []
