"""The shape check of a verified Slack request (``bot.shape``): Slack's own payloads of every kind
pass; strict types; the cases Slack sends that look odd still pass; a refusal says where and what,
never a value of the payload."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.shape import problem, well_formed
from emulator.slack import app_requests as slack

USER, TEAM, CHANNEL = "U0CLERK01", "T0TEAM001", "C0CHAN001"
VIEW = {
    "id": "V0001",
    "type": "modal",
    "callback_id": "qbsync.choice",
    "private_metadata": "{}",
    "team_id": TEAM,
    "bot_id": "B0BOT0001",
    "state": {
        "values": {
            "b1": {"a1": {"type": "plain_text_input", "value": "x"}},
            "b2": {"a2": {"type": "static_select", "selected_option": {"value": "v"}}},
            "b3": {"a3": {"type": "multi_static_select", "selected_options": [{"value": "v"}]}},
        }
    },
}


def form(raw: str) -> dict[str, Any]:
    pairs = dict(parse_qsl(raw, keep_blank_values=True))
    return json.loads(pairs["payload"]) if "payload" in pairs else pairs


def click() -> dict[str, Any]:
    return form(slack.block_actions_body("fix.retry", "X-1", user_id=USER, channel_id=CHANNEL, team_id=TEAM))


def submission() -> dict[str, Any]:
    return form(slack.view_submission_body(copy.deepcopy(VIEW), VIEW["state"]["values"], user_id=USER))


def home() -> dict[str, Any]:
    return json.loads(slack.event_callback_body({"type": "app_home_opened", "user": USER, "tab": "home"}))


def with_(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of ``body`` with ``path`` set to ``value`` (removed when ``...``)."""
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


def closed() -> dict[str, Any]:
    body = with_(submission(), ("type",), "view_closed")
    body.pop("trigger_id")
    return {**body, "is_cleared": True}


SLACKS_OWN = {
    "slash command": lambda: form(slack.slash_command_body("/qbsync", "status", USER, CHANNEL, TEAM)),
    "click": click,
    "click in a view": lambda: form(slack.block_actions_body("a", view={"id": "V1", "type": "home"})),
    "submission": submission,
    "view closed": closed,
    "options request": lambda: {
        "type": "block_suggestion",
        "user": {"id": USER, "team_id": TEAM},
        "team": {"id": TEAM},
        "action_id": "customer",
        "value": "",
        "view": copy.deepcopy(VIEW),
    },
    "app home": home,
    "uninstalled": lambda: json.loads(slack.app_uninstalled_body()),
    "tokens revoked": lambda: json.loads(slack.tokens_revoked_body(["U0BOT0001"], [USER])),
    "url verification": lambda: {"token": "t", "challenge": "abc", "type": "url_verification"},
    "ssl check": lambda: {"ssl_check": "1", "token": "t"},
}


@pytest.mark.parametrize("kind", sorted(SLACKS_OWN))
def test_slacks_own_payloads_pass(kind):
    assert problem(SLACKS_OWN[kind]()) is None


@pytest.mark.parametrize(
    "body",
    [
        with_(click(), ("team",), None),  # an org-wide install names no team
        with_(with_(click(), ("enterprise",), {"id": "E0ORG0001"}), ("team",), ...),
        with_(click(), ("enterprise",), "E0ORG0001"),
        with_(click(), ("channel",), {}),  # an empty object stands for none
        with_(click(), ("view",), {}),
        with_(click(), ("actions",), [{"action_id": "a"}] * 25),
        with_(click(), ("actions", 0, "action_id"), "\ud800"),  # JSON can carry a lone surrogate
        with_(click(), ("\ud800",), 1),  # a field Slack added, under any name
        with_(home(), ("event", "view"), {}),
        with_(home(), ("event_time",), 10**30),
        json.loads(slack.app_uninstalled_body(team_id=None, enterprise_id="E0ORG0001")),  # an org-wide one
        json.loads(slack.tokens_revoked_body(["W0BOTORG1"], team_id=None, enterprise_id="E0ORG0001")),
        with_(submission(), ("view", "callback_id"), ""),
        {**SLACKS_OWN["slash command"](), "enterprise_id": ""},
        {"type": "url_verification", "challenge": "a" * 255},
    ],
)
def test_what_slack_may_send_passes(body):
    assert problem(body) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "the body: payload_kind"),
        ({}, "the body: payload_kind"),
        ({"type": "shortcut"}, "the body: payload_kind"),
        ({"type": None, "command": "/qbsync"}, "the body: payload_kind"),
        (with_(click(), ("user", "id"), "u0clerk01"), "block_actions.user.id: string_pattern_mismatch"),
        (with_(click(), ("user", "id"), True), "block_actions.user.id: string_type"),
        (with_(click(), ("user_id",), None), "block_actions.user_id: string_type"),
        (with_(click(), ("team",), {}), "block_actions.team.id: missing"),
        (with_(click(), ("actions", 0, "value"), 5), "block_actions.actions[0].value: string_type"),
        (with_(click(), ("actions",), [{"action_id": "a"}] * 26), "block_actions.actions: too_long"),
        (
            with_(click(), ("actions", 0, "action_id"), ""),
            "block_actions.actions[0].action_id: string_too_short",
        ),
        (with_(click(), ("trigger_id",), "1 2"), "block_actions.trigger_id: string_pattern_mismatch"),
        (with_(click(), ("enterprise",), 5), "block_actions.enterprise.as_id: string_type"),
        (with_(submission(), ("is_cleared",), 1), "view_submission.is_cleared: bool_type"),
        (with_(submission(), ("view", "callback_id"), None), "view_submission.view.callback_id: string_type"),
        (with_(closed(), ("view",), {}), "view_closed.view.type: missing"),
        (with_(home(), ("event_time",), True), "event_callback.event_time: int_type"),
        (with_(json.loads(slack.app_uninstalled_body()), ("team_id",), None), "event_callback: no_team"),
        (with_(home(), ("event_time",), 1.0), "event_callback.event_time: int_type"),
        (with_(home(), ("event", "type"), "app_home_closed"), "event_callback.event: union_tag_invalid"),
        (
            with_(home(), ("event", "user"), {"id": USER}),
            "event_callback.event.app_home_opened.user: string_type",
        ),
        ({"type": "url_verification", "challenge": "a" * 256}, "url_verification.challenge: string_too_long"),
        ({"ssl_check": 1}, "ssl_check.ssl_check: string_type"),
    ],
)
def test_a_refusal_says_where_and_what(body, reason):
    assert problem(body) == reason
    assert not well_formed(body)


def test_a_refusal_never_repeats_the_payload():
    secret = "XOXB-SECRET"
    values = {secret: {secret.lower(): {"value": 5}}}
    body = with_(submission(), ("view", "state", "values"), values)
    assert problem(body) == "view_submission.view.state.values.*.*.value: string_type"
    for path in [("user", "id"), ("trigger_id",), ("view", "type"), ("response_urls",)]:
        why = problem(with_(submission(), path, [secret]))
        assert why and secret not in why and secret.lower() not in why, why
