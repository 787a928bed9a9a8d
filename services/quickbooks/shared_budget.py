"""QuickBooks' limits per company kept across every process and host that shares the database.

Intuit counts a company's requests (500 a minute, 40 batch requests a minute, 10 in flight) whichever
process sends them, so the company's budget lives in the database the processes share — the storage of
the workspace the company belongs to — and the database is the coordinator. The adaptive limiter of
each process (``limiter``) consults it before every request.

- **Grants** (``qbo_budget``, ``qbo_grant``). A process asks for a few sends at a time, in one short
  transaction: it locks the company's ``qbo_budget`` row (``FOR UPDATE`` on PostgreSQL; SQLite's
  ``BEGIN IMMEDIATE`` takes the whole database), reads the time from the database's clock on PostgreSQL
  (hosts' clocks differ; SQLite lives on one host), drops the grants that have left the sliding minute,
  and grants what room is left up to what it asked for — or answers how long until the oldest grant
  leaves the minute. The process spends a grant's sends until ``use_by`` (the hold: a thirtieth of the
  minute, 0.5 to 2 s) and drops what is left; a grant counts until ``use_by`` and a minute have passed,
  spent or not. The next ask settles the grants the process is done with: each shrinks to the sends
  really made and the time of the last one, so what was left unspent stops counting. A person's
  (interactive) request asks for one send, and for those of the process queued behind it; patient
  (bulk) work for a twentieth of the minute's budget: a bulk sync costs one transaction per 25
  requests or 2 batch requests. A batch request spends a send of each kind.
- **Pauses** (``qbo_budget.paused_until``): a throttled answer in any process pauses the company for all
  of them — no grant is made until the pause is over (sends already granted may still go, for at most a
  hold). Halving the budget after a throttled answer stays with the process that was throttled.
- **In flight**: a request holds one of the company's places (0 to the limit less one) until it is
  answered. On PostgreSQL, which may serve several hosts, a place is a row of ``qbo_slot``, claimed in
  one statement (``FOR UPDATE SKIP LOCKED``) with a lease longer than a request may last; a process that
  dies holding one frees it when the lease runs out, or at once when it ran on this host (its pid is
  gone). SQLite lives on one host, so there a place is a lock file beside the database held with
  ``flock``: no write to the database per request (each would take SQLite's one write lock, which the
  sync's own writes wait for), and the kernel frees it the moment its process ends. A request takes
  its place first and its sends then, so waiting for a place spends no grant.
- **People first**: bulk work is never granted the last tenth of the minute's requests nor the last
  fifth of the places in flight; those are kept for people's requests, which also look for a free place
  more often.

Why the grants keep the limit: every send happens between its grant and the grant's ``use_by``, so the
grants of all the sends QuickBooks counts at any moment were in the ledger together when the newest of
them was made, and it was made only if they all fit in the limit. The minute is 2 % longer than
QuickBooks', as in the limiter, for the time a request takes to arrive.

A database error here never fails a request: the process keeps the limits on its own (its limiter, as
before there was a shared budget) for a few seconds, says so in one warning a minute, and tries again.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from services.quickbooks.limits import MARGIN, Limits
from services.store.models import QboBudget, QboGrant, QboSlot
from services.store.storage import dialect_insert, immediate_transaction, lock_row, retry_busy
from services.store.workers import holder_is_dead, worker_id

log = logging.getLogger(__name__)

_BUDGET = QboBudget.__table__  # type: ignore[attr-defined]
_GRANT = QboGrant.__table__  # type: ignore[attr-defined]
_SLOT = QboSlot.__table__  # type: ignore[attr-defined]

REQUEST, BATCH = "request", "batch"
BULK_SHARE = 20  # a patient ask takes a twentieth of the minute's budget
# Kept for people's requests (interactive, giving up after a few seconds), never granted to bulk work: a
# tenth of the requests of a minute and a fifth of the places in flight (bulk work is bound by batch
# requests, so none of those are kept)
PEOPLE_REQUESTS, PEOPLE_PLACES = 10, 5
HOLD = (0.5, 2.0)  # the least and the most time to spend a grant in; else a thirtieth of the minute
LEASE = 150.0  # seconds a place in flight is held at most: QuickBooks' 120 s, the connect timeout, a margin
OUT_OF_REACH = 5.0  # seconds on the limiter alone after a database error, before the database is tried again
WARN_EVERY = 60.0
POLL = (0.01, 0.2)  # seconds between two looks for a free place in flight: the first, the most
PEOPLE_POLL = 0.02  # a person's request looks at most this long apart: it goes before bulk work
DEAD_CHECK_EVERY = 1.0  # seconds between two looks for places held by processes of this host that died


@dataclass
class _Pool:
    """The sends of one grant, spent by this process's threads until ``started + hold`` (its clock)."""

    grant_id: int
    sends: int
    started: float  # this process's clock just before it asked: no later than the database's ``granted_at``
    granted_at: float  # the database's clock
    hold: float
    used: int = 0
    pending: int = 0  # taken, not yet sent or given back
    last: float = 0.0  # this process's clock at the last send

    def open(self, now: float) -> bool:
        return self.used < self.sends and now < self.started + self.hold

    def settlement(self) -> tuple[int, int, float]:
        """(grant, sends made, the database's time of the last one at the latest)."""
        spent = min(self.hold, max(0.0, self.last - self.started))
        return self.grant_id, self.used, self.granted_at + spent


@dataclass(frozen=True)
class _Granted:
    pools: dict[str, _Pool]
    waits: dict[str, float]
    paused: bool = False  # the waits are a pause: for everyone


class Ticket:
    """Leave to send one request now: a place in flight, and the sends it spends. ``done()`` when it is
    answered (or failed) frees the place."""

    def __init__(self, free: Callable[[], None] | None = None, *, local: bool = False) -> None:
        self._free = free
        self.local = local  # no leave from the shared budget: the limiter alone decides

    def done(self) -> None:
        free, self._free = self._free, None
        if free is not None:
            free()


LOCAL = Ticket(local=True)  # the database is out of reach: the limiter alone keeps the limits


class Leave(NamedTuple):
    """What ``RealmBudget.enter`` answers: a ticket, or the seconds to wait before asking again and
    whether that is a wait for a place in flight (short: requests end) or for the budget."""

    ticket: Ticket | None
    wait: float = 0.0
    for_place: bool = False


class SharedBudget:
    """The companies' budgets in one database (a workspace's storage): one ``RealmBudget`` per company."""

    def __init__(
        self, engine: Engine, *, lease: float = LEASE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.engine = engine
        self.lease = lease
        self.clock = clock
        self.postgres = engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self._realms: dict[tuple[str, Limits], RealmBudget] = {}
        self._down_until = float("-inf")
        self._warned_at = float("-inf")

    @classmethod
    def over(cls, engine: Engine) -> SharedBudget | None:
        """The shared budget of ``engine``'s database, or None for an in-memory SQLite database (one
        process only: nothing to share)."""
        if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
            return None
        return cls(engine)

    def for_realm(self, realm_id: str, limits: Limits) -> RealmBudget:
        with self._lock:
            found = self._realms.get((realm_id, limits))
            if found is None:
                found = self._realms[(realm_id, limits)] = RealmBudget(self, realm_id, limits)
            return found

    # -- the database out of reach ------------------------------------------------------------------

    def reachable(self) -> bool:
        return self.clock() >= self._down_until

    def lost(self, exc: BaseException) -> None:
        """A database error: the limiter alone keeps the limits for ``OUT_OF_REACH`` seconds."""
        now = self.clock()
        with self._lock:
            self._down_until = now + OUT_OF_REACH
            warn = now - self._warned_at >= WARN_EVERY
            if warn:
                self._warned_at = now
        if warn:
            first_line = (str(exc).strip().splitlines() or [""])[0][:200]
            log.warning(
                "QuickBooks' budget shared with the other processes is out of reach in the database "
                "(%s: %s); this process keeps QuickBooks' limits on its own until it is back",
                type(exc).__name__,
                first_line,
            )

    # -- the database's clock -----------------------------------------------------------------------

    def now(self, conn: Connection) -> float:
        """Seconds since the epoch on the database's clock (PostgreSQL), or this host's (SQLite)."""
        if self.postgres:
            return float(
                conn.execute(sa.select(sa.func.extract("epoch", sa.func.clock_timestamp()))).scalar_one()
            )
        return time.time()


class RealmBudget:
    """One company's shared budget, as one process sees it: the grants it is spending, and its places
    in flight. Safe to share between threads."""

    def __init__(self, shared: SharedBudget, realm_id: str, limits: Limits) -> None:
        self.shared = shared
        self.realm_id = realm_id
        self.limits = limits
        self.window = limits.minute * (1 + MARGIN)
        self.hold = min(HOLD[1], max(HOLD[0], limits.minute / 30))
        self.limit = {REQUEST: limits.requests_per_minute, BATCH: limits.batches_per_minute}
        self.kept = {REQUEST: limits.requests_per_minute // PEOPLE_REQUESTS, BATCH: 0}  # from bulk work
        self.bulk_places = limits.in_flight - limits.in_flight // PEOPLE_PLACES
        self._lock = threading.Lock()  # the pools
        self._asking = threading.Lock()  # one thread of the process asks the database at a time
        self._queued = 0  # threads waiting to ask: one ask serves them all
        self._pools: dict[str, _Pool] = {}
        self._closed: list[_Pool] = []  # done with: settled at the next ask
        self._wait_until: dict[tuple[str, bool], float] = {}  # (kind, patient): no grant before then
        self._places_made = False
        self._dead_checked = float("-inf")
        self._poll = threading.local()

    def enter(self, *, batch: bool, patient: bool) -> Leave:
        """Leave to send one request now (a ticket), or how long to wait before asking again; nothing of
        the company's is held while waiting. A database error gives ``LOCAL``: the limiter alone decides."""
        if not self.shared.reachable():
            return Leave(LOCAL)
        kinds = (REQUEST, BATCH) if batch else (REQUEST,)
        with self._lock:
            wait = self._known_wait(kinds, patient)
        if wait > 0:  # the database said when to ask again: no place is taken meanwhile
            return Leave(None, wait)
        try:
            free = self._claim(patient)
        except (SQLAlchemyError, OSError) as exc:
            self.shared.lost(exc)
            return Leave(LOCAL)
        if free is None:  # every place in flight is taken: one will be free soon
            return Leave(None, self._next_poll(patient), for_place=True)
        try:  # a place first, then the sends: a wait for a place spends no grant
            pools, wait = self._take(kinds, patient)
        except SQLAlchemyError as exc:
            free()
            self.shared.lost(exc)
            return Leave(LOCAL)
        if pools is None or not self._sent(pools):
            free()
            return Leave(None, wait)
        self._poll.delay = None
        return Leave(Ticket(free))

    def pause(self, seconds: float) -> None:
        """QuickBooks throttled this company: no process is granted a send for ``seconds``."""
        if not self.shared.reachable():
            return

        def write() -> None:
            with immediate_transaction(self.shared.engine) as conn:
                budget = lock_row(conn, _BUDGET, {"realm_id": self.realm_id}, {"paused_until": 0.0})
                until = self.shared.now(conn) + seconds
                if until > budget.paused_until:
                    mine = _BUDGET.c.realm_id == self.realm_id
                    conn.execute(sa.update(_BUDGET).where(mine).values(paused_until=until))

        try:
            retry_busy(write)
        except SQLAlchemyError as exc:
            self.shared.lost(exc)

    # -- grants ---------------------------------------------------------------------------------------

    def _take(self, kinds: tuple[str, ...], patient: bool) -> tuple[list[_Pool] | None, float]:
        with self._lock:
            pools, wait = self._spend(kinds, patient)
        if pools is not None or wait > 0:
            return pools, wait
        with self._lock:
            self._queued += 1
        with self._asking:
            with self._lock:  # another thread may have asked meanwhile
                self._queued -= 1
                pools, wait = self._spend(kinds, patient)
                if pools is not None or wait > 0:
                    return pools, wait
                now = self.shared.clock()
                wanted = {}
                for kind in kinds:
                    pool = self._pools.get(kind)
                    if pool is None or not pool.open(now):
                        bulk = max(1, self.limit[kind] // BULK_SHARE)
                        # a person's request asks for itself and those queued behind it
                        wanted[kind] = bulk if patient else min(bulk, 1 + self._queued)
                        if pool is not None:
                            self._closed.append(self._pools.pop(kind))
                settle = [pool for pool in self._closed if pool.pending == 0]
                self._closed = [pool for pool in self._closed if pool.pending]
            try:
                granted = self._grant(wanted, [pool.settlement() for pool in settle], patient)
            except BaseException:
                with self._lock:
                    self._closed.extend(settle)
                raise
            with self._lock:
                now = self.shared.clock()
                for kind, wait in granted.waits.items():
                    self._wait_until[(kind, patient)] = now + wait
                    if granted.paused:
                        self._wait_until[(kind, not patient)] = now + wait
                self._pools.update(granted.pools)
                if granted.waits:
                    return None, max(granted.waits.values())
                pools, wait = self._spend(kinds, patient)
        return pools, wait  # nothing and no wait: the grant came too late to spend; ask again

    def _spend(self, kinds: tuple[str, ...], patient: bool) -> tuple[list[_Pool] | None, float]:
        """Under the lock: a send of each kind from this process's grants, or (None, the wait the
        database asked for), or (None, 0): ask the database."""
        now = self.shared.clock()
        pools = [self._pools.get(kind) for kind in kinds]
        if all(pool is not None and pool.open(now) for pool in pools):
            for pool in pools:
                pool.used += 1
                pool.pending += 1
            return pools, 0.0  # type: ignore[return-value]
        return None, self._known_wait(kinds, patient)

    def _known_wait(self, kinds: tuple[str, ...], patient: bool) -> float:
        """Under the lock: how long the database said to wait before asking again (0: ask)."""
        now = self.shared.clock()
        return max(0.0, max(self._wait_until.get((kind, patient), 0.0) - now for kind in kinds))

    def _sent(self, pools: list[_Pool]) -> bool:
        """The request is sent now, unless a grant's time ran out since it was taken (its send then
        goes back). True when it is sent."""
        with self._lock:
            now = self.shared.clock()
            go = all(now < pool.started + pool.hold for pool in pools)
            for pool in pools:
                pool.pending -= 1
                if go:
                    pool.last = max(pool.last, now)
                else:
                    pool.used -= 1
            return go

    def _grant(self, wanted: dict[str, int], settle: list[tuple[int, int, float]], patient: bool) -> _Granted:
        """One transaction: settle the grants this process is done with, drop those out of the minute,
        and grant what is wanted if there is room for at least one send of each kind (bulk work, the
        ``patient``, leaving what is kept for people's requests)."""
        shared = self.shared

        def write() -> _Granted:
            with immediate_transaction(shared.engine) as conn:
                budget = lock_row(conn, _BUDGET, {"realm_id": self.realm_id}, {"paused_until": 0.0})
                # after the lock: the grants are stamped in the order they are made, and the time to
                # spend one is not shortened by the wait for the lock
                started = shared.clock()
                now = shared.now(conn)
                for grant_id, sends, use_by in settle:
                    mine = _GRANT.c.id == grant_id
                    if sends:
                        conn.execute(sa.update(_GRANT).where(mine).values(sends=sends, use_by=use_by))
                    else:
                        conn.execute(sa.delete(_GRANT).where(mine))
                gone = _GRANT.c.use_by < now - self.window  # out of the minute
                conn.execute(sa.delete(_GRANT).where(_GRANT.c.realm_id == self.realm_id, gone))
                if budget.paused_until > now:
                    return _Granted({}, {kind: budget.paused_until - now for kind in wanted}, paused=True)
                counted = conn.execute(
                    sa.select(_GRANT.c.kind, sa.func.sum(_GRANT.c.sends), sa.func.min(_GRANT.c.use_by))
                    .where(_GRANT.c.realm_id == self.realm_id, _GRANT.c.kind.in_(list(wanted)))
                    .group_by(_GRANT.c.kind)
                ).all()
                taken = {kind: (int(sends), oldest) for kind, sends, oldest in counted}
                room, waits = {}, {}
                for kind in wanted:
                    sends, oldest = taken.get(kind, (0, now))
                    room[kind] = self.limit[kind] - sends - (self.kept[kind] if patient else 0)
                    if room[kind] < 1:
                        waits[kind] = max(oldest + self.window - now, 1e-3)
                if waits:
                    return _Granted({}, waits)
                pools = {}
                for kind, want in wanted.items():
                    sends = min(want, room[kind])
                    row = conn.execute(
                        sa.insert(_GRANT).values(
                            realm_id=self.realm_id,
                            kind=kind,
                            sends=sends,
                            granted_at=now,
                            use_by=now + self.hold,
                        )
                    )
                    pools[kind] = _Pool(row.inserted_primary_key[0], sends, started, now, self.hold)
                return _Granted(pools, {})

        return retry_busy(write)

    # -- places in flight -----------------------------------------------------------------------------

    def _claim(self, patient: bool) -> Callable[[], None] | None:
        """A free place in flight for one request, or None; what frees it is returned. Bulk work takes
        the lowest places, never those kept for people's requests; a person's request looks from the top."""
        places = self.bulk_places if patient else self.limits.in_flight
        if self.shared.postgres:
            return self._claim_row(places, patient)
        return self._claim_file(range(places) if patient else range(places - 1, -1, -1))

    def _claim_file(self, places: range) -> Callable[[], None] | None:
        """SQLite lives on one host: a place is a lock file beside the database, held with ``flock`` —
        no write to the database per request, and the kernel frees it when its process ends."""
        import fcntl  # POSIX only, and only SQLite's places need it: loaded where it is used

        base = f"{self.shared.engine.url.database}.qbo-{''.join(filter(str.isalnum, self.realm_id))}"
        for slot in places:
            handle = os.open(f"{base}-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(handle)
                continue
            return functools.partial(os.close, handle)  # closing it releases the lock
        return None

    def _claim_row(self, places: int, patient: bool) -> Callable[[], None] | None:
        """PostgreSQL may serve several hosts: a place is a row of ``qbo_slot`` taken with a lease."""
        if not self._places_made:
            self._make_places()
        holder = f"{worker_id()}:{secrets.token_hex(4)}"
        slot = self._try_claim(holder, places, patient)
        if slot is None and self._free_the_dead():
            slot = self._try_claim(holder, places, patient)
        return None if slot is None else functools.partial(self._release_row, slot, holder)

    def _make_places(self) -> None:
        places = [{"realm_id": self.realm_id, "slot": slot} for slot in range(self.limits.in_flight)]
        with immediate_transaction(self.shared.engine) as conn:
            conn.execute(dialect_insert(conn, _SLOT).values(places).on_conflict_do_nothing())
        self._places_made = True

    def _try_claim(self, holder: str, places: int, patient: bool) -> int | None:
        """One statement: a free place (never answered by its holder, or its lease run out), skipping
        those another process is taking at this moment."""
        now = sa.cast(sa.extract("epoch", sa.func.clock_timestamp()), sa.Float)
        free = (
            sa.select(_SLOT.c.slot)
            .where(
                _SLOT.c.realm_id == self.realm_id,
                _SLOT.c.slot < places,
                sa.or_(_SLOT.c.holder.is_(None), _SLOT.c.until < now),
            )
            .order_by(_SLOT.c.slot if patient else _SLOT.c.slot.desc())
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        with immediate_transaction(self.shared.engine) as conn:
            return conn.execute(
                sa.update(_SLOT)
                .where(_SLOT.c.realm_id == self.realm_id, _SLOT.c.slot == free)
                .values(holder=holder, until=now + self.shared.lease)
                .returning(_SLOT.c.slot)
            ).scalar()

    def _release_row(self, slot: int, holder: str) -> None:
        """Free a place (its lease frees it anyway if the database cannot be reached now)."""
        try:
            with immediate_transaction(self.shared.engine) as conn:
                conn.execute(
                    sa.update(_SLOT)
                    .where(_SLOT.c.realm_id == self.realm_id, _SLOT.c.slot == slot, _SLOT.c.holder == holder)
                    .values(holder=None, until=None)
                )
        except SQLAlchemyError as exc:
            self.shared.lost(exc)

    def _free_the_dead(self) -> bool:
        """Free the places held by processes of this host that no longer run (at most once a second).
        True when one was freed."""
        now = self.shared.clock()
        if now - self._dead_checked < DEAD_CHECK_EVERY:
            return False
        self._dead_checked = now
        with self.shared.engine.connect() as conn:
            held = conn.execute(
                sa.select(_SLOT.c.slot, _SLOT.c.holder).where(
                    _SLOT.c.realm_id == self.realm_id, _SLOT.c.holder.is_not(None)
                )
            ).all()
        dead = [(slot, holder) for slot, holder in held if holder_is_dead(holder)]
        for slot, holder in dead:
            log.warning(
                "company %s: freeing a place in flight held by %s, which no longer runs",
                self.realm_id,
                holder,
            )
            self._release_row(slot, holder)
        return bool(dead)

    def _next_poll(self, patient: bool) -> float:
        """How long to wait before looking again for a free place: for bulk work growing, for a person's
        request short — so a place that frees goes to a person first; jittered."""
        if not patient:
            return random.uniform(PEOPLE_POLL / 4, PEOPLE_POLL)
        delay = getattr(self._poll, "delay", None)
        delay = POLL[0] if delay is None else min(POLL[1], delay * 2)
        self._poll.delay = delay
        return random.uniform(delay / 2, delay)
