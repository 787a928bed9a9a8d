"""Posting the daily digest, exactly once per channel and day.

The scheduler calls :func:`daily_digest` at ``QBSYNC_DIGEST_TIME`` and every few minutes after (so a
digest missed while everything was down, or left half done by a crash, is completed on the next run the
same day). Each step is recorded by ``services.digest.posts`` before the next starts: claim, compose
(after a reconcile), record the intent, post, record the ts, then the chart the same way.

A claim that lapsed after the intent was recorded but before the ts was may have been posted: the
channel is read back and a digest found there is adopted instead of posted again. If the channel cannot
be read (the app lacks ``channels:history``), the digest is posted again and the log says it may be
doubled — a lost digest is worse than a repeated one.

The chat service is behind :class:`services.digest.channel.DigestChannel` (``bot/`` implements it with
Slack). When it refuses the channel or the token the day's digest stops once — one log line saying what
to do, no further reconcile that day — and the next day tries again. A message that posted is a posted
digest: a chart refused is logged and noted, never a failure.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from services.catalogue import digest_chart_missing, digest_posted_text, money, plural
from services.digest import posts as digest_posts
from services.digest.build import Digest, build_digest
from services.digest.channel import (
    STOPPING,
    ChannelCheck,
    ChannelRefused,
    DigestChannel,
    DigestStopped,
    check_channel,
    named,
    refusal,
)
from services.digest.history import open_history
from services.digest.posts import ChannelState, ClaimLost, DigestClaim
from services.errors import QbsyncError
from services.quickbooks import QboError

log = logging.getLogger(__name__)

HISTORY_SLACK = dt.timedelta(minutes=2)  # read the channel from a little before the intent


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class DigestPoster:
    """What posting a digest needs: the database, the QuickBooks connection and the sync (for the
    reconcile before composing), the chat service, and where and when to post."""

    engine: Any
    connection: Any  # services.connect.connection.ConnectionService
    sync: Any  # services.sync.SyncEngine
    slack: DigestChannel
    channel: str
    tz: str = "UTC"
    at: dt.time = dt.time(8, 0)
    now: Callable[[], dt.datetime] = field(default=_utcnow)
    changes: Any = None  # services.changes.feed.ChangeFeed: what changed, instead of every invoice read back

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        *,
        engine: Any,
        connection: Any,
        sync: Any,
        slack: DigestChannel,
        changes: Any = None,
    ):
        hour, minute = (int(part) for part in settings.digest_time.split(":"))
        return cls(
            engine,
            connection,
            sync,
            slack,
            settings.digest_channel or "",
            settings.timezone,
            dt.time(hour, minute),
            changes=changes,
        )


def poster_for(services: Any, slack: DigestChannel) -> DigestPoster:
    """The digest poster of ``services`` (``wiring.services.Services``, one workspace's or the
    deployment's): its settings, database, connection, sync and change feed, posting through ``slack``."""
    return DigestPoster.from_settings(
        services.settings,
        engine=services.engine,
        connection=services.connection,
        sync=services.sync,
        slack=slack,
        changes=services.changes,
    )


def checked_channel(poster: DigestPoster) -> ChannelCheck:
    """Check the channel, keep what was found (for ``/qbsync status`` and the App Home), and stop the
    digest when nothing can be posted there."""
    check = check_channel(poster.slack, poster.channel)
    digest_posts.record_channel(poster.engine, check.state)
    if check.blocking:
        raise DigestStopped(check)
    if check.problem:  # the message can still go out (chat:write.public), but say what is missing
        log.warning("%s", check.notice())
    return check


def daily_digest(poster: DigestPoster) -> str:
    """The scheduler's job: today's digest, once, if its time has come. Returns what it did, in words."""
    if not poster.channel:
        return "no QBSYNC_DIGEST_CHANNEL: no digest"
    now = poster.now()
    local = now.astimezone(ZoneInfo(poster.tz))
    if local.time() < poster.at:
        return f"not yet: the digest of {local.date()} is due at {poster.at:%H:%M} {poster.tz}"
    day = local.date()
    engine = poster.engine
    held = digest_posts.claim(engine, poster.channel, day, now=now)
    if held is None:
        stopped = digest_posts.stopped_on(engine, poster.channel, day)
        if stopped:
            return f"digest of {day} in {poster.channel}: stopped today ({stopped}); tried again tomorrow"
        return f"digest of {day} in {poster.channel}: already posted, or being posted by another process"
    try:
        return _complete(poster, held)
    except DigestStopped as exc:
        digest_posts.stop(engine, held, exc.check.problem or "refused")
        log.warning("digest of %s not posted: %s", day, exc)  # once: the day's digest is over
        return f"digest of {day} in {poster.channel}: stopped ({exc.check.problem}); tried again tomorrow"
    except ClaimLost as exc:
        log.warning("%s; leaving it to that process", exc)
        return str(exc)
    except BaseException:
        digest_posts.release(engine, held)  # the next run tries again; what was recorded stays
        raise


def post_on_demand(poster: DigestPoster) -> str:
    """``qbsync digest --post``: today's digest now, not counted as the day's (posted whenever asked)."""
    now = poster.now()
    day = now.astimezone(ZoneInfo(poster.tz)).date()
    check = checked_channel(poster)
    digest = _compose(poster, day, now, since=None)
    posted = _post_message(poster, digest, day, on_demand=True, check=check)
    done = digest_posted_text(day, posted.channel)
    try:
        _upload_chart(poster, posted.channel, day, now)
    except Exception as exc:
        missing = digest_chart_missing(refusal(exc)[0])
        log.warning("digest of %s in %s: posted, but %s", day, posted.channel, missing)
        return f"{done.rstrip('.')}; {missing}"
    return done


def _complete(poster: DigestPoster, held: DigestClaim) -> str:
    engine = poster.engine
    now = poster.now()
    channel = poster.channel
    done = []
    check = checked_channel(poster)  # before the reconcile: a refused channel costs QuickBooks nothing
    if check.joined:
        done.append(f"joined {check.state.label()}")
    if held.ts is None:
        ts = _find(poster, poster.slack.posted_digest, held.day, held.posting_at) if held.posting_at else None
        if ts is None:
            since = digest_posts.previous_digest_at(engine, channel, held.day) or now - dt.timedelta(days=1)
            digest = _compose(poster, held.day, now, since=since)
            digest_posts.mark_posting(engine, held, _counts(digest))
            posted = _post_message(poster, digest, held.day, check=check)
            ts, channel = posted.ts, posted.channel
            done.append(f"posted ({_headline(digest)})")
        else:
            log.warning("digest of %s: an interrupted run had posted it (ts %s)", held.day, ts)
            done.append("found the message an interrupted run had posted")
        digest_posts.record_ts(engine, held, ts)
    if held.chart_file_id is None:
        found = held.chart_posting_at is not None
        file_id = _find(poster, poster.slack.posted_chart, held.day, held.chart_posting_at) if found else None
        if file_id is None:
            digest_posts.mark_chart_posting(engine, held)
            try:
                file_id = _upload_chart(poster, channel, held.day, now)
            except Exception as exc:  # the message is out: the digest is posted, without its chart
                error = refusal(exc)[0]
                missing = digest_chart_missing(error)
                log.warning("digest of %s in %s: posted, but %s", held.day, channel, missing)
                digest_posts.record_chart_error(engine, held, error)
                done.append(missing)
            else:
                done.append("chart uploaded")
        if file_id is not None:
            digest_posts.record_chart(engine, held, file_id)
    digest_posts.finish(engine, held)
    return f"digest of {held.day} in {poster.channel}: " + ", ".join(done or ["finished"])


def _compose(poster: DigestPoster, day: dt.date, now: dt.datetime, *, since: dt.datetime | None) -> Digest:
    """QuickBooks' changes first (deleted, voided or drifted invoices show up), then the digest from the
    database."""
    if poster.connection.status().connected:
        try:
            if poster.changes is not None:  # what changed since the last catch-up
                log.info(
                    "digest: QuickBooks changes: %s",
                    poster.changes.catch_up(trigger="scheduler:digest").summary(),
                )
            else:
                found = poster.sync.reconcile(trigger="scheduler:reconcile")
                log.info("digest: reconcile found %s", plural(len(found), "problem"))
        except (QboError, QbsyncError) as exc:  # the digest still goes out, with what is known
            log.warning("digest: reconcile failed (%s); posting without it", exc)
    return build_digest(poster.engine, today=day, tz=poster.tz, since=since, until=now)


def _post_message(
    poster: DigestPoster,
    digest: Digest,
    day: dt.date,
    *,
    on_demand: bool = False,
    check: ChannelCheck | None = None,
):
    connection = poster.connection.status()
    try:
        return poster.slack.post(
            poster.channel, digest, connection, day=day, tz=poster.tz, on_demand=on_demand
        )
    except ChannelRefused as exc:
        if exc.error not in STOPPING:
            raise
        name = check.state.name if check is not None else None
        state = digest_posts.record_channel(
            poster.engine, ChannelState(poster.channel, name, exc.error, exc.needed)
        )
        raise DigestStopped(named(poster.slack, ChannelCheck(state, blocking=True))) from None


def _upload_chart(poster: DigestPoster, channel: str, day: dt.date, now: dt.datetime) -> str:
    points = open_history(poster.engine, today=day, tz=poster.tz, now=now)
    return poster.slack.upload_chart(channel, day, points)


def _find(poster: DigestPoster, lookup: Callable[..., str | None], day: dt.date, since: dt.datetime | None):
    """What an interrupted run had posted (read back from the channel), or None."""
    oldest = (since or poster.now()) - HISTORY_SLACK
    try:
        return lookup(poster.channel, day, oldest)
    except ChannelRefused as exc:
        log.warning(
            "digest: cannot read %s to check for an interrupted post (%s); posting again may double it",
            poster.channel,
            exc.error,
        )
        return None


def _counts(digest: Digest) -> dict[str, Any]:
    data = digest.to_dict()
    data.pop("oldest", None)
    return data


def _headline(digest: Digest) -> str:
    if digest.open == 0:
        return "all clear"
    amount = money(digest.total_amount)
    return f"{plural(digest.open, 'problem invoice')}, {amount}; {digest.new} new, {digest.resolved} resolved"
