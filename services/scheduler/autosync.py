"""The automatic work of the scheduler: push the loads that are ready, and retry the loads whose reasons
pass by themselves — QuickBooks throttling or down (``qb_throttled``, ``qb_unavailable``), and
``qb_not_connected`` once the connection is back — with a growing back-off per load. A load that needs a
person (any other reason) is never retried here; dismissed loads are never touched.

One run at a time across processes (the ``sync`` job lock), so two clocks never double the QuickBooks
traffic. A run stops early when QuickBooks throttles or is down: the rest waits for the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.store.locks import JobLockHeld, write_transaction
from services.store.models import Load, LoadRetry, LoadState, utcnow
from services.sync.company import CompanySnapshot

log = logging.getLogger(__name__)

LOCK = "sync"
LOCK_TTL = dt.timedelta(minutes=2)  # renewed while the run goes on: a dead holder frees it within 2 min
RETRYABLE = frozenset({"qb_throttled", "qb_unavailable", "qb_not_connected"})
STOP_RUN = frozenset({"qb_throttled", "qb_unavailable"})  # QuickBooks itself is struggling: wait
BACKOFF_FIRST = dt.timedelta(minutes=5)
BACKOFF_MAX = dt.timedelta(hours=6)
TRIGGER = "scheduler"

_LOAD = Load.__table__  # type: ignore[attr-defined]
_RETRY = LoadRetry.__table__  # type: ignore[attr-defined]


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th automatic failure in a row: 5, 10, 20, 40 minutes … at most 6 h."""
    return min(BACKOFF_FIRST * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


@dataclass
class AutoSyncReport:
    ran: bool = True  # False: another process held the lock
    synced: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # transient again: retried after the back-off
    need_person: list[str] = field(default_factory=list)
    stopped_early: str | None = None
    more: bool = False  # loads were left for the next run (a run's ``limit``): due again at once

    def summary(self) -> str:
        if not self.ran:
            return "skipped: another run holds the sync lock"
        text = (
            f"{len(self.synced)} synced, {len(self.waiting)} to retry later, "
            f"{len(self.need_person)} need a person"
        )
        if self.stopped_early:
            text += f"; stopped early ({self.stopped_early})"
        elif self.more:
            text += "; more in the next run"
        return text


def due_loads(engine: Engine, *, connected: bool, now: dt.datetime) -> list[str]:
    """The loads a run pushes now, in load order: loads never pushed or changed since (pending), and
    problem loads whose every reason is retryable and whose back-off has passed. ``qb_not_connected``
    loads only while connected; they need no back-off, the connection is what they wait for."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(_LOAD.c.load_number, _LOAD.c.state, _LOAD.c.reasons, _RETRY.c.next_attempt_at)
            .select_from(_LOAD.outerjoin(_RETRY, _RETRY.c.load_id == _LOAD.c.id))
            .where(_LOAD.c.state != LoadState.SYNCED.value, _LOAD.c.dismissed_at.is_(None))
            .order_by(_LOAD.c.id)
        ).all()
    due = []
    for row in rows:
        if row.state == LoadState.PENDING.value:
            due.append(row.load_number)
            continue
        codes = {reason.get("code") for reason in row.reasons or []}
        if not codes or not codes <= RETRYABLE:
            continue  # a person must fix it
        if "qb_not_connected" in codes:
            if connected:
                due.append(row.load_number)
            continue
        if not connected:
            continue  # it would only fail as not connected
        next_at = row.next_attempt_at
        if next_at is not None and next_at.tzinfo is None:
            next_at = next_at.replace(tzinfo=dt.UTC)
        if next_at is None or next_at <= now:
            due.append(row.load_number)
    return due


ROUND = 60  # loads pushed together (two QuickBooks batches); the stop and the lock are checked between


def sync_and_retry(
    services, stop: threading.Event | None = None, *, limit: int | None = None
) -> AutoSyncReport:
    """One run of the automatic work (the scheduler's ``sync`` job); with ``limit``, at most that many
    loads, the rest left for the next run (``more``): many workspaces' runs then take turns."""
    engine = services.engine
    with JobLockHeld(engine, LOCK, LOCK_TTL) as lock:
        if not lock.held:
            return AutoSyncReport(ran=False)
        report = _run(services, lock, stop, limit)
        lock.outcome = report.summary()
        return report


def _run(services, lock: JobLockHeld, stop: threading.Event | None, limit: int | None) -> AutoSyncReport:
    engine = services.engine
    report = AutoSyncReport()
    _forget_settled(engine)
    connected = services.connection.status().connected
    numbers = due_loads(engine, connected=connected, now=utcnow())
    if limit is not None and len(numbers) > limit:
        numbers, report.more = numbers[:limit], True
    if not numbers:
        return report
    snapshot = CompanySnapshot(services.api)
    for start in range(0, len(numbers), ROUND):  # in QuickBooks batches, as sync --all pushes
        if stop is not None and stop.is_set():
            report.stopped_early = "shutting down"
            break
        chunk = numbers[start : start + ROUND]
        results = services.sync.sync_many(chunk, trigger=TRIGGER, snapshot=snapshot)
        stopping: set[str] = set()
        for result in results:
            number = result.load_number
            codes = {r.code for r in result.reasons}
            if result.state == "synced":
                report.synced.append(number)
            elif result.state == "problem" and codes and codes <= RETRYABLE:
                report.waiting.append(number)
            elif result.state == "problem":
                report.need_person.append(number)
            _record_retry(engine, number, result.state, sorted(codes))
            stopping |= codes & STOP_RUN
        lock.renew()
        if stopping:
            report.stopped_early = ", ".join(sorted(stopping))
            break
    log.info("automatic sync: %s", report.summary())
    return report


def _record_retry(engine: Engine, number: str, state: str, codes: list[str]) -> None:
    """A transient failure moves the load's next attempt further out; anything else forgets it."""
    with write_transaction(engine) as conn:
        load_id = conn.execute(sa.select(_LOAD.c.id).where(_LOAD.c.load_number == number)).scalar()
        if load_id is None:
            return
        if state != "problem" or not codes or not set(codes) <= RETRYABLE:
            conn.execute(sa.delete(_RETRY).where(_RETRY.c.load_id == load_id))
            return
        attempts = conn.execute(sa.select(_RETRY.c.attempts).where(_RETRY.c.load_id == load_id)).scalar()
        attempts = (attempts or 0) + 1
        next_at = utcnow() + backoff(attempts)
        values = {"attempts": attempts, "next_attempt_at": next_at, "last_reasons": codes}
        if conn.execute(sa.update(_RETRY).where(_RETRY.c.load_id == load_id).values(**values)).rowcount == 0:
            conn.execute(sa.insert(_RETRY).values(load_id=load_id, **values))


def _forget_settled(engine: Engine) -> None:
    """Back-off rows of loads that are no longer waiting on a transient reason (fixed or retried by a
    person, dismissed): the next transient failure starts the back-off afresh."""
    waiting = sa.select(_LOAD.c.id).where(
        _LOAD.c.state == LoadState.PROBLEM.value, _LOAD.c.dismissed_at.is_(None)
    )
    with engine.begin() as conn:
        conn.execute(sa.delete(_RETRY).where(_RETRY.c.load_id.not_in(waiting)))


def retry_schedule(engine: Engine) -> dict[str, tuple[int, dt.datetime]]:
    """Load number → (automatic attempts in a row, next attempt), for loads waiting to be retried."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(_LOAD.c.load_number, _RETRY.c.attempts, _RETRY.c.next_attempt_at).select_from(
                _RETRY.join(_LOAD, _LOAD.c.id == _RETRY.c.load_id)
            )
        ).all()
    return {row.load_number: (row.attempts, row.next_attempt_at) for row in rows}
