"""Posting the daily digest to Slack, exactly once per channel and day.

The scheduler calls :func:`daily_digest` at ``QBSYNC_DIGEST_TIME`` and every few minutes after (so a
digest missed while everything was down, or left half done by a crash, is completed on the next run the
same day). Each step is recorded by ``services.digest.posts`` before the next starts: claim, compose
(after a reconcile), record the intent, post, record the ts, then the chart the same way.

A claim that lapsed after the intent was recorded but before the ts was may have been posted: the
channel is read (``conversations.history`` with message metadata) and a digest found there is adopted
instead of posted again. If the channel cannot be read (the app lacks ``channels:history``), the digest
is posted again and the log says it may be doubled — a lost digest is worse than a repeated one.

The channel is checked first (``conversations.info``): a public channel the app is not in is joined
(``conversations.join``), since ``chat:write.public`` covers the message but not its chart nor reading
the channel back. When Slack refuses the channel or the token (:data:`STOPPING`) the day's digest stops
once — one log line saying what to do, no further reconcile that day — and the next day tries again.
A message that posted is a posted digest: a chart Slack refuses is logged and noted, never a failure.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.views.chart import chart_png
from bot.views.digest import METADATA_EVENT, digest_message, digest_metadata
from services.catalogue import (
    TOKEN_REFUSALS,
    digest_channel_notice,
    digest_chart_missing,
    digest_posted_text,
    money,
    plural,
)
from services.digest import posts as digest_posts
from services.digest.build import Digest, build_digest
from services.digest.history import open_history
from services.digest.posts import ChannelState, ClaimLost, DigestClaim
from services.errors import QbsyncError
from services.quickbooks import QboError

log = logging.getLogger(__name__)

HISTORY_SLACK = dt.timedelta(minutes=2)  # read the channel from a little before the intent
# Slack's answers that no retry today changes: the day's digest stops (once) and the next day tries again.
STOPPING = frozenset({"not_in_channel", "channel_not_found", "is_archived", "missing_scope", *TOKEN_REFUSALS})
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")  # a direct message (D…) is not checked


def slack_error(exc: BaseException) -> tuple[str, str | None]:
    """Slack's error code of a refused call, and the scope it ``needed`` (for ``missing_scope``)."""
    response = getattr(exc, "response", None)
    if isinstance(exc, SlackApiError) and response is not None:
        return str(response.get("error") or "refused"), response.get("needed")
    return type(exc).__name__, None


@dataclass(frozen=True)
class ChannelCheck:
    """What checking the digest channel found. ``blocking``: nothing can be posted there (the day's
    digest stops); ``joined``: the app joined the (public) channel just now."""

    state: ChannelState
    blocking: bool = False
    joined: bool = False
    bot: str = "qbsync"

    @property
    def problem(self) -> str | None:
        return self.state.problem

    def notice(self) -> str:
        """One line for the log and the terminal: what keeps the digest out, and what to do."""
        s = self.state
        return digest_channel_notice(s.problem or "refused", s.label(), bot=self.bot, needed=s.needed)


class DigestStopped(Exception):
    """Slack refused the channel or the token: the day's digest goes no further."""

    def __init__(self, check: ChannelCheck) -> None:
        super().__init__(check.notice())
        self.check = check


def check_channel(client: WebClient, channel: str, *, join: bool = True) -> ChannelCheck:
    """``conversations.info`` on the digest channel, and ``conversations.join`` when it is a public
    channel the app is not in. A channel given by name (not an id) cannot be looked up: unchecked."""
    if not CHANNEL_ID.fullmatch(channel):
        return ChannelCheck(ChannelState(channel))
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        error, needed = slack_error(exc)
        if error not in STOPPING:  # a passing trouble (rate limit, Slack down): try the post anyway
            return ChannelCheck(ChannelState(channel))
        blocking = error != "missing_scope"  # without channels:read the post may still go through
        return _named(client, ChannelCheck(ChannelState(channel, problem=error, needed=needed), blocking))
    name = info.get("name")
    if info.get("is_archived"):
        return _named(client, ChannelCheck(ChannelState(channel, name, "is_archived"), blocking=True))
    if info.get("is_member") or info.get("is_im") or not join:
        return ChannelCheck(ChannelState(channel, name))
    try:
        client.conversations_join(channel=channel)
    except SlackApiError as exc:
        error, needed = slack_error(exc)
        # chat:write.public still carries the message; the chart and the crash check need membership
        state = ChannelState(channel, name, error, needed)
        return _named(client, ChannelCheck(state, blocking=error in STOPPING and error != "missing_scope"))
    log.info("digest: joined #%s (%s) to post the digest there", name, channel)
    return ChannelCheck(ChannelState(channel, name), joined=True)


def _named(client: WebClient, check: ChannelCheck) -> ChannelCheck:
    """The check with the bot's name as Slack shows it (``auth.test``), for "invite @qbsync"."""
    if check.problem in TOKEN_REFUSALS:
        return check
    try:
        name = client.auth_test().get("user") or check.bot
    except Exception:  # the name only makes the advice nicer
        return check
    return ChannelCheck(check.state, check.blocking, check.joined, str(name))


def checked_channel(poster: DigestPoster) -> ChannelCheck:
    """Check the channel, keep what was found (for ``/qbsync status`` and the App Home), and stop the
    digest when nothing can be posted there."""
    check = check_channel(poster.client, poster.channel)
    digest_posts.record_channel(poster.services.engine, check.state)
    if check.blocking:
        raise DigestStopped(check)
    if check.problem:  # the message can still go out (chat:write.public), but say what is missing
        log.warning("%s", check.notice())
    return check


def check_digest_channel(settings: Any, client: WebClient, engine: Any = None) -> ChannelCheck | None:
    """The start-up check of ``serve`` and ``clock``: one log line when the digest cannot reach its
    channel (saying what to do); recorded in the database when ``engine`` is given. Never raises."""
    channel = getattr(settings, "digest_channel", None)
    if not channel:
        return None
    try:
        check = check_channel(client, channel)
    except Exception as exc:
        log.warning("digest channel %s: not checked (%s)", channel, slack_error(exc)[0])
        return None
    if engine is not None:
        try:
            digest_posts.record_channel(engine, check.state)
        except Exception as exc:  # no tables yet (before qbsync db upgrade): the log line still says it
            log.info("digest channel: not recorded in the database (%s)", type(exc).__name__)
    if check.problem:
        log.warning("%s", check.notice())
    return check


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
    answer = _post_message(poster, digest, day, on_demand=True, check=check)
    channel = answer.get("channel") or poster.channel
    done = digest_posted_text(day, channel)
    try:
        _upload_chart(poster, channel, day, now)
    except Exception as exc:
        missing = digest_chart_missing(slack_error(exc)[0])
        log.warning("digest of %s in %s: posted, but %s", day, channel, missing)
        return f"{done.rstrip('.')}; {missing}"
    return done


def _complete(poster: DigestPoster, held: DigestClaim) -> str:
    engine = poster.services.engine
    now = poster.now()
    channel = poster.channel
    done = []
    check = checked_channel(poster)  # before the reconcile: a refused channel costs QuickBooks nothing
    if check.joined:
        done.append(f"joined {check.state.label()}")
    if held.ts is None:
        ts = _find_digest(poster, held) if held.posting_at else None
        if ts is None:
            since = digest_posts.previous_digest_at(engine, channel, held.day) or now - dt.timedelta(days=1)
            digest = _compose(poster, held.day, now, since=since)
            digest_posts.mark_posting(engine, held, _counts(digest))
            answer = _post_message(poster, digest, held.day, check=check)
            ts, channel = answer["ts"], answer.get("channel") or channel
            done.append(f"posted ({_headline(digest)})")
        else:
            done.append("found the message an interrupted run had posted")
        digest_posts.record_ts(engine, held, ts)
    if held.chart_file_id is None:
        file_id = _find_chart(poster, held) if held.chart_posting_at else None
        if file_id is None:
            digest_posts.mark_chart_posting(engine, held)
            try:
                file_id = _upload_chart(poster, channel, held.day, now)
            except Exception as exc:  # the message is out: the digest is posted, without its chart
                error = slack_error(exc)[0]
                log.warning(
                    "digest of %s in %s: posted, but %s", held.day, channel, digest_chart_missing(error)
                )
                digest_posts.record_chart_error(engine, held, error)
                done.append(digest_chart_missing(error))
            else:
                done.append("chart uploaded")
        if file_id is not None:
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


def _post_message(
    poster: DigestPoster,
    digest: Digest,
    day: dt.date,
    *,
    on_demand: bool = False,
    check: ChannelCheck | None = None,
) -> Any:
    connection = poster.services.connection.status()
    body = digest_message(
        digest, connection, tz=poster.tz, connect_url=poster.connect_url, on_demand=on_demand
    )
    try:
        return poster.client.chat_postMessage(
            channel=poster.channel,
            text=body["text"],
            blocks=body["blocks"],
            metadata=digest_metadata(poster.channel, day, on_demand=on_demand),
            unfurl_links=False,
        )
    except SlackApiError as exc:
        error, needed = slack_error(exc)
        if error not in STOPPING:
            raise
        name = check.state.name if check is not None else None
        state = digest_posts.record_channel(
            poster.services.engine, ChannelState(poster.channel, name, error, needed)
        )
        raise DigestStopped(_named(poster.client, ChannelCheck(state, blocking=True))) from None


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
