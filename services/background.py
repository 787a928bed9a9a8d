"""Work that goes on after an answer has left: the slow part of a Slack request (QuickBooks, a fix
waiting its turn), the sync of a TMS event's loads, the retry after connecting. It runs on one pool of
the process's own, so the threads that answer are never held, and a server that stops (or a test that
ends) can wait for what was handed over (:func:`wait_for_work`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

WORK_THREADS = 64

_pool = ThreadPoolExecutor(WORK_THREADS, thread_name_prefix="qbsync-work")
_in_flight: set[Future] = set()
_lock = threading.Lock()


def hand_over(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Run ``func`` on the pool; the caller goes on at once."""
    future = _pool.submit(func, *args, **kwargs)
    with _lock:
        _in_flight.add(future)
    future.add_done_callback(_finished)
    return future


def _finished(future: Future) -> None:
    with _lock:
        _in_flight.discard(future)


def wait_for_work(timeout: float) -> bool:
    """Wait until the work handed over so far has finished. True when nothing is left running."""
    with _lock:
        pending = list(_in_flight)
    _, not_done = wait(pending, timeout=timeout)
    return not not_done
