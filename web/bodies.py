"""Reading a webhook's body with a size limit, the same way for every route that takes one."""

from __future__ import annotations

from flask import request


def limited_body(limit: int) -> bytes | None:
    """The raw body, or None when it is over ``limit`` bytes. A Content-Length over the limit is
    answered 413 by Flask before anything is read; a chunked body is cut at the limit."""
    request.max_content_length = limit
    raw = request.get_data(cache=False)
    return None if len(raw) >= limit else raw
