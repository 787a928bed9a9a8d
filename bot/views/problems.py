"""The problem list: loads grouped by reason (in fix order) with counts and dollars at risk, the
oldest first, a Diagnose button per load, "Retry all" on groups whose reasons pass by themselves, and
pages so that no message passes Slack's 50 blocks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot import ids
from bot.views.blocks import Block, actions, button, context, escape, header, message, section, slack_date
from bot.views.connection import not_connected_banner
from services.catalogue import (
    DISMISSED_NOT_SYNCED,
    REASON_ORDER,
    TRANSIENT,
    dismissed_count,
    money,
    payment_words,
    plural,
    reason_title,
)

PAGE_SIZE = 20  # problem loads per page: ≤ 2 blocks per reason group, ≤ 25 buttons per actions block


def problems_message(
    problems: list[Any],
    page: int = 1,
    *,
    dismissed: int = 0,
    dismissed_amount: Any = Decimal("0.00"),
    dismissed_loads: list[Any] | None = None,
    connection: str = "connected",
    connect_url: str | None = None,
) -> dict[str, Any]:
    """``connection`` is the QuickBooks connection's state: anything but "connected" puts the
    "QuickBooks disconnected — Connect" banner with its button first. ``dismissed`` loads (those a
    person took out of syncing, ``dismissed_amount`` in all) are counted apart, the latest few
    (``dismissed_loads``) with a Diagnose button each (where Restore is)."""
    total = sum((p.amount for p in problems), Decimal("0.00"))
    banner = not_connected_banner(connection, connect_url) if connection != "connected" else []
    set_aside = _dismissed_blocks(dismissed, dismissed_amount, dismissed_loads or [])
    if not problems:
        if dismissed:
            text = f"No problem invoices; {dismissed_count(dismissed, dismissed_amount)}."
        else:
            text = "✅ No problem invoices: every load is in QuickBooks or waiting for its first sync."
        return message(text, [*banner, section(text), *set_aside], response_type="ephemeral")
    entries = [(code, p) for p in problems for code in dict.fromkeys(r.code for r in p.reasons)]
    order = {code: i for i, code in enumerate(_group_order(problems))}
    entries.sort(key=lambda pair: order[pair[0]])  # stable: oldest first inside a group
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    head = f"{plural(len(problems), 'problem invoice')} · {money(total)} held up"
    blocks: list[Block] = [header(head, block_id=ids.HEADER), *banner]
    counts = _group_counts(problems)
    groups: dict[str, list[Any]] = {}
    for code, problem in shown:
        groups.setdefault(code, []).append(problem)
    for code, members in groups.items():
        count, amount = counts[code]
        lines = [f"*{escape(reason_title(code))}* — {plural(count, 'load')}, {money(amount)}"]
        for problem in members:
            since = slack_date(problem.since) if problem.since else "?"
            paid = payment_words(problem.qb_total, problem.qb_balance) if problem.payment else None
            lines.append(
                f"• `{escape(problem.load_number)}` {money(problem.amount)} · since {since}"
                + (f" · {escape(paid)}" if paid else "")
            )
        blocks.append(section("\n".join(lines), block_id=ids.group_block(code)))
        buttons = [
            button(f"Diagnose {p.load_number}", ids.diagnose_action(i), p.load_number)
            for i, p in enumerate(members)
        ]
        if code in TRANSIENT:
            buttons.insert(0, button(f"Retry all {count}", ids.RETRY_ALL, code, style="primary"))
        blocks.append(actions(buttons, block_id=ids.actions_block(code)))
    if pages > 1:
        nav = []
        if page > 1:
            nav.append(button("‹ Previous", f"{ids.PROBLEMS_PAGE}.prev", str(page - 1)))
        if page < pages:
            nav.append(button("Next ›", f"{ids.PROBLEMS_PAGE}.next", str(page + 1)))
        blocks.append(actions(nav, block_id=ids.PAGER))
    footer = f"Page {page} of {pages}" if pages > 1 else "Oldest first in each group"
    blocks.extend(set_aside)
    blocks.append(context(footer, block_id=ids.CONTEXT))
    text = f"{head}." + (f" {dismissed_count(dismissed, dismissed_amount)}." if dismissed else "")
    return message(text, blocks, response_type="ephemeral")


DISMISSED_SHOWN = 5


def _dismissed_blocks(count: int, amount: Any, latest: list[Any]) -> list[Block]:
    """The dismissed loads, apart: how many and their dollars, the latest few with Diagnose buttons."""
    if not count:
        return []
    lines = [f"*🚫 {dismissed_count(count, amount)}* — {escape(DISMISSED_NOT_SYNCED)}"]
    shown = latest[:DISMISSED_SHOWN]
    for entry in shown:
        lines.append(f"• `{escape(entry.load_number)}` {money(entry.amount)} · _{escape(entry.why)}_")
    if count > len(shown) and shown:
        lines.append(f"…and {count - len(shown)} more")
    blocks: list[Block] = [section("\n".join(lines), block_id="dismissed")]
    if shown:
        buttons = [
            button(f"Diagnose {d.load_number}", ids.diagnose_action(i), d.load_number)
            for i, d in enumerate(shown)
        ]
        blocks.append(actions(buttons, block_id="dismissed_actions"))
    return blocks


def _group_order(problems: list[Any]) -> list[str]:
    codes = {r.code for p in problems for r in p.reasons}
    return sorted(codes, key=lambda c: REASON_ORDER.get(c, 99))


def _group_counts(problems: list[Any]) -> dict[str, tuple[int, Decimal]]:
    counts: dict[str, tuple[int, Decimal]] = {}
    for problem in problems:
        for code in dict.fromkeys(r.code for r in problem.reasons):
            count, amount = counts.get(code, (0, Decimal("0.00")))
            counts[code] = (count + 1, amount + problem.amount)
    return counts
