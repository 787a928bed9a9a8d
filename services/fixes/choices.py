"""What a person can choose when a fix needs a human choice: the QuickBooks customer to link, the
item a charge code maps to, the QuickBooks email, the invoice number. Nothing here changes anything.

A company may have thousands of customers and items, more than any menu holds, so the customer and
item pickers are searched as a person types. The company's list is read from QuickBooks once, when
the modal opens (one paged query), and kept in this process keyed by the modal's view id
(:data:`LISTS`: up to :data:`LIST_MAX` modals, each for :data:`LIST_TTL` seconds) — every keystroke
is answered from it (:meth:`ChoiceList.answer`). A process that has not seen the modal reads the list
once and keeps it the same way. Candidates the evidence points to (:mod:`services.fixes.matching`) come
first as "likely"; they are offered, never chosen for the person."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from services.errors import UserInputError
from services.fixes.matching import (
    customer_brief,
    is_active,
    item_brief,
    likely_customers,
    likely_items,
    match_customer,
    match_item,
    qb_email,
)
from services.store.models import ChargeCodeState
from services.store.storage import engine_key
from services.sync import SyncEngine
from services.tms.loadnumbers import clean_load_number

MAX_OPTIONS = 100  # a Slack menu, and an answer to its options request, holds at most 100 options
LIST_TTL = 30 * 60.0  # seconds a modal's list is kept: long enough to choose, short enough to be fresh
LIST_MAX = 64  # modals' lists kept at once in a process; the oldest is forgotten first
CUSTOMERS, ITEMS = "customer", "item"  # the kinds of list a picker searches


@dataclass
class Option:
    value: str
    label: str
    detail: str = ""
    suggested: bool = False
    active: bool = True


@dataclass
class ItemChoice:
    code: str
    name: str
    problem: str
    options: list[Option] = field(default_factory=list)  # the likely items (searching finds the rest)


@dataclass(frozen=True)
class Entry:
    """One customer or item of the company, as the pickers show and search it."""

    value: str  # the QuickBooks Id
    label: str  # DisplayName, or the item's full name (Parent:Child)
    detail: str  # the customer's email
    active: bool
    words: str  # what a search looks in, case-folded: name, email, full name

    def option(self, suggested: bool = False) -> Option:
        return Option(self.value, self.label, self.detail, suggested, self.active)

    def finds(self, needles: list[str]) -> bool:
        return all(needle in self.words for needle in needles)

    def rank(self, query: str) -> tuple[int, bool, str]:
        """Names starting with the query first, then a word starting with it, then the rest; active
        before inactive; then by name."""
        label = self.label.casefold()
        if label.startswith(query):
            place = 0
        elif any(word.startswith(query) for word in self.words.replace(":", " ").split()):
            place = 1
        else:
            place = 2
        return place, not self.active, label


@dataclass
class ChoiceList:
    """A company's customers or items for one modal, and which are likely for each question in it
    (``""`` for the customer; a charge code for items)."""

    kind: str
    load: str
    entries: list[Entry]
    likely: dict[str, list[str]] = field(default_factory=dict)
    scope: str = ""  # the database (and workspace) it was read for: kept lists never cross workspaces

    def __post_init__(self) -> None:
        self.by_value = {e.value: e for e in self.entries}

    def has_active(self) -> bool:
        return any(e.active for e in self.entries)

    def entry(self, value: str | None) -> Entry | None:
        return self.by_value.get(value or "")

    def answer(self, key: str = "", query: str = "") -> tuple[list[Option], list[Option]]:
        """The likely options, then the others, for what a person typed (at most 100 in all):
        ``query`` is looked for in the name, email and full name, each of its words anywhere."""
        text = " ".join(query.casefold().split())
        needles = text.split()
        likely = [
            self.by_value[v].option(suggested=True)
            for v in self.likely.get(key, [])
            if v in self.by_value and self.by_value[v].finds(needles)
        ][:MAX_OPTIONS]
        shown = {o.value for o in likely}
        found = [e for e in self.entries if e.value not in shown and e.finds(needles)]
        if text:
            found.sort(key=lambda e: e.rank(text))
        room = MAX_OPTIONS - len(likely)
        return likely, [e.option() for e in found[:room]]


class ListCache:
    """Lists by view id, kept :data:`LIST_TTL` seconds, at most :data:`LIST_MAX` (least recently used
    forgotten first). Safe across the threads of one process."""

    def __init__(
        self, ttl: float = LIST_TTL, size: int = LIST_MAX, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.size, self.clock = ttl, size, clock
        self._lists: OrderedDict[str, tuple[float, ChoiceList]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> ChoiceList | None:
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                return None
            if self.clock() - found[0] > self.ttl:
                del self._lists[key]
                return None
            self._lists.move_to_end(key)
            return found[1]

    def put(self, key: str, value: ChoiceList) -> None:
        with self._lock:
            self._lists[key] = (self.clock(), value)
            self._lists.move_to_end(key)
            while len(self._lists) > self.size:
                self._lists.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._lists.clear()

    def __len__(self) -> int:
        return len(self._lists)


LISTS = ListCache()


def _view(sync: SyncEngine, load_number: str):
    number = clean_load_number(load_number)
    view = sync.read_view(number)
    if view is None:
        raise UserInputError(f"there is no load {number!r}")
    return view


def _words(*parts: str | None) -> str:
    return " ".join(p for p in parts if p).casefold()


def customer_entry(customer: dict) -> Entry:
    """A QuickBooks customer as the picker shows it (a sub-customer as ``Parent:Child``) and searches
    it: by name, email and full name."""
    brief = customer_brief(customer)
    name = brief["name"] or f"customer {brief['id']}"
    email = qb_email(customer)
    label = customer.get("FullyQualifiedName") or name
    return Entry(str(brief["id"]), label, email, is_active(customer), _words(name, email, label))


def item_entry(item: dict) -> Entry:
    """A QuickBooks item as the picker shows it (``Parent:Child``) and searches it: by name and full name."""
    brief = item_brief(item)
    label = brief["full_name"] or brief["name"] or f"item {brief['id']}"
    return Entry(str(brief["id"]), label, "", brief["active"], _words(brief["name"], label))


def customer_list(sync: SyncEngine, load_number: str) -> ChoiceList:
    """Every QuickBooks customer (inactive ones too, marked), by name, and the likely ones for the
    load's TMS customer: one paged QuickBooks query."""
    view = _view(sync, load_number)
    customers = sync.api.query_all("Customer", "Active IN (true, false)")
    entries = sorted((customer_entry(c) for c in customers), key=lambda e: e.label.casefold())
    tms = view.customer
    likely = [str(c["Id"]) for _, c in likely_customers(tms.name, tms.qb_email, customers)]
    return ChoiceList(CUSTOMERS, view.load_number, entries, {"": likely}, engine_key(sync.engine))


def item_list(sync: SyncEngine, load_number: str) -> tuple[ChoiceList, list[ItemChoice]]:
    """Every QuickBooks item (inactive ones too, marked) by full name, and each charge code of the load
    that is not linked to one active item, with its likely items: the duplicates or inactive item of
    the same name, then items whose name reads like the charge's. One paged QuickBooks query."""
    view = _view(sync, load_number)
    items = sync.api.query_all("Item", "Active IN (true, false)")
    entries = sorted((item_entry(i) for i in items), key=lambda e: e.label.casefold())
    choice_list = ChoiceList(ITEMS, view.load_number, entries, scope=engine_key(sync.engine))
    questions = []
    for code, charge in sorted(view.codes.items()):
        match = match_item(charge.name, charge.qb_item_id, items)
        if match.item is not None and charge.sync_state == ChargeCodeState.SYNCED:
            continue
        candidates = [item_brief(match.item)] if match.item is not None else match.candidates
        ids = [str(c["id"]) for c in candidates]
        ids += [str(i["Id"]) for _, i in likely_items(charge.name, items) if str(i["Id"]) not in ids]
        choice_list.likely[code] = ids
        likely, _ = choice_list.answer(code)
        questions.append(ItemChoice(code, charge.name, match.problem or "unsynced", likely))
    return choice_list, questions


def _read(sync: SyncEngine, kind: str, load_number: str) -> ChoiceList:
    return customer_list(sync, load_number) if kind == CUSTOMERS else item_list(sync, load_number)[0]


def remember(view_id: str | None, choice_list: ChoiceList) -> None:
    """Keep a modal's list for its options requests (see :data:`LISTS`)."""
    if view_id:
        LISTS.put(view_id, choice_list)


def list_for(sync: SyncEngine, view_id: str | None, kind: str, load_number: str) -> ChoiceList:
    """The list of ``kind`` (customers or items) a modal searches: kept since it opened, else read
    once now and kept."""
    if kind not in (CUSTOMERS, ITEMS):
        raise UserInputError(f"there is no list of {kind} to choose from")
    kept = LISTS.get(view_id) if view_id else None
    same = kept is not None and kept.scope == engine_key(sync.engine)
    if same and kept.kind == kind and kept.load == clean_load_number(load_number):
        return kept
    fresh = _read(sync, kind, load_number)
    remember(view_id, fresh)
    return fresh


def kept_entry(sync: SyncEngine, view_id: str | None, value: str | None) -> Entry | None:
    """The customer or item ``value`` of a modal's kept list (None when the list is not kept here, or
    was read for another workspace)."""
    kept = LISTS.get(view_id) if view_id else None
    if kept is None or kept.scope != engine_key(sync.engine):
        return None
    return kept.entry(value)


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


def suggested_doc_number(sync: SyncEngine, load_number: str) -> str:
    """The invoice number the last diagnosis suggested for a too-long load number ('' when none)."""
    view = _view(sync, load_number)
    for data in sync.recorded_reasons(view.id):
        suggestion = (data.get("evidence") or {}).get("suggested_doc_number")
        if suggestion:
            return str(suggestion)
    return ""
