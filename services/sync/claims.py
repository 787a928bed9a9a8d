"""Claims: a load is pushed by one worker at a time, across threads and processes.

A claim is a short write on the load row (``claimed_by``, ``claimed_until``), taken with the write
lock up front and tried again while the database is busy. ``claim_many``/``release_many`` do the same
for a whole batch of loads in one transaction each.

A claim is a lease: short (``CLAIM_LEASE``, 30 s by default) and renewed every third of it by a
thread of the process that holds it, for as long as that process lives. So a worker that dies holds
its loads no longer than one lease, wherever it ran; a claim left by a process of this host (same
hostname and process namespace) that no longer runs is taken over at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.crashpoints import crash_point
from services.store.models import Load
from services.store.storage import immediate_transaction, retry_busy
from services.store.workers import holder_is_dead

log = logging.getLogger(__name__)

CLAIM_LEASE = dt.timedelta(seconds=30)
_LOAD = Load.__table__  # type: ignore[attr-defined]


class Claims:
    def __init__(
        self, engine: Engine, clock: Callable[[], dt.datetime], *, lease: dt.timedelta = CLAIM_LEASE
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.lease = lease
        self.keeper = LeaseKeeper(self)

    def claim(self, load_id: int, me: str) -> bool:
        return load_id in self.claim_many([load_id], me)

    def release(self, load_id: int, me: str) -> None:
        self.release_many([load_id], me)

    def claim_many(self, load_ids: list[int], me: str) -> set[int]:
        """Claim what is free of ``load_ids`` (and what dead workers left); the ids now claimed by ``me``."""
        if not load_ids:
            return set()
        taken = retry_busy(lambda: self._take(load_ids, me))
        if taken:
            self.keeper.hold(taken, me)
            crash_point("claim")
        return taken

    def release_many(self, load_ids: list[int], me: str) -> None:
        if not load_ids:
            return

        def release() -> None:
            with immediate_transaction(self.engine) as conn:
                conn.execute(
                    sa.update(_LOAD)
                    .where(_LOAD.c.id.in_(load_ids), _LOAD.c.claimed_by == me)
                    .values(claimed_by=None, claimed_until=None)
                )

        retry_busy(release)
        self.keeper.drop(load_ids, me)
        crash_point("release")

    def renew(self, held: dict[int, str]) -> int:
        """Push the lease of each load in ``held`` (load id -> its holder) a whole lease ahead; the number
        of claims still held (a claim taken over since is not renewed)."""
        until = self.clock() + self.lease
        by_holder: dict[str, list[int]] = {}
        for load_id, me in held.items():
            by_holder.setdefault(me, []).append(load_id)

        def renew() -> int:
            with immediate_transaction(self.engine) as conn:
                return sum(
                    conn.execute(
                        sa.update(_LOAD)
                        .where(_LOAD.c.id.in_(ids), _LOAD.c.claimed_by == me)
                        .values(claimed_until=until)
                    ).rowcount
                    for me, ids in by_holder.items()
                )

        return retry_busy(renew)

    def _take(self, load_ids: list[int], me: str) -> set[int]:
        now = self.clock()
        with immediate_transaction(self.engine) as conn:
            conn.execute(
                sa.update(_LOAD)
                .where(_LOAD.c.id.in_(load_ids))
                .where(sa.or_(_LOAD.c.claimed_until.is_(None), _LOAD.c.claimed_until < now))
                .values(claimed_by=me, claimed_until=now + self.lease)
            )
            held = dict(
                conn.execute(sa.select(_LOAD.c.id, _LOAD.c.claimed_by).where(_LOAD.c.id.in_(load_ids))).all()
            )
            taken = {load_id for load_id, holder in held.items() if holder == me}
            dead: dict[str, int] = {}  # holder -> claims taken from it: one log line each
            for load_id, holder in held.items():
                alive = holder == me or not holder or not holder_is_dead(holder)
                if not alive and self._take_over(conn, load_id, holder, me, now):
                    taken.add(load_id)
                    dead[holder] = dead.get(holder, 0) + 1
            for holder, count in dead.items():
                log.warning("took over %d claim(s) of a dead worker %s", count, holder)
            return taken

    def _take_over(self, conn: Connection, load_id: int, holder: str, me: str, now: dt.datetime) -> bool:
        return bool(
            conn.execute(
                sa.update(_LOAD)
                .where(_LOAD.c.id == load_id, _LOAD.c.claimed_by == holder)
                .values(claimed_by=me, claimed_until=now + self.lease)
            ).rowcount
        )


class LeaseKeeper:
    """Renews the leases of the claims one ``Claims`` holds, every third of a lease, from a daemon thread
    that runs while any claim is held (and ends when none is). When the process dies the renewals stop,
    and its claims lapse one lease later."""

    def __init__(self, claims: Claims) -> None:
        self.claims = claims
        self._held: dict[int, str] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def hold(self, load_ids: set[int], me: str) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: its parent's claims are not its to renew
                self._held.clear()
                self._pid = os.getpid()
            self._held.update(dict.fromkeys(load_ids, me))
            if not self.running:  # none yet, or it ended (also the case in a forked child)
                self._thread = threading.Thread(target=self._run, name="qbsync-claim-leases", daemon=True)
                self._thread.start()

    def drop(self, load_ids: list[int], me: str) -> None:
        with self._lock:
            for load_id in load_ids:
                if self._held.get(load_id) == me:
                    del self._held[load_id]

    def _run(self) -> None:
        every = self.claims.lease.total_seconds() / 3
        while True:
            time.sleep(every)
            with self._lock:
                held = dict(self._held)
                if not held:
                    self._thread = None
                    return
            try:
                self.claims.renew(held)
            except Exception:  # noqa: BLE001 - a missed renewal is tried again next round; never end the thread
                log.warning("could not renew the leases of %d claimed loads", len(held), exc_info=True)
