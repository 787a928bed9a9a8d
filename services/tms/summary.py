"""What an import did: how many records of each section were created, updated or left as they were,
and the loads it changed (``ImportSummary``), as shown by the CLI, the demo and TMS events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SectionCounts:
    """How many records of one section were created, updated, or already up to date."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportSummary:
    """What an import did. ``customer_changed`` lists the load numbers whose customer this import
    changed after their invoice was synced to another customer (the sync reports ``customer_changed``)."""

    source: str
    customers: SectionCounts = field(default_factory=SectionCounts)
    charge_codes: SectionCounts = field(default_factory=SectionCounts)
    loads: SectionCounts = field(default_factory=SectionCounts)
    customer_changed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)  # dismissed loads changed by this import
    written: list[str] = field(default_factory=list)  # loads created or changed (not in the JSON)
    # TMS events: per section, the keys left alone because a newer event was applied to them
    skipped_older: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether anything was created or updated."""
        return any(counts.created or counts.updated for counts in self.sections().values())

    def sections(self) -> dict[str, SectionCounts]:
        return {"customers": self.customers, "charge_codes": self.charge_codes, "loads": self.loads}

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready values."""
        result: dict[str, Any] = {name: counts.as_dict() for name, counts in self.sections().items()}
        result["customer_changed"] = list(self.customer_changed)
        if self.restored:
            result["restored"] = list(self.restored)
        if self.skipped_older:
            result["skipped_older"] = {name: list(keys) for name, keys in self.skipped_older.items()}
        return result
