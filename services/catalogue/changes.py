"""The words of QuickBooks' own changes: an invoice voided or edited there, a customer or item made
inactive or merged there, a payment applied there, and the short notice the channel gets at once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from services.catalogue.values import money, plural

NOTICE_LINES = 5  # a notice names at most this many loads; the rest are counted


def summary_qb_invoice_voided(qb_invoice_id: str, load_number: str, by: str | None, at: str | None) -> str:
    who = f" by {by}" if by else ""
    moment = f" at {at}" if at else ""
    return f"Invoice {qb_invoice_id} for load {load_number} was voided in QuickBooks{who}{moment}"


def summary_number_held_by_voided(doc_number: str, qb_invoice_id: str) -> str:
    return (
        f"QuickBooks keeps voided invoice {doc_number} (id {qb_invoice_id}) and its number: the new invoice "
        "needs another number"
    )


def summary_customer_changed_in_quickbooks(
    load_number: str, qb_invoice_id: str, now_for: str, synced_for: str
) -> str:
    return (
        f"Invoice {qb_invoice_id} for load {load_number} was moved to {now_for} in QuickBooks; "
        f"the load is for {synced_for}"
    )


def summary_customer_gone(customer: str, qb_name: str, how: str) -> str:
    return f"QuickBooks customer {qb_name}, linked to {customer}, was {how} in QuickBooks"


def summary_items_gone(names: Sequence[str], how: str) -> str:
    return f"Charge code {', '.join(names)} was {how} in QuickBooks Products and Services"


def gone_words(status: str) -> str:
    """How a customer or item left QuickBooks: ``inactive`` (also a customer merged into another) or
    ``deleted``."""
    return "deleted" if status == "deleted" else "made inactive"


def payment_words(qb_total: Any, qb_balance: Any) -> str | None:
    """``Paid in QuickBooks ($850.00)`` or ``Partly paid in QuickBooks: $300.00 of $850.00 still owed``;
    nothing when nothing was paid or nothing is known."""
    if qb_total is None or qb_balance is None:
        return None
    total, balance = Decimal(str(qb_total)), Decimal(str(qb_balance))
    if total <= 0 or balance >= total:
        return None
    if balance <= 0:
        return f"Paid in QuickBooks ({money(total)})"
    return f"Partly paid in QuickBooks: {money(balance)} of {money(total)} still owed"


def blocked_words(summary: str, numbers: Sequence[str]) -> str:
    """A customer or item gone from QuickBooks, and the loads still to sync it blocks."""
    shown = ", ".join(numbers[:5]) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
    return f"{summary}: {plural(len(numbers), 'load')} waiting to sync will not ({shown})"


NOTICE_ACTION = {
    "qb_invoice_deleted": "Clear QuickBooks ID to sync it again",
    "qb_invoice_voided": "Clear QuickBooks ID to send it again, or Dismiss if the load was cancelled",
    "amount_mismatch": "Push invoice update to put the load's charges back",
    "customer_changed": "Push customer change to put the load's customer back",
    "customer_not_synced": "Link or create the customer before these loads sync",
    "charge_codes_not_synced": "Resync charge codes before these loads sync",
}


NOTICE_KIND = {
    "qb_invoice_deleted": "deleted",
    "qb_invoice_voided": "voided",
    "amount_mismatch": "total edited",
    "customer_changed": "moved to another customer",
    "customer_not_synced": "customer gone",
    "charge_codes_not_synced": "item gone",
}


def notice_line(summary: str, code: str, load_number: str | None = None) -> str:
    """One problem QuickBooks' changes made: what happened (naming the load), then the button."""
    if load_number and load_number not in summary:
        summary = f"Load {load_number}: {summary}"
    action = NOTICE_ACTION.get(code)
    return f"{summary.rstrip('.')} — {action}" if action else summary


def notice_text(lines: Sequence[tuple[str, str]]) -> str:
    """The channel's notice for problems found together: ``lines`` are (reason code, line). One
    problem reads as its line; several as a count by reason, then at most ``NOTICE_LINES`` lines."""
    if len(lines) == 1:
        return f":warning: {lines[0][1]}"
    counts = Counter(code for code, _ in lines)
    by_reason = ", ".join(
        f"{count} {NOTICE_KIND.get(code, code.replace('_', ' '))}" for code, count in counts.most_common()
    )
    head = f":warning: {plural(len(lines), 'change')} in QuickBooks need attention ({by_reason}):"
    shown = [f"• {line}" for _, line in lines[:NOTICE_LINES]]
    rest = len(lines) - NOTICE_LINES
    if rest > 0:
        shown.append(f"…and {rest} more: `/qbsync problems`")
    return "\n".join([head, *shown])
