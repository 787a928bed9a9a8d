"""The words of each fix (``FIXES``): its button label, whether it is for administrators, the human
choice it needs, the confirmation of a fix that cannot be undone; the words of a fix's outcome, and
the sentences a fix answers with (who did it, what Resync charge codes did, a stale button)."""

from __future__ import annotations

from dataclasses import dataclass

from services.catalogue.reasons import REASON


@dataclass(frozen=True)
class Confirm:
    """A confirmation shown before a fix that changes QuickBooks and cannot simply be undone."""

    title: str  # ≤ 100 characters
    text: str  # ≤ 300 characters; ``{load}`` is replaced by the load number
    confirm: str  # ≤ 30
    deny: str = "Cancel"


@dataclass(frozen=True)
class FixWords:
    code: str
    label: str  # a button's text: ≤ 75 characters
    done: str  # what it did, for an audit line: "customer linked"
    admin: bool = False
    choice: str | None = None  # customer | item | email | doc_number | reason: what a person chooses
    confirm: Confirm | None = None
    danger: bool = False  # styled as a danger button
    per_load: bool = True  # False: acts on the company (connect)


FIXES: tuple[FixWords, ...] = (
    FixWords("connect", "Connect QuickBooks", "QuickBooks connected", per_load=False),
    FixWords("link_customer", "Link customer", "customer linked", choice="customer"),
    FixWords(
        "create_customer",
        "Create customer in QuickBooks",
        "customer created in QuickBooks",
        confirm=Confirm(
            "Create the customer in QuickBooks?",
            "A new customer is added to QuickBooks (Sales > Customers) with the TMS name and QuickBooks "
            "email of load {load}'s customer, and linked to it.",
            "Create customer",
        ),
    ),
    FixWords("update_customer_email", "Update QuickBooks email", "QuickBooks email updated", choice="email"),
    FixWords("resync_charge_codes", "Resync charge codes", "charge codes resynced"),
    FixWords("map_charge_code", "Map charge code", "charge code mapped", choice="item"),
    FixWords(
        "push_customer_change",
        "Push customer change",
        "customer change pushed",
        confirm=Confirm(
            "Change the invoice's customer?",
            "The QuickBooks invoice of load {load} is changed to the load's current customer. The "
            "previous customer no longer sees it.",
            "Change customer",
        ),
    ),
    FixWords(
        "push_invoice_update",
        "Push invoice update",
        "invoice lines replaced",
        confirm=Confirm(
            "Replace the invoice lines?",
            "The lines of the QuickBooks invoice of load {load} are replaced by the load's charges, so "
            "its total matches the TMS.",
            "Replace lines",
        ),
    ),
    FixWords(
        "adopt_qb_invoice",
        "Adopt QuickBooks invoice",
        "manual invoice adopted",
        confirm=Confirm(
            "Adopt the manual invoice?",
            "The invoice made by hand in QuickBooks with number {load} becomes this load's invoice "
            "(only if its customer and total match). No new invoice is created.",
            "Adopt invoice",
        ),
    ),
    FixWords(
        "clear_qb_id",
        "Clear QuickBooks ID",
        "QuickBooks ID cleared",
        admin=True,
        danger=True,
        confirm=Confirm(
            "Clear the QuickBooks ID?",
            "qbsync forgets the QuickBooks invoice of load {load} (after checking it is gone from "
            "QuickBooks) and sends the invoice again as a new one.",
            "Clear and resend",
        ),
    ),
    FixWords("set_doc_number", "Set invoice number", "QuickBooks invoice number set", choice="doc_number"),
    FixWords(
        "enable_custom_txn_numbers",
        "Turn on custom invoice numbers",
        "custom transaction numbers turned on",
        admin=True,
        confirm=Confirm(
            "Change a QuickBooks company setting?",
            "Custom transaction numbers are turned on for the whole company (Account and settings > "
            "Sales), so invoices carry the load numbers. Every load it blocked is retried.",
            "Turn on",
        ),
    ),
    FixWords("dismiss", "Dismiss", "dismissed (not to be synced)", choice="reason"),
    FixWords("undismiss", "Restore", "restored to syncing"),
    FixWords("retry", "Retry", "retried"),
)

# Not a fix of a load: acts on the company's connection (``/qbsync disconnect``, admins only).
DISCONNECT = FixWords(
    "disconnect",
    "Disconnect QuickBooks",
    "QuickBooks disconnected",
    admin=True,
    danger=True,
    per_load=False,
    confirm=Confirm(
        "Disconnect QuickBooks?",
        "qbsync revokes its access at Intuit and forgets the tokens. No invoice syncs until someone "
        "connects again with the Connect button.",
        "Disconnect",
    ),
)

FIX: dict[str, FixWords] = {words.code: words for words in FIXES}
FIX_CODES: tuple[str, ...] = tuple(words.code for words in FIXES)
ADMIN_ONLY: frozenset[str] = frozenset(words.code for words in (*FIXES, DISCONNECT) if words.admin)


OUTCOME_WORDS = {
    "applied": "done",
    "unchanged": "nothing to change",
    "refused": "not done",
    "choice": "needs a choice",
    "action": "one more step",
    "failed": "failed",
}


def fix_label(code: str) -> str:
    words = DISCONNECT if code == DISCONNECT.code else FIX.get(code)
    return words.label if words else code.replace("_", " ")


def person_fix(code: str) -> str:
    """What a person does about a reason, in a few words (the digest and the App Home)."""
    words = REASON.get(code)
    if words is None:
        return ""
    if words.transient:
        return "nothing: qbsync retries these by itself"
    labels = [fix_label(fix) for fix in words.fixes if fix != "retry"]
    return " or ".join(labels) if labels else words.by_hand[0]


def confirm_text(fix: str, load_number: str) -> Confirm | None:
    words = FIX.get(fix)
    if words is None or words.confirm is None:
        return None
    c = words.confirm
    return Confirm(c.title, c.text.replace("{load}", load_number), c.confirm, c.deny)


STALE_BUTTON = "This button is out of date. Type `/qbsync` and the load number for the current buttons."


def charge_codes_resynced(entries: list[tuple[str, str, str]]) -> str:
    """What Resync charge codes did, by name: ``Created Detention (item 42) in QuickBooks; linked
    Chassis to item 17``. ``entries``: (created | linked | reactivated, charge code name, item id)."""
    words = {
        "created": "Created {name} (item {item}) in QuickBooks",
        "linked": "linked {name} to item {item}",
        "reactivated": "reactivated item {item} for {name}",
    }
    order = {"created": 0, "reactivated": 1, "linked": 2}  # what changed QuickBooks first
    ranked = sorted(entries, key=lambda entry: order[entry[0]])
    parts = [words[kind].format(name=name, item=item) for kind, name, item in ranked]
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def charge_codes_to_choose(entries: list[tuple[str, int]]) -> str:
    """Resync found several QuickBooks items for some charge codes: the person chooses."""
    names = ", ".join(f"{name} ({count} items)" for name, count in entries)
    return (
        f"Several QuickBooks items could be meant for {names}: choose one with "
        f"{FIX['map_charge_code'].label}, or merge the duplicates in QuickBooks > Products and Services."
    )


def email_invalid(said: str) -> str:
    """A QuickBooks email a person typed that is not one (``said``: why, from the import's rules)."""
    return said.replace("qb_email ", "The QuickBooks email ", 1)


def actor_words(actor: str | None) -> str:
    """Who did something, for a reader, when it was not a Slack user (those are shown as mentions):
    ``cli:maria`` is "maria (qbsync command line)"; the automatic sync and the TMS by name."""
    if not actor:
        return "someone"
    kind, _, name = actor.partition(":")
    if kind == "cli":
        return f"{name or 'someone'} (qbsync command line)"
    if kind in ("scheduler", "auto"):
        return "the automatic sync"
    if kind in ("tms", "webhook"):
        return "the TMS"
    if kind == "slack":
        return "a Slack user"
    return actor if ":" not in actor else "someone"


def already_done_text(who: str) -> str:
    """A fix someone applied to the same load while this click waited its turn: it is not run again."""
    return f"Already done by {who} a moment ago."


def fix_busy_text(load_number: str | None) -> str:
    """A click that waited too long for another fix of the same load (or of the company) to finish."""
    where = f"load {load_number}" if load_number else "QuickBooks"
    return f"Another fix of {where} is still running, so nothing was changed. Try again in a moment."
