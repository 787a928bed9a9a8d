"""The adaptive limiter with a fake clock: budgets per sliding minute, waits, give-ups, slow-down."""

from __future__ import annotations

import threading

import pytest

from services.quickbooks.limiter import AdaptiveLimiter, Exhausted, Limits


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(**limits) -> tuple[AdaptiveLimiter, Clock]:
    clock = Clock()
    return AdaptiveLimiter(Limits(minute=60.0, **limits), clock=clock, sleep=clock.sleep), clock


def test_a_burst_uses_the_minute_then_waits_for_the_window():
    lim, clock = limiter(requests_per_minute=5)
    for _ in range(5):
        with lim.slot():
            pass
    assert clock.slept == []
    with lim.slot():
        pass
    assert clock.now == pytest.approx(60 * 1.02)  # the window, with its margin


def test_batches_have_their_own_budget_and_an_impatient_request_gives_up():
    lim, _ = limiter(batches_per_minute=2)
    for _ in range(2):
        with lim.slot(batch=True):
            pass
    with lim.slot():  # a plain request still goes
        pass
    with pytest.raises(Exhausted), lim.slot(batch=True, max_wait=1.0):
        pass


def test_throttling_pauses_halves_the_budget_and_answers_win_it_back():
    lim, clock = limiter(requests_per_minute=100)
    assert lim.throttled(2.0, 0.5, 30) == 2.0  # Retry-After honoured
    with lim.slot():
        pass
    assert clock.now == pytest.approx(2.0)
    assert lim._requests.allowed == 50
    for _ in range(30):
        lim.answered()
    assert lim._requests.allowed == 100


def test_a_burst_of_throttled_answers_slows_down_once():
    lim, clock = limiter(requests_per_minute=100, batches_per_minute=40)
    for _ in range(6):  # six requests in flight, all refused by QuickBooks in the same moment
        lim.throttled(2.0, 0.5, 30)
    assert lim._requests.allowed == 50 and lim._batches.allowed == 20
    clock.now += 2.5  # the pause is over; QuickBooks refuses again: that is a new throttling
    lim.throttled(2.0, 0.5, 30)
    assert lim._requests.allowed == 25


def test_a_patient_request_waits_for_a_place_in_flight_however_long():
    lim = AdaptiveLimiter(Limits(in_flight=1, minute=60.0))
    trying, outcome = threading.Event(), []

    def patient() -> None:
        trying.set()
        try:
            with lim.slot():
                outcome.append("sent")
        except Exhausted as exc:
            outcome.append(exc)

    with lim.slot():
        waiter = threading.Thread(target=patient)
        waiter.start()
        trying.wait()
        waiter.join(0.3)  # it is waiting for the place, not giving up
    waiter.join()
    assert outcome == ["sent"]
