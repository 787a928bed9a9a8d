"""``qbsync reconcile``: read synced invoices back from QuickBooks and flag deletions and drift."""

from __future__ import annotations

import json

import click

from cli.render import render_result
from cli.runtime import open_services


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the loads found with a problem as JSON.")
def reconcile_command(as_json: bool) -> None:
    """Check every synced invoice against QuickBooks (deleted there, total or customer drifted)."""
    problems = open_services().sync.reconcile(trigger="cli")
    if as_json:
        click.echo(json.dumps({"results": [r.to_dict() for r in problems]}, indent=2))
        return
    if not problems:
        click.echo("Every synced invoice is in QuickBooks and matches its load.")
        return
    for result in problems:
        click.echo(render_result(result))
    click.echo(f"\n{len(problems)} synced invoice(s) need attention.")


@click.command()
@click.option("--full", is_flag=True, help="Read every synced invoice back instead of what changed.")
@click.option("--json", "as_json", is_flag=True, help="Print what was found as JSON.")
def changes_command(full: bool, as_json: bool) -> None:
    """Read what changed in QuickBooks since last time (change data capture) and apply it now."""
    done = open_services().changes.catch_up(trigger="cli", full=full)
    if as_json:
        click.echo(json.dumps(done.to_dict(), indent=2))
        return
    click.echo(done.summary())
    for result, reason in done.found.problems:
        click.echo(f"  {result.load_number}: {reason.summary}")
    for reason, numbers in done.found.blocked:
        click.echo(f"  {reason.summary}: {', '.join(numbers)}")
    if done.mode == "skipped":
        raise SystemExit(1)
