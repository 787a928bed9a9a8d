"""Claims: a load is pushed by one worker at a time, across threads and processes.

A claim is a short write on the load row (``claimed_by``, ``claimed_until``), taken with the write
lock up front and tried again while the database is busy. ``claim_many``/``release_many`` do the same
for a whole batch of loads in one transaction each. A claim left by a process of this host that no
longer runs may be taken over; any other claim lapses after ``CLAIM_TTL``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from services.models import Load
from services.storage import immediate_transaction, retry_busy
from services.sync.crash import crash_point

log = logging.getLogger(__name__)

CLAIM_TTL = dt.timedelta(minutes=10)
_LOAD = Load.__table__  # type: ignore[attr-defined]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Claims:
    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.clock = clock

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
        crash_point("release")

    def _take(self, load_ids: list[int], me: str) -> set[int]:
        now = self.clock()
        with immediate_transaction(self.engine) as conn:
            conn.execute(
                sa.update(_LOAD)
                .where(_LOAD.c.id.in_(load_ids))
                .where(sa.or_(_LOAD.c.claimed_until.is_(None), _LOAD.c.claimed_until < now))
                .values(claimed_by=me, claimed_until=now + CLAIM_TTL)
            )
            held = dict(
                conn.execute(sa.select(_LOAD.c.id, _LOAD.c.claimed_by).where(_LOAD.c.id.in_(load_ids))).all()
            )
            taken = {load_id for load_id, holder in held.items() if holder == me}
            for load_id, holder in held.items():
                dead = holder != me and holder and _holder_is_dead(holder)
                if dead and self._take_over(conn, load_id, holder, me, now):
                    taken.add(load_id)
            return taken

    def _take_over(self, conn: Connection, load_id: int, holder: str, me: str, now: dt.datetime) -> bool:
        log.warning("taking over the claim of a dead worker %s", holder)
        return bool(
            conn.execute(
                sa.update(_LOAD)
                .where(_LOAD.c.id == load_id, _LOAD.c.claimed_by == holder)
                .values(claimed_by=me, claimed_until=now + CLAIM_TTL)
            ).rowcount
        )


def _holder_is_dead(holder: str) -> bool:
    """A claim by a process on this host that no longer runs may be taken over."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
