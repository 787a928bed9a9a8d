"""Short answers: a fix's outcome followed by the fresh diagnosis, a polite refusal, an unexpected
error with its id, a user error, and the live progress of "Retry all"."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.views.blocks import Block, actor_mention, context, escape, message, section
from bot.views.diagnosis import diagnosis_blocks
from services.catalogue import (
    OUTCOME_WORDS,
    already_done_text,
    dismissed_done_text,
    dismissed_refusal,
    fix_label,
    money,
    plural,
    reason_title,
    restored_text,
)

OUTCOME_ICONS = {
    "applied": "✅",
    "unchanged": "ℹ️",
    "refused": "✋",
    "choice": "🤔",
    "action": "👉",
    "failed": "❌",
}


def fix_result_message(result: Any, actor: str, *, connect_url: str | None = None) -> dict[str, Any]:
    """What a fix did, by whom, then the load's diagnosis as it is now (its buttons are the next steps)."""
    icon = OUTCOME_ICONS.get(result.outcome, "")
    label = fix_label(result.fix)
    outcome = OUTCOME_WORDS.get(result.outcome, result.outcome)
    said = _said(result)
    lines = [f"{icon} *{escape(label)}*: {escape(outcome)}. {said}".strip()]
    for choice in (result.choices or [])[:10]:
        lines.append(f"• {escape(_choice_text(choice))}")
    authorize = (result.changes or {}).get("authorize_url") if result.outcome == "action" else None
    if authorize:
        lines.append(f"<{authorize}|Open QuickBooks to connect>")
    blocks: list[Block] = [section("\n".join(lines), block_id=ids.FIX_RESULT)]
    blocks.append(context(f"{escape(label)} by {actor_mention(actor)}", block_id=ids.FIX_BY))
    if result.diagnosis is not None:
        blocks.extend(diagnosis_blocks(result.diagnosis, connect_url=connect_url))
    return message(f"{escape(f'{label} on {result.load_number}: {outcome}.')} {said}", blocks)


def _said(result: Any) -> str:
    """The fix's message as Slack text; "already done by" names the person as a mention."""
    done_by = getattr(result, "done_by", None)
    if done_by:
        marker = "\x00"
        return escape(already_done_text(marker)).replace(marker, actor_mention(done_by))
    diagnosis = result.diagnosis
    dismissed = diagnosis is not None and getattr(diagnosis, "dismissed", None)
    if result.outcome == "refused" and dismissed and result.fix not in ("dismiss", "undismiss", "connect"):
        return escape(dismissed_refusal(fix_label(result.fix)))  # a button from before the dismissal
    if result.fix == "dismiss" and result.outcome == "applied":
        return escape(dismissed_done_text(result.load_number))
    if result.fix == "undismiss" and result.outcome == "applied" and diagnosis is not None:
        titles = [reason_title(r.code) for r in diagnosis.reasons]
        return escape(restored_text(result.load_number, diagnosis.state, titles, diagnosis.qb_invoice_id))
    return escape(result.message)


def _choice_text(choice: dict[str, Any]) -> str:
    if "qb_items" in choice:
        items = "; ".join(
            f"item {i.get('id')} {i.get('full_name') or i.get('name')}" for i in choice["qb_items"]
        )
        return f"{choice.get('code')} ({choice.get('name')}): {items}"
    parts = [str(choice[k]) for k in ("id", "name", "email", "doc_number") if choice.get(k)]
    return " · ".join(parts) if parts else ", ".join(f"{k} {v}" for k, v in choice.items() if v)


def refusal_message(refusal: Any) -> dict[str, Any]:
    if refusal.allowed:
        who = ", ".join(f"<@{user}>" for user in refusal.allowed[:20])
        text = f"✋ {escape(refusal.message)} Ask {who}. Nothing was changed."
    else:
        text = f"✋ {escape(refusal.message)} Nothing was changed."
    return message(
        escape(refusal.message), [section(text)], response_type="ephemeral", replace_original=False
    )


def error_message(error_id: str) -> dict[str, Any]:
    text = (
        f"😵 Something went wrong on our side and nothing was finished. Try again in a moment; if it "
        f"keeps happening, give your administrator the error id `{error_id}`."
    )
    return message(text, [section(text)], response_type="ephemeral", replace_original=False)


def notice_message(text: str) -> dict[str, Any]:
    """A user-facing answer to a request that could not be carried out (bad input, unknown load…)."""
    said = escape(text)
    return message(said, [section(said)], response_type="ephemeral", replace_original=False)


def progress_message(
    reason: str, done: int, total: int, synced: int, still: int, actor: str, finished: bool = False
) -> dict[str, Any]:
    title = reason_title(reason)
    if finished:
        head = (
            f"✅ Retried {plural(total, 'load')} ({escape(title)}): {synced} synced, {still} still need you."
        )
    else:
        head = f"⏳ Retried {done} of {total} ({escape(title)}) — {synced} synced, {still} still need you"
    blocks = [
        section(head, block_id=ids.PROGRESS),
        context(f"Retry all by {actor_mention(actor)}", block_id=ids.PROGRESS_BY),
    ]
    return message(head, blocks)


def amount(value: Any) -> str:
    return money(value)
