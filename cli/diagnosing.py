"""``qbsync diagnose LOAD`` and ``qbsync fix LOAD FIX``."""

from __future__ import annotations

import json

import click

from cli.render import invoice_words, render_choice, render_evidence, render_reason, wrap
from cli.runtime import open_services
from cli.syncing import require_known
from services.catalogue import FIX_CODES, OUTCOME_WORDS, STATE_WORDS, dismissed_text, fix_label
from services.diagnosis.diagnoser import Diagnosis
from services.fixes.fixer import FixResult
from services.tms.loadnumbers import clean_load_number


def render_diagnosis(diagnosis: Diagnosis, indent: str = "") -> str:
    head = f"Load {diagnosis.load_number}: {STATE_WORDS.get(diagnosis.state, diagnosis.state)}"
    numbers = invoice_words(diagnosis.qb_invoice_id, diagnosis.doc_number)
    if numbers:
        head += f" {numbers}"
    inner = indent + "  "
    lines = wrap(head, indent, inner)
    if diagnosis.dismissed:
        d = diagnosis.dismissed
        lines.extend(wrap(dismissed_text(d["by"], d["at"], d["reason"]), inner))
    if diagnosis.payment:
        lines.extend(wrap(diagnosis.payment["words"], inner))
    if diagnosis.note:
        lines.extend(wrap(diagnosis.note, inner))
    for reason in diagnosis.reasons:
        lines.append("")
        lines.extend(render_reason(reason, indent=inner))
        lines.extend(render_evidence(reason, indent=inner + "  "))
    return "\n".join(lines)


def render_fix(result: FixResult) -> str:
    label = fix_label(result.fix)
    outcome = OUTCOME_WORDS.get(result.outcome, result.outcome)
    lines = [f"{label} [{result.fix}] on {result.load_number}: {outcome}"]
    lines.extend(wrap(result.message, "  "))
    if result.outcome == "action" and result.changes.get("authorize_url"):
        lines.append(f"  {result.changes['authorize_url']}")
    for choice in result.choices:
        lines.extend(wrap(render_choice(choice), "  - ", "    "))
    if result.diagnosis is not None:
        lines.append("")
        lines.append(render_diagnosis(result.diagnosis))
    return "\n".join(lines)


@click.command()
@click.argument("load")
@click.option("--json", "as_json", is_flag=True, help="Print the diagnosis as JSON.")
def diagnose_command(load: str, as_json: bool) -> None:
    """Every reason that applies to LOAD now, with evidence and the fixes that apply."""
    diagnosis = open_services().diagnoser.diagnose(load)
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
@click.option("--doc-number", help="set_doc_number: the QuickBooks invoice number (at most 21 characters).")
@click.option("--reason", help="dismiss: why the load is not to be synced (at most 200 characters).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def fix_command(
    load: str,
    fix: str,
    customer_id: str | None,
    email: str | None,
    code: str | None,
    item_id: str | None,
    doc_number: str | None,
    reason: str | None,
    as_json: bool,
) -> None:
    """Apply one FIX to LOAD, then retry its sync and diagnose it again.

    \b
    FIX is one of: connect, link_customer, create_customer, update_customer_email,
    resync_charge_codes, map_charge_code, push_customer_change, push_invoice_update,
    adopt_qb_invoice, clear_qb_id, set_doc_number, enable_custom_txn_numbers, dismiss,
    undismiss, retry. The command line acts as an administrator.
    """
    svc = open_services()
    if fix != "connect":  # a fix of a load that does not exist is bad input (exit 2), with near matches
        require_known(svc.sync, [clean_load_number(load)], "nothing was changed")
    result = svc.fixer.apply(
        load,
        fix,
        "cli",
        customer_id=customer_id,
        email=email,
        code=code,
        item_id=item_id,
        doc_number=doc_number,
        reason=reason,
        admin=True,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    else:
        click.echo(render_fix(result))
