"""Connecting QuickBooks: from an authorization code (browser flow) or a refresh token obtained
elsewhere (Intuit's OAuth Playground). Used by the CLI, and by the web callback and Slack later.

Both paths check that tokens can be stored (``QBSYNC_SECRET_KEY``) before spending the single-use
code or the rotating refresh token, and read the company's name with the new access token before
storing it, which proves the tokens open that company. Both refuse another QuickBooks company than the
one qbsync remembers before anything is spent (``CompanyOffered``), unless ``switch`` says an
administrator asked to switch companies.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass

from services.connect.connection import CompanySwitch, ConnectionService, ConnectionStatus
from services.errors import ConfigurationError, UserInputError
from services.quickbooks import IntuitAuth, Kind, NotConnected, QboError, QuickBooksApi, RetryPolicy
from services.quickbooks.limiter import Limits
from services.quickbooks.shared_budget import SharedBudget
from services.store.secrets import TokenCipher

log = logging.getLogger(__name__)

_REALM = re.compile(r"[0-9]{1,32}")


@dataclass(frozen=True)
class Connector:
    """What connecting needs: Intuit's OAuth, the stored connection, the key that encrypts the tokens,
    and the QuickBooks API's base URL, limits and shared budget (to read the company's name)."""

    auth: IntuitAuth
    connection: ConnectionService
    cipher: TokenCipher
    api_base: str
    limits: Limits | None = None
    shared: SharedBudget | None = None


@dataclass(frozen=True)
class Connected:
    status: ConnectionStatus
    company_name: str | None
    switched: CompanySwitch | None = None


def new_state() -> str:
    """An unguessable CSRF state for one authorization request."""
    return secrets.token_urlsafe(24)


def check_realm_id(realm_id: str | None) -> str:
    realm_id = (realm_id or "").strip()
    if not _REALM.fullmatch(realm_id):
        raise UserInputError(f"realm id must be the company's number (digits only), got {realm_id!r}")
    return realm_id


def require_key(svc: Connector) -> None:
    """Refuse before anything is spent: a token used without a key to store the result is lost."""
    if not svc.cipher.configured:
        raise ConfigurationError(
            "QBSYNC_SECRET_KEY must be set to connect: it encrypts the QuickBooks tokens qbsync stores "
            "(a long passphrase or a Fernet key); nothing was changed"
        )


def connect_with_refresh_token(
    svc: Connector, realm_id: str, refresh_token: str, actor: str, *, switch: bool = False
) -> Connected:
    """Use the token once (Intuit rotates it), check that it opens ``realm_id``, then store the result.
    ``NotConnected`` when Intuit refuses the token; ``UserInputError`` when it opens another company;
    ``CompanyOffered`` (the token unused) when ``realm_id`` is not qbsync's company and not ``switch``."""
    realm_id = check_realm_id(realm_id)
    refresh_token = (refresh_token or "").strip()
    if not refresh_token:
        raise UserInputError("the refresh token is empty")
    require_key(svc)
    svc.connection.check_company(realm_id, switch=switch)
    tokens = svc.auth.refresh(refresh_token)
    name = company_name(svc, realm_id, tokens.access_token)
    return _stored(svc, tokens, realm_id, actor, switch, name)


def complete_authorization(
    svc: Connector,
    *,
    code: str,
    realm_id: str,
    actor: str,
    redirect_uri: str | None = None,
    switch: bool = False,
) -> Connected:
    """Exchange the single-use authorization code and store the tokens (``CompanyOffered``, the code
    unused, for another company than qbsync's unless ``switch``)."""
    realm_id = check_realm_id(realm_id)
    if not code:
        raise UserInputError("the authorization answer has no code")
    require_key(svc)
    svc.connection.check_company(realm_id, switch=switch)
    tokens = svc.auth.exchange_code(code, realm_id, redirect_uri=redirect_uri)
    connected = _stored(svc, tokens, realm_id, actor, switch, None)
    return Connected(connected.status, company_name(svc, realm_id, None), connected.switched)


def _stored(svc: Connector, tokens, realm_id: str, actor: str, switch: bool, name: str | None) -> Connected:
    if switch:
        status, switched = svc.connection.switch(tokens, realm_id, actor)
        return Connected(status, name, switched)
    return Connected(svc.connection.store(tokens, realm_id, actor), name)


def company_name(svc: Connector, realm_id: str, access_token: str | None) -> str | None:
    """The company's name from QuickBooks, which also proves the tokens open that company.

    With ``access_token`` (tokens not stored yet), a refusal is an error: the token belongs to another
    company. Without it (tokens just stored from Intuit's own answer), the name is a courtesy.
    """
    source = _JustIssued(realm_id, access_token) if access_token else svc.connection
    retry = RetryPolicy(attempts=2, base_delay=0.5, max_delay=2)
    api = QuickBooksApi(svc.auth, source, svc.api_base, retry, svc.limits, svc.shared)
    try:
        rows = api.query("SELECT * FROM CompanyInfo").get("CompanyInfo", [])
    except QboError as exc:
        refused = exc.kind in (Kind.FORBIDDEN, Kind.AUTH, Kind.NOT_CONNECTED)
        if access_token and refused:
            raise UserInputError(
                f"Intuit accepted the refresh token but it does not open QuickBooks company {realm_id} "
                f"({exc.message}); check the realm id shown with the token, then get a new token "
                "(this check used it) and connect again; nothing was stored"
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
