"""Connecting QuickBooks in the browser through ``qbsync serve``.

``GET /qbo/connect?ticket=…`` starts it: only with a single-use, ten-minute Connect ticket made for a
Slack administrator (when they press Connect QuickBooks) or for ``qbsync connect``. Spending the
ticket issues a stored, single-use state bound to this browser (the digest of a random cookie value
the route sets) and redirects to Intuit. ``GET /qbo/callback`` finishes it: the state, the same
browser (its cookie), an administrator (or the CLI) behind it, Intuit's answer, the same QuickBooks
company as the one qbsync remembers (unless the ticket asked to switch), then the code exchanged and
the company confirmed with the new access token before anything is stored.

Every refusal is a ``ConnectRefused`` with the words of the page a person sees and its HTTP status;
nothing in it carries a token or a code, and nothing is changed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from services.access.roles import Access
from services.catalogue import (
    CONNECT_HOW,
    CONNECT_NOT_ADMIN,
    CONNECT_OTHER_BROWSER,
    CONNECT_TICKET_WORDS,
)
from services.connect.connection import CompanyOffered, CompanySwitch
from services.connect.flow import Connector, check_realm_id, company_name
from services.connect.states import (
    StateRefused,
    TicketRefused,
    browser_secret,
    is_cli,
    issue,
    spend,
    spend_ticket,
)
from services.diagnosis.problems import list_problems
from services.errors import ConfigurationError, UserInputError
from services.quickbooks import NotConnected, QboError
from services.settings import Settings
from services.sync import SyncEngine, SyncResult


@dataclass(frozen=True)
class BrowserConnect:
    """What connecting in the browser needs: the settings (the redirect URI, administrators, the Intuit
    app), the database (tickets and states), connecting itself, and the sync (to retry what waited)."""

    settings: Settings
    engine: Engine
    connector: Connector
    sync: SyncEngine
    # Many workspaces: tags the OAuth state with the workspace, and binds the company to it (refusing a
    # company another workspace has). None in single-workspace mode.
    tag: Callable[[str], str] | None = None
    claim_realm: Callable[[str], None] | None = None


log = logging.getLogger(__name__)

START_AGAIN = f"Start again: {CONNECT_HOW[0].lower()}{CONNECT_HOW[1:]}"


class ConnectRefused(Exception):
    def __init__(self, title: str, message: str, status: int = 400) -> None:
        self.title = title
        self.message = message
        self.status = status
        super().__init__(f"{title}: {message}")


@dataclass(frozen=True)
class WebConnected:
    company: str
    realm_id: str
    actor: str
    switched: CompanySwitch | None = None


@dataclass(frozen=True)
class Started:
    authorize_url: str
    browser: str  # the cookie value that binds the connection to this browser


def may_connect(svc: BrowserConnect, actor: str | None) -> bool:
    """The CLI, or a Slack administrator (``QBSYNC_ADMINS``, read now: a removed admin cannot)."""
    if is_cli(actor):
        return True
    if not actor or not actor.startswith("slack:"):
        return False
    return Access.from_settings(svc.settings).is_admin(actor.rsplit(":", 1)[-1])


def _redirect_uri(svc: BrowserConnect) -> str:
    uri = svc.settings.web_redirect_uri
    if not uri:
        raise ConnectRefused(
            "qbsync is not set up to connect",
            "Set QBSYNC_PUBLIC_URL (or QBO_REDIRECT_URI) to this app's address.",
            503,
        )
    return uri


def _configured(svc: BrowserConnect) -> None:
    missing = [
        name
        for name, value in (
            ("QBSYNC_SECRET_KEY", svc.connector.cipher.configured),
            ("QBO_CLIENT_ID", svc.settings.qbo_client_id),
            ("QBO_CLIENT_SECRET", svc.settings.qbo_client_secret),
        )
        if not value
    ]
    if missing:
        raise ConnectRefused(
            "qbsync is not set up to connect",
            f"The administrator must set {' and '.join(missing)} first; nothing was changed.",
            503,
        )


def start(svc: BrowserConnect, ticket: str | None) -> Started:
    """Spend ``ticket``; Intuit's authorize URL (accounting scope) with a fresh state bound to the
    browser that gets ``Started.browser`` as its cookie."""
    _configured(svc)
    redirect_uri = _redirect_uri(svc)
    try:
        spent = spend_ticket(svc.engine, ticket)
    except TicketRefused as exc:
        log.warning("GET /qbo/connect refused: %s ticket", "no" if not ticket else exc.why)
        raise ConnectRefused("Not connected", f"{CONNECT_TICKET_WORDS[exc.why]} {CONNECT_HOW}", 403) from None
    if not may_connect(svc, spent.actor):
        log.warning("GET /qbo/connect refused: the ticket's %s is not an administrator", spent.actor)
        raise ConnectRefused("Not connected", f"{CONNECT_NOT_ADMIN} {CONNECT_HOW}", 403)
    browser = browser_secret()
    state = issue(svc.engine, spent.actor, browser=browser, switch_company=spent.switch_company)
    if svc.tag is not None:
        state = svc.tag(state)
    try:
        url = svc.connector.auth.authorization_url(state, redirect_uri=redirect_uri)
    except (QboError, ConfigurationError) as exc:
        raise ConnectRefused("Intuit could not be reached", f"{exc}. Try again in a moment.", 502) from None
    return Started(url, browser)


STATE_WORDS = {
    "unknown": "This connection link is not one qbsync started (or it was changed on the way).",
    "used": "This connection link was already used.",
    "expired": "This connection link expired (links last 10 minutes).",
}


def finish(svc: BrowserConnect, params: dict[str, str], browser: str | None) -> WebConnected:
    """Check the state, the browser (``browser``: its cookie value) and who started it, then Intuit's
    answer and the company; exchange the code, confirm the company, store the tokens."""
    try:
        spent = spend(svc.engine, params.get("state"))
    except StateRefused as exc:
        log.warning("QuickBooks callback refused: %s state", exc.why)
        raise ConnectRefused("Not connected", f"{STATE_WORDS[exc.why]} {START_AGAIN}") from None
    if not spent.same_browser(browser):
        log.warning("QuickBooks callback refused: started in another browser")
        raise ConnectRefused("Not connected", f"{CONNECT_OTHER_BROWSER} {START_AGAIN}", 403)
    actor = spent.requested_by
    if not may_connect(svc, actor):
        log.warning("QuickBooks callback refused: %s is not an administrator", actor)
        raise ConnectRefused("Not connected", f"{CONNECT_NOT_ADMIN} {START_AGAIN}", 403)
    error = params.get("error")
    if error:
        words = (
            "You did not allow qbsync to use the QuickBooks company."
            if error == "access_denied"
            else f"Intuit answered {error[:60]!r} instead of an authorization."
        )
        raise ConnectRefused("Not connected", f"{words} Nothing was changed. {START_AGAIN}")
    _configured(svc)
    redirect_uri = _redirect_uri(svc)
    try:
        realm_id = check_realm_id(params.get("realmId"))
    except UserInputError:
        raise ConnectRefused("Not connected", f"Intuit's answer names no company. {START_AGAIN}") from None
    code = params.get("code") or ""
    if not code or len(code) > 1000:
        raise ConnectRefused("Not connected", f"Intuit's answer has no authorization code. {START_AGAIN}")
    try:
        svc.connector.connection.check_company(realm_id, switch=spent.switch_company)
    except CompanyOffered as exc:
        log.warning("QuickBooks callback refused: company %s offered, %s kept", realm_id, exc.known_realm)
        raise ConnectRefused("Not connected", str(exc), 409) from None
    try:
        tokens = svc.connector.auth.exchange_code(code, realm_id, redirect_uri=redirect_uri)
        name = company_name(svc.connector, realm_id, tokens.access_token)
    except NotConnected as exc:
        log.warning("QuickBooks callback: Intuit refused the code (%s)", exc.code or "refused")
        raise ConnectRefused(
            "Not connected",
            "Intuit refused the authorization (the code was already used or has expired). "
            f"The stored connection was left as it was. {START_AGAIN}",
        ) from None
    except UserInputError:
        raise ConnectRefused(
            "Not connected",
            f"The tokens Intuit issued do not open QuickBooks company {realm_id}; nothing was stored.",
        ) from None
    except QboError as exc:
        raise ConnectRefused(
            "Intuit could not be reached", f"{exc.message}. Nothing was stored; try again.", 502
        ) from None
    if svc.claim_realm is not None:
        try:
            svc.claim_realm(realm_id)
        except UserInputError as exc:  # the company is another workspace's
            log.warning("QuickBooks callback refused: company %s belongs to another workspace", realm_id)
            raise ConnectRefused("Not connected", str(exc), 409) from None
    switched = None
    try:
        if spent.switch_company:
            _status, switched = svc.connector.connection.switch(tokens, realm_id, actor)
        else:
            svc.connector.connection.store(tokens, realm_id, actor)
    except CompanyOffered as exc:  # another connection was stored meanwhile
        raise ConnectRefused("Not connected", str(exc), 409) from None
    log.info("QuickBooks connected in the browser to realm %s by %s", realm_id, actor)
    return WebConnected(name or f"company {realm_id}", realm_id, actor, switched)


def blocked_by_connection(svc: BrowserConnect) -> list[str]:
    """Loads whose only open reason is ``qb_not_connected``: the ones a connection unblocks."""
    return [
        p.load_number
        for p in list_problems(svc.engine)
        if [r.code for r in p.reasons] == ["qb_not_connected"]
    ]


def retry_blocked(svc: BrowserConnect) -> list[SyncResult]:
    numbers = blocked_by_connection(svc)
    if not numbers:
        return []
    results = svc.sync.sync_many(numbers, trigger="connect")
    synced = sum(r.state == "synced" for r in results)
    log.info("after connecting: %d of %d blocked loads synced", synced, len(results))
    return results
