"""50 people press the same fix at once: QuickBooks is written once, one audit row says "applied", every
click is answered, and nobody reads "Stale Object Error". Buttons are pressed through the real Slack app
over HTTP; fixes that need a person's choice are applied from 50 threads. Also two ``qbsync fix``
processes started at once, and the words a click that waited its turn reads.

QuickBooks' minute lasts a second here (the emulator's budgets and qbsync's limiter scaled alike): 700
clicks and their fresh diagnoses would otherwise wait for the next minute's requests."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, select

from services.quickbooks import RetryPolicy
from services.settings import get_settings
from services.store.locks import Claim
from services.store.models import FixAudit, JobLock, utcnow
from services.sync.company import ALL_STATES
from tests.builders import load as a_load
from tests.builders import qb_company, qb_customer, qb_invoices, qb_item, set_custom_txn_numbers, tms
from tests.reliability.test_sqlite_concurrency import finish, start
from tests.slack.conftest import ADMIN, CLERK, find_action, wait_for
from tests.slack.test_fix_flows import diagnosed

pytestmark = pytest.mark.reliability

CLICKS = 50
SCALE = 60  # QuickBooks' minute lasts 1 s here (its limits, and qbsync's limiter, scaled alike)


@pytest.fixture
def fast(emu, settings, engine, connected, monkeypatch):
    """qbsync's services with QuickBooks' minute scaled, and the emulator's budgets scaled alike; each
    QuickBooks request takes a few milliseconds, as over a network."""
    from wiring.services import bootstrap

    emu.configure(rate_limit=500 * SCALE, batch_rate_limit=40 * SCALE, latency_ms=3)
    monkeypatch.setenv("QBSYNC_QBO_TIME_SCALE", str(SCALE))
    get_settings.cache_clear()
    yield bootstrap(
        settings.model_copy(update={"qbo_time_scale": SCALE}),
        engine=engine,
        retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05),
    )
    emu.configure(rate_limit=500, batch_rate_limit=40, latency_ms=0)


# -- counting QuickBooks writes -------------------------------------------------------------------


def versions(api) -> dict[tuple[str, str], int]:
    """Every QuickBooks record qbsync can write, by (entity, id), with its SyncToken."""
    found = {}
    for entity in ("Invoice", "Customer", "Item"):
        where = None if entity == "Invoice" else ALL_STATES
        for row in api.query_all(entity, where) if where else api.query_all(entity):
            found[(entity, row["Id"])] = int(row["SyncToken"])
    for row in api.query("SELECT * FROM Preferences").get("Preferences", []):
        found[("Preferences", row.get("Id", "1"))] = int(row["SyncToken"])
    return found


def writes(before: dict[tuple[str, str], int], after: dict[tuple[str, str], int]) -> dict[str, int]:
    """Creates and updates between two ``versions``, by entity: a new record is one write per version."""
    counted: dict[str, int] = {}
    for key, token in after.items():
        made = token + 1 if key not in before else token - before[key]
        if made:
            counted[key[0]] = counted.get(key[0], 0) + made
    return counted


def audit(engine, fix: str) -> list[FixAudit]:
    with Session(engine) as session:
        return list(session.exec(select(FixAudit).where(FixAudit.fix == fix)))


# -- the situations -------------------------------------------------------------------------------


@dataclass
class Case:
    fix: str
    number: str
    setup: Callable[[Any], None]
    writes: dict[str, int]  # QuickBooks writes of the 50 clicks together, by entity
    what: str  # the write, in words
    options: dict[str, Any] | None = None  # a person's choice: applied from threads, not a button
    user: str = CLERK


def _synced_then_changed(number: str, **changed: Any) -> Callable[[Any], None]:
    def setup(svc) -> None:
        qb_company(svc.api)
        tms(svc.engine, [a_load(number)])
        assert svc.sync.sync_load(number, trigger="test").state == "synced"
        tms(svc.engine, [a_load(number, **changed)])

    return setup


def _manual_invoice(svc) -> None:
    company = qb_company(svc.api)
    tms(svc.engine, [a_load("F-ADOPT", charges=[("BASE", "400.00")])])
    item = company["items"]["BASE"]
    svc.api.create(
        "Invoice",
        {
            "DocNumber": "F-ADOPT",
            "CustomerRef": {"value": company["customers"]["C-100"]["Id"]},
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": "400.00",
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": item["Id"]},
                        "Qty": 1,
                        "UnitPrice": "400.00",
                    },
                }
            ],
        },
    )


def _custom_numbers_off(svc) -> None:
    qb_company(svc.api)
    set_custom_txn_numbers(svc.api, False)
    tms(svc.engine, [a_load("F-TXN")])
    svc.sync.sync_load("F-TXN", trigger="test")


def _new_customer(svc) -> None:
    qb_company(svc.api)
    customers = [{"id": "C-300", "name": "Harbor Cold Storage", "qb_email": "ap@harborcold.example"}]
    tms(svc.engine, [a_load("F-NEW", customer="C-300")], customers=customers)


def _unlinked_customer(svc) -> None:
    qb_company(svc.api)
    tms(svc.engine, [a_load("F-LINK", customer="C-300")], customers=[{"id": "C-300", "name": "Acme"}])


def _wrong_email(svc) -> None:
    qb_company(svc.api)
    customers = [{"id": "C-100", "name": "Acme Foods", "qb_email": "wrong@acme.example"}]
    tms(svc.engine, [a_load("F-EMAIL")], customers=customers)


def _missing_item(svc) -> None:
    qb_customer(svc.api, "Acme Foods", "ap@acme.example")
    qb_item(svc.api, "Base Price")
    tms(svc.engine, [a_load("F-CODES")])


def _duplicate_items(svc) -> None:
    qb_customer(svc.api, "Acme Foods", "ap@acme.example")
    qb_item(svc.api, "Base Price")
    qb_item(svc.api, "Fuel Surcharge")
    qb_item(svc.api, "fuel  surcharge")
    tms(svc.engine, [a_load("F-MAP")])


def _first_fuel_item(svc) -> str:
    return min(
        (i for i in svc.api.query_all("Item") if i["Name"].casefold() == "fuel surcharge"),
        key=lambda i: int(i["Id"]),
    )["Id"]


def _too_long(svc) -> None:
    qb_company(svc.api)
    tms(svc.engine, [a_load("PP-2026-11-0000012345X")])


def _deleted_invoice(svc) -> None:
    qb_company(svc.api)
    tms(svc.engine, [a_load("F-GONE")])
    synced = svc.sync.sync_load("F-GONE", trigger="test")
    invoice = svc.api.read("Invoice", synced.qb_invoice_id)
    svc.api.delete("Invoice", invoice["Id"], invoice["SyncToken"])


def _a_problem(svc) -> None:
    tms(svc.engine, [a_load("F-DISMISS")])  # QuickBooks has no such customer: a problem


def _dismissed(svc) -> None:
    qb_company(svc.api)
    tms(svc.engine, [a_load("F-BACK")])
    svc.fixer.apply("F-BACK", "dismiss", "test", reason="invoiced by hand")


def _unavailable(svc) -> None:
    qb_company(svc.api)
    tms(svc.engine, [a_load("F-RETRY")])  # first pushed while QuickBooks is unavailable (the test's faults)


CASES = [
    Case(
        "push_invoice_update",
        "F-LINES",
        _synced_then_changed(
            "F-LINES", charges=[("BASE", "850.00"), ("FSC", "150.00"), ("CHASSIS", "45.00")]
        ),
        {"Invoice": 1},
        "invoice lines replaced",
    ),
    Case(
        "push_customer_change",
        "F-CUST",
        _synced_then_changed("F-CUST", customer="C-200"),
        {"Invoice": 1},
        "invoice customer changed",
    ),
    Case("adopt_qb_invoice", "F-ADOPT", _manual_invoice, {"Invoice": 1}, "manual invoice marked"),
    Case(
        "enable_custom_txn_numbers",
        "F-TXN",
        _custom_numbers_off,
        {"Preferences": 1, "Invoice": 1},
        "setting turned on; + the invoice it unblocked",
        user=ADMIN,
    ),
    Case(
        "create_customer",
        "F-NEW",
        _new_customer,
        {"Customer": 1, "Invoice": 1},
        "customer created; + the invoice it unblocked",
    ),
    Case(
        "link_customer",
        "F-LINK",
        _unlinked_customer,
        {"Invoice": 1},
        "the invoice it unblocked",
        options={"customer_id": lambda svc: svc.api.query_all("Customer")[0]["Id"]},
    ),
    Case(
        "update_customer_email",
        "F-EMAIL",
        _wrong_email,
        {"Invoice": 1},
        "the invoice it unblocked",
        options={"email": lambda svc: "ap@acme.example"},
    ),
    Case(
        "resync_charge_codes",
        "F-CODES",
        _missing_item,
        {"Item": 1, "Invoice": 1},
        "item created; + the invoice it unblocked",
    ),
    Case(
        "map_charge_code",
        "F-MAP",
        _duplicate_items,
        {"Invoice": 1},
        "the invoice it unblocked",
        options={"code": lambda svc: "FSC", "item_id": _first_fuel_item},
    ),
    Case(
        "set_doc_number",
        "PP-2026-11-0000012345X",
        _too_long,
        {"Invoice": 1},
        "the invoice it unblocked",
        options={"doc_number": lambda svc: "PP-12345X"},
    ),
    Case("clear_qb_id", "F-GONE", _deleted_invoice, {"Invoice": 1}, "invoice sent again", user=ADMIN),
    Case(
        "dismiss",
        "F-DISMISS",
        _a_problem,
        {},
        "nothing in QuickBooks",
        options={"reason": lambda svc: "invoiced by hand"},
    ),
    Case("undismiss", "F-BACK", _dismissed, {"Invoice": 1}, "the invoice it unblocked"),
    Case("retry", "F-RETRY", _unavailable, {"Invoice": 1}, "invoice created"),
]


def _click_fifty(make_bot, svc, case: Case) -> list[str]:
    """Press the fix's button 50 times at once through Slack; every answer, once all are in."""
    bot = make_bot(svc)
    message = diagnosed(bot, case.number)
    find_action(message.blocks, f"fix.{case.fix}")  # the button is there
    bot.slack.clear()
    with concurrent.futures.ThreadPoolExecutor(CLICKS) as pool:
        statuses = list(
            pool.map(lambda _: bot.click(message, f"fix.{case.fix}", user=case.user), range(CLICKS))
        )
    assert statuses == [200] * CLICKS

    def answers() -> list[str]:  # each click is answered "Running…" first, then with what it found
        return [str(c.args) for c in bot.slack.calls("response_url") if "started by" not in str(c.args)]

    wait_for(lambda: len(answers()) >= CLICKS, timeout=60, what="every click answered")
    return answers()


def _apply_fifty(svc, case: Case) -> list[str]:
    """50 people apply the fix with the same choice at once (the choice's modal submitted 50 times)."""
    options = {name: value(svc) for name, value in (case.options or {}).items()}

    def apply(i: int) -> str:
        result = svc.fixer.apply(case.number, case.fix, f"slack:T0001:U0PERSON{i:02d}", admin=True, **options)
        return f"{result.outcome}: {result.message}"

    with concurrent.futures.ThreadPoolExecutor(CLICKS) as pool:
        return list(pool.map(apply, range(CLICKS)))


@pytest.mark.parametrize("case", CASES, ids=[c.fix for c in CASES])
def test_fifty_concurrent_applies_of_one_fix_write_quickbooks_once(fast, make_bot, emu, case):
    svc = fast
    case.setup(svc)
    if case.fix == "retry":
        emu.add_fault("503", count=3, method="POST", path_contains="/invoice")
        svc.sync.sync_load(case.number, trigger="test")
    before = versions(svc.api)
    started = len(audit(svc.engine, case.fix))
    answers = _apply_fifty(svc, case) if case.options else _click_fifty(make_bot, svc, case)
    made = writes(before, versions(svc.api))
    rows = audit(svc.engine, case.fix)[started:]
    applied = [r for r in rows if r.outcome == "applied"]
    assert len(answers) == CLICKS and len(rows) == CLICKS, (len(answers), len(rows))
    stale = [a for a in answers if "stale object" in a.casefold()]
    assert not stale, stale[:3]
    assert made == case.writes, (made, [r.detail for r in applied])
    assert len(applied) == 1, [(r.actor, r.detail) for r in applied]
    own = sum(made.values()) - (1 if "+ the invoice" in case.what else 0)
    print(
        f"FIGURE clicks-per-write: {case.fix} {CLICKS} clicks → {own} write{'s' if own != 1 else ''}, "
        f"{len(applied)} applied row ({case.what})"
    )


# -- the words of a click that waited its turn ---------------------------------------------------


def test_a_press_that_reached_the_app_after_the_fix_was_done_is_told_who_did_it(fast):
    """Slack's listeners may queue a click until after the first one finished: counted from its press
    (``action_ts``), it is not run again and names who did it; a press made afterwards runs as usual."""
    svc = fast
    _synced_then_changed("F-LATE", charges=[("BASE", "900.00"), ("FSC", "100.00")])(svc)
    before = versions(svc.api)
    pressed = utcnow()
    first = svc.fixer.apply("F-LATE", "push_invoice_update", "slack:T0001:U0FIRST01", pressed_at=pressed)
    assert first.outcome == "applied", first.message
    late = svc.fixer.apply("F-LATE", "push_invoice_update", "slack:T0001:U0SECOND1", pressed_at=pressed)
    assert (late.outcome, late.done_by) == ("unchanged", "slack:T0001:U0FIRST01"), late.message
    assert late.diagnosis is not None and late.diagnosis.state == "synced"
    long_ago = svc.fixer.apply(
        "F-LATE", "push_invoice_update", "slack:T0001:U0SECOND1", pressed_at=pressed - dt.timedelta(days=1)
    )
    assert long_ago.done_by == "slack:T0001:U0FIRST01"  # a press counts at most a minute back, still after
    later = svc.fixer.apply("F-LATE", "push_invoice_update", "slack:T0001:U0THIRD01")
    assert later.done_by is None and later.outcome == "unchanged"  # nothing left to push
    assert writes(before, versions(svc.api)) == {"Invoice": 1}


def test_a_click_that_waited_its_turn_is_told_who_did_it_and_sees_the_fresh_diagnosis(fast, make_bot, emu):
    svc = fast
    _synced_then_changed("F-TURN", charges=[("BASE", "900.00"), ("FSC", "100.00")])(svc)
    bot = make_bot(svc)
    message = diagnosed(bot, "F-TURN")
    before = versions(svc.api)
    bot.slack.clear()
    emu.add_fault("latency", count=1, ms=1500, method="POST", path_contains="/invoice")
    assert bot.click(message, "fix.push_invoice_update", user="U0FIRST01") == 200

    def claimed() -> bool:
        with Session(svc.engine) as session:
            return any(lock.holder for lock in session.exec(select(JobLock)) if "F-TURN" in lock.name)

    wait_for(claimed, what="the first click holding the load")
    assert bot.click(message, "fix.push_invoice_update", user="U0SECOND1") == 200

    def outcomes() -> list:
        return [c for c in bot.slack.calls("response_url") if "started by" not in str(c.args)]

    wait_for(lambda: len(outcomes()) >= 2, timeout=30, what="both clicks answered")
    words = [text_of_payload(c.args) for c in outcomes()]
    waited = [w for w in words if "already done by" in w.casefold()]
    assert len(waited) == 1, words
    assert "<@U0FIRST01>" in waited[0] and "a moment ago" in waited[0]
    assert "synced" in waited[0]  # the fresh diagnosis follows
    assert writes(before, versions(svc.api)) == {"Invoice": 1}
    applied = [r for r in audit(svc.engine, "push_invoice_update") if r.outcome == "applied"]
    assert [r.actor for r in applied] == ["slack:T0001:U0FIRST01"]


def text_of_payload(args: dict[str, Any]) -> str:
    from tests.slack.conftest import words_in

    return "\n".join([str(args.get("text") or ""), words_in(args.get("blocks") or [])])


# -- two processes ---------------------------------------------------------------------------------


def test_two_fix_processes_started_at_once_write_the_invoice_once(env, connected, engine, emu):
    _synced_then_changed("F-CLI", charges=[("BASE", "900.00"), ("FSC", "100.00")])(connected)
    before = versions(connected.api)
    # Each write takes a while, as over a slow network: both processes are inside the fix together.
    emu.add_fault("latency", count=2, ms=1500, method="POST", path_contains="/invoice")
    runs = finish([start("fix", "F-CLI", "push_invoice_update", "--json") for _ in range(2)])
    for code, _out, err in runs:
        assert code == 0 and "Traceback" not in err, (code, err)
    answers = [json.loads(out) for _, out, _ in runs]
    outcomes = sorted(a["outcome"] for a in answers)
    assert outcomes == ["applied", "unchanged"], answers
    assert not any("stale object" in a["message"].casefold() for a in answers)
    assert writes(before, versions(connected.api)) == {"Invoice": 1}
    [invoice] = qb_invoices(connected.api, "F-CLI")
    assert str(invoice["TotalAmt"]) in ("1000.00", "1000.0", "1000")
    applied = [r for r in audit(engine, "push_invoice_update") if r.outcome == "applied"]
    assert len(applied) == 1
    print("FIGURE clicks-per-write: 2 `qbsync fix` processes at once → 1 write, 1 applied row")


# -- a write whose answer is lost, a process killed half-way ---------------------------------------


def test_a_fix_write_whose_answer_is_lost_is_sent_again_and_made_once(connected, engine, emu):
    _synced_then_changed("F-LOST", customer="C-200")(connected)
    before = versions(connected.api)
    # QuickBooks makes the change, then the connection drops before its answer arrives.
    emu.add_fault("drop_after_commit", count=1, method="POST", path_contains="/invoice")
    result = connected.fixer.apply("F-LOST", "push_customer_change", "test", admin=True)
    assert result.outcome == "applied", result.message
    assert writes(before, versions(connected.api)) == {"Invoice": 1}
    [invoice] = qb_invoices(connected.api, "F-LOST")
    assert invoice["CustomerRef"]["value"] == connected.api.query_all("Customer")[1]["Id"]


def test_a_fix_process_killed_after_its_write_leaves_no_claim_in_the_way(env, connected, engine, emu):
    _synced_then_changed("F-KILL", charges=[("BASE", "900.00"), ("FSC", "100.00")])(connected)
    before = versions(connected.api)
    killed = subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", "fix", "F-KILL", "push_invoice_update"],
        env={**os.environ, "QBSYNC_CRASH_AT": "fix_sent"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)
    with Session(engine) as session:  # the dead process still holds the load's fixes
        assert [lock.name for lock in session.exec(select(JobLock)) if lock.holder] == ["fix:F-KILL"]
    began = time.monotonic()
    [(code, out, err)] = finish([start("fix", "F-KILL", "push_invoice_update", "--json")])
    elapsed = time.monotonic() - began
    assert code == 0, err
    assert json.loads(out)["outcome"] == "unchanged"  # the killed run's write is there
    assert writes(before, versions(connected.api)) == {"Invoice": 1}
    assert elapsed < 15, f"the next run waited {elapsed:.1f} s for a dead process"
    print(f"FIGURE clicks-per-write: fix run after a kill at fix_sent → 1 write, next run {elapsed:.1f} s")


# -- the claim itself --------------------------------------------------------------------------------


def _held_elsewhere(engine, name: str, until: dt.datetime) -> None:
    """The lock ``name`` as a process on another host left it (its process cannot be checked from here)."""
    with Session(engine) as session:
        session.add(JobLock(name=name, holder="another-host/1:4242:1", until=until, last_started_at=utcnow()))
        session.commit()


def test_a_click_that_waits_too_long_changes_nothing_and_says_so(connected, engine, emu):
    _synced_then_changed("F-BUSY", customer="C-200")(connected)
    _held_elsewhere(engine, "fix:F-BUSY", utcnow() + dt.timedelta(minutes=5))
    before = versions(connected.api)
    connected.fixer.claim_wait = 0.3
    result = connected.fixer.apply("F-BUSY", "push_customer_change", "slack:T0001:U0CLERK01")
    assert result.outcome == "refused"
    assert "Another fix of load F-BUSY is still running" in result.message
    assert writes(before, versions(connected.api)) == {}
    assert [r.outcome for r in audit(engine, "push_customer_change")] == ["refused"]


def test_a_lease_run_out_on_another_host_is_taken_and_a_held_one_is_renewed(engine):
    _held_elsewhere(engine, "fix:F-OLD", utcnow() - dt.timedelta(seconds=1))
    with Claim(engine, "fix:F-OLD", dt.timedelta(seconds=30), wait=1) as claim:
        assert claim.held  # its holder stopped renewing: taken over
    lease = dt.timedelta(seconds=0.6)
    with Claim(engine, "fix:F-LONG", lease, wait=1) as first:
        assert first.held
        time.sleep(1.2)  # twice the lease: renewed meanwhile, so still held
        with Session(engine) as session:
            row = session.get(JobLock, "fix:F-LONG")
            assert row.holder and row.until > utcnow(), (row.holder, row.until)
    assert _try_claim(engine, "fix:F-LONG", 0.3)  # released: free at once
    with Session(engine) as session:
        assert list(session.exec(select(JobLock))) == []  # a claim leaves no row behind


def _try_claim(engine, name: str, wait: float) -> bool:
    with Claim(engine, name, dt.timedelta(seconds=30), wait=wait) as claim:
        return claim.held
