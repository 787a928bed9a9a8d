"""The scheduler's automatic work against the QuickBooks emulator: ready loads pushed, transient reasons
retried with a growing back-off per load, reasons that need a person never retried, one run at a time."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import time_machine

from services.scheduler.autosync import backoff, retry_schedule, sync_and_retry
from services.store import locks
from services.store.models import Load, SyncAttempt
from tests.builders import load as a_load
from tests.builders import qb_company, tms
from tests.conftest import RETRY_ATTEMPTS


def attempts(engine, number: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count())
            .select_from(SyncAttempt.__table__.join(Load.__table__))
            .where(Load.__table__.c.load_number == number)
        ).scalar()


def state(engine, number: str) -> tuple[str, list[str]]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(Load.__table__.c.state, Load.__table__.c.reasons).where(
                Load.__table__.c.load_number == number
            )
        ).one()
    return row.state, [r["code"] for r in row.reasons]


def test_backoff_grows_and_stops_growing():
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(30) == dt.timedelta(hours=6)


def test_throttled_loads_wait_their_backoff_then_sync(connected, engine, emu):
    """The run pushes in QuickBooks batches (as ``sync --all`` does): a throttled batch stops the run, its
    loads wait their back-off; the next runs leave them alone until it has passed."""
    qb_company(connected.api)
    tms(engine, [a_load("T-1"), a_load("T-2")])
    emu.add_fault("429", count=RETRY_ATTEMPTS, method="POST", path_contains="/batch")
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=True) as clock:
        first = sync_and_retry(connected)
        assert first.waiting == ["T-1", "T-2"] and first.stopped_early == "qb_throttled"
        assert state(engine, "T-1") == ("problem", ["qb_throttled"])
        schedule = retry_schedule(engine)
        assert {tries for tries, _ in schedule.values()} == {1}
        assert all(
            dt.timedelta(minutes=4) < at - start <= dt.timedelta(minutes=6) for _, at in schedule.values()
        )

        second = sync_and_retry(connected)  # both are waiting their back-off: nothing goes
        assert second.synced == [] and second.waiting == [] and attempts(engine, "T-1") == 1

        emu.add_fault("503", count=RETRY_ATTEMPTS, method="POST", path_contains="/batch")
        clock.move_to(start + dt.timedelta(minutes=6))
        third = sync_and_retry(connected)  # due again, and QuickBooks is down this time
        assert third.waiting == ["T-1", "T-2"] and state(engine, "T-1") == ("problem", ["qb_unavailable"])
        schedule = retry_schedule(engine)
        assert {tries for tries, _ in schedule.values()} == {2}
        assert all(
            at - (start + dt.timedelta(minutes=6)) > dt.timedelta(minutes=9) for _, at in schedule.values()
        )

        clock.move_to(start + dt.timedelta(minutes=12))
        assert sync_and_retry(connected).synced == []  # 10 minutes have not passed
        clock.move_to(start + dt.timedelta(minutes=17))
        assert sync_and_retry(connected).synced == ["T-1", "T-2"]
    assert retry_schedule(engine) == {} and attempts(engine, "T-1") == 3


def test_a_limited_run_leaves_the_rest_for_the_next(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load(f"R-{i}") for i in range(5)])
    first = sync_and_retry(connected, limit=3)
    assert first.synced == ["R-0", "R-1", "R-2"] and first.more and "more in the next run" in first.summary()
    second = sync_and_retry(connected, limit=3)
    assert second.synced == ["R-3", "R-4"] and not second.more


def test_reasons_that_need_a_person_are_never_retried(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("P-1", customer="C-300")], customers=[{"id": "C-300", "name": "Nobody Inc"}])
    assert sync_and_retry(connected).need_person == ["P-1"]
    for _ in range(3):
        assert sync_and_retry(connected).synced == []
    assert attempts(engine, "P-1") == 1 and state(engine, "P-1") == ("problem", ["customer_not_synced"])


def test_not_connected_loads_wait_for_the_connection_then_sync(connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("N-1")])
    grant = connected.connection.status()
    connected.connection.broken("refresh token revoked")
    sync_and_retry(connected)
    assert state(engine, "N-1") == ("problem", ["qb_not_connected"])
    sync_and_retry(connected)
    assert attempts(engine, "N-1") == 1  # not retried while the connection is broken
    from services.quickbooks import TokenSet

    tokens = emu.issue_tokens()
    connected.connection.store(
        TokenSet(tokens["access_token"], tokens["refresh_token"], 3600, None, tokens["realm_id"]),
        grant.realm_id or tokens["realm_id"],
        "test",
    )
    assert sync_and_retry(connected).synced == ["N-1"]  # back: retried at once, no back-off to wait


def test_one_run_at_a_time_across_processes(connected, engine):
    tms(engine, [a_load("R-1")])
    assert locks.acquire(engine, "sync", "elsewhere:1:1", dt.timedelta(minutes=10))
    report = sync_and_retry(connected)
    assert not report.ran and attempts(engine, "R-1") == 0
    locks.release(engine, "sync", "elsewhere:1:1", outcome="done")
    assert sync_and_retry(connected).ran


def test_dismissed_loads_are_left_alone(connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("D-1")])
    connected.fixer.apply("D-1", "dismiss", "test", reason="invoiced by hand")
    assert sync_and_retry(connected).synced == [] and attempts(engine, "D-1") == 0
