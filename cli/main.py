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
    "changes": "cli.reconciling:changes_command",
    "connect": "cli.connecting:connect_command",
    "disconnect": "cli.connecting:disconnect_command",
    "digest": "cli.digest:digest_command",
    "demo": "cli.demo:demo_command",
    "serve": "cli.serving:serve_command",
    "playground": "cli.playground:playground_command",
    "clock": "cli.clock:clock_command",
    "workspaces": "cli.workspaces:workspaces_group",
}

# The verbs that act on one workspace's data: they take --workspace TEAM (or QBSYNC_WORKSPACE).
WORKSPACE_VERBS = frozenset(
    {
        "import",
        "sync",
        "retry",
        "problems",
        "diagnose",
        "fix",
        "reconcile",
        "changes",
        "connect",
        "disconnect",
        "digest",
    }
)


# What ``qbsync --help`` lists, so that it imports no command (keep in step with each docstring).
SUMMARIES = {
    "db": "Database maintenance.",
    "emulator": "Run a local QuickBooks Online API v3 and Intuit OAuth 2.0 emulator.",
    "import": "Upsert customers, charge codes and loads from a JSON file.",
    "sync": "Push the invoices of LOADS (or, with --all, of every unsynced load).",
    "retry": "Retry the sync of one LOAD.",
    "problems": "List problem invoices, grouped by reason, with amounts.",
    "diagnose": "Every reason that applies to LOAD now, with evidence and fixes.",
    "fix": "Apply one FIX to LOAD, then retry its sync and diagnose it again.",
    "reconcile": "Check every synced invoice against QuickBooks.",
    "changes": "Read what changed in QuickBooks since last time (change data capture) and apply it now.",
    "connect": "Connect QuickBooks.",
    "disconnect": "Revoke the QuickBooks grant and forget the tokens.",
    "digest": "Today's digest: open, new and resolved problem invoices.",
    "demo": "Run the demo: sample TMS data, a local QuickBooks emulator, every reason fixed.",
    "serve": "The Slack app.",
    "clock": "The scheduler (daily digest, automatic sync and retry).",
    "workspaces": "The Slack workspaces served (distribution mode); erase one.",
}


@click.group(
    cls=QbsyncGroup, lazy=VERBS, summaries=SUMMARIES, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(package_name="qbsync")
def qbsync() -> None:
    """Keep TMS invoices in sync with QuickBooks Online, and fix the ones that fail.

    Configuration comes from the environment (DATABASE_URL, QBO_*, SLACK_*, QBSYNC_*);
    see the README. With nothing set, qbsync uses ./qbsync.db (SQLite).
    """


qbsync.workspace_verbs = WORKSPACE_VERBS


def main() -> None:
    qbsync()
