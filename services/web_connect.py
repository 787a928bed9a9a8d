"""Connecting QuickBooks in the browser through ``qbsync serve``: ``GET /qbo/connect`` starts it
(a stored, single-use state), ``GET /qbo/callback`` finishes it (state, Intuit's answer, the code
exchanged, the company confirmed with the new access token before anything is stored).

Every refusal is a ``ConnectRefused`` with the words of the page a person sees and its HTTP status;
nothing in it carries a token or a code."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.errors import ConfigurationError, UserInputError
from services.oauth_flow import check_realm_id, company_name
from services.oauth_states import StateRefused, issue, spend, verify_actor
from services.problems import list_problems
from services.quickbooks import NotConnected, QboError

if TYPE_CHECKING:
    from services.bootstrap import Services
    from services.sync import SyncResult

log = logging.getLogger(__name__)

WEB_ACTOR = "web"  # a browser connection whose Connect link did not say who
START_AGAIN = "Start again from the Connect button in Slack (or open /qbo/connect)."


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


def _key(svc: Services) -> str | None:
    return svc.settings.secret_key.get_secret_value() if svc.settings.secret_key else None


def _redirect_uri(svc: Services) -> str:
    uri = svc.settings.web_redirect_uri
    if not uri:
        raise ConnectRefused(
            "qbsync is not set up to connect",
            "Set QBSYNC_PUBLIC_URL (or QBO_REDIRECT_URI) to this app's address.",
            503,
        )
    return uri


def _configured(svc: Services) -> None:
    missing = [
        name
        for name, value in (
            ("QBSYNC_SECRET_KEY", svc.cipher.configured),
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


def start(svc: Services, signed_by: str | None = None) -> str:
    """Intuit's authorize URL (accounting scope) with a fresh stored state."""
    _configured(svc)
    redirect_uri = _redirect_uri(svc)
    actor = verify_actor(_key(svc), signed_by)
    if signed_by and actor is None:
        log.warning("a Connect link carried a 'by' that is not signed by this app; ignored")
    state = issue(svc.engine, actor)
    try:
        return svc.auth.authorization_url(state, redirect_uri=redirect_uri)
    except (QboError, ConfigurationError) as exc:
        raise ConnectRefused("Intuit could not be reached", f"{exc}. Try again in a moment.", 502) from None


STATE_WORDS = {
    "unknown": "This connection link is not one qbsync started (or it was changed on the way).",
    "used": "This connection link was already used.",
    "expired": "This connection link expired (links last 10 minutes).",
}


def finish(svc: Services, params: dict[str, str]) -> WebConnected:
    """Check Intuit's answer, exchange the code, confirm the company, store the tokens."""
    try:
        spent = spend(svc.engine, params.get("state"))
    except StateRefused as exc:
        log.warning("QuickBooks callback refused: %s state", exc.why)
        raise ConnectRefused("Not connected", f"{STATE_WORDS[exc.why]} {START_AGAIN}") from None
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
    actor = spent.requested_by or WEB_ACTOR
    try:
        tokens = svc.auth.exchange_code(code, realm_id, redirect_uri=redirect_uri)
        name = company_name(svc, realm_id, tokens.access_token)
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
    svc.connection.store(tokens, realm_id, actor)
    log.info("QuickBooks connected in the browser to realm %s by %s", realm_id, actor)
    return WebConnected(name or f"company {realm_id}", realm_id, actor)


def blocked_by_connection(svc: Services) -> list[str]:
    """Loads whose only open reason is ``qb_not_connected``: the ones a connection unblocks."""
    return [
        p.load_number
        for p in list_problems(svc.engine)
        if [r.code for r in p.reasons] == ["qb_not_connected"]
    ]


def retry_blocked(svc: Services) -> list[SyncResult]:
    numbers = blocked_by_connection(svc)
    if not numbers:
        return []
    results = svc.sync.sync_many(numbers, trigger="connect")
    synced = sum(r.state == "synced" for r in results)
    log.info("after connecting: %d of %d blocked loads synced", synced, len(results))
    return results
