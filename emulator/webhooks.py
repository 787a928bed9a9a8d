"""Webhook deliveries: the emulator calls the app back when data changes, as Intuit does.

Every committed change to an Invoice, Customer, Item or Payment (API, batch or admin seed) becomes
an event due ``webhook_delay_ms`` later (plus up to a quarter of that as jitter, from the seeded
random generator). When the first queued event is due, every event due within ``webhook_batch_ms``
(default: the delay) goes into one delivery -- across companies and entities, in the order the
changes happened -- which is POSTed to ``webhook_url`` with ``intuit-signature`` (see
:mod:`emulator.webhook_payloads`).

Delivery follows Intuit's published rules, with time shrunk for tests: an answer other than 2xx,
no answer within 3 seconds, or a connection error is retried after 1, 2 and 3 times the delay (at
least 50 ms; Intuit: 10 s, 20 s, 30 s, then minutes to hours), then the delivery is dropped and
counted as failed. With ``webhook_duplicate_rate`` a delivery is sent a second time, byte for byte,
a little later. A few sender threads work in parallel, so deliveries can arrive out of order.

Nothing is queued while ``webhook_url`` is null; events still queued when it becomes null are
dropped when due. The sender threads start with the first event and stop with :meth:`close`.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import requests

from emulator import webhook_payloads
from emulator.changes import Change
from emulator.config import EmulatorConfig
from emulator.timeutil import response_time

WEBHOOK_ENTITIES = ("Invoice", "Customer", "Item", "Payment")
ANSWER_TIMEOUT = 3.0  # Intuit wants a 200 within 3 seconds
RETRIES = 3
MIN_BACKOFF = 0.05
WORKERS = 4
RECENT = 200
STAT_KEYS = ("sent", "events", "failed", "duplicates", "retries")


@dataclass
class Delivery:
    number: int
    url: str
    raw: bytes
    signature: str
    changes: list[Change]
    generation: int
    duplicate: bool = False
    state: str = "pending"  # pending, delivered, failed
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def copy_as_duplicate(self, number: int) -> Delivery:
        return Delivery(number, self.url, self.raw, self.signature, self.changes, self.generation, True)

    def public(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "url": self.url,
            "state": self.state,
            "status": self.attempts[-1]["status"] if self.attempts else None,
            "duplicate": self.duplicate,
            "events": len(self.changes),
            "realms": sorted({c.realm_id for c in self.changes}),
            "attempts": [dict(a) for a in self.attempts],
            "signature": self.signature,
            "body": json.loads(self.raw),
            "raw_body": self.raw.decode("utf-8"),
        }


@dataclass(order=True)
class _Scheduled:
    due: float
    seq: int
    delivery: Delivery = field(compare=False)


class WebhookSender:
    """Queues events, groups them into deliveries and posts them from a few daemon threads."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._cond = threading.Condition()
        self._events: list[tuple[float, int, Change]] = []  # heap by due time
        self._scheduled: list[_Scheduled] = []  # heap of delivery attempts by due time
        self._busy = 0
        self._seq = itertools.count()
        self._numbers = itertools.count(1)
        self._recent: deque[Delivery] = deque(maxlen=RECENT)
        self._stats = dict.fromkeys(STAT_KEYS, 0)
        self._rng = random.Random(config.seed)
        self._generation = 0
        self._workers: list[threading.Thread] = []
        self._closed = False

    # -- producer side --------------------------------------------------------------------------

    def enqueue(self, changes: list[Change]) -> None:
        wanted = [c for c in changes if c.entity in WEBHOOK_ENTITIES]
        if not wanted or self.config.webhook_url is None:
            return
        delay = self.config.webhook_delay_ms / 1000.0
        with self._cond:
            if self._closed:
                return
            now = time.monotonic()
            for change in wanted:
                jitter = self._rng.uniform(0, delay / 4) if delay else 0.0
                heapq.heappush(self._events, (now + delay + jitter, next(self._seq), change))
            self._stats["events"] += len(wanted)
            self._start_workers()
            self._cond.notify_all()

    def _start_workers(self) -> None:
        self._workers = [w for w in self._workers if w.is_alive()]
        while len(self._workers) < WORKERS:
            worker = threading.Thread(
                target=self._work, name=f"qbo-emulator-webhooks-{len(self._workers) + 1}", daemon=True
            )
            worker.start()
            self._workers.append(worker)

    # -- worker side ----------------------------------------------------------------------------

    def _work(self) -> None:
        with requests.Session() as http:
            http.trust_env = False  # loopback receivers: no proxy from the environment
            while True:
                with self._cond:
                    delivery = self._next()
                    while delivery is None:
                        if self._closed:
                            return
                        self._cond.wait(self._wait_time())
                        delivery = self._next()
                    self._busy += 1
                try:
                    self._attempt(http, delivery)
                finally:
                    with self._cond:
                        self._busy -= 1
                        self._cond.notify_all()

    def _wait_time(self) -> float:
        dues = [1.0]
        if self._scheduled:
            dues.append(self._scheduled[0].due - time.monotonic())
        if self._events:
            dues.append(self._events[0][0] - time.monotonic())
        return max(min(dues), 0.001)

    def _next(self) -> Delivery | None:
        """A delivery to attempt now: a due retry or duplicate, or a new one from due events."""
        if self._closed:
            return None
        now = time.monotonic()
        if self._scheduled and self._scheduled[0].due <= now:
            return heapq.heappop(self._scheduled).delivery
        if not self._events or self._events[0][0] > now:
            return None
        horizon = now + self.config.webhook_window
        taken: list[tuple[float, int, Change]] = []
        while self._events and self._events[0][0] <= horizon:
            taken.append(heapq.heappop(self._events))
        url = self.config.webhook_url
        if url is None:  # switched off meanwhile
            self._cond.notify_all()
            return None
        changes = sorted((item[2] for item in taken), key=lambda c: c.moment)
        fmt = self.config.webhook_format
        raw = webhook_payloads.body(changes, fmt)
        signature = webhook_payloads.signature(self.config.webhook_verifier, raw)
        delivery = Delivery(next(self._numbers), url, raw, signature, changes, self._generation)
        self._recent.append(delivery)
        rate = self.config.webhook_duplicate_rate
        if rate > 0 and self._rng.random() < rate:
            copy = delivery.copy_as_duplicate(next(self._numbers))
            self._recent.append(copy)
            self._stats["duplicates"] += 1
            later = now + self._rng.uniform(0, self._backoff())
            heapq.heappush(self._scheduled, _Scheduled(later, next(self._seq), copy))
        return delivery

    def _backoff(self) -> float:
        return max(self.config.webhook_delay_ms / 1000.0, MIN_BACKOFF)

    def _attempt(self, http: requests.Session, delivery: Delivery) -> None:
        headers = {
            "Content-Type": "application/json",
            webhook_payloads.SIGNATURE_HEADER: delivery.signature,
            "User-Agent": "qbo-emulator-webhooks",
        }
        status: int | None = None
        error: str | None = None
        try:
            with http.post(
                delivery.url, data=delivery.raw, headers=headers, timeout=ANSWER_TIMEOUT
            ) as answer:
                status = answer.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self._cond:
            delivery.attempts.append({"at": response_time(), "status": status, "error": error})
            current = delivery.generation == self._generation
            if status is not None and 200 <= status < 300:
                delivery.state = "delivered"
                self._count("sent", current)
            elif len(delivery.attempts) <= RETRIES and current and not self._closed:
                self._count("retries", current)
                due = time.monotonic() + self._backoff() * len(delivery.attempts)
                heapq.heappush(self._scheduled, _Scheduled(due, next(self._seq), delivery))
            else:
                delivery.state = "failed"
                self._count("failed", current)

    def _count(self, key: str, current: bool) -> None:
        if current:
            self._stats[key] += 1

    # -- inspection and control -----------------------------------------------------------------

    def idle(self) -> bool:
        with self._cond:
            return not self._events and not self._scheduled and self._busy == 0

    def flush(self, timeout: float) -> bool:
        """Wait until nothing is queued and every delivery (retries included) is answered."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._events or self._scheduled or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def stats(self) -> dict[str, int]:
        with self._cond:
            return {**self._stats, "queued": len(self._events)}

    def deliveries(self) -> list[dict[str, Any]]:
        with self._cond:
            return [delivery.public() for delivery in self._recent]

    def clear_log(self) -> None:
        with self._cond:
            self._recent.clear()

    def reset(self) -> None:
        """Forget queued events, pending retries, the delivery log and the counts."""
        with self._cond:
            self._events.clear()
            self._scheduled.clear()
            self._recent.clear()
            self._stats = dict.fromkeys(STAT_KEYS, 0)
            self._rng = random.Random(self.config.seed)
            self._generation += 1
            self._cond.notify_all()

    def close(self, timeout: float = ANSWER_TIMEOUT + 1) -> None:
        """Stop the sender threads (an attempt in progress is allowed to finish)."""
        with self._cond:
            self._closed = True
            self._events.clear()
            self._scheduled.clear()
            self._cond.notify_all()
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.join(timeout)
