"""The changes job: QuickBooks' own changes read within a minute, and the channel told at once.

Every ``TICK`` seconds it looks at the database only: a catch-up (``services.changes.feed``) runs
when a webhook marked the company due or ``QBSYNC_CHANGES_EVERY`` has passed since the last; then the
notices waiting are posted to the digest channel in one message (skipped while Slack no longer
accepts the app)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from services.access.workspace import SlackAccessStore
from services.changes import notices
from services.changes.feed import ChangeFeed
from services.quickbooks import QboError

log = logging.getLogger("qbsync.clock")

TICK = 10  # seconds: a webhook's changes are read within this of its arrival


def changes_job(feed: ChangeFeed, every: int, port: Any = None, channel: str | None = None) -> str:
    status = feed.sync.connection.status()
    outcome = "nothing due"
    due = (
        status.connected
        and status.realm_id
        and feed.is_due(status.realm_id, dt.timedelta(seconds=every), slack=dt.timedelta(seconds=TICK / 2))
    )
    if due:
        try:
            outcome = feed.catch_up(trigger="scheduler:changes").summary()
        except QboError as exc:  # the next tick tries again; the point has not moved
            outcome = f"QuickBooks did not answer ({exc})"
            log.warning("job qbo_changes: %s", outcome)
    if port is not None and channel and notices.waiting(feed.engine):
        if SlackAccessStore(feed.engine).skip("qbo_notices", port.token):
            return f"{outcome}; notices held: Slack no longer accepts the app"
        posted = notices.post_waiting(feed.engine, port, channel)
        outcome += f"; {posted} notices posted"
    return outcome
