"""Entry point: the ``qbsync`` click group. Each verb lives in its own module and calls a service."""

from __future__ import annotations

import click

from cli.runtime import QbsyncGroup

VERBS = {
    "db": "cli.database:db_group",
    "emulator": "emulator.cli:emulator_command",
    "import": "cli.importing:import_command",
    "sync": "cli.syncing:sync_command",
    "retry": "cli.syncing:retry_command",
    "problems": "cli.syncing:problems_command",
    "diagnose": "cli.diagnosing:diagnose_command",
    "fix": "cli.diagnosing:fix_command",
    "reconcile": "cli.reconciling:reconcile_command",
    "connect": "cli.connecting:connect_command",
    "disconnect": "cli.connecting:disconnect_command",
    "digest": "cli.digest:digest_command",
    "demo": "cli.demo:demo_command",
    "serve": "cli.serving:serve_command",
    "playground": "cli.playground:playground_command",
    "clock": "cli.clock:clock_command",
}


@click.group(cls=QbsyncGroup, lazy=VERBS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qbsync")
def qbsync() -> None:
    """Keep TMS invoices in sync with QuickBooks Online, and fix the ones that fail.

    Configuration comes from the environment (DATABASE_URL, QBO_*, SLACK_*, QBSYNC_*);
    see the README. With nothing set, qbsync uses ./qbsync.db (SQLite).
    """


def main() -> None:
    qbsync()
