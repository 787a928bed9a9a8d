"""The budget of a QuickBooks company shared by processes through the database: grants never exceed the
limit within a minute and leave it when the minute is over, a pause in one process holds every process,
places in flight are shared and freed (by the holder; on PostgreSQL by the lease, or at once for a dead
process of this host; on SQLite, whose places are lock files, at once by the kernel when a process
ends), and an unreachable database leaves the limiter on its own. Two ``SharedBudget`` objects play two
processes: they share nothing but the database."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from services.quickbooks.limiter import AdaptiveLimiter, Cancelled, Exhausted, Limits
from services.quickbooks.shared_budget import LOCAL, SharedBudget
from services.store.models import QboGrant, QboSlot
from services.store.storage import make_engine
from tests.conftest import PG_URL
from tests.waiting import wait_for

REALM = "9130350000000001"
_GRANT = QboGrant.__table__
_SLOT = QboSlot.__table__


def grants(engine) -> list[tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_GRANT.c.kind, _GRANT.c.sends).where(_GRANT.c.realm_id == REALM))
        return sorted((kind, sends) for kind, sends in rows)


def spend_all(realm, *, batch: bool = False, patient: bool = True) -> tuple[int, float]:
    """Send (with an immediate answer) until the budget says wait: (sends, the wait)."""
    sent = 0
    for _ in range(1000):  # far more than any limit here
        ticket, wait, _ = realm.enter(batch=batch, patient=patient)
        if ticket is None:
            if wait > 0.25:  # a wait for the budget, not a look for a free place in flight
                return sent, wait
            threading.Event().wait(wait)
            continue
        assert ticket is not LOCAL
        sent += 1
        ticket.done()
    raise AssertionError(f"{sent} sent and the budget never said wait")


def test_processes_together_never_get_more_than_the_limit_in_a_minute(engine):
    limits = Limits(requests_per_minute=40, batches_per_minute=6, in_flight=4, minute=60.0)
    processes = [SharedBudget(engine).for_realm(REALM, limits) for _ in range(2)]
    sent = [0, 0]

    def hammer(index: int) -> None:
        count, _ = spend_all(processes[index % 2])
        with lock:
            sent[index % 2] += count

    lock = threading.Lock()
    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # never more than bulk work may take (36: 4 are kept for people), though each may leave 2 unspent
    assert 32 <= sum(sent) <= 36, sent
    assert sum(sends for kind, sends in grants(engine) if kind == "request") <= 36
    third = SharedBudget(engine).for_realm(REALM, limits)  # a third process: nothing left for bulk work
    more, wait = spend_all(third)
    assert more == 0 and 0 < wait <= 60 * 1.02
    people, _ = spend_all(third, patient=False)  # what is kept for people's requests, and no more
    assert sum(sent) + people <= 40 and people >= 4


def test_a_batch_needs_a_grant_of_both_kinds(engine):
    limits = Limits(requests_per_minute=40, batches_per_minute=3, in_flight=4, minute=60.0)
    realm = SharedBudget(engine).for_realm(REALM, limits)
    batches, _ = spend_all(realm, batch=True)
    assert batches == 3
    requests, _ = spend_all(realm, patient=False)  # plain requests still go: 40 less the 3 batches
    assert requests == 37


def test_grants_leave_the_minute_and_unspent_sends_stop_counting(engine):
    limits = Limits(requests_per_minute=40, batches_per_minute=3, in_flight=4, minute=6.0)
    first, second = (SharedBudget(engine).for_realm(REALM, limits) for _ in range(2))
    ticket, *_ = first.enter(batch=False, patient=True)  # a bulk grant of 2 (a twentieth), one spent
    ticket.done()
    assert grants(engine) == [("request", 2)]
    with engine.connect() as conn:
        firsts = set(conn.execute(sa.select(_GRANT.c.id)).scalars())
    threading.Event().wait(first.hold)  # the time to spend it has passed
    ticket, *_ = first.enter(batch=True, patient=False)  # the next ask settles the first grant: 1 sent
    ticket.done()
    assert grants(engine) == [("batch", 1), ("request", 1), ("request", 1)]

    sent, wait = spend_all(second)
    assert (
        sent == 34 and wait > 0
    )  # 40 less the 2 sent and the 4 kept for people: the unspent one counts no more
    ticket = wait_for(
        lambda: second.enter(batch=False, patient=True)[0], timeout=60, what="the minute to pass"
    )
    ticket.done()
    with engine.connect() as conn:  # a grant was made: the first minute's oldest grant is gone
        assert not firsts & set(conn.execute(sa.select(_GRANT.c.id)).scalars())


def test_a_pause_in_one_process_holds_the_others(engine):
    limits = Limits(requests_per_minute=40, batches_per_minute=3, in_flight=4, minute=60.0)
    throttled, other = (SharedBudget(engine).for_realm(REALM, limits) for _ in range(2))
    throttled.pause(30.0)
    throttled.pause(5.0)  # a shorter pause does not shorten the first
    ticket, wait, _ = other.enter(batch=False, patient=False)
    assert ticket is None and 25 < wait <= 30


def test_a_throttled_answer_pauses_every_process_of_the_company(engine):
    limits = Limits(requests_per_minute=40, batches_per_minute=3, in_flight=4, minute=60.0)
    one = AdaptiveLimiter(limits, shared=SharedBudget(engine).for_realm(REALM, limits))
    two = AdaptiveLimiter(limits, shared=SharedBudget(engine).for_realm(REALM, limits))
    with one.slot():
        one.throttled(20.0, 0.5, 30)
    with pytest.raises(Exhausted) as raised, two.slot(max_wait=3.0):  # an interactive request gives up
        pass
    assert raised.value.wait > 15
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled), two.slot(cancel=stop):  # a bulk request stopped while waiting
        pass


def test_places_in_flight_are_shared_and_freed_by_their_holder(engine):
    limits = Limits(requests_per_minute=40, batches_per_minute=3, in_flight=2, minute=60.0)
    one, two = (SharedBudget(engine).for_realm(REALM, limits) for _ in range(2))
    held = [one.enter(batch=False, patient=True)[0], two.enter(batch=False, patient=True)[0]]
    assert all(ticket is not None for ticket in held)
    ticket, wait, _ = one.enter(batch=False, patient=True)
    assert ticket is None and 0 < wait < 0.25  # none free: look again soon
    held[1].done()
    ticket, *_ = one.enter(batch=False, patient=True)
    assert ticket is not None
    limiter = AdaptiveLimiter(limits, shared=two)
    with pytest.raises(Exhausted), limiter.slot(max_wait=0.3):  # both places taken by the other process
        pass
    ticket.done()
    held[0].done()
    with limiter.slot(max_wait=0.3):
        pass


def test_people_s_requests_find_a_place_and_a_send_when_bulk_work_has_taken_all_it_may(engine):
    limits = Limits(requests_per_minute=40, batches_per_minute=3, in_flight=5, minute=60.0)
    bulk, person = (SharedBudget(engine).for_realm(REALM, limits) for _ in range(2))
    held = [bulk.enter(batch=False, patient=True)[0] for _ in range(4)]
    assert all(ticket is not None for ticket in held)
    ticket, wait, _ = bulk.enter(batch=False, patient=True)
    assert ticket is None and wait < 0.25  # bulk work has its 4 places of 5
    ticket, *_ = person.enter(batch=False, patient=False)
    assert ticket is not None  # the fifth is a person's
    ticket.done()
    for ticket in held:
        ticket.done()
    sent, _ = spend_all(bulk)
    assert sent <= 36  # of 40 requests, 4 are kept for people
    ticket, *_ = person.enter(batch=False, patient=False)
    assert ticket is not None
    ticket.done()


@pytest.mark.skipif(not PG_URL, reason="SQLite lives on one host: its places are lock files, with no lease")
def test_a_place_held_by_a_process_on_another_host_is_free_when_its_lease_runs_out(engine):
    limits = Limits(requests_per_minute=40, batches_per_minute=3, in_flight=1, minute=60.0)
    elsewhere = SharedBudget(engine, lease=1.0).for_realm(REALM, limits)
    ticket, *_ = elsewhere.enter(batch=False, patient=True)
    assert ticket is not None
    with engine.begin() as conn:  # its holder: a process of another host, never answered (it died)
        conn.execute(sa.update(_SLOT).values(holder="another-host/4026531836:4242:1:00ff"))
    here = SharedBudget(engine).for_realm(REALM, limits)
    ticket, wait, _ = here.enter(batch=False, patient=True)
    assert ticket is None and wait < 0.25  # taken, and its holder cannot be seen to die
    ticket = wait_for(
        lambda: here.enter(batch=False, patient=True)[0], timeout=60, what="the lease to run out"
    )
    ticket.done()


DIES_HOLDING_A_PLACE = """
import os, sys
from services.quickbooks.limiter import Limits
from services.quickbooks.shared_budget import SharedBudget
from services.store.storage import make_engine
limits = Limits(requests_per_minute=40, batches_per_minute=3, in_flight=1, minute=60.0)
realm = SharedBudget(make_engine(sys.argv[1])).for_realm(sys.argv[2], limits)
ticket, *_ = realm.enter(batch=False, patient=True)
assert ticket is not None
os._exit(0)  # killed before its request was answered: the place is never freed by it
"""


def test_a_place_held_by_a_dead_process_of_this_host_is_free_at_once(engine, database_url):
    subprocess.run([sys.executable, "-c", DIES_HOLDING_A_PLACE, database_url, REALM], check=True, timeout=60)
    if PG_URL:  # its row still names it (on SQLite the kernel released its lock file)
        with engine.connect() as conn:
            assert conn.execute(sa.select(_SLOT.c.holder).where(_SLOT.c.realm_id == REALM)).scalar()
    limits = Limits(requests_per_minute=40, batches_per_minute=3, in_flight=1, minute=60.0)
    ticket, *_ = SharedBudget(engine).for_realm(REALM, limits).enter(batch=False, patient=True)
    assert ticket is not None  # the lease (150 s) has not run out: the holder was seen to be dead


def test_a_database_out_of_reach_leaves_the_limits_to_the_limiter_with_one_warning(tmp_path, caplog):
    engine = make_engine(f"sqlite:///{tmp_path / 'never-migrated.db'}")  # no budget tables
    limits = Limits(requests_per_minute=2, batches_per_minute=1, in_flight=1, minute=60.0)
    limiter = AdaptiveLimiter(limits, shared=SharedBudget(engine).for_realm(REALM, limits))
    with caplog.at_level(logging.WARNING, logger="services.quickbooks.shared_budget"):
        for _ in range(2):
            with limiter.slot(max_wait=1.0):
                pass
        with pytest.raises(Exhausted), limiter.slot(max_wait=0.5):  # the local minute still holds
            pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "keeps QuickBooks' limits on its own" in warnings[0]
    engine.dispose()
