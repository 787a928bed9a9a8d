"""The words of a load's status: its state (``STATE_WORDS``), a synced load QuickBooks could not be
asked about, and when a transient failure is tried again."""

from __future__ import annotations

from services.catalogue.reasons import reason_title

STATE_WORDS = {
    "synced": "synced — the QuickBooks invoice matches the load",
    "pending": "not synced yet — nothing blocks it",
    "problem": "does not sync",
    "not_found": "not found",
    "dismissed": "dismissed — not to be synced",
}


def unchecked_note(reason_code: str) -> str:
    """A synced load whose invoice QuickBooks could not be asked about just now."""
    return (
        f"QuickBooks could not be asked to check its invoice again just now ({reason_title(reason_code)}); "
        "it stays synced as it was"
    )


def waiting_words(failed: str | None, retry: str | None) -> list[tuple[str, str]]:
    """A transient failure's times, already formatted: when the last attempt failed and when qbsync
    tries again by itself (the automatic sync's back-off)."""
    lines = []
    if failed:
        lines.append(("Last attempt failed", failed))
    lines.append(("qbsync retries it by itself", retry or "with the next automatic sync"))
    return lines
