"""The Web API methods, the response URLs and the file upload URLs, as Slack answers them.

Each method takes the :class:`Context` and the decoded arguments and returns the fields of an
``ok`` answer, or raises :class:`ApiError`. The caller holds the workspace lock.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from emulator.slack.blocks import validate_blocks, validate_view
from emulator.slack.model import Message, ResponseUrl, Trigger, UploadedFile, Workspace

MESSAGE_TEXT_MAX = 40_000
VIEW_STACK_MAX = 3


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


Method = Callable[[Context, dict[str, Any]], dict[str, Any]]

# -- arguments --------------------------------------------------------------------------------------------

_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def truthy(value: Any) -> bool:
    """A boolean as slack_sdk sends it: ``True`` in JSON, ``"1"`` or ``"true"`` in forms."""
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true"))


def decode_json_arg(args: dict[str, Any], key: str) -> Any:
    """``args[key]`` as an object: form bodies carry blocks and views as JSON strings."""
    value = args.get(key)
    if isinstance(value, str):
        return json.loads(value)
    return value


def _blocks(args: dict[str, Any]) -> list[Any] | None:
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


def _view(args: dict[str, Any]) -> dict[str, Any]:
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


def _text(args: dict[str, Any]) -> str:
    text = args.get("text") or ""
    if len(text) > MESSAGE_TEXT_MAX:
        raise ApiError("msg_too_long")
    return text


def _channel(ctx: Context, args: dict[str, Any], key: str = "channel") -> str:
    """A channel id; a user id means the bot's direct message with that user."""
    value = args.get(key) or ""
    if _USER_ID.fullmatch(value):
        return "D" + value[1:]
    if _CHANNEL_ID.fullmatch(value):
        return value
    for channel_id, info in ctx.ws.channels.items():
        if value.lstrip("#") == info.get("name"):
            return channel_id
    raise ApiError("channel_not_found")


def channel_info(ctx: Context, channel_id: str) -> dict[str, Any]:
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
    known = ctx.ws.users.get(user_id)
    if known is None and not _USER_ID.fullmatch(user_id):
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


def _bot_message(ctx: Context, channel: str, text: str, blocks: list[Any] | None, **extra: Any) -> Message:
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


# -- auth, chat, conversations, users ---------------------------------------------------------------------


def auth_test(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    s = ctx.settings
    return {
        "url": f"https://{s.team_domain}.slack.com/",
        "team": s.team_name,
        "user": "qbsync",
        "team_id": s.team_id,
        "user_id": s.bot_user_id,
        "bot_id": s.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(ctx, args)
    text, blocks = _text(args), _blocks(args)
    if not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    message = _bot_message(ctx, channel, text, blocks, thread_ts=args.get("thread_ts") or None)
    ctx.ws.add_message(message)
    return {"channel": channel, "ts": message.ts, "message": message.as_api(ctx.settings.team_id)}


def chat_post_ephemeral(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(ctx, args)
    user = args.get("user") or ""
    if not _USER_ID.fullmatch(user):
        raise ApiError("user_not_found")
    text, blocks = _text(args), _blocks(args)
    if not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    message = _bot_message(ctx, channel, text, blocks, ephemeral_for=user, thread_ts=args.get("thread_ts"))
    ctx.ws.add_message(message)
    return {"message_ts": message.ts}


def chat_update(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(ctx, args)
    message = ctx.ws.find_message(channel, args.get("ts") or "")
    if message is None:
        raise ApiError("message_not_found")
    if "text" not in args and "blocks" not in args and "attachments" not in args:
        raise ApiError("no_text")
    text, blocks = _text(args), _blocks(args)
    ctx.ws.replace_message(message, text, message.blocks if blocks is None else blocks)
    out = message.as_api(ctx.settings.team_id)
    return {"channel": channel, "ts": message.ts, "text": message.text, "message": out}


def chat_delete(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(ctx, args)
    message = ctx.ws.find_message(channel, args.get("ts") or "")
    if message is None:
        raise ApiError("message_not_found")
    ctx.ws.delete_message(message)
    return {"channel": channel, "ts": message.ts}


def chat_get_permalink(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    channel = _channel(ctx, args)
    ts = args.get("message_ts") or ""
    if ctx.ws.find_message(channel, ts) is None:
        raise ApiError("message_not_found")
    link = f"https://{ctx.settings.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    return {"channel": channel, "permalink": link}


def conversations_info(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    return {"channel": channel_info(ctx, _channel(ctx, args))}


def conversations_open(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if len(users) != 1:
        raise ApiError("users_list_not_supplied" if not users else "not_implemented")
    user_info(ctx, users[0])
    return {"channel": {"id": "D" + users[0][1:]}}


def users_info(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    return {"user": user_info(ctx, args.get("user") or "")}


# -- views ------------------------------------------------------------------------------------------------


def _exchange_trigger(ctx: Context, args: dict[str, Any]) -> Trigger:
    trigger = ctx.ws.triggers.get(args.get("trigger_id") or "")
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if time.monotonic() > trigger.expires:
        raise ApiError("expired_trigger_id")
    if trigger.used:
        raise ApiError("exchanged_trigger_id")
    trigger.used = True
    return trigger


def _stored_view(ctx: Context, view: dict[str, Any], **ids: Any) -> dict[str, Any]:
    s = ctx.settings
    stored: dict[str, Any] = {
        "id": ids.get("id") or ctx.ws.ids.view_id(),
        "team_id": s.team_id,
        "type": view["type"],
        "blocks": copy.deepcopy(view.get("blocks", [])),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": view.get("external_id", ""),
        "state": {"values": {}},
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "app_id": s.app_id,
        "bot_id": s.bot_id,
        "app_installed_team_id": s.team_id,
    }
    for key in ("title", "submit", "close"):
        if key in view:
            stored[key] = copy.deepcopy(view[key])
    stored["root_view_id"] = ids.get("root_view_id") or stored["id"]
    stored["previous_view_id"] = ids.get("previous_view_id")
    stored["hash"] = ctx.ws.ids.view_hash(stored)
    return stored


def _modal(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    view = _view(args)
    if view["type"] != "modal":
        raise ApiError("invalid_arguments", ["[ERROR] must be one of: modal [json-pointer:/view/type]"])
    if ctx.ws.external_id_taken(view.get("external_id")):
        raise ApiError("duplicate_external_id")
    return view


def views_open(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    view = _modal(ctx, args)
    trigger = _exchange_trigger(ctx, args)
    stored = _stored_view(ctx, view)
    ctx.ws.modals[trigger.user] = [stored]
    ctx.ws.emit({"type": "view_opened", "user": trigger.user, "view_id": stored["id"]})
    return {"view": copy.deepcopy(stored)}


def views_push(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    view = _modal(ctx, args)
    trigger = _exchange_trigger(ctx, args)
    stack = ctx.ws.modals.get(trigger.user) or []
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= VIEW_STACK_MAX:
        raise ApiError("push_limit_reached")
    stored = _stored_view(ctx, view, root_view_id=stack[0]["id"], previous_view_id=stack[-1]["id"])
    stack.append(stored)
    ctx.ws.emit({"type": "view_pushed", "user": trigger.user, "view_id": stored["id"]})
    return {"view": copy.deepcopy(stored)}


def views_update(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    view = _view(args)
    found = ctx.ws.find_view(args.get("view_id"), args.get("external_id"))
    if found is None:
        raise ApiError("not_found")
    user, current = found
    if view["type"] != current["type"]:
        raise ApiError("invalid_arguments", [f"[ERROR] must be {current['type']} [json-pointer:/view/type]"])
    if args.get("hash") and args["hash"] != current["hash"]:
        raise ApiError("hash_conflict")
    if ctx.ws.external_id_taken(view.get("external_id"), except_id=current["id"]):
        raise ApiError("duplicate_external_id")
    stored = _stored_view(
        ctx,
        view,
        id=current["id"],
        root_view_id=current["root_view_id"],
        previous_view_id=current["previous_view_id"],
    )
    current.clear()
    current.update(stored)
    ctx.ws.emit({"type": "view_updated", "user": user, "view_id": stored["id"]})
    return {"view": copy.deepcopy(stored)}


def views_publish(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    user = args.get("user_id") or ""
    if not _USER_ID.fullmatch(user):
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: user_id [json-pointer:/]"])
    view = _view(args)
    if view["type"] != "home":
        raise ApiError("invalid_arguments", ["[ERROR] must be one of: home [json-pointer:/view/type]"])
    current = ctx.ws.homes.get(user)
    if current is not None and args.get("hash") and args["hash"] != current["hash"]:
        raise ApiError("hash_conflict")
    stored = _stored_view(ctx, view, id=current["id"] if current else None)
    ctx.ws.homes[user] = stored
    ctx.ws.emit({"type": "home_published", "user": user, "view_id": stored["id"]})
    return {"view": copy.deepcopy(stored)}


# -- files ------------------------------------------------------------------------------------------------


def files_get_upload_url_external(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    filename = args.get("filename") or ""
    try:
        length = int(args.get("length") or 0)
    except (TypeError, ValueError):
        length = 0
    if not filename or length <= 0:
        raise ApiError("invalid_arguments", ["[ERROR] filename and a positive length are required"])
    uploaded = UploadedFile(id=ctx.ws.ids.file_id(), filename=filename, length=length)
    ctx.ws.files[uploaded.id] = uploaded
    key = secrets.token_urlsafe(16)
    ctx.ws.uploads[key] = uploaded.id
    return {"upload_url": f"{ctx.settings.base_url}upload/v1/{key}", "file_id": uploaded.id}


def files_complete_upload_external(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    try:
        wanted = decode_json_arg(args, "files")
    except ValueError as exc:
        raise ApiError("invalid_arguments", ["[ERROR] files must be a JSON array"]) from exc
    if not isinstance(wanted, list) or not wanted:
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: files"])
    done: list[UploadedFile] = []
    for item in wanted:
        uploaded = ctx.ws.files.get(item.get("id", "")) if isinstance(item, dict) else None
        if uploaded is None or uploaded.content is None or uploaded.completed:
            raise ApiError("file_not_found")
        done.append(uploaded)
    for uploaded, item in zip(done, wanted, strict=True):
        uploaded.title = item.get("title") or uploaded.filename
        uploaded.completed = True
    channels = [c for c in str(args.get("channels") or "").split(",") if c]
    if args.get("channel_id"):
        channels.insert(0, args["channel_id"])
    for channel in channels:
        message = _bot_message(
            ctx,
            _channel(ctx, {"channel": channel}),
            args.get("initial_comment") or "",
            None,
            thread_ts=args.get("thread_ts") or None,
            files=[f.as_api() for f in done],
        )
        ctx.ws.add_message(message)
    for uploaded in done:
        ctx.ws.emit({"type": "file_shared", "file_id": uploaded.id, "channels": channels})
    return {"files": [f.as_api() for f in done]}


def receive_upload(ctx: Context, key: str, data: bytes) -> tuple[int, str]:
    """A POST to an upload URL: Slack answers ``OK - <bytes>`` as plain text."""
    file_id = ctx.ws.uploads.pop(key, None)
    if file_id is None:
        return 404, "Not Found"
    ctx.ws.files[file_id].content = data
    return 200, f"OK - {len(data)}"


# -- response URLs ----------------------------------------------------------------------------------------


def issue_response_url(
    ctx: Context, channel: str, user: str, message_ts: str | None, ttl: float | None = None
) -> str:
    key = secrets.token_urlsafe(24)
    ctx.ws.response_urls[key] = ResponseUrl(
        key=key,
        channel=channel,
        user=user,
        message_ts=message_ts,
        expires=time.monotonic() + (ctx.settings.response_url_ttl if ttl is None else ttl),
        uses_left=ctx.settings.response_url_uses,
    )
    return f"{ctx.settings.base_url}response/{key}"


def post_to_response_url(ctx: Context, key: str, body: Any) -> tuple[int, dict[str, Any]]:
    """Apply a POST to a response URL: a new message, a replacement, or a deletion."""
    url = ctx.ws.response_urls.get(key)
    if url is None or time.monotonic() > url.expires:
        return 404, {"ok": False, "error": "expired_url"}
    if url.uses_left <= 0:
        return 404, {"ok": False, "error": "used_url"}
    if not isinstance(body, dict):
        return 400, {"ok": False, "error": "invalid_payload"}
    target_ts = url.message_ts or url.last_posted_ts
    target = ctx.ws.find_message(url.channel, target_ts, ephemeral=True) if target_ts else None
    if truthy(body.get("delete_original")):
        if target is None:
            return 404, {"ok": False, "error": "message_not_found"}
        ctx.ws.delete_message(target)
        url.uses_left -= 1
        return 200, {"ok": True}
    blocks = body.get("blocks")
    if blocks is not None:
        errors = validate_blocks(blocks, "message")
        if errors:
            return 400, ApiError("invalid_blocks", errors).body()
    text = body.get("text") or ""
    if not text and not blocks:
        return 400, {"ok": False, "error": "no_text"}
    if truthy(body.get("replace_original")) and target is not None:
        ctx.ws.replace_message(target, text, blocks or [])
    else:
        ephemeral = None if body.get("response_type") == "in_channel" else url.user
        message = _bot_message(
            ctx,
            url.channel,
            text,
            blocks,
            ephemeral_for=ephemeral,
            thread_ts=body.get("thread_ts"),
            via="response_url",
        )
        ctx.ws.add_message(message)
        url.last_posted_ts = message.ts
    url.uses_left -= 1
    return 200, {"ok": True}


METHODS: dict[str, Method] = {
    "api.test": lambda ctx, args: {"args": {k: v for k, v in args.items() if k != "token"}},
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "chat.getPermalink": chat_get_permalink,
    "conversations.info": conversations_info,
    "conversations.open": conversations_open,
    "users.info": users_info,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
}

NO_AUTH = {"api.test"}
