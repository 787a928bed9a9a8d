"""Work that goes on after an answer has left: the slow part of a Slack request (QuickBooks, a fix
waiting its turn), the sync of a TMS event's loads, the retry after connecting. It runs on one pool of
the process's own, so the threads that answer are never held, and a server that stops (or a test that
ends) can wait for what was handed over (:func:`wait_for_work`).

The answers come first. Python runs one thread at a time in a process: twenty diagnoses computing at once
would each take their turn before the next acknowledgement, and Slack wants that within 3 s. So the work
handed over runs Python ``RUNNING`` items at a time; an item gives up its turn while it waits (for
QuickBooks or Slack over the network, for a lock: :func:`waiting`), so as many as ``WORK_THREADS`` wait on
the network together. A turn is never waited for longer than ``TURN_WAIT``: an item whose turn is held
by an item waiting for it (a lock it holds) goes on after that — late, never stuck.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

WORK_THREADS = 64  # work items in progress (most of them waiting on the network)
RUNNING = 4  # of which running Python at once
TURN_WAIT = 1.0  # seconds an item waits for its turn at most

_pool = ThreadPoolExecutor(WORK_THREADS, thread_name_prefix="qbsync-work")
_turns = threading.Semaphore(RUNNING)
_mine = threading.local()  # .turn: this thread holds a turn
_in_flight: set[Future] = set()
_lock = threading.Lock()


def hand_over(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Run ``func`` on the pool; the caller goes on at once."""
    future = _pool.submit(_in_turn, func, args, kwargs)
    with _lock:
        _in_flight.add(future)
    future.add_done_callback(_finished)
    return future


def _in_turn(func: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Any:
    _mine.turn = _turns.acquire(timeout=TURN_WAIT)
    try:
        return func(*args, **kwargs)
    finally:
        if _mine.turn:
            _turns.release()
        _mine.turn = False


@contextlib.contextmanager
def waiting() -> Iterator[None]:
    """A wait of work handed over (the network, a lock): its turn goes to another item meanwhile, and is
    taken again after. Anywhere else (a request's own thread, the command line) it does nothing."""
    if not getattr(_mine, "turn", False):
        yield
        return
    _turns.release()
    _mine.turn = False
    try:
        yield
    finally:
        _mine.turn = _turns.acquire(timeout=TURN_WAIT)


def _finished(future: Future) -> None:
    with _lock:
        _in_flight.discard(future)


def wait_for_work(timeout: float) -> bool:
    """Wait until the work handed over so far has finished. True when nothing is left running."""
    with _lock:
        pending = list(_in_flight)
    _, not_done = wait(pending, timeout=timeout)
    return not not_done
