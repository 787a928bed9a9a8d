"""Why an invoice does not sync: the reason codes of the contract, in the order they must be fixed,
each with a plain summary, the fixes that apply, and where a person would fix it by hand.

Wording follows the vendor article (TMS: Customers > Customer Profiles, Settings > Billing
Configuration; QuickBooks: Products and Services).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReasonInfo:
    code: str
    title: str
    fixes: tuple[str, ...]
    by_hand: str


CATALOG: tuple[ReasonInfo, ...] = (
    ReasonInfo(
        "qb_not_connected",
        "QuickBooks is not connected",
        ("connect",),
        "TMS: Customers > Customer Profiles > Connect to QB (the button then reads Disconnect from QB).",
    ),
    ReasonInfo(
        "qb_unavailable",
        "QuickBooks did not answer",
        ("retry",),
        "Nothing to change: QuickBooks was down or unreachable. Retry in a few minutes.",
    ),
    ReasonInfo(
        "qb_throttled",
        "QuickBooks asked us to slow down",
        ("retry",),
        "Nothing to change: QuickBooks allows 500 requests a minute per company. Retry in a minute.",
    ),
    ReasonInfo(
        "custom_txn_numbers_off",
        "QuickBooks ignores our invoice numbers",
        ("retry",),
        "QuickBooks: Settings > Account and settings > Sales > Sales form content > turn on "
        "Custom transaction numbers, then retry.",
    ),
    ReasonInfo(
        "doc_number_too_long",
        "The load number is too long for a QuickBooks invoice number",
        (),
        "QuickBooks invoice numbers hold at most 21 characters: shorten the load number in the TMS "
        "(or its invoice number prefix in Settings > Billing Configuration), then retry.",
    ),
    ReasonInfo(
        "customer_not_synced",
        "The customer is not synced to QuickBooks",
        ("link_customer", "create_customer", "update_customer_email"),
        "TMS: Customers > Customer Profiles > QuickBooks Email must equal the customer's email in "
        "QuickBooks (Sales > Customers); correct it and Save, then retry.",
    ),
    ReasonInfo(
        "charge_codes_not_synced",
        "Charge codes are not synced to QuickBooks",
        ("resync_charge_codes", "map_charge_code"),
        "TMS: Settings > Billing Configuration, find charges marked Unsynced and click the refresh "
        "arrows. If that fails: QuickBooks > Products and Services, make sure each charge code exists "
        "once and is active, and merge duplicates.",
    ),
    ReasonInfo(
        "duplicate_load_number",
        "The load number is already used by an invoice made by hand in QuickBooks",
        ("adopt_qb_invoice", "clear_qb_id"),
        "QuickBooks: delete (or renumber) the manual invoice with this number, then clear the "
        "QuickBooks ID and retry.",
    ),
    ReasonInfo(
        "customer_changed",
        "The customer was changed in the load after the invoice was synced",
        ("push_customer_change",),
        "Edits in the TMS do not sync by themselves: change the customer on the invoice in QuickBooks "
        "(Sales > Invoices) to match the load.",
    ),
    ReasonInfo(
        "qb_invoice_deleted",
        "The synced invoice no longer exists in QuickBooks",
        ("clear_qb_id", "retry"),
        "QuickBooks: check Recent Transactions / the audit log for who deleted it; clear the "
        "QuickBooks ID to send the invoice again.",
    ),
    ReasonInfo(
        "amount_mismatch",
        "The QuickBooks invoice total differs from the load",
        ("push_invoice_update",),
        "QuickBooks: edit the invoice lines (Sales > Invoices) to match the load's charges, or push "
        "the load's charges again.",
    ),
    ReasonInfo(
        "qb_validation_error",
        "QuickBooks rejected the invoice",
        ("retry",),
        "Read QuickBooks' message below; correct the load or the QuickBooks setting it names, then retry.",
    ),
    ReasonInfo(
        "load_not_found",
        "No load with this number",
        (),
        "Check the load number in the TMS (Dispatcher > Loads), or import the load first.",
    ),
)

BY_CODE: dict[str, ReasonInfo] = {info.code: info for info in CATALOG}
ORDER: dict[str, int] = {info.code: index for index, info in enumerate(CATALOG)}
TRANSIENT = frozenset({"qb_unavailable", "qb_throttled"})


@dataclass
class Reason:
    """One reason that applies to one load, with its evidence and the fixes that apply."""

    code: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fixes: list[str] | None = None

    def __post_init__(self) -> None:
        if self.code not in BY_CODE:
            raise ValueError(f"unknown reason code {self.code!r}")
        if self.fixes is None:
            self.fixes = list(BY_CODE[self.code].fixes)

    @property
    def info(self) -> ReasonInfo:
        return BY_CODE[self.code]

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
    return sorted(seen.values(), key=lambda r: ORDER[r.code])
