"""The words of the QuickBooks connection: its state, who may connect and how, the Connect link's
words, and another company offered or switched to."""

from __future__ import annotations

from services.catalogue.values import plural

CONNECTION_WORDS = {
    "connected": "QuickBooks connected",
    "broken": "QuickBooks disconnected",  # Intuit refused the stored grant: one state until reconnected
    "disconnected": "QuickBooks is not connected",
}


def connection_words(state: str) -> str:
    return CONNECTION_WORDS.get(state, CONNECTION_WORDS["disconnected"])


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
