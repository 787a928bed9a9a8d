"""Ctrl-C during a bulk sync that waits for QuickBooks' budget: it stops at once (no batch starts or
keeps waiting), what QuickBooks answered is recorded, nothing is left claimed, and the next run pushes
the rest, each load once."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from services.store.models import Load, SyncAttempt
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms
from tests.waiting import wait_for

pytestmark = pytest.mark.reliability

LOADS = [f"I-{n:03d}" for n in range(240)]  # 8 batches of 30
# Two batches a minute: had it kept waiting, the six other batches would need three more minutes. A stop
# is told from a wait by that, not by a short deadline a loaded machine can miss.
WAITING_WOULD_TAKE = 120.0


def test_ctrl_c_while_waiting_for_the_budget_stops_at_once_and_loses_nothing(env, connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load(n) for n in LOADS])
    budget = {"QBSYNC_QBO_BATCHES_PER_MINUTE": "2"}  # two batches, then a minute's wait for the others
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "sync", "--all"],
        env={**os.environ, **budget},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def attempts() -> int:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(SyncAttempt.__table__)).scalar()

    try:
        wait_for(lambda: attempts() >= 60, timeout=180, what="the first two batches")
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=WAITING_WOULD_TAKE + 60)  # the exit itself is the condition
        stopped = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert stopped < WAITING_WOULD_TAKE / 2, f"it waited for the budget ({stopped:.1f} s after Ctrl-C)"
    assert "stopped; what QuickBooks had already answered is recorded" in err and "Traceback" not in err
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Load.load_number, Load.state, Load.claimed_by)).all()
    synced = {number for number, state, _ in rows if state == "synced"}
    assert all(claimed is None for _, _, claimed in rows), "nothing left claimed"
    in_quickbooks = {inv["DocNumber"] for inv in qb_invoices(connected.api)}
    assert in_quickbooks == synced and len(synced) < len(LOADS), "what was sent is recorded; the rest waits"

    rerun = subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", "sync", "--all"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr
    counts = collections.Counter(inv["DocNumber"] for inv in qb_invoices(connected.api))
    assert sorted(counts) == LOADS and set(counts.values()) == {1}
    print(
        f"FIGURE ctrl-c: sync --all waiting for QuickBooks' batch budget stopped {stopped:.1f} s after "
        f"Ctrl-C with {len(synced)} of {len(LOADS)} loads recorded, 0 claimed; the next run synced the rest, "
        "1 invoice each"
    )
