"""One process: the QuickBooks emulator with the demo company in its problem state (every reason
present, none fixed; a temporary SQLite file), the Slack stand-in, the real Bolt app (``create_app``,
the same as ``qbsync serve``) at ``/slack/events``, and the page, all on 127.0.0.1. This module starts
and stops them, and puts the app and the page on one server.

What a person does on the page becomes what Slack sends (:mod:`playground.person`): a signed slash
command, block_actions, view_submission or app_home_opened request to the app's ``/slack/events``. What
the app sends to Slack lands in the stand-in, which the page shows (:mod:`playground.screen`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import threading
from typing import Any

from werkzeug.serving import make_server

from emulator.slack import SlackStandIn
from playground.app_link import AppLink
from playground.person import Person
from playground.safety import check_host, check_settings, playground_settings
from playground.screen import Screen
from playground.web import page_blueprint
from playground.workspace import CHANNEL, CHANNEL_NAME, TEAM, TEAM_DOMAIN, TEAM_NAME, USER, USER_NAME
from services.errors import ConfigurationError


class Playground:
    """Start with :meth:`start` (or ``with``); :attr:`url` is the page, :attr:`screen` what it shows and
    :attr:`person` who acts on it. :meth:`stop` ends everything."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", today: dt.date | None = None) -> None:
        check_host(host)
        self.channel, self.user = CHANNEL, USER
        self.host, self.port, self.today = host, port, today
        self.url = ""
        self.stopping = threading.Event()
        self._stack = contextlib.ExitStack()

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> Playground:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start(self) -> None:
        # imported here, not at the top, to keep start-up fast: these take a second or two to load,
        # and ``qbsync playground`` (which imports this module) says what it is doing before that
        from bot.app import web_client
        from demo.environment import demo_environment
        from demo.walkthrough import stage_problems
        from web.app import create_web_app
        from wiring.slack import create_app

        werkzeug = logging.getLogger("werkzeug")  # one line per request only when asked for (INFO)
        if werkzeug.level == logging.NOTSET:
            werkzeug.setLevel(max(logging.getLogger().getEffectiveLevel(), logging.WARNING))
        env = self._stack.enter_context(demo_environment())
        self.env = env
        slack = SlackStandIn(port=0, bot_token=f"xoxb-playground-{secrets.token_hex(8)}", team_id=TEAM)
        slack.settings.team_name = TEAM_NAME
        slack.settings.team_domain = TEAM_DOMAIN
        self.slack = self._stack.enter_context(slack)
        slack.add_user(USER, real_name=USER_NAME, tz="America/Los_Angeles")
        slack.add_channel(CHANNEL, name=CHANNEL_NAME)
        holder: dict[str, Any] = {}  # the page's app, made once the port (its own address) is known
        try:
            self._server = make_server(
                self.host, self.port, lambda environ, start: holder["web"](environ, start), threaded=True
            )
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {self.host}:{self.port} ({exc.strerror}); try another --port"
            ) from None
        self._stack.callback(self._server.server_close)
        self.port = self._server.server_port
        self.url = f"http://{self.host}:{self.port}/"
        self.settings = playground_settings(  # Connect QuickBooks leads to this server's /qbo/connect
            env.settings,
            slack_api_url=slack.api_url,
            bot_token=slack.bot_token,
            user=USER,
            channel=CHANNEL,
            public_url=self.url.rstrip("/"),
        )
        check_settings(self.settings, emulator_url=env.emulator.url, slack_api_url=slack.api_url)
        env.services.settings = self.settings
        self.story = stage_problems(env, today=self.today)
        self.client = web_client(self.settings)
        self.app = create_app(self.settings, env.services)
        link = AppLink(self.events_url, self.secret)
        self.screen = Screen(slack, link, self.stopping)
        self.person = Person(slack, link, self.screen, env.services, self.client)
        web = create_web_app(self.app, env.services)
        web.register_blueprint(page_blueprint(self.screen, self.person))
        holder["web"] = web
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        self._stack.callback(self._stop_server)
        self._stack.callback(self.stopping.set)
        self._stack.callback(slack.subscribe(lambda _event: self.screen.touch()))

    def _stop_server(self) -> None:
        self.screen.wake()
        self._server.shutdown()
        self._thread.join(timeout=5)

    def stop(self) -> None:
        self.stopping.set()
        self._stack.close()

    def __enter__(self) -> Playground:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def secret(self) -> str:
        return self.settings.slack_signing_secret.get_secret_value()

    @property
    def events_url(self) -> str:
        return f"{self.url}slack/events"
