"""The work handed over after an answer runs Python a few items at a time, so that the answers come
first; an item waiting on the network or a lock gives its turn to another; no item is ever stuck
behind a turn it cannot get."""

from __future__ import annotations

import threading

import pytest

from services import background
from services.background import hand_over, waiting

LONG = 10.0  # seconds no test should come near: a wait that long means the test failed


@pytest.fixture
def turns(monkeypatch):
    """Two turns, whatever the default is, and a wait for one far longer than the tests take."""
    monkeypatch.setattr(background, "_turns", threading.Semaphore(2))
    monkeypatch.setattr(background, "TURN_WAIT", LONG)
    yield background
    assert background.wait_for_work(LONG)


class Meter:
    """Counts the items running outside ``waiting()`` at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def __enter__(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *exc):
        with self.lock:
            self.now -= 1


def test_no_more_items_run_at_once_than_there_are_turns(turns):
    meter, release, started = Meter(), threading.Event(), threading.Semaphore(0)

    def item():
        with meter:
            started.release()
            release.wait(LONG)

    futures = [hand_over(item) for _ in range(6)]
    assert started.acquire(timeout=LONG) and started.acquire(timeout=LONG)
    assert not started.acquire(timeout=0.2)  # the third waits for a turn...
    release.set()
    for future in futures:
        future.result(LONG)
    assert meter.most == 2  # ...until one ends


def test_an_item_waiting_gives_its_turn_to_another(turns):
    meter, waited, done = Meter(), threading.Event(), threading.Event()

    def waits_on_the_network():
        with waiting():
            waited.set()
            done.wait(LONG)
        with meter:
            pass

    def computes():
        with meter:
            pass

    slow = [hand_over(waits_on_the_network) for _ in range(2)]  # both turns given up while waiting
    assert waited.wait(LONG)
    for future in [hand_over(computes) for _ in range(4)]:
        future.result(timeout=LONG / 2)  # sooner than TURN_WAIT: a turn was free
    done.set()
    for future in slow:
        future.result(LONG)
    assert meter.most <= 2


def test_an_item_goes_on_when_its_turn_is_held_by_what_it_waits_for(turns, monkeypatch):
    """Two items hold the turns and wait for a lock a third holds; the third, whose turn never comes,
    goes on after TURN_WAIT and lets them through."""
    monkeypatch.setattr(background, "TURN_WAIT", 0.3)
    lock, holding = threading.Lock(), threading.Event()

    def holder():
        with lock:
            holding.set()
            with waiting():
                pass  # takes its turn again: none is free until it goes on without one
        return "released"

    def blocked():
        holding.wait(LONG)
        with lock:  # a wait nobody marked with waiting(): its turn stays held
            return "through"

    lock_holder = hand_over(holder)
    assert holding.wait(LONG)
    stuck = [hand_over(blocked) for _ in range(2)]
    assert lock_holder.result(LONG) == "released"
    assert [future.result(LONG) for future in stuck] == ["through", "through"]


def test_waiting_outside_the_pool_does_nothing(turns):
    before = turns._turns._value
    with waiting():
        assert turns._turns._value == before
    assert turns._turns._value == before
