"""How values read wherever a person sees them: times (``when``), money (``money``) and counts of
things (``plural``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any


def when(value: Any) -> str:
    """A UTC time as ``2026-11-27 14:03 UTC``; an ISO string is accepted; nothing as ``unknown``."""
    if value is None or value == "":
        return "unknown"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def money(amount: Any) -> str:
    """``$1,246.50``: the one way money is shown. Negative amounts as ``-$12.00``."""
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"
