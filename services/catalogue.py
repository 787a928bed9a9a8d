"""Every word a person reads about a reason or a fix: one catalogue, rendered by the CLI and by Slack.

- each reason code: its title, whether it passes by itself (transient), the fixes that apply (the
  buttons, in the order to try them), and the steps to fix it by hand in the TMS and in QuickBooks
  (menus named as the vendor article names them);
- each fix code: its button label, whether it is for administrators, the human choice it needs (a
  customer, an item, an email, an invoice number, a reason), and for fixes that change QuickBooks in
  a way that cannot be undone, the words of the confirmation;
- evidence as labelled lines of plain text (money one way, no ``True``/``None``/empty lists), and the
  words for a load's state.

Nothing here knows about Slack or the terminal: renderers decide layout, this module decides words.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# -- reasons -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonWords:
    code: str
    title: str
    fixes: tuple[str, ...]
    by_hand: tuple[str, ...]  # steps, each starting with where: "TMS: …" or "QuickBooks: …"
    transient: bool = False  # passes by itself: a retry is all it needs

    @property
    def by_hand_text(self) -> str:
        return " ".join(self.by_hand)


REASONS: tuple[ReasonWords, ...] = (
    ReasonWords(
        "qb_not_connected",
        "QuickBooks is not connected",
        ("connect",),
        (
            "TMS: Customers > Customer Profiles > Connect to QB (the button then reads Disconnect from QB).",
            "qbsync: connect again from the Connect button or `qbsync connect`.",
        ),
    ),
    ReasonWords(
        "qb_unavailable",
        "QuickBooks did not answer",
        ("retry",),
        ("Nothing to change: QuickBooks was down or unreachable. Retry in a few minutes.",),
        transient=True,
    ),
    ReasonWords(
        "qb_throttled",
        "QuickBooks asked us to slow down",
        ("retry",),
        ("Nothing to change: QuickBooks allows 500 requests a minute per company. Retry in a minute.",),
        transient=True,
    ),
    ReasonWords(
        "custom_txn_numbers_off",
        "QuickBooks ignores our invoice numbers",
        ("enable_custom_txn_numbers", "retry"),
        (
            "QuickBooks: Settings > Account and settings > Sales > Sales form content > turn on "
            "Custom transaction numbers, then retry.",
        ),
    ),
    ReasonWords(
        "doc_number_too_long",
        "The load number is too long for a QuickBooks invoice number",
        ("set_doc_number",),
        (
            "QuickBooks invoice numbers hold at most 21 characters.",
            "TMS: shorten the load number (or its invoice number prefix in Settings > Billing "
            "Configuration), or give the invoice a shorter QuickBooks number here, then retry.",
        ),
    ),
    ReasonWords(
        "customer_not_synced",
        "The customer is not synced to QuickBooks",
        ("link_customer", "create_customer", "update_customer_email"),
        (
            "TMS: Customers > Customer Profiles > QuickBooks Email must equal the customer's email in "
            "QuickBooks (Sales > Customers); correct it and Save, then retry.",
        ),
    ),
    ReasonWords(
        "charge_codes_not_synced",
        "Charge codes are not synced to QuickBooks",
        ("resync_charge_codes", "map_charge_code"),
        (
            "TMS: Settings > Billing Configuration, find charges marked Unsynced and click the orange "
            "refresh arrows.",
            "QuickBooks: if that fails, Products and Services: make sure each charge code exists once "
            "and is active, and merge duplicates.",
        ),
    ),
    ReasonWords(
        "duplicate_load_number",
        "The load number is already used by an invoice made by hand in QuickBooks",
        ("adopt_qb_invoice", "clear_qb_id"),
        (
            "QuickBooks: Sales > Invoices, delete (or renumber) the manual invoice with this number.",
            "Then clear the QuickBooks ID and retry.",
        ),
    ),
    ReasonWords(
        "customer_changed",
        "The customer was changed in the load after the invoice was synced",
        ("push_customer_change",),
        (
            "Edits in the TMS do not sync by themselves.",
            "QuickBooks: Sales > Invoices, change the customer on the invoice to match the load.",
        ),
    ),
    ReasonWords(
        "qb_invoice_deleted",
        "The synced invoice no longer exists in QuickBooks",
        ("clear_qb_id", "retry"),
        (
            "QuickBooks: check Recent Transactions or the audit log for who deleted it.",
            "Clear the QuickBooks ID to send the invoice again.",
        ),
    ),
    ReasonWords(
        "amount_mismatch",
        "The QuickBooks invoice total differs from the load",
        ("push_invoice_update",),
        (
            "QuickBooks: Sales > Invoices, edit the invoice lines to match the load's charges, or push "
            "the load's charges again.",
        ),
    ),
    ReasonWords(
        "qb_validation_error",
        "QuickBooks rejected the invoice",
        ("retry",),
        ("Read QuickBooks' message; correct the load or the QuickBooks setting it names, then retry.",),
    ),
    ReasonWords(
        "load_not_found",
        "No load with this number",
        (),
        ("TMS: check the load number (Dispatcher > Loads), or import the load first.",),
    ),
)

REASON: dict[str, ReasonWords] = {words.code: words for words in REASONS}
REASON_ORDER: dict[str, int] = {words.code: index for index, words in enumerate(REASONS)}
TRANSIENT: frozenset[str] = frozenset(words.code for words in REASONS if words.transient)


# -- fixes -------------------------------------------------------------------------------------------


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

STATE_WORDS = {
    "synced": "synced — the QuickBooks invoice matches the load",
    "pending": "not synced yet — nothing blocks it",
    "problem": "does not sync",
    "not_found": "not found",
    "dismissed": "dismissed — not to be synced",
}

OUTCOME_WORDS = {
    "applied": "done",
    "unchanged": "nothing to change",
    "refused": "not done",
    "choice": "needs a choice",
    "action": "one more step",
    "failed": "failed",
}


def reason_title(code: str) -> str:
    words = REASON.get(code)
    return words.title if words else code.replace("_", " ")


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


# -- summaries: the one sentence of each reason, filled in from its evidence ---------------------------


CONNECTION_WORDS = {
    "connected": "QuickBooks connected",
    "broken": "QuickBooks disconnected",  # Intuit refused the stored grant: one state until reconnected
    "disconnected": "QuickBooks is not connected",
}


def connection_words(state: str) -> str:
    return CONNECTION_WORDS.get(state, CONNECTION_WORDS["disconnected"])


def summary_not_connected(state: str, detail: str | None = None) -> str:
    if state == "broken":
        return f"QuickBooks disconnected: {detail or 'Intuit refused the stored connection; connect again'}"
    text = connection_words(state)
    return f"{text}: {detail}" if detail else text


def summary_qb_invoice_deleted(qb_invoice_id: str, load_number: str) -> str:
    return f"Invoice {qb_invoice_id} for load {load_number} is no longer in QuickBooks"


def summary_doc_number_too_long(doc_number: str, max_length: int, suggested: str | None = None) -> str:
    text = (
        f"Load number {doc_number} has {len(doc_number)} characters; QuickBooks invoice numbers hold "
        f"at most {max_length}"
    )
    return f"{text} (suggested invoice number: {suggested})" if suggested else text


def summary_custom_txn_numbers_off(doc_number: str) -> str:
    return (
        "Custom transaction numbers are off in QuickBooks, so the invoice would not carry "
        f"the number {doc_number}"
    )


def summary_duplicate_load_number(doc_number: str, brief: dict[str, Any]) -> str:
    return (
        f"QuickBooks already has invoice {doc_number} (id {brief['qb_invoice_id']}, {brief['customer']}, "
        f"{money(brief['total'])}, {brief['date']}) that qbsync did not create"
    )


def summary_customer_changed(load_number: str, now_for: str, qb_invoice_id: str, was_for: str) -> str:
    return f"Load {load_number} is now for {now_for}, but invoice {qb_invoice_id} was synced for {was_for}"


def summary_amount_mismatch(qb_invoice_id: str, qb_total: Any, tms_total: Any) -> str:
    return f"QuickBooks invoice {qb_invoice_id} totals {money(qb_total)}, the load totals {money(tms_total)}"


_CHARGE_CODE_PROBLEM = {
    "missing": "is not in QuickBooks Products and Services",
    "duplicate": "appears more than once in QuickBooks Products and Services",
    "inactive": "is inactive in QuickBooks Products and Services",
}


def summary_charge_code(name: str, problem: str | None, code: str | None = None) -> str:
    label = f"{code} ({name})" if code else name
    return f"{label} {_CHARGE_CODE_PROBLEM.get(problem or 'missing', 'is not synced')}"


def summary_load_not_found(number: str, near: list[str], doc_number_of: str | None = None) -> str:
    if doc_number_of:
        return f"No load {number!r}; it is the QuickBooks invoice number of load {doc_number_of}"
    return f"No load {number!r}" + (f"; did you mean {', '.join(near)}?" if near else "")


# What QuickBooks' own refusals stand for; ``{message}`` and ``{code}`` come from its Fault.
QUICKBOOKS_SAYS = {
    "qb_not_connected": "QuickBooks refused the connection: {message}",
    "qb_throttled": "QuickBooks is limiting requests (HTTP 429); retry in a minute",
    "qb_unavailable": "QuickBooks did not answer: {message}",
    "charge_codes_not_synced": "QuickBooks says a charge code's item does not exist or is inactive",
    "customer_not_synced": "QuickBooks says the customer does not exist or is inactive",
    "doc_number_too_long": "QuickBooks says the invoice number is too long",
    "duplicate_load_number": "QuickBooks says the invoice number is already used",
    "qb_validation_error": "QuickBooks rejected the invoice (code {code}): {message}",
}


def summary_quickbooks_says(code: str, message: str = "", qb_code: str | None = None) -> str:
    return QUICKBOOKS_SAYS[code].format(message=message, code=qb_code or "?")


# -- connecting: who may start it, and another company ---------------------------------------------

CONNECT_HOW = "To connect, an administrator presses Connect QuickBooks in Slack, or runs `qbsync connect`."
CONNECT_ADMINS_ONLY = "Connecting QuickBooks is for administrators only."
CONNECT_NO_ADMINS = "Connecting QuickBooks is for administrators, and none is set up (QBSYNC_ADMINS)."
CONNECT_NOT_SERVED = (
    "Connecting from Slack needs QBSYNC_PUBLIC_URL (this app's address); until it is set, run "
    "`qbsync connect`. Nothing was changed."
)
CONNECT_MODAL_TITLE = "Connect QuickBooks"
CONNECT_CONTINUE = "Continue to QuickBooks"
CONNECT_LINK_WORDS = (
    "Intuit asks you to sign in and choose the QuickBooks company. This link works once, for 10 minutes, "
    "and only for you ({who}): do not share it."
)
CONNECT_TICKET_WORDS = {
    "unknown": "This page opens only from a Connect link made for an administrator.",
    "used": "This Connect link was already used (each one works once).",
    "expired": "This Connect link expired (each one lasts 10 minutes).",
}
CONNECT_OTHER_BROWSER = (
    "This connection was started in another browser (or its cookie expired), so it was not accepted."
)
CONNECT_NOT_ADMIN = "The person who started this connection is not an administrator (QBSYNC_ADMINS)."
SWITCH_HOW = "To switch companies, an administrator runs `qbsync connect --switch-company`."

# -- the digest channel ------------------------------------------------------------------------------

TOKEN_REFUSALS = ("invalid_auth", "token_revoked", "account_inactive", "not_authed")


def digest_channel_fix(problem: str, channel: str, *, bot: str = "qbsync", needed: str | None = None) -> str:
    """What a person does so the digest reaches ``channel`` (a label: ``#billing``), given Slack's
    refusal ``problem``; ``needed``: the missing scope when ``problem`` is ``missing_scope``."""
    if problem in ("channel_not_found", "not_in_channel"):
        return f"invite @{bot} to {channel} (type `/invite @{bot}` in that channel)"
    if problem == "is_archived":
        return f"{channel} is archived: unarchive it, or set QBSYNC_DIGEST_CHANNEL to another channel"
    if problem == "missing_scope":
        scope = needed or "a scope"
        also = f", or invite @{bot} to {channel}" if scope == "channels:join" else ""
        return (
            f"add the {scope} scope to the app (manifest.yml, OAuth & Permissions), reinstall it and "
            f"set the new SLACK_BOT_TOKEN{also}"
        )
    if problem in TOKEN_REFUSALS:
        return f"Slack refused SLACK_BOT_TOKEN ({problem}): reinstall the app and set the new SLACK_BOT_TOKEN"
    return f"Slack refused ({problem})"


def digest_channel_notice(
    problem: str, channel: str, *, bot: str = "qbsync", needed: str | None = None
) -> str:
    """One sentence: why the daily digest does not reach ``channel``, and what to do."""
    fix = digest_channel_fix(problem, channel, bot=bot, needed=needed)
    return f"The daily digest cannot reach {channel} ({problem}): {fix}."


def digest_chart_missing(error: str) -> str:
    return f"the chart was not attached (Slack answered {error})"


def missing_scopes_notice(missing: list[str]) -> str:
    """One line: the bot token lacks scopes of manifest.yml, and how to grant them."""
    return (
        f"SLACK_BOT_TOKEN lacks the scope{'s' if len(missing) > 1 else ''} {', '.join(missing)}: add "
        "them to the app (OAuth & Permissions, or paste manifest.yml again), reinstall it and set the "
        "new SLACK_BOT_TOKEN"
    )


def company_offered_words(known_realm: str, offered_realm: str, connected: bool) -> str:
    """Why a connection to another QuickBooks company than qbsync's changed nothing."""
    known = (
        f"qbsync is connected to QuickBooks company {known_realm}"
        if connected
        else f"qbsync syncs to QuickBooks company {known_realm} (disconnected now)"
    )
    return f"{known}; company {offered_realm} was offered. Nothing was changed. {SWITCH_HOW}"


def company_switch_plan(known_realm: str, loads: int, customers: int, items: int) -> str:
    """What ``qbsync connect --switch-company`` does, said before it does it."""
    return (
        f"Switching from QuickBooks company {known_realm}: if another company is chosen, qbsync forgets "
        f"the QuickBooks ids of company {known_realm} (the invoice ids of {plural(loads, 'load')}, "
        f"{plural(customers, 'linked customer')} and {plural(items, 'mapped charge code')}), so those "
        "loads are sent to the new company as new invoices on the next sync. Nothing is deleted in "
        f"either company. Choosing company {known_realm} again changes nothing."
    )


def company_switched(old_realm: str, new_realm: str, loads: int, customers: int, items: int) -> str:
    return (
        f"Switched from QuickBooks company {old_realm} to {new_realm}: forgot the QuickBooks ids of "
        f"{plural(loads, 'load')}, {plural(customers, 'customer')} and {plural(items, 'charge code')}; "
        "those loads are sent to the new company on the next sync."
    )


# -- dismissal ---------------------------------------------------------------------------------------

DISMISS_REASON_MAX = 200


def dismissed_text(by: str, at: Any, reason: str) -> str:
    """``Dismissed by U123 on 2026-11-27 14:03 UTC — invoiced by hand``."""
    return f"Dismissed by {by} on {when(at)} — {reason}"


def unchecked_note(reason_code: str) -> str:
    """A synced load whose invoice QuickBooks could not be asked about just now."""
    return (
        f"QuickBooks could not be asked to check its invoice again just now ({reason_title(reason_code)}); "
        "it stays synced as it was"
    )


def undismiss_hint(load_number: str) -> str:
    return f"Restore it to sync it again (qbsync fix {load_number} undismiss)."


def dismissed_count(count: int, amount: Any) -> str:
    """``2 dismissed ($1,250.00)``: loads a person took out of syncing, counted apart from problems."""
    return f"{count} dismissed ({money(amount)})"


DISMISSED_NOT_SYNCED = "Dismissed loads are not synced and are not counted as problems."


def dismissed_refusal(label: str) -> str:
    """A fix button pressed on a load that was dismissed meanwhile (an older copy of the message)."""
    return f"{label} was not run: this load is dismissed, so qbsync leaves it alone. Restore it first."


def restored_text(load_number: str, state: str, titles: list[str], qb_invoice_id: str | None = None) -> str:
    """What is true once a dismissed load is restored: synced, back in the problem list, or waiting."""
    if state == "synced":
        invoice = f" (QuickBooks invoice {qb_invoice_id})" if qb_invoice_id else ""
        return f"Restored load {load_number}: it is synced{invoice}."
    if state == "problem" and titles:
        return f"Restored load {load_number}: back in the problem list — {'; '.join(titles)}."
    return f"Restored load {load_number}: it syncs with the next automatic sync."


def dismissed_done_text(load_number: str) -> str:
    """What Dismiss did, for a reader in Slack (the Restore button is in the message)."""
    return (
        f"Dismissed load {load_number}: qbsync no longer syncs it, and it leaves the problem list and the "
        "digest (counted apart as dismissed). Restore brings it back."
    )


def digest_posted_text(day: Any, channel: str) -> str:
    """What posting the digest on request did (``qbsync digest --post``, the playground): the day and
    the channel, never the message's ts."""
    return f"Posted the digest of {day} to {channel}."


STALE_BUTTON = "This button is out of date. Type `/qbsync` and the load number for the current buttons."


def waiting_words(failed: str | None, retry: str | None) -> list[tuple[str, str]]:
    """A transient failure's times, already formatted: when the last attempt failed and when qbsync
    tries again by itself (the automatic sync's back-off)."""
    lines = []
    if failed:
        lines.append(("Last attempt failed", failed))
    lines.append(("qbsync retries it by itself", retry or "with the next automatic sync"))
    return lines


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


def restored_by_import_text(by: str | None, reason: str | None) -> str:
    who = f" (dismissed by {by}: {reason})" if by and reason else ""
    return f"Changed in the TMS after it was dismissed{who}: back in the problem list, to be synced again."


# -- values ------------------------------------------------------------------------------------------


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


def _customer(entry: dict[str, Any]) -> str:
    name = entry.get("name") or "(no name)"
    parts = [f"QuickBooks customer {entry['id']}" if entry.get("id") else None, name]
    text = " ".join(p for p in parts if p)
    if entry.get("email"):
        text += f" <{entry['email']}>"
    return text


def _item(entry: dict[str, Any]) -> str:
    text = f"item {entry.get('id')} {entry.get('full_name') or entry.get('name') or ''}".rstrip()
    if entry.get("active") is False:
        text += " (inactive)"
    return text


_CODE_PROBLEMS = {
    "missing": "not in QuickBooks Products and Services",
    "duplicate": "more than once in QuickBooks Products and Services",
    "inactive": "inactive in QuickBooks Products and Services",
}


def evidence_lines(code: str, evidence: dict[str, Any], *, dates: bool = True) -> list[tuple[str, str]]:
    """The evidence of one reason as (label, text) lines, in plain words; empty values are left out.
    ``dates=False`` leaves out the lines made of times (a renderer that shows times its own way adds
    them: ``waiting_words``)."""
    ev = evidence or {}
    lines: list[tuple[str, str]] = []

    def add(label: str, value: Any) -> None:
        if value is None or value == "" or value == [] or value == {}:
            return
        lines.append((label, value if isinstance(value, str) else _plain(value)))

    if code == "customer_not_synced":
        add("TMS customer", ev.get("tms_customer"))
        add("TMS QuickBooks email", ev.get("tms_email") or "(empty)" if "tms_email" in ev else None)
        add("Linked QuickBooks customer", ev.get("linked_qb_customer_id"))
        for entry in ev.get("qb_customers_with_this_email") or []:
            add("QuickBooks customer with this email", _customer(entry))
        for entry in ev.get("candidates") or []:
            add("Closest QuickBooks customer", _customer(entry))
    elif code == "charge_codes_not_synced" and ev.get("charge_codes"):
        for entry in ev["charge_codes"]:
            problem = _CODE_PROBLEMS.get(entry.get("problem") or "missing", "not synced")
            text = f"{entry.get('code')} ({entry.get('name')}): {problem}"
            items = [_item(i) for i in entry.get("qb_items") or []]
            if items:
                text += ": " + "; ".join(items)
            add("Charge code", text)
    elif code == "duplicate_load_number" and ev.get("qb_invoice_id"):
        text = f"invoice {ev.get('doc_number') or ''} (id {ev['qb_invoice_id']})".replace("  ", " ")
        add("Manual QuickBooks invoice", text)
        add("Its customer", ev.get("customer"))
        add("Its total", money(ev["total"]) if ev.get("total") is not None else None)
        add("Its date", ev.get("date"))
    elif code == "customer_changed":
        synced = ev.get("synced_customer") or {}
        current = ev.get("current_customer") or {}
        add("Invoice", f"QuickBooks invoice {ev['qb_invoice_id']}" if ev.get("qb_invoice_id") else None)
        qb_name = synced.get("qb_customer_name")
        was = synced.get("name") or synced.get("tms_id")
        if qb_name and qb_name != was:
            was = f"{was} (QuickBooks: {qb_name})"
        add("Synced for", was)
        add("Load now for", current.get("name") or current.get("tms_id"))
    elif code == "amount_mismatch":
        add("Invoice", f"QuickBooks invoice {ev['qb_invoice_id']}" if ev.get("qb_invoice_id") else None)
        add("QuickBooks total", money(ev["qb_total"]) if ev.get("qb_total") is not None else None)
        add("Load total", money(ev["tms_total"]) if ev.get("tms_total") is not None else None)
    elif code == "qb_invoice_deleted":
        add("Invoice", f"QuickBooks invoice {ev['qb_invoice_id']}" if ev.get("qb_invoice_id") else None)
    elif code == "doc_number_too_long" and ev.get("length"):
        add("Load number", f"{ev.get('load_number')} ({ev['length']} characters, at most {ev.get('max')})")
        add("QuickBooks invoice number set", ev.get("qb_doc_number"))
        add("Suggested invoice number", ev.get("suggested_doc_number"))
    elif code == "custom_txn_numbers_off" and "preference" in ev:
        add("QuickBooks setting", "Custom transaction numbers: off")
    elif code == "qb_not_connected" and "connection" in ev:
        add("Connection", str(ev["connection"]))
        add("Detail", ev.get("detail"))
    elif code in TRANSIENT and ev.get("from_last_attempt"):
        if dates:
            failed, retry = ev.get("failed_at"), ev.get("retry_at")
            shown = waiting_words(when(failed) if failed else None, when(retry) if retry else None)
            for label, text in shown:
                add(label, text)
    elif code == "load_not_found":
        near = ev.get("near_matches") or []
        add("Near matches", ", ".join(near) if near else None)
    else:
        _generic(ev, add)
        return lines
    _qb_fault(ev, add)
    return lines


def choice_text(choice: dict[str, Any]) -> str:
    """One option a fix offers (a QuickBooks customer, the items for a charge code, an invoice
    number) in plain words."""
    if "doc_number" in choice:
        return str(choice["doc_number"])
    if "qb_items" in choice:
        items = "; ".join(_item(i) for i in choice.get("qb_items") or [])
        return f"{choice.get('code')} ({choice.get('name')}): {items}" if items else str(choice.get("code"))
    if "id" in choice or "email" in choice:
        return _customer(choice)
    return _plain(choice)


def _qb_fault(ev: dict[str, Any], add) -> None:
    """QuickBooks' own code and message, where a reason came from a Fault."""
    if ev.get("qb_code"):
        add("QuickBooks error", f"{ev['qb_code']}: {ev.get('detail') or ''}".rstrip(": "))
        add("Field", ev.get("element"))
        add("Intuit request id", ev.get("intuit_tid"))


_GENERIC_LABELS = {
    "qb_code": "QuickBooks error code",
    "detail": "QuickBooks says",
    "element": "Field",
    "intuit_tid": "Intuit request id",
    "from_last_attempt": None,
}


def _generic(ev: dict[str, Any], add) -> None:
    for key, value in ev.items():
        if key in _GENERIC_LABELS and _GENERIC_LABELS[key] is None:
            continue
        label = _GENERIC_LABELS.get(key) or key.replace("_", " ").capitalize()
        add(label, value)
    if ev.get("from_last_attempt"):
        add("When", "at the last attempt (QuickBooks is only asked again by a retry)")


def _plain(value: Any) -> str:
    """A value as words: booleans as yes/no, lists and dicts flattened, nothing empty shown."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        parts = [
            f"{k.replace('_', ' ')} {_plain(v)}" for k, v in value.items() if v not in (None, "", [], {})
        ]
        return ", ".join(parts)
    if isinstance(value, list | tuple):
        return "; ".join(_plain(v) for v in value if v not in (None, "", [], {}))
    return str(value)
