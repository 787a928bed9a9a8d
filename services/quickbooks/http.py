"""requests plumbing for the QuickBooks and Intuit sessions: a default timeout, no hidden retries,
and a recorder of the last response (status, ``intuit_tid``, Fault body) per thread."""

from __future__ import annotations

import os
import threading

import requests
from requests.adapters import HTTPAdapter

from services.background import waiting
from services.crashpoints import answer_arrived

DEFAULT_TIMEOUT = (10.0, 120.0)  # connect, read: QuickBooks times a request out at 120 s


class TimeoutAdapter(HTTPAdapter):
    """An adapter that applies a default timeout and never retries on its own; work handed over gives up
    its turn to run while it waits for the answer (``services.background.waiting``)."""

    def __init__(self, timeout: tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        super().__init__(max_retries=0)

    def send(self, request, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        with waiting():
            return super().send(request, **kwargs)


class ResponseRecorder:
    """A requests response hook remembering, per thread, the last response a session received."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __call__(self, response: requests.Response, *args, **kwargs) -> requests.Response:
        self._local.response = response
        return response

    def clear(self) -> None:
        self._local.response = None

    @property
    def last(self) -> requests.Response | None:
        return getattr(self._local, "response", None)


def equip(session: requests.Session, recorder: ResponseRecorder, timeout=DEFAULT_TIMEOUT) -> None:
    """Give ``session`` the timeout adapter and the recorder hook."""
    adapter = TimeoutAdapter(timeout)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    hooks = session.hooks.setdefault("response", [])
    if recorder not in hooks:
        hooks.append(recorder)
    # a crash test: a ``*_sent`` point fires as its answer arrives
    if os.environ.get("QBSYNC_CRASH_AT") and answer_arrived not in hooks:
        hooks.insert(0, answer_arrived)
