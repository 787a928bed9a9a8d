"""Crash points, enumerated: a real ``qbsync`` process is killed with SIGKILL at each write the sync
(or a fix) makes (``QBSYNC_CRASH_AT``, ``services/crashpoints.py``), then ``sync --all`` is run again:
every load ends synced with exactly one invoice, and the run after the kill is not held up by the
dead process's claims."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlmodel import Session, select

from services.crashpoints import POINTS
from services.store.models import Load
from services.store.workers import holder_is_dead
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms
from tests.test_fixes import manual_invoice

pytestmark = pytest.mark.reliability

LOADS = [f"K-{n:03d}" for n in range(35)]  # a batch of 30 and a second one of 5
BATCH_POINTS = ("claim", "batch_sent", "batch_answered", "local_commit", "release")
SINGLE_POINTS = ("claim", "create_sent", "create_answered", "local_commit", "release")
LIVENESS_LIMIT = 15.0  # seconds; a dead worker of this host is taken over at once, not after its lease
_rerun_seconds: list[float] = []


def qbsync(*args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("QBSYNC_CRASH_AT", None)
    if crash_at:
        env["QBSYNC_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def killed_at(point: str, *args: str) -> None:
    proc = qbsync(*args, crash_at=point)
    assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stdout, proc.stderr)


def rerun_all() -> float:
    started = time.monotonic()
    proc = qbsync("sync", "--all")
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    _rerun_seconds.append(elapsed)
    assert elapsed < LIVENESS_LIMIT, f"sync --all after a kill took {elapsed:.1f} s"
    return elapsed


def assert_each_synced_once(svc, engine, numbers: list[str]) -> None:
    counts = collections.Counter(inv.get("DocNumber") for inv in qb_invoices(svc.api))
    with Session(engine) as session:
        rows = {r.load_number: r for r in session.exec(select(Load).where(Load.load_number.in_(numbers)))}
    for number in numbers:
        row = rows[number]
        assert row.state == "synced", (number, row.state, row.reasons)
        assert counts[number] == 1, (number, counts[number])
        # a claim left by the killed process (a load it had recorded) is free to take at once
        assert row.claimed_by is None or holder_is_dead(row.claimed_by), (number, row.claimed_by)
    assert not [doc for doc, n in counts.items() if n > 1]


def test_every_point_is_named_and_unset_costs_nothing():
    assert set(BATCH_POINTS) | set(SINGLE_POINTS) | {"fix_sent", "fix_commit"} == set(POINTS)


@pytest.mark.parametrize("point", BATCH_POINTS)
def test_sync_all_killed_at_each_point_then_rerun_syncs_each_load_once(point, connected, engine, env):
    qb_company(connected.api)
    tms(engine, [a_load(n) for n in LOADS])
    killed_at(point, "sync", "--all")
    elapsed = rerun_all()
    assert_each_synced_once(connected, engine, LOADS)
    print(
        f"FIGURE crash-point {point} (sync --all, {len(LOADS)} loads): rerun {elapsed:.2f} s, 1 invoice each"
    )


@pytest.mark.parametrize("point", SINGLE_POINTS)
def test_sync_of_one_load_killed_at_each_point_then_rerun_syncs_it_once(point, connected, engine, env):
    qb_company(connected.api)
    tms(engine, [a_load(n) for n in LOADS[:3]])
    killed_at(point, "sync", LOADS[0])
    elapsed = rerun_all()
    assert_each_synced_once(connected, engine, LOADS[:3])
    print(f"FIGURE crash-point {point} (sync of one load): rerun {elapsed:.2f} s, 1 invoice each")


def _customer_changed(svc, engine) -> str:
    company = qb_company(svc.api)
    tms(engine, [a_load("F-1")])
    assert svc.sync.sync_load("F-1", trigger="test").state == "synced"
    tms(engine, [a_load("F-1", customer="C-200")])
    svc.expected_customer = company["customers"]["C-200"]["Id"]
    return "push_customer_change"


def _manual_invoice(svc, engine) -> str:
    company = qb_company(svc.api)
    tms(engine, [a_load("F-1", charges=[("BASE", "400.00")])])
    manual_invoice(svc.api, "F-1", company["customers"]["C-100"], company["items"]["BASE"], "400.00")
    assert svc.sync.sync_load("F-1", trigger="test").state == "problem"
    return "adopt_qb_invoice"


def _invoice_deleted(svc, engine) -> str:
    qb_company(svc.api)
    tms(engine, [a_load("F-1")])
    synced = svc.sync.sync_load("F-1", trigger="test")
    invoice = svc.api.read("Invoice", synced.qb_invoice_id)
    svc.api.delete("Invoice", invoice["Id"], invoice["SyncToken"])
    assert svc.sync.sync_load("F-1", trigger="test").state == "problem"
    return "clear_qb_id"


FIX_CASES = [
    (_customer_changed, "fix_sent"),
    (_customer_changed, "fix_commit"),
    (_manual_invoice, "fix_sent"),
    (_manual_invoice, "fix_commit"),
    (_invoice_deleted, "fix_commit"),
    (_invoice_deleted, "claim"),  # the sync that follows the fix
    (_invoice_deleted, "create_sent"),
]


@pytest.mark.parametrize(
    ("scenario", "point"), FIX_CASES, ids=[f"{s.__name__[1:]}-{p}" for s, p in FIX_CASES]
)
def test_a_fix_killed_mid_way_then_sync_all_ends_synced_once(scenario, point, connected, engine, env):
    fix = scenario(connected, engine)
    killed_at(point, "fix", "F-1", fix)
    elapsed = rerun_all()
    assert_each_synced_once(connected, engine, ["F-1"])
    if fix == "push_customer_change":
        [invoice] = qb_invoices(connected.api, "F-1")
        assert invoice["CustomerRef"]["value"] == connected.expected_customer
    print(f"FIGURE crash-point {point} ({fix}): rerun {elapsed:.2f} s, 1 invoice")
