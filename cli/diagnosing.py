"""``qbsync diagnose LOAD`` and ``qbsync fix LOAD FIX``."""

from __future__ import annotations

import json

import click

from cli.render import render_evidence, render_reason
from cli.runtime import services
from services.catalogue import fix_label
from services.diagnosis import Diagnosis
from services.fixes import FIX_CODES, FixResult

STATE_WORDS = {
    "synced": "synced — the QuickBooks invoice matches the load",
    "pending": "not synced yet — nothing blocks it",
    "problem": "does not sync",
    "not_found": "not found",
}


def render_diagnosis(diagnosis: Diagnosis) -> str:
    head = f"Load {diagnosis.load_number}: {STATE_WORDS.get(diagnosis.state, diagnosis.state)}"
    if diagnosis.qb_invoice_id:
        head += f" (QuickBooks invoice {diagnosis.qb_invoice_id})"
    lines = [head]
    if diagnosis.note:
        lines.append(f"  {diagnosis.note}")
    for reason in diagnosis.reasons:
        lines.append("")
        lines.extend(render_reason(reason, indent="  "))
        lines.extend(render_evidence(reason))
    return "\n".join(lines)


def _compact(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(
            f"{k.replace('_', ' ')} {_compact(v)}" for k, v in value.items() if v not in (None, "")
        )
    if isinstance(value, list):
        return "; ".join(_compact(v) for v in value)
    return str(value)


def render_fix(result: FixResult) -> str:
    label = fix_label(result.fix)
    lines = [f"{label} [{result.fix}] on {result.load_number}: {result.outcome}", f"  {result.message}"]
    if result.outcome == "action" and result.changes.get("authorize_url"):
        lines.append(f"  {result.changes['authorize_url']}")
    for choice in result.choices:
        lines.append(f"  - {_compact(choice)}")
    if result.diagnosis is not None:
        lines.append("")
        lines.append(render_diagnosis(result.diagnosis))
    return "\n".join(lines)


@click.command()
@click.argument("load")
@click.option("--json", "as_json", is_flag=True, help="Print the diagnosis as JSON.")
def diagnose_command(load: str, as_json: bool) -> None:
    """Every reason that applies to LOAD now, with evidence and the fixes that apply."""
    diagnosis = services().diagnoser.diagnose(load)
    if as_json:
        click.echo(json.dumps(diagnosis.to_dict(), indent=2, default=str))
    else:
        click.echo(render_diagnosis(diagnosis))


@click.command()
@click.argument("load")
@click.argument("fix", type=click.Choice(FIX_CODES), metavar="FIX")
@click.option("--customer-id", help="link_customer: the QuickBooks customer id to link.")
@click.option("--email", help="update_customer_email: the QuickBooks email to store in the TMS.")
@click.option("--code", help="map_charge_code: the TMS charge code.")
@click.option("--item-id", help="map_charge_code: the QuickBooks item id for --code.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def fix_command(
    load: str,
    fix: str,
    customer_id: str | None,
    email: str | None,
    code: str | None,
    item_id: str | None,
    as_json: bool,
) -> None:
    """Apply one FIX to LOAD, then retry its sync and diagnose it again.

    FIX is one of: connect, link_customer, create_customer, update_customer_email,
    resync_charge_codes, map_charge_code, push_customer_change, push_invoice_update,
    adopt_qb_invoice, clear_qb_id, retry. The command line acts as an administrator.
    """
    result = services().fixer.apply(
        load, fix, "cli", customer_id=customer_id, email=email, code=code, item_id=item_id, admin=True
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        click.echo(render_fix(result))
