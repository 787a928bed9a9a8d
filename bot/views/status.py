"""``/qbsync status`` and ``/qbsync help``."""

from __future__ import annotations

from typing import Any

from bot import ids
from bot.views.blocks import (
    Block,
    actions,
    actor_mention,
    context,
    escape,
    fields,
    header,
    message,
    section,
    slack_date,
)
from bot.views.diagnosis import fix_button
from services.catalogue import digest_channel_notice, dismissed_count, money, plural, reason_title

SUBCOMMANDS = (
    ("HB-2003", "why load HB-2003's invoice did not sync, with the buttons that fix it"),
    ("diagnose HB-2003", "the same, spelled out"),
    ("retry HB-2003", "push load HB-2003's invoice to QuickBooks again"),
    ("problems", "every problem invoice, grouped by reason, with the dollars held up"),
    ("status", "the QuickBooks connection, the last sync and open problems"),
    ("help", "this list"),
)


def help_message(intro: str | None = None) -> dict[str, Any]:
    lines = [f"{escape(intro)}\n" if intro else ""]
    lines.append("*qbsync* keeps your TMS invoices in sync with QuickBooks Online. Try:")
    for example, does in SUBCOMMANDS:
        lines.append(f"• `{ids.COMMAND} {example}` — {does}")
    blocks: list[Block] = [section("\n".join(lines).strip(), block_id=ids.HELP)]
    blocks.append(
        context("Fix buttons act in QuickBooks as you; the fixes you may run are set by your administrator.")
    )
    return message(escape(intro) if intro else "qbsync help", blocks, response_type="ephemeral")


STATE_LINES = {
    "connected": "🟢 Connected",
    "broken": "🔴 Disconnected: Intuit refused the stored connection",
    "disconnected": "⚪ Not connected",
}


def status_message(
    status: Any, *, company: str | None = None, connect_url: str | None = None
) -> dict[str, Any]:
    connection = status.connection
    state = connection.state.value if hasattr(connection.state, "value") else str(connection.state)
    line = STATE_LINES.get(state, state)
    if state == "connected":
        line += f" to {escape(company)}" if company else f" (company {escape(connection.realm_id or '?')})"
    if state == "broken" and connection.broken_reason:
        line += f" — {escape(connection.broken_reason)}"
    blocks: list[Block] = [
        header("qbsync status", block_id=ids.HEADER),
        section(f"*QuickBooks:* {line}", ids.CONNECTION),
    ]
    if state != "connected":
        blocks.append(
            actions([fix_button("connect", "", primary=True, connect_url=connect_url)], ids.CONNECT_BLOCK)
        )
    last = slack_date(status.last_synced_at) if status.last_synced_at else "never"
    tried = slack_date(status.last_attempt_at) if status.last_attempt_at else "never"
    blocks.append(
        fields(
            [
                f"*Loads*\n{status.loads} ({status.synced} synced)",
                f"*Open problems*\n{status.open_problems} · {money(status.total_amount)}",
                f"*Last invoice synced*\n{last}",
                f"*Last attempt*\n{tried}",
                *_dismissed_field(status),
            ],
            block_id=ids.NUMBERS,
        )
    )
    if status.by_reason:
        lines = [
            f"• {escape(reason_title(code))}: {plural(count, 'load')}"
            for code, count in status.by_reason.items()
        ]
        blocks.append(section("*Open problems by reason*\n" + "\n".join(lines), ids.BY_REASON))
    channel = getattr(status, "digest_channel", None)
    if channel is not None and channel.problem:
        notice = digest_channel_notice(channel.problem, channel.label(slack=True), needed=channel.needed)
        blocks.append(section(f"⚠️ *Daily digest:* {notice}", "digest_channel"))
    if connection.connected_by and state == "connected":
        blocks.append(context(f"Connected by {actor_mention(connection.connected_by)}"))
    text = f"QuickBooks: {line}. {plural(status.open_problems, 'open problem')}."
    if getattr(status, "dismissed", 0):
        text += f" {dismissed_count(status.dismissed, status.dismissed_amount)}."
    return message(text, blocks, response_type="ephemeral")


def _dismissed_field(status: Any) -> list[str]:
    """Loads a person dismissed: counted apart from the open problems, with their dollars."""
    count = getattr(status, "dismissed", 0)
    if not count:
        return []
    return [f"*Dismissed (not synced)*\n{dismissed_count(count, status.dismissed_amount)}"]
