"""Intuit's limits per QuickBooks company (realm) and app, which the limiter (``limiter``) and the budget
shared by processes (``shared_budget``) both keep: 500 requests a minute, 40 batch requests a minute, 10
requests in flight (settings override them)."""

from __future__ import annotations

from dataclasses import dataclass

MARGIN = 0.02  # our minute is 2 % longer than QuickBooks': a request takes time to arrive


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int = 500
    batches_per_minute: int = 40
    in_flight: int = 10
    minute: float = 60.0  # seconds; shorter against an emulator whose time is scaled
