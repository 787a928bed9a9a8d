"""Readable text for results and reasons (the CLI's counterpart of the Slack views)."""

from __future__ import annotations

import textwrap

from services.catalogue import REASON, evidence_lines, fix_label
from services.reasons import Reason
from services.sync import SyncResult


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
    info = REASON[reason.code]
    wrap = textwrap.TextWrapper(width=100, initial_indent=indent + "  ", subsequent_indent=indent + "  ")
    lines = [f"{indent}✗ {info.title} [{reason.code}]"]
    lines.extend(wrap.wrap(reason.summary))
    if reason.fixes:
        names = ", ".join(f"{fix_label(f)} ({f})" for f in reason.fixes)
        lines.extend(wrap.wrap(f"Fix: {names}"))
    lines.extend(wrap.wrap(f"By hand: {info.by_hand_text}"))
    return lines


def render_evidence(reason: Reason, indent: str = "    ") -> list[str]:
    """The evidence as labelled lines, wrapped to 100 columns."""
    lines = []
    for label, text in evidence_lines(reason.code, reason.evidence):
        wrap = textwrap.TextWrapper(width=100, initial_indent=indent, subsequent_indent=indent + "  ")
        lines.extend(wrap.wrap(f"{label}: {text}"))
    return lines
