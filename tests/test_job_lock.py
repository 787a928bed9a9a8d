"""A job's lock (the automatic sync's, the change feed's) is a short lease renewed while the run goes on:
held as long as the run lasts, however long, and free soon after a holder that stopped renewing."""

from __future__ import annotations

import datetime as dt
import time

from services.store.locks import JobLockHeld, acquire

SHORT = dt.timedelta(seconds=1.5)


def test_a_run_longer_than_its_lease_keeps_the_lock(svc):
    with JobLockHeld(svc.engine, "sync", SHORT) as lock:
        assert lock.held
        time.sleep(3.5)  # more than two leases
        assert not acquire(svc.engine, "sync", "another-host:1:abc", SHORT), "renewed: still ours"
    assert acquire(svc.engine, "sync", "another-host:1:abc", SHORT), "released when the run ended"


def test_a_holder_that_stops_renewing_frees_the_lock_after_its_lease(svc):
    assert acquire(svc.engine, "sync", "another-host:1:gone", SHORT)  # a holder elsewhere, then silent
    with JobLockHeld(svc.engine, "sync", SHORT) as lock:
        assert not lock.held
    time.sleep(1.8)
    with JobLockHeld(svc.engine, "sync", SHORT) as lock:
        assert lock.held
