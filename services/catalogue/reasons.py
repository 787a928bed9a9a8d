"""The words of each reason a load does not sync (``REASONS``): its title, whether it passes by itself
(transient), the fixes that apply (the buttons, in the order to try them) and the steps to fix it by
hand in the TMS and in QuickBooks (menus named as the vendor article names them)."""

from __future__ import annotations

from dataclasses import dataclass


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
        "qb_invoice_voided",
        "The synced invoice was voided in QuickBooks",
        ("clear_qb_id", "dismiss"),
        (
            "QuickBooks: Sales > Invoices, open the invoice (it shows VOIDED) to see who voided it; "
            "the audit log says when.",
            "If the load was cancelled, dismiss it here. Otherwise clear the QuickBooks ID to send a new "
            "invoice (QuickBooks keeps the voided one and its number).",
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


def reason_title(code: str) -> str:
    words = REASON.get(code)
    return words.title if words else code.replace("_", " ")
