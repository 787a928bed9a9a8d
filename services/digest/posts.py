"""The daily digest's record per channel and day, so it is posted exactly once however many clocks run.

The steps, each written before the next one starts:

1. ``claim`` the (channel, day) row with a lease — inserted, or taken over when its lease ran out (or
   its process on this host is gone) and the digest is not finished;
2. ``mark_posting`` just before the message is sent (and the counts it shows);
3. ``record_ts`` with the message's ts once Slack answered;
4. ``mark_chart_posting`` / ``record_chart`` around the chart's upload;
5. ``finish`` — or ``stop`` when Slack refused the channel or the token (the day's digest is not tried
   again: no reconcile every few minutes until midnight; the next day tries again).

``record_channel`` keeps what the last check of the channel found (its name, what keeps the digest out),
for the log, ``/qbsync status`` and the App Home.

A claim taken over after a crash tells the poster what is left: no ``posting_at`` — the message was
never sent; ``posting_at`` without ``ts`` — it may have been, so the channel is read first (the poster
does that; this module knows no Slack). A poster whose lease was taken stops at its next step
(``ClaimLost``) instead of posting twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from services.store.locks import write_transaction
from services.store.models import DigestChannel, DigestPost, utcnow
from services.store.storage import lock_row
from services.store.workers import holder_is_dead, worker_id

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=15)  # a digest takes seconds; a reconcile of a big company, minutes
_POST = DigestPost.__table__  # type: ignore[attr-defined]
_CHANNEL = DigestChannel.__table__  # type: ignore[attr-defined]


class ClaimLost(RuntimeError):
    """Another process took this digest over (our lease ran out): stop, it finishes the work."""


@dataclass
class DigestClaim:
    channel: str
    day: dt.date
    me: str
    taken_over: bool = False  # an earlier claim lapsed unfinished
    posting_at: dt.datetime | None = None
    ts: str | None = None
    chart_posting_at: dt.datetime | None = None
    chart_file_id: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)


def claim(
    engine: Engine, channel: str, day: dt.date, *, now: dt.datetime | None = None, lease: dt.timedelta = LEASE
) -> DigestClaim | None:
    """Claim the digest of ``day`` in ``channel``; None when it is finished or another live process has it."""
    now = now or utcnow()
    me = worker_id()
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(_POST).values(
                    channel=channel,
                    day=day,
                    claimed_by=me,
                    claimed_until=now + lease,
                    counts={},
                    created_at=now,
                )
            )
        return DigestClaim(channel, day, me)
    except IntegrityError:
        pass
    key = sa.and_(_POST.c.channel == channel, _POST.c.day == day, _POST.c.finished_at.is_(None))
    with write_transaction(engine) as conn:
        row = conn.execute(sa.select(_POST).where(key)).first()
        if row is None:
            return None  # finished
        lapsed = row.claimed_by is None or row.claimed_until is None or _aware(row.claimed_until) < now
        if not lapsed and not (row.claimed_by and holder_is_dead(row.claimed_by)):
            return None
        taken = conn.execute(
            sa.update(_POST)
            .where(key, _same(_POST.c.claimed_by, row.claimed_by))
            .values(claimed_by=me, claimed_until=now + lease)
        ).rowcount
    if not taken:
        return None
    log.warning(
        "digest %s %s: completing a claim left unfinished by %s",
        channel,
        day,
        row.claimed_by or "a failed run",
    )
    return DigestClaim(
        channel,
        day,
        me,
        taken_over=row.claimed_by is not None,
        posting_at=row.posting_at,
        ts=row.ts,
        chart_posting_at=row.chart_posting_at,
        chart_file_id=row.chart_file_id,
        counts=dict(row.counts or {}),
    )


def mark_posting(engine: Engine, held: DigestClaim, counts: dict[str, Any]) -> None:
    held.posting_at, held.counts = utcnow(), counts
    _update(engine, held, posting_at=held.posting_at, counts=counts)


def record_ts(engine: Engine, held: DigestClaim, ts: str) -> None:
    held.ts = ts
    _update(engine, held, ts=ts, posted_at=utcnow())


def mark_chart_posting(engine: Engine, held: DigestClaim) -> None:
    held.chart_posting_at = utcnow()
    _update(engine, held, chart_posting_at=held.chart_posting_at)


def record_chart(engine: Engine, held: DigestClaim, file_id: str) -> None:
    held.chart_file_id = file_id
    _update(engine, held, chart_file_id=file_id)


def finish(engine: Engine, held: DigestClaim) -> None:
    _update(engine, held, finished_at=utcnow(), claimed_by=None, claimed_until=None)


def stop(engine: Engine, held: DigestClaim, error: str) -> None:
    """The day's digest ends here: Slack refused (``error``). Not tried again this day."""
    _update(engine, held, finished_at=utcnow(), stopped=error[:64], claimed_by=None, claimed_until=None)


def record_chart_error(engine: Engine, held: DigestClaim, error: str) -> None:
    """The message went out, its chart did not: noted, and the digest is done."""
    _update(engine, held, chart_error=error[:64])


def stopped_on(engine: Engine, channel: str, day: dt.date) -> str | None:
    """Slack's refusal that stopped the digest of ``day`` in ``channel``, if one did."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(_POST.c.stopped).where(_POST.c.channel == channel, _POST.c.day == day)
        ).scalar()


@dataclass(frozen=True)
class ChannelState:
    """The last check of the digest channel: its name when Slack told it, and what keeps the digest
    out (Slack's error; ``needed``: the missing scope), or no problem."""

    channel: str
    name: str | None = None
    problem: str | None = None
    needed: str | None = None
    checked_at: dt.datetime | None = None

    def label(self, *, slack: bool = False) -> str:
        """``#billing``; without a name, a channel mention Slack shows by name (``<#C0…>``) or, in a log,
        the id."""
        if self.name:
            return f"#{self.name}"
        if slack and self.channel[:1] in ("C", "G") and self.channel.isalnum():
            return f"<#{self.channel}>"
        return self.channel if self.channel.startswith("#") else f"channel {self.channel}"


def record_channel(engine: Engine, state: ChannelState) -> ChannelState:
    """Keep what a check of the channel found (a name seen before is kept when Slack no longer shows
    it, e.g. after the app was removed from the channel). Returns the state as stored."""
    now = utcnow()
    with write_transaction(engine) as conn:
        row = lock_row(conn, _CHANNEL, {"channel": state.channel}, {"checked_at": now})
        name = state.name or row.name
        values = {"name": name, "problem": state.problem, "needed": state.needed, "checked_at": now}
        conn.execute(sa.update(_CHANNEL).where(_CHANNEL.c.channel == state.channel).values(**values))
    return ChannelState(state.channel, name, state.problem, state.needed, now)


def channel_state(engine: Engine, channel: str | None) -> ChannelState | None:
    """What the last check of ``channel`` found (None: never checked, or no channel)."""
    if not channel:
        return None
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.select(_CHANNEL).where(_CHANNEL.c.channel == channel)).first()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):  # a database not yet upgraded to it
        return None
    if row is None:
        return None
    return ChannelState(row.channel, row.name, row.problem, row.needed, _aware(row.checked_at))


def latest_channel_state(engine: Engine) -> ChannelState | None:
    """The most recent check of a digest channel (the one ``QBSYNC_DIGEST_CHANNEL`` names now)."""
    try:
        with engine.connect() as conn:
            channel = conn.execute(
                sa.select(_CHANNEL.c.channel).order_by(_CHANNEL.c.checked_at.desc()).limit(1)
            ).scalar()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return None
    return channel_state(engine, channel)


def release(engine: Engine, held: DigestClaim) -> None:
    """Give the claim up after a failure, so the next run tries again at once (what was done stays)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(_POST)
            .where(_POST.c.channel == held.channel, _POST.c.day == held.day, _POST.c.claimed_by == held.me)
            .values(claimed_by=None, claimed_until=None)
        )


def previous_digest_at(engine: Engine, channel: str, day: dt.date) -> dt.datetime | None:
    """When the last digest before ``day`` in ``channel`` was composed (new and resolved count from there)."""
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.max(_POST.c.posting_at)).where(
                _POST.c.channel == channel, _POST.c.day < day, _POST.c.ts.is_not(None)
            )
        ).scalar()
    return _aware(value) if value else None


def posted(engine: Engine, channel: str) -> list[dict[str, Any]]:
    """Every digest of ``channel``, oldest first: day, ts, chart file and the counts shown."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(_POST).where(_POST.c.channel == channel).order_by(_POST.c.day)).all()
    return [dict(row._mapping) for row in rows]


def _update(engine: Engine, held: DigestClaim, **values: Any) -> None:
    renew = {"claimed_until": utcnow() + LEASE} if "claimed_by" not in values else {}
    with engine.begin() as conn:
        changed = conn.execute(
            sa.update(_POST)
            .where(_POST.c.channel == held.channel, _POST.c.day == held.day, _POST.c.claimed_by == held.me)
            .values(**renew, **values)
        ).rowcount
    if not changed:
        raise ClaimLost(f"the digest of {held.day} in {held.channel} was taken over by another process")


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
