"""Entry point: the ``qbsync`` click group; each verb lives in its own module."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="qbsync")
def qbsync() -> None:
    """Keep TMS invoices in sync with QuickBooks Online, and fix the ones that fail."""


def _register() -> None:
    from emulator.cli import emulator_command

    qbsync.add_command(emulator_command, name="emulator")


def main() -> None:
    _register()
    qbsync()
