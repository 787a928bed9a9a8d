"""``qbsync connect`` and ``qbsync disconnect``."""

from __future__ import annotations

import getpass
import html
import logging
import secrets
import threading
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import click

from cli.runtime import services
from services.bootstrap import Services
from services.errors import ConfigurationError, QbsyncError, UserInputError
from services.models import ConnectionState
from services.oauth_flow import check_realm_id, complete_authorization, new_state
from services.quickbooks import Kind, NotConnected, QboError, QuickBooksApi, RetryPolicy

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
    if (realm_id is None) != (refresh_token is None):
        raise UserInputError(
            "--realm-id and --refresh-token go together (give neither to connect in the browser)"
        )
    if realm_id is not None and refresh_token is not None:
        realm = check_realm_id(realm_id)
        if not realm.isascii():  # check_realm_id's \d also takes other scripts' digits
            raise UserInputError(f"realm id must be the company's number (digits only), got {realm_id!r}")
        token = refresh_token.strip()
        if not token:
            raise UserInputError("the refresh token is empty")
        svc = services()
        _require_secret_key(svc)
        _connect_with_refresh_token(svc, realm, token)
        return
    svc = services()
    _require_secret_key(svc)
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
        status = complete_authorization(
            svc.auth,
            svc.connection,
            code=params.get("code", ""),
            realm_id=params.get("realmId", ""),
            actor=_actor(),
            redirect_uri=redirect_uri,
        )
    except NotConnected as exc:  # the code came from Intuit itself: a failure, not the user's input
        raise _refused(exc, "the authorization code", "run qbsync connect again", QbsyncError) from None
    _echo_connected(status.realm_id, _company_name(svc, status.realm_id, None))


def _require_secret_key(svc: Services) -> None:
    """Refuse before anything is used: a refresh token or code spent without a key to store the result
    would be lost."""
    if not svc.cipher.configured:
        raise ConfigurationError(
            "QBSYNC_SECRET_KEY must be set to connect: it encrypts the QuickBooks tokens qbsync stores "
            "(a long passphrase or a Fernet key); nothing was changed"
        )


def _connect_with_refresh_token(svc: Services, realm_id: str, refresh_token: str) -> None:
    """Use the token once (Intuit rotates it), check that it opens ``realm_id``, then store the result.
    A token for another company is refused before anything is stored."""
    try:
        tokens = svc.auth.refresh(refresh_token)
    except NotConnected as exc:
        raise _refused(
            exc,
            "the refresh token",
            "it has expired, was revoked or was already used (Intuit replaces it every time it is "
            "used); get a new one, e.g. from Intuit's OAuth Playground, and run qbsync connect again",
            UserInputError,
        ) from None
    name = _company_name(svc, realm_id, tokens.access_token)
    status = svc.connection.store(tokens, realm_id, _actor())
    _echo_connected(status.realm_id, name)


def _refused(exc: NotConnected, what: str, advice: str, error: type[QbsyncError]) -> QbsyncError:
    if exc.code == "invalid_client":
        return ConfigurationError(
            "Intuit rejected the app's QBO_CLIENT_ID / QBO_CLIENT_SECRET (invalid_client); "
            "check them against the app's keys in the Intuit developer portal; nothing was changed"
        )
    return error(f"Intuit refused {what} ({exc.code or 'refused'}): {advice}; nothing was changed")


def _company_name(svc: Services, realm_id: str, access_token: str | None) -> str | None:
    """The company's name from QuickBooks, which also proves the tokens open that company.

    With ``access_token`` (tokens not stored yet), a refusal is an error: the token belongs to another
    company. Without it (tokens just stored from Intuit's own answer), the name is a courtesy.
    """
    source = _JustIssued(realm_id, access_token) if access_token else svc.connection
    api = QuickBooksApi(
        svc.auth, source, svc.settings.qbo_api_base, RetryPolicy(attempts=2, base_delay=0.5, max_delay=2)
    )
    try:
        rows = api.query("SELECT * FROM CompanyInfo").get("CompanyInfo", [])
    except QboError as exc:
        refused = exc.kind in (Kind.FORBIDDEN, Kind.AUTH, Kind.NOT_CONNECTED)
        if access_token and refused:
            raise UserInputError(
                f"Intuit accepted the refresh token but it does not open QuickBooks company {realm_id} "
                f"({exc.message}); check the realm id shown with the token, then get a new token "
                "(this check used it) and run qbsync connect again; nothing was stored"
            ) from None
        log.warning("could not read the QuickBooks company's name: %s", exc)
        return None
    if not rows:
        return None
    return str(rows[0].get("CompanyName") or "").strip() or None


class _JustIssued:
    """A token source for tokens that are not stored yet: no refresh, nothing recorded."""

    def __init__(self, realm_id: str, access_token: str) -> None:
        self.realm_id = realm_id
        self.access_token = access_token

    def current(self) -> tuple[str, str]:
        return self.realm_id, self.access_token

    def refreshed(self, rejected_token: str) -> tuple[str, str]:
        raise NotConnected("QuickBooks refused the access token Intuit just issued")

    def broken(self, reason: str) -> None:
        return None


def _echo_connected(realm_id: str | None, name: str | None) -> None:
    if name:
        click.echo(f"Connected to QuickBooks company {name!r} (realm id {realm_id}).")
    else:
        click.echo(f"Connected to QuickBooks company {realm_id}.")


@click.command()
def disconnect_command() -> None:
    """Revoke the QuickBooks grant and forget the tokens."""
    svc = services()
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
