"""Claims across hosts: a worker on another machine cannot be seen to die, so its claims are leases it
renews while it lives. Another host is played by a real ``qbsync`` process in its own process namespace
(``unshare --pid``): same database, same QuickBooks, but its process ids are not ours to test."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from services.store.models import Load, utcnow
from services.store.workers import this_host as _host
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms
from tests.waiting import wait_for

BUSY_NOTE = "another worker is pushing this load right now; try again in a moment"
LOADS = [f"H-{n:03d}" for n in range(35)]  # a batch of 30 and one of 5
_LOAD = Load.__table__


def _unshare() -> list[str] | None:
    """The command that starts a process in a new process namespace: as root, or in a user namespace of
    its own where unprivileged ones are allowed; None where neither is."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for command in ([unshare, "--pid", "--fork"], [unshare, "--user", "--map-root-user", "--pid", "--fork"]):
        if subprocess.run([*command, "true"], capture_output=True).returncode == 0:
            return command
    return None


UNSHARE = _unshare()
pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(
        UNSHARE is None, reason="needs `unshare --pid` to run a worker in another process namespace"
    ),
]


def qbsync_env(lease: float, crash_at: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "QBSYNC_CRASH_AT"}
    env["QBSYNC_CLAIM_LEASE_SECONDS"] = str(lease)
    if crash_at:
        env["QBSYNC_CRASH_AT"] = crash_at
    return env


def elsewhere(*args: str, lease: float, crash_at: str | None = None) -> subprocess.Popen[str]:
    """``qbsync ARGS`` as if on another host. bash is the namespace's first process, so that the
    crash hook's SIGKILL reaches qbsync (a namespace's init ignores it)."""
    command = [sys.executable, "-c", "from cli import main; main()", *args]
    return subprocess.Popen(
        [
            shutil.which("unshare") or "unshare",
            "--pid",
            "--fork",
            "bash",
            "-c",
            '"$@"; exit $?',
            "_",
            *command,
        ],
        env=qbsync_env(lease, crash_at),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def here(*args: str, lease: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env=qbsync_env(lease),
        capture_output=True,
        text=True,
        timeout=120,
    )


def claims(engine) -> dict[str, tuple[str, dt.datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(_LOAD.c.load_number, _LOAD.c.claimed_by, _LOAD.c.claimed_until).where(
                _LOAD.c.claimed_by.is_not(None)
            )
        ).all()
    return {n: (by, until if until.tzinfo else until.replace(tzinfo=dt.UTC)) for n, by, until in rows}


def results(proc: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    assert proc.returncode == 0, proc.stderr
    return {r["load_number"]: r for r in json.loads(proc.stdout)["results"]}


def assert_each_once(api) -> None:
    counts = collections.Counter(inv.get("DocNumber") for inv in qb_invoices(api))
    assert sorted(counts) == LOADS and set(counts.values()) == {1}, counts


def test_a_worker_killed_on_another_host_holds_its_loads_one_lease_then_they_sync_once(
    connected, engine, env
):
    lease = 5.0
    qb_company(connected.api)
    tms(engine, [a_load(n) for n in LOADS])
    killed = elsewhere("sync", "--all", lease=lease, crash_at="batch_answered")  # created, not recorded
    _, err = killed.communicate(timeout=120)
    assert killed.returncode == 128 + 9, (killed.returncode, err)
    killed_at = time.monotonic()
    held = claims(engine)
    assert held and all(by.split(":")[0] != _host() for by, _ in held.values()), held
    lapses = max(until for _, until in held.values())

    first = here("sync", "--all", "--json", lease=lease)
    if utcnow() < lapses:  # the whole run fell inside the dead worker's lease: its loads wait
        states = results(first)
        for number in held:
            assert states[number]["state"] == "pending" and states[number]["note"] == BUSY_NOTE, states[
                number
            ]

    wait_for(lambda: utcnow() > lapses, timeout=2 * lease, what="the dead worker's lease to lapse")
    second = results(here("sync", "--all", "--json", lease=lease))
    freed = time.monotonic() - killed_at
    assert {r["state"] for r in second.values()} == {"synced"}, second
    assert claims(engine) == {}
    assert_each_once(connected.api)
    print(
        f"FIGURE lease-after-kill: a worker on another host killed holding {len(held)} loads; "
        f"they synced {freed:.1f} s later (lease {lease:.0f} s), 1 invoice each"
    )


def test_a_live_worker_on_another_host_keeps_its_claims_past_the_lease_by_renewing(
    connected, engine, env, emu
):
    lease = 1.0  # renewed every 0.33 s; QuickBooks holds the first batch's answer 10 leases
    qb_company(connected.api)
    tms(engine, [a_load(n) for n in LOADS])
    emu.add_fault("latency_after_commit", count=1, method="POST", path_contains="/batch", ms=10000)
    worker = elsewhere("sync", "--all", "--json", lease=lease)
    try:
        first = wait_for(lambda: claims(engine), timeout=30, what="the other host's claims")
        passed = max(until for _, until in first.values()) + dt.timedelta(seconds=lease)
        wait_for(lambda: utcnow() > passed, timeout=10, what="the first lease to pass")
        still = claims(engine)
        assert still and set(still) <= set(first), "the slow batch is still claimed"
        assert all(until > max(u for _, u in first.values()) for _, until in still.values()), "renewed"

        mine = results(here("sync", "--all", "--json", lease=lease))
        assert worker.poll() is None, "the other host was still waiting for QuickBooks"
        for number in still:
            assert mine[number]["state"] == "pending" and mine[number]["note"] == BUSY_NOTE, mine[number]
        out, err = worker.communicate(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err
    assert {r["state"] for r in json.loads(out)["results"]} == {"synced"}
    assert claims(engine) == {}
    assert_each_once(connected.api)
    print(
        f"FIGURE lease-renewed: a live worker on another host kept {len(still)} claims through "
        f"{10 / lease:.0f} leases of waiting on QuickBooks; the other run left them alone; 1 invoice each"
    )
