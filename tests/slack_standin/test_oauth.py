"""Installing the app with OAuth v2 through the Slack stand-in: the authorize step over HTTP, and
``oauth.v2.access`` through slack_sdk's ``WebClient.oauth_v2_access`` (HTTP Basic client credentials)."""

from __future__ import annotations

import http.client
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from emulator.slack import SlackStandIn, SlackTeam
from emulator.slack.common import manifest_bot_scopes

REDIRECT = "https://qbsync.example.com/slack/oauth_redirect"
SCOPES = "commands,chat:write"


@pytest.fixture
def acme(slack: SlackStandIn) -> SlackTeam:
    """A workspace the app is not installed in yet."""
    return slack.add_team("T0ACME01", name="Acme Freight", installed=False)


def get(url: str) -> tuple[int, dict[str, str], str]:
    """GET without following redirects, as a test sees what the browser is told."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def authorize(slack: SlackStandIn, **params: str) -> tuple[int, dict[str, str], str]:
    query = {"client_id": slack.client_id, "scope": SCOPES, "redirect_uri": REDIRECT, "state": "st4te"}
    query.update(params)
    return get(slack.authorize_url + "?" + urlencode({k: v for k, v in query.items() if v is not None}))


def redirected(headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    location = urlsplit(headers["Location"])
    target = f"{location.scheme}://{location.netloc}{location.path}"
    return target, {k: v[-1] for k, v in parse_qs(location.query, keep_blank_values=True).items()}


def code_for(slack: SlackStandIn, **params: str) -> str:
    status, headers, _page = authorize(slack, **params)
    assert status == 302
    return redirected(headers)[1]["code"]


def exchange(slack: SlackStandIn, code: str, **overrides: Any) -> dict[str, Any]:
    args = {
        "client_id": slack.client_id,
        "client_secret": slack.client_secret,
        "code": code,
        "redirect_uri": REDIRECT,
        **overrides,
    }
    return WebClient(base_url=slack.api_url).oauth_v2_access(**args).data


def refusal(slack: SlackStandIn, code: str, **overrides: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        exchange(slack, code, **overrides)
    return caught.value.response["error"]


# -- the whole install -----------------------------------------------------------------------------------


def test_authorize_redirects_with_a_code_that_oauth_v2_access_exchanges_for_a_bot_token(
    slack: SlackStandIn, acme: SlackTeam
) -> None:
    assert slack.authorize_url == slack.base_url + "oauth/v2/authorize"
    assert (slack.client_id, slack.client_secret) == ("1111.2222", "standin-client-secret")
    assert not acme.installed
    status, headers, _page = authorize(slack, team="T0ACME01", user="U0ACMEDAN")
    assert status == 302
    target, query = redirected(headers)
    assert target == REDIRECT and query["state"] == "st4te" and query["code"]
    answer = exchange(slack, query["code"])
    assert answer == {
        "ok": True,
        "app_id": "A0APP0001",
        "authed_user": {"id": "U0ACMEDAN"},
        "scope": "chat:write,commands",
        "token_type": "bot",
        "access_token": acme.bot_token,
        "bot_user_id": acme.bot_user_id,
        "team": {"id": "T0ACME01", "name": "Acme Freight"},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    assert answer["access_token"].startswith("xoxb-T0ACME01-") and acme.installed
    who = WebClient(token=answer["access_token"], base_url=slack.api_url).auth_test()
    assert (who["team_id"], who["user_id"], who["bot_id"]) == ("T0ACME01", acme.bot_user_id, acme.bot_id)
    assert who.headers["X-OAuth-Scopes"] == "chat:write,commands", "the scopes requested"
    [install] = slack.installs()
    assert (install.team_id, install.user_id, install.bot_token, install.new_token) == (
        "T0ACME01",
        "U0ACMEDAN",
        acme.bot_token,
        True,
    )
    recorded = acme.last("oauth.v2.access")
    assert recorded.args["client_id"] == slack.client_id and "client_secret" not in recorded.args
    assert acme.last("oauth/v2/authorize").status == 302


def test_without_team_the_default_workspace_is_installed(slack: SlackStandIn) -> None:
    answer = exchange(slack, code_for(slack))
    assert answer["team"]["id"] == "T0001"
    assert answer["access_token"] == "xoxb-test", "installed already: its token"
    assert answer["authed_user"] == {"id": "U0USER001"}
    assert slack.installs()[0].new_token is False


def test_client_credentials_may_come_as_form_fields(slack: SlackStandIn, acme: SlackTeam) -> None:
    code = code_for(slack, team="T0ACME01")
    params = {"client_id": slack.client_id, "client_secret": slack.client_secret, "code": code}
    answer = WebClient(base_url=slack.api_url).api_call(
        "oauth.v2.access", params={**params, "redirect_uri": REDIRECT}
    )
    assert answer["access_token"] == acme.bot_token


def test_an_enterprise_workspace_names_its_organization(slack: SlackStandIn) -> None:
    slack.add_team("T0GRID01", enterprise_id="E0ORG0001", enterprise_name="Org", installed=False)
    answer = exchange(slack, code_for(slack, team="T0GRID01"))
    assert answer["enterprise"] == {"id": "E0ORG0001", "name": "Org"}
    assert answer["is_enterprise_install"] is False
    assert slack.installs()[0].enterprise_id == "E0ORG0001"


def test_the_bot_token_given_to_add_team_is_issued_by_its_first_install(slack: SlackStandIn) -> None:
    beta = slack.add_team("T0BETA01", bot_token="xoxb-beta", installed=False)
    assert beta.bot_token == "" and beta.uninstalled
    failed = WebClient(token="xoxb-beta", base_url=slack.api_url)
    with pytest.raises(SlackApiError):
        failed.auth_test()
    assert exchange(slack, code_for(slack, team="T0BETA01"))["access_token"] == "xoxb-beta"


# -- codes ------------------------------------------------------------------------------------------------


def test_a_code_is_exchanged_once(slack: SlackStandIn, acme: SlackTeam) -> None:
    code = code_for(slack, team="T0ACME01")
    exchange(slack, code)
    assert refusal(slack, code) == "invalid_code"
    assert refusal(slack, "1.2.nonsense") == "invalid_code"
    assert len(slack.installs()) == 1


def test_a_code_older_than_ten_minutes_is_invalid(slack: SlackStandIn, acme: SlackTeam) -> None:
    assert slack.settings.code_ttl == 600.0
    slack.settings.code_ttl = 0.05
    try:
        code = code_for(slack, team="T0ACME01")
        time.sleep(0.1)
        assert refusal(slack, code) == "invalid_code"
    finally:
        slack.settings.code_ttl = 600.0
    assert not acme.installed


def test_wrong_client_credentials_are_refused_and_leave_the_code_usable(
    slack: SlackStandIn, acme: SlackTeam
) -> None:
    code = code_for(slack, team="T0ACME01")
    assert refusal(slack, code, client_secret="guess") == "bad_client_secret"
    assert refusal(slack, code, client_id="9999.9999") == "invalid_client_id"
    assert exchange(slack, code)["ok"]


def test_the_redirect_uri_of_the_authorize_step_must_be_repeated(
    slack: SlackStandIn, acme: SlackTeam
) -> None:
    code = code_for(slack, team="T0ACME01")
    assert refusal(slack, code, redirect_uri=REDIRECT + "/other") == "bad_redirect_uri"
    assert refusal(slack, code, redirect_uri=None) == "bad_redirect_uri"
    assert exchange(slack, code)["ok"]


def test_refresh_tokens_are_refused_as_token_rotation_is_off(slack: SlackStandIn) -> None:
    client = WebClient(base_url=slack.api_url)
    with pytest.raises(SlackApiError) as refused:
        client.oauth_v2_access(
            client_id=slack.client_id,
            client_secret=slack.client_secret,
            grant_type="refresh_token",
            refresh_token="xoxe-1-x",
        )
    assert refused.value.response["error"] == "invalid_refresh_token"


# -- the authorize step's refusals -------------------------------------------------------------------------


def test_a_denial_redirects_with_access_denied(slack: SlackStandIn, acme: SlackTeam) -> None:
    status, headers, _page = authorize(slack, team="T0ACME01", deny="1")
    assert status == 302
    assert redirected(headers) == (REDIRECT, {"error": "access_denied", "state": "st4te"})
    assert slack.installs() == [] and not acme.installed


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"client_id": "9999.9999"}, "invalid_client_id"),
        ({"client_id": None}, "invalid_client_id"),
        ({"team": "T0NOBODY"}, "invalid_team"),
        ({"redirect_uri": None}, "bad_redirect_uri"),
        ({"redirect_uri": "not a url"}, "bad_redirect_uri"),
        ({"scope": "commands,admin"}, "invalid_scope"),
        ({"scope": "commands", "user_scope": "identity.basic"}, "invalid_scope"),
        ({"scope": ""}, "no_scopes"),
        ({"user": "nobody"}, "user_not_found"),
    ],
)
def test_what_slack_shows_an_error_page_for_is_400(slack: SlackStandIn, params: dict, error: str) -> None:
    status, headers, page = authorize(slack, **params)
    assert status == 400 and "Location" not in headers
    assert headers["Content-Type"].startswith("text/html") and error in page
    assert slack.last("oauth/v2/authorize").status == 400


def test_an_installing_user_of_another_workspace_is_refused(slack: SlackStandIn, acme: SlackTeam) -> None:
    acme.add_user("U0ACMEDAN")
    status, _headers, page = authorize(slack, user="U0ACMEDAN")
    assert status == 400 and "user_not_found" in page


def test_every_manifest_scope_may_be_asked_for(slack: SlackStandIn, acme: SlackTeam) -> None:
    wanted = ",".join(sorted(manifest_bot_scopes()))
    exchange(slack, code_for(slack, team="T0ACME01", scope=wanted))
    assert acme.scopes == manifest_bot_scopes()


def test_without_state_the_redirect_carries_none(slack: SlackStandIn) -> None:
    _status, headers, _page = authorize(slack, state=None)
    assert set(redirected(headers)[1]) == {"code"}


def test_configured_redirect_urls_are_the_only_ones_taken() -> None:
    with SlackStandIn(redirect_urls=(REDIRECT,)) as slack:
        status, headers, _page = authorize(slack, redirect_uri=None)
        assert status == 302 and redirected(headers)[0] == REDIRECT, "the configured one"
        code = redirected(headers)[1]["code"]
        assert refusal(slack, code, redirect_uri="https://elsewhere.example/cb") == "bad_redirect_uri"
        assert exchange(slack, code, redirect_uri=None)["ok"], "not given at the authorize step"
        assert authorize(slack, redirect_uri=REDIRECT + "/deeper")[0] == 302
        assert authorize(slack, redirect_uri="https://elsewhere.example/cb")[0] == 400


# -- installing again ------------------------------------------------------------------------------------


def test_installing_again_while_installed_keeps_the_token_and_adds_scopes(
    slack: SlackStandIn, acme: SlackTeam
) -> None:
    first = exchange(slack, code_for(slack, team="T0ACME01", scope="commands"))
    second = exchange(slack, code_for(slack, team="T0ACME01", scope="chat:write"))
    assert first["access_token"] == second["access_token"] == acme.bot_token
    assert second["scope"] == "chat:write,commands"
    assert [i.new_token for i in slack.installs()] == [True, False]


def test_reinstalling_after_an_uninstall_issues_a_new_token_and_the_old_stays_refused(
    slack: SlackStandIn,
) -> None:
    old = slack.bot_token
    slack.uninstall()
    answer = exchange(slack, code_for(slack))
    new = answer["access_token"]
    assert new != old and new.startswith("xoxb-T0001-") and slack.bot_token == new
    assert not slack.uninstalled
    with pytest.raises(SlackApiError) as refused:
        WebClient(token=old, base_url=slack.api_url).chat_postMessage(channel="C0001", text="x")
    assert refused.value.response["error"] == "account_inactive"
    client = WebClient(token=new, base_url=slack.api_url)
    assert client.chat_postMessage(channel="C0001", text="back")["ok"]
    assert slack.installs()[-1].new_token is True
    slack.reset()
    assert slack.bot_token == old and slack.installs() == []
