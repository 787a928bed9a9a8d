"""``qbsync sync``, ``qbsync retry`` and ``qbsync problems``."""

from __future__ import annotations

import json
import sys

import click

from cli.render import render_result
from cli.runtime import services
from services.errors import UserInputError
from services.problems import by_reason, list_problems, problems_json


@click.command()
@click.argument("loads", nargs=-1)
@click.option("--all", "all_loads", is_flag=True, help="Sync every load that is not synced yet.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def sync_command(loads: tuple[str, ...], all_loads: bool, as_json: bool) -> None:
    """Push the invoices of LOADS (or, with --all, of every unsynced load) to QuickBooks."""
    if not loads and not all_loads:
        raise UserInputError("name one or more load numbers, or use --all")
    if loads and all_loads:
        raise UserInputError("name load numbers or use --all, not both")
    svc = services()
    engine = svc.sync
    numbers = list(loads) if loads else engine.unsynced_load_numbers()
    results = []
    show_bar = not as_json and sys.stderr.isatty() and len(numbers) > 1
    with click.progressbar(
        length=len(numbers), label="Syncing", file=sys.stderr, show_pos=True, hidden=not show_bar
    ) as bar:
        results = engine.sync_many(numbers, trigger="cli", progress=lambda _r: bar.update(1))
    if as_json:
        click.echo(json.dumps({"results": [r.to_dict() for r in results]}, indent=2))
        return
    if not results:
        click.echo("Nothing to sync: every load is synced.")
        return
    for result in results:
        click.echo(render_result(result))
    synced = sum(r.state == "synced" for r in results)
    click.echo(f"\n{synced} of {len(results)} synced; {len(results) - synced} need attention.")


@click.command()
@click.argument("load")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def retry_command(load: str, as_json: bool) -> None:
    """Retry the sync of one LOAD."""
    result = services().sync.sync_load(load, trigger="cli")
    if as_json:
        click.echo(json.dumps({"results": [result.to_dict()]}, indent=2))
    else:
        click.echo(render_result(result))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def problems_command(as_json: bool) -> None:
    """List problem invoices, grouped by reason, with amounts."""
    problems = list_problems(services().engine)
    data = problems_json(problems)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not problems:
        click.echo("No problem invoices.")
        return
    from services.reasons import BY_CODE

    for code, group in by_reason(problems).items():
        amount = sum(p.amount for p in group)
        click.echo(f"{BY_CODE[code].title} [{code}] — {len(group)} load(s), ${amount:,.2f}")
        for problem in group:
            since = problem.since.strftime("%Y-%m-%d %H:%M") if problem.since else "?"
            click.echo(f"    {problem.load_number:<22} ${problem.amount:>12,.2f}   since {since} UTC")
    click.echo(f"\n{len(problems)} problem invoice(s), ${float(data['total_amount']):,.2f} in all.")
