"""Bearer tokens on the API and the Intuit OAuth 2.0 endpoints, through intuit-oauth."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from quickbooks.objects.customer import Customer

from emulator.clients import TEST_REDIRECT_URI, auth_client, quickbooks_client

from .conftest import api


def authorize(emu, client, realm_id: str | None = None) -> dict[str, str]:
    """Follow the authorize URL like a browser would; return the redirect's query parameters."""
    url = client.get_authorization_url([Scopes.ACCOUNTING], state_token="csrf-123")
    if realm_id:
        url += f"&realmId={realm_id}"
    response = requests.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(TEST_REDIRECT_URI + "?")
    return dict(parse_qsl(urlsplit(location).query))


# --- API bearer checks --------------------------------------------------------------------------


def test_unknown_token_is_401_with_fault_3200(emu):
    response = api(emu, {"access_token": "nope", "realm_id": emu.realm_id}, "GET", "preferences")
    assert response.status_code == 401
    error = response.json()["fault"]["error"][0]
    assert error["code"] == "3200"
    assert error["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert response.json()["fault"]["type"] == "AUTHENTICATION"


def test_missing_authorization_header_is_401(emu):
    response = requests.get(f"{emu.api_base}/company/{emu.realm_id}/preferences", timeout=10)
    assert response.status_code == 401


def test_expired_token_rejected_by_library(emu):
    qb = quickbooks_client(emu)
    emu.expire_tokens()
    with pytest.raises(AuthorizationException) as exc:
        Customer.all(qb=qb)
    assert exc.value.error_code == 401
    assert "3200" in exc.value.detail


def test_token_for_another_realm_is_403_with_3100(emu):
    other = emu.issue_tokens("7770001")
    response = api(emu, {**other, "realm_id": emu.realm_id}, "GET", "preferences")
    assert response.status_code == 403
    assert response.json()["fault"]["error"][0]["code"] == "3100"
    qb = quickbooks_client(emu, tokens=other, realm_id=emu.realm_id)
    with pytest.raises(QuickbooksException) as exc:
        Customer.all(qb=qb)
    assert "403" in str(exc.value)


# --- OAuth flow ---------------------------------------------------------------------------------


def test_discovery_document_points_at_emulator(emu):
    for path in ("/.well-known/openid_configuration", "/.well-known/openid_configuration/"):
        doc = requests.get(emu.url + path, timeout=10).json()
        for key in (
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "jwks_uri",
            "userinfo_endpoint",
        ):
            assert doc[key].startswith(emu.url + "/")
        assert doc["issuer"] == emu.url


def test_authorization_code_flow_then_api_call(emu):
    client = auth_client(emu)
    params = authorize(emu, client)
    assert params["state"] == "csrf-123"
    assert params["realmId"] == emu.realm_id
    client.get_bearer_token(params["code"], realm_id=params["realmId"])
    assert client.access_token and client.refresh_token
    assert client.expires_in == 3600
    assert client.x_refresh_token_expires_in == 8726400
    assert client.id_token is None
    tokens = {
        "access_token": client.access_token,
        "refresh_token": client.refresh_token,
        "realm_id": params["realmId"],
    }
    assert Customer.all(qb=quickbooks_client(emu, tokens=tokens)) == []


def test_authorize_can_pick_another_realm(emu):
    client = auth_client(emu)
    params = authorize(emu, client, realm_id="8880001")
    assert params["realmId"] == "8880001"
    client.get_bearer_token(params["code"])
    tokens = {"access_token": client.access_token, "refresh_token": client.refresh_token}
    assert api(emu, {**tokens, "realm_id": "8880001"}, "GET", "preferences").status_code == 200


def test_codes_are_single_use(emu):
    client = auth_client(emu)
    code = authorize(emu, client)["code"]
    client.get_bearer_token(code)
    with pytest.raises(AuthClientError) as exc:
        auth_client(emu).get_bearer_token(code)
    assert exc.value.status_code == 400
    assert exc.value.response.json()["error"] == "invalid_grant"


def test_unknown_code_is_invalid_grant(emu):
    with pytest.raises(AuthClientError) as exc:
        auth_client(emu).get_bearer_token("made-up")
    assert exc.value.response.json() == {"error": "invalid_grant"}


def test_refresh_rotates_and_retires_old_refresh_token(emu):
    client = auth_client(emu)
    client.get_bearer_token(authorize(emu, client)["code"])
    old_refresh = client.refresh_token
    client.refresh()
    assert client.refresh_token != old_refresh
    with pytest.raises(AuthClientError) as exc:
        auth_client(emu).refresh(refresh_token=old_refresh)
    assert exc.value.response.json()["error"] == "invalid_grant"
    auth_client(emu).refresh(refresh_token=client.refresh_token)  # the newest still works


def test_refresh_after_expiry_restores_access(emu):
    grant = emu.issue_tokens()
    emu.expire_tokens()
    client = auth_client(emu, refresh_token=grant["refresh_token"])
    client.refresh()
    fresh = {"access_token": client.access_token, "realm_id": emu.realm_id}
    assert api(emu, fresh, "GET", "preferences").status_code == 200


def test_revoking_refresh_token_kills_access_tokens(emu):
    grant = emu.issue_tokens()
    assert auth_client(emu).revoke(token=grant["refresh_token"]) is True
    assert api(emu, grant, "GET", "preferences").status_code == 401
    with pytest.raises(AuthClientError):
        auth_client(emu).refresh(refresh_token=grant["refresh_token"])


def test_revoking_access_token_revokes_grant(emu):
    grant = emu.issue_tokens()
    auth_client(emu).revoke(token=grant["access_token"])
    assert api(emu, grant, "GET", "preferences").status_code == 401


def test_configured_client_credentials_are_enforced(make_emulator):
    emu = make_emulator(client_id="real-id", client_secret="real-secret")
    good = auth_client(emu, client_id="real-id", client_secret="real-secret")
    good.get_bearer_token(authorize(emu, good)["code"])
    assert good.access_token
    wrong = auth_client(emu, client_id="real-id", client_secret="wrong")
    with pytest.raises(AuthClientError) as exc:
        wrong.refresh(refresh_token=good.refresh_token)
    assert exc.value.status_code == 401
    assert exc.value.response.json()["error"] == "invalid_client"


def test_lifetimes_scale_with_time(make_emulator):
    emu = make_emulator(time_scale=3600)
    client = auth_client(emu)
    client.get_bearer_token(authorize(emu, client)["code"])
    assert client.expires_in == 1
    assert client.x_refresh_token_expires_in == 2424


def test_authorize_errors_follow_oauth(emu, make_emulator):
    base = f"{emu.url}/authorize?client_id=c&redirect_uri=http://127.0.0.1/cb&state=s"
    wrong_type = requests.get(base + "&response_type=token&scope=x", allow_redirects=False, timeout=10)
    assert "error=unsupported_response_type" in wrong_type.headers["Location"]
    no_scope = requests.get(base + "&response_type=code", allow_redirects=False, timeout=10)
    assert "error=invalid_scope" in no_scope.headers["Location"]
    strict = make_emulator(client_id="only-me")
    refused = requests.get(
        f"{strict.url}/authorize?client_id=other&redirect_uri=http://127.0.0.1/cb&response_type=code&scope=x",
        allow_redirects=False,
        timeout=10,
    )
    assert refused.status_code == 400


def test_user_info_for_a_live_access_token(emu):
    grant = emu.issue_tokens()
    info = auth_client(emu).get_user_info(access_token=grant["access_token"]).json()
    assert info["realmId"] == emu.realm_id
