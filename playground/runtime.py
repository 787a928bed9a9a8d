"""One process: the QuickBooks emulator with the demo company in its problem state (every reason
present, none fixed; a temporary SQLite file), the Slack stand-in, the real Bolt app (``create_app``,
the same as ``qbsync serve``) at ``/slack/events``, and the page, all on 127.0.0.1. This module starts
and stops them, and puts the app and the page on one server.

What a person does on the page becomes what Slack sends (:mod:`playground.person`): a signed slash
command, block_actions, view_submission or app_home_opened request to the app's ``/slack/events``. What
the app sends to Slack lands in the stand-in, which the page shows (:mod:`playground.screen`).

With two workspaces the app runs in distribution mode ("Add to Slack"), and the page shows both side by
side, each in its own pane (:mod:`playground.pane`): each request is sent as its workspace's, each
workspace has its own storage, QuickBooks company and TMS data (:mod:`playground.distribution`,
:mod:`playground.bayside`).
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
from playground.pane import Pane
from playground.person import Person
from playground.safety import check_host, check_settings, playground_settings
from playground.screen import Screen
from playground.web import page_blueprint
from playground.workspace import (
    CHANNEL,
    HARBOR,
    SEATS,
    TEAM,
    TEAM_DOMAIN,
    TEAM_NAME,
    USER,
    Seat,
)
from services.errors import ConfigurationError

STAND_IN_TEAM = "T0STANDIN"  # the stand-in's own default workspace with two: not on the page, never used


class Playground:
    """Start with :meth:`start` (or ``with``); :attr:`url` is the page, :attr:`panes` the workspaces it
    shows (:attr:`screen` and :attr:`person` the first one's: what it shows, who acts on it). :meth:`stop`
    ends everything.

    ``workspaces=1``: Harbor Line Drayage, the one workspace of a single-workspace deployment.
    ``workspaces=2``: the app in distribution mode, Harbor Line Drayage and Bayside Drayage side by side,
    each installed with "Add to Slack", connected to its own QuickBooks company and fed by its own TMS
    (:meth:`services_of` gives a workspace's own services)."""

    def __init__(
        self, port: int = 0, host: str = "127.0.0.1", today: dt.date | None = None, workspaces: int = 1
    ) -> None:
        check_host(host)
        if workspaces not in (1, 2):
            raise ConfigurationError("the playground shows one workspace or two")
        self.workspaces = workspaces
        self.seats: tuple[Seat, ...] = SEATS[:workspaces]  # Harbor Line Drayage first
        self.channel, self.user = CHANNEL, USER
        self.host, self.port, self.today = host, port, today
        self.url = ""
        self.panes: list[Pane] = []
        self.stopping = threading.Event()
        self._stack = contextlib.ExitStack()

    @property
    def distribution(self) -> bool:
        return self.workspaces > 1

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
        token = f"xoxb-playground-{secrets.token_hex(8)}"
        slack = SlackStandIn(port=0, bot_token=token, team_id=STAND_IN_TEAM if self.distribution else TEAM)
        if not self.distribution:
            slack.settings.team_name = TEAM_NAME
            slack.settings.team_domain = TEAM_DOMAIN
        self.slack = self._stack.enter_context(slack)
        teams = {}
        for seat in self.seats:
            if self.distribution:  # the app is not there yet: the playground installs it below
                team = slack.add_team(
                    seat.team, name=seat.team_name, domain=seat.team_domain, installed=False
                )
            else:
                team = slack.team()
            team.add_user(seat.user, real_name=seat.user_name, tz=seat.tz)
            team.add_channel(seat.channel, name=seat.channel_name)
            teams[seat.team] = team
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
        oauth = (slack.client_id, slack.client_secret, slack.authorize_url) if self.distribution else None
        self.settings = playground_settings(  # Connect QuickBooks leads to this server's /qbo/connect
            env.settings,
            slack_api_url=slack.api_url,
            bot_token=None if self.distribution else slack.bot_token,
            user=USER,
            channel=CHANNEL,
            public_url=self.url.rstrip("/"),
            oauth=oauth,
        )
        check_settings(self.settings, emulator_url=env.emulator.url, slack_api_url=slack.api_url)
        env.services.settings = self.settings
        if not self.distribution:
            self.story = stage_problems(env, today=self.today)
            self.client = web_client(self.settings)
        self.app = create_app(self.settings, env.services)
        link = AppLink(self.events_url, self.secret)
        self.panes = [self._pane(seat, teams[seat.team], link) for seat in self.seats]
        self.screen, self.person = self.panes[0].screen, self.panes[0].person
        web = create_web_app(self.app, env.services)
        web.register_blueprint(page_blueprint(self.panes, self._suggestions))
        if self.distribution:
            from playground import bayside
            from playground.distribution import choose_company

            self.realms = {HARBOR.team: env.emulator.realm_id, self.seats[1].team: bayside.REALM_ID}
            choose_company(web, env.emulator.url, self.realms)
        holder["web"] = web
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        self._stack.callback(self._stop_server)
        self._stack.callback(self.stopping.set)
        if self.distribution:
            self._set_up_workspaces()
        for pane in self.panes:
            self._stack.callback(pane.slack.subscribe(lambda _event, screen=pane.screen: screen.touch()))

    def _suggestions(self) -> list[str]:
        """What the page offers to type in both workspaces (the load number is this month's)."""
        story = getattr(self, "story", None)
        if not self.distribution or story is None:
            return []
        return [f"/qbsync {story.sample.number(412)}", "/qbsync problems"]

    def _pane(self, seat: Seat, team: Any, link: AppLink) -> Pane:
        screen = Screen(team, link, self.stopping, seat)
        person = Person(team, link, screen, lambda: self._post_digest(seat))
        return Pane(seat, team, screen, person)

    def _post_digest(self, seat: Seat) -> str:
        """Today's digest of ``seat``'s workspace, posted to its channel through the app's Slack client."""
        # imported here, not at the top, to keep start-up fast: the digest brings in much of the app and
        # the database (over a second)
        from playground.digest import post_digest

        if not self.distribution:
            said = post_digest(self.env.services, self.client, CHANNEL)
        else:
            from wiring.slack import workspace_client

            scoped = self.env.services.workspace_of(seat.team)
            client = workspace_client(scoped) if scoped is not None else None
            if client is None:
                return f"qbsync is not installed in {seat.team_name}: no digest was posted."
            said = post_digest(scoped, client, seat.channel)
        return said.replace(seat.channel, f"#{seat.channel_name}")  # the channel as people know it

    def _set_up_workspaces(self) -> None:
        """Each workspace as a company would set it up: "Add to Slack", its own QuickBooks company, its
        own TMS data. Harbor Line Drayage gets the demo's week (every reason present, none fixed) in its
        own storage; Bayside Drayage the same load numbers, other customers and amounts, by TMS event."""
        from demo.environment import DemoEnvironment
        from demo.walkthrough import stage_problems
        from playground import bayside
        from playground.distribution import connect, install, send_tms, wait_synced

        env, services = self.env, self.env.services
        for seat in self.seats:
            install(self.url, self.slack.authorize_url, seat)
            services.registry.update_settings(seat.team, digest_channel=seat.channel)
        harbor = services.workspace_of(HARBOR.team)
        self.story = stage_problems(
            DemoEnvironment(env.folder, env.emulator, harbor.settings, harbor), today=self.today
        )
        services.registry.claim_realm(HARBOR.team, self.realms[HARBOR.team])  # the demo's clerk connected it
        second = self.seats[1]
        env.emulator.seed(bayside.quickbooks_company())
        connect(self.url, services.workspace_of(second.team), second, self.realms[second.team])
        send_tms(self.url, services.registry, second, bayside.tms_event(self.story.today))
        wait_synced(services.workspace_of(second.team).engine, second)  # before the page opens

    def services_of(self, team: str) -> Any:
        """The services of workspace ``team`` (its own storage); the deployment's with one workspace."""
        if not self.distribution:
            return self.env.services
        scoped = self.env.services.workspace_of(team)
        if scoped is None:
            raise KeyError(team)
        return scoped

    def pane(self, team: str) -> Pane:
        return next(p for p in self.panes if p.team == team)

    def _stop_server(self) -> None:
        from services.background import wait_for_work

        for pane in self.panes:
            pane.screen.wake()
        self._server.shutdown()
        self._thread.join(timeout=5)
        wait_for_work(timeout=5)  # what the app handed over finishes before its database goes

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
