"""Every word a person reads about a reason or a fix: one catalogue, rendered by the CLI and by Slack.

This package's ``__init__`` is the catalogue's public face: every name is imported from here
(``from services.catalogue import money``, ``catalogue.REASON``), whichever module of the package holds
it. The modules are split by topic:

- ``reasons``: each reason code's title, whether it passes by itself (transient), the fixes that apply
  (the buttons, in the order to try them), and the steps to fix it by hand in the TMS and in QuickBooks
  (menus named as the vendor article names them);
- ``fixes``: each fix code's button label, whether it is for administrators, the human choice it needs
  (a customer, an item, an email, an invoice number, a reason), the words of the confirmation of a
  fix that changes QuickBooks in a way that cannot be undone, and the sentences fixes answer with;
- ``summaries``: the one sentence of each reason, filled in from its evidence;
- ``evidence``: evidence as labelled lines of plain text (money one way, no ``True``/``None``/empty
  lists) and the options a fix offers;
- ``status`` and ``dismissal``: the words for a load's state, and for dismissing and restoring one;
- ``connection`` and ``digest``: connecting QuickBooks (and switching companies), and the digest's
  channel;
- ``values``: times, money and plurals, shown one way everywhere.

Nothing here knows about Slack or the terminal: renderers decide layout, this package decides words.
"""

from __future__ import annotations

from services.catalogue.changes import (
    NOTICE_ACTION,
    blocked_words,
    gone_words,
    notice_line,
    notice_text,
    payment_words,
    summary_customer_changed_in_quickbooks,
    summary_customer_gone,
    summary_items_gone,
    summary_number_held_by_voided,
    summary_qb_invoice_voided,
)
from services.catalogue.connection import (
    CONNECT_ADMINS_ONLY,
    CONNECT_CONTINUE,
    CONNECT_HOW,
    CONNECT_LINK_WORDS,
    CONNECT_MODAL_TITLE,
    CONNECT_NO_ADMINS,
    CONNECT_NOT_ADMIN,
    CONNECT_NOT_SERVED,
    CONNECT_OTHER_BROWSER,
    CONNECT_TICKET_WORDS,
    CONNECTION_WORDS,
    SWITCH_HOW,
    company_offered_words,
    company_switch_plan,
    company_switched,
    connection_words,
)
from services.catalogue.digest import (
    TOKEN_REFUSALS,
    digest_channel_fix,
    digest_channel_notice,
    digest_chart_missing,
    digest_posted_text,
    missing_scopes_notice,
)
from services.catalogue.dismissal import (
    DISMISS_REASON_MAX,
    DISMISSED_NOT_SYNCED,
    dismissed_count,
    dismissed_done_text,
    dismissed_refusal,
    dismissed_text,
    restored_by_import_text,
    restored_text,
    undismiss_hint,
)
from services.catalogue.evidence import (
    choice_text,
    evidence_lines,
)
from services.catalogue.fixes import (
    ADMIN_ONLY,
    DISCONNECT,
    FIX,
    FIX_CODES,
    FIXES,
    OUTCOME_WORDS,
    STALE_BUTTON,
    Confirm,
    FixWords,
    actor_words,
    already_done_text,
    charge_codes_resynced,
    charge_codes_to_choose,
    confirm_text,
    email_invalid,
    fix_busy_text,
    fix_label,
    person_fix,
)
from services.catalogue.reasons import (
    REASON,
    REASON_ORDER,
    REASONS,
    TRANSIENT,
    ReasonWords,
    reason_title,
)
from services.catalogue.status import (
    STATE_WORDS,
    unchecked_note,
    waiting_words,
)
from services.catalogue.summaries import (
    QUICKBOOKS_SAYS,
    summary_amount_mismatch,
    summary_charge_code,
    summary_custom_txn_numbers_off,
    summary_customer_changed,
    summary_doc_number_too_long,
    summary_duplicate_load_number,
    summary_load_not_found,
    summary_not_connected,
    summary_qb_invoice_deleted,
    summary_quickbooks_says,
)
from services.catalogue.values import (
    money,
    plural,
    when,
)

__all__ = [
    "blocked_words",
    "NOTICE_ACTION",
    "gone_words",
    "notice_line",
    "notice_text",
    "payment_words",
    "summary_customer_changed_in_quickbooks",
    "summary_customer_gone",
    "summary_items_gone",
    "summary_number_held_by_voided",
    "summary_qb_invoice_voided",
    "ADMIN_ONLY",
    "CONNECTION_WORDS",
    "CONNECT_ADMINS_ONLY",
    "CONNECT_CONTINUE",
    "CONNECT_HOW",
    "CONNECT_LINK_WORDS",
    "CONNECT_MODAL_TITLE",
    "CONNECT_NOT_ADMIN",
    "CONNECT_NOT_SERVED",
    "CONNECT_NO_ADMINS",
    "CONNECT_OTHER_BROWSER",
    "CONNECT_TICKET_WORDS",
    "Confirm",
    "DISCONNECT",
    "DISMISSED_NOT_SYNCED",
    "DISMISS_REASON_MAX",
    "FIX",
    "FIXES",
    "FIX_CODES",
    "FixWords",
    "OUTCOME_WORDS",
    "QUICKBOOKS_SAYS",
    "REASON",
    "REASONS",
    "REASON_ORDER",
    "ReasonWords",
    "STALE_BUTTON",
    "STATE_WORDS",
    "SWITCH_HOW",
    "TOKEN_REFUSALS",
    "TRANSIENT",
    "actor_words",
    "already_done_text",
    "charge_codes_resynced",
    "charge_codes_to_choose",
    "choice_text",
    "company_offered_words",
    "company_switch_plan",
    "company_switched",
    "confirm_text",
    "connection_words",
    "digest_channel_fix",
    "digest_channel_notice",
    "digest_chart_missing",
    "digest_posted_text",
    "dismissed_count",
    "dismissed_done_text",
    "dismissed_refusal",
    "dismissed_text",
    "email_invalid",
    "evidence_lines",
    "fix_busy_text",
    "fix_label",
    "missing_scopes_notice",
    "money",
    "person_fix",
    "plural",
    "reason_title",
    "restored_by_import_text",
    "restored_text",
    "summary_amount_mismatch",
    "summary_charge_code",
    "summary_custom_txn_numbers_off",
    "summary_customer_changed",
    "summary_doc_number_too_long",
    "summary_duplicate_load_number",
    "summary_load_not_found",
    "summary_not_connected",
    "summary_qb_invoice_deleted",
    "summary_quickbooks_says",
    "unchecked_note",
    "undismiss_hint",
    "waiting_words",
    "when",
]
