"""A verified request's shape, checked before Bolt dispatches it (``bot.app.QbsyncApp``): Bolt and the
listeners read ``user``, ``actions``, ``view``, ``event`` and the like as Slack sends them, so a body of
another shape would fail inside Bolt or a listener. :func:`problem` names what is wrong with one; such
a body is answered 400 and nothing runs.

Every payload type the app listens to is a pydantic model in ``bot.payloads``. A refusal names
where and what (a field's path and pydantic's error type), never a value: payloads are not log material.

The response URLs the app answers through are checked in ``bot.response_urls``; the names the Slack
app and the listeners use are importable from here too."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from bot.payloads import IDS, PAYLOAD, WORDS
from bot.response_urls import (
    allow_api_origin,
    origin_of,
    response_url_allowed,
    response_url_of,
    slack_response_url,
)

# Kept importable from here for the Slack app and the listeners, which import them so.
__all__ = [
    "IDS",
    "allow_api_origin",
    "origin_of",
    "problem",
    "response_url_allowed",
    "response_url_of",
    "slack_response_url",
    "text_value",
    "well_formed",
]


def problem(body: Any) -> str | None:
    """None when ``body`` is shaped as Slack sends it for something the app listens to; else why not,
    from the first thing pydantic found wrong."""
    try:
        PAYLOAD.validate_python(body)
    except ValidationError as exc:
        return _reason(exc.errors(include_url=False, include_context=False, include_input=False)[0])
    return None


def well_formed(body: Any) -> bool:
    return problem(body) is None


def text_value(action: dict[str, Any]) -> str:
    value = action.get("value")
    return value if isinstance(value, str) else ""


def _reason(error: ErrorDetails) -> str:
    """Where and what, from one ``ValidationError`` entry: its ``loc`` and ``type`` (never the input)."""
    parts = [f"[{p}]" if isinstance(p, int) else p if p in WORDS else "*" for p in error["loc"]]
    where = ".".join(parts).replace(".[", "[") or "the body"
    return f"{where}: {error['type']}"
