"""An adaptive limiter for one QuickBooks company (realm), shared by every thread of a process.

Intuit allows per realm and app: 500 requests a minute, 40 batch requests a minute and 10 requests in
flight (``Limits`` holds them; settings override). Before each request the limiter takes its place in
the request budget (and the batch budget for a batch) and among the requests in flight, waiting when
there is none. A budget counts the sends of the last (sliding) minute, as QuickBooks does — a token
bucket refilled at the limit would let a burst and the refill together exceed it — with a 2 % longer
minute for the time a request takes to arrive. On a throttled answer (429/3001) it pauses every
thread — ``Retry-After`` when QuickBooks gives one, else a growing, jittered wait — and halves its
budgets (never below a tenth); each answer that is not throttled wins back 2 % of the limit.

Those limits hold within the process. With ``shared`` (``shared_budget.RealmBudget``, given when the
services are built over a database) the limiter then consults the company's budget shared by every
process and host through that database: a request goes only with a grant of the shared minute and one
of the company's places in flight, and a throttled answer pauses the company for every process. Waiting
there keeps ``max_wait`` (for the budget; ``place_wait`` for a place: ``Exhausted``) and ``cancel``
(``Cancelled``, nothing sent) as here. When the database cannot be reached the process keeps the limits
on its own, as without it.
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from services.background import waiting
from services.quickbooks.limits import MARGIN, Limits

if TYPE_CHECKING:
    from services.quickbooks.shared_budget import RealmBudget, SharedBudget

FLOOR = 0.1  # the rate never drops below a tenth of the limit
RECOVERY = 0.02


class _Window:
    """At most ``limit × factor`` sends in any sliding window of ``minute`` (QuickBooks counts the same
    way, so a burst may use the whole minute's budget at once); ``factor`` adapts between ``FLOOR``
    and 1."""

    def __init__(self, limit: int, minute: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = minute * (1 + MARGIN)  # our clock starts before QuickBooks' does
        self.factor = 1.0
        self.sent: deque[float] = deque()
        self.clock = clock

    @property
    def allowed(self) -> int:
        return max(1, int(self.limit * self.factor))

    def take(self) -> float:
        """0 and a send counted, or the seconds until the window has room (nothing counted)."""
        now = self.clock()
        while self.sent and self.sent[0] <= now - self.window:
            self.sent.popleft()
        allowed = self.allowed
        if len(self.sent) < allowed:
            self.sent.append(now)
            return 0.0
        return max(self.sent[len(self.sent) - allowed] + self.window - now, 1e-3)

    def give_back(self) -> None:
        if self.sent:
            self.sent.pop()

    def slow_down(self) -> None:
        self.factor = max(FLOOR, self.factor / 2)

    def recover(self) -> None:
        self.factor = min(1.0, self.factor + RECOVERY)


class Exhausted(Exception):
    """The budget has no room within the wait allowed."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"QuickBooks' request budget for this company is used up for {wait:.1f}s")
        self.wait = wait


class Cancelled(Exception):
    """The run this request belongs to was asked to stop while the request waited for the budget:
    it was never sent."""

    def __init__(self) -> None:
        super().__init__("stopped while waiting for QuickBooks' request budget; nothing was sent")


class AdaptiveLimiter:
    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        shared: RealmBudget | None = None,
    ) -> None:
        self.limits = limits
        self.shared = shared
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._requests = _Window(limits.requests_per_minute, limits.minute, clock)
        self._batches = _Window(limits.batches_per_minute, limits.minute, clock)
        self._slots = threading.BoundedSemaphore(limits.in_flight)
        self._paused_until = 0.0
        self._strikes = 0
        self.throttled_count = 0
        self.in_flight = 0
        self.max_in_flight = 0

    @contextlib.contextmanager
    def slot(
        self,
        *,
        batch: bool = False,
        max_wait: float | None = None,
        place_wait: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[None]:
        """Hold a place among the requests in flight, with the budget this request needs; waiting at
        most ``max_wait`` seconds for the budget and ``place_wait`` (else ``max_wait``) for a place
        (``Exhausted`` then), or as long as it takes. When ``cancel`` is set while it waits,
        ``Cancelled``."""
        now = self._clock()
        deadline = None if max_wait is None else now + max_wait
        place_wait = max_wait if place_wait is None else place_wait
        place_deadline = None if max_wait is None else now + max(max_wait, place_wait or 0.0)
        self._take(batch, deadline, cancel)
        ticket = self._place(batch, deadline, place_deadline, cancel)
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= 1
            if ticket is not None:
                ticket.done()
            self._slots.release()

    def _place(
        self,
        batch: bool,
        deadline: float | None,
        place_deadline: float | None,
        cancel: threading.Event | None,
    ):
        """One of this process's places among the requests in flight (its threads queue for them in
        turn) and, with a shared budget, leave from it — the company's place among every process's
        requests and a grant of the shared minute — returned as a ticket (None without). This process's
        place is kept while a place of the company's is waited for (a short wait: requests end), not
        while the budget is."""
        held = False
        try:
            while True:
                if not held:
                    self._acquire(place_deadline, cancel)
                    held = True
                if self.shared is None:
                    return None
                ticket, wait, for_place = self.shared.enter(batch=batch, patient=deadline is None)
                if ticket is not None:
                    return None if ticket.local else ticket  # local: the database is out of reach
                if not for_place:
                    self._slots.release()
                    held = False
                # a wait for the budget is bounded by ``max_wait``; a place, or asking again at once
                # (the grant came too late: the database was slow), by ``place_wait``
                until = place_deadline if for_place or wait <= 0 else deadline
                if until is not None and self._clock() + wait > until:
                    raise Exhausted(wait)
                with waiting():  # work handed over gives its turn to run meanwhile (services.background)
                    if cancel is None:
                        self._sleep(wait)
                    elif cancel.wait(wait):
                        raise Cancelled()
        except BaseException:
            if held:
                self._slots.release()
            raise

    def _acquire(self, deadline: float | None, cancel: threading.Event | None) -> None:
        """One of this process's places, waiting until ``deadline`` at most."""
        if self._slots.acquire(blocking=False):
            return
        with waiting():
            self._wait_for_place(deadline, cancel)

    def _wait_for_place(self, deadline: float | None, cancel: threading.Event | None) -> None:
        if cancel is None:
            timeout = None if deadline is None else max(0.0, deadline - self._clock())
            if not self._slots.acquire(timeout=timeout):
                raise Exhausted(0.0)
            return
        while not self._slots.acquire(timeout=0.1):
            if cancel.is_set():
                raise Cancelled()
            if deadline is not None and self._clock() > deadline:
                raise Exhausted(0.0)

    def _take(self, batch: bool, deadline: float | None, cancel: threading.Event | None = None) -> None:
        while True:
            with self._lock:
                wait = self._paused_until - self._clock()
                if wait <= 0:
                    wait = self._requests.take()
                    if not wait and batch:
                        wait = self._batches.take()
                        if wait:
                            self._requests.give_back()
                    if not wait:
                        return
            if deadline is not None and self._clock() + wait > deadline:
                raise Exhausted(wait)
            with waiting():
                if cancel is None:
                    self._sleep(wait)
                elif cancel.wait(wait):
                    raise Cancelled()

    def answered(self) -> None:
        """A request was answered without throttling: win back some rate."""
        with self._lock:
            self._strikes = 0
            self._requests.recover()
            self._batches.recover()

    def throttled(self, retry_after: float | None, base: float, cap: float) -> float:
        """QuickBooks throttled a request: pause everyone and slow down. Returns the pause."""
        with self._lock:
            self.throttled_count += 1
            self._strikes += 1
            now = self._clock()
            if retry_after is not None and retry_after > 0:
                wait = min(retry_after, self.limits.minute)
            else:
                wait = random.uniform(0, min(cap, base * 2**self._strikes))
            if now >= self._paused_until:  # a new throttling: slow down once; the other requests in
                self._requests.slow_down()  # flight that QuickBooks refuses in the same burst belong
                self._batches.slow_down()  # to the pause already taken
            self._paused_until = max(self._paused_until, now + wait)
        if self.shared is not None:
            self.shared.pause(wait)  # every process of this company waits as well
        return wait


class LimiterRegistry:
    """One limiter per realm; each consults ``shared``, the budgets shared with other processes, if given."""

    def __init__(self, limits: Limits, shared: SharedBudget | None = None) -> None:
        self.limits = limits
        self.shared = shared
        self._lock = threading.Lock()
        self._by_realm: dict[str, AdaptiveLimiter] = {}

    def for_realm(self, realm_id: str) -> AdaptiveLimiter:
        with self._lock:
            limiter = self._by_realm.get(realm_id)
            if limiter is None:
                shared = None if self.shared is None else self.shared.for_realm(realm_id, self.limits)
                limiter = self._by_realm[realm_id] = AdaptiveLimiter(self.limits, shared=shared)
            return limiter
