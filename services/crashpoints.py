"""Crash points: every write a sync or a fix makes, named, so a test can kill the process exactly there.
It stands on nothing of qbsync's: the sync, the fixes and the QuickBooks adapter (``answer_arrived``, its
response hook) all use it.

``QBSYNC_CRASH_AT=<point>`` (read once, at import) makes the process SIGKILL itself when it reaches
that point; unset, ``crash_point`` is one comparison with ``None``. The points, in the order a push
meets them:

- ``claim``: the load's claim is committed, nothing sent yet;
- ``create_sent`` / ``batch_sent``: QuickBooks has received the create (or the batch) and answered;
  the process dies before reading the answer;
- ``create_answered`` / ``batch_answered``: the answer is read, nothing recorded yet;
- ``local_commit``: the outcome is committed, the claim still held;
- ``release``: the claim is released (the next batch not yet started);
- ``fix_sent``: a fix's change reached QuickBooks, nothing recorded yet;
- ``fix_commit``: a fix's change is recorded, the sync that follows it not yet run.
"""

from __future__ import annotations

import os
import signal
import threading

POINTS = (
    "claim",
    "create_sent",
    "create_answered",
    "batch_sent",
    "batch_answered",
    "local_commit",
    "release",
    "fix_sent",
    "fix_commit",
)
SENT_POINTS = ("create_sent", "batch_sent", "fix_sent")

_AT = os.environ.get("QBSYNC_CRASH_AT") or None
_armed = threading.local()


def crash_point(name: str) -> None:
    """Die here when ``QBSYNC_CRASH_AT`` names this point."""
    if _AT is not None and name == _AT:
        os.kill(os.getpid(), signal.SIGKILL)


class sending:  # noqa: N801 - used as ``with sending("create_sent"):``
    """Around a write request: the point fires when its answer arrives, before it is read."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        if _AT is not None:
            _armed.point = self.name

    def __exit__(self, *exc: object) -> None:
        if _AT is not None:
            _armed.point = None


def answer_arrived(*_args: object, **_kwargs: object) -> None:
    """A requests response hook: the armed ``*_sent`` point of this thread, if any, fires."""
    if _AT is not None and getattr(_armed, "point", None) == _AT:
        os.kill(os.getpid(), signal.SIGKILL)
