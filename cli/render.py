"""Readable text for results and reasons (the CLI's counterpart of the Slack views)."""

from __future__ import annotations

import textwrap

from services.reasons import BY_CODE, Reason
from services.sync import SyncResult

FIX_LABELS = {
    "connect": "Connect QuickBooks",
    "link_customer": "Link customer",
    "create_customer": "Create customer in QuickBooks",
    "update_customer_email": "Update QuickBooks email",
    "resync_charge_codes": "Resync charge codes",
    "map_charge_code": "Map charge code",
    "push_customer_change": "Push customer change",
    "push_invoice_update": "Push invoice update",
    "adopt_qb_invoice": "Adopt QuickBooks invoice",
    "clear_qb_id": "Clear QuickBooks ID",
    "retry": "Retry",
}


def render_result(result: SyncResult) -> str:
    head = f"{result.load_number:<22} {result.state}"
    if result.qb_invoice_id:
        head += f"  (QuickBooks invoice {result.qb_invoice_id})"
    lines = [head]
    if result.note:
        lines.append(f"    note: {result.note}")
    for reason in result.reasons:
        lines.extend(render_reason(reason, indent="    "))
    return "\n".join(lines)


def render_reason(reason: Reason, indent: str = "") -> list[str]:
    info = BY_CODE[reason.code]
    wrap = textwrap.TextWrapper(width=100, initial_indent=indent + "  ", subsequent_indent=indent + "  ")
    lines = [f"{indent}✗ {info.title} [{reason.code}]"]
    lines.extend(wrap.wrap(reason.summary))
    if reason.fixes:
        names = ", ".join(f"{FIX_LABELS.get(f, f)} ({f})" for f in reason.fixes)
        lines.extend(wrap.wrap(f"Fix: {names}"))
    lines.extend(wrap.wrap(f"By hand: {info.by_hand}"))
    return lines
