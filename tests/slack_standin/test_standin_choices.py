"""Menus at Slack's limits in the stand-in: at most 100 options wherever a menu or an options answer
holds them, no empty value or id, ``external_select`` checked, and Slack's ``block_suggestion``
request posted signed to a real Bolt app whose answer is read back and checked."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from emulator.slack import (
    SlackStandIn,
    block_suggestion_body,
    post_to_app,
    validate_blocks,
    validate_options,
    validate_view,
)

CHANNEL = "C0TEST001"
USER = "U0USER001"
SECRET = "signing-secret"


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value}


def opt(value: str, label: str | None = None) -> dict[str, Any]:
    return {"text": text(label or f"Option {value}"), "value": value}


def options(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [opt(str(i)) for i in range(start, start + count)]


def select(kind: str = "static_select", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "action_id": "pick", "placeholder": text("Choose"), **extra}


def actions(*elements: dict[str, Any], block_id: str = "b") -> dict[str, Any]:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def input_block(element: dict[str, Any], block_id: str = "in") -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": text("Pick"), "element": element}


def modal(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "modal", "title": text("Choose"), "submit": text("Go"), "blocks": list(blocks)}


def refused(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return caught.value.response.data


def pointed(errors: list[str], pointer: str) -> bool:
    return any(e.startswith("[ERROR] ") and e.endswith(f"[json-pointer:{pointer}]") for e in errors)


# -- 100 options at most, wherever a menu holds them ---------------------------------------------------


@pytest.mark.parametrize("kind", ["static_select", "multi_static_select"])
def test_a_menu_of_101_options_is_refused_in_a_message_a_modal_and_the_home(
    slack: SlackStandIn, client: WebClient, kind: str
) -> None:
    too_many = select(kind, options=options(101))
    data = refused(client.chat_postMessage, channel=CHANNEL, text="t", blocks=[actions(too_many)])
    assert data["error"] == "invalid_blocks"
    assert pointed(data["response_metadata"]["messages"], "/blocks/0/elements/0/options")
    data = refused(
        client.views_open, trigger_id=slack.new_trigger_id(USER), view=modal(input_block(too_many))
    )
    assert data["error"] == "invalid_arguments"
    assert pointed(data["response_metadata"]["messages"], "/view/blocks/0/element/options")
    home = {"type": "home", "blocks": [actions(too_many)]}
    data = refused(client.views_publish, user_id=USER, view=home)
    assert data["error"] == "invalid_arguments"
    assert slack.messages(CHANNEL) == [] and slack.views() == {}
    assert client.chat_postMessage(
        channel=CHANNEL, text="t", blocks=[actions(select(kind, options=options(100)))]
    )["ok"]


def test_option_groups_hold_100_options_in_all() -> None:
    two_halves = select(
        option_groups=[
            {"label": text("Likely"), "options": options(50)},
            {"label": text("Others"), "options": options(50, 50)},
        ]
    )
    assert validate_blocks([actions(two_halves)]) == []
    over = select(
        option_groups=[
            {"label": text("Likely"), "options": options(2)},
            {"label": text("Others"), "options": options(100, 2)},
        ]
    )
    errors = validate_blocks([actions(over)])
    assert pointed(errors, "/blocks/0/elements/0/option_groups"), errors


def test_a_menu_has_options_or_option_groups_not_both() -> None:
    both = select(options=options(1), option_groups=[{"label": text("G"), "options": options(1)}])
    assert pointed(validate_blocks([actions(both)]), "/blocks/0/elements/0")


def test_an_initial_option_must_be_one_of_the_options() -> None:
    assert validate_blocks([actions(select(options=options(3), initial_option=opt("2")))]) == []
    stray = select(options=options(3), initial_option=opt("7"))
    assert pointed(validate_blocks([actions(stray)]), "/blocks/0/elements/0/initial_option")


# -- no empty value or id ----------------------------------------------------------------------------------

EMPTY: list[tuple[str, list[dict[str, Any]], str]] = [
    (
        "button value",
        [actions({"type": "button", "action_id": "go", "text": text("Go"), "value": ""})],
        "/blocks/0/elements/0/value",
    ),
    ("option value", [actions(select(options=[opt("")]))], "/blocks/0/elements/0/options/0/value"),
    (
        "action_id",
        [actions({"type": "button", "action_id": "", "text": text("Go")})],
        "/blocks/0/elements/0/action_id",
    ),
    ("block_id", [{"type": "divider", "block_id": ""}], "/blocks/0/block_id"),
    (
        "duplicate action_id",
        [actions(select(options=options(1)), select(options=options(1)))],
        "/blocks/0/elements/1/action_id",
    ),
    (
        "duplicate block_id",
        [{"type": "divider", "block_id": "d"}, {"type": "divider", "block_id": "d"}],
        "/blocks/1/block_id",
    ),
]


@pytest.mark.parametrize(("blocks", "pointer"), [c[1:] for c in EMPTY], ids=[c[0] for c in EMPTY])
def test_empty_values_and_ids_are_refused(
    slack: SlackStandIn, client: WebClient, blocks: list[dict[str, Any]], pointer: str
) -> None:
    errors = validate_blocks(blocks)
    assert pointed(errors, pointer), errors
    data = refused(client.chat_postMessage, channel=CHANNEL, text="t", blocks=blocks)
    assert data["error"] == "invalid_blocks" and data["response_metadata"]["messages"] == errors
    assert slack.messages(CHANNEL) == []


# -- external_select -----------------------------------------------------------------------------------


def test_an_external_select_is_accepted_with_its_fields(slack: SlackStandIn, client: WebClient) -> None:
    picker = select("external_select", min_query_length=0, initial_option=opt("42", "Golden Gate Grocers"))
    view = client.views_open(trigger_id=slack.new_trigger_id(USER), view=modal(input_block(picker)))["view"]
    assert view["blocks"][0]["element"]["type"] == "external_select"
    assert validate_blocks([actions(select("multi_external_select", min_query_length=3))]) == []


EXTERNAL: list[tuple[str, dict[str, Any], str]] = [
    ("no action_id", {"type": "external_select", "placeholder": text("Choose")}, "/blocks/0/elements/0"),
    ("empty action_id", select("external_select", action_id=""), "/blocks/0/elements/0/action_id"),
    (
        "min_query_length text",
        select("external_select", min_query_length="3"),
        "/blocks/0/elements/0/min_query_length",
    ),
    (
        "min_query_length negative",
        select("external_select", min_query_length=-1),
        "/blocks/0/elements/0/min_query_length",
    ),
    ("options of its own", select("external_select", options=options(1)), "/blocks/0/elements/0/options"),
    (
        "initial_option without value",
        select("external_select", initial_option={"text": text("x")}),
        "/blocks/0/elements/0/initial_option",
    ),
    (
        "initial_option empty value",
        select("external_select", initial_option=opt("")),
        "/blocks/0/elements/0/initial_option/value",
    ),
    (
        "initial_option text 76",
        select("external_select", initial_option=opt("1", "x" * 76)),
        "/blocks/0/elements/0/initial_option/text/text",
    ),
]


@pytest.mark.parametrize(("element", "pointer"), [c[1:] for c in EXTERNAL], ids=[c[0] for c in EXTERNAL])
def test_an_external_select_is_checked(element: dict[str, Any], pointer: str) -> None:
    errors = validate_blocks([actions(element)])
    assert pointed(errors, pointer), errors
    assert validate_view(modal(input_block(element)))


# -- the options request ---------------------------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def app_url(slack: SlackStandIn) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real Bolt app answering options requests: ``count`` names, filtered by the typed text."""
    seen: list[dict[str, Any]] = []
    app = App(signing_secret=SECRET, client=WebClient(token=slack.bot_token, base_url=slack.api_url))

    @app.options("pick")
    def pick(ack: Ack, body: dict[str, Any]) -> None:
        seen.append(body)
        typed = body.get("value") or ""
        count = int(typed) if typed.isdigit() else 3
        found = [opt(str(i), f"Customer {i}") for i in range(count)]
        ack(
            option_groups=[
                {"label": text("Likely"), "options": found[:1]},
                {"label": text("Others"), "options": found[1:]},
            ]
        )

    server = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events", seen
    server.shutdown()
    server.server_close()


def test_a_block_suggestion_is_posted_signed_and_its_answer_read(
    slack: SlackStandIn, client: WebClient, app_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, seen = app_url
    view = client.views_open(
        trigger_id=slack.new_trigger_id(USER),
        view={**modal(input_block(select("external_select", min_query_length=0))), "private_metadata": "L-1"},
    )["view"]
    body = block_suggestion_body("pick", "", block_id="in", view=view, user_id=USER)
    status, _headers, answer = post_to_app(url, body, SECRET)
    assert status == 200
    data = json.loads(answer)
    assert validate_options(data) == []
    assert [g["label"]["text"] for g in data["option_groups"]] == ["Likely", "Others"]
    [request] = seen
    assert request["type"] == "block_suggestion" and request["action_id"] == "pick"
    assert request["block_id"] == "in" and request["value"] == ""
    assert request["view"]["id"] == view["id"] and request["view"]["private_metadata"] == "L-1"
    assert request["container"] == {"type": "view", "view_id": view["id"]}
    assert request["user"]["id"] == USER

    status, _headers, answer = post_to_app(url, block_suggestion_body("pick", "101", view=view), SECRET)
    errors = validate_options(json.loads(answer))
    assert pointed(errors, "/option_groups"), "an answer of 101 options is one Slack refuses"
    status, _headers, _answer = post_to_app(url, block_suggestion_body("pick", "x"), "not-the-secret")
    assert status == 401, "signed as Slack signs it, or refused"


ANSWERS: list[tuple[str, dict[str, Any], str]] = [
    ("101 options", {"options": options(101)}, "/options"),
    ("option text 76", {"options": [opt("1", "x" * 76)]}, "/options/0/text/text"),
    ("option value 151", {"options": [opt("v" * 151)]}, "/options/0/value"),
    ("empty value", {"options": [opt("")]}, "/options/0/value"),
    (
        "mrkdwn option",
        {"options": [{"text": {"type": "mrkdwn", "text": "*x*"}, "value": "1"}]},
        "/options/0/text/type",
    ),
    (
        "group label 76",
        {"option_groups": [{"label": text("x" * 76), "options": options(1)}]},
        "/option_groups/0/label/text",
    ),
    ("both", {"options": options(1), "option_groups": [{"label": text("G"), "options": options(1)}]}, ""),
    ("neither", {}, ""),
]


@pytest.mark.parametrize(("answer", "pointer"), [c[1:] for c in ANSWERS], ids=[c[0] for c in ANSWERS])
def test_an_options_answer_is_checked(answer: dict[str, Any], pointer: str) -> None:
    errors = validate_options(answer)
    assert pointed(errors, pointer), errors


def test_an_options_answer_at_the_limits_is_accepted() -> None:
    assert validate_options({"options": [opt("v" * 150, "t" * 75) for _ in range(100)]}) == []
    assert validate_options({"options": []}) == [], "no match: an empty list"
