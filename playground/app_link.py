"""The playground's line to the app: a request as Slack would send it, posted signed to the app's
``/slack/events`` (:class:`AppLink`), and what the app answered (:class:`Answer`); with the two small
readings both the person's side and the page's side need: a Slack timestamp for now, a JSON answer as
a dict."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from emulator.slack import post_to_app

log = logging.getLogger(__name__)


@dataclass
class Answer:
    """What the app answered to one request the page made on a person's behalf."""

    status: int
    body: str
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.status == 200, "status": self.status, "note": self.note}


class AppLink:
    """Posts a request body to the app's ``/slack/events``, signed with the app's signing secret."""

    def __init__(self, events_url: str, secret: str) -> None:
        self.events_url, self.secret = events_url, secret

    def post(self, body: str) -> Answer:
        status, _headers, text = post_to_app(self.events_url, body, self.secret, timeout=15)
        if status != 200:
            log.warning("the app answered HTTP %s: %s", status, text[:200])
        return Answer(status, text)


def now_ts() -> str:
    """Now, as a Slack message timestamp."""
    return f"{time.time():.6f}"


def json_object(text: str) -> dict[str, Any]:
    """The app's answer read as a JSON object; anything else (an empty body, text, a list) is ``{}``."""
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
