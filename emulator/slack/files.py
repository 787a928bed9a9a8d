"""The three steps of ``WebClient.files_upload_v2``: an upload URL, the bytes, and the completion."""

from __future__ import annotations

import secrets
from typing import Any

from emulator.slack.common import (
    ApiError,
    Context,
    bot_message,
    check_can_post,
    decode_json_arg,
    require_scope,
    resolve_channel,
)
from emulator.slack.model import UploadedFile

# -- files ------------------------------------------------------------------------------------------------


def files_get_upload_url_external(ctx: Context, args: dict[str, Any]) -> dict[str, Any]:
    """Needs ``files:write`` (https://docs.slack.dev/reference/methods/files.getUploadURLExternal)."""
    require_scope(ctx, "files:write")
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
    """Needs ``files:write`` and, to share in a channel, membership: ``chat:write.public`` covers
    messages only, so a public channel the app is not in is ``not_in_channel``
    (https://docs.slack.dev/reference/methods/files.completeUploadExternal)."""
    require_scope(ctx, "files:write")
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
    channels = [c for c in str(args.get("channels") or "").split(",") if c]
    if args.get("channel_id"):
        channels.insert(0, args["channel_id"])
    channels = [resolve_channel(ctx, {"channel": channel}) for channel in channels]
    for channel in channels:
        check_can_post(ctx, channel, message=False)
    for uploaded, item in zip(done, wanted, strict=True):
        uploaded.title = item.get("title") or uploaded.filename
        uploaded.completed = True
    for channel in channels:
        message = bot_message(
            ctx,
            channel,
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
