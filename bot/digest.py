"""Posting the daily digest to Slack, exactly once per channel and day.

The scheduler calls :func:`daily_digest` at ``QBSYNC_DIGEST_TIME`` and every few minutes after (so a
digest missed while everything was down, or left half done by a crash, is completed on the next run the
same day). Each step is recorded by ``services.digest_posts`` before the next starts: claim, compose
(after a reconcile), record the intent, post, record the ts, then the chart the same way.

A claim that lapsed after the intent was recorded but before the ts was may have been posted: the
channel is read (``conversations.history`` with message metadata) and a digest found there is adopted
instead of posted again. If the channel cannot be read (the app lacks ``channels:history``), the digest
is posted again and the log says it may be doubled — a lost digest is worse than a repeated one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.views.chart import chart_png
from bot.views.digest import METADATA_EVENT, digest_message, digest_metadata
from services import digest_posts
from services.catalogue import money, plural
from services.digest import Digest, build_digest
from services.digest_history import open_history
from services.digest_posts import ClaimLost, DigestClaim
from services.errors import QbsyncError
from services.quickbooks import QboError

log = logging.getLogger(__name__)

HISTORY_SLACK = dt.timedelta(minutes=2)  # read the channel from a little before the intent


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class DigestPoster:
    """What posting a digest needs: the services, a Slack client, and where and when to post."""

    services: Any
    client: WebClient
    channel: str
    tz: str = "UTC"
    at: dt.time = dt.time(8, 0)
    connect_url: str | None = None
    now: Callable[[], dt.datetime] = field(default=_utcnow)

    @classmethod
    def from_settings(cls, services: Any, client: WebClient, **extra: Any) -> DigestPoster:
        settings = services.settings
        hour, minute = (int(part) for part in settings.digest_time.split(":"))
        extra.setdefault(
            "connect_url", getattr(settings, "connect_url", None)
        )  # {QBSYNC_PUBLIC_URL}/qbo/connect
        return cls(
            services, client, settings.digest_channel or "", settings.timezone, dt.time(hour, minute), **extra
        )


def daily_digest(poster: DigestPoster) -> str:
    """The scheduler's job: today's digest, once, if its time has come. Returns what it did, in words."""
    if not poster.channel:
        return "no QBSYNC_DIGEST_CHANNEL: no digest"
    now = poster.now()
    local = now.astimezone(ZoneInfo(poster.tz))
    if local.time() < poster.at:
        return f"not yet: the digest of {local.date()} is due at {poster.at:%H:%M} {poster.tz}"
    day = local.date()
    engine = poster.services.engine
    held = digest_posts.claim(engine, poster.channel, day, now=now)
    if held is None:
        return f"digest of {day} in {poster.channel}: already posted, or being posted by another process"
    try:
        return _complete(poster, held)
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
    digest = _compose(poster, day, now, since=None)
    answer = _post_message(poster, digest, day, on_demand=True)
    channel = answer.get("channel") or poster.channel
    _upload_chart(poster, channel, day, now)
    return f"posted the digest of {day} to {channel} (ts {answer['ts']})"


def _complete(poster: DigestPoster, held: DigestClaim) -> str:
    engine = poster.services.engine
    now = poster.now()
    channel = poster.channel
    done = []
    if held.ts is None:
        ts = _find_digest(poster, held) if held.posting_at else None
        if ts is None:
            since = digest_posts.previous_digest_at(engine, channel, held.day) or now - dt.timedelta(days=1)
            digest = _compose(poster, held.day, now, since=since)
            digest_posts.mark_posting(engine, held, _counts(digest))
            answer = _post_message(poster, digest, held.day)
            ts, channel = answer["ts"], answer.get("channel") or channel
            done.append(f"posted ({_headline(digest)})")
        else:
            done.append("found the message an interrupted run had posted")
        digest_posts.record_ts(engine, held, ts)
    if held.chart_file_id is None:
        file_id = _find_chart(poster, held) if held.chart_posting_at else None
        if file_id is None:
            digest_posts.mark_chart_posting(engine, held)
            file_id = _upload_chart(poster, channel, held.day, now)
            done.append("chart uploaded")
        digest_posts.record_chart(engine, held, file_id)
    digest_posts.finish(engine, held)
    return f"digest of {held.day} in {poster.channel}: " + ", ".join(done or ["finished"])


def _compose(poster: DigestPoster, day: dt.date, now: dt.datetime, *, since: dt.datetime | None) -> Digest:
    """Reconcile first (deleted or drifted invoices show up), then the digest from the database."""
    services = poster.services
    if services.connection.status().connected:
        try:
            found = services.sync.reconcile(trigger="scheduler:reconcile")
            log.info("digest: reconcile found %s", plural(len(found), "problem"))
        except (QboError, QbsyncError) as exc:  # the digest still goes out, with what is known
            log.warning("digest: reconcile failed (%s); posting without it", exc)
    return build_digest(services.engine, today=day, tz=poster.tz, since=since, until=now)


def _post_message(poster: DigestPoster, digest: Digest, day: dt.date, *, on_demand: bool = False) -> Any:
    connection = poster.services.connection.status()
    body = digest_message(
        digest, connection, tz=poster.tz, connect_url=poster.connect_url, on_demand=on_demand
    )
    return poster.client.chat_postMessage(
        channel=poster.channel,
        text=body["text"],
        blocks=body["blocks"],
        metadata=digest_metadata(poster.channel, day, on_demand=on_demand),
        unfurl_links=False,
    )


def _upload_chart(poster: DigestPoster, channel: str, day: dt.date, now: dt.datetime) -> str:
    points = open_history(poster.services.engine, today=day, tz=poster.tz, now=now)
    last = points[-1]
    answer = poster.client.files_upload_v2(
        channel=channel,
        content=chart_png(points),
        filename=chart_filename(day),
        title=f"Open problem invoices, {points[0].day:%b %d} – {day:%b %d}",
        alt_txt=(
            f"Chart of open problem invoices over the last {len(points)} days; "
            f"today {last.open}, {money(last.amount)} held up."
        ),
    )
    return answer["file"]["id"]


def chart_filename(day: dt.date) -> str:
    return f"qbsync-digest-{day.isoformat()}.png"


def _find_digest(poster: DigestPoster, held: DigestClaim) -> str | None:
    """The ts of the day's digest if an interrupted run posted it (read from the channel)."""
    for message in _history(poster, held.posting_at):
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if (
            metadata.get("event_type") == METADATA_EVENT
            and payload.get("day") == held.day.isoformat()
            and not payload.get("on_demand")
        ):
            log.warning("digest of %s: an interrupted run had posted it (ts %s)", held.day, message["ts"])
            return message["ts"]
    return None


def _find_chart(poster: DigestPoster, held: DigestClaim) -> str | None:
    name = chart_filename(held.day)
    for message in _history(poster, held.chart_posting_at):
        for uploaded in message.get("files") or []:
            if uploaded.get("name") == name:
                return uploaded["id"]
    return None


def _history(poster: DigestPoster, since: dt.datetime | None) -> list[dict[str, Any]]:
    oldest = ((since or poster.now()) - HISTORY_SLACK).timestamp()
    try:
        answer = poster.client.conversations_history(
            channel=poster.channel, oldest=f"{oldest:.6f}", include_all_metadata=True, limit=200
        )
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "refused"
        log.warning(
            "digest: cannot read %s to check for an interrupted post (%s); posting again may double it",
            poster.channel,
            error,
        )
        return []
    return list(answer.get("messages") or [])


def _counts(digest: Digest) -> dict[str, Any]:
    data = digest.to_dict()
    data.pop("oldest", None)
    return data


def _headline(digest: Digest) -> str:
    if digest.open == 0:
        return "all clear"
    amount = money(digest.total_amount)
    return f"{plural(digest.open, 'problem invoice')}, {amount}; {digest.new} new, {digest.resolved} resolved"
