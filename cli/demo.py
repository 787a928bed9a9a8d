"""``qbsync demo``: the whole product on a laptop, no accounts — a fresh database, the QuickBooks emulator
in-process, and a week of invoices that fail for every reason, diagnosed and fixed."""

from __future__ import annotations

import time

import click

from cli.diagnosing import render_diagnosis
from cli.digest import render_digest
from cli.render import invoice_words, render_choice, render_problems, render_reason, wrap
from cli.runtime import configure_logging
from demo.environment import FinalState, demo_environment
from demo.walkthrough import run_demo
from services.catalogue import OUTCOME_WORDS, fix_label
from services.diagnosis.diagnoser import Diagnosis
from services.diagnosis.problems import Dismissed, Problem
from services.diagnosis.reasons import Reason
from services.digest.build import Digest
from services.errors import QbsyncError
from services.fixes.fixer import FixResult
from services.sync import SyncResult

WIDTH = 100


def _wrap(text: str, first: str = "", rest: str | None = None) -> str:
    return "\n".join(wrap(text, first, " " * len(first) if rest is None else rest))


class TextNarrator:
    """The demo's story as readable sections on standard output."""

    def __init__(self) -> None:
        self.number = 0

    def section(self, title: str) -> None:
        self.number += 1
        head = f"── {self.number}. {title} "
        click.echo(f"\n{head}{'─' * max(3, WIDTH - len(head))}")

    def say(self, text: str) -> None:
        click.echo(_wrap(text))

    def choice(self, text: str) -> None:
        click.echo(_wrap(text, "  → "))

    def results(self, results: list[SyncResult]) -> None:
        for result in results:
            line = f"  {result.load_number:<24} {result.state:<8}"
            if result.state == "synced":
                line += f" {invoice_words(result.qb_invoice_id, result.doc_number)}"
            click.echo(line.rstrip())
            for reason in result.reasons:
                click.echo(_wrap(f"{reason.code}: {reason.summary}", "      "))
        synced = sum(r.state == "synced" for r in results)
        click.echo(f"  {synced} of {len(results)} synced.")

    def problems(self, problems: list[Problem], dismissed: list[Dismissed]) -> None:
        click.echo("\n".join(render_problems(problems, dismissed, indent="  ")))

    def diagnosis(self, diagnosis: Diagnosis, recorded: list[Reason] | None = None) -> None:
        click.echo("")
        if recorded and not diagnosis.reasons and diagnosis.state != "synced":
            click.echo(f"  Load {diagnosis.load_number}: the last sync said")
            for reason in recorded:
                click.echo("\n".join(render_reason(reason, indent="    ")))
            click.echo("  Checked again now:")
        click.echo(render_diagnosis(diagnosis, indent="  "))

    def fix(self, result: FixResult) -> None:
        label = fix_label(result.fix)
        outcome = OUTCOME_WORDS.get(result.outcome, result.outcome)
        click.echo(_wrap(f"{label} [{result.fix}]: {outcome} — {result.message}", "    "))
        if result.outcome == "action" and result.changes.get("authorize_url"):
            url = result.changes["authorize_url"]
            click.echo(f"      {url if len(url) <= WIDTH - 6 else url[: WIDTH - 7] + '…'}")
        for choice in result.choices:
            click.echo(_wrap(render_choice(choice), "      - "))

    def outcome(self, diagnosis: Diagnosis) -> None:
        if diagnosis.state == "synced":
            numbers = invoice_words(diagnosis.qb_invoice_id, diagnosis.doc_number)
            click.echo(f"  ✓ {diagnosis.load_number} synced {numbers}")
        elif diagnosis.dismissed:
            click.echo(f"  – {diagnosis.load_number} is dismissed: not to be synced")
        elif diagnosis.state != "not_found":
            codes = ", ".join(r.code for r in diagnosis.reasons) or "not sent yet"
            click.echo(f"  ✗ {diagnosis.load_number} is still {diagnosis.state}: {codes}")

    def digest(self, digest: Digest, tz: str) -> None:
        click.echo(render_digest(digest, tz))


def render_final(state: FinalState) -> str:
    lines = [
        f"  Loads in the TMS: {state.loads}; synced: {state.synced}.",
        f"  Invoices in QuickBooks: {state.qb_invoices}; load numbers used twice: "
        f"{', '.join(state.numbered_twice) or 'none'}.",
    ]
    if state.ok:
        lines.append(f"  All {state.loads} loads synced, each once in QuickBooks.")
    else:
        lines.append(
            f"  Not synced: {', '.join(state.not_synced) or 'none'}; without their own invoice in "
            f"QuickBooks: {', '.join(state.not_in_quickbooks) or 'none'}."
        )
    return "\n".join(lines)


@click.command()
@click.option("--keep", is_flag=True, help="Keep the demo's database folder for inspection.")
def demo_command(keep: bool) -> None:
    """Run the demo: sample TMS data, a local QuickBooks emulator, every reason an invoice fails to
    sync, its diagnosis and its fix. Needs no accounts and leaves nothing behind."""
    configure_logging()
    started = time.monotonic()
    out = TextNarrator()
    with demo_environment(keep=keep) as env:
        click.echo("qbsync demo: a week of drayage invoices between a TMS and QuickBooks Online.")
        click.echo(
            _wrap(
                f"A fresh database in {env.folder}; QuickBooks Online and Intuit's sign-in are emulated "
                f"at {env.emulator.url}."
            )
        )
        final = run_demo(env, out)
        out.section("Final state")
        click.echo(render_final(final))
    where = f"kept the database in {env.folder}" if keep else "removed the temporary folder"
    click.echo(f"\nStopped the emulator and {where} ({time.monotonic() - started:.1f} s).")
    if not final.ok:
        raise QbsyncError("the demo did not end with every load synced once (see the final state above)")
