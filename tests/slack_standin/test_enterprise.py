"""An Enterprise Grid organization in the Slack stand-in: an org admin installs the app for the whole
organization, one token then works in every member workspace, the requests Slack sends from a member
workspace say so, and removing the app from the organization stops that token everywhere.

Driven through the real slack_sdk WebClient and Bolt's own OAuth flow over HTTP."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from slack_bolt import BoltRequest
from slack_sdk import WebClient

from emulator.slack import SlackEnterprise, SlackStandIn, signed_headers
from emulator.slack.common import manifest_bot_scopes
from tests.slack_standin.test_bolt_install import REDIRECT, SECRET, bolt_app
from tests.slack_standin.test_teams import _Recorder, error_of, home

ORG = "E0ORG0001"
ADMIN = "W0ADMIN01"


@pytest.fixture
def org(slack: SlackStandIn) -> SlackEnterprise:
    org = slack.add_enterprise(ORG, name="Acme Holdings", domain="acme-holdings")
    for team, channel, user in (("T0WEST01", "C0WEST01", "W0WEST001"), ("T0EAST01", "C0EAST01", "W0EAST001")):
        member = slack.add_team(team, name=f"Acme {team[3:7].title()}", enterprise_id=ORG, installed=False)
        member.add_channel(channel)
        member.add_user(user)
    return org


@pytest.fixture
def app_url() -> Iterator[str]:
    """The app's request URL: a small server recording what Slack posts there (``_Recorder.received``)."""
    _Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()


def authorize(slack: SlackStandIn, **query: str) -> tuple[int, dict[str, str]]:
    """The browser at Slack's authorize page: (status, the redirect's query or the error page)."""
    scopes = ",".join(sorted(manifest_bot_scopes()))
    params = {"client_id": slack.client_id, "scope": scopes, "redirect_uri": REDIRECT, **query}
    parts = urlsplit(f"{slack.authorize_url}?{urlencode(params)}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        page = response.read().decode()
        location = response.getheader("Location")
    finally:
        connection.close()
    if location is None:
        return response.status, {"page": page}
    return response.status, dict(parse_qsl(urlsplit(location).query))


def install_org(slack: SlackStandIn, user: str = ADMIN) -> dict[str, Any]:
    status, redirect = authorize(slack, enterprise=ORG, user=user, state="s")
    assert status == 302, redirect
    client = WebClient(base_url=slack.api_url)
    answer = client.oauth_v2_access(
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        code=redirect["code"],
        redirect_uri=REDIRECT,
    )
    return answer.data


def web(slack: SlackStandIn, token: str) -> WebClient:
    return WebClient(token=token, base_url=slack.api_url)


def test_an_org_admin_installs_the_app_for_the_whole_organization(
    slack: SlackStandIn, org: SlackEnterprise
) -> None:
    answer = install_org(slack)
    token = answer["access_token"]
    assert {k: answer[k] for k in ("team", "enterprise", "is_enterprise_install", "bot_user_id")} == {
        "team": None,
        "enterprise": {"id": ORG, "name": "Acme Holdings"},
        "is_enterprise_install": True,
        "bot_user_id": org.bot_user_id,
    }
    assert token.startswith(f"xoxb-{ORG}-") and org.installed and org.bot_token == token
    [done] = slack.installs()
    assert (done.team_id, done.enterprise_id, done.is_enterprise_install, done.user_id) == (
        None,
        ORG,
        True,
        ADMIN,
    )

    who = web(slack, token).auth_test()
    assert (who["team_id"], who["enterprise_id"], who["is_enterprise_install"]) == (ORG, ORG, True)
    assert (who["team"], who["url"], who["user_id"]) == (
        "Acme Holdings",
        "https://acme-holdings.enterprise.slack.com/",
        org.bot_user_id,
    )
    # one token, every member workspace: each call lands where its channel, user or team_id is
    west, east = slack.team("T0WEST01"), slack.team("T0EAST01")
    assert web(slack, token).chat_postMessage(channel="C0WEST01", text="west")["ok"]
    assert web(slack, token).chat_postMessage(channel="C0EAST01", text="east")["ok"]
    assert [m.text for m in west.messages("C0WEST01")] == ["west"]
    assert [m.text for m in east.messages("C0EAST01")] == ["east"]
    assert east.messages("C0EAST01")[0].user == org.bot_user_id
    web(slack, token).views_publish(user_id="W0EAST001", view=home())
    assert east.home("W0EAST001") is not None and west.home("W0EAST001") is None
    assert (
        web(slack, token).conversations_info(channel="C0WEST01")["channel"]["context_team_id"] == "T0WEST01"
    )
    web(slack, token).views_publish(user_id="W0NEW0001", view=home(), team_id="T0WEST01")  # Slack's own way
    assert west.home("W0NEW0001") is not None and east.home("W0NEW0001") is None
    shared = web(slack, token).files_upload_v2(channel="C0EAST01", content=b"chart", filename="chart.png")
    assert east.file_content(shared["file"]["id"]) == b"chart", "the organization's upload, shared in east"
    assert {c.method for c in org.calls()} >= {
        "auth.test",
        "chat.postMessage",
        "views.publish",
        "conversations.info",
    }
    # the workspaces themselves have no installation of their own, and other tokens reach none of them
    assert not west.installed and west.org_wide and east.org_wide
    assert (
        error_of(web(slack, "xoxb-test").chat_postMessage, channel="C0WEST01", text="x")
        == "channel_not_found"
    )


def test_an_org_wide_install_is_refused_for_an_unknown_organization_or_a_stranger(
    slack: SlackStandIn, org: SlackEnterprise
) -> None:
    slack.add_enterprise("E0EMPTY01")
    outsider = slack.add_team("T0OUT0001")
    outsider.add_user("W0OUTSID1")
    for query, error in (
        ({"enterprise": "E0NOBODY1"}, "invalid_enterprise"),
        ({"enterprise": "E0EMPTY01"}, "invalid_enterprise"),
        ({"enterprise": ORG, "team": "T0WEST01"}, "invalid_team"),
        ({"enterprise": ORG, "user": "W0OUTSID1"}, "user_not_found"),
    ):
        status, answer = authorize(slack, **query)
        assert status == 400 and error in answer["page"], (query, answer)
    status, answer = authorize(slack, enterprise=ORG, deny="1", state="s")
    assert status == 302 and answer == {"error": "access_denied", "state": "s"}
    assert not org.installed and slack.installs() == []


def test_what_slack_sends_from_a_member_workspace_names_the_org_wide_installation(
    slack: SlackStandIn, org: SlackEnterprise
) -> None:
    west = slack.team("T0WEST01")
    before = dict(parse_qsl(west.slash_command_body("/qbsync", "help", channel_id="C0WEST01")))
    assert before["is_enterprise_install"] == "false"
    install_org(slack)
    command = dict(
        parse_qsl(west.slash_command_body("/qbsync", "help", user_id="W0WEST001", channel_id="C0WEST01"))
    )
    assert (command["team_id"], command["enterprise_id"], command["is_enterprise_install"]) == (
        "T0WEST01",
        ORG,
        "true",
    )
    click = json.loads(dict(parse_qsl(west.block_actions_body("go", "1", user_id="W0WEST001")))["payload"])
    assert click["team"] is None and click["is_enterprise_install"] is True
    assert click["enterprise"] == {"id": ORG, "name": "Acme Holdings"}
    assert click["user"] == {
        "id": "W0WEST001",
        "username": "w0west001",
        "name": "w0west001",
        "team_id": "T0WEST01",
    }
    event = json.loads(west.app_home_opened_body("W0WEST001"))
    assert (event["team_id"], event["enterprise_id"]) == ("T0WEST01", ORG)
    assert event["authorizations"] == [
        {
            "enterprise_id": ORG,
            "team_id": None,
            "user_id": org.bot_user_id,
            "is_bot": True,
            "is_enterprise_install": True,
        }
    ]
    submitted = json.loads(dict(parse_qsl(west.view_submission_body({"type": "modal"}, {})))["payload"])
    assert submitted["team"] is None and submitted["view"]["team_id"] == "T0WEST01"
    # a member workspace with an installation of its own is reached through that one
    east = slack.team("T0EAST01")
    status, redirect = authorize(slack, team="T0EAST01", state="s")
    WebClient(base_url=slack.api_url).oauth_v2_access(
        client_id=slack.client_id,
        client_secret=slack.client_secret,
        code=redirect["code"],
        redirect_uri=REDIRECT,
    )
    assert east.installed and not east.org_wide
    assert dict(parse_qsl(east.slash_command_body("/qbsync", "")))["is_enterprise_install"] == "false"


def test_removing_the_app_from_the_organization_stops_its_token_everywhere(
    slack: SlackStandIn, org: SlackEnterprise, app_url: str
) -> None:
    old = install_org(slack)["access_token"]
    assert org.uninstall(app_url, "secret") == [200, 200]
    assert not org.installed and not slack.team("T0WEST01").org_wide
    for channel in ("C0WEST01", "C0EAST01"):
        assert error_of(web(slack, old).chat_postMessage, channel=channel, text="x") == "account_inactive"
    assert error_of(web(slack, old).auth_test) == "account_inactive"
    bodies = [r["body"] for r in _Recorder.received]
    assert sorted(b["event"]["type"] for b in bodies) == ["app_uninstalled", "tokens_revoked"]
    assert {(b["team_id"], b["enterprise_id"]) for b in bodies} == {(None, ORG)}
    revoked = next(b for b in bodies if b["event"]["type"] == "tokens_revoked")
    assert revoked["event"]["tokens"] == {"bot": [org.bot_user_id]}
    again = install_org(slack)["access_token"]
    assert again != old and org.installed
    assert web(slack, again).chat_postMessage(channel="C0EAST01", text="back")["ok"]
    assert error_of(web(slack, old).auth_test) == "account_inactive"


def test_bolt_installs_org_wide_and_answers_each_member_workspace_with_the_org_token(
    slack: SlackStandIn, org: SlackEnterprise, tmp_path: Path
) -> None:
    app = bolt_app(slack, tmp_path)
    started = app.oauth_flow.handle_installation(BoltRequest(body="", query="", headers={}))
    cookie = started.headers["set-cookie"][0].split(";")[0]
    status, callback = authorize(
        slack,
        **dict(parse_qsl(urlsplit(started.headers["location"][0]).query)),
        enterprise=ORG,
        user=ADMIN,
    )
    assert status == 302
    done = app.oauth_flow.handle_callback(
        BoltRequest(body="", query=urlencode(callback), headers={"cookie": cookie})
    )
    assert done.status == 200, done.body
    store = app.oauth_flow.settings.installation_store
    stored = store.find_installation(enterprise_id=ORG, team_id=None, is_enterprise_install=True)
    assert stored.bot_token == org.bot_token and stored.is_enterprise_install and stored.team_id is None
    assert stored.enterprise_url == "https://acme-holdings.enterprise.slack.com/"
    for team, channel, user in (("T0WEST01", "C0WEST01", "W0WEST001"), ("T0EAST01", "C0EAST01", "W0EAST001")):
        room = slack.team(team)
        body = room.slash_command_body("/qbsync", "status", user_id=user, channel_id=channel)
        response = app.dispatch(BoltRequest(body=body, headers=signed_headers(SECRET, body)))
        assert response.status == 200
        [message] = room.messages(channel)
        assert message.text == f"hello {team}" and message.bot_id == org.bot_id
        assert room.last("chat.postMessage").token == org.bot_token
