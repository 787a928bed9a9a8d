"""What the home tables said a moment ago. In a deployment for many workspaces every Slack request first
finds its installation (its bot token) and its workspace (storage and settings) in the home database;
those two answers are kept in memory for ``FRESH_FOR`` seconds, per home database, so that a burst of
requests does not read the same two rows again and again.

A change made in this process (an install, an uninstall, saved settings, a new TMS secret) forgets what
was kept at once; one made by another process (several ``serve`` workers or hosts) is seen within
``FRESH_FOR`` seconds. Only what was found is kept: a workspace installed a moment ago elsewhere is read
from the database until it is found.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from cachetools import TTLCache
from sqlalchemy.engine import Engine

from services.store.storage import engine_key

FRESH_FOR = 5.0  # seconds
SIZE = 20_000  # answers kept per home database (two per workspace)

T = TypeVar("T")

_now = time.monotonic  # the clock answers age by
_lock = threading.Lock()
_kept: dict[str, TTLCache] = {}
_generation: dict[str, int] = {}


def recall(home: Engine, key: Hashable, load: Callable[[], T | None]) -> T | None:
    """The answer kept for ``key``, or ``load()``'s (kept when found)."""
    where = engine_key(home)
    with _lock:
        kept = _kept.setdefault(where, TTLCache(SIZE, FRESH_FOR, timer=lambda: _now()))
        if key in kept:
            return kept[key]
        generation = _generation.get(where, 0)
    value = load()
    if value is not None:
        with _lock:
            if _generation.get(where, 0) == generation:  # nothing was forgotten while it was read
                kept[key] = value
    return value


def forget(home: Engine) -> None:
    """A home table changed here: read everything again."""
    where = engine_key(home)
    with _lock:
        _generation[where] = _generation.get(where, 0) + 1
        kept = _kept.get(where)
        if kept is not None:
            kept.clear()
