"""``views.open``, ``views.push``, ``views.update`` and ``views.publish``, with trigger ids."""

from __future__ import annotations

import copy
import time
from typing import Any

from emulator.slack.common import USER_ID, ApiError, Context, view_arg
from emulator.slack.model import Trigger

VIEW_STACK_MAX = 3

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
    view = view_arg(args)
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
    view = view_arg(args)
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
    if not USER_ID.fullmatch(user):
        raise ApiError("invalid_arguments", ["[ERROR] missing required field: user_id [json-pointer:/]"])
    view = view_arg(args)
    if view["type"] != "home":
        raise ApiError("invalid_arguments", ["[ERROR] must be one of: home [json-pointer:/view/type]"])
    current = ctx.ws.homes.get(user)
    if current is not None and args.get("hash") and args["hash"] != current["hash"]:
        raise ApiError("hash_conflict")
    stored = _stored_view(ctx, view, id=current["id"] if current else None)
    ctx.ws.homes[user] = stored
    ctx.ws.emit({"type": "home_published", "user": user, "view_id": stored["id"]})
    return {"view": copy.deepcopy(stored)}
