"""Intuit OAuth 2.0 on the emulator's own port.

* ``/.well-known/openid_configuration`` (with or without a trailing slash): discovery document
  whose endpoints all point at this server.
* ``GET /authorize`` (also ``/connect/oauth2``): consent is granted at once; 302 to
  ``redirect_uri?code=...&state=...&realmId=...``. ``realmId`` may be passed to pick (or create)
  another company.
* ``POST /oauth2/v1/tokens/bearer``: ``authorization_code`` and ``refresh_token`` grants, HTTP Basic
  client authentication. No ``id_token`` is returned.
* ``POST /oauth2/v1/tokens/revoke``: JSON ``{"token": ...}``; revokes the whole grant.
* ``GET /v1/openid_connect/userinfo`` and ``GET /oauth2/v1/keys`` for completeness.

Any client id and secret are accepted unless the emulator was started with ``client_id`` /
``client_secret``; then other credentials get 401 ``invalid_client``.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request

from emulator.context import Emulator, current
from emulator.responses import json_response
from emulator.tokens import OAuthError

bp = Blueprint("intuit_oauth", __name__)

AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/oauth2/v1/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/oauth2/v1/keys"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _base() -> str:
    return request.host_url.rstrip("/")


@bp.route("/.well-known/openid_configuration", methods=["GET"])
@bp.route("/.well-known/openid_configuration/", methods=["GET"])
def discovery() -> Response:
    base = _base()
    return json_response(
        {
            "issuer": base,
            "authorization_endpoint": base + AUTHORIZE_PATH,
            "token_endpoint": base + TOKEN_PATH,
            "userinfo_endpoint": base + USERINFO_PATH,
            "revocation_endpoint": base + REVOKE_PATH,
            "jwks_uri": base + JWKS_PATH,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": [
                "openid",
                "email",
                "profile",
                "address",
                "phone",
                "com.intuit.quickbooks.accounting",
            ],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }
    )


def _client_allowed(emu: Emulator, client_id: str, client_secret: str | None) -> bool:
    if emu.config.client_id is not None and client_id != emu.config.client_id:
        return False
    return (
        emu.config.client_secret is None or client_secret is None or client_secret == emu.config.client_secret
    )


@bp.route(AUTHORIZE_PATH, methods=["GET"])
@bp.route("/connect/oauth2", methods=["GET"])
def authorize() -> Response:
    emu = current()
    args = request.args
    client_id, redirect_uri = args.get("client_id", ""), args.get("redirect_uri", "")
    if not client_id or not redirect_uri:
        return json_response(
            {"error": "invalid_request", "error_description": "client_id and redirect_uri"}, 400
        )
    if not _client_allowed(emu, client_id, None):
        return json_response({"error": "invalid_client"}, 400)
    state = args.get("state", "")
    separator = "&" if "?" in redirect_uri else "?"
    if args.get("response_type") != "code":
        return redirect(
            redirect_uri + separator + urlencode({"error": "unsupported_response_type", "state": state})
        )
    if not args.get("scope"):
        return redirect(redirect_uri + separator + urlencode({"error": "invalid_scope", "state": state}))
    realm_id = args.get("realmId") or emu.store.default_realm_id
    if not realm_id.isdigit():
        return json_response(
            {"error": "invalid_request", "error_description": "realmId must be numeric"}, 400
        )
    emu.store.realm(realm_id, create=True)
    code = emu.tokens.issue_code(client_id, redirect_uri, realm_id)
    return redirect(redirect_uri + separator + urlencode({"code": code, "state": state, "realmId": realm_id}))


def _client_credentials() -> tuple[str, str | None]:
    """(client_id, client_secret) from HTTP Basic auth, else from the form."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", 401) from exc
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return request.form.get("client_id", ""), request.form.get("client_secret")


def _authenticate_client(emu: Emulator) -> str:
    client_id, secret = _client_credentials()
    if not client_id or not _client_allowed(emu, client_id, secret or ""):
        raise OAuthError("invalid_client", 401)
    return client_id


def _oauth_error(err: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if err.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="Intuit"'
    return json_response(err.body(), err.status, headers)


@bp.route(TOKEN_PATH, methods=["POST"])
def token() -> Response:
    emu = current()
    try:
        client_id = _authenticate_client(emu)
        form = request.form
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            if not form.get("code") or not form.get("redirect_uri"):
                raise OAuthError("invalid_request")
            body = emu.tokens.exchange_code(form["code"], client_id, form["redirect_uri"])
        elif grant_type == "refresh_token":
            if not form.get("refresh_token"):
                raise OAuthError("invalid_request")
            body = emu.tokens.refresh(form["refresh_token"], client_id)
        else:
            raise OAuthError("unsupported_grant_type")
    except OAuthError as err:
        return _oauth_error(err)
    return json_response(body, 200, NO_STORE)


@bp.route(REVOKE_PATH, methods=["POST"])
def revoke() -> Response:
    emu = current()
    try:
        _authenticate_client(emu)
        try:
            payload = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError as exc:
            raise OAuthError("invalid_request") from exc
        token_value = payload.get("token") if isinstance(payload, dict) else None
        if not token_value:
            raise OAuthError("invalid_request")
    except OAuthError as err:
        return _oauth_error(err)
    emu.tokens.revoke(str(token_value))  # unknown tokens are not an error (RFC 7009)
    return Response("", 200)


@bp.route(USERINFO_PATH, methods=["GET"])
def userinfo() -> Response:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    info = current().tokens.userinfo(value.strip()) if scheme.lower() == "bearer" else None
    if info is None:
        return json_response({"error": "invalid_token"}, 401)
    return json_response(info)


@bp.route(JWKS_PATH, methods=["GET"])
def jwks() -> Response:
    return json_response({"keys": []})
