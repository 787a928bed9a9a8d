"""Whether Slack still accepts the app, kept in the database (table ``slack_access``, one row).

Slack tells an app it lost its workspace in two ways: the ``app_uninstalled`` and ``tokens_revoked``
events, and the errors ``invalid_auth``, ``token_revoked`` and ``account_inactive`` from any Web API
call. Either is recorded here (why and when, and a hash of the token refused); from then on the
scheduler's Slack jobs skip, with one log line per job and day, instead of calling Slack with a dead
token. QuickBooks syncs and the TMS webhook do not look here. A start with a token Slack accepts
(``auth.test``) clears the record.

Nothing here imports Slack's libraries: callers pass plain strings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.store.models import SlackAccess, utcnow
from services.store.storage import immediate_transaction, lock_row, retry_busy

log = logging.getLogger(__name__)

LOST_ERRORS = frozenset({"invalid_auth", "token_revoked", "account_inactive"})
LOST_EVENTS = frozenset({"app_uninstalled", "tokens_revoked"})
ROW = "slack"
_TABLE = SlackAccess.__table__  # type: ignore[attr-defined]


def fingerprint(token: str | None) -> str | None:
    """A hash of a token, enough to tell two tokens apart and nothing more."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest() if token else None


@dataclass(frozen=True)
class Lost:
    """Slack stopped accepting the app: ``reason`` (the event or error) at ``at``."""

    reason: str
    at: dt.datetime
    token_fingerprint: str | None = None

    def concerns(self, token: str | None) -> bool:
        """Whether the loss applies to a process holding ``token``: a process started with another
        token than the one refused is not held back by it."""
        return self.token_fingerprint is None or token is None or fingerprint(token) == self.token_fingerprint


class SlackAccessStore:
    """Record, read and clear the loss of Slack access."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def state(self) -> Lost | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(_TABLE).where(_TABLE.c.name == ROW)).first()
        if row is None or row.lost_at is None:
            return None
        return Lost(row.reason or "unknown", row.lost_at, row.token_fingerprint)

    def lost(self, reason: str, token: str | None = None) -> bool:
        """Record that Slack refused the app (``reason``: an event type or an API error). Returns True
        when this is news (then it is logged once); a loss already recorded keeps its first time."""
        now = self.clock()

        def write() -> bool:
            with immediate_transaction(self.engine) as conn:
                row = lock_row(conn, _TABLE, {"name": ROW}, {"skips_logged": {}, "updated_at": now})
                if row.lost_at is not None:
                    return False
                values = {
                    "lost_at": now,
                    "reason": reason[:64],
                    "token_fingerprint": fingerprint(token),
                    "skips_logged": {},
                    "updated_at": now,
                }
                conn.execute(sa.update(_TABLE).where(_TABLE.c.name == ROW).values(**values))
                return True

        news = retry_busy(write)
        if news:
            log.warning(
                "Slack no longer accepts the app (%s at %s): its Slack jobs stop until a valid "
                "SLACK_BOT_TOKEN is back; QuickBooks syncs go on",
                reason,
                now.isoformat(timespec="seconds"),
            )
        return news

    def restored(self) -> Lost | None:
        """Slack accepted the token again: clear the record. Returns what was cleared (logged), if any."""
        before = self.state()
        if before is None:
            return None

        def write() -> None:
            with immediate_transaction(self.engine) as conn:
                conn.execute(
                    sa.update(_TABLE)
                    .where(_TABLE.c.name == ROW)
                    .values(
                        lost_at=None,
                        reason=None,
                        token_fingerprint=None,
                        skips_logged={},
                        updated_at=self.clock(),
                    )
                )

        retry_busy(write)
        log.warning(
            "Slack accepts the app's token again: its Slack jobs resume (access had been lost: %s at %s)",
            before.reason,
            before.at.isoformat(timespec="seconds"),
        )
        return before

    def skip(self, job: str, token: str | None = None) -> bool:
        """Whether the Slack job ``job`` must skip this run (Slack access is lost for ``token``). The
        first skip of each job on each day (UTC) is logged; the others are silent."""
        lost = self.state()
        if lost is None or not lost.concerns(token):
            return False
        today = self.clock().date().isoformat()

        def write() -> bool:
            with immediate_transaction(self.engine) as conn:
                row = lock_row(conn, _TABLE, {"name": ROW}, {"skips_logged": {}, "updated_at": self.clock()})
                logged = dict(row.skips_logged or {})
                if logged.get(job) == today:
                    return False
                logged[job] = today
                conn.execute(sa.update(_TABLE).where(_TABLE.c.name == ROW).values(skips_logged=logged))
                return True

        if retry_busy(write):
            log.warning(
                "job %s: skipped, Slack no longer accepts the app (%s at %s); "
                "restart with a valid SLACK_BOT_TOKEN to resume (logged once a day)",
                job,
                lost.reason,
                lost.at.isoformat(timespec="seconds"),
            )
        return True
