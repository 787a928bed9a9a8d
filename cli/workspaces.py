"""``qbsync workspaces``: the Slack workspaces a deployment serves (team, QuickBooks company, loads, open
problems, installed or not); ``delete TEAM`` erases one after a confirmation; ``tms-secret TEAM`` gives
a workspace a new TMS webhook URL and secret."""

from __future__ import annotations

import json

import click

from cli.runtime import find_workspace, open_root


@click.group("workspaces", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def workspaces_group(ctx: click.Context, as_json: bool) -> None:
    """The Slack workspaces served (distribution mode); erase one."""
    if ctx.invoked_subcommand is not None:
        return
    from services.workspaces.overview import overview

    root = open_root()
    rows = overview(root)
    if as_json:
        click.echo(json.dumps({"workspaces": rows}, indent=2))
        return
    if not rows:
        click.echo("No workspace yet. In distribution mode each one installs from /slack/install.")
        return
    click.echo(f"{'team':<14} {'name':<24} {'QuickBooks':<14} {'loads':>6} {'problems':>8}  installed")
    for row in rows:
        installed = "yes" if row["installed"] else f"no (since {row['uninstalled_at'] or '?'})"
        click.echo(
            f"{row['team_id']:<14} {(row['name'] or '')[:24]:<24} {row['realm_id'] or '-':<14} "
            f"{row['loads']:>6} {row['open_problems']:>8}  {installed}"
        )


@workspaces_group.command("delete")
@click.argument("team")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_command(team: str, yes: bool) -> None:
    """Erase TEAM's data and revoke its QuickBooks grant (after a confirmation)."""
    root = open_root()
    workspace = find_workspace(root, team)
    if not yes:
        click.confirm(
            f"Erase every load, customer, attempt and setting of workspace {workspace.label}, and revoke "
            "its QuickBooks grant? This cannot be undone",
            abort=True,
        )
    from services.workspaces.overview import erase

    revoked = erase(root, workspace)
    note = "its QuickBooks grant was revoked" if revoked else "it had no QuickBooks grant to revoke"
    click.echo(f"Workspace {workspace.label} erased; {note}.")


@workspaces_group.command("tms-secret")
@click.argument("team")
def tms_secret_command(team: str) -> None:
    """A new TMS webhook URL and secret for TEAM (the old ones stop working now); shown once."""
    root = open_root()
    workspace = find_workspace(root, team)
    key, secret = root.registry.rotate_tms_secret(workspace.team_id)
    base = (root.settings.public_url or "").rstrip("/") or "https://YOUR-QBSYNC-HOST"
    click.echo(f"TMS webhook URL: {base}/tms/events/{key}")
    click.echo(f"Secret (shown once): {secret}")
