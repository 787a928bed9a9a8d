"""``qbsync clock``: the scheduler alone (the Procfile's ``clock``): the daily digest and the automatic
sync and retry, until SIGTERM or Ctrl-C. ``qbsync serve`` runs the same in a child process."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

import click

from cli.runtime import configure_logging
from services.errors import ConfigurationError, QbsyncError
from services.settings import load_settings

PARENT_ENV = "QBSYNC_CLOCK_PARENT"  # set by qbsync serve: the clock stops when that process is gone


def slack_client(settings, engine=None):
    """A checked Slack client, or None without SLACK_BOT_TOKEN (then no digest). Given the database
    ``engine``, Slack accepting the token clears a recorded uninstall or revocation, and the client
    records Slack's refusals (``services.access.workspace``)."""
    if not settings.slack_bot_token:
        return None
    from slack_sdk.errors import SlackApiError

    from bot.app import checked_client, web_client

    try:
        if engine is not None:
            client, _who = checked_client(settings, engine)
        else:
            client = web_client(settings)
            client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "refused"
        raise ConfigurationError(f"Slack refused SLACK_BOT_TOKEN ({error})") from None
    except Exception as exc:
        raise QbsyncError(f"cannot reach Slack at {settings.slack_api_url} ({type(exc).__name__})") from None
    return client


def run_clock(settings, *, stop: threading.Event, parent: int | None = None) -> None:
    """Run the scheduler until ``stop`` is set (or the ``parent`` process is gone)."""
    from services.scheduler.jobs import build_scheduler
    from services.store.storage import current_revision
    from wiring.services import bootstrap
    from wiring.slack import digest_channel

    services = bootstrap(settings)
    if current_revision(services.engine) is None:
        raise QbsyncError("the database has no qbsync tables; run qbsync db upgrade")
    if settings.distribution:  # many workspaces: each one's round, with its own Slack token
        from services.scheduler.workspaces import WorkspaceRounds
        from wiring.slack import workspace_chat

        rounds = WorkspaceRounds(services, workspace_chat, threads=settings.sync_workers, stop=stop)
        _run_scheduler(settings, services, build_scheduler(services, stop=stop, rounds=rounds), stop, parent)
        rounds.close()
        return
    client = slack_client(settings, services.engine)
    port = digest_channel(services, client) if client is not None else None
    if port is not None and parent is None:  # under qbsync serve, serve has checked the channel
        from services.digest.channel import check_digest_channel

        check_digest_channel(settings.digest_channel, port, services.engine)  # one line if unreachable
    _run_scheduler(
        settings, services, build_scheduler(services, digest_channel=port, stop=stop), stop, parent
    )


def _run_scheduler(settings, services, scheduler, stop: threading.Event, parent: int | None) -> None:
    from services.scheduler.jobs import describe

    scheduler.start()
    log = logging.getLogger("qbsync.clock")
    for line in describe(scheduler):
        log.info("scheduled %s", line)
    click.echo(f"qbsync: clock running in {settings.timezone} (SIGTERM stops it)", err=True)
    try:
        while not stop.wait(1.0):
            if parent is not None and os.getppid() != parent:
                log.warning("the process that started the clock is gone; stopping")
                break
    finally:
        stop.set()  # a sync run stops after the batch it is pushing
        scheduler.shutdown(wait=True)
        services.close()
        click.echo("qbsync: clock stopped", err=True)


@click.command()
def clock_command() -> None:
    """The scheduler: the daily digest (QBSYNC_DIGEST_TIME in QBSYNC_TIMEZONE, to QBSYNC_DIGEST_CHANNEL)
    and the automatic sync and retry (every QBSYNC_SYNC_EVERY). Stops cleanly on SIGTERM."""
    configure_logging()
    if not os.environ.get("QBSYNC_LOG_LEVEL"):
        logging.getLogger("qbsync.clock").setLevel(logging.INFO)  # each run and its outcome
    settings = load_settings()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    parent = os.environ.get(PARENT_ENV)
    run_clock(settings, stop=stop, parent=int(parent) if parent and parent.isdigit() else None)
    sys.stdout.flush()
