"""The App Home: the sync's state at a glance — the QuickBooks connection (with Connect when it is not
connected), open problems by reason with their dollars and the fix a person makes, the oldest few with a
Diagnose button each, the last sync and the next digest. A fixed handful of blocks: far below 100."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot import ids
from bot.views.blocks import (
    VIEW_BLOCKS,
    Block,
    actions,
    button,
    channel_mention,
    check_surface,
    context,
    escape,
    fields,
    section,
    slack_date,
)
from bot.views.status import status_message
from services.catalogue import dismissed_count, money, person_fix, plural, reason_title

OLDEST = 5


def home_view(
    status: Any,
    *,
    connect_url: str | None = None,
    dashboard: Any = None,
    next_digest: dt.datetime | None = None,
    digest_channel: str | None = None,
    settings: list[Block] | None = None,
) -> dict[str, Any]:
    """``status``: a ``services.diagnosis.status.Status``; ``dashboard`` (a
    ``services.diagnosis.dashboard.Dashboard``) adds dollars by reason, the oldest problems and the
    automatic sync; ``settings`` the Settings section an administrator sees (``bot.views.settings``)."""
    if dashboard is None:
        blocks = status_message(status, connect_url=connect_url)["blocks"]
    else:
        blocks = _dashboard_blocks(dashboard, connect_url)
    blocks.append(fields(_schedule(dashboard, next_digest, digest_channel), block_id="schedule"))
    blocks.extend(settings or [])  # an administrator's Settings (distribution mode)
    blocks.append(
        context(f"Type `{ids.COMMAND} problems` in any channel for the list, `{ids.COMMAND} help` for more.")
    )
    return {"type": "home", "callback_id": ids.HOME_VIEW, "blocks": check_surface(blocks, VIEW_BLOCKS)}


def _dashboard_blocks(dashboard: Any, connect_url: str | None) -> list[Block]:
    blocks = status_message(dashboard.status, connect_url=connect_url)["blocks"]
    blocks = [b for b in blocks if b.get("block_id") != "by_reason"]  # shown below, with dollars
    if dashboard.amount_by_reason:
        lines = [
            f"• *{escape(reason_title(code))}* — {plural(dashboard.status.by_reason.get(code, 0), 'load')}, "
            f"{money(amount)}\n   _Fix:_ {escape(person_fix(code))}"
            for code, amount in dashboard.amount_by_reason.items()
        ]
        blocks.append(section("*Open problems by reason*\n" + "\n".join(lines), "by_reason"))
    elif getattr(dashboard.status, "dismissed", 0):
        set_aside = dismissed_count(dashboard.status.dismissed, dashboard.status.dismissed_amount)
        blocks.append(section(f"*No problem invoices*; {set_aside}.", "by_reason"))
    else:
        blocks.append(section("✅ *All clear*: no problem invoices.", "by_reason"))
    oldest = dashboard.oldest[:OLDEST]
    if oldest:
        lines = [
            f"• `{escape(p.load_number)}` {money(p.amount)} · since {slack_date(p.since) if p.since else '?'}"
            for p in oldest
        ]
        blocks.append(section("*Oldest open problems*\n" + "\n".join(lines), "oldest"))
        blocks.append(
            actions(
                [
                    button(f"Diagnose {p.load_number}", ids.diagnose_action(i), p.load_number)
                    for i, p in enumerate(oldest)
                ],
                "oldest_actions",
            )
        )
    return blocks


def _schedule(dashboard: Any, next_digest: dt.datetime | None, channel: str | None) -> list[str]:
    if dashboard is not None and dashboard.auto_sync_at is not None:
        auto = f"{slack_date(dashboard.auto_sync_at)}\n{escape(dashboard.auto_sync_outcome or '')}"
        if dashboard.retrying:
            auto += f"\n{plural(dashboard.retrying, 'load')} waiting to be retried"
    else:
        auto = "not run yet"
    if next_digest is not None and channel:
        digest = f"{slack_date(next_digest)} in {channel_mention(channel)}"
    else:
        digest = "not scheduled (QBSYNC_DIGEST_CHANNEL is not set)"
    return [f"*Last automatic sync*\n{auto}", f"*Next digest*\n{digest}"]


def diagnosis_modal(diagnosis: Any = None, load_number: str = "") -> dict[str, Any]:
    """A Diagnose click on the Home (no channel to answer in): the diagnosis in a modal, read only — the
    fix buttons need a channel message, so the modal says how to get one. Without ``diagnosis``: the
    "checking" modal opened at once while QuickBooks is asked."""
    from bot.views.blocks import MODAL_TITLE, plain
    from bot.views.diagnosis import diagnosis_blocks

    if diagnosis is None:
        blocks = [section(f"⏳ Checking load *{escape(load_number)}*…", "loading")]
    else:
        blocks = [b for b in diagnosis_blocks(diagnosis) if b.get("type") != "actions"]
        blocks.append(
            context(
                f"To fix it, type `{ids.COMMAND} {escape(diagnosis.load_number)}` in a channel: "
                "the answer has the buttons."
            )
        )
    return {
        "type": "modal",
        "callback_id": ids.HOME_DIAGNOSIS_VIEW,
        "title": plain("Diagnosis", MODAL_TITLE),
        "close": plain("Close", MODAL_TITLE),
        "blocks": check_surface(blocks, VIEW_BLOCKS),
    }
