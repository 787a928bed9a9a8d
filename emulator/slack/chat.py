"""``auth.test``, ``chat.*``, ``conversations.*``, ``users.info``, and posts to response URLs."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from emulator.slack.blocks import validate_blocks
from emulator.slack.common import (
    KIND_SCOPES,
    USER_ID,
    ApiError,
    Context,
    add_members,
    bot_message,
    channel_info,
    check_can_post,
    check_can_read,
    decode_json_arg,
    is_member,
    message_blocks,
    message_text,
    require_scope,
    resolve_channel,
    truthy,
    user_info,
    visible_channel,
)
from emulator.slack.model import ResponseUrl

# -- auth, chat, conversations, users ---------------------------------------------------------------------


def auth_test(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Who the token is: its workspace, bot user and bot, and the organization of a workspace in an
    Enterprise Grid (https://docs.slack.dev/reference/methods/auth.test). An org-wide installation's token
    answers for the organization: its id as ``team_id``, ``is_enterprise_install: true`` and the
    organization's URL (as Slack's own SDKs model that answer, e.g. java-slack-sdk's test_locally
    AuditLogsMockApi; Bolt keeps that ``url`` as the installation's ``enterprise_url``)."""
    s = ctx.settings
    out: dict[str, Any] = {
        "url": f"https://{s.team_domain}.slack.com/",
        "team": s.team_name,
        "user": "qbsync",
        "team_id": s.team_id,
        "user_id": s.bot_user_id,
        "bot_id": s.bot_id,
        "is_enterprise_install": False,
    }
    if s.enterprise_id:
        out["enterprise_id"] = s.enterprise_id
    if s.is_enterprise_install and s.enterprise_id:
        domain = s.enterprise_domain or s.enterprise_id.lower()
        out.update(
            url=f"https://{domain}.enterprise.slack.com/",
            team=s.enterprise_name or s.enterprise_id,
            team_id=s.enterprise_id,
            is_enterprise_install=True,
        )
    return out


def chat_post_message(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Needs ``chat:write``; a public channel the app is not in also ``chat:write.public``
    (https://docs.slack.dev/reference/methods/chat.postMessage)."""
    require_scope(ctx, "chat:write")
    channel = resolve_channel(ctx, args)
    check_can_post(ctx, channel, message=True)
    text, blocks = message_text(args), message_blocks(args)
    if not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    message = bot_message(
        ctx, channel, text, blocks, thread_ts=args.get("thread_ts") or None, metadata=_metadata(args)
    )
    ctx.ws.add_message(message)
    return {"channel": channel, "ts": message.ts, "message": message.as_api(ctx.settings.team_id)}


def _metadata(args: dict[str, Any]) -> dict[str, Any] | None:
    try:
        metadata = decode_json_arg(args, "metadata")
    except ValueError as exc:
        raise ApiError("invalid_metadata_format") from exc
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str):
        raise ApiError("invalid_metadata_schema")
    return metadata


def conversations_history(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """The channel's messages, newest first: not deleted, not ephemeral, not thread replies; metadata
    only with ``include_all_metadata``. ``oldest``/``latest`` bound the ts; ``limit`` at most 999.
    Only in a channel the app is in (https://docs.slack.dev/reference/methods/conversations.history)."""
    channel = resolve_channel(ctx, args)
    check_can_read(ctx, channel)
    try:
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
        limit = min(999, max(1, int(args.get("limit") or 100)))
    except ValueError as exc:
        raise ApiError("invalid_arguments") from exc
    with_metadata = truthy(args.get("include_all_metadata"))
    found = []
    for message in reversed(ctx.ws.messages.get(channel, [])):
        if (
            message.deleted
            or message.ephemeral_for
            or (message.thread_ts and message.thread_ts != message.ts)
        ):
            continue
        if not oldest < float(message.ts) <= latest:
            continue
        out = message.as_api(ctx.settings.team_id)
        if with_metadata and message.metadata:
            out["metadata"] = copy.deepcopy(message.metadata)
        found.append(out)
    return {"messages": found[:limit], "has_more": len(found) > limit}


def chat_post_ephemeral(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Needs ``chat:write`` (https://docs.slack.dev/reference/methods/chat.postEphemeral)."""
    require_scope(ctx, "chat:write")
    channel = resolve_channel(ctx, args)
    check_can_post(ctx, channel, message=True)
    user = args.get("user") or ""
    if not USER_ID.fullmatch(user) or ctx.elsewhere("user", user):
        raise ApiError("user_not_found")
    text, blocks = message_text(args), message_blocks(args)
    if not text and not blocks and not args.get("attachments"):
        raise ApiError("no_text")
    message = bot_message(ctx, channel, text, blocks, ephemeral_for=user, thread_ts=args.get("thread_ts"))
    ctx.ws.add_message(message)
    return {"message_ts": message.ts}


def chat_update(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Needs ``chat:write`` (https://docs.slack.dev/reference/methods/chat.update)."""
    require_scope(ctx, "chat:write")
    channel = resolve_channel(ctx, args)
    message = ctx.ws.find_message(channel, args.get("ts") or "")
    if message is None:
        raise ApiError("message_not_found")
    if "text" not in args and "blocks" not in args and "attachments" not in args:
        raise ApiError("no_text")
    text, blocks = message_text(args), message_blocks(args)
    ctx.ws.replace_message(message, text, message.blocks if blocks is None else blocks)
    out = message.as_api(ctx.settings.team_id)
    return {"channel": channel, "ts": message.ts, "text": message.text, "message": out}


def chat_delete(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Needs ``chat:write`` (https://docs.slack.dev/reference/methods/chat.delete)."""
    require_scope(ctx, "chat:write")
    channel = resolve_channel(ctx, args)
    message = ctx.ws.find_message(channel, args.get("ts") or "")
    if message is None:
        raise ApiError("message_not_found")
    ctx.ws.delete_message(message)
    return {"channel": channel, "ts": message.ts}


def chat_get_permalink(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    channel = resolve_channel(ctx, args)
    ts = args.get("message_ts") or ""
    if ctx.ws.find_message(channel, ts) is None:
        raise ApiError("message_not_found")
    link = f"https://{ctx.settings.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    return {"channel": channel, "permalink": link}


def conversations_info(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """``channels:read`` for a public channel, ``groups:read`` for a private one, ``im:read`` for a
    direct message; a private channel the app is not in is ``channel_not_found``
    (https://docs.slack.dev/reference/methods/conversations.info)."""
    channel = resolve_channel(ctx, args)
    record = visible_channel(ctx, channel)
    require_scope(ctx, KIND_SCOPES["read"][record["kind"]])
    return {"channel": channel_info(ctx, channel)}


def conversations_join(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """The app joins a public channel (``channels:join``); a private channel or a direct message is
    ``method_not_supported_for_channel_type``, an archived channel ``is_archived``; already a member:
    ok with the warning ``already_in_channel`` (https://docs.slack.dev/reference/methods/conversations.join)."""
    require_scope(ctx, "channels:join")
    channel = resolve_channel(ctx, args)
    record = visible_channel(ctx, channel)
    if record["kind"] != "public":
        raise ApiError("method_not_supported_for_channel_type")
    if record["is_archived"]:
        raise ApiError("is_archived")
    out: dict[str, Any] = {}
    if is_member(ctx, record):
        out = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
    else:
        stored = ctx.ws.channels.setdefault(channel, {"name": record.get("name")})
        add_members(stored, [ctx.settings.bot_user_id])
        ctx.ws.emit({"type": "member_joined_channel", "channel": channel, "user": ctx.settings.bot_user_id})
    return {"channel": channel_info(ctx, channel), **out}


def conversations_open(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Needs ``im:write`` (https://docs.slack.dev/reference/methods/conversations.open)."""
    require_scope(ctx, "im:write")
    users = [u for u in str(args.get("users") or "").split(",") if u]
    if len(users) != 1:
        raise ApiError("users_list_not_supplied" if not users else "not_implemented")
    user_info(ctx, users[0])
    return {"channel": {"id": "D" + users[0][1:]}}


def users_info(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Needs ``users:read`` (https://docs.slack.dev/reference/methods/users.info)."""
    require_scope(ctx, "users:read")
    return {"user": user_info(ctx, args.get("user") or "")}


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
        message = bot_message(
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
