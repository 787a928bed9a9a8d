"""``qbsync connect`` and ``qbsync disconnect``."""

from __future__ import annotations

import getpass
import html
import logging
import secrets
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import click

from cli.runtime import open_services
from services.catalogue import company_switch_plan
from services.connect.flow import (
    check_realm_id,
    company_name,
    complete_authorization,
    connect_with_refresh_token,
    new_state,
    require_key,
)
from services.connect.states import issue_ticket
from services.errors import ConfigurationError, QbsyncError, UserInputError
from services.quickbooks import NotConnected
from services.store.models import ConnectionState

log = logging.getLogger(__name__)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


@click.command()
@click.option("--realm-id", help="The QuickBooks company id (realm id), with --refresh-token.")
@click.option("--refresh-token", help="A refresh token obtained elsewhere, e.g. Intuit's OAuth Playground.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Local port for the browser callback (default 8765).",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Seconds to wait for the browser.",
)
@click.option("--no-browser", is_flag=True, help="Print the authorize URL without opening a browser.")
@click.option(
    "--switch-company",
    is_flag=True,
    help="Allow connecting another QuickBooks company than the one qbsync syncs to (its QuickBooks ids "
    "are forgotten; the loads are sent to the new company on the next sync).",
)
def connect_command(
    realm_id: str | None,
    refresh_token: str | None,
    port: int | None,
    timeout: int,
    no_browser: bool,
    switch_company: bool,
) -> None:
    """Connect QuickBooks.

    Without options: prints Intuit's authorize URL (and opens it), then waits for Intuit to redirect
    back to a local callback. Register that callback (http://localhost:PORT/callback, or
    QBO_REDIRECT_URI when it points at localhost) as a redirect URI of your Intuit app. When
    QBO_REDIRECT_URI is qbsync serve's /qbo/callback, prints (and opens) its /qbo/connect instead and
    waits until the connection is stored.

    With --realm-id and --refresh-token: stores tokens obtained elsewhere (the token is used once to
    check it, which rotates it; the new one is stored encrypted).

    Another QuickBooks company than the one qbsync syncs to is refused (exit 2, nothing changed)
    unless --switch-company is given: then qbsync first says what happens to the synced loads, and
    forgets the old company's QuickBooks ids when the new company is connected.
    """
    if (realm_id is None) != (refresh_token is None):
        raise UserInputError(
            "--realm-id and --refresh-token go together (give neither to connect in the browser)"
        )
    if realm_id is not None and refresh_token is not None:
        check_realm_id(realm_id)
        if not refresh_token.strip():
            raise UserInputError("the refresh token is empty")
        svc = open_services()
        if switch_company:
            _say_switch_plan(svc)
        try:
            connected = connect_with_refresh_token(
                svc.connector, realm_id, refresh_token, _actor(), switch=switch_company
            )
        except NotConnected as exc:
            raise _refused(
                exc,
                "the refresh token",
                "it has expired, was revoked or was already used (Intuit replaces it every time it is "
                "used); get a new one, e.g. from Intuit's OAuth Playground, and run qbsync connect again",
                UserInputError,
            ) from None
        _echo_connected(connected.status.realm_id, connected.company_name, connected.switched)
        return
    svc = open_services()
    require_key(svc.connector)
    if switch_company:
        _say_switch_plan(svc)
    if port is None and _served(svc.settings.qbo_redirect_uri):
        _connect_through_serve(svc, timeout, no_browser, switch_company)
        return
    redirect_uri, bind_port = _callback_address(svc.settings.qbo_redirect_uri, port)
    state = new_state()
    url = svc.auth.authorization_url(state, redirect_uri=redirect_uri)
    answer = _CallbackServer(bind_port, state)
    answer.start()
    try:
        click.echo("Open this URL to connect QuickBooks (waiting for the answer):\n")
        click.echo(f"  {url}\n")
        if not no_browser:
            webbrowser.open(url)
        params = answer.wait(timeout)
    finally:
        answer.stop()
    if "error" in params:
        raise QbsyncError(f"Intuit did not authorize the connection ({params['error']}); nothing was changed")
    try:
        connected = complete_authorization(
            svc.connector,
            code=params.get("code", ""),
            realm_id=params.get("realmId", ""),
            actor=_actor(),
            redirect_uri=redirect_uri,
            switch=switch_company,
        )
    except NotConnected as exc:  # the code came from Intuit itself: a failure, not the user's input
        raise _refused(exc, "the authorization code", "run qbsync connect again", QbsyncError) from None
    _echo_connected(connected.status.realm_id, connected.company_name, connected.switched)


def _say_switch_plan(svc) -> None:
    """Before switching: what happens to the loads synced to the company qbsync remembers."""
    known = svc.connection.status().realm_id
    if known:
        held = svc.connection.footprint()
        click.echo(company_switch_plan(known, held.loads, held.customers, held.items))


def _served(redirect_uri: str | None) -> bool:
    """QBO_REDIRECT_URI is ``qbsync serve``'s callback: the connection is made there."""
    return urlparse(redirect_uri or "").path.rstrip("/") == "/qbo/callback"


def _connect_through_serve(svc, timeout: int, no_browser: bool, switch_company: bool) -> None:
    """Open ``/qbo/connect`` on the running ``qbsync serve`` with a single-use Connect ticket made
    here (the command line acts as an administrator) and wait until the connection is stored."""
    before = svc.connection.status()
    ticket = issue_ticket(svc.engine, _actor(), switch_company=switch_company)
    url = f"{svc.settings.connect_url}?{urlencode({'ticket': ticket})}"
    click.echo(
        "Open this URL to connect QuickBooks (qbsync serve answers Intuit; waiting for it; the link works "
        "once, for 10 minutes):\n"
    )
    click.echo(f"  {url}\n")
    if not no_browser:
        webbrowser.open(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = svc.connection.status()
        if now.connected and (not before.connected or now.connected_at != before.connected_at):
            _echo_connected(now.realm_id, company_name(svc.connector, now.realm_id, None))
            if before.realm_id and now.realm_id != before.realm_id:
                switched = svc.connection.last_switch()
                if switched:
                    click.echo(switched)
            return
        time.sleep(0.25)
    raise QbsyncError(
        f"no connection within {timeout} s; is qbsync serve running at {svc.settings.public_base}? "
        "Nothing was changed"
    )


def _refused(exc: NotConnected, what: str, advice: str, error: type[QbsyncError]) -> QbsyncError:
    if exc.code == "invalid_client":
        return ConfigurationError(
            "Intuit rejected the app's QBO_CLIENT_ID / QBO_CLIENT_SECRET (invalid_client); "
            "check them against the app's keys in the Intuit developer portal; nothing was changed"
        )
    return error(f"Intuit refused {what} ({exc.code or 'refused'}): {advice}; nothing was changed")


def _echo_connected(realm_id: str | None, name: str | None, switched=None) -> None:
    if name:
        click.echo(f"Connected to QuickBooks company {name!r} (realm id {realm_id}).")
    else:
        click.echo(f"Connected to QuickBooks company {realm_id}.")
    if switched is not None:
        click.echo(switched.words)


@click.command()
def disconnect_command() -> None:
    """Revoke the QuickBooks grant and forget the tokens."""
    svc = open_services()
    status = svc.connection.status()
    if status.state is ConnectionState.DISCONNECTED:
        click.echo("QuickBooks was not connected.")
        return
    revoked = svc.connection.disconnect()
    if revoked:
        click.echo(
            f"Disconnected from QuickBooks company {status.realm_id}: Intuit revoked the grant and the "
            "tokens are forgotten."
        )
    else:
        click.echo(
            f"Disconnected from QuickBooks company {status.realm_id}: the tokens are forgotten, but Intuit "
            "did not confirm revoking the grant (already revoked, or Intuit could not be reached)."
        )


def _callback_address(configured: str | None, port: int | None) -> tuple[str, int]:
    if configured and port is None:
        parsed = urlparse(configured)
        if parsed.hostname in ("localhost", "127.0.0.1") and parsed.port:
            return configured, parsed.port
    bind = port or 8765
    return f"http://localhost:{bind}/callback", bind


class _CallbackServer:
    """A one-shot loopback HTTP server that catches Intuit's redirect and checks the CSRF state."""

    def __init__(self, port: int, state: str) -> None:
        self.state = state
        self.params: dict[str, str] | None = None
        self.done = threading.Event()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                if not secrets.compare_digest(query.get("state", "").encode(), outer.state.encode()):
                    self._answer(400, "This answer does not belong to the running qbsync connect.")
                    return
                with outer.lock:
                    if outer.done.is_set():
                        self._answer(409, "qbsync already has Intuit's answer; return to the terminal.")
                        return
                    outer.params = query
                    outer.done.set()
                if "code" in query:
                    self._answer(200, "qbsync has Intuit's answer; the terminal shows the result.")
                else:
                    self._answer(400, f"Not connected: {html.escape(query.get('error', 'no code'))}.")

            def _answer(self, status: int, text: str) -> None:
                body = f"<!doctype html><title>qbsync</title><p>{text}</p>".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                return

        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise QbsyncError(f"cannot listen on port {port} for the callback: {exc.strerror}") from None
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wait(self, timeout: int) -> dict[str, str]:
        if not self.done.wait(timeout):
            raise QbsyncError(f"no answer from Intuit within {timeout} s; run qbsync connect again")
        return self.params or {}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
