"""Slack's rate limits, as the stand-in applies them when asked (``SlackStandIn(rate_tiers=True)``).

Slack limits each Web API method per app and workspace by tier, and ``chat.postMessage`` per channel
(https://api.slack.com/apis/rate-limits, https://docs.slack.dev/apis/web-api/rate-limits,
https://api.slack.com/changelog/2018-03-great-rate-limits):

| tier | allows |
|---|---|
| Tier 1 | 1+ per minute |
| Tier 2 | 20+ per minute |
| Tier 3 | 50+ per minute (``chat.update``, ``chat.delete``, ``conversations.*``) |
| Tier 4 | 100+ per minute (``views.*``, ``users.info``, ``chat.postEphemeral``, ``files.*External``) |
| special | ``chat.postMessage``: about one message per second per channel, short bursts allowed |

A call over its limit is answered HTTP 429 with ``Retry-After`` (whole seconds) and
``{"ok": false, "error": "ratelimited"}``; refused calls do not count. The lower bounds are used as the
limits. ``minute`` scales time so tests run in seconds: with ``minute=6``, Tier 3 allows 50 calls in
any 6 s and ``chat.postMessage`` one per 0.1 s per channel.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}

TIERS: dict[str, int] = {  # each method's tier, from its page at https://api.slack.com/methods/<name>
    "apps.connections.open": 1,
    "auth.test": 4,  # "special": generous
    "api.test": 4,  # "special": generous
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.getPermalink": 4,  # "special": generous
    "conversations.history": 3,  # internal and Marketplace apps
    "conversations.info": 3,
    "conversations.open": 3,
    "users.info": 4,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
}
DEFAULT_TIER = 3
PER_CHANNEL = "chat.postMessage"  # one per second per channel
BURST = 3  # messages a channel takes at once before the one-per-second pace applies


class RateTiers:
    """Counts calls per method (and ``chat.postMessage`` per channel) over a sliding ``minute``."""

    def __init__(self, minute: float = 60.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if minute <= 0:
            raise ValueError("minute must be positive")
        self.minute = minute
        self.clock = clock
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {}
        self._channels: dict[str, tuple[float, float]] = {}  # channel: (tokens, when counted)

    def limit(self, method: str) -> int:
        """Calls allowed per minute for ``method``."""
        return PER_MINUTE[TIERS.get(method, DEFAULT_TIER)]

    def check(self, method: str, args: dict[str, Any]) -> int | None:
        """Count a call of ``method``; the Retry-After (seconds) when it is over its limit, else None."""
        with self._lock:
            if method == PER_CHANNEL:
                return self._per_channel(str(args.get("channel") or ""))
            return self._per_method(method)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._channels.clear()

    def _per_method(self, method: str) -> int | None:
        now = self.clock()
        calls = self._calls.setdefault(method, deque())
        while calls and calls[0] <= now - self.minute:
            calls.popleft()
        if len(calls) >= self.limit(method):
            return _seconds(calls[0] + self.minute - now)
        calls.append(now)
        return None

    def _per_channel(self, channel: str) -> int | None:
        now = self.clock()
        second = self.minute / 60.0
        tokens, then = self._channels.get(channel, (float(BURST), now))
        tokens = min(float(BURST), tokens + (now - then) / second)
        if tokens < 1.0:
            self._channels[channel] = (tokens, now)
            return _seconds((1.0 - tokens) * second)
        self._channels[channel] = (tokens - 1.0, now)
        return None


def _seconds(wait: float) -> int:
    """Retry-After is whole seconds, at least one."""
    return max(1, math.ceil(wait))
