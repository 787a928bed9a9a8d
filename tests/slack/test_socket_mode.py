"""``qbsync serve`` in Socket Mode, as a person runs it: a real process whose slack_sdk client asks the
stand-in's ``apps.connections.open`` for a URL, connects to its WebSocket server and acknowledges what
Slack would otherwise POST (commands, clicks, modal submissions, events) within Slack's 3 s, answering
as it does over HTTP. It outlives envelopes it does not understand and Slack's refresh of the
connection, and SIGTERM stops it with exit 0. The ack latencies are printed (``pytest -s``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from emulator.slack import (
    SlackStandIn,
    block_actions_body,
    event_callback_body,
    slash_command_body,
    validate_view,
    view_submission_body,
)
from emulator.slack.socket_mode import ACK_TIMEOUT, Ack, Envelope, Link
from tests.builders import load as a_load
from tests.builders import qb_company, qb_invoices, tms
from tests.slack.conftest import CHANNEL, CLERK, TEAM, action_ids, find_action, text_of, wait_for

QBSYNC = str(Path(sys.executable).with_name("qbsync"))


class Served:
    """``qbsync serve`` in a child process; its output (stdout and stderr) read as it comes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [QBSYNC, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self.link: Link | None = None  # its Socket Mode connection, once open
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self._reader.start()

    @property
    def output(self) -> str:
        return "".join(list(self.lines))

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(5)
        return self.process.returncode


@pytest.fixture
def socket_env(env, slack: SlackStandIn) -> dict[str, str]:
    """What ``qbsync serve`` reads for Socket Mode: no signing secret, no port."""
    values = {
        **os.environ,
        **env,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_API_URL": slack.api_url,
        "QBSYNC_FIXERS": CLERK,
        "QBSYNC_SCHEDULER": "off",
    }
    values.pop("SLACK_SIGNING_SECRET", None)
    return values


@pytest.fixture
def serve(socket_env, slack: SlackStandIn) -> Iterator[Callable[..., Served]]:
    """``serve(**env)``: ``qbsync serve`` started and connected over Socket Mode. Stopped afterwards."""
    started: list[Served] = []

    def start(**changes: str) -> Served:
        earlier = slack.socket_mode.links()
        served = Served({**socket_env, **changes})
        started.append(served)
        try:
            served.link = slack.socket_mode.wait_connected(timeout=20, after=earlier[-1] if earlier else None)
        except AssertionError:
            served.stop()
            raise AssertionError(f"qbsync serve did not connect:\n{served.output}") from None
        return served

    yield start
    for served in started:
        served.stop(signal.SIGKILL)


class Person:
    """What a person does in Slack, delivered to the app as Socket Mode envelopes."""

    def __init__(self, slack: SlackStandIn, user: str = CLERK, channel: str = CHANNEL) -> None:
        self.slack = slack
        self.socket = slack.socket_mode
        self.user = user
        self.channel = channel

    def command(self, text: str) -> Envelope:
        body = slash_command_body(
            "/qbsync",
            text,
            user_id=self.user,
            channel_id=self.channel,
            team_id=TEAM,
            response_url=self.slack.new_response_url(self.channel, self.user),
            trigger_id=self.slack.new_trigger_id(self.user),
        )
        return self.socket.send_request(body)

    def click(self, message, action_id: str) -> Envelope:
        block_id, element = find_action(message.blocks, action_id)
        body = block_actions_body(
            action_id,
            element.get("value"),
            block_id,
            user_id=self.user,
            channel_id=message.channel,
            message_ts=message.ts,
            message_blocks=message.blocks,
            response_url=self.slack.new_response_url(message.channel, self.user, message_ts=message.ts),
            trigger_id=self.slack.new_trigger_id(self.user),
            team_id=TEAM,
        )
        return self.socket.send_request(body)

    def submit(self, view: dict[str, Any], values: dict[str, Any]) -> Envelope:
        return self.socket.send_request(view_submission_body(view, values, user_id=self.user, team_id=TEAM))

    def open_home(self, event_id: str) -> Envelope:
        event = {
            "type": "app_home_opened",
            "user": self.user,
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        return self.socket.send_request(event_callback_body(event, event_id=event_id, team_id=TEAM))

    def acked(self, envelope: Envelope, what: str) -> Ack:
        """The app's ack, its latency printed (Slack's limit is 3 s; not asserted: machines vary)."""
        ack = self.socket.wait_ack(envelope)
        late = "" if ack.in_time else f"  LATE: Slack allows {ACK_TIMEOUT:.0f} s"
        print(f"Socket Mode ack of {what}: {ack.latency * 1000:.0f} ms{late}")
        return ack

    # -- what the bot did -------------------------------------------------------------------------

    def message(self, ts: str):
        return next((m for m in self.slack.messages(self.channel) if m.ts == ts), None)

    def wait_diagnosis(self, number: str, newer_than: str = "0"):
        """The latest diagnosis of ``number`` posted after message ``newer_than``, waiting for it."""

        def header():
            found = [
                m
                for m in self.slack.messages(self.channel)
                if not m.deleted
                and float(m.ts) > float(newer_than)
                and m.blocks
                and m.blocks[0].get("type") == "header"
                and number in text_of(m)
            ]
            return found[-1] if found else None

        return wait_for(header, what=f"the diagnosis of {number}")

    def open_view(self) -> dict[str, Any] | None:
        stack = self.slack.views(self.user)
        return stack[-1] if stack else None


def assert_stopped_cleanly(served: Served, logged: str | None = None) -> None:
    """SIGTERM stops it with exit 0 and no traceback (but those slack_sdk logs after a ``logged`` line)."""
    code = served.stop()
    output = served.output
    assert code == 0, output
    expected = output.count(logged) if logged else 0
    assert output.count("Traceback") == expected, output


def test_apps_connections_open_wants_the_app_level_token(slack):
    def open_with(token: str | None) -> dict[str, Any]:
        client = WebClient(token=token, base_url=slack.api_url)
        try:
            return client.apps_connections_open(app_token=token).data
        except SlackApiError as exc:
            return exc.response.data

    answer = open_with(slack.app_token)
    assert answer["ok"] is True and answer["url"].startswith("ws://127.0.0.1:")
    assert answer["url"] != open_with(slack.app_token)["url"], "each call gives a new URL"
    assert open_with(slack.bot_token)["error"] == "not_allowed_token_type"
    assert open_with("xapp-1-A0APP0001-0000000009-unknown")["error"] == "invalid_auth"
    assert open_with(None)["error"] == "not_authed"
    with pytest.raises(SlackApiError) as refused:
        WebClient(token=slack.app_token, base_url=slack.api_url).auth_test()
    assert refused.value.response["error"] == "not_allowed_token_type"


def test_a_person_uses_the_bot_over_socket_mode(serve, slack, connected, engine, emu):
    qb_company(connected.api)
    tms(engine, [a_load("G-1"), a_load("L-1")])
    tms(
        engine,
        [a_load("L-4", customer="C-200")],
        customers=[{"id": "C-200", "name": "Blue Harbor Imports", "qb_email": "wrong@blueharbor.example"}],
    )
    emu.add_fault("503", count=3, method="POST", path_contains="/invoice")
    connected.sync.sync_load("L-1", trigger="test")  # a transient failure, to retry from Slack
    served = serve()
    [opened] = slack.calls("apps.connections.open")
    assert opened.token == slack.app_token and opened.ok
    link = served.link
    assert link.hello["type"] == "hello" and link.hello["connection_info"]["app_id"]
    person = Person(slack)

    # /qbsync G-1: acked at once, the diagnosis posted as over HTTP
    ack = person.acked(person.command("G-1"), "/qbsync G-1")
    assert ack.link == link.number
    assert "not synced yet" in text_of(person.wait_diagnosis("G-1"))

    # the Retry button of a transient failure
    person.acked(person.command("L-1"), "/qbsync L-1")
    message = person.wait_diagnosis("L-1")
    assert "fix.retry" in action_ids(message.blocks)
    person.acked(person.click(message, "fix.retry"), "the Retry click")
    wait_for(lambda: "*L-1* synced" in text_of(person.message(message.ts)), what="the outcome of Retry")
    assert len(qb_invoices(connected.api, "L-1")) == 1

    # a fix that asks in a modal: the ack of a refused submission carries the modal's errors
    person.acked(person.command("L-4"), "/qbsync L-4")
    message = person.wait_diagnosis("L-4")
    person.acked(person.click(message, "fix.update_customer_email"), "the Update email click")
    view = wait_for(lambda: (v := person.open_view()) and v.get("submit") and v, what="the email modal")
    refused = person.acked(
        person.submit(view, {"email": {"email": {"type": "email_text_input", "value": "not an email"}}}),
        "a refused modal submission",
    )
    assert refused.payload and refused.payload["response_action"] == "errors"
    assert "email" in refused.payload["errors"]
    accepted = person.acked(
        person.submit(
            view, {"email": {"email": {"type": "email_text_input", "value": "ap@blueharbor.example"}}}
        ),
        "a modal submission",
    )
    assert not accepted.payload
    done = "Update QuickBooks email on L-4: done"
    wait_for(lambda: done in text_of(person.message(message.ts)), what="the outcome of the email fix")

    # opening the App Home: an events_api envelope, acked, the Home published
    person.acked(person.open_home("EvSOCKET1"), "app_home_opened")
    home = wait_for(lambda: slack.home(CLERK), what="the Home tab")
    assert home["type"] == "home" and validate_view(home) == []

    assert all(a.link == link.number for a in slack.socket_mode.acks())
    assert_stopped_cleanly(served)


def test_the_app_outlives_bad_envelopes_and_slacks_refresh(serve, slack, connected, engine):
    qb_company(connected.api)
    tms(engine, [a_load("G-1")])
    served = serve()
    socket = slack.socket_mode
    person = Person(slack)
    first = served.link

    # envelopes it does not understand
    socket.send("a_type_from_the_future", {"type": "something_new", "value": 1})
    socket.send_raw("this is not JSON")
    socket.send_raw('{"envelope_id": "E1", "type": "slash_commands", "payload": ')  # cut short
    socket.send_raw("[1, 2, 3]")
    socket.send("slash_commands", {"command": "/qbsync"})  # no user, no channel, no text
    person.acked(person.command("G-1"), "/qbsync G-1 after bad envelopes")
    before = person.wait_diagnosis("G-1")
    assert "not synced yet" in text_of(before)
    assert served.process.poll() is None

    # Slack asks for a new connection: the app opens one, leaves the old one, answers on the new one
    socket.disconnect("refresh_requested")
    second = socket.wait_connected(after=first)
    assert [c.ok for c in slack.calls("apps.connections.open")] == [True, True]
    ack = person.acked(person.command("G-1"), "/qbsync G-1 right after a refresh")
    assert ack.link == second.number
    after = person.wait_diagnosis("G-1", newer_than=before.ts)
    assert "not synced yet" in text_of(after)
    assert socket.wait_closed(first).closed_at is not None
    ack = person.acked(person.command("G-1"), "/qbsync G-1 once the old connection is closed")
    assert ack.link == second.number
    person.wait_diagnosis("G-1", newer_than=after.ts)

    # slack_sdk logs the cut-short envelope with its traceback, and goes on
    assert_stopped_cleanly(served, logged="ERROR bot.bolt: Failed to process a message: Expecting value")
    socket.wait_closed(second, timeout=5)  # the app closed its connection


def test_serve_refuses_an_app_token_slack_refuses(socket_env, slack):
    answer = subprocess.run(
        [QBSYNC, "serve"],
        env={**socket_env, "SLACK_APP_TOKEN": slack.bot_token},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert answer.returncode == 2, answer.stderr
    last = answer.stderr.strip().splitlines()[-1]
    assert last == "qbsync: Slack refused SLACK_APP_TOKEN (not_allowed_token_type)", answer.stderr
    assert "Traceback" not in answer.stderr
    assert not slack.socket_mode.links()
