"""Timestamps in the formats QuickBooks uses.

The emulated companies live in UTC: ``MetaData`` times are ``YYYY-MM-DDTHH:MM:SS+00:00`` (second
precision, like QuickBooks), and the ``time`` field of every response carries milliseconds.
Timestamps supplied by clients without an offset (python-quickbooks' CDC helper sends those) are
read as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def meta_time(moment: datetime | None = None) -> str:
    """A ``MetaData`` timestamp (second precision, explicit offset)."""
    return (moment or utcnow()).astimezone(UTC).isoformat(timespec="seconds")


def response_time() -> str:
    """The ``time`` attribute of a response body."""
    return utcnow().isoformat(timespec="milliseconds")


def today() -> str:
    return utcnow().date().isoformat()


def parse_datetime(text: str) -> datetime:
    """Parse an ISO date or date-time; naive values are UTC. Raises ValueError when malformed."""
    text = text.strip()
    if not text:
        raise ValueError("empty date-time")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) == 10:
        parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
    else:
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_date(text: str) -> date:
    """Parse a ``YYYY-MM-DD`` date (a date-time is cut to its date). Raises ValueError."""
    text = text.strip()
    if len(text) > 10:
        return parse_datetime(text).date()
    return date.fromisoformat(text)
