"""What every Web API method shares: errors, the stand-in's settings, and reading arguments.

A method takes the :class:`Context` and the decoded arguments and returns the fields of an ``ok``
answer, or raises :class:`ApiError`. The caller holds the workspace lock.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from emulator.slack.blocks import validate_blocks, validate_view
from emulator.slack.model import Message, Workspace

MESSAGE_TEXT_MAX = 40_000


class ApiError(Exception):
    """``{"ok": false, "error": error}``, with ``response_metadata.messages`` when there are any."""

    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            out["response_metadata"] = {"messages": self.messages}
        return out


@dataclass
class Settings:
    """Who the stand-in's bot is, and the lifetimes of triggers and response URLs."""

    bot_token: str = "xoxb-test"
    app_token: str = "xapp-1-A0APP0001-0000000001-test"  # app-level, for Socket Mode
    team_id: str = "T0001"
    team_name: str = "qbsync test"
    team_domain: str = "qbsync-test"
    bot_user_id: str = "U0BOT0001"
    bot_id: str = "B0BOT0001"
    app_id: str = "A0APP0001"
    trigger_ttl: float = 3.0
    response_url_ttl: float = 1800.0
    response_url_uses: int = 5
    default_tz: str = "America/Chicago"
    base_url: str = ""


@dataclass
class Context:
    ws: Workspace
    settings: Settings
    socket_url: Callable[[], str] | None = None  # a new Socket Mode connection URL


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


def channel_info(ctx: Context, channel_id: str) -> dict[str, Any]:
    """The channel object of ``conversations.info``: defaults, then what ``add_channel`` said."""
    info = {
        "id": channel_id,
        "name": channel_id.lower(),
        "is_channel": channel_id.startswith("C"),
        "is_group": False,
        "is_im": channel_id.startswith("D"),
        "is_private": channel_id.startswith("G"),
        "is_archived": False,
        "is_member": True,
        "created": 1700000000,
        "context_team_id": ctx.settings.team_id,
    }
    if channel_id.startswith("D"):
        info["user"] = "U" + channel_id[1:]
    info.update(ctx.ws.channels.get(channel_id, {}))
    return info


def user_info(ctx: Context, user_id: str) -> dict[str, Any]:
    """The user object of ``users.info``: any well-formed id is a user; ``add_user`` fills in details."""
    known = ctx.ws.users.get(user_id)
    if known is None and not USER_ID.fullmatch(user_id):
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
