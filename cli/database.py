"""``qbsync db upgrade``."""

from __future__ import annotations

import click

from cli.runtime import open_services
from services.store.storage import current_revision, upgrade


@click.group()
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
def upgrade_command() -> None:
    """Apply database migrations (safe to run again)."""
    svc = open_services()
    url = svc.settings.database_url
    before = current_revision(svc.engine)
    upgrade(url)
    after = current_revision(svc.engine)
    where = svc.engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"Database {where} is up to date (revision {after}).")
    else:
        click.echo(f"Database {where} upgraded from {before or 'empty'} to {after}.")
