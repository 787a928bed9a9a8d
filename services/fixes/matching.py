"""Pure matching of TMS records to QuickBooks entities (plain dicts as QuickBooks returns them).

- A customer matches by the stored QuickBooks id, else by the TMS "QuickBooks email" equal to the
  customer's PrimaryEmailAddr (trimmed, case-insensitive).
- A charge code matches by the stored item id, else by the item Name equal to the charge name after
  normalising case and spacing. More than one match is a duplicate: never guess.
- What a person is offered as *likely* (never chosen for them) is ranked by :func:`similarity`: the
  same email, a company email domain, or a name that reads the same (``rapidfuzz``), above
  :data:`LIKELY_SCORE`; anything less is not offered as likely at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

_SPACES = re.compile(r"\s+")

# A candidate is "likely" at this score (0-100) or above. Names that differ by an added word
# ("Golden Gate Grocers" / "Golden Gate Grocers Inc": 100), a letter or two ("Golden Gate Grocery":
# 95) or punctuation (100) score 90 or more; different companies that share a word or two score
# well below ("Gate City Grocers": 67, "Gold Coast Groceries": 77, "Golden Gate Bridge Tolls": 73,
# "Sierra Fresh Produce": 41). 85 leaves room for a typo while keeping every such neighbour out.
LIKELY_SCORE = 85.0
EMAIL_SCORE = 100.0  # the very email the TMS has: the strongest evidence there is
DOMAIN_SCORE = 90.0  # the same company email domain (not a mailbox provider): likely, after the email
MAILBOX_PROVIDERS = frozenset(
    {
        "aol.com",
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mac.com",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "yahoo.com",
    }
)


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


def name_score(a: str | None, b: str | None) -> float:
    """How alike two company names read, 0-100, after folding case, punctuation and spacing.

    Names that begin with the same word compare as word sets (``token_set_ratio``: an added word such
    as "Inc" or "Foods" costs nothing); otherwise the whole names are compared (``token_sort_ratio``),
    so a name that merely shares a later word ("Grocers") is not taken for the company."""
    left, right = default_process(a or ""), default_process(b or "")
    if not left or not right:
        return 0.0
    if left.split()[0] == right.split()[0]:
        return float(fuzz.token_set_ratio(left, right))
    return float(fuzz.token_sort_ratio(left, right))


def email_domain(email: str | None) -> str:
    value = normalize_email(email)
    return value.rpartition("@")[2] if "@" in value else ""


def similarity(tms_name: str | None, tms_email: str | None, name: str | None, email: str | None) -> float:
    """How likely a QuickBooks record (``name``, ``email``) is the TMS customer, 0-100: the same
    email scores :data:`EMAIL_SCORE`, the same company domain :data:`DOMAIN_SCORE` (or the name's
    score when higher), else the name's score."""
    score = name_score(tms_name, name)
    wanted, theirs = normalize_email(tms_email), normalize_email(email)
    if wanted and theirs:
        if wanted == theirs:
            return EMAIL_SCORE
        domain = email_domain(wanted)
        if domain and domain not in MAILBOX_PROVIDERS and domain == email_domain(theirs):
            score = max(score, DOMAIN_SCORE)
    return score


def likely_customers(
    tms_name: str | None, tms_email: str | None, customers: list[dict[str, Any]], limit: int = 10
) -> list[tuple[float, dict[str, Any]]]:
    """The active QuickBooks customers that are likely the TMS customer, best first, with their
    score (at least :data:`LIKELY_SCORE`); unrelated names are left out, however few there are."""
    scored = []
    for customer in customers:
        if not is_active(customer):
            continue
        score = similarity(tms_name, tms_email, customer.get("DisplayName"), qb_email(customer))
        if score >= LIKELY_SCORE:
            scored.append((score, customer))
    scored.sort(key=lambda pair: (-pair[0], normalize_name(pair[1].get("DisplayName"))))
    return scored[:limit]


def closest_by_name(name: str, customers: list[dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    """The QuickBooks customers whose DisplayName reads like ``name`` (see :func:`name_score`), best
    first; none when no name is alike."""
    return [customer_brief(c) for _, c in likely_customers(name, None, customers, limit)]


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


def likely_items(
    name: str | None, items: list[dict[str, Any]], limit: int = 10
) -> list[tuple[float, dict[str, Any]]]:
    """The QuickBooks items whose Name (or full ``Parent:Child`` name) reads like a charge's name, best
    first, scoring at least :data:`LIKELY_SCORE`; inactive ones included (reactivating is a choice)."""
    scored = []
    for item in items:
        score = max(name_score(name, item.get("Name")), name_score(name, item.get("FullyQualifiedName")))
        if score >= LIKELY_SCORE:
            scored.append((score, item))
    scored.sort(key=lambda pair: (-pair[0], not is_active(pair[1]), normalize_name(pair[1].get("Name"))))
    return scored[:limit]


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
