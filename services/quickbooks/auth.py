"""Intuit OAuth 2.0 through intuit-oauth: authorize URL, code exchange, refresh, revoke.

This module and ``api.py`` are the only code that imports ``intuitlib`` / ``quickbooks``.
``AuthClient()`` fetches Intuit's discovery document when it is built, so one client is built per
process (lazily) and reused under a lock; its environment is a discovery URL when one is configured.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from urllib.parse import urlparse

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from services.errors import ConfigurationError
from services.quickbooks.errors import Kind, NotConnected, QboError, from_transport
from services.quickbooks.http import ResponseRecorder, equip
from services.settings import LOOPBACK_HOSTS, Settings


def allow_loopback_http(*urls: str | None) -> None:
    """Permit plain http for loopback URLs only (the local emulator); refuse it anywhere else."""
    for url in urls:
        if not url or not url.startswith("http://"):
            continue
        host = urlparse(url).hostname or ""
        if host not in LOOPBACK_HOSTS:
            raise ConfigurationError(f"{url} uses plain http; only loopback addresses may (use https)")
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int | None
    realm_id: str | None = None


class IntuitAuth:
    """The OAuth side of a QuickBooks connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: AuthClient | None = None
        self._lock = threading.Lock()
        self.recorder = ResponseRecorder()

    def _auth_client(self) -> AuthClient:
        settings = self.settings
        if not settings.qbo_client_id or not settings.qbo_client_secret:
            raise ConfigurationError("QBO_CLIENT_ID and QBO_CLIENT_SECRET must be set to connect QuickBooks")
        if self._client is None:
            allow_loopback_http(settings.intuit_discovery_url, settings.qbo_api_base_url)
            try:
                client = AuthClient(
                    settings.qbo_client_id,
                    settings.qbo_client_secret.get_secret_value(),
                    settings.qbo_redirect_uri or "http://localhost/qbo/callback",
                    settings.intuit_environment,
                )
            except AuthClientError as exc:
                raise QboError(
                    Kind.UNAVAILABLE,
                    f"could not read Intuit's discovery document (HTTP {exc.status_code})",
                    http_status=exc.status_code,
                    intuit_tid=exc.intuit_tid,
                ) from None
            except requests.RequestException as exc:
                raise from_transport(exc) from None
            equip(client, self.recorder)
            self._client = client
        return self._client

    @property
    def client_id(self) -> str:
        return self.settings.qbo_client_id or ""

    def authorization_url(self, state: str, redirect_uri: str | None = None) -> str:
        with self._lock:
            client = self._auth_client()
            client.redirect_uri = redirect_uri or self.settings.qbo_redirect_uri or client.redirect_uri
            return client.get_authorization_url([Scopes.ACCOUNTING], state_token=state)

    def exchange_code(self, code: str, realm_id: str, redirect_uri: str | None = None) -> TokenSet:
        """Trade an authorization code (single-use) for tokens."""
        with self._lock:
            client = self._auth_client()
            client.redirect_uri = redirect_uri or self.settings.qbo_redirect_uri or client.redirect_uri
            self._send(client.get_bearer_token, code, realm_id=realm_id)
            return self._tokens(client, realm_id)

    def refresh(self, refresh_token: str) -> TokenSet:
        """A new access token and the rotated refresh token. ``NotConnected`` when Intuit refuses."""
        with self._lock:
            client = self._auth_client()
            self._send(client.refresh, refresh_token=refresh_token)
            return self._tokens(client, None)

    def revoke(self, token: str) -> None:
        with self._lock:
            self._send(self._auth_client().revoke, token=token)

    def _send(self, method, *args, **kwargs) -> None:
        try:
            method(*args, **kwargs)
        except AuthClientError as exc:
            raise _auth_error(exc) from None
        except requests.RequestException as exc:
            raise from_transport(exc) from None

    @staticmethod
    def _tokens(client: AuthClient, realm_id: str | None) -> TokenSet:
        return TokenSet(
            access_token=client.access_token,
            refresh_token=client.refresh_token,
            expires_in=int(getattr(client, "expires_in", 3600) or 3600),
            refresh_expires_in=_int_or_none(getattr(client, "x_refresh_token_expires_in", None)),
            realm_id=realm_id,
        )


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _auth_error(exc: AuthClientError) -> QboError:
    try:
        body = exc.response.json()
    except ValueError:
        body = {}
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    if exc.status_code >= 500:
        return QboError(
            Kind.UNAVAILABLE,
            f"Intuit's OAuth server answered HTTP {exc.status_code}",
            http_status=exc.status_code,
            intuit_tid=exc.intuit_tid,
        )
    if error == "invalid_client" or exc.status_code == 401:
        return NotConnected(
            "Intuit rejected the app's client id or secret (invalid_client)",
            code="invalid_client",
            http_status=exc.status_code,
            intuit_tid=exc.intuit_tid,
        )
    return NotConnected(
        f"Intuit refused the token ({error or 'HTTP ' + str(exc.status_code)}); connect QuickBooks again",
        code=error or str(exc.status_code),
        http_status=exc.status_code,
        intuit_tid=exc.intuit_tid,
    )
