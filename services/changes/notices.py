"""Telling the channel at once: each problem QuickBooks' changes made is queued (table ``qbo_notice``)
and posted to the digest channel by the next run of the changes job — all those waiting in one short
message, never one message per change in a burst. A process takes the waiting notices with a lease,
so two processes never post the same ones; a refused channel drops them (the problem list and the
digest still show the problems), an unreachable chat service leaves them for the next run."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services import catalogue
from services.changes.apply import Found
from services.digest.channel import ChannelRefused
from services.store.changes import QboNotice
from services.store.models import utcnow
from services.store.storage import immediate_transaction, retry_busy
from services.store.workers import worker_id

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)
MAX_PER_MESSAGE = 200
_NOTICE = QboNotice.__table__  # type: ignore[attr-defined]


class NoticeChannel(Protocol):
    """What posting a notice needs of the chat service: raises ``ChannelRefused`` when refused."""

    token: str | None

    def post_text(self, channel: str, text: str) -> str:
        """Post ``text`` (plain words, the chat service escapes it); returns the message's id."""
        ...


def queue(engine: Engine, realm_id: str, found: Found, now: dt.datetime | None = None) -> int:
    """Queue a notice line for each new problem and each group of blocked loads in ``found``."""
    now = now or utcnow()
    rows = [
        {
            "realm_id": realm_id,
            "load_number": result.load_number,
            "code": reason.code,
            "text": catalogue.notice_line(reason.summary, reason.code, result.load_number)[:500],
            "created_at": now,
        }
        for result, reason in found.problems
    ]
    for reason, numbers in found.blocked:
        shown = ", ".join(numbers[:5]) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
        summary = (
            f"{reason.summary}: {catalogue.plural(len(numbers), 'load')} waiting to sync will not ({shown})"
        )
        rows.append(
            {
                "realm_id": realm_id,
                "load_number": numbers[0],
                "code": reason.code,
                "text": catalogue.notice_line(summary, reason.code)[:500],
                "created_at": now,
            }
        )
    if rows:

        def write() -> None:
            with immediate_transaction(engine) as conn:
                conn.execute(sa.insert(_NOTICE), rows)

        retry_busy(write)
    return len(rows)


def waiting(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(_NOTICE.c.posted_at.is_(None))).scalar_one()


def post_waiting(
    engine: Engine,
    port: NoticeChannel,
    channel: str,
    clock: Callable[[], dt.datetime] = utcnow,
) -> int:
    """Post every waiting notice in one message to ``channel``; the number posted."""
    me, now = worker_id(), clock()
    taken = _take(engine, me, now)
    if not taken:
        return 0
    ids = [row.id for row in taken]
    text = catalogue.notice_text([(row.code, row.text) for row in taken])
    try:
        port.post_text(channel, text)
    except ChannelRefused as exc:
        log.warning(
            "%d QuickBooks change notices not posted: Slack refused channel %s (%s)",
            len(ids),
            channel,
            exc.error,
        )
        _finish(engine, ids, me, clock())
        return 0
    except Exception as exc:  # the chat service out of reach: the next run tries again
        log.warning("QuickBooks change notices not posted (%s); trying again on the next run", exc)
        _release(engine, ids, me)
        return 0
    _finish(engine, ids, me, clock())
    log.info("posted %s to %s", catalogue.plural(len(ids), "QuickBooks change notice"), channel)
    return len(ids)


def _take(engine: Engine, me: str, now: dt.datetime) -> list[sa.Row]:
    def write() -> list[sa.Row]:
        with immediate_transaction(engine) as conn:
            free = sa.or_(_NOTICE.c.claimed_until.is_(None), _NOTICE.c.claimed_until < now)
            query = (
                sa.select(_NOTICE.c.id, _NOTICE.c.code, _NOTICE.c.text)
                .where(_NOTICE.c.posted_at.is_(None), free)
                .order_by(_NOTICE.c.id)
                .limit(MAX_PER_MESSAGE)
            )
            if conn.dialect.name != "sqlite":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            if rows:
                conn.execute(
                    sa.update(_NOTICE)
                    .where(_NOTICE.c.id.in_([row.id for row in rows]))
                    .values(claimed_by=me, claimed_until=now + LEASE)
                )
            return rows

    return retry_busy(write)


def _finish(engine: Engine, ids: list[int], me: str, now: dt.datetime) -> None:
    def write() -> None:
        with immediate_transaction(engine) as conn:
            conn.execute(
                sa.update(_NOTICE)
                .where(_NOTICE.c.id.in_(ids), _NOTICE.c.claimed_by == me)
                .values(posted_at=now, claimed_by=None, claimed_until=None)
            )

    retry_busy(write)


def _release(engine: Engine, ids: list[int], me: str) -> None:
    def write() -> None:
        with immediate_transaction(engine) as conn:
            conn.execute(
                sa.update(_NOTICE)
                .where(_NOTICE.c.id.in_(ids), _NOTICE.c.claimed_by == me)
                .values(claimed_by=None, claimed_until=None)
            )

    retry_busy(write)
