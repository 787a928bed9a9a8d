"""``qbsync clock``: the scheduler alone (the Procfile's ``clock``)."""

from __future__ import annotations

import click

from services.errors import QbsyncError


@click.command()
def clock_command() -> None:
    """The scheduler (daily digest, automatic sync and retry). Not available in this release."""
    raise QbsyncError("the scheduler (qbsync clock) is not available in this release; nothing was started")
