"""Named locks across processes, kept in the database with a lease: one run of a job at a time, however
many clocks and ``serve`` processes schedule it. A holder renews its lease while it works; a lease that
runs out (its process died or hung) may be taken by the next run, as may the lock of a process on this
host that no longer exists."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from services.models import JobLock, utcnow
from services.sync import _holder_is_dead, worker_id

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
        return self

    def renew(self) -> bool:
        return renew(self.engine, self.name, self.me, self.ttl)

    def __exit__(self, *exc: object) -> None:
        if self.held:
            release(self.engine, self.name, self.me, outcome=self.outcome or ("failed" if exc[0] else "done"))


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
        if holder and _holder_is_dead(holder):
            log.warning("lock %s: taking it over from a process that no longer runs (%s)", name, holder)
            return bool(
                conn.execute(
                    sa.update(_LOCK)
                    .where(_LOCK.c.name == name, _LOCK.c.holder == holder)
                    .values(holder=me, until=now + ttl, last_started_at=now)
                ).rowcount
            )
    return False


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


def last_run(engine: Engine, name: str) -> tuple[dt.datetime | None, str | None]:
    """When the job last finished, and how."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(_LOCK.c.last_finished_at, _LOCK.c.last_outcome).where(_LOCK.c.name == name)
        ).first()
    return (row.last_finished_at, row.last_outcome) if row else (None, None)
