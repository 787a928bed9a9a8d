"""Readable text for results, reasons and problem lists (the CLI's counterpart of the Slack views).

Every word comes from ``services.catalogue``; this module decides layout only: 100 columns."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from services.catalogue import (
    REASON,
    choice_text,
    dismissed_text,
    evidence_lines,
    fix_label,
    money,
    payment_words,
    plural,
    reason_title,
    when,
)
from services.diagnosis.problems import Dismissed, Problem, by_reason
from services.diagnosis.reasons import Reason

if TYPE_CHECKING:
    from services.sync import SyncResult

WIDTH = 100


def wrap(text: str, first: str = "", rest: str | None = None) -> list[str]:
    rest = first + "  " if rest is None else rest
    lines = textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_on_hyphens=False,
        break_long_words=False,
    )
    return lines or [first.rstrip()]


def invoice_words(qb_invoice_id: str | None, doc_number: str | None) -> str:
    """``(QuickBooks invoice 130, number M26110417)``; empty when there is nothing to say."""
    if qb_invoice_id and doc_number:
        return f"(QuickBooks invoice {qb_invoice_id}, number {doc_number})"
    if qb_invoice_id:
        return f"(QuickBooks invoice {qb_invoice_id})"
    if doc_number:
        return f"(QuickBooks invoice number {doc_number})"
    return ""


def render_result(result: SyncResult) -> str:
    head = f"{result.load_number:<22} {result.state}"
    numbers = invoice_words(result.qb_invoice_id, result.doc_number)
    if numbers:
        head += f"  {numbers}"
    lines = [head]
    if result.note:
        lines.extend(wrap(f"note: {result.note}", "    "))
    for reason in result.reasons:
        lines.extend(render_reason(reason, indent="    "))
    return "\n".join(lines)


def render_reason(reason: Reason, indent: str = "") -> list[str]:
    info = REASON[reason.code]
    inner = indent + "  "
    lines = wrap(f"✗ {info.title} [{reason.code}]", indent, inner)
    lines.extend(wrap(reason.summary, inner, inner))
    if reason.fixes:
        names = ", ".join(f"{fix_label(f)} ({f})" for f in reason.fixes)
        lines.extend(wrap(f"Fix: {names}", inner, inner))
    lines.extend(wrap(f"By hand: {info.by_hand_text}", inner, inner))
    return lines


def render_evidence(reason: Reason, indent: str = "    ") -> list[str]:
    """The evidence as labelled lines, wrapped to 100 columns."""
    lines = []
    for label, text in evidence_lines(reason.code, reason.evidence):
        lines.extend(wrap(f"{label}: {text}", indent))
    return lines


def render_choice(choice: dict) -> str:
    return choice_text(choice)


# -- problem lists (problems, digest, demo) ----------------------------------------------------------


def shown_time(value: dt.datetime | str | None, tz: str | None = None) -> str:
    """The one way the CLI shows a time: ``2026-11-27 14:03 UTC`` (or in ``tz``, named:
    ``2026-11-27 08:03 America/Chicago``); nothing as ``unknown``."""
    if tz is None or tz == "UTC" or value is None or value == "":
        return when(value)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return f"{value.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} {tz}"


def utc(value: dt.datetime | None) -> str:
    return shown_time(value)


def problem_line(
    problem: Problem, indent: str = "    ", *, since: Callable[[dt.datetime | None], str] = utc, codes=False
) -> str:
    number = problem.load_number
    if problem.doc_number:
        number += f" (QuickBooks invoice number {problem.doc_number})"
    line = f"{indent}{number:<22} {money(problem.amount):>14}   since {since(problem.since)}"
    if problem.payment:
        line += f"  ({payment_words(problem.qb_total, problem.qb_balance)})"
    if codes:
        line += "  " + ", ".join(r.code for r in problem.reasons)
    return line


def render_problems(
    problems: list[Problem], dismissed: list[Dismissed] | None = None, indent: str = ""
) -> list[str]:
    """Problem invoices grouped by reason (in fix order) with counts and amounts, then the total, then
    the dismissed loads with who, when and why."""
    lines: list[str] = []
    if not problems:
        lines.append(f"{indent}No problem invoices.")
    for code, group in by_reason(problems).items():
        amount = sum((p.amount for p in group), Decimal("0.00"))
        head = f"{reason_title(code)} [{code}] — {plural(len(group), 'load')}, {money(amount)}"
        lines.extend(wrap(head, indent, indent + "  "))
        lines.extend(problem_line(problem, indent + "    ") for problem in group)
    if problems:
        total = sum((p.amount for p in problems), Decimal("0.00"))
        lines.append("")
        lines.append(f"{indent}{plural(len(problems), 'problem invoice')}, {money(total)} in all.")
    if dismissed:
        amount = sum((d.amount for d in dismissed), Decimal("0.00"))
        lines.append("")
        lines.append(
            f"{indent}Dismissed (not to be synced) — {plural(len(dismissed), 'load')}, {money(amount)}"
        )
        for entry in dismissed:
            codes = ", ".join(f"[{r.code}]" for r in entry.reasons)
            head = f"{indent}    {entry.load_number:<22} {money(entry.amount):>14}" + (
                f"   {codes}" if codes else ""
            )
            lines.append(head)
            lines.extend(wrap(dismissed_text(entry.by, entry.at, entry.why), indent + "      "))
    return lines
