"""Channels and scopes as a real workspace has them: public or private, archived, with members; the bot
is in a channel only where it joined or was invited; a method without its scope is ``missing_scope``.
Driven through the real slack_sdk WebClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from emulator.slack import SlackStandIn
from emulator.slack.common import MANIFEST

PUBLIC = "C0PUBLIC01"  # public, the app not in it
PRIVATE = "G0PRIVATE1"  # private, the app not invited
ARCHIVED = "C0ARCHIVE1"
MEMBER = "U0MEMBER01"


@pytest.fixture
def slack(_standin: SlackStandIn) -> Iterator[SlackStandIn]:
    _standin.reset()
    _standin.set_scopes(None)
    _standin.add_channel(PUBLIC, name="billing", members=[MEMBER])
    _standin.add_channel(PRIVATE, name="finance", private=True, members=[MEMBER])
    _standin.add_channel(ARCHIVED, name="old-billing", archived=True)
    yield _standin
    for channel in (PUBLIC, PRIVATE, ARCHIVED):
        _standin.remove_channel(channel)


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value.response.data


def upload(client: WebClient, channel: str) -> Any:
    return client.files_upload_v2(channel=channel, content=b"png", filename="chart.png")


def test_the_default_token_holds_the_manifests_bot_scopes_and_auth_test_lists_them(
    slack: SlackStandIn, client: WebClient
) -> None:
    manifest = set(yaml.safe_load(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"])
    assert set(slack.scopes) == manifest
    assert set(client.auth_test().headers["X-OAuth-Scopes"].split(",")) == manifest
    slack.set_scopes({"commands", "chat:write"})
    assert client.auth_test().headers["X-OAuth-Scopes"] == "chat:write,commands"


def test_a_method_without_its_scope_is_missing_scope_naming_needed_and_provided(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.set_scopes({"commands", "chat:write"})
    answer = error_of(client.conversations_info, channel="C0BILLING1")
    assert answer == {
        "ok": False,
        "error": "missing_scope",
        "needed": "channels:read",
        "provided": "chat:write,commands",
    }
    assert error_of(client.conversations_join, channel=PUBLIC)["needed"] == "channels:join"
    assert error_of(upload, client=client, channel="C0BILLING1")["needed"] == "files:write"
    assert error_of(client.conversations_history, channel="C0BILLING1")["needed"] == "channels:history"
    slack.set_scopes(set())
    assert error_of(client.chat_postMessage, channel="C0BILLING1", text="x")["needed"] == "chat:write"


def test_a_public_channel_not_joined_takes_messages_only_with_chat_write_public(
    slack: SlackStandIn, client: WebClient
) -> None:
    assert client.chat_postMessage(channel=PUBLIC, text="digest")["ok"]  # chat:write.public
    assert error_of(upload, client=client, channel=PUBLIC)["error"] == "not_in_channel"
    assert error_of(client.conversations_history, channel=PUBLIC)["error"] == "not_in_channel"
    info = client.conversations_info(channel=PUBLIC)["channel"]
    assert (info["name"], info["is_private"], info["is_member"]) == ("billing", False, False)
    slack.set_scopes(slack.scopes - {"chat:write.public"})
    assert error_of(client.chat_postMessage, channel=PUBLIC, text="x")["error"] == "not_in_channel"
    assert [m.text for m in slack.messages(PUBLIC)] == ["digest"]  # no file message either


def test_joining_a_public_channel_lets_the_app_upload_and_read(
    slack: SlackStandIn, client: WebClient
) -> None:
    joined = client.conversations_join(channel=PUBLIC)
    assert joined["channel"]["is_member"] is True and "warning" not in joined
    assert upload(client, PUBLIC)["file"]["id"]
    assert client.conversations_history(channel=PUBLIC)["messages"]
    again = client.conversations_join(channel=PUBLIC)
    assert again["warning"] == "already_in_channel"
    assert client.conversations_info(channel=PUBLIC)["channel"]["is_member"] is True


def test_a_private_channel_is_channel_not_found_to_everything_until_the_app_is_invited(
    slack: SlackStandIn, client: WebClient
) -> None:
    for call, extra in (
        (client.chat_postMessage, {"text": "x"}),
        (client.conversations_info, {}),
        (client.conversations_history, {}),
        (client.conversations_join, {}),
        (upload, {"client": client}),
    ):
        assert error_of(call, channel=PRIVATE, **extra)["error"] == "channel_not_found", call
    assert slack.messages(PRIVATE) == []
    slack.invite(PRIVATE)
    info = client.conversations_info(channel=PRIVATE)["channel"]
    assert (info["name"], info["is_private"], info["is_member"]) == ("finance", True, True)
    assert client.chat_postMessage(channel=PRIVATE, text="digest")["ok"]
    assert upload(client, PRIVATE)["ok"]
    assert len(client.conversations_history(channel=PRIVATE)["messages"]) == 2
    joined = error_of(client.conversations_join, channel=PRIVATE)
    assert joined["error"] == "method_not_supported_for_channel_type"


def test_a_private_channel_needs_groups_read_and_groups_history(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.invite(PRIVATE)
    slack.set_scopes(slack.scopes - {"groups:read", "groups:history"})
    assert error_of(client.conversations_info, channel=PRIVATE)["needed"] == "groups:read"
    assert error_of(client.conversations_history, channel=PRIVATE)["needed"] == "groups:history"


def test_an_archived_channel_is_is_archived(slack: SlackStandIn, client: WebClient) -> None:
    assert error_of(client.chat_postMessage, channel=ARCHIVED, text="x")["error"] == "is_archived"
    assert error_of(upload, client=client, channel=ARCHIVED)["error"] == "is_archived"
    assert error_of(client.conversations_join, channel=ARCHIVED)["error"] == "is_archived"
    assert client.conversations_info(channel=ARCHIVED)["channel"]["is_archived"] is True
    slack.archive(PUBLIC)
    assert error_of(client.chat_postMessage, channel=PUBLIC, text="x")["error"] == "is_archived"


def test_a_strict_workspace_knows_only_the_channels_it_was_told_about() -> None:
    with SlackStandIn(port=0, implicit_channels=False) as slack:
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        assert (
            error_of(client.chat_postMessage, channel="C0NOWHERE1", text="x")["error"] == "channel_not_found"
        )
        slack.add_channel("C0NOWHERE1", name="general")
        assert client.chat_postMessage(channel="C0NOWHERE1", text="x")["ok"]
        assert client.chat_postMessage(channel="U0SOMEONE1", text="dm")["channel"] == "D0SOMEONE1"


def test_by_default_an_undescribed_channel_is_one_the_app_was_invited_to(client: WebClient) -> None:
    info = client.conversations_info(channel="C0BILLING1")["channel"]
    assert (info["is_member"], info["is_private"]) == (True, False)
    assert upload(client, "C0BILLING1")["ok"] and client.conversations_history(channel="C0BILLING1")["ok"]
