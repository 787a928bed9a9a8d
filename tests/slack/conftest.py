"""The real Bolt app, served over HTTP on 127.0.0.1, talking to the Slack stand-in and (through qbsync's
services) to the QuickBooks emulator. Requests are signed as Slack signs them."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from werkzeug.serving import make_server

from emulator.slack import (
    SlackStandIn,
    block_actions_body,
    post_to_app,
    slash_command_body,
    view_submission_body,
)
from tests.waiting import wait_for  # noqa: F401 (the tests import it from here)

SECRET = "qbsync-test-signing-secret"
TEAM = "T0001"
CHANNEL = "C0BILLING1"
CLERK = "U0CLERK01"
ADMIN = "U0ADMIN01"
OUTSIDER = "U0OUTSIDE1"


@pytest.fixture(scope="session")
def slack_server() -> Iterator[SlackStandIn]:
    with SlackStandIn(port=0, team_id=TEAM) as server:
        yield server


@pytest.fixture
def slack(slack_server: SlackStandIn) -> SlackStandIn:
    slack_server.reset()
    return slack_server


class Bot:
    """A running app at ``url`` and a way to act in Slack as a person would."""

    def __init__(self, slack: SlackStandIn, url: str, app, services) -> None:
        self.slack = slack
        self.url = url
        self.app = app
        self.services = services

    # -- what a person does ---------------------------------------------------------------------

    def command(self, text: str, user: str = CLERK, channel: str = CHANNEL) -> tuple[int, Any]:
        response_url = self.slack.new_response_url(channel, user)
        body = slash_command_body(
            "/qbsync",
            text,
            user_id=user,
            channel_id=channel,
            team_id=TEAM,
            response_url=response_url,
            trigger_id=self.slack.new_trigger_id(user),
        )
        status, _headers, answer = post_to_app(f"{self.url}/slack/events", body, SECRET)
        return status, answer

    def click(self, message, action_id: str, user: str = CLERK, value: str | None = None) -> int:
        block_id, element = find_action(message.blocks, action_id)
        body = block_actions_body(
            action_id,
            value if value is not None else element.get("value"),
            block_id,
            user_id=user,
            channel_id=message.channel,
            message_ts=message.ts,
            message_blocks=message.blocks,
            response_url=self.slack.new_response_url(message.channel, user, message_ts=message.ts),
            trigger_id=self.slack.new_trigger_id(user),
            team_id=TEAM,
            is_ephemeral=message.ephemeral_for is not None,
        )
        status, _headers, _answer = post_to_app(f"{self.url}/slack/events", body, SECRET)
        return status

    def submit(self, view: dict[str, Any], values: dict[str, Any], user: str = CLERK) -> tuple[int, Any]:
        body = view_submission_body(view, values, user_id=user, team_id=TEAM)
        status, _headers, answer = post_to_app(f"{self.url}/slack/events", body, SECRET)
        if isinstance(answer, bytes):
            answer = answer.decode()
        return status, (json.loads(answer) if answer else None)

    # -- what the bot did -----------------------------------------------------------------------

    def messages(self, channel: str = CHANNEL) -> list:
        return [m for m in self.slack.messages(channel) if not m.deleted]

    def last_message(self, predicate: Callable[[Any], bool] = lambda m: True, channel: str = CHANNEL):
        found = [m for m in self.messages(channel) if predicate(m)]
        return found[-1] if found else None

    def wait_message(self, contains: str, *, channel: str = CHANNEL, timeout: float = 15.0):
        return wait_for(
            lambda: self.last_message(lambda m: contains in text_of(m), channel), timeout, contains
        )

    def open_view(self, user: str = CLERK) -> dict[str, Any] | None:
        stack = self.slack.views(user)
        return stack[-1] if stack else None


def words_in(blocks: Any) -> str:
    """Everything a person reads in blocks (their text objects), joined by lines."""
    found = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
                found.append(value["text"])
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(blocks)
    return "\n".join(found)


def text_of(message) -> str:
    """Everything a person reads in a message: its text and every text in its blocks."""
    return "\n".join([message.text or "", words_in(message.blocks)])


def find_action(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    for block in blocks:
        elements = block.get("elements") if block.get("type") == "actions" else [block.get("accessory")]
        for element in elements or []:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id", ""), element
    raise AssertionError(f"no button {action_id!r}; buttons: {action_ids(blocks)}")


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        elements = block.get("elements") if block.get("type") == "actions" else [block.get("accessory")]
        found += [e["action_id"] for e in elements or [] if isinstance(e, dict) and e.get("action_id")]
    return found


@pytest.fixture
def make_bot(slack: SlackStandIn, settings, engine) -> Iterator[Callable[..., Bot]]:
    """``make_bot(services, fixers=..., admins=...)``: the app over HTTP for those services."""
    servers = []

    def build(services, *, fixers: tuple[str, ...] | None = None, admins: tuple[str, ...] = (ADMIN,)) -> Bot:
        from web.app import create_web_app
        from wiring.slack import create_app

        bot_settings = services.settings.model_copy(
            update={
                "slack_bot_token": SecretStr(slack.bot_token),
                "slack_signing_secret": SecretStr(SECRET),
                "slack_api_url": slack.api_url,
                "fixers": fixers,
                "admins": admins,
            }
        )
        app = create_app(bot_settings, services)
        server = make_server("127.0.0.1", 0, create_web_app(app, services), threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append(server)
        return Bot(slack, f"http://127.0.0.1:{server.server_port}", app, services)

    yield build
    from services.background import wait_for_work

    # work handed over by this test's requests answers this test, not the next one
    assert wait_for_work(timeout=30), "work from the test's requests was still running after 30 s"
    for server in servers:
        server.shutdown()


@pytest.fixture
def bot(make_bot, connected) -> Bot:
    return make_bot(connected)


class Web:
    """``qbsync serve``'s WSGI app on 127.0.0.1 with its own settings (the callback at its own port)."""

    def __init__(self, url: str, services, app) -> None:
        self.url = url
        self.services = services
        self.app = app


@pytest.fixture
def make_web(slack: SlackStandIn, settings, engine) -> Iterator[Callable[..., Web]]:
    """``make_web(**settings)``: the whole web app (Slack, /qbo/*, /tms/events) over HTTP, with
    ``QBO_REDIRECT_URI`` at its own ``/qbo/callback`` and the given settings changed."""
    servers = []

    def build(*, admins: tuple[str, ...] = (ADMIN,), **changes: Any) -> Web:
        from services.quickbooks import RetryPolicy
        from web.app import create_web_app
        from wiring.services import bootstrap
        from wiring.slack import create_app

        holder: dict[str, Any] = {}
        server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start), threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        web_settings = settings.model_copy(
            update={
                "qbo_redirect_uri": f"{url}/qbo/callback",
                "slack_bot_token": SecretStr(slack.bot_token),
                "slack_signing_secret": SecretStr(SECRET),
                "slack_api_url": slack.api_url,
                "admins": admins,
                **changes,
            }
        )
        services = bootstrap(
            web_settings, engine=engine, retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
        )
        app = create_app(web_settings, services)
        holder["app"] = create_web_app(app, services)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append(server)
        return Web(url, services, app)

    yield build
    from services.background import wait_for_work

    assert wait_for_work(timeout=30), "work from the test's requests was still running after 30 s"
    for server in servers:
        server.shutdown()


@pytest.fixture
def qbsync_logs(caplog):
    """Logging as qbsync configures it at ``QBSYNC_LOG_LEVEL=DEBUG`` (``services.logsafe``), captured:
    ``qbsync_logs.records`` are the lines qbsync would write. Restored afterwards."""
    import logging

    from services import logsafe

    chatty = {name: logging.getLogger(name).level for name in logsafe.CHATTY_LOGGERS}
    caplog.set_level(logging.DEBUG)
    logsafe.configure_logging("DEBUG")
    yield caplog
    for name, level in chatty.items():
        logging.getLogger(name).setLevel(level)
    for handler in logging.getLogger().handlers:
        for found in [f for f in handler.filters if isinstance(f, logsafe.RedactSecrets)]:
            handler.removeFilter(found)
