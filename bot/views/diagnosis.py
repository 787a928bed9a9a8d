"""A load's diagnosis as a Slack message: a header with the load and its state, one section per reason
in fix order (what is wrong in plain words, the evidence, where to fix it by hand) followed by its fix
buttons, and a context line with the time of the check and the QuickBooks requests it took."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.views.blocks import (
    Block,
    actions,
    actor_mention,
    button,
    context,
    cut,
    divider,
    escape,
    header,
    message,
    section,
    slack_date,
)
from services.catalogue import (
    DISMISSED_NOT_SYNCED,
    FIX,
    REASON,
    STATE_WORDS,
    TRANSIENT,
    confirm_text,
    fix_label,
    plural,
    waiting_words,
)
from services.catalogue import evidence_lines as catalogue_evidence

SUMMARY_MAX = 600  # a section holds 3,000 characters: long QuickBooks messages are cut, the steps kept
EVIDENCE_MAX = 300
EVIDENCE_LINES = 10

ICONS = {"synced": "✅", "problem": "⚠️", "pending": "⏳", "not_found": "❓", "dismissed": "🚫"}


def fix_button(fix: str, load_number: str, *, primary: bool = False, connect_url: str | None = None) -> Block:
    """A fix's button (``fix.<code>``). Connect QuickBooks is an action button like the others, never a
    link: its link is made when an administrator presses it, for them only (``connect_url`` is not
    put in any message)."""
    words = FIX.get(fix)
    style = "danger" if words and words.danger else ("primary" if primary else None)
    value = fix if fix == "connect" and not load_number else load_number
    return button(
        fix_label(fix),
        ids.fix_action(fix),
        value,
        style=style,
        confirm=confirm_text(fix, load_number),
    )


def reason_blocks(
    reason: Any,
    position: int,
    load_number: str,
    connect_url: str | None = None,
    *,
    fixable: bool = True,
) -> list[Block]:
    """One reason: a section with its words and evidence, then its fix buttons (if any; none when
    ``fixable`` is False: a dismissed load offers Restore only)."""
    words = REASON[reason.code]
    lines = [f"*{position}. {escape(words.title)}*", escape(cut(reason.summary, SUMMARY_MAX))]
    evidence = catalogue_evidence(reason.code, reason.evidence, dates=False)
    evidence += _waiting(reason)
    for label, text in evidence[:EVIDENCE_LINES]:
        shown = text if isinstance(text, Dated) else escape(cut(text, EVIDENCE_MAX))
        lines.append(f"• {escape(label)}: {shown}")
    if len(evidence) > EVIDENCE_LINES:
        lines.append(
            f"• …and {len(evidence) - EVIDENCE_LINES} more (`qbsync diagnose {escape(load_number)}`)"
        )
    lines.append(f"_By hand:_ {escape(words.by_hand_text)}")
    blocks = [section("\n".join(lines), block_id=ids.reason_block(reason.code))]
    if reason.code == "load_not_found":
        near = (reason.evidence or {}).get("near_matches") or []
        if near:
            buttons = [
                button(f"Diagnose {number}", ids.diagnose_action(i), number) for i, number in enumerate(near)
            ]
            blocks.append(actions(buttons, block_id=ids.NEAR))
        return blocks
    fixes = [f for f in (reason.fixes or []) if f in FIX] if fixable else []
    if fixes:
        buttons = [
            fix_button(fix, load_number, primary=index == 0 and _sure(fix, reason), connect_url=connect_url)
            for index, fix in enumerate(fixes)
        ]
        blocks.append(actions(buttons, block_id=ids.actions_block(reason.code)))
    return blocks


class Dated(str):
    """Evidence text that is already Slack markup (a ``slack_date``): shown as it is."""


def _waiting(reason: Any) -> list[tuple[str, str]]:
    """A throttled or unavailable load's times: when it failed, when qbsync retries it by itself."""
    ev = reason.evidence or {}
    if reason.code not in TRANSIENT or not ev.get("from_last_attempt"):
        return []
    failed = Dated(slack_date(ev["failed_at"])) if ev.get("failed_at") else None
    retry = Dated(slack_date(ev["retry_at"])) if ev.get("retry_at") else None
    return [(label, text) for label, text in waiting_words(failed, retry)]


def _sure(fix: str, reason: Any) -> bool:
    """Whether a fix may be the primary button. Linking a customer is a guess unless QuickBooks has a
    customer with the TMS's very email: a look-alike name never makes the green button."""
    if fix == "link_customer":
        return bool((reason.evidence or {}).get("qb_customers_with_this_email"))
    return True


def _dismissed(diagnosis: Any) -> dict[str, Any] | None:
    value = getattr(diagnosis, "dismissed", None)
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    return {k: getattr(value, k, None) for k in ("by", "at", "reason")}


def diagnosis_blocks(diagnosis: Any, *, connect_url: str | None = None) -> list[Block]:
    number = diagnosis.load_number
    dismissed = _dismissed(diagnosis)
    state = "dismissed" if dismissed else diagnosis.state
    blocks: list[Block] = [header(f"{ICONS.get(state, '')} Load {number}".strip(), block_id=ids.HEADER)]
    head = f"*{escape(number)}* {escape(STATE_WORDS.get(state, state))}"
    if diagnosis.qb_invoice_id:
        head += f" (QuickBooks invoice {escape(diagnosis.qb_invoice_id)})"
    if getattr(diagnosis, "doc_number", None):
        head += f"\nQuickBooks invoice number: `{escape(diagnosis.doc_number)}`"
    if getattr(diagnosis, "payment", None):
        head += f"\n:moneybag: {escape(diagnosis.payment['words'])}"
    if dismissed:
        when = slack_date(dismissed["at"]) if dismissed.get("at") else "earlier"
        by = actor_mention(dismissed.get("by"))
        head += (
            f"\nDismissed by {by} {when}: _{escape(dismissed.get('reason') or '')}_"
            f"\n{escape(DISMISSED_NOT_SYNCED)}"
        )
    elif diagnosis.state == "problem":
        head += f"\n{plural(len(diagnosis.reasons), 'reason')} in the order to fix them:"
    elif getattr(diagnosis, "note", None):
        head += f"\n{escape(diagnosis.note)}"
    blocks.append(section(head, block_id=ids.STATE))
    for position, reason in enumerate(diagnosis.reasons, start=1):
        blocks.append(divider())
        blocks.extend(reason_blocks(reason, position, number, connect_url, fixable=not dismissed))
    more = _more_buttons(diagnosis, dismissed)
    if more:
        blocks.append(actions(more, block_id=ids.MORE))
    checked = getattr(diagnosis, "checked_at", None)
    requests = getattr(diagnosis, "qb_requests", 0)
    if checked is not None and diagnosis.state != "not_found":
        blocks.append(
            context(
                f"Checked {slack_date(checked)} · {plural(requests, 'QuickBooks request')}",
                block_id=ids.CONTEXT,
            )
        )
    elif diagnosis.state == "not_found":
        blocks.append(context("Type `/qbsync help` for what qbsync can do.", block_id=ids.CONTEXT))
    return blocks


def _more_buttons(diagnosis: Any, dismissed: dict[str, Any] | None) -> list[Block]:
    number = diagnosis.load_number
    if dismissed:
        return [fix_button("undismiss", number)]
    if diagnosis.state == "pending":
        return [fix_button("retry", number, primary=True)]
    if diagnosis.state != "problem":
        return []
    offered = {f for r in diagnosis.reasons for f in (r.fixes or [])}
    buttons = []
    if "retry" not in offered and "connect" not in offered:
        buttons.append(fix_button("retry", number))
    buttons.append(fix_button("dismiss", number))
    return buttons


def diagnosis_message(diagnosis: Any, *, connect_url: str | None = None, **extra: Any) -> dict[str, Any]:
    dismissed = _dismissed(diagnosis) is not None
    shown = "dismissed" if dismissed else diagnosis.state
    state = STATE_WORDS.get(shown, shown)
    text = f"Load {escape(diagnosis.load_number)}: {state}"
    if diagnosis.reasons and diagnosis.state == "problem" and not dismissed:
        text += " — " + "; ".join(REASON[r.code].title for r in diagnosis.reasons)
    return message(text, diagnosis_blocks(diagnosis, connect_url=connect_url), **extra)
