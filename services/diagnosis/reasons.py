"""Why an invoice does not sync: one reason that applies to one load, with its evidence and fixes.

The reason codes, their order and every word about them live in ``services.catalogue``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.catalogue import REASON, REASON_ORDER, ReasonWords


@dataclass
class Reason:
    """One reason that applies to one load, with its evidence and the fixes that apply."""

    code: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fixes: list[str] | None = None

    def __post_init__(self) -> None:
        if self.code not in REASON:
            raise ValueError(f"unknown reason code {self.code!r}")
        if self.fixes is None:
            self.fixes = list(REASON[self.code].fixes)

    @property
    def info(self) -> ReasonWords:
        return REASON[self.code]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "summary": self.summary, "evidence": self.evidence, "fixes": self.fixes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        return cls(data["code"], data.get("summary", ""), dict(data.get("evidence") or {}), data.get("fixes"))


def ordered(reasons: list[Reason]) -> list[Reason]:
    """Reasons in the order they must be fixed (connection first), duplicates of a code merged."""
    seen: dict[str, Reason] = {}
    for reason in reasons:
        seen.setdefault(reason.code, reason)
    return sorted(seen.values(), key=lambda r: REASON_ORDER[r.code])
