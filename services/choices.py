"""What a person can choose when a fix needs a human choice: the QuickBooks customer to link, the
item a charge code maps to, the QuickBooks email, the invoice number. Candidates the evidence points
to come first; the rest follow by name. Read from QuickBooks (one query per list); nothing changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.errors import UserInputError
from services.loadnumbers import clean_load_number
from services.matching import customer_brief, is_active, item_brief, match_customer, match_item
from services.models import ChargeCodeState
from services.sync import SyncEngine

MAX_OPTIONS = 100  # a Slack select holds at most 100 options


@dataclass
class Option:
    value: str
    label: str
    detail: str = ""
    suggested: bool = False


@dataclass
class ItemChoice:
    code: str
    name: str
    problem: str
    options: list[Option] = field(default_factory=list)


def _view(sync: SyncEngine, load_number: str):
    number = clean_load_number(load_number)
    view = sync.read_view(number)
    if view is None:
        raise UserInputError(f"there is no load {number!r}")
    return view


def customer_options(sync: SyncEngine, load_number: str, query: str = "") -> list[Option]:
    """Active QuickBooks customers for ``link_customer``: the likely ones first, then by name;
    ``query`` narrows by name or email (case-insensitive)."""
    view = _view(sync, load_number)
    customers = [c for c in sync.api.query_all("Customer", "Active = true") if is_active(c)]
    tms = view.customer
    match = match_customer(tms.name, tms.qb_email, None, customers)
    likely = [match.customer] if match.customer else []
    ids = [c["id"] for c in match.evidence.get("qb_customers_with_this_email") or []]
    ids += [c["id"] for c in match.evidence.get("candidates") or []]
    by_id = {c["Id"]: c for c in customers}
    likely += [by_id[i] for i in ids if i in by_id]
    needle = query.strip().casefold()
    seen: set[str] = set()
    options: list[Option] = []
    rest = sorted(customers, key=lambda c: (c.get("DisplayName") or "").casefold())
    for position, customer in enumerate([*likely, *rest]):
        if customer["Id"] in seen:
            continue
        seen.add(customer["Id"])
        brief = customer_brief(customer)
        if needle and needle not in f"{brief['name']} {brief['email'] or ''}".casefold():
            continue
        options.append(
            Option(
                brief["id"],
                brief["name"] or f"customer {brief['id']}",
                brief["email"] or "",
                suggested=position < len(likely),
            )
        )
        if len(options) >= MAX_OPTIONS:
            break
    return options


def email_options(sync: SyncEngine, load_number: str) -> tuple[str, list[Option]]:
    """The TMS customer's current QuickBooks email, and the emails of the likely QuickBooks customers."""
    view = _view(sync, load_number)
    customers = [c for c in sync.api.query_all("Customer", "Active = true") if is_active(c)]
    tms = view.customer
    match = match_customer(tms.name, tms.qb_email, None, customers)
    entries = (match.evidence.get("qb_customers_with_this_email") or []) + (
        match.evidence.get("candidates") or []
    )
    if match.customer is not None:
        entries.insert(0, customer_brief(match.customer))
    options = []
    for entry in entries:
        if entry.get("email") and all(o.value != entry["email"] for o in options):
            options.append(Option(entry["email"], entry["email"], entry.get("name") or "", suggested=True))
    return tms.qb_email or "", options


def item_choices(sync: SyncEngine, load_number: str) -> list[ItemChoice]:
    """For each charge code of the load that is not linked to one active item: the items it could map
    to. Duplicated and inactive codes offer their candidates; a missing code offers every active item."""
    view = _view(sync, load_number)
    items = sync.api.query_all("Item", "Active IN (true, false)")
    active = sorted(
        (i for i in items if is_active(i)), key=lambda i: (i.get("FullyQualifiedName") or "").casefold()
    )
    choices = []
    for code, charge in sorted(view.codes.items()):
        match = match_item(charge.name, charge.qb_item_id, items)
        if match.item is not None and charge.sync_state == ChargeCodeState.SYNCED:
            continue
        candidates = [item_brief(match.item)] if match.item is not None else match.candidates
        suggested = {c["id"] for c in candidates}
        pool = [*candidates, *(item_brief(i) for i in active if i["Id"] not in suggested)]
        options = [
            Option(
                entry["id"],
                entry["full_name"] or entry["name"] or f"item {entry['id']}",
                "" if entry["active"] else "inactive",
                suggested=entry["id"] in suggested,
            )
            for entry in pool[:MAX_OPTIONS]
        ]
        choices.append(ItemChoice(code, charge.name, match.problem or "unsynced", options))
    return choices


def suggested_doc_number(sync: SyncEngine, load_number: str) -> str:
    """The invoice number the last diagnosis suggested for a too-long load number ('' when none)."""
    view = _view(sync, load_number)
    for data in sync.recorded_reasons(view.id):
        suggestion = (data.get("evidence") or {}).get("suggested_doc_number")
        if suggestion:
            return str(suggestion)
    return ""
