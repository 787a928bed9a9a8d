"""``qbsync serve``: the Slack app. HTTP under gunicorn (threads), or Socket Mode when SLACK_APP_TOKEN
is set; and the scheduler in one child process (``qbsync clock``) unless ``QBSYNC_SCHEDULER=off``.
Start-up checks the settings, the database and the bot token, and says in one line what is missing;
then, one line each and without stopping, the scopes the token lacks and a digest channel out of reach."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time

import click

from cli.runtime import configure_logging
from services.errors import ConfigurationError, QbsyncError
from services.settings import load_settings

log = logging.getLogger("qbsync.serve")


def check_startup(settings, *, socket_mode: bool) -> None:
    """Refuse to start without what the Slack app needs (exit 2 naming it), or an unreachable Slack."""
    if settings.distribution:  # each workspace's token comes from its install
        missing = [
            name
            for name, value in (
                ("SLACK_SIGNING_SECRET", settings.slack_signing_secret or socket_mode),
                ("QBSYNC_SECRET_KEY", settings.secret_key),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(
                f"qbsync serve for many workspaces needs {' and '.join(missing)} "
                "(see the README, Many workspaces)"
            )
        return
    missing = [name for name, value in (("SLACK_BOT_TOKEN", settings.slack_bot_token),) if not value]
    if not socket_mode and not settings.slack_signing_secret:
        missing.append("SLACK_SIGNING_SECRET")
    if missing:
        raise ConfigurationError(
            f"qbsync serve needs {' and '.join(missing)} (see the README, Install in your workspace)"
        )
    from slack_sdk.errors import SlackApiError

    from bot.app import checked_client
    from services.store.storage import make_engine

    engine = make_engine(settings.database_url)
    try:
        client, who = checked_client(settings, engine)  # accepted: a recorded uninstall is cleared
        log.info("Slack: bot %s in team %s", who.get("user"), who.get("team"))
        _register_home(settings, engine, who)
        report_setup(settings, client, engine)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "refused"
        raise ConfigurationError(f"Slack refused SLACK_BOT_TOKEN ({error})") from None
    except Exception as exc:
        raise QbsyncError(f"cannot reach Slack at {settings.slack_api_url} ({type(exc).__name__})") from None
    finally:
        engine.dispose()


def _register_home(settings, engine, who: dict) -> None:
    """Single-workspace mode: the workspace of ``SLACK_BOT_TOKEN`` is the one whose tables are the home
    tables (``qbsync workspaces`` lists it; an "Add to Slack" of the same workspace later finds its data)."""
    from sqlalchemy.exc import SQLAlchemyError

    from wiring.services import bootstrap

    team = who.get("team_id")
    if not isinstance(team, str) or not team:
        return
    try:
        bootstrap(settings, engine=engine).registry.adopt_home(team, who.get("team"))
    except (SQLAlchemyError, ValueError) as exc:  # before qbsync db upgrade: registered at a later start
        log.info("workspace %s not registered (%s)", team, type(exc).__name__)


def report_setup(settings, client, engine=None) -> None:
    """What the installation lacks, one warning line each — the start goes on: the bot scopes of
    manifest.yml the token does not hold (``auth.test``'s ``x-oauth-scopes``), and a digest channel the
    digest cannot reach (checked, and joined when public; see ``services.digest.channel``)."""
    from bot.digest_channel import SlackDigestChannel
    from bot.scopes import granted_scopes, missing_scopes
    from services.catalogue import missing_scopes_notice
    from services.digest.channel import check_digest_channel

    try:
        granted = granted_scopes(client.auth_test().headers or {})
    except Exception as exc:  # said by the check above if it matters; the scopes are only advice
        log.info("Slack: scopes not checked (%s)", type(exc).__name__)
        granted = None
    if granted is not None and missing_scopes(granted):
        log.warning("%s", missing_scopes_notice(missing_scopes(granted)))
    check_digest_channel(settings.digest_channel, SlackDigestChannel(client), engine)


def build_wsgi(settings=None):
    """The WSGI application: settings, services, the Slack app and the web routes (in the worker)."""
    from web.app import create_web_app
    from wiring.services import bootstrap
    from wiring.slack import create_app

    settings = settings or load_settings()
    services = bootstrap(settings)
    return create_web_app(create_app(settings, services), services)


class ClockProcess:
    """The scheduler of ``qbsync serve``: ``qbsync clock`` in one child process, whatever the number of
    workers. A watcher thread starts it again when it ends without being asked to (2 s later, then
    twice as long each time up to 5 minutes; back to 2 s once it has run 10 minutes). It stops when
    the server does, or finds itself orphaned."""

    FIRST_DELAY = 2.0
    MAX_DELAY = 300.0
    STEADY = 600.0

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._started = 0.0

    def start(self) -> None:
        with self._lock:
            self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="qbsync-clock-watcher", daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        from cli.clock import PARENT_ENV

        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        command = [sys.executable, "-c", "from cli import main; main()", "clock"]
        self.process = subprocess.Popen(command, env=env)
        self._started = time.monotonic()
        log.info("scheduler started (process %s)", self.process.pid)

    def _watch(self) -> None:
        delay = self.FIRST_DELAY
        while not self._stopping.wait(1.0):
            process = self.process
            if process is None or process.poll() is None:
                if time.monotonic() - self._started > self.STEADY:
                    delay = self.FIRST_DELAY
                continue
            # Under gunicorn the master reaps every child: the exit code may be lost, say only that it ended.
            log.error("the scheduler (process %s) ended; starting it again in %.0f s", process.pid, delay)
            if self._stopping.wait(delay):
                return
            with self._lock:
                if self._stopping.is_set():
                    return
                self._spawn()
            delay = min(delay * 2, self.MAX_DELAY)

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _gunicorn(host: str, port: int, threads: int, workers: int, clock: ClockProcess | None = None):
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            level = os.environ.get("QBSYNC_LOG_LEVEL", "WARNING").lower()
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": 60,
                "graceful_timeout": 10,
                "keepalive": 5,
                "loglevel": level if level in ("debug", "info", "warning", "error") else "warning",
                "accesslog": "-" if level in ("debug", "info") else None,
                # the path without its query: /qbo/callback?code=… never reaches the access log
                "access_log_format": '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "-" "%(a)s"',
                "proc_name": "qbsync-serve",
            }
            if clock is not None:  # in the master, once: not once per worker
                options["when_ready"] = lambda _server: clock.start()
                options["on_exit"] = lambda _server: clock.stop()
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            configure_logging()
            return build_wsgi()

    return Server()


def _socket_mode(settings, clock: ClockProcess | None) -> None:
    """Connect to Slack over Socket Mode and serve until SIGTERM or Ctrl-C, then close the connection
    and stop the scheduler (exit 0). A refused SLACK_APP_TOKEN exits 2 naming Slack's error."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError

    from wiring.services import bootstrap
    from wiring.slack import create_app

    app = create_app(settings, bootstrap(settings), socket_mode=True)
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):  # from here on they only ask to stop
        signal.signal(signum, lambda *_: stop.set())
    try:
        try:
            handler.connect()  # apps.connections.open, then the WebSocket
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else "refused"
            raise ConfigurationError(f"Slack refused SLACK_APP_TOKEN ({error})") from None
        click.echo("qbsync: Slack app running in Socket Mode (Ctrl-C stops it)", err=True)
        if clock is not None:
            clock.start()
        while not stop.wait(0.5):
            pass
    finally:
        handler.close()
        if clock is not None:
            clock.stop()


@click.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=lambda: int(os.environ.get("PORT", "3000")),
    show_default="PORT or 3000",
    help="HTTP port (HTTP mode).",
)
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on (HTTP mode).")
@click.option(
    "--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="Threads per worker."
)
def serve_command(port: int, host: str, threads: int) -> None:
    """The Slack app: POST /slack/events and GET /healthz on HTTP, or Socket Mode when SLACK_APP_TOKEN is set.

    Needs SLACK_BOT_TOKEN and (HTTP) SLACK_SIGNING_SECRET; see the README's "Install in your workspace".
    """
    configure_logging()
    settings = load_settings()
    socket_mode = settings.slack_app_token is not None
    check_startup(settings, socket_mode=socket_mode)
    clock = ClockProcess() if settings.scheduler == "on" else None
    if socket_mode:
        _socket_mode(settings, clock)
        return
    workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
    click.echo(f"qbsync: Slack app listening on http://{host}:{port}/slack/events", err=True)
    _gunicorn(host, port, threads, max(1, workers), clock).run()
