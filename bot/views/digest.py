"""The daily digest as a channel message: open problem invoices and the dollars they hold, new and
resolved since the previous digest, counts by reason with the fix a person makes, the five oldest with a
Diagnose button each, and the QuickBooks connection (with Connect when it is not connected). "All clear"
when nothing is open."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot import ids
from bot.views.blocks import (
    Block,
    actions,
    button,
    context,
    escape,
    fields,
    header,
    message,
    section,
    slack_date,
)
from bot.views.diagnosis import fix_button
from bot.views.status import STATE_LINES
from services.catalogue import DISMISSED_NOT_SYNCED, dismissed_count, money, person_fix, plural, reason_title

METADATA_EVENT = "qbsync_digest"  # message metadata: finds a posted digest in the channel again


def digest_message(
    digest: Any,
    connection: Any,
    *,
    tz: str = "UTC",
    connect_url: str | None = None,
    on_demand: bool = False,
) -> dict[str, Any]:
    """``digest``: a ``services.digest.build.Digest``; ``connection``: a ``ConnectionStatus``."""
    title = f"Invoice sync digest · {digest.date:%A} {digest.date:%b} {digest.date.day}"
    blocks: list[Block] = [header(title, block_id=ids.HEADER)]
    set_aside = dismissed_count(digest.dismissed, getattr(digest, "dismissed_amount", 0))
    if digest.open == 0 and digest.dismissed:
        headline = f"*No problem invoices*; {set_aside}."
    elif digest.open == 0:
        headline = "✅ *All clear*: no problem invoices. Every load is in QuickBooks or waiting for its sync."
    else:
        headline = f"*{plural(digest.open, 'problem invoice')}* · *{money(digest.total_amount)}* held up"
    blocks.append(section(headline, block_id="headline"))
    blocks.append(
        fields(
            [
                f"*New {_window(digest, tz)}*\n{digest.new}",
                f"*Resolved {_window(digest, tz)}*\n{digest.resolved}",
            ],
            block_id="changes",
        )
    )
    state = connection.state.value if hasattr(connection.state, "value") else str(connection.state)
    line = STATE_LINES.get(state, state)
    if state == "broken" and connection.broken_reason:
        line += f" — {escape(connection.broken_reason)}"
    blocks.append(section(f"*QuickBooks:* {line}", block_id="connection"))
    if state != "connected":
        blocks.append(actions([fix_button("connect", "", primary=True, connect_url=connect_url)], "connect"))
    if digest.by_reason:
        lines = []
        for code, count in digest.by_reason.items():
            amount = digest.amount_by_reason.get(code)
            dollars = f", {money(amount)}" if amount is not None else ""
            lines.append(
                f"• *{escape(reason_title(code))}* — {plural(count, 'load')}{dollars}\n"
                f"   _Fix:_ {escape(person_fix(code))}"
            )
        blocks.append(section("*By reason*\n" + "\n".join(lines), block_id="by_reason"))
    if digest.oldest:
        lines = []
        for problem in digest.oldest:
            since = slack_date(problem.since) if problem.since else "?"
            codes = ", ".join(reason_title(r.code) for r in problem.reasons)
            lines.append(
                f"• `{escape(problem.load_number)}` {money(problem.amount)} · since {since} · {escape(codes)}"
            )
        blocks.append(section("*Oldest open problems*\n" + "\n".join(lines), block_id="oldest"))
        blocks.append(
            actions(
                [
                    button(f"Diagnose {p.load_number}", ids.diagnose_action(i), p.load_number)
                    for i, p in enumerate(digest.oldest)
                ],
                block_id="oldest_actions",
            )
        )
    notes = [f"Type `{ids.COMMAND} problems` for every problem invoice."]
    if digest.dismissed:
        notes.append(f"{set_aside}: {DISMISSED_NOT_SYNCED}")
    if on_demand:
        notes.append("Posted on request; the daily digest comes at its usual time.")
    blocks.append(context(" ".join(notes), block_id=ids.CONTEXT))
    text = "Invoice sync digest: all clear."
    if digest.open or digest.dismissed:
        text = f"Invoice sync digest: {headline.replace('*', '')}."
    return message(text, blocks)


def digest_metadata(channel: str, day: dt.date, *, on_demand: bool = False) -> dict[str, Any]:
    """The message metadata a digest carries, so a digest whose ts was lost can be found again."""
    payload = {"channel": channel, "day": day.isoformat(), "on_demand": on_demand}
    return {"event_type": METADATA_EVENT, "event_payload": payload}


def _window(digest: Any, tz: str) -> str:
    if getattr(digest, "since", None) is None:
        return "today"
    return f"since {slack_date(digest.since)}"
