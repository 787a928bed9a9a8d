"""Exactly once, under concurrency, crashes, faults and throttling."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

from sqlmodel import Session, select

from services.store.models import Load, SyncAttempt
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms
from tests.conftest import RETRY_ATTEMPTS


def codes(result) -> list[str]:
    return [r.code for r in result.reasons]


def test_two_syncs_of_one_load_at_once_leave_one_invoice(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("L-1101")])
    emu.configure(latency_ms=50)  # widen the window in which both are in flight
    results = []
    barrier = threading.Barrier(2)

    def sync() -> None:
        barrier.wait()
        results.append(connected.sync.sync_load("L-1101", trigger="test"))

    threads = [threading.Thread(target=sync) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    emu.configure(latency_ms=0)
    assert len(qb_invoices(connected.api, "L-1101")) == 1
    assert any(r.state == "synced" for r in results)
    assert any(r.note and "another worker is pushing" in r.note for r in results) or all(
        r.state == "synced" for r in results
    )


def test_a_process_killed_between_create_and_commit_leaves_one_invoice(connected, engine, emu, env):
    qb_company(connected.api)
    tms(engine, [a_load("L-1201")])
    # QuickBooks creates the invoice, then holds the answer: the process is killed while it waits.
    emu.add_fault("latency_after_commit", method="POST", path_contains="/invoice", ms=20000)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "sync", "L-1201"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not qb_invoices(connected.api, "L-1201"):
            assert proc.poll() is None, "the sync finished before it could be killed"
            assert time.monotonic() < deadline, "the invoice never reached QuickBooks"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with Session(engine) as session:
        row = session.exec(select(Load).where(Load.load_number == "L-1201")).one()
        assert row.qb_invoice_id is None and row.claimed_by  # nothing committed; a stale claim left behind
    result = connected.sync.sync_load("L-1201", trigger="test")
    assert result.state == "synced", result.reasons
    [invoice] = qb_invoices(connected.api, "L-1201")
    assert result.qb_invoice_id == invoice["Id"]


def test_random_faults_end_synced_or_with_a_transient_reason(connected, engine, emu):
    qb_company(connected.api)
    numbers = [f"L-13{n:02d}" for n in range(12)]
    tms(engine, [a_load(n) for n in numbers])
    emu.configure(fault_rate=0.35)
    results = connected.sync.sync_many(numbers, trigger="test")
    emu.configure(fault_rate=0.0)
    assert len(results) == len(numbers)
    for result in results:
        assert result.state == "synced" or set(codes(result)) <= {"qb_unavailable", "qb_throttled"}, result
    again = connected.sync.sync_many(None, trigger="test")
    assert all(r.state == "synced" for r in again)
    invoices = qb_invoices(connected.api)
    assert sorted(inv["DocNumber"] for inv in invoices) == numbers  # each exactly once
    with Session(engine) as session:
        assert session.exec(select(SyncAttempt)).all()  # every attempt is recorded


def test_persistent_throttling_is_qb_throttled_then_retry_syncs(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("L-1401")])
    emu.add_fault("429", count=RETRY_ATTEMPTS, method="POST", path_contains="/invoice")
    result = connected.sync.sync_load("L-1401", trigger="test")
    assert codes(result) == ["qb_throttled"]
    assert connected.sync.sync_load("L-1401", trigger="test").state == "synced"
    assert len(qb_invoices(connected.api, "L-1401")) == 1


def test_persistent_outage_is_qb_unavailable(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("L-1501")])
    emu.add_fault("503", count=RETRY_ATTEMPTS, method="POST", path_contains="/invoice")
    result = connected.sync.sync_load("L-1501", trigger="test")
    assert codes(result) == ["qb_unavailable"]
    with Session(engine) as session:
        [attempt] = session.exec(select(SyncAttempt)).all()
    assert attempt.outcome == "error" and attempt.reasons == ["qb_unavailable"]


def test_a_rejection_is_qb_validation_error_and_a_retry_uses_a_new_request_id(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("L-1601")])
    emu.add_fault(
        "fault",
        method="POST",
        path_contains="/invoice",
        code="6210",
        message="Account Period Closed",
        detail="The account period has closed.",
        element="TxnDate",
    )
    result = connected.sync.sync_load("L-1601", trigger="test")
    assert codes(result) == ["qb_validation_error"]
    evidence = result.reasons[0].evidence
    assert evidence["qb_code"] == "6210" and evidence["element"] == "TxnDate"
    retried = connected.sync.sync_load("L-1601", trigger="test")
    assert retried.state == "synced", retried.reasons
    with Session(engine) as session:
        ids = [a.request_id for a in session.exec(select(SyncAttempt).order_by(SyncAttempt.id))]
    assert ids[0] and ids[1] and ids[0] != ids[1]


def test_a_synced_load_quickbooks_cannot_check_just_now_stays_synced(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("L-1201")])
    synced = connected.sync.sync_load("L-1201", trigger="test")
    assert synced.state == "synced"
    emu.add_fault("503", count=RETRY_ATTEMPTS, method="GET", path_contains="/invoice/")
    again = connected.sync.sync_load("L-1201", trigger="test")
    assert again.state == "synced" and again.reasons == [] and again.qb_invoice_id == synced.qb_invoice_id
    assert "could not be asked to check its invoice again just now" in again.note
    assert "stays synced" in again.note
    with Session(engine) as session:
        load = session.exec(select(Load).where(Load.load_number == "L-1201")).one()
        assert (load.state, load.reasons, load.problem_since) == ("synced", [], None)
        last = session.exec(select(SyncAttempt).order_by(SyncAttempt.id.desc())).first()
        assert (last.outcome, last.reasons) == ("error", ["qb_unavailable"])
    assert connected.fixer.apply("L-1201", "retry", "test").outcome == "applied"  # QuickBooks answers again


def test_a_retry_click_on_a_synced_load_quickbooks_cannot_check_says_so(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("L-1202")])
    assert connected.sync.sync_load("L-1202", trigger="test").state == "synced"
    emu.add_fault("429", count=40, method="GET", path_contains="/invoice/")
    result = connected.fixer.apply("L-1202", "retry", "test")
    assert result.outcome == "unchanged", result
    assert "is synced (invoice" in result.message and "stays synced" in result.message
    assert connected.sync.current_result("L-1202").state == "synced"
