"""``qbsync sync``, ``qbsync retry`` and ``qbsync problems``."""

from __future__ import annotations

import json
import sys

import click

from cli.render import render_problems, render_result
from cli.runtime import open_services
from services.diagnosis.problems import list_dismissed, list_problems, problems_json
from services.errors import UserInputError
from services.tms.loadnumbers import clean_load_number


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
    named = _load_numbers(loads)  # every number checked before anything is pushed
    svc = open_services()
    sync = svc.sync
    require_known(sync, named)
    numbers = named if loads else sync.unsynced_load_numbers()
    results = []
    show_bar = not as_json and sys.stderr.isatty() and len(numbers) > 1
    with click.progressbar(
        length=len(numbers),
        label="Syncing",
        file=sys.stderr,
        show_pos=True,
        show_eta=False,  # QuickBooks' budget makes the pace uneven: an estimate would mislead
        hidden=not show_bar,
    ) as bar:
        try:
            results = sync.sync_many(numbers, trigger="cli", progress=lambda _r: bar.update(1))
        except KeyboardInterrupt:
            click.echo(
                "\nqbsync: stopped; what QuickBooks had already answered is recorded. "
                "Run qbsync sync --all for the rest.",
                err=True,
            )
            raise
    if as_json:
        click.echo(json.dumps({"results": [r.to_dict() for r in results]}, indent=2))
        return
    if not results:
        click.echo("Nothing to sync: every load is synced.")
        return
    for result in results:
        click.echo(render_result(result))
    click.echo("\n" + _tally(results))
    if any(r.state == "problem" for r in results):
        click.echo("qbsync diagnose LOAD shows the evidence; qbsync fix LOAD FIX applies a fix.")


def _load_numbers(loads: tuple[str, ...]) -> list[str]:
    """The named load numbers, cleaned, each once, in the order given; a bad one stops the run."""
    numbers: list[str] = []
    for value in loads:
        number = clean_load_number(value)
        if number not in numbers:
            numbers.append(number)
    return numbers


def require_known(sync, numbers: list[str], done: str = "nothing was synced") -> None:
    """A load number that names no load is bad input: say which, with near matches, and push nothing."""
    missing = sync.unknown_load_numbers(numbers)
    if not missing:
        return
    problems = []
    for number in missing:
        near = sync.not_found(number).reasons[0].evidence["near_matches"]
        problems.append(f"no load {number!r}" + (f" (did you mean {', '.join(near)}?)" if near else ""))
    raise UserInputError("; ".join(problems) + f"; {done}")


def _tally(results) -> str:
    count = {state: sum(r.state == state for r in results) for state in ("synced", "not_found")}
    others = len(results) - count["synced"] - count["not_found"]
    text = f"{count['synced']} of {len(results)} synced"
    if others:
        text += f"; {others} need attention"
    if count["not_found"]:
        text += f"; {count['not_found']} not found"
    return text + "."


@click.command()
@click.argument("load")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def retry_command(load: str, as_json: bool) -> None:
    """Retry the sync of one LOAD."""
    number = clean_load_number(load)
    sync = open_services().sync
    require_known(sync, [number])
    result = sync.sync_load(number, trigger="cli")
    if as_json:
        click.echo(json.dumps({"results": [result.to_dict()]}, indent=2))
    else:
        click.echo(render_result(result))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def problems_command(as_json: bool) -> None:
    """List problem invoices, grouped by reason, with amounts."""
    engine = open_services().engine
    problems = list_problems(engine)
    dismissed = list_dismissed(engine)
    if as_json:
        click.echo(json.dumps(problems_json(problems, dismissed), indent=2))
        return
    click.echo("\n".join(render_problems(problems, dismissed)))
