"""What every verb shares: building services from the environment, and turning errors into exit codes.

Exit codes follow the contract: 0 ran, 2 bad input or usage, 1 failure of qbsync or a dependency —
always with a one-line reason on stderr and never a traceback (set QBSYNC_DEBUG=1 to see one).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import uuid

import click

from services.bootstrap import Services, bootstrap
from services.errors import QbsyncError
from services.settings import SettingsError, load_settings

log = logging.getLogger("qbsync")


class QbsyncGroup(click.Group):
    """A click group whose commands report failures as one line and the contract's exit code.

    Sub-commands named in ``lazy`` ("name" -> "module:attribute") are imported only when used, so
    ``qbsync --help`` and light verbs do not pay for the QuickBooks and Slack libraries.
    """

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attribute = self.lazy[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except SettingsError as exc:
            _fail(str(exc), 2)
        except QbsyncError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # the last line of defence: a message, an id, no traceback
            if os.environ.get("QBSYNC_DEBUG"):
                raise
            error_id = uuid.uuid4().hex[:8]
            log.exception("unexpected error %s", error_id)
            _fail(f"unexpected error ({type(exc).__name__}: {exc}); error id {error_id}", 1)


def _fail(message: str, code: int) -> None:
    click.echo(f"qbsync: {message}", err=True)
    sys.exit(code)


def configure_logging() -> None:
    level = os.environ.get("QBSYNC_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def services() -> Services:
    """Build the services from the environment (validated; a bad setting exits 2 with its name)."""
    configure_logging()
    return bootstrap(load_settings())
