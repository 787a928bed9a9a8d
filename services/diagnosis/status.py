"""The state of the sync at a glance: the QuickBooks connection, the last sync, and open problems by
reason — for ``/qbsync status`` and the App Home."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.connect.connection import ConnectionStatus
from services.diagnosis.problems import summarize
from services.digest.posts import ChannelState, latest_channel_state
from services.store.models import Load, LoadState, SyncAttempt


@dataclass
class Status:
    connection: ConnectionStatus
    last_attempt_at: dt.datetime | None
    last_synced_at: dt.datetime | None
    loads: int
    synced: int
    open_problems: int
    total_amount: Decimal
    by_reason: dict[str, int] = field(default_factory=dict)
    dismissed: int = 0  # loads a person dismissed: not synced, not counted as problems
    dismissed_amount: Decimal = Decimal("0.00")
    digest_channel: ChannelState | None = None  # the last check of the digest channel


def build_status(engine: Engine, connection: ConnectionStatus) -> Status:
    """From the database alone: no QuickBooks request."""
    attempts = SyncAttempt.__table__  # type: ignore[attr-defined]
    loads = Load.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        last_attempt = conn.execute(sa.select(sa.func.max(attempts.c.finished_at))).scalar()
        last_synced = conn.execute(
            sa.select(sa.func.max(attempts.c.finished_at)).where(attempts.c.outcome == "synced")
        ).scalar()
        count = conn.execute(sa.select(sa.func.count()).select_from(loads)).scalar() or 0
        synced = (
            conn.execute(sa.select(sa.func.count()).where(loads.c.state == LoadState.SYNCED.value)).scalar()
            or 0
        )
    summary = summarize(engine)
    return Status(
        connection=connection,
        last_attempt_at=_aware(last_attempt),
        last_synced_at=_aware(last_synced),
        loads=count,
        synced=synced,
        open_problems=summary.open,
        total_amount=summary.total_amount,
        by_reason=summary.by_reason,
        dismissed=summary.dismissed,
        dismissed_amount=summary.dismissed_amount,
        digest_channel=latest_channel_state(engine),
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
