"""Pure matching of TMS records to QuickBooks entities (plain dicts as QuickBooks returns them).

- A customer matches by the stored QuickBooks id, else by the TMS "QuickBooks email" equal to the
  customer's PrimaryEmailAddr (trimmed, case-insensitive).
- A charge code matches by the stored item id, else by the item Name equal to the charge name after
  normalising case and spacing. More than one match is a duplicate: never guess.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

_SPACES = re.compile(r"\s+")


def normalize_email(value: str | None) -> str:
    return (value or "").strip().casefold()


def normalize_name(value: str | None) -> str:
    return _SPACES.sub(" ", (value or "").strip()).casefold()


def qb_email(customer: dict[str, Any]) -> str:
    return ((customer.get("PrimaryEmailAddr") or {}).get("Address") or "").strip()


def is_active(entity: dict[str, Any]) -> bool:
    return entity.get("Active", True) is not False


@dataclass
class CustomerMatch:
    customer: dict[str, Any] | None
    problem: str | None = None  # a one-line summary when there is no single usable match
    evidence: dict[str, Any] = field(default_factory=dict)


def customer_brief(customer: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": customer.get("Id"),
        "name": customer.get("DisplayName"),
        "email": qb_email(customer) or None,
    }


def closest_by_name(name: str, customers: list[dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    """The QuickBooks customers whose DisplayName is closest to ``name``."""
    target = normalize_name(name)
    scored = []
    for customer in customers:
        if not is_active(customer):
            continue
        score = difflib.SequenceMatcher(None, target, normalize_name(customer.get("DisplayName"))).ratio()
        scored.append((score, customer))
    scored.sort(key=lambda pair: -pair[0])
    return [customer_brief(c) for score, c in scored[:limit] if score >= 0.4]


def match_customer(
    tms_name: str, tms_email: str | None, linked_id: str | None, customers: list[dict[str, Any]]
) -> CustomerMatch:
    evidence: dict[str, Any] = {"tms_customer": tms_name, "tms_email": tms_email}
    if linked_id:
        linked = next((c for c in customers if c.get("Id") == linked_id), None)
        if linked is not None and is_active(linked):
            return CustomerMatch(linked)
        evidence["linked_qb_customer_id"] = linked_id
        state = "is inactive" if linked is not None else "no longer exists"
        evidence["candidates"] = closest_by_name(tms_name, customers)
        return CustomerMatch(None, f"the linked QuickBooks customer {linked_id} {state}", evidence)
    wanted = normalize_email(tms_email)
    if not wanted:
        evidence["candidates"] = closest_by_name(tms_name, customers)
        return CustomerMatch(None, f"{tms_name} has no QuickBooks email in the TMS", evidence)
    same = [c for c in customers if is_active(c) and normalize_email(qb_email(c)) == wanted]
    if len(same) == 1:
        return CustomerMatch(same[0])
    if len(same) > 1:
        evidence["qb_customers_with_this_email"] = [customer_brief(c) for c in same]
        return CustomerMatch(
            None, f"{len(same)} QuickBooks customers have the email {tms_email}; choose one", evidence
        )
    candidates = closest_by_name(tms_name, customers)
    evidence["candidates"] = candidates
    if candidates and candidates[0]["email"]:
        summary = (
            f"QuickBooks email {tms_email} in the TMS matches no QuickBooks customer "
            f"(closest: {candidates[0]['name']} <{candidates[0]['email']}>)"
        )
    else:
        summary = f"QuickBooks email {tms_email} in the TMS matches no QuickBooks customer"
    return CustomerMatch(None, summary, evidence)


@dataclass
class ItemMatch:
    item: dict[str, Any] | None
    problem: str | None = None  # "missing" | "duplicate" | "inactive"
    candidates: list[dict[str, Any]] = field(default_factory=list)


def item_brief(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item.get("Id"),
        "name": item.get("Name"),
        "full_name": item.get("FullyQualifiedName") or item.get("Name"),
        "active": is_active(item),
    }


def match_item(name: str, linked_id: str | None, items: list[dict[str, Any]]) -> ItemMatch:
    if linked_id:
        linked = next((i for i in items if i.get("Id") == linked_id), None)
        if linked is not None and is_active(linked):
            return ItemMatch(linked)
        if linked is not None:
            return ItemMatch(None, "inactive", [item_brief(linked)])
    wanted = normalize_name(name)
    same = [i for i in items if normalize_name(i.get("Name")) == wanted]
    active = [i for i in same if is_active(i)]
    if len(active) == 1:
        return ItemMatch(active[0])
    if len(active) > 1:
        return ItemMatch(None, "duplicate", [item_brief(i) for i in active])
    if same:
        return ItemMatch(None, "inactive", [item_brief(i) for i in same])
    return ItemMatch(None, "missing")
