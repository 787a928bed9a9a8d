"""Throttling, artificial latency, random and scripted fault injection, and request statistics.

* Rate limit: at most ``rate_limit`` accepted requests per realm in any sliding window of one
  (scaled) minute; more -> HTTP 429 fault 3001.
* Batch rate limit: at most ``batch_rate_limit`` batch requests per realm in any sliding (scaled)
  minute, on top of the request limit; more -> 429.
* Concurrency: at most ``concurrency_limit`` requests of a realm in flight; more -> 429.
* A 429 from a rate limit carries ``Retry-After``: the whole seconds until the window lets one more
  request through (scaled, at least 1).
* Random faults: each API request fails with probability ``fault_rate``, as a 500 Fault, a 503
  HTML page or a dropped connection; the draws come from ``random.Random(seed)`` so a run with
  the same seed and the same request order fails the same requests.
* Scripted faults: ``{"method", "path_contains", "kind", "count", "ms"}`` -- the next ``count``
  matching requests fail as ``kind`` (500, 503, 429, drop, drop_after_commit, latency,
  latency_after_commit: the operation is done, then the answer waits ``ms``; fault: a Fault with
  the given ``code``, ``message``, ``detail``, ``element`` and ``status``, for company states the
  emulator does not model, such as a closed accounting period, 6210).
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from emulator.config import EmulatorConfig

FAULT_KINDS = ("500", "503", "429", "drop", "drop_after_commit", "latency", "latency_after_commit", "fault")
RANDOM_KINDS = ("500", "503", "drop")


class RateLimiter:
    """Sliding-window request counter per realm."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, realm_id: str, limit: int, window: float) -> bool:
        return self.wait_for(realm_id, limit, window) == 0.0

    def wait_for(self, realm_id: str, limit: int, window: float) -> float:
        """0.0 and the request counted, or the seconds until the window has room (nothing counted)."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[realm_id]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return max(hits[0] + window - now, 1e-3)
            hits.append(now)
            return 0.0

    def forget_last(self, realm_id: str) -> None:
        """Uncount the newest request (it was refused by a later gate)."""
        with self._lock:
            hits = self._hits[realm_id]
            if hits:
                hits.pop()

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


class ConcurrencyLimiter:
    """Counts requests in flight per realm."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[str, int] = defaultdict(int)

    def acquire(self, realm_id: str, limit: int) -> int:
        """The number in flight with this one, or 0 when the limit is reached (nothing counted)."""
        with self._lock:
            if self._active[realm_id] >= limit:
                return 0
            self._active[realm_id] += 1
            return self._active[realm_id]

    def release(self, realm_id: str) -> None:
        with self._lock:
            self._active[realm_id] = max(0, self._active[realm_id] - 1)


@dataclass
class ScriptedFault:
    kind: str
    count: int = 1
    method: str | None = None
    path_contains: str | None = None
    ms: int = 0
    fault: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScriptedFault:
        if not isinstance(data, dict):
            raise ValueError("a fault must be a JSON object")
        kind = str(data.get("kind", ""))
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        count = int(data.get("count", 1))
        ms = int(data.get("ms", 0))
        if count < 1 or ms < 0:
            raise ValueError("count must be >= 1 and ms >= 0")
        method = data.get("method")
        fault: dict[str, Any] = {}
        if kind == "fault":
            code = str(data.get("code", "")).strip()
            if not code.isdigit():
                raise ValueError("a 'fault' needs a numeric QuickBooks error code")
            status = int(data.get("status", 400))
            if not 400 <= status <= 599:
                raise ValueError("status must be an HTTP error status (400-599)")
            fault = {
                "code": code,
                "message": str(data.get("message") or "A business validation error has occurred"),
                "detail": str(data.get("detail") or ""),
                "element": str(data.get("element") or ""),
                "status": status,
            }
        return cls(
            kind=kind,
            count=count,
            method=str(method).upper() if method else None,
            path_contains=str(data["path_contains"]) if data.get("path_contains") else None,
            ms=ms,
            fault=fault,
        )

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method.upper()) and (
            self.path_contains is None or self.path_contains in path
        )


@dataclass
class Stats:
    """Request counts by realm, endpoint and method; batch requests and their items; throttles,
    injected faults, and the most requests seen in flight at once."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    realms: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _realm(self, realm_id: str) -> dict[str, Any]:
        return self.realms.setdefault(
            realm_id,
            {
                "requests": {},
                "total_requests": 0,
                "batch_requests": 0,
                "batch_items": 0,
                "throttled": 0,
                "faults_injected": 0,
                "auth_failures": 0,
                "max_in_flight": 0,
            },
        )

    def request(self, realm_id: str, endpoint: str, method: str) -> None:
        with self.lock:
            realm = self._realm(realm_id)
            by_method = realm["requests"].setdefault(endpoint, {})
            by_method[method] = by_method.get(method, 0) + 1
            realm["total_requests"] += 1

    def bump(self, realm_id: str, counter: str, by: int = 1) -> None:
        with self.lock:
            self._realm(realm_id)[counter] += by

    def in_flight(self, realm_id: str, count: int) -> None:
        with self.lock:
            realm = self._realm(realm_id)
            realm["max_in_flight"] = max(realm["max_in_flight"], count)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            realms = {
                realm_id: {**data, "requests": {k: dict(v) for k, v in data["requests"].items()}}
                for realm_id, data in self.realms.items()
            }
        totals = {
            key: sum(data[key] for data in realms.values())
            for key in (
                "total_requests",
                "batch_requests",
                "batch_items",
                "throttled",
                "faults_injected",
                "auth_failures",
            )
        }
        totals["max_in_flight"] = max((data["max_in_flight"] for data in realms.values()), default=0)
        return {"realms": realms, **totals}

    def reset(self) -> None:
        with self.lock:
            self.realms.clear()


class Limits:
    """Everything between authentication and the operation itself."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.rate = RateLimiter()
        self.batch_rate = RateLimiter()
        self.concurrency = ConcurrencyLimiter()
        self.stats = Stats()
        self._lock = threading.Lock()
        self._scripted: list[ScriptedFault] = []
        self._rng = random.Random(config.seed)

    def reset(self) -> None:
        self.rate.reset()
        self.batch_rate.reset()
        self.stats.reset()
        with self._lock:
            self._scripted.clear()
            self._rng = random.Random(self.config.seed)

    def add_fault(self, fault: ScriptedFault) -> None:
        with self._lock:
            self._scripted.append(fault)

    def pending_faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(vars(fault)) for fault in self._scripted]

    def take_scripted(self, method: str, path: str) -> ScriptedFault | None:
        """Consume one use of the first scripted fault matching this request."""
        with self._lock:
            for fault in self._scripted:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._scripted.remove(fault)
                    return fault
        return None

    def random_fault(self) -> str | None:
        """Draw whether this request fails at random, and how."""
        rate = self.config.fault_rate
        if rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= rate:
                return None
            return self._rng.choice(RANDOM_KINDS)

    def sleep_latency(self, extra_ms: int = 0) -> None:
        total = self.config.latency_ms + extra_ms
        if total > 0:
            time.sleep(total / 1000.0)
