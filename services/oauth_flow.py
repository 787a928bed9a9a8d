"""Connecting QuickBooks: from an authorization code (browser flow) or a refresh token obtained
elsewhere (Intuit's OAuth Playground). Used by the CLI now and by the web callback later."""

from __future__ import annotations

import re
import secrets

from services.connection import ConnectionService, ConnectionStatus
from services.errors import UserInputError
from services.quickbooks import IntuitAuth

_REALM = re.compile(r"^\d{1,32}$")


def new_state() -> str:
    """An unguessable CSRF state for one authorization request."""
    return secrets.token_urlsafe(24)


def check_realm_id(realm_id: str) -> str:
    realm_id = (realm_id or "").strip()
    if not _REALM.match(realm_id):
        raise UserInputError(f"realm id must be the company's number (digits only), got {realm_id!r}")
    return realm_id


def connect_with_refresh_token(
    auth: IntuitAuth, connection: ConnectionService, realm_id: str, refresh_token: str, actor: str
) -> ConnectionStatus:
    """Validate a refresh token by using it (Intuit rotates it) and store the result."""
    realm_id = check_realm_id(realm_id)
    refresh_token = (refresh_token or "").strip()
    if not refresh_token:
        raise UserInputError("the refresh token is empty")
    tokens = auth.refresh(refresh_token)
    return connection.store(tokens, realm_id, actor)


def complete_authorization(
    auth: IntuitAuth,
    connection: ConnectionService,
    *,
    code: str,
    realm_id: str,
    actor: str,
    redirect_uri: str | None = None,
) -> ConnectionStatus:
    """Exchange the single-use authorization code and store the tokens."""
    realm_id = check_realm_id(realm_id)
    if not code:
        raise UserInputError("the authorization answer has no code")
    tokens = auth.exchange_code(code, realm_id, redirect_uri=redirect_uri)
    return connection.store(tokens, realm_id, actor)
