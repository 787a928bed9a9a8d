"""The words of dismissing a load and restoring it: who dismissed it and why, the count of dismissed
loads, a fix refused on one, and a load the TMS changed after it was dismissed."""

from __future__ import annotations

from typing import Any

from services.catalogue.values import money, when

DISMISS_REASON_MAX = 200


def dismissed_text(by: str, at: Any, reason: str) -> str:
    """``Dismissed by U123 on 2026-11-27 14:03 UTC — invoiced by hand``."""
    return f"Dismissed by {by} on {when(at)} — {reason}"


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


def restored_by_import_text(by: str | None, reason: str | None) -> str:
    who = f" (dismissed by {by}: {reason})" if by and reason else ""
    return f"Changed in the TMS after it was dismissed{who}: back in the problem list, to be synced again."
