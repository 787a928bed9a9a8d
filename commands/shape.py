"""A request's shape, checked before Bolt dispatches it (``bot.app.QbsyncApp``): Bolt reads ``actions``,
``view``, ``user`` and the like as Slack sends them, for every middleware and error handler, so a body
of another shape would fail inside Bolt with a 500. Such a body is answered 400 and nothing runs.
Button values that are not text are read as empty."""

from __future__ import annotations

from typing import Any

OBJECTS = ("user", "team", "channel", "container", "message", "view", "event", "enterprise")


def well_formed(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    if any(key in body and body[key] is not None and not isinstance(body[key], dict) for key in OBJECTS):
        return False
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        return (
            isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        )
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        return isinstance(view, dict) and isinstance(view.get("type"), str)
    return True


def text_value(action: dict[str, Any]) -> str:
    value = action.get("value")
    return value if isinstance(value, str) else ""
