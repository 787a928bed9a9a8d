"""OAuth grants, authorization codes, access and refresh tokens.

A *grant* is one connection of an app to a realm. Access tokens and refresh tokens belong to a
grant; revoking any of its tokens revokes the grant, and every access token of a revoked grant
stops working. Refreshing rotates the refresh token: the presented one is retired (using it again
is ``invalid_grant``) and a new one is returned. Codes are single-use. Lifetimes are Intuit's
(access 3600 s, refresh 8 726 400 s, code 300 s) divided by the configured time scale.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from emulator.config import ACCESS_TOKEN_SECONDS, AUTH_CODE_SECONDS, REFRESH_TOKEN_SECONDS, EmulatorConfig


class OAuthError(Exception):
    """An OAuth 2.0 error response (``{"error": code}``) with its HTTP status."""

    def __init__(self, error: str, status: int = 400, description: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description

    def body(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        return body


class AccessDenied(Exception):
    """An API request's bearer token is not usable; ``status`` is 401 or 403."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class Grant:
    realm_id: str
    client_id: str | None
    revoked: bool = False


@dataclass
class Issued:
    grant_id: str
    expires_at: float
    retired: bool = False


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    realm_id: str
    expires_at: float
    used: bool = False


class TokenStore:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.grants: dict[str, Grant] = {}
            self.access: dict[str, Issued] = {}
            self.refresh_tokens: dict[str, Issued] = {}
            self.codes: dict[str, AuthCode] = {}

    # -- issuing --------------------------------------------------------------------------------

    def _tokens_for(self, grant_id: str) -> dict[str, Any]:
        now = time.monotonic()
        access = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.." + secrets.token_urlsafe(48)
        refresh = "AB11" + secrets.token_hex(20)
        access_life = self.config.lifetime(ACCESS_TOKEN_SECONDS)
        refresh_life = self.config.lifetime(REFRESH_TOKEN_SECONDS)
        self.access[access] = Issued(grant_id, now + access_life)
        self.refresh_tokens[refresh] = Issued(grant_id, now + refresh_life)
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": max(1, round(access_life)),
            "x_refresh_token_expires_in": max(1, round(refresh_life)),
        }

    def mint(self, realm_id: str, client_id: str | None = None) -> dict[str, Any]:
        """A new grant for ``realm_id`` (the admin shortcut past the consent screen)."""
        with self._lock:
            grant_id = secrets.token_hex(8)
            self.grants[grant_id] = Grant(realm_id, client_id)
            return self._tokens_for(grant_id)

    def issue_code(self, client_id: str, redirect_uri: str, realm_id: str) -> str:
        code = "AB11" + secrets.token_urlsafe(32)
        with self._lock:
            self.codes[code] = AuthCode(
                client_id, redirect_uri, realm_id, time.monotonic() + self.config.lifetime(AUTH_CODE_SECONDS)
            )
        return code

    # -- grants ---------------------------------------------------------------------------------

    def exchange_code(self, code: str, client_id: str, redirect_uri: str) -> dict[str, Any]:
        with self._lock:
            found = self.codes.get(code)
            if found is None or found.used or found.expires_at < time.monotonic():
                raise OAuthError("invalid_grant")
            found.used = True
            if found.client_id != client_id or found.redirect_uri != redirect_uri:
                raise OAuthError("invalid_grant")
            grant_id = secrets.token_hex(8)
            self.grants[grant_id] = Grant(found.realm_id, client_id)
            return self._tokens_for(grant_id)

    def refresh(self, refresh_token: str, client_id: str) -> dict[str, Any]:
        with self._lock:
            issued = self.refresh_tokens.get(refresh_token)
            if issued is None or issued.retired or issued.expires_at < time.monotonic():
                raise OAuthError("invalid_grant")
            grant = self.grants[issued.grant_id]
            if grant.revoked or (grant.client_id is not None and grant.client_id != client_id):
                raise OAuthError("invalid_grant")
            issued.retired = True
            return self._tokens_for(issued.grant_id)

    def revoke(self, token: str) -> bool:
        """Revoke the grant a refresh or access token belongs to; False when the token is unknown."""
        with self._lock:
            issued = self.refresh_tokens.get(token) or self.access.get(token)
            if issued is None:
                return False
            self.grants[issued.grant_id].revoked = True
            return True

    def expire_access(self, realm_id: str) -> int:
        """Expire every access token of ``realm_id`` now; returns how many."""
        with self._lock:
            count = 0
            for issued in self.access.values():
                if self.grants[issued.grant_id].realm_id == realm_id and issued.expires_at > 0:
                    issued.expires_at = 0.0
                    count += 1
            return count

    # -- checking -------------------------------------------------------------------------------

    def check_access(self, token: str, realm_id: str) -> None:
        """Raise :class:`AccessDenied` unless ``token`` may call the API of ``realm_id``."""
        with self._lock:
            issued = self.access.get(token)
            if issued is None:
                raise AccessDenied(401, "Token invalid: unknown or malformed bearer token")
            grant = self.grants[issued.grant_id]
            if grant.revoked:
                raise AccessDenied(401, "Token revoked")
            if issued.expires_at < time.monotonic():
                raise AccessDenied(401, "Token expired")
            if grant.realm_id != realm_id:
                raise AccessDenied(403, f"Token was issued for another company (realm {grant.realm_id})")

    def userinfo(self, token: str) -> dict[str, Any] | None:
        with self._lock:
            issued = self.access.get(token)
            if issued is None or issued.expires_at < time.monotonic():
                return None
            grant = self.grants[issued.grant_id]
            if grant.revoked:
                return None
            return {"sub": issued.grant_id, "realmId": grant.realm_id, "email": "owner@trucking.example"}
