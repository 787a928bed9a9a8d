"""The Slack stand-in, driven through the real slack_sdk WebClient, WebhookClient and a real Bolt app."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from emulator.slack import (
    SlackStandIn,
    block_actions_body,
    event_callback_body,
    signed_headers,
    slash_command_body,
    validate_blocks,
    validate_view,
    view_submission_body,
)

CHANNEL = "C0TEST001"
USER = "U0USER001"
SECRET = "signing-secret"
TS = re.compile(r"\d{10}\.\d{6}")


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value.response.data


def text(value: str, kind: str = "plain_text") -> dict[str, Any]:
    return {"type": kind, "text": value}


def button(action_id: str = "go", label: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": text(label), **extra}


def section(body: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": text(body, "mrkdwn"), **extra}


def modal(blocks: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": text("Fix load"), "blocks": blocks or [section()], **extra}


# -- auth and plain methods --------------------------------------------------------------------------------


def test_auth_test_answers_who_the_bot_is(slack: SlackStandIn, client: WebClient) -> None:
    response = client.auth_test()
    assert response["team_id"] == "T0001"
    assert response["user_id"] == slack.bot_user_id
    assert response["bot_id"].startswith("B")
    assert response["url"].startswith("https://")
    assert "chat:write" in response.headers["X-OAuth-Scopes"]
    assert slack.last("auth.test").token == slack.bot_token


def test_a_wrong_token_is_invalid_auth_and_a_missing_one_not_authed(slack: SlackStandIn) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=slack.api_url)
    assert error_of(wrong.chat_postMessage, channel=CHANNEL, text="x")["error"] == "invalid_auth"
    assert error_of(WebClient(base_url=slack.api_url).auth_test)["error"] == "not_authed"
    assert slack.messages(CHANNEL) == []


def test_the_token_may_come_in_the_form_body(slack: SlackStandIn) -> None:
    body = f"token={slack.bot_token}&channel={CHANNEL}&text=from+a+form".encode()
    request = urllib.request.Request(slack.api_url + "chat.postMessage", data=body, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read())["ok"] is True
    assert slack.messages(CHANNEL)[0].text == "from a form"


def test_an_unknown_method_is_unknown_method(client: WebClient) -> None:
    assert error_of(client.api_call, api_method="chat.sendTelegram")["error"] == "unknown_method"


def test_post_message_returns_increasing_timestamps_and_keeps_the_message(
    slack: SlackStandIn, client: WebClient
) -> None:
    first = client.chat_postMessage(channel=CHANNEL, text="one", blocks=[section("*one*")])
    second = client.chat_postMessage(channel=CHANNEL, text="two")
    assert TS.fullmatch(first["ts"]) and TS.fullmatch(second["ts"])
    assert float(second["ts"]) > float(first["ts"])
    assert first["channel"] == CHANNEL
    assert first["message"]["blocks"] == [section("*one*")]
    assert first["message"]["bot_id"] == second["message"]["bot_id"]
    stored = slack.messages(CHANNEL)
    assert [m.text for m in stored] == ["one", "two"]
    assert stored[0].blocks == [section("*one*")] and stored[0].user == slack.bot_user_id


def test_blocks_sent_as_a_json_string_in_a_form_body_are_decoded(
    slack: SlackStandIn, client: WebClient
) -> None:
    client.api_call(
        "chat.postMessage", params={"channel": CHANNEL, "text": "t", "blocks": json.dumps([section()])}
    )
    assert slack.messages(CHANNEL)[0].blocks == [section()]
    assert slack.last("chat.postMessage").args["blocks"] == [section()]


def test_a_message_needs_text_or_blocks(client: WebClient) -> None:
    with pytest.warns(UserWarning, match="text"):
        assert error_of(client.chat_postMessage, channel=CHANNEL)["error"] == "no_text"
    assert (
        error_of(client.chat_postMessage, channel="not a channel", text="x")["error"] == "channel_not_found"
    )


def test_posting_to_a_user_id_lands_in_the_direct_message(slack: SlackStandIn, client: WebClient) -> None:
    response = client.chat_postMessage(channel=USER, text="just you")
    assert response["channel"].startswith("D")
    assert slack.messages(response["channel"])[0].text == "just you"


def test_update_replaces_an_existing_message_only(slack: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="syncing…")["ts"]
    updated = client.chat_update(channel=CHANNEL, ts=ts, text="synced", blocks=[section("done")])
    assert updated["ts"] == ts and updated["text"] == "synced"
    message = slack.messages(CHANNEL)[0]
    assert (message.text, message.blocks, message.replaced) == ("synced", [section("done")], 1)
    assert (
        error_of(client.chat_update, channel=CHANNEL, ts="1.000001", text="x")["error"] == "message_not_found"
    )


def test_ephemeral_messages_are_for_one_user_and_cannot_be_updated(
    slack: SlackStandIn, client: WebClient
) -> None:
    assert (
        error_of(client.chat_postEphemeral, channel=CHANNEL, user="", text="x")["error"] == "user_not_found"
    )
    ts = client.chat_postEphemeral(channel=CHANNEL, user=USER, text="only you")["message_ts"]
    message = slack.messages(CHANNEL)[0]
    assert (message.ts, message.ephemeral_for) == (ts, USER)
    assert error_of(client.chat_update, channel=CHANNEL, ts=ts, text="x")["error"] == "message_not_found"


def test_delete_flags_the_message(slack: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="oops")["ts"]
    assert client.chat_delete(channel=CHANNEL, ts=ts)["ts"] == ts
    assert slack.messages(CHANNEL)[0].deleted is True
    assert error_of(client.chat_delete, channel=CHANNEL, ts=ts)["error"] == "message_not_found"


def test_conversations_and_users_info(slack: SlackStandIn, client: WebClient) -> None:
    slack.set_scopes(slack.scopes | {"users:read"})  # users.info needs it; qbsync's manifest does not ask
    slack.add_channel(CHANNEL, name="billing")
    slack.add_user("U0DISPATCH", real_name="Dana Dispatcher", tz="America/New_York")
    channel = client.conversations_info(channel=CHANNEL)["channel"]
    assert (channel["id"], channel["name"], channel["is_channel"]) == (CHANNEL, "billing", True)
    user = client.users_info(user="U0DISPATCH")["user"]
    assert (user["real_name"], user["tz"]) == ("Dana Dispatcher", "America/New_York")
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert error_of(client.users_info, user="nobody")["error"] == "user_not_found"
    assert client.chat_postMessage(channel="#billing", text="by name")["channel"] == CHANNEL


# -- Block Kit limits --------------------------------------------------------------------------------------


def _actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def _select(options: int = 1, text_len: int = 5, value_len: int = 5) -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": "pick",
        "options": [{"text": text("t" * text_len), "value": f"{i:0{value_len}d}"} for i in range(options)],
    }


def _confirm(**lengths: int) -> dict[str, Any]:
    sizes = {"title": 5, "text": 5, "confirm": 5, "deny": 5, **lengths}
    return {key: text("x" * size) for key, size in sizes.items()}


LIMITS: list[tuple[str, list[dict[str, Any]], str]] = [
    ("51 blocks", [{"type": "divider"}] * 51, "/blocks"),
    ("section text 3001", [section("x" * 3001)], "/blocks/0/text/text"),
    ("section without text or fields", [{"type": "section"}], "/blocks/0"),
    ("11 fields", [{"type": "section", "fields": [text("f")] * 11}], "/blocks/0/fields"),
    ("field 2001", [{"type": "section", "fields": [text("f" * 2001)]}], "/blocks/0/fields/0/text"),
    ("header 151", [{"type": "header", "text": text("h" * 151)}], "/blocks/0/text/text"),
    ("header mrkdwn", [{"type": "header", "text": text("h", "mrkdwn")}], "/blocks/0/text/type"),
    ("26 actions", [_actions(*[button(f"b{i}") for i in range(26)])], "/blocks/0/elements"),
    ("11 context elements", [{"type": "context", "elements": [text("c")] * 11}], "/blocks/0/elements"),
    ("block_id 256", [section(block_id="b" * 256)], "/blocks/0/block_id"),
    ("action_id 256", [_actions(button("a" * 256))], "/blocks/0/elements/0/action_id"),
    ("button text 76", [_actions(button(label="x" * 76))], "/blocks/0/elements/0/text/text"),
    ("button value 2001", [_actions(button(value="v" * 2001))], "/blocks/0/elements/0/value"),
    ("button url 3001", [_actions(button(url="u" * 3001))], "/blocks/0/elements/0/url"),
    ("button without text", [_actions({"type": "button", "action_id": "a"})], "/blocks/0/elements/0"),
    ("button without action_id", [_actions({"type": "button", "text": text("Go")})], "/blocks/0/elements/0"),
    ("option text 76", [_actions(_select(text_len=76))], "/blocks/0/elements/0/options/0/text/text"),
    ("option value 151", [_actions(_select(value_len=151))], "/blocks/0/elements/0/options/0/value"),
    ("101 options", [_actions(_select(options=101))], "/blocks/0/elements/0/options"),
    (
        "6 overflow options",
        [_actions({"type": "overflow", "action_id": "o", "options": _select(options=6)["options"]})],
        "/blocks/0/elements/0/options",
    ),
    ("confirm title 101", [_actions(button(confirm=_confirm(title=101)))], "/confirm/title/text"),
    ("confirm text 301", [_actions(button(confirm=_confirm(text=301)))], "/confirm/text/text"),
    ("confirm confirm 31", [_actions(button(confirm=_confirm(confirm=31)))], "/confirm/confirm/text"),
    ("confirm deny 31", [_actions(button(confirm=_confirm(deny=31)))], "/confirm/deny/text"),
    ("duplicate block_id", [section(block_id="a"), section(block_id="a")], "/blocks/1/block_id"),
    ("duplicate action_id", [_actions(button("same"), button("same"))], "/blocks/0/elements/1/action_id"),
    ("unknown block type", [{"type": "carousel"}], "/blocks/0/type"),
    ("emoji on mrkdwn", [{"type": "section", "text": {**text("x", "mrkdwn"), "emoji": True}}], "/text/emoji"),
    ("empty text", [section("")], "/blocks/0/text/text"),
]


@pytest.mark.parametrize(
    ("blocks", "pointer"), [case[1:] for case in LIMITS], ids=[case[0] for case in LIMITS]
)
def test_blocks_over_a_limit_are_refused_with_a_pointer(
    slack: SlackStandIn, client: WebClient, blocks: list[dict[str, Any]], pointer: str
) -> None:
    errors = validate_blocks(blocks, "message")
    assert errors and all(e.startswith("[ERROR] ") for e in errors)
    assert any(re.search(rf"\[json-pointer:\S*{re.escape(pointer)}\]$", e) for e in errors), errors
    data = error_of(client.chat_postMessage, channel=CHANNEL, text="t", blocks=blocks)
    assert data["error"] == "invalid_blocks"
    assert data["response_metadata"]["messages"] == errors
    assert slack.messages(CHANNEL) == []


def test_blocks_at_the_limits_are_accepted() -> None:
    everything = [
        {"type": "header", "text": text("h" * 150)},
        section("x" * 3000, block_id="b" * 255, accessory=button(confirm=_confirm(title=100, text=300))),
        {"type": "section", "fields": [text("f" * 2000, "mrkdwn")] * 10},
        _actions(*[button(f"b{i}", "x" * 75, value="v" * 2000) for i in range(24)], _select(100, 75, 150)),
        {
            "type": "context",
            "elements": [text("c", "mrkdwn")] * 9 + [{"type": "image", "image_url": "u", "alt_text": "a"}],
        },
        {"type": "divider"},
        {
            "type": "input",
            "label": text("Email"),
            "element": {"type": "plain_text_input", "action_id": "email"},
        },
    ]
    assert validate_blocks(everything) == []
    assert validate_blocks([{"type": "divider"}] * 50) == []
    assert validate_blocks([{"type": "divider"}] * 100, "modal") == []
    assert validate_blocks([{"type": "divider"}] * 101, "home") == [
        "[ERROR] no more than 100 items allowed [json-pointer:/blocks]"
    ]


VIEW_LIMITS: list[tuple[str, dict[str, Any], str]] = [
    ("title 25", modal(title=text("t" * 25)), "/view/title/text"),
    ("submit 25", modal(submit=text("s" * 25)), "/view/submit/text"),
    ("close 25", modal(close=text("c" * 25)), "/view/close/text"),
    ("private_metadata 3001", modal(private_metadata="m" * 3001), "/view/private_metadata"),
    ("callback_id 256", modal(callback_id="c" * 256), "/view/callback_id"),
    ("101 blocks", modal([{"type": "divider"}] * 101), "/view/blocks"),
    ("no title", {"type": "modal", "blocks": []}, "/view"),
    (
        "input without submit",
        modal(
            [{"type": "input", "label": text("L"), "element": {"type": "plain_text_input", "action_id": "a"}}]
        ),
        "/view",
    ),
    ("bad block inside", modal([section("x" * 3001)]), "/view/blocks/0/text/text"),
]


@pytest.mark.parametrize(("view", "pointer"), [c[1:] for c in VIEW_LIMITS], ids=[c[0] for c in VIEW_LIMITS])
def test_views_over_a_limit_are_invalid_arguments(
    slack: SlackStandIn, client: WebClient, view: dict[str, Any], pointer: str
) -> None:
    errors = validate_view(view)
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in errors), errors
    data = error_of(client.views_open, trigger_id=slack.new_trigger_id(), view=view)
    assert data["error"] == "invalid_arguments"
    assert data["response_metadata"]["messages"] == errors
    assert slack.views() == {}


# -- views and trigger ids ---------------------------------------------------------------------------------


def test_views_open_exchanges_a_trigger_once(slack: SlackStandIn, client: WebClient) -> None:
    trigger = slack.new_trigger_id(USER)
    view = client.views_open(trigger_id=trigger, view=modal(callback_id="fix", private_metadata="L-1001"))[
        "view"
    ]
    assert view["id"].startswith("V") and view["hash"] and view["root_view_id"] == view["id"]
    assert (view["callback_id"], view["private_metadata"]) == ("fix", "L-1001")
    assert [v["id"] for v in slack.views(USER)] == [view["id"]]
    assert error_of(client.views_open, trigger_id=trigger, view=modal())["error"] == "exchanged_trigger_id"
    assert (
        error_of(client.views_open, trigger_id="123.456.abc", view=modal())["error"] == "invalid_trigger_id"
    )


def test_a_trigger_expires(slack: SlackStandIn, client: WebClient) -> None:
    trigger = slack.new_trigger_id(USER, ttl=0.05)
    time.sleep(0.1)
    assert error_of(client.views_open, trigger_id=trigger, view=modal())["error"] == "expired_trigger_id"


def test_the_trigger_lifetime_is_configurable() -> None:
    with SlackStandIn(trigger_ttl=0.05) as short:
        client = WebClient(token=short.bot_token, base_url=short.api_url)
        trigger = short.new_trigger_id()
        time.sleep(0.1)
        assert error_of(client.views_open, trigger_id=trigger, view=modal())["error"] == "expired_trigger_id"


def test_views_update_by_id_or_external_id_and_hash(slack: SlackStandIn, client: WebClient) -> None:
    opened = client.views_open(trigger_id=slack.new_trigger_id(USER), view=modal(external_id="fix-L-1001"))[
        "view"
    ]
    updated = client.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal([section("working")], external_id="fix-L-1001")
    )["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    again = client.views_update(
        external_id="fix-L-1001", view=modal([section("done")], external_id="fix-L-1001")
    )
    assert slack.views(USER)[0]["blocks"] == [section("done")] == again["view"]["blocks"]
    assert error_of(client.views_update, view_id=opened["id"], hash=opened["hash"], view=modal())[
        "error"
    ] == ("hash_conflict")
    assert error_of(client.views_update, view_id="VNOPE", view=modal())["error"] == "not_found"
    assert error_of(client.views_update, external_id="nope", view=modal())["error"] == "not_found"


def test_views_push_stacks_at_most_three(slack: SlackStandIn, client: WebClient) -> None:
    assert (
        error_of(client.views_push, trigger_id=slack.new_trigger_id(USER), view=modal())["error"]
        == "not_found"
    )
    root = client.views_open(trigger_id=slack.new_trigger_id(USER), view=modal())["view"]
    pushed = client.views_push(trigger_id=slack.new_trigger_id(USER), view=modal())["view"]
    assert (pushed["root_view_id"], pushed["previous_view_id"]) == (root["id"], root["id"])
    client.views_push(trigger_id=slack.new_trigger_id(USER), view=modal())
    assert error_of(client.views_push, trigger_id=slack.new_trigger_id(USER), view=modal())["error"] == (
        "push_limit_reached"
    )
    assert len(slack.views(USER)) == 3


def test_views_publish_sets_the_home_tab(slack: SlackStandIn, client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("3 problems")]}
    published = client.views_publish(user_id=USER, view=home)["view"]
    assert slack.home(USER)["blocks"] == [section("3 problems")]
    again = client.views_publish(user_id=USER, view={"type": "home", "blocks": []})["view"]
    assert again["id"] == published["id"] and slack.home(USER)["blocks"] == []
    assert error_of(client.views_publish, user_id=USER, view=modal())["error"] == "invalid_arguments"
    assert slack.home("U0SOMEONE") is None


# -- response URLs -----------------------------------------------------------------------------------------


def test_a_response_url_answers_five_times_then_used_url(slack: SlackStandIn) -> None:
    hook = WebhookClient(slack.new_response_url(CHANNEL, USER))
    for i in range(5):
        response = hook.send(text=f"step {i}")
        assert (response.status_code, json.loads(response.body)) == (200, {"ok": True})
    response = hook.send(text="one too many")
    assert (response.status_code, json.loads(response.body)["error"]) == (404, "used_url")
    messages = slack.messages(CHANNEL)
    assert [m.text for m in messages] == [f"step {i}" for i in range(5)]
    assert all(m.ephemeral_for == USER and m.via == "response_url" for m in messages)
    assert len(slack.calls("response_url")) == 6


def test_a_response_url_expires(slack: SlackStandIn) -> None:
    hook = WebhookClient(slack.new_response_url(CHANNEL, USER, ttl=0.05))
    time.sleep(0.1)
    response = hook.send(text="late")
    assert (response.status_code, json.loads(response.body)["error"]) == (404, "expired_url")


def test_a_response_url_replaces_or_deletes_its_message(slack: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=CHANNEL, text="Fix?", blocks=[_actions(button())])["ts"]
    hook = WebhookClient(slack.new_response_url(CHANNEL, USER, message_ts=ts))
    assert hook.send(text="Fixed", blocks=[section("Fixed")], replace_original=True).status_code == 200
    message = slack.messages(CHANNEL)[0]
    assert (message.ts, message.text, message.blocks, message.replaced) == (
        ts,
        "Fixed",
        [section("Fixed")],
        1,
    )
    assert hook.send(text="for all", response_type="in_channel").status_code == 200
    assert slack.messages(CHANNEL)[1].ephemeral_for is None
    assert hook.send_dict({"delete_original": True}).status_code == 200
    assert slack.messages(CHANNEL)[0].deleted is True


def test_a_response_url_refuses_bad_blocks_without_using_itself(slack: SlackStandIn) -> None:
    hook = WebhookClient(slack.new_response_url(CHANNEL, USER))
    response = hook.send(text="t", blocks=[{"type": "divider"}] * 51)
    assert response.status_code == 400
    assert json.loads(response.body)["error"] == "invalid_blocks"
    assert hook.send(blocks=[]).status_code == 400
    for _ in range(5):
        assert hook.send(text="ok").status_code == 200


# -- rate limits, uploads, recording -----------------------------------------------------------------------


def test_rate_limits_answer_429_and_the_retry_handler_gets_through(slack: SlackStandIn) -> None:
    slack.ratelimit("chat.postMessage", times=1, retry_after=0)
    plain = WebClient(token=slack.bot_token, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as caught:
        plain.chat_postMessage(channel=CHANNEL, text="burst")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "0"
    assert caught.value.response["error"] == "ratelimited"

    slack.ratelimit("chat.postMessage", times=1, retry_after=0)
    patient = WebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert patient.chat_postMessage(channel=CHANNEL, text="eventually")["ok"]
    assert [c.status for c in slack.calls("chat.postMessage")] == [429, 429, 200]
    assert [m.text for m in slack.messages(CHANNEL)] == ["eventually"]


def test_files_upload_v2_end_to_end(slack: SlackStandIn, client: WebClient) -> None:
    content = b"load,amount\nL-1001,850.00\n"
    response = client.files_upload_v2(
        channel=CHANNEL,
        content=content,
        filename="problems.csv",
        title="Problems",
        initial_comment="Today's list",
    )
    file_id = response["file"]["id"]
    assert response["file"]["title"] == "Problems" and response["file"]["size"] == len(content)
    assert slack.file_content(file_id) == content
    message = slack.messages(CHANNEL)[0]
    assert message.text == "Today's list" and [f["id"] for f in message.files] == [file_id]
    assert [c.method for c in slack.calls()] == [
        "files.getUploadURLExternal",
        "file_upload",
        "files.completeUploadExternal",
    ]
    again = error_of(client.files_completeUploadExternal, files=[{"id": file_id, "title": "again"}])
    assert again["error"] == "file_not_found"


def test_calls_are_recorded_in_order_and_reset_forgets_everything(
    slack: SlackStandIn, client: WebClient
) -> None:
    slack.set_scopes(slack.scopes | {"users:read"})
    client.chat_postMessage(channel=CHANNEL, text="a")
    client.users_info(user=USER)
    assert [c.method for c in slack.calls()] == ["chat.postMessage", "users.info"]
    assert slack.last("users.info").args == {"user": USER}
    assert slack.last("chat.postMessage").token == slack.bot_token
    slack.clear()
    assert slack.calls() == [] and len(slack.messages(CHANNEL)) == 1
    slack.ratelimit("*", times=5)
    slack.reset()
    assert slack.messages(CHANNEL) == [] and client.auth_test()["ok"]


def test_concurrent_posts_get_distinct_timestamps(slack: SlackStandIn, client: WebClient) -> None:
    def post(n: int) -> None:
        for i in range(5):
            client.chat_postMessage(channel=CHANNEL, text=f"{n}-{i}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stamps = [m.ts for m in slack.messages(CHANNEL)]
    assert len(stamps) == len(set(stamps)) == 40 == len(slack.calls("chat.postMessage"))
    assert stamps == sorted(stamps, key=float)


def test_subscribers_hear_every_change(slack: SlackStandIn, client: WebClient) -> None:
    events: list[dict[str, Any]] = []
    unsubscribe = slack.subscribe(events.append)
    ts = client.chat_postMessage(channel=CHANNEL, text="a")["ts"]
    client.chat_update(channel=CHANNEL, ts=ts, text="b")
    client.chat_delete(channel=CHANNEL, ts=ts)
    view_id = client.views_open(trigger_id=slack.new_trigger_id(USER), view=modal())["view"]["id"]
    client.views_update(view_id=view_id, view=modal())
    client.views_publish(user_id=USER, view={"type": "home", "blocks": []})
    unsubscribe()
    client.chat_postMessage(channel=CHANNEL, text="unheard")
    assert [e["type"] for e in events] == [
        "message_posted",
        "message_updated",
        "message_deleted",
        "view_opened",
        "view_updated",
        "home_published",
    ]
    assert events[0] == {"type": "message_posted", "channel": CHANNEL, "ts": ts}


def test_start_and_stop_are_quick() -> None:
    began = time.monotonic()
    with SlackStandIn() as standin:
        assert standin.api_url.endswith("/api/") and standin.api_url.startswith(standin.base_url)
        WebClient(token=standin.bot_token, base_url=standin.api_url).auth_test()
    assert time.monotonic() - began < 1.0


# -- requests to an app ------------------------------------------------------------------------------------


def test_signed_headers_pass_slacks_verifier() -> None:
    body = slash_command_body("/qbsync", "problems")
    headers = signed_headers(SECRET, body)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier(SECRET).is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert not SignatureVerifier("other").is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )
    assert signed_headers(SECRET, event_callback_body({"type": "app_home_opened"}))["Content-Type"] == (
        "application/json"
    )


def test_bodies_carry_what_slack_sends() -> None:
    command = parse_qs(slash_command_body("/qbsync", "fix L-1", USER, CHANNEL, "T0001", "http://r", "1.2.3"))
    assert {k: v[0] for k, v in command.items() if k in ("command", "text", "user_id", "trigger_id")} == {
        "command": "/qbsync",
        "text": "fix L-1",
        "user_id": USER,
        "trigger_id": "1.2.3",
    }
    action = json.loads(parse_qs(block_actions_body("retry", "L-1", message_ts="1.000001"))["payload"][0])
    assert action["type"] == "block_actions" and action["actions"][0]["value"] == "L-1"
    assert action["container"] == {
        "type": "message",
        "message_ts": "1.000001",
        "channel_id": "C0001",
        "is_ephemeral": False,
    }
    values = {"b": {"a": {"type": "plain_text_input", "value": "x"}}}
    submission = json.loads(parse_qs(view_submission_body(modal(callback_id="fix"), values))["payload"][0])
    assert submission["view"]["state"]["values"] == values and submission["view"]["callback_id"] == "fix"
    event = json.loads(event_callback_body({"type": "app_home_opened", "user": USER}, "Ev1"))
    assert (event["type"], event["event_id"], event["event"]["user"]) == ("event_callback", "Ev1", USER)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def bolt_url(slack: SlackStandIn) -> Iterator[str]:
    """A real Bolt app served over HTTP, talking to the stand-in."""
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=slack.bot_token, base_url=slack.api_url),
        process_before_response=True,
    )

    @app.command("/qbsync")
    def command(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=modal(callback_id="fix"))
        respond(text=f"Looking at {body['text']}")

    @app.action("retry")
    def retry(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        respond(text=f"Retried {body['actions'][0]['value']}", replace_original=True)

    @app.view("fix")
    def submitted(ack: Ack, view: dict[str, Any]) -> None:
        ack(response_action="update", view=modal([section(view["state"]["values"]["b"]["a"]["value"])]))

    @app.event("app_home_opened")
    def home(event: dict[str, Any], client: WebClient) -> None:
        client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [section("home")]})

    handler = SlackRequestHandler(app)
    server: WSGIServer = make_server("127.0.0.1", 0, handler, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events"
    server.shutdown()
    server.server_close()


def test_a_real_bolt_app_runs_against_the_stand_in(slack: SlackStandIn, bolt_url: str) -> None:
    assert slack.calls("auth.test"), "Bolt verifies its token at construction"

    body = slash_command_body(
        "/qbsync",
        "L-1001",
        USER,
        CHANNEL,
        "T0001",
        slack.new_response_url(CHANNEL, USER),
        slack.new_trigger_id(USER),
    )
    status, _, _ = slack.post_to_app(bolt_url, body, SECRET)
    assert status == 200
    assert slack.views(USER)[0]["callback_id"] == "fix"
    assert [m.text for m in slack.messages(CHANNEL)] == ["Looking at L-1001"]

    ts = WebClient(token=slack.bot_token, base_url=slack.api_url).chat_postMessage(
        channel=CHANNEL, text="Failed"
    )["ts"]
    url = slack.new_response_url(CHANNEL, USER, message_ts=ts)
    status, _, _ = slack.post_to_app(
        bolt_url, block_actions_body("retry", "L-1001", message_ts=ts, response_url=url), SECRET
    )
    assert status == 200
    assert [m.text for m in slack.messages(CHANNEL) if m.ts == ts] == ["Retried L-1001"]

    values = {"b": {"a": {"type": "plain_text_input", "value": "typed"}}}
    status, _, answer = slack.post_to_app(
        bolt_url, view_submission_body(modal(callback_id="fix"), values), SECRET
    )
    assert status == 200 and json.loads(answer)["response_action"] == "update"

    event = event_callback_body({"type": "app_home_opened", "user": USER, "tab": "home"})
    assert slack.post_to_app(bolt_url, event, SECRET)[0] == 200
    assert slack.home(USER)["blocks"] == [section("home")]

    assert slack.post_to_app(bolt_url, event, "wrong-secret")[0] == 401
