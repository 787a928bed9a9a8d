"""Receiving a verified webhook delivery: each notification is kept once (its key), and the companies
it names that qbsync follows are marked due for a catch-up. Nothing is read from QuickBooks here: the
answer leaves at once, and the changes job reads what changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from services.changes.webhooks import Notification
from services.store.changes import QboChangeEvent
from services.store.models import utcnow
from services.store.storage import dialect_insert, immediate_transaction, retry_busy

KEEP = dt.timedelta(days=7)  # repeats come within hours; older keys are forgotten
_EVENT = QboChangeEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Received:
    new: int  # notifications not seen before, of companies qbsync follows
    repeated: int
    elsewhere: int  # of companies qbsync does not follow (left out)
    due: frozenset[str]


def receive(engine: Engine, notifications: Sequence[Notification], followed: set[str], feed) -> Received:
    """Keep the notifications of ``followed`` companies not seen before, mark those companies due on
    ``feed`` (a ``ChangeFeed``); the others are counted and dropped."""
    mine = [n for n in notifications if n.realm_id in followed]
    now = utcnow()
    unique = {n.key: n for n in mine}

    def write() -> set[str]:
        with immediate_transaction(engine) as conn:
            if not unique:
                return set()
            statement = dialect_insert(conn, _EVENT).on_conflict_do_nothing().returning(_EVENT.c.key)
            rows = [
                {
                    "key": n.key,
                    "realm_id": n.realm_id,
                    "entity": n.entity,
                    "entity_id": n.entity_id,
                    "operation": n.operation,
                    "occurred_at": n.occurred_at,
                    "received_at": now,
                }
                for n in unique.values()
            ]
            kept = set()
            for row in rows:
                kept.update(conn.scalars(statement.values(row)))
            conn.execute(_EVENT.delete().where(_EVENT.c.received_at < now - KEEP))
            return kept

    kept = retry_busy(write)
    due = frozenset(unique[key].realm_id for key in kept)
    if due:
        feed.mark_due(set(due), now)
    return Received(len(kept), len(mine) - len(kept), len(notifications) - len(mine), due)
