"""Reading QuickBooks' changes of the connected company: change data capture since the point last
reached, stored per company.

``catch_up`` asks QuickBooks for the Invoice, Customer, Item and Payment objects changed since the
point reached (less an overlap for clocks that disagree), pages by time when an answer is full (1,000
objects), applies them (``apply``), queues a notice for each problem they made (``notices``), and moves
the point. With no point yet, or one older than QuickBooks' 30 days, every synced invoice is read back
once instead (``SyncEngine.reconcile``). Webhooks only say *that* something changed (``receive``):
the feed reads *what*, so a missed or repeated notification loses or doubles nothing.

One catch-up runs at a time per company across processes (a named lock); a notification that arrives
meanwhile marks the company due, and the running catch-up goes round again."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.catalogue import plural
from services.changes import notices
from services.changes.apply import Found, apply_changes
from services.store.changes import QboChangePoint
from services.store.locks import JobLockHeld
from services.store.models import utcnow
from services.store.storage import immediate_transaction, lock_row, retry_busy

log = logging.getLogger(__name__)

ENTITIES = ("Invoice", "Customer", "Item", "Payment")
PAGE = 1000  # QuickBooks answers at most this many objects to one change data capture request
LOOKBACK = dt.timedelta(days=30)
SAFE_LOOKBACK = LOOKBACK - dt.timedelta(hours=1)
OVERLAP = dt.timedelta(minutes=2)  # asked again each time: QuickBooks' clock and ours may disagree
ROUNDS = 3  # catch-ups in a row while notifications keep arriving
LOCK_TTL = dt.timedelta(minutes=2)  # renewed while the catch-up goes on (JobLockHeld)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # the time of an object QuickBooks gave none
_POINT = QboChangePoint.__table__  # type: ignore[attr-defined]


class TooDense(Exception):
    """More changes share one second than one answer holds: paging by time cannot go past them."""


@dataclass
class CatchUp:
    """What one catch-up did: ``mode`` is ``changes`` (change data capture), ``full`` (every synced
    invoice read back) or ``skipped`` (with ``why``)."""

    mode: str
    realm_id: str | None = None
    requests: int = 0
    found: Found = field(default_factory=Found)
    full_problems: int = 0
    why: str | None = None

    def summary(self) -> str:
        if self.mode == "skipped":
            return f"skipped: {self.why}"
        if self.mode == "full":
            return f"read every synced invoice back: {plural(self.full_problems, 'problem')}"
        found = self.found
        blocked = sum(len(numbers) for _, numbers in found.blocked)
        return (
            f"{plural(found.objects, 'change')} read in {plural(self.requests, 'request')}: "
            f"{plural(len(found.problems), 'new problem')}, {len(found.settled)} put right, "
            f"{plural(len(found.paid), 'payment')}, {plural(blocked, 'load')} blocked"
        )

    def to_dict(self) -> dict[str, Any]:
        found = self.found
        return {
            "mode": self.mode,
            "realm_id": self.realm_id,
            "requests": self.requests,
            "changes": found.objects,
            "problems": [
                {"load_number": result.load_number, "reason": reason.code}
                for result, reason in found.problems
            ],
            "settled": found.settled,
            "paid": found.paid,
            "blocked": [{"reason": reason.code, "loads": numbers} for reason, numbers in found.blocked],
            "why": self.why,
        }


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(record: dict[str, Any]) -> dt.datetime | None:
    text = (record.get("MetaData") or {}).get("LastUpdatedTime")
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None
    except ValueError:
        return None


class ChangeFeed:
    def __init__(self, engine: Engine, sync: Any, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.sync = sync  # services.sync.SyncEngine: its api, connection, claims and recorder
        self.clock = clock

    # -- the point reached ------------------------------------------------------------------------

    def point(self, realm_id: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(_POINT).where(_POINT.c.realm_id == realm_id)).first()

    def mark_due(self, realm_ids: set[str], at: dt.datetime | None = None) -> None:
        """Notifications said these companies changed: their next catch-up is due now."""
        at = at or self.clock()

        def write() -> None:
            with immediate_transaction(self.engine) as conn:
                for realm_id in sorted(realm_ids):
                    lock_row(conn, _POINT, {"realm_id": realm_id}, {"updated_at": at, "objects_seen": 0})
                    conn.execute(sa.update(_POINT).where(_POINT.c.realm_id == realm_id).values(due_at=at))

        retry_busy(write)

    def is_due(self, realm_id: str, every: dt.timedelta, slack: dt.timedelta = dt.timedelta(0)) -> bool:
        """A catch-up is due: a notification arrived since the last, or ``every`` has passed — less
        ``slack``: a job ticking every few seconds passes half a tick early, or it would come a whole
        tick late each time (the point is stamped a moment after the tick that started the catch-up)."""
        row = self.point(realm_id)
        if row is None or row.reached_at is None:
            return True
        if row.due_at is not None and row.due_at >= row.reached_at:
            return True
        return self.clock() - row.reached_at >= every - slack

    def _reached(self, realm_id: str, started: dt.datetime, *, full: bool, objects: int) -> None:
        def write() -> None:
            with immediate_transaction(self.engine) as conn:
                lock_row(conn, _POINT, {"realm_id": realm_id}, {"updated_at": started, "objects_seen": 0})
                values: dict[str, Any] = {"reached_at": started, "updated_at": self.clock()}
                if full:
                    values["full_at"] = started
                conn.execute(
                    sa.update(_POINT)
                    .where(_POINT.c.realm_id == realm_id)
                    .values(objects_seen=_POINT.c.objects_seen + objects, **values)
                )

        retry_busy(write)

    # -- catching up --------------------------------------------------------------------------------

    def catch_up(self, trigger: str = "changes", *, full: bool = False) -> CatchUp:
        """Read and apply what changed in the connected company since the point reached."""
        status = self.sync.connection.status()
        if not status.connected or not status.realm_id:
            return CatchUp("skipped", why="QuickBooks is not connected")
        realm_id = status.realm_id
        with JobLockHeld(self.engine, f"changes:{realm_id}", LOCK_TTL) as lock:
            if not lock.held:
                self.mark_due({realm_id})  # the running catch-up goes round again
                return CatchUp("skipped", realm_id, why="another catch-up of this company is running")
            done = CatchUp("changes", realm_id)
            for _ in range(ROUNDS):
                this = self._once(realm_id, trigger, full=full)
                full = False
                done.requests += this.requests
                done.found.extend(this.found)
                done.full_problems += this.full_problems
                if this.mode == "full":
                    done.mode = "full"
                row = self.point(realm_id)
                if row is None or row.due_at is None or row.due_at < row.reached_at:
                    break
            lock.outcome = done.summary()[:200]
        notices.queue(self.engine, realm_id, done.found)
        return done

    def _once(self, realm_id: str, trigger: str, *, full: bool) -> CatchUp:
        started = self.clock()
        row = self.point(realm_id)
        reached = row.reached_at if row is not None else None
        if full or reached is None or started - reached > SAFE_LOOKBACK:
            why = "asked" if full else "no point yet" if reached is None else "the point is over 30 days old"
            log.info("changes of %s: reading every synced invoice back (%s)", realm_id, why)
            problems = self.sync.reconcile(trigger=f"{trigger}:full")
            self._reached(realm_id, started, full=True, objects=0)
            return CatchUp("full", realm_id, full_problems=len(problems))
        try:
            changed, requests = self.read(reached - OVERLAP)
        except TooDense as exc:
            log.warning("changes of %s: %s; reading every synced invoice back", realm_id, exc)
            return self._once(realm_id, trigger, full=True)
        found = apply_changes(self.sync, changed, trigger)
        self._reached(realm_id, started, full=False, objects=found.objects)
        return CatchUp("changes", realm_id, requests=requests, found=found)

    def read(self, since: dt.datetime) -> tuple[dict[str, list[dict[str, Any]]], int]:
        """Every object of ``ENTITIES`` changed since ``since`` (latest version of each), and the
        number of requests it took. A full answer is followed by one entity at a time, each paged on
        the time of its latest object."""
        api = self.sync.api
        changed: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in ENTITIES}
        answer = api.change_data_capture(ENTITIES, iso(since))
        requests = 1
        if sum(len(objects) for objects in answer.values()) < PAGE:
            _merge(changed, answer)
            return _flat(changed), requests
        for name in ENTITIES:
            start = since
            while True:
                page = api.change_data_capture([name], iso(start)).get(name, [])
                requests += 1
                _merge(changed, {name: page})
                if len(page) < PAGE:
                    break
                latest = max((t for t in map(_time, page) if t is not None), default=None)
                if latest is None or latest <= start:
                    raise TooDense(f"more than {PAGE} {name} changes share one second")
                start = latest
        return _flat(changed), requests


def _merge(changed: dict[str, dict[str, dict[str, Any]]], answer: dict[str, list[dict[str, Any]]]) -> None:
    """Keep the latest version of each object (a deletion after an update wins, and vice versa)."""
    for name, objects in answer.items():
        bucket = changed.setdefault(name, {})
        for obj in objects:
            key = obj.get("Id")
            if not isinstance(key, str):
                continue
            old = bucket.get(key)
            if old is None or (_time(obj) or EPOCH) >= (_time(old) or EPOCH):
                bucket[key] = obj


def _flat(changed: dict[str, dict[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {name: list(objects.values()) for name, objects in changed.items() if objects}
