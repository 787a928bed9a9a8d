"""Several workspaces behind one Slack stand-in: each token reaches its own workspace only, as in Slack.

Driven through the real slack_sdk WebClient over HTTP; the uninstall events go to a small local server.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from emulator.slack import SlackStandIn, SlackTeam
from emulator.slack.tiers import PER_MINUTE

USER = "U0USER001"


@pytest.fixture
def acme(slack: SlackStandIn) -> SlackTeam:
    return slack.add_team("T0ACME01", name="Acme Freight", domain="acme-freight")


def web(team: SlackTeam | SlackStandIn, token: str | None = None) -> WebClient:
    return WebClient(token=token or team.bot_token, base_url=team.api_url)


def error_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value.response["error"]


def modal(title: str = "Fix load") -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}],
    }


def home() -> dict[str, Any]:
    return {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "home"}}]}


# -- who each workspace's bot is -----------------------------------------------------------------------


def test_the_default_team_is_t0001_with_its_old_token_and_bot(slack: SlackStandIn) -> None:
    default = slack.team("T0001")
    assert default is slack.team()
    assert (default.bot_token, default.bot_user_id, default.bot_id) == ("xoxb-test", "U0BOT0001", "B0BOT0001")
    assert [t.team_id for t in slack.teams()] == ["T0001"]


def test_each_workspace_has_its_own_bot_user_bot_and_token(slack: SlackStandIn, acme: SlackTeam) -> None:
    given = slack.add_team("T0BETA01", bot_token="xoxb-beta")
    assert acme.bot_token.startswith("xoxb-T0ACME01-") and given.bot_token == "xoxb-beta"
    bots = {(t.bot_user_id, t.bot_id) for t in slack.teams()}
    assert len(bots) == 3, "distinct bot user and bot per workspace"
    assert len({t.bot_token for t in slack.teams()}) == 3
    assert {t.app_id for t in slack.teams()} == {"A0APP0001"}, "one app, installed in each"
    assert acme.api_url == slack.api_url
    with pytest.raises(ValueError):
        slack.add_team("T0ACME01")
    with pytest.raises(KeyError):
        slack.team("T0NOBODY")


def test_auth_test_answers_the_tokens_own_workspace(slack: SlackStandIn, acme: SlackTeam) -> None:
    grid = slack.add_team("T0GRID01", name="Grid West", enterprise_id="E0ORG0001")
    default, mine, org = web(slack).auth_test(), web(acme).auth_test(), web(grid).auth_test()
    assert (default["team_id"], default["user_id"]) == ("T0001", "U0BOT0001")
    assert "enterprise_id" not in default
    assert (mine["team_id"], mine["team"], mine["user_id"], mine["bot_id"]) == (
        "T0ACME01",
        "Acme Freight",
        acme.bot_user_id,
        acme.bot_id,
    )
    assert mine["url"] == "https://acme-freight.slack.com/"
    assert (org["team_id"], org["enterprise_id"], org["is_enterprise_install"]) == (
        "T0GRID01",
        "E0ORG0001",
        False,
    )
    assert "chat:write" in mine.headers["X-OAuth-Scopes"]
    assert error_of(web(slack, "xoxb-T0ACME01-forged").auth_test) == "invalid_auth"
    assert acme.last("auth.test").token == acme.bot_token
    assert [c.token for c in slack.calls("auth.test")] == ["xoxb-test", "xoxb-T0ACME01-forged"]


# -- what each workspace holds ---------------------------------------------------------------------------


def test_messages_and_channels_are_the_workspaces_own(slack: SlackStandIn, acme: SlackTeam) -> None:
    web(slack).chat_postMessage(channel="C0HOME01", text="at home")
    web(acme).chat_postMessage(channel="C0ACME01", text="at acme")
    assert [m.text for m in slack.messages("C0HOME01")] == ["at home"]
    assert [m.text for m in acme.messages("C0ACME01")] == ["at acme"]
    assert acme.messages("C0HOME01") == [] and slack.messages("C0ACME01") == []
    assert (slack.channels(), acme.channels()) == (["C0HOME01"], ["C0ACME01"])
    assert acme.messages("C0ACME01")[0].user == acme.bot_user_id
    # a channel id belongs to one workspace: another workspace's token does not find it
    assert error_of(web(acme).chat_postMessage, channel="C0HOME01", text="x") == "channel_not_found"
    assert error_of(web(slack).conversations_history, channel="C0ACME01") == "channel_not_found"
    history = web(acme).conversations_history(channel="C0ACME01")["messages"]
    assert [m["text"] for m in history] == ["at acme"] and history[0]["team"] == "T0ACME01"


def test_a_token_of_one_workspace_cannot_post_in_anothers_private_channel(
    slack: SlackStandIn, acme: SlackTeam
) -> None:
    acme.add_channel("G0ACMEOPS", name="ops", private=True)
    assert web(acme).chat_postMessage(channel="G0ACMEOPS", text="ours")["ok"]
    assert error_of(web(slack).chat_postMessage, channel="G0ACMEOPS", text="theirs") == "channel_not_found"
    assert error_of(web(slack).conversations_info, channel="G0ACMEOPS") == "channel_not_found"
    assert error_of(web(slack).conversations_join, channel="G0ACMEOPS") == "channel_not_found"
    assert [m.text for m in acme.messages("G0ACMEOPS")] == ["ours"]
    with pytest.raises(ValueError, match="T0ACME01"):
        slack.add_channel("G0ACMEOPS")
    # and by name: the default workspace has no #ops
    assert error_of(web(slack).chat_postMessage, channel="#ops", text="x") == "channel_not_found"


def test_users_of_another_workspace_are_not_found(slack: SlackStandIn, acme: SlackTeam) -> None:
    acme.add_user("U0ACMEDAN", real_name="Dan at Acme")
    slack.set_scopes(slack.scopes | {"users:read", "im:write"})
    acme.set_scopes(acme.scopes | {"users:read"})
    assert web(acme).users_info(user="U0ACMEDAN")["user"]["team_id"] == "T0ACME01"
    assert error_of(web(slack).users_info, user="U0ACMEDAN") == "user_not_found"
    assert error_of(web(slack).conversations_open, users="U0ACMEDAN") == "user_not_found"
    post = web(slack).chat_postEphemeral
    assert error_of(post, channel="C0HOME01", user="U0ACMEDAN", text="x") == "user_not_found"
    assert error_of(web(slack).chat_postMessage, channel="U0ACMEDAN", text="x") == "channel_not_found"
    assert web(acme).chat_postMessage(channel="U0ACMEDAN", text="hi Dan")["channel"] == "D0ACMEDAN"


def test_views_homes_and_triggers_are_the_workspaces_own(slack: SlackStandIn, acme: SlackTeam) -> None:
    opened = web(acme).views_open(trigger_id=acme.new_trigger_id(USER), view=modal())["view"]
    assert (opened["team_id"], opened["bot_id"], opened["app_installed_team_id"]) == (
        "T0ACME01",
        acme.bot_id,
        "T0ACME01",
    )
    assert [v["id"] for v in acme.views(USER)] == [opened["id"]] and slack.views(USER) == []
    # a trigger is bound to the workspace that issued it, a view id to its workspace
    assert error_of(web(slack).views_open, trigger_id=acme.new_trigger_id(USER), view=modal()) == (
        "invalid_trigger_id"
    )
    assert error_of(web(slack).views_update, view_id=opened["id"], view=modal("Other")) == "not_found"
    assert error_of(web(slack).views_push, trigger_id=slack.new_trigger_id(USER), view=modal()) == "not_found"
    web(acme).views_publish(user_id=USER, view=home())
    assert acme.home(USER)["team_id"] == "T0ACME01" and slack.home(USER) is None
    acme.close_views(USER)
    assert acme.views(USER) == []


def test_files_are_the_workspaces_own(slack: SlackStandIn, acme: SlackTeam) -> None:
    acme.invite("C0ACME01")
    announced = web(acme).files_getUploadURLExternal(filename="chart.png", length=5)
    upload = urllib.request.Request(announced["upload_url"], data=b"chart", method="POST")
    with urllib.request.urlopen(upload, timeout=5) as answer:
        assert answer.read() == b"OK - 5"
    file_id = announced["file_id"]
    assert acme.file_content(file_id) == b"chart" and slack.file_content(file_id) is None
    theirs = web(slack).files_completeUploadExternal
    assert error_of(theirs, files=[{"id": file_id}], channel_id="C0HOME01") == "file_not_found"
    done = web(acme).files_completeUploadExternal(files=[{"id": file_id}], channel_id="C0ACME01")
    assert done["files"][0]["id"] == file_id
    assert acme.messages("C0ACME01")[0].files[0]["id"] == file_id
    assert [c.method for c in acme.calls()] == [
        "files.getUploadURLExternal",
        "file_upload",
        "files.completeUploadExternal",
    ]


def test_a_response_url_posts_into_the_workspace_that_issued_it(slack: SlackStandIn, acme: SlackTeam) -> None:
    url = acme.new_response_url("C0ACME01", USER)
    with urllib.request.urlopen(
        urllib.request.Request(
            url, data=json.dumps({"text": "done"}).encode(), headers={"Content-Type": "application/json"}
        ),
        timeout=5,
    ) as answer:
        assert answer.status == 200
    message = acme.messages("C0ACME01")[0]
    assert (message.text, message.ephemeral_for, message.bot_id) == ("done", USER, acme.bot_id)
    assert slack.messages("C0ACME01") == [] and slack.calls("response_url") == []
    assert acme.last("response_url").args["text"] == "done"


# -- rate limits and uninstalls are per workspace ---------------------------------------------------------


def test_injected_rate_limits_are_per_workspace(slack: SlackStandIn, acme: SlackTeam) -> None:
    acme.ratelimit("chat.postMessage", times=1, retry_after=9)
    with pytest.raises(SlackApiError) as refused:
        web(acme).chat_postMessage(channel="C0ACME01", text="x")
    assert (refused.value.response.status_code, refused.value.response.headers["Retry-After"]) == (429, "9")
    assert web(slack).chat_postMessage(channel="C0HOME01", text="fine")["ok"]
    assert web(acme).chat_postMessage(channel="C0ACME01", text="now")["ok"]


def test_rate_tiers_count_each_workspace_on_its_own() -> None:
    with SlackStandIn(rate_tiers=True, minute=60.0) as slack:
        acme = slack.add_team("T0ACME01")
        for client in (web(slack), web(acme)):
            for _ in range(PER_MINUTE[3]):  # conversations.info is Tier 3
                client.conversations_info(channel="C0001" if client.token == slack.bot_token else "C0ACME1")
        with pytest.raises(SlackApiError) as refused:
            web(acme).conversations_info(channel="C0ACME1")
        assert refused.value.response.status_code == 429
        fresh = slack.add_team("T0FRESH1")
        assert web(fresh).conversations_info(channel="C0FRESH1")["ok"], "a new workspace starts afresh"
        assert fresh.tiers is not None and fresh.tiers is not acme.tiers


class _Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"body": json.loads(raw), "signature": self.headers["X-Slack-Signature"]})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def app_url() -> Iterator[str]:
    _Recorder.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slack/events"
    server.shutdown()
    server.server_close()


def test_uninstalling_one_workspace_leaves_the_others_working(
    slack: SlackStandIn, acme: SlackTeam, app_url: str
) -> None:
    grid = slack.add_team("T0GRID01", enterprise_id="E0ORG0001")
    old = grid.bot_token
    assert grid.uninstall(app_url, "secret") == [200, 200]
    assert grid.uninstalled and not acme.uninstalled and not slack.uninstalled
    assert error_of(web(grid, old).chat_postMessage, channel="C0GRID01", text="x") == "account_inactive"
    assert web(acme).chat_postMessage(channel="C0ACME01", text="still here")["ok"]
    assert web(slack).auth_test()["team_id"] == "T0001"
    bodies = [r["body"] for r in _Recorder.received]
    assert sorted(b["event"]["type"] for b in bodies) == ["app_uninstalled", "tokens_revoked"]
    assert {(b["team_id"], b["enterprise_id"]) for b in bodies} == {("T0GRID01", "E0ORG0001")}
    revoked = next(b for b in bodies if b["event"]["type"] == "tokens_revoked")
    assert revoked["event"]["tokens"] == {"bot": [grid.bot_user_id]}
    assert all(r["signature"].startswith("v0=") for r in _Recorder.received)
    grid.reinstall("xoxb-grid-again")
    assert web(grid).auth_test()["ok"] and error_of(web(grid, old).auth_test) == "account_inactive"


def test_an_app_level_method_refuses_any_workspaces_bot_token(slack: SlackStandIn, acme: SlackTeam) -> None:
    refused = error_of(web(acme).apps_connections_open, app_token=acme.bot_token)
    assert refused == "not_allowed_token_type"
    assert error_of(web(acme, slack.app_token).auth_test) == "not_allowed_token_type"


def test_reset_forgets_the_added_workspaces_and_frees_their_ids(slack: SlackStandIn, acme: SlackTeam) -> None:
    acme.add_channel("C0ACMEX1")
    slack.add_channel("C0KEPT01")
    web(slack).chat_postMessage(channel="C0USED01", text="claims it")
    slack.reset()
    with pytest.raises(KeyError):
        slack.team("T0ACME01")
    slack.add_channel("C0ACMEX1")  # nobody holds it any more
    again = slack.add_team("T0ACME01")
    assert again.messages("C0ACMEX1") == []
    again.add_channel("C0USED01")  # only used, not described: free again
    with pytest.raises(ValueError):
        again.add_channel("C0KEPT01")  # described channels stay the default workspace's
    slack.remove_channel("C0KEPT01")
    slack.remove_channel("C0ACMEX1")


# -- what Slack sends the app from a workspace -------------------------------------------------------------


def test_request_bodies_carry_the_workspace_and_its_organization(slack: SlackStandIn) -> None:
    grid = slack.add_team("T0GRID01", enterprise_id="E0ORG0001", enterprise_name="Org")
    command = dict(parse_qsl(grid.slash_command_body("/qbsync", "help", channel_id="C0GRID01")))
    assert (command["team_id"], command["enterprise_id"], command["enterprise_name"]) == (
        "T0GRID01",
        "E0ORG0001",
        "Org",
    )
    assert command["response_url"].startswith(grid.base_url + "response/")
    assert web(grid).views_open(trigger_id=command["trigger_id"], view=modal())["ok"], "its trigger"
    click = json.loads(dict(parse_qsl(grid.block_actions_body("go", "1", channel_id="C0GRID01")))["payload"])
    assert click["enterprise"] == {"id": "E0ORG0001", "name": "Org"}
    assert (click["team"]["id"], click["user"]["team_id"]) == ("T0GRID01", "T0GRID01")
    event = json.loads(grid.app_home_opened_body(USER))
    assert (event["team_id"], event["enterprise_id"]) == ("T0GRID01", "E0ORG0001")
    assert event["authorizations"][0] == {
        "enterprise_id": "E0ORG0001",
        "team_id": "T0GRID01",
        "user_id": grid.bot_user_id,
        "is_bot": True,
        "is_enterprise_install": False,
    }
    assert event["event"]["type"] == "app_home_opened" and event["event"]["user"] == USER
    plain = json.loads(dict(parse_qsl(slack.team().block_actions_body("go")))["payload"])
    assert plain["enterprise"] is None and plain["team"] == {"id": "T0001", "domain": "t0001"}
    submitted = grid.view_submission_body(modal(), {}, user_id=USER)
    assert json.loads(dict(parse_qsl(submitted))["payload"])["view"]["team_id"] == "T0GRID01"
