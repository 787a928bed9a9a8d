"""A claim is a short lease, renewed while its worker lives: a worker elsewhere that died holds its
loads for one lease at most; a live one keeps them however long QuickBooks takes."""

from __future__ import annotations

import datetime as dt
import os
import socket

import sqlalchemy as sa

from services.store.models import Load, utcnow
from services.store.workers import holder_is_dead, worker_id
from services.store.workers import this_host as _host
from services.sync.claims import Claims
from tests.builders import load as a_load
from tests.builders import tms
from tests.waiting import wait_for

_LOAD = Load.__table__
ELSEWHERE = "another-host/4026531836:4242:1"  # a worker on another machine: only its lease says


def load_ids(engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(_LOAD.c.id).order_by(_LOAD.c.id)).scalars())


def claim_of(engine, load_id: int) -> tuple[str | None, dt.datetime | None]:
    with engine.connect() as conn:
        by, until = conn.execute(
            sa.select(_LOAD.c.claimed_by, _LOAD.c.claimed_until).where(_LOAD.c.id == load_id)
        ).one()
    return by, (until.replace(tzinfo=dt.UTC) if until is not None and until.tzinfo is None else until)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_claim_from_another_host_holds_for_its_lease_then_is_taken(engine):
    tms(engine, [a_load("L-1")])
    [load_id] = load_ids(engine)
    clock = Clock()
    lease = dt.timedelta(seconds=30)
    theirs = Claims(engine, clock, lease=lease)
    assert theirs.claim_many([load_id], ELSEWHERE) == {load_id}
    theirs.keeper.drop([load_id], ELSEWHERE)  # that host stops renewing: it died
    assert claim_of(engine, load_id) == (ELSEWHERE, clock.now + lease)

    mine = Claims(engine, clock, lease=lease)
    me = worker_id()
    clock.now += lease - dt.timedelta(seconds=1)
    assert not mine.claim(load_id, me), "within its lease the claim is theirs"
    clock.now += dt.timedelta(seconds=2)
    assert mine.claim(load_id, me), "one lease after its last renewal the claim is free"
    mine.release(load_id, me)


def test_a_living_worker_renews_its_lease_and_stops_renewing_once_it_releases(engine):
    tms(engine, [a_load("L-1"), a_load("L-2")])
    ids = load_ids(engine)
    clock = Clock()  # the leases' time; the keeper still wakes every third of a lease of real time
    lease = dt.timedelta(seconds=0.6)
    worker = Claims(engine, clock, lease=lease)
    me = worker_id()
    assert worker.claim_many(ids, me) == set(ids)
    assert claim_of(engine, ids[0]) == (me, clock.now + lease)
    other = Claims(engine, clock, lease=lease)

    clock.now += 3 * lease  # without a renewal, both claims would have lapsed by now
    renewed = clock.now + lease
    wait_for(lambda: all(claim_of(engine, i) == (me, renewed) for i in ids), timeout=10, what="a renewal")
    assert other.claim_many(ids, ELSEWHERE) == set(), "renewed claims are still the worker's"

    worker.release_many(ids, me)
    wait_for(lambda: not worker.keeper.running, timeout=10, what="the lease keeper to end")
    assert [claim_of(engine, load_id) for load_id in ids] == [(None, None)] * 2


def test_a_claim_taken_over_since_is_not_renewed_by_its_old_holder(engine):
    tms(engine, [a_load("L-1")])
    [load_id] = load_ids(engine)
    worker = Claims(engine, utcnow, lease=dt.timedelta(seconds=30))
    assert worker.claim(load_id, "old-holder")
    with engine.begin() as conn:
        conn.execute(sa.update(_LOAD).values(claimed_by=ELSEWHERE, claimed_until=utcnow()))
    assert worker.renew({load_id: "old-holder"}) == 0
    assert claim_of(engine, load_id)[0] == ELSEWHERE
    worker.keeper.drop([load_id], "old-holder")


def test_only_a_process_of_this_host_and_process_namespace_is_known_dead():
    gone = 2**22 + 12345  # above Linux's pid_max: no such process
    assert holder_is_dead(f"{_host()}:{gone}:1")
    assert not holder_is_dead(f"{_host()}:{os.getpid()}:1"), "this process lives"
    # Same hostname, another process namespace (a container sharing the host's network): its pids
    # are not ours to test, so only its lease can free its claims.
    assert not holder_is_dead(f"{socket.gethostname()}/1:{gone}:1")
    assert not holder_is_dead(f"{ELSEWHERE.split(':')[0]}:{gone}:1")
    assert worker_id().startswith(f"{_host()}:{os.getpid()}:")


def test_a_forked_child_does_not_renew_its_parents_claims(engine):
    tms(engine, [a_load("L-1"), a_load("L-2")])
    first, second = load_ids(engine)
    worker = Claims(engine, utcnow, lease=dt.timedelta(seconds=30))
    assert worker.claim(first, "parent")
    pid = os.fork()
    if pid == 0:  # the child: it holds only what it claims itself
        worker.keeper.hold({second}, "child")
        os._exit(0 if worker.keeper._held == {second: "child"} else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    worker.release(first, "parent")


def test_claims_taken_over_from_a_dead_worker_are_logged_once(engine, caplog):
    tms(engine, [a_load(f"L-{n}") for n in range(5)])
    ids = load_ids(engine)
    dead = f"{_host()}:{2**22 + 7}:1"  # a process of this host that no longer runs
    with engine.begin() as conn:
        until = utcnow() + dt.timedelta(minutes=5)
        conn.execute(sa.update(_LOAD).values(claimed_by=dead, claimed_until=until))
    worker = Claims(engine, utcnow)
    with caplog.at_level("WARNING", logger="services.sync.claims"):
        assert worker.claim_many(ids, "me") == set(ids)
    assert [r.getMessage() for r in caplog.records] == [f"took over 5 claim(s) of a dead worker {dead}"]
    worker.release_many(ids, "me")
