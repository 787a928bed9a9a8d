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
from typing import TYPE_CHECKING

import click

from services.errors import ConfigurationError, QbsyncError, SettingsError, UserInputError

if TYPE_CHECKING:
    from wiring.services import Services

log = logging.getLogger("qbsync")


class QbsyncGroup(click.Group):
    """A click group whose commands report failures as one line and the contract's exit code.

    Sub-commands named in ``lazy`` ("name" -> "module:attribute") are imported only when used, so
    ``qbsync --help`` and light verbs do not pay for the QuickBooks and Slack libraries.
    """

    def __init__(
        self, *args, lazy: dict[str, str] | None = None, summaries: dict[str, str] | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})
        self.summaries = dict(summaries or {})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands from ``summaries``: ``--help`` imports none of them."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.summaries:
                rows.append((name, self.summaries[name]))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
        else:
            command = super().get_command(ctx, cmd_name)
        if command is not None and cmd_name in self.workspace_verbs:
            _take_workspace(command)
        return command

    workspace_verbs: frozenset[str] = frozenset()

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except (SettingsError, ConfigurationError) as exc:  # a missing or wrong setting: fix the environment
            _fail(str(exc), 2)
        except QbsyncError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            _fail("interrupted", 130)
        except Exception as exc:  # the last line of defence: a message, an id, no traceback
            if os.environ.get("QBSYNC_DEBUG"):
                raise
            database = _database_problem(exc)
            if database:
                _fail(database, 1)
            error_id = uuid.uuid4().hex[:8]
            log.debug("unexpected error %s", error_id, exc_info=True)  # QBSYNC_LOG_LEVEL=DEBUG shows it
            _fail(
                f"unexpected error ({type(exc).__name__}: {_first_line(exc)}); error id {error_id} "
                "(QBSYNC_DEBUG=1 shows the details)",
                1,
            )


def _fail(message: str, code: int) -> None:
    click.echo(f"qbsync: {message}", err=True)
    sys.exit(code)


def _first_line(value: object) -> str:
    lines = [line.strip() for line in str(value).splitlines() if line.strip()]
    return lines[0] if lines else ""


def _database_problem(exc: BaseException) -> str | None:
    """One line for a database that is unreachable or not migrated (SQLAlchemy's own text spans lines)."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(exc, DBAPIError):
        return None
    detail = _first_line(exc.orig) or type(exc.orig).__name__
    if "no such table" in detail or getattr(exc.orig, "sqlstate", None) == "42P01":
        return f"the database has no qbsync tables ({detail}); run qbsync db upgrade"
    if exc.connection_invalidated or any(word in detail.lower() for word in ("connection", "unable to open")):
        return f"cannot reach the database named by DATABASE_URL: {detail}"
    return f"database error: {detail}"


def configure_logging() -> None:
    """Logging at QBSYNC_LOG_LEVEL, with secrets redacted (see ``services.logsafe``)."""
    from services import logsafe

    level = os.environ.get("QBSYNC_LOG_LEVEL", "WARNING").strip().upper()
    try:
        logsafe.configure_logging(level)
    except ValueError:
        raise SettingsError(
            f"invalid configuration: QBSYNC_LOG_LEVEL {level!r} is not DEBUG, INFO, WARNING or ERROR"
        ) from None


WORKSPACE_META = "qbsync.workspace"


def _remember_workspace(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[WORKSPACE_META] = value


def _take_workspace(command: click.Command) -> None:
    """Give ``command`` (and its sub-commands) the ``--workspace TEAM`` option, once."""
    commands = [command, *getattr(command, "commands", {}).values()]
    for each in commands:
        if not any(param.name == "workspace" for param in each.params):
            each.params.append(
                click.Option(
                    ["--workspace"],
                    metavar="TEAM",
                    expose_value=False,
                    callback=_remember_workspace,
                    help="The Slack workspace (team id) to act on, if several (or QBSYNC_WORKSPACE).",
                )
            )


def open_root() -> Services:
    """The deployment's services from the environment (validated; a bad setting exits 2 with its name),
    not scoped to a workspace: for the verbs that act on all of them (``db upgrade``, ``workspaces``)."""
    from services.settings import load_settings
    from wiring.services import bootstrap

    configure_logging()
    return bootstrap(load_settings())


def open_services() -> Services:
    """The services of the workspace the command acts on: the one named by ``--workspace`` or
    ``QBSYNC_WORKSPACE``; else, in single-workspace mode, the deployment's own, and in distribution
    mode the only workspace there is. Several and none named: exit 2 listing them."""
    root = open_root()
    return scoped(root, _chosen_workspace(root))


def _chosen_workspace(root: Services) -> str | None:
    ctx = click.get_current_context(silent=True)
    chosen = ctx.find_root().meta.get(WORKSPACE_META) if ctx is not None else None
    return team_id(chosen, "--workspace ") if chosen is not None else root.settings.workspace


def team_id(value: str, named: str = "") -> str:
    """``value`` as a Slack team id, or exit 2 saying it is not one."""
    from services.settings import TEAM_ID

    value = value.strip()
    if not TEAM_ID.fullmatch(value):
        raise UserInputError(f"{named}{value[:40]!r} is not a Slack team id (like T0123ABCD)")
    return value


def find_workspace(root: Services, team: str):
    """Workspace ``team`` of the registry, or exit 2 listing the workspaces there are."""
    from services.catalogue import workspaces as words

    team = team_id(team)
    workspaces = root.registry.all()
    for workspace in workspaces:
        if workspace.team_id == team:
            return workspace
    teams = ", ".join(w.label for w in workspaces) or "none"
    raise UserInputError(words.WORKSPACE_UNKNOWN.format(team=team, teams=teams))


def scoped(root: Services, chosen: str | None) -> Services:
    from services.catalogue import workspaces as words

    if chosen is not None:
        return root.for_workspace(find_workspace(root, chosen))
    if not root.settings.distribution:
        return root  # single-workspace mode: the home tables, as always
    workspaces = root.registry.all()  # no registry yet: the database error says to run qbsync db upgrade
    teams = ", ".join(w.label for w in workspaces) or "none"
    if len(workspaces) == 1:
        return root.for_workspace(workspaces[0])
    if not workspaces:
        raise UserInputError(words.NO_WORKSPACES)
    raise UserInputError(words.WORKSPACE_NEEDED.format(count=len(workspaces), teams=teams))
