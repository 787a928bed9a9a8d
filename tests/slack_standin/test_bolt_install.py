"""Bolt's own OAuth flow installs the app through the Slack stand-in, then answers a workspace's request
with that workspace's token: ``/slack/install`` → the stand-in's authorize step → ``/slack/oauth_redirect``
→ ``oauth.v2.access`` and ``auth.test`` → an ``Installation`` in Bolt's installation store."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import FileInstallationStore
from slack_sdk.oauth.state_store import FileOAuthStateStore

from emulator.slack import SlackStandIn, signed_headers

SECRET = "bolt-signing-secret"
REDIRECT = "https://qbsync.example.com/slack/oauth_redirect"
SCOPES = ["commands", "chat:write", "chat:write.public"]


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(port=0) as standin:
        yield standin


def bolt_app(slack: SlackStandIn, store: Path) -> App:
    settings = OAuthSettings(
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        scopes=SCOPES,
        redirect_uri=REDIRECT,
        authorization_url=slack.authorize_url,
        install_page_rendering_enabled=False,
        installation_store=FileInstallationStore(base_dir=str(store / "installations")),
        state_store=FileOAuthStateStore(expiration_seconds=600, base_dir=str(store / "states")),
    )
    app = App(
        signing_secret=SECRET,
        client=WebClient(base_url=slack.api_url),
        oauth_settings=settings,
        process_before_response=True,
    )

    @app.command("/qbsync")
    def answer(ack: Any, command: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_postMessage(channel=command["channel_id"], text=f"hello {command['team_id']}")

    return app


def follow_authorize(url: str) -> dict[str, str]:
    """What the browser does at Slack: GET the authorize URL; the query of the redirect it is given."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        assert response.status == 302, response.read()
        location = urlsplit(response.getheader("Location"))
    finally:
        connection.close()
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {k: v[-1] for k, v in parse_qs(location.query).items()}


def install(app: App, team_id: str) -> BoltRequest:
    started = app.oauth_flow.handle_installation(BoltRequest(body="", query=f"team={team_id}", headers={}))
    assert started.status == 302
    cookie = started.headers["set-cookie"][0].split(";")[0]
    callback = follow_authorize(started.headers["location"][0])
    done = app.oauth_flow.handle_callback(
        BoltRequest(
            body="", query=f"code={callback['code']}&state={callback['state']}", headers={"cookie": cookie}
        )
    )
    assert done.status == 200, done.body
    return done


def test_bolts_oauth_flow_ends_with_the_stand_ins_installation(slack: SlackStandIn, tmp_path: Path) -> None:
    acme = slack.add_team("T0ACME01", name="Acme Freight", installed=False)
    app = bolt_app(slack, tmp_path)
    install(app, "T0ACME01")
    stored = app.oauth_flow.settings.installation_store.find_installation(
        enterprise_id=None, team_id="T0ACME01"
    )
    assert stored is not None
    assert (stored.team_id, stored.team_name, stored.app_id) == ("T0ACME01", "Acme Freight", "A0APP0001")
    assert (stored.bot_token, stored.bot_user_id, stored.bot_id) == (
        acme.bot_token,
        acme.bot_user_id,
        acme.bot_id,
    )
    assert stored.bot_token.startswith("xoxb-T0ACME01-")
    assert set(stored.bot_scopes) == set(SCOPES) == set(acme.scopes)
    assert stored.user_id == "U0USER001" and stored.is_enterprise_install is False
    assert [c.method for c in acme.calls()] == ["oauth/v2/authorize", "oauth.v2.access", "auth.test"]


def test_after_installing_in_two_workspaces_bolt_answers_each_with_its_own_token(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    acme = slack.add_team("T0ACME01", installed=False)
    grid = slack.add_team("T0GRID01", enterprise_id="E0ORG0001", installed=False)
    app = bolt_app(slack, tmp_path)
    install(app, "T0ACME01")
    install(app, "T0GRID01")
    store = app.oauth_flow.settings.installation_store
    assert store.find_installation(enterprise_id="E0ORG0001", team_id="T0GRID01").bot_token == grid.bot_token
    for team, channel in ((acme, "C0ACME01"), (grid, "C0GRID01")):
        body = team.slash_command_body("/qbsync", "status", channel_id=channel)
        response = app.dispatch(BoltRequest(body=body, headers=signed_headers(SECRET, body)))
        assert response.status == 200
        [message] = team.messages(channel)
        assert message.text == f"hello {team.team_id}" and message.bot_id == team.bot_id
        assert team.last("chat.postMessage").token == team.bot_token
    assert slack.messages("C0ACME01") == [] and slack.calls("chat.postMessage") == []
