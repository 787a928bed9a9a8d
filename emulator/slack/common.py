"""What every Web API method shares: errors, a workspace's settings, and reading arguments.

A method takes the :class:`Context` of the workspace (team) its token belongs to and the decoded
arguments, and returns the fields of an ``ok`` answer, or raises :class:`ApiError`. The caller holds
that workspace's lock. Channel and user ids are unique across Slack: :class:`Claims` remembers which
workspace each one belongs to, so another workspace's channel or user is "not found" here.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from emulator.slack.blocks import validate_blocks, validate_view
from emulator.slack.model import Message, Workspace

MESSAGE_TEXT_MAX = 40_000


class ApiError(Exception):
    """``{"ok": false, "error": error}``, with ``response_metadata.messages`` when there are any, and
    any further top-level fields (``missing_scope`` carries ``needed`` and ``provided``)."""

    def __init__(self, error: str, messages: list[str] | None = None, **fields: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.fields = fields

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error": self.error, **self.fields}
        if self.messages:
            out["response_metadata"] = {"messages": self.messages}
        return out


MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


@lru_cache(maxsize=1)
def manifest_bot_scopes() -> frozenset[str]:
    """The bot scopes ``manifest.yml`` asks for: what a token of a correct installation holds."""
    # imported when used, to keep start-up fast; pyyaml is also only a dev dependency (pyproject)
    import yaml

    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


@dataclass
class Settings:
    """One workspace's settings: who the app's bot is there, its token and scopes, and the lifetimes of
    triggers and response URLs. Every workspace of a stand-in has its own copy; the app-level fields
    (``app_token``, ``app_id``, ``client_id``, ``client_secret``, ``redirect_urls``, ``code_ttl``,
    ``base_url``) are the same in all of them and read from the first workspace's."""

    bot_token: str = "xoxb-test"
    app_token: str = "xapp-1-A0APP0001-0000000001-test"  # app-level, for Socket Mode
    team_id: str = "T0001"
    team_name: str = "qbsync test"
    team_domain: str = "qbsync-test"
    enterprise_id: str | None = None  # the Enterprise Grid organization the workspace belongs to
    enterprise_name: str | None = None
    enterprise_domain: str | None = None
    # The token is the organization's org-wide installation's, used in this (member) workspace: auth.test
    # answers for the organization (:mod:`.enterprise`).
    is_enterprise_install: bool = False
    bot_user_id: str = "U0BOT0001"
    bot_id: str = "B0BOT0001"
    app_id: str = "A0APP0001"
    # The app's credentials for OAuth (``oauth.v2.access``), and the Redirect URLs of its settings page
    # (empty: any ``redirect_uri`` is taken, and one must be given at the authorize step).
    client_id: str = "1111.2222"
    client_secret: str = "standin-client-secret"
    redirect_urls: tuple[str, ...] = ()
    code_ttl: float = 600.0  # an OAuth code is exchanged within ten minutes, once
    trigger_ttl: float = 3.0
    response_url_ttl: float = 1800.0
    response_url_uses: int = 5
    default_tz: str = "America/Chicago"
    base_url: str = ""
    # The bot token's scopes (``None``: the bot scopes of manifest.yml, as a correct installation has).
    scopes: frozenset[str] | None = None
    # A channel id nobody described with ``add_channel`` is a public (C…) or private (G…) channel the app
    # was invited to. ``False``: such ids are ``channel_not_found``, as in a real workspace.
    implicit_channels: bool = True
    granted: frozenset[str] = field(default_factory=frozenset, init=False)

    def __post_init__(self) -> None:
        self.granted = frozenset(manifest_bot_scopes() if self.scopes is None else self.scopes)


class Claims:
    """Which workspace each channel and user id belongs to (ids are unique across Slack). A channel is
    claimed when a workspace describes it or first uses it implicitly, a user when a workspace describes
    it with ``add_user``. Thread-safe; its lock is taken last (never while waiting for another)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owners: dict[tuple[str, str], str] = {}

    def owner(self, kind: str, ident: str) -> str | None:
        with self._lock:
            return self._owners.get((kind, ident))

    def claim(self, kind: str, ident: str, team_id: str) -> bool:
        """Claim the id for ``team_id``; ``False`` when another workspace has it."""
        with self._lock:
            return self._owners.setdefault((kind, ident), team_id) == team_id

    def release(self, kind: str, ident: str, team_id: str) -> None:
        with self._lock:
            if self._owners.get((kind, ident)) == team_id:
                del self._owners[(kind, ident)]

    def release_team(self, team_id: str) -> None:
        with self._lock:
            self._owners = {key: owner for key, owner in self._owners.items() if owner != team_id}


@dataclass
class Context:
    """What a method works on: the workspace of the token, its settings, and the ids other workspaces
    hold (``claims``; ``None``: no other workspace)."""

    ws: Workspace
    settings: Settings
    socket_url: Callable[[], str] | None = None  # a new Socket Mode connection URL
    claims: Claims | None = None

    def elsewhere(self, kind: str, ident: str) -> bool:
        """Whether the channel or user id belongs to another workspace."""
        if self.claims is None:
            return False
        owner = self.claims.owner(kind, ident)
        return owner is not None and owner != self.settings.team_id

    def claim_channel(self, channel_id: str) -> bool:
        """Claim an implicitly used channel for this workspace; ``False``: another workspace's."""
        return self.claims is None or self.claims.claim("channel", channel_id, self.settings.team_id)


Method = Callable[[Context, dict[str, Any]], dict[str, Any]]

# -- arguments --------------------------------------------------------------------------------------------

CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def truthy(value: Any) -> bool:
    """A boolean as slack_sdk sends it: ``True`` in JSON, ``"1"`` or ``"true"`` in forms."""
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true"))


def decode_json_arg(args: dict[str, Any], key: str) -> Any:
    """``args[key]`` as an object: form bodies carry blocks and views as JSON strings."""
    value = args.get(key)
    if isinstance(value, str):
        return json.loads(value)
    return value


def message_blocks(args: dict[str, Any]) -> list[Any] | None:
    """A message's ``blocks`` argument, decoded and checked (``None`` when absent)."""
    try:
        blocks = decode_json_arg(args, "blocks")
    except ValueError as exc:
        raise ApiError("invalid_blocks_format") from exc
    if blocks is None:
        return None
    errors = validate_blocks(blocks, "message")
    if errors:
        raise ApiError("invalid_blocks", errors)
    return blocks


def view_arg(args: dict[str, Any]) -> dict[str, Any]:
    """The ``view`` argument, decoded and checked; refusals are ``invalid_arguments``."""
    try:
        view = decode_json_arg(args, "view")
    except ValueError as exc:
        raise ApiError("invalid_arguments", ["[ERROR] failed to parse json [json-pointer:/view]"]) from exc
    if view is None:
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: view [json-pointer:/]"])
    errors = validate_view(view)
    if errors:
        raise ApiError("invalid_arguments", errors)
    return view


def message_text(args: dict[str, Any]) -> str:
    """The ``text`` argument (``""`` when absent); over 40,000 characters is ``msg_too_long``."""
    text = args.get("text") or ""
    if len(text) > MESSAGE_TEXT_MAX:
        raise ApiError("msg_too_long")
    return text


def resolve_channel(ctx: Context, args: dict[str, Any], key: str = "channel") -> str:
    """A channel id; a user id means the bot's direct message with that user."""
    value = args.get(key) or ""
    if USER_ID.fullmatch(value):
        return "D" + value[1:]
    if CHANNEL_ID.fullmatch(value):
        return value
    for channel_id, info in ctx.ws.channels.items():
        if value.lstrip("#") == info.get("name"):
            return channel_id
    raise ApiError("channel_not_found")


# -- scopes and channel membership ------------------------------------------------------------------------
#
# Slack answers a method called without its scope with ``missing_scope``, naming the scope ``needed`` and
# the token's scopes ``provided`` (https://docs.slack.dev/apis/web-api/#scopes ; each method's page lists
# its scopes, e.g. https://docs.slack.dev/reference/methods/conversations.info). Channels are public or
# private, may be archived, and have members; the app's bot user is a member only where it joined
# (``conversations.join``, public channels only) or was invited.

KIND_SCOPES = {  # the scope a method needs, by the kind of conversation it is used on
    "read": {"public": "channels:read", "private": "groups:read", "im": "im:read"},
    "history": {"public": "channels:history", "private": "groups:history", "im": "im:history"},
}


def require_scope(ctx: Context, *needed: str) -> None:
    """``missing_scope`` unless the bot token holds one of ``needed``."""
    granted = ctx.settings.granted
    if needed and not granted.intersection(needed):
        raise ApiError("missing_scope", needed=",".join(needed), provided=",".join(sorted(granted)))


def channel_record(ctx: Context, channel_id: str) -> dict[str, Any]:
    """The channel as the workspace knows it: kind, archived, members. A direct message is the bot's own.
    An id nobody described is, with ``implicit_channels``, a channel the app was invited to; without
    it, ``channel_not_found``."""
    if channel_id.startswith("D"):
        if ctx.elsewhere("user", "U" + channel_id[1:]):  # a direct message with another workspace's user
            raise ApiError("channel_not_found")
        return {"name": channel_id.lower(), "kind": "im", "is_archived": False, "members": None}
    known = ctx.ws.channels.get(channel_id)
    if known is None:
        if not ctx.settings.implicit_channels or not ctx.claim_channel(channel_id):
            raise ApiError("channel_not_found")
        known = {
            "name": channel_id.lower(),
            "is_private": channel_id.startswith("G"),
            "members": [ctx.settings.bot_user_id],
        }
    kind = "private" if known.get("is_private") else "public"
    return {**known, "kind": kind, "is_archived": bool(known.get("is_archived"))}


def is_member(ctx: Context, record: dict[str, Any]) -> bool:
    members = record.get("members")
    return members is None or ctx.settings.bot_user_id in members


def visible_channel(ctx: Context, channel_id: str) -> dict[str, Any]:
    """The record of a channel the app may see: a private channel it was not invited to is
    ``channel_not_found`` to every method (https://docs.slack.dev/reference/methods/conversations.info)."""
    record = channel_record(ctx, channel_id)
    if record["kind"] == "private" and not is_member(ctx, record):
        raise ApiError("channel_not_found")
    return record


def check_can_post(ctx: Context, channel_id: str, *, message: bool) -> dict[str, Any]:
    """Posting in a channel: archived is ``is_archived``; a public channel the app is not in takes a
    ``message`` only with ``chat:write.public``, anything else (a file) is ``not_in_channel``.

    https://docs.slack.dev/reference/methods/chat.postMessage (errors ``not_in_channel``,
    ``is_archived``, ``channel_not_found``); https://docs.slack.dev/reference/scopes/chat.write.public
    ("Send messages to channels your Slack app isn't a member of" — messages only);
    https://docs.slack.dev/reference/methods/files.completeUploadExternal (``not_in_channel``)."""
    record = visible_channel(ctx, channel_id)
    if record["is_archived"]:
        raise ApiError("is_archived")
    outside = record["kind"] == "public" and not is_member(ctx, record)
    if outside and not (message and "chat:write.public" in ctx.settings.granted):
        raise ApiError("not_in_channel")
    return record


def check_can_read(ctx: Context, channel_id: str) -> dict[str, Any]:
    """Reading a channel's history needs membership and ``channels:history`` / ``groups:history`` /
    ``im:history`` by kind (https://docs.slack.dev/reference/methods/conversations.history; "View
    messages and other content in public channels that your Slack app has been added to":
    https://docs.slack.dev/reference/scopes/channels.history)."""
    record = visible_channel(ctx, channel_id)
    require_scope(ctx, KIND_SCOPES["history"][record["kind"]])
    if not is_member(ctx, record):
        raise ApiError("not_in_channel")
    return record


def channel_info(ctx: Context, channel_id: str) -> dict[str, Any]:
    """The channel object of ``conversations.info`` (https://docs.slack.dev/reference/objects/conversation-object)."""
    record = channel_record(ctx, channel_id)
    info: dict[str, Any] = {
        "id": channel_id,
        "name": record.get("name") or channel_id.lower(),
        "is_channel": record["kind"] == "public",
        "is_group": record["kind"] == "private",
        "is_im": record["kind"] == "im",
        "is_private": record["kind"] != "public",
        "is_archived": record["is_archived"],
        "is_member": is_member(ctx, record),
        "created": 1700000000,
        "context_team_id": ctx.settings.team_id,
    }
    if channel_id.startswith("D"):
        info["user"] = "U" + channel_id[1:]
        info.pop("name")
    skip = {"kind", "members", "name", "is_private", "is_archived"}
    info.update({k: v for k, v in record.items() if k not in skip})
    return info


def add_members(record: dict[str, Any], users: Iterable[str]) -> None:
    members = record.setdefault("members", [])
    for user in users:
        if user not in members:
            members.append(user)


def user_info(ctx: Context, user_id: str) -> dict[str, Any]:
    """The user object of ``users.info``: any well-formed id is a user (unless another workspace described
    it with ``add_user``); ``add_user`` fills in details."""
    known = ctx.ws.users.get(user_id)
    if known is None and (not USER_ID.fullmatch(user_id) or ctx.elsewhere("user", user_id)):
        raise ApiError("user_not_found")
    known = known or {}
    tz = known.get("tz", ctx.settings.default_tz)
    offset = datetime.now(ZoneInfo(tz)).utcoffset()
    real_name = known.get("real_name", f"User {user_id}")
    return {
        "id": user_id,
        "team_id": ctx.settings.team_id,
        "name": known.get("name", user_id.lower()),
        "real_name": real_name,
        "deleted": False,
        "is_bot": user_id == ctx.settings.bot_user_id,
        "is_admin": known.get("is_admin", False),
        "tz": tz,
        "tz_label": tz,
        "tz_offset": int(offset.total_seconds()) if offset else 0,
        "profile": {
            "real_name": real_name,
            "display_name": known.get("display_name", real_name),
            "email": known.get("email", f"{user_id.lower()}@example.com"),
        },
    }


def bot_message(ctx: Context, channel: str, text: str, blocks: list[Any] | None, **extra: Any) -> Message:
    """A new message from the bot with the next timestamp (not yet stored)."""
    s = ctx.settings
    return Message(
        channel=channel,
        ts=ctx.ws.ids.ts(),
        text=text,
        blocks=copy.deepcopy(blocks or []),
        user=s.bot_user_id,
        bot_id=s.bot_id,
        **extra,
    )
