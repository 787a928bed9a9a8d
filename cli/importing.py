"""``qbsync import FILE``: upsert TMS customers, charge codes and loads from a JSON file."""

from __future__ import annotations

import json

import click

from cli.runtime import open_services
from services.tms.importer import import_file
from services.tms.summary import ImportSummary

_SECTION_TITLES = {"customers": "customers", "charge_codes": "charge codes", "loads": "loads"}


@click.command("import")
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def import_command(file: str, as_json: bool) -> None:
    """Upsert customers, charge codes and loads from the JSON file FILE (- reads standard input).

    \b
    The file holds up to three sections, each optional:
      {"customers":    [{"id", "name", "qb_email"}],
       "charge_codes": [{"code", "name"}],
       "loads":        [{"load_number", "customer_id", "invoice_date": "YYYY-MM-DD",
                         "charges": [{"code", "description", "amount": "850.00"}]}]}

    Records are matched by id, code and load_number: new ones are created, changed ones updated,
    and QuickBooks ids and sync state are kept. Amounts are decimal strings. Importing the same file
    again changes nothing.

    All or nothing: if anything in the file is wrong, every problem is listed (record and field)
    on stderr, nothing is written, and the exit code is 2.
    """
    svc = open_services()
    try:
        summary = import_file(svc.engine, file)
    finally:
        svc.close()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        click.echo(render_summary(summary))


def render_summary(summary: ImportSummary) -> str:
    """A few readable lines: counts per section, and loads whose customer changed after a sync."""
    lines = [f"Imported {summary.source}:"]
    for name, counts in summary.sections().items():
        title = _SECTION_TITLES[name]
        lines.append(
            f"  {title:<13} {counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged"
        )
    if not summary.changed:
        lines.append("Nothing changed: everything in the file was already up to date.")
    if summary.customer_changed:
        lines.append(
            "The customer changed after the invoice was synced for: "
            + ", ".join(summary.customer_changed)
            + " (see qbsync diagnose LOAD)."
        )
    if summary.restored:
        lines.append(
            "Dismissed loads changed in the TMS, back in the problem list: "
            + ", ".join(summary.restored)
            + " (qbsync diagnose LOAD shows who dismissed them and why)."
        )
    return "\n".join(lines)
