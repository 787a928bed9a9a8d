"""``qbsync connect`` and ``qbsync disconnect``."""

from __future__ import annotations

import getpass
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import click

from cli.runtime import services
from services.errors import QbsyncError, UserInputError
from services.oauth_flow import complete_authorization, connect_with_refresh_token, new_state


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


@click.command()
@click.option("--realm-id", help="The QuickBooks company id (realm id), with --refresh-token.")
@click.option("--refresh-token", help="A refresh token obtained elsewhere, e.g. Intuit's OAuth Playground.")
@click.option("--port", type=int, default=None, help="Local port for the browser callback (default 8765).")
@click.option("--timeout", type=int, default=300, show_default=True, help="Seconds to wait for the browser.")
@click.option("--no-browser", is_flag=True, help="Print the authorize URL without opening a browser.")
def connect_command(
    realm_id: str | None, refresh_token: str | None, port: int | None, timeout: int, no_browser: bool
) -> None:
    """Connect QuickBooks.

    Without options: prints Intuit's authorize URL (and opens it), then waits for Intuit to redirect
    back to a local callback. Register that callback (http://localhost:PORT/callback, or
    QBO_REDIRECT_URI when it points at localhost) as a redirect URI of your Intuit app.

    With --realm-id and --refresh-token: stores tokens obtained elsewhere (the token is used once to
    check it, which rotates it; the new one is stored encrypted).
    """
    if bool(realm_id) != bool(refresh_token):
        raise UserInputError("--realm-id and --refresh-token go together")
    svc = services()
    if realm_id and refresh_token:
        status = connect_with_refresh_token(svc.auth, svc.connection, realm_id, refresh_token, _actor())
        click.echo(f"Connected to QuickBooks company {status.realm_id}.")
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
        raise QbsyncError(f"Intuit did not authorize the connection: {params['error']}")
    status = complete_authorization(
        svc.auth,
        svc.connection,
        code=params.get("code", ""),
        realm_id=params.get("realmId", ""),
        actor=_actor(),
        redirect_uri=redirect_uri,
    )
    click.echo(f"Connected to QuickBooks company {status.realm_id}.")


@click.command()
def disconnect_command() -> None:
    """Revoke the QuickBooks grant and forget the tokens."""
    svc = services()
    if not svc.connection.status().realm_id:
        click.echo("QuickBooks was not connected.")
        return
    revoked = svc.connection.disconnect()
    if revoked:
        click.echo("Disconnected: Intuit revoked the grant and the tokens are forgotten.")
    else:
        click.echo("Disconnected: the tokens are forgotten (Intuit could not be reached to revoke them).")


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
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                if query.get("state") != outer.state:
                    self._answer(400, "This answer does not belong to the running qbsync connect.")
                    return
                outer.params = query
                ok = "code" in query
                self._answer(
                    200 if ok else 400, "Connected. You can close this tab." if ok else "Not connected."
                )
                outer.done.set()

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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wait(self, timeout: int) -> dict[str, str]:
        if not self.done.wait(timeout):
            raise QbsyncError(f"no answer from Intuit within {timeout} s; run qbsync connect again")
        return self.params or {}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
