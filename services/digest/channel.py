"""The digest's channel, seen from the domain: the port that ``bot/`` implements with Slack's Web API
(:class:`DigestChannel`), what checking the channel found (:class:`ChannelCheck`), and the check itself.

The channel is checked first (its info): a public channel the app is not in is joined, since
``chat:write.public`` covers the message but not its chart nor reading the channel back. When Slack
refuses the channel or the token (:data:`STOPPING`) nothing can be posted there today.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from services.catalogue import TOKEN_REFUSALS, digest_channel_notice
from services.digest import posts as digest_posts
from services.digest.posts import ChannelState

log = logging.getLogger(__name__)

# Slack's answers that no retry today changes: the day's digest stops (once) and the next day tries again.
STOPPING = frozenset({"not_in_channel", "channel_not_found", "is_archived", "missing_scope", *TOKEN_REFUSALS})
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")  # a direct message (D…) is not checked


class ChannelRefused(Exception):
    """The chat service refused a call: its error code, and the scope it ``needed`` (``missing_scope``)."""

    def __init__(self, error: str, needed: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.needed = needed


@dataclass(frozen=True)
class ChannelInfo:
    name: str | None
    is_member: bool = False
    is_archived: bool = False
    is_direct: bool = False


@dataclass(frozen=True)
class Posted:
    ts: str
    channel: str


class DigestChannel(Protocol):
    """What posting a digest needs of the chat service. Every method raises :class:`ChannelRefused`
    when the service refuses the call; anything else (the service out of reach) passes through."""

    token: str | None  # the credential in use, to skip calls while the app is known to be uninstalled

    def info(self, channel: str) -> ChannelInfo: ...

    def join(self, channel: str) -> None: ...

    def bot_name(self) -> str | None: ...

    def post(
        self, channel: str, digest: Any, connection: Any, *, day: dt.date, tz: str, on_demand: bool
    ) -> Posted:
        """Post the digest message, carrying ``day`` so it can be found again."""
        ...

    def upload_chart(self, channel: str, day: dt.date, points: Sequence[Any]) -> str:
        """Upload the day's chart of ``points``; returns the file id."""
        ...

    def posted_digest(self, channel: str, day: dt.date, oldest: dt.datetime) -> str | None:
        """The ts of the day's (not on-demand) digest posted since ``oldest``, if any."""
        ...

    def posted_chart(self, channel: str, day: dt.date, oldest: dt.datetime) -> str | None:
        """The file id of the day's chart posted since ``oldest``, if any."""
        ...


def refusal(exc: BaseException) -> tuple[str, str | None]:
    """The error code of a refused call and the scope it needed; the exception's type otherwise."""
    if isinstance(exc, ChannelRefused):
        return exc.error, exc.needed
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
    """The chat service refused the channel or the token: the day's digest goes no further."""

    def __init__(self, check: ChannelCheck) -> None:
        super().__init__(check.notice())
        self.check = check


def check_channel(slack: DigestChannel, channel: str, *, join: bool = True) -> ChannelCheck:
    """The channel's info, and joining it when it is a public channel the app is not in. A channel
    given by name (not an id) cannot be looked up: unchecked."""
    if not CHANNEL_ID.fullmatch(channel):
        return ChannelCheck(ChannelState(channel))
    try:
        info = slack.info(channel)
    except ChannelRefused as exc:
        if exc.error not in STOPPING:  # a passing trouble (rate limit, Slack down): try the post anyway
            return ChannelCheck(ChannelState(channel))
        blocking = exc.error != "missing_scope"  # without channels:read the post may still go through
        return named(
            slack, ChannelCheck(ChannelState(channel, problem=exc.error, needed=exc.needed), blocking)
        )
    if info.is_archived:
        return named(slack, ChannelCheck(ChannelState(channel, info.name, "is_archived"), blocking=True))
    if info.is_member or info.is_direct or not join:
        return ChannelCheck(ChannelState(channel, info.name))
    try:
        slack.join(channel)
    except ChannelRefused as exc:
        # chat:write.public still carries the message; the chart and the crash check need membership
        state = ChannelState(channel, info.name, exc.error, exc.needed)
        return named(
            slack, ChannelCheck(state, blocking=exc.error in STOPPING and exc.error != "missing_scope")
        )
    log.info("digest: joined #%s (%s) to post the digest there", info.name, channel)
    return ChannelCheck(ChannelState(channel, info.name), joined=True)


def named(slack: DigestChannel, check: ChannelCheck) -> ChannelCheck:
    """The check with the bot's name as the chat service shows it, for "invite @qbsync"."""
    if check.problem in TOKEN_REFUSALS:
        return check
    try:
        name = slack.bot_name() or check.bot
    except Exception:  # the name only makes the advice nicer
        return check
    return ChannelCheck(check.state, check.blocking, check.joined, str(name))


def check_digest_channel(
    channel: str | None, slack: DigestChannel, engine: Any = None
) -> ChannelCheck | None:
    """The start-up check of ``serve`` and ``clock``: one log line when the digest cannot reach its
    channel (saying what to do); recorded in the database when ``engine`` is given. Never raises."""
    if not channel:
        return None
    try:
        check = check_channel(slack, channel)
    except Exception as exc:
        log.warning("digest channel %s: not checked (%s)", channel, refusal(exc)[0])
        return None
    if engine is not None:
        try:
            digest_posts.record_channel(engine, check.state)
        except Exception as exc:  # no tables yet (before qbsync db upgrade): the log line still says it
            log.info("digest channel: not recorded in the database (%s)", type(exc).__name__)
    if check.problem:
        log.warning("%s", check.notice())
    return check
