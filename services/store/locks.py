"""Named locks across processes, kept in the database with a lease: one run of a job at a time, however
many clocks and ``serve`` processes schedule it. A holder renews its lease while it works; a lease that
runs out (its process died or hung) may be taken by the next run, as may the lock of a process on this
host that no longer exists."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from services.background import waiting
from services.store.models import JobLock, utcnow
from services.store.storage import engine_key
from services.store.workers import holder_is_dead, worker_id

log = logging.getLogger(__name__)

_LOCK = JobLock.__table__  # type: ignore[attr-defined]


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that reads then writes. SQLite takes the write lock up front (``BEGIN IMMEDIATE``):
    a deferred transaction upgrading from a read would fail at once with "database is locked" when
    another process writes, instead of waiting its turn."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.info["sqlite_begin"] = "BEGIN IMMEDIATE"
        with conn.begin():
            yield conn


class JobLockHeld:
    """``with JobLockHeld(engine, "sync", ttl) as lock:`` — ``lock.held`` is False when another run holds
    it; ``lock.outcome`` is recorded when the block ends."""

    def __init__(self, engine: Engine, name: str, ttl: dt.timedelta, *, now: dt.datetime | None = None):
        self.engine = engine
        self.name = name
        self.ttl = ttl
        self.me = worker_id()
        self.now = now
        self.held = False
        self.outcome: str | None = None

    def __enter__(self) -> JobLockHeld:
        self.held = acquire(self.engine, self.name, self.me, self.ttl, now=self.now)
        if self.held and self.now is None:  # renewed while the run goes on: a short lease is enough, and
            self._stop = threading.Event()  # a holder that died (on another host too) frees it soon
            self._renewer = threading.Thread(
                target=_keep_renewed,
                args=(self.engine, self.name, self.me, self.ttl, self._stop),
                name=f"renew {self.name}",
                daemon=True,
            )
            self._renewer.start()
        return self

    def renew(self) -> bool:
        return renew(self.engine, self.name, self.me, self.ttl)

    def __exit__(self, *exc: object) -> None:
        if not self.held:
            return
        renewer = getattr(self, "_renewer", None)
        if renewer is not None:
            self._stop.set()
            renewer.join(timeout=5)
        release(self.engine, self.name, self.me, outcome=self.outcome or ("failed" if exc[0] else "done"))


class Claim:
    """``with Claim(engine, "fix:L-100", ttl, wait=30) as claim:`` — waits (up to ``wait`` seconds) for the
    lock ``name`` instead of giving up at once; ``claim.held`` says whether it got it. Threads of one
    process queue on a lock of their own, so only one of them asks the database at a time; other
    processes are polled for. The lease is renewed every third of ``ttl`` while the block runs, and the
    lock's row is removed when it ends (a claim leaves nothing behind)."""

    POLL = 0.05  # seconds between two looks at a lock another process holds

    _guard = threading.Lock()
    _local: dict[tuple[str, str], tuple[threading.Lock, int]] = {}  # (database, name) -> lock, users

    def __init__(self, engine: Engine, name: str, ttl: dt.timedelta, *, wait: float) -> None:
        self.engine = engine
        self.name = lock_name(name)
        self._key = (engine_key(engine), self.name)
        self.ttl = ttl
        self.wait = wait
        self.me = worker_id()
        self.held = False
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self._mine = threading.Lock()  # this process's lock for the name, once taken

    def __enter__(self) -> Claim:
        deadline = time.monotonic() + self.wait
        local = self._join()
        with waiting():  # work handed over gives its turn to run meanwhile (services.background)
            taken = local.acquire(timeout=max(0.0, self.wait))
        if not taken:
            self._leave(local, release=False)
            return self
        self._mine = local
        try:
            while not (
                _looks_free(self.engine, self.name) and acquire(self.engine, self.name, self.me, self.ttl)
            ):
                left = deadline - time.monotonic()
                if left <= 0:
                    self._leave(local, release=True)
                    return self
                with waiting():
                    time.sleep(min(self.POLL, left))
        except BaseException:
            self._leave(local, release=True)
            raise
        self.held = True
        self._renewer = threading.Thread(target=self._renew, name=f"renew {self.name}", daemon=True)
        self._renewer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.held:
            return
        try:
            self._stop.set()
            if self._renewer is not None:
                self._renewer.join(timeout=5)
            forget(self.engine, self.name, self.me)
        finally:
            self.held = False
            self._leave(self._mine, release=True)

    def _renew(self) -> None:
        _keep_renewed(self.engine, self.name, self.me, self.ttl, self._stop)

    def _join(self) -> threading.Lock:
        """This process's lock for the name (made by its first user, dropped by its last)."""
        with Claim._guard:
            lock, users = Claim._local.get(self._key) or (threading.Lock(), 0)
            Claim._local[self._key] = (lock, users + 1)
        return lock

    def _leave(self, lock: threading.Lock, *, release: bool) -> None:
        with Claim._guard:
            if release:
                lock.release()
            _, users = Claim._local[self._key]
            if users <= 1:
                del Claim._local[self._key]
            else:
                Claim._local[self._key] = (lock, users - 1)


def lock_name(name: str) -> str:
    """``name`` as a lock's name (at most 64 characters: a long one keeps its start and a digest)."""
    if len(name) <= 64:
        return name
    return f"{name[:47]}~{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def _looks_free(engine: Engine, name: str) -> bool:
    """A read before trying to write: a held lock is waited for without taking SQLite's write lock."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(_LOCK.c.holder, _LOCK.c.until).where(_LOCK.c.name == name)).first()
    if row is None or row.holder is None or row.until is None:
        return True
    until = row.until if row.until.tzinfo else row.until.replace(tzinfo=dt.UTC)
    return until < utcnow() or holder_is_dead(row.holder)


def acquire(engine: Engine, name: str, me: str, ttl: dt.timedelta, *, now: dt.datetime | None = None) -> bool:
    """Take the lock ``name`` for ``ttl`` unless a live holder has it."""
    now = now or utcnow()
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(_LOCK).values(name=name, holder=me, until=now + ttl, last_started_at=now))
        return True
    except IntegrityError:
        pass  # the row exists: take it if it is free or its lease ran out
    free = sa.or_(_LOCK.c.holder.is_(None), _LOCK.c.until.is_(None), _LOCK.c.until < now)
    with engine.begin() as conn:
        taken = conn.execute(
            sa.update(_LOCK)
            .where(_LOCK.c.name == name, free)
            .values(holder=me, until=now + ttl, last_started_at=now)
        ).rowcount
        if taken:
            return True
        holder = conn.execute(sa.select(_LOCK.c.holder).where(_LOCK.c.name == name)).scalar()
        if holder and holder_is_dead(holder):
            log.warning("lock %s: taking it over from a process that no longer runs (%s)", name, holder)
            return bool(
                conn.execute(
                    sa.update(_LOCK)
                    .where(_LOCK.c.name == name, _LOCK.c.holder == holder)
                    .values(holder=me, until=now + ttl, last_started_at=now)
                ).rowcount
            )
    return False


def _keep_renewed(engine: Engine, name: str, me: str, ttl: dt.timedelta, stop: threading.Event) -> None:
    """Renew the lease every third of ``ttl`` until ``stop`` is set."""
    every = ttl.total_seconds() / 3
    while not stop.wait(every):
        try:
            if not renew(engine, name, me, ttl):
                log.warning("lock %s: lost to another holder while still working", name)
                return
        except Exception:  # noqa: BLE001 - a failed renewal is tried again at the next beat
            log.warning("lock %s: could not renew the lease", name, exc_info=True)


def renew(engine: Engine, name: str, me: str, ttl: dt.timedelta) -> bool:
    with engine.begin() as conn:
        return bool(
            conn.execute(
                sa.update(_LOCK)
                .where(_LOCK.c.name == name, _LOCK.c.holder == me)
                .values(until=utcnow() + ttl)
            ).rowcount
        )


def release(engine: Engine, name: str, me: str, *, outcome: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.update(_LOCK)
            .where(_LOCK.c.name == name, _LOCK.c.holder == me)
            .values(holder=None, until=None, last_finished_at=utcnow(), last_outcome=outcome[:500])
        )


def forget(engine: Engine, name: str, me: str) -> None:
    """Release the lock and remove its row (a lock with no history worth keeping)."""
    with engine.begin() as conn:
        conn.execute(sa.delete(_LOCK).where(_LOCK.c.name == name, _LOCK.c.holder == me))


def last_run(engine: Engine, name: str) -> tuple[dt.datetime | None, str | None]:
    """When the job last finished, and how."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(_LOCK.c.last_finished_at, _LOCK.c.last_outcome).where(_LOCK.c.name == name)
        ).first()
    return (row.last_finished_at, row.last_outcome) if row else (None, None)
