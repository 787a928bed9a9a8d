"""Who holds a claim or a lock: this worker's id (``worker_id``: host, process, thread) and whether the
process a holder names is gone (``holder_is_dead``), so that what it held may be taken over at once."""

from __future__ import annotations

import os
import socket
import threading


def worker_id() -> str:
    """``host:pid:thread``; the host part names the process namespace too, so two containers that share
    a hostname (host networking) never read each other's process ids as their own."""
    return f"{this_host()}:{os.getpid()}:{threading.get_ident()}"


def this_host() -> str:
    """This host's name and process namespace, as the first part of a ``worker_id``."""
    name = socket.gethostname()[:60]
    try:
        namespace = "".join(ch for ch in os.readlink("/proc/self/ns/pid") if ch.isdigit())
    except OSError:  # not Linux, or /proc not mounted
        return name
    return f"{name}/{namespace}" if namespace else name


def holder_is_dead(holder: str) -> bool:
    """A claim (or lock) by a process on this host that no longer runs may be taken over."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != this_host() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
