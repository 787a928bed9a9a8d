"""The stand-in's HTTP server on 127.0.0.1 and the handle tests and the playground hold.

>>> with SlackStandIn() as slack:                                  # doctest: +SKIP
...     client = WebClient(token=slack.bot_token, base_url=slack.api_url)
...     client.chat_postMessage(channel="C0001", text="hello")
...     slack.messages("C0001")[0].text
'hello'

One server serves several workspaces (:mod:`.teams`): the default one (``T0001``, token ``xoxb-test``),
which every workspace-level method of :class:`SlackStandIn` acts on, and those ``add_team`` adds. The
token of a call picks its workspace. The app can also be installed with OAuth v2 (:mod:`.oauth`):
``slack.authorize_url`` is Slack's ``/oauth/v2/authorize``, ``oauth.v2.access`` exchanges the code.
Workspaces can belong to an Enterprise Grid organization (``slack.add_enterprise``), where an org admin
can install the app for the whole organization (:mod:`.enterprise`).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import replace
from http.server import ThreadingHTTPServer
from typing import Any

from emulator.slack.app_requests import DEFAULT_USER, post_to_app
from emulator.slack.common import Claims, Settings
from emulator.slack.enterprise import SlackEnterprise
from emulator.slack.http_handler import handler_for
from emulator.slack.model import Call, EventCallback, Message
from emulator.slack.oauth import Install, OAuthInstaller
from emulator.slack.routing import Router
from emulator.slack.socket_mode import SocketModeServer
from emulator.slack.teams import SlackTeam, Teams, new_bot_token
from emulator.slack.tiers import RateTiers


class SlackStandIn:
    """A local Slack Web API with workspaces behind it; a context manager.

    ``api_url`` (with its trailing slash) is what ``WebClient(base_url=…)`` needs. ``app_token`` opens
    Socket Mode connections (``apps.connections.open``) to :attr:`socket_mode`. ``rate_tiers=True``
    applies Slack's per-method rate limits (:mod:`.tiers`) over a ``minute`` of that many seconds, in
    each workspace separately. ``client_id`` and ``client_secret`` are the app's OAuth credentials;
    ``redirect_urls`` the Redirect URLs of its settings (none: any ``redirect_uri`` is taken).

    The workspace-level methods (``add_channel``, ``messages``, ``new_trigger_id``, ``uninstall``, …)
    act on the default workspace; ``slack.team(team_id)`` and ``slack.add_team(...)`` give a
    :class:`~emulator.slack.teams.SlackTeam` with the same methods for another one.
    """

    def __init__(
        self,
        port: int = 0,
        bot_token: str = "xoxb-test",
        team_id: str = "T0001",
        *,
        host: str = "127.0.0.1",
        trigger_ttl: float = 3.0,
        response_url_ttl: float = 1800.0,
        response_url_uses: int = 5,
        rate_tiers: bool = False,
        minute: float = 60.0,
        **settings: Any,
    ) -> None:
        self.settings = Settings(
            bot_token=bot_token,
            team_id=team_id,
            trigger_ttl=trigger_ttl,
            response_url_ttl=response_url_ttl,
            response_url_uses=response_url_uses,
            **settings,
        )
        self._claims = Claims()
        self._installed_token = bot_token
        self._tiers_default = self._tiers_now = (rate_tiers, minute)
        self._default = SlackTeam(
            self.settings, claims=self._claims, tiers=self._new_tiers(), socket_url=self._socket_url
        )
        self.workspace = self._default.workspace
        self._teams = Teams(self._default)
        self._oauth = OAuthInstaller(self._teams, self.settings)
        self._router = Router(self._teams, self._oauth)
        self._host = host
        self._socket_mode: SocketModeServer | None = None
        self._socket_mode_lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), handler_for(self._router))
        self._server.daemon_threads = True
        self.settings.base_url = f"http://{host}:{self._server.server_address[1]}/"
        self._thread: threading.Thread | None = None

    def _socket_url(self) -> str:
        return self.socket_mode.issue_url()

    def _new_tiers(self) -> RateTiers | None:
        enabled, minute = self._tiers_now
        return RateTiers(minute) if enabled else None

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> SlackStandIn:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._socket_mode is not None:
            self._socket_mode.stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=2)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/``"""
        return self.settings.base_url

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/`` — slack_sdk joins method names onto it."""
        return self.settings.base_url + "api/"

    @property
    def bot_token(self) -> str:
        """The default workspace's bot token."""
        return self.settings.bot_token

    @property
    def bot_user_id(self) -> str:
        return self.settings.bot_user_id

    @property
    def app_token(self) -> str:
        """The app-level token (``xapp-…``) that ``apps.connections.open`` wants."""
        return self.settings.app_token

    @property
    def socket_mode(self) -> SocketModeServer:
        """The Socket Mode side (see :mod:`emulator.slack.socket_mode`), started when first used."""
        with self._socket_mode_lock:
            if self._socket_mode is None:
                self._socket_mode = SocketModeServer(host=self._host, app_id=self.settings.app_id).start()
            return self._socket_mode

    # -- workspaces ---------------------------------------------------------------------------------------

    def add_enterprise(
        self, enterprise_id: str, *, name: str | None = None, domain: str | None = None
    ) -> SlackEnterprise:
        """Add an Enterprise Grid organization (no member workspace yet: ``add_team(...,
        enterprise_id=…)`` adds them). Its app bot is ``W0BOT<id>``/``B0BOT<id>``, one user of the whole
        organization. :meth:`reset` forgets it."""
        suffix = enterprise_id[1:] if enterprise_id[:1] == "E" else enterprise_id
        bot = (f"W0BOT{suffix}", f"B0BOT{suffix}")
        if self._teams.taken(bot_user_id=bot[0], bot_id=bot[1]):
            bot = ("W0B" + secrets.token_hex(4).upper(), "B0B" + secrets.token_hex(4).upper())
        org = SlackEnterprise(enterprise_id, name=name, domain=domain, app_id=self.settings.app_id, bot=bot)
        return self._teams.add_enterprise(org)

    def enterprise(self, enterprise_id: str) -> SlackEnterprise:
        """The organization ``enterprise_id``; ``KeyError`` when there is none."""
        org = self._teams.enterprise(enterprise_id)
        if org is None:
            raise KeyError(enterprise_id)
        return org

    def add_team(
        self,
        team_id: str,
        *,
        name: str | None = None,
        domain: str | None = None,
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
        bot_token: str | None = None,
        installed: bool = True,
    ) -> SlackTeam:
        """Add a workspace with its own state, bot token (``bot_token``, or a new ``xoxb-<team>-<hex>``)
        and bot user and bot id, in the Enterprise Grid organization ``enterprise_id`` if given (made
        when it does not exist yet, named ``enterprise_name``; the app's bot there is the
        organization's). ``installed=False``: the app is not installed there yet; the first OAuth
        install issues the token. The bot token holds manifest.yml's bot scopes; rate tiers apply as in
        the default workspace. :meth:`reset` forgets added workspaces and organizations."""
        org = None
        if enterprise_id:
            org = self._teams.enterprise(enterprise_id) or self.add_enterprise(
                enterprise_id, name=enterprise_name
            )
            bot_user_id, bot_id = org.bot_user_id, org.bot_id
        else:
            suffix = team_id[1:] if team_id[:1] == "T" else team_id
            bot_user_id, bot_id = f"U0BOT{suffix}", f"B0BOT{suffix}"
            if self._teams.taken(bot_user_id=bot_user_id, bot_id=bot_id):
                bot_user_id, bot_id = (
                    "U0B" + secrets.token_hex(4).upper(),
                    "B0B" + secrets.token_hex(4).upper(),
                )
        settings = replace(
            self.settings,
            team_id=team_id,
            team_name=name or f"{team_id} workspace",
            team_domain=domain or team_id.lower(),
            enterprise_id=enterprise_id,
            enterprise_name=org.name if org else None,
            enterprise_domain=org.domain if org else None,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            bot_token=bot_token or new_bot_token(team_id),
            scopes=None,
        )
        team = SlackTeam(
            settings,
            claims=self._claims,
            tiers=self._new_tiers(),
            socket_url=self._socket_url,
            installed=installed,
        )
        self._teams.add(team)
        if org is not None:
            team.enterprise = org
            org.add_member(team)
        return team

    def team(self, team_id: str | None = None) -> SlackTeam:
        """The workspace ``team_id`` (``None``: the default one); ``KeyError`` when there is none."""
        if team_id is None:
            return self._default
        team = self._teams.get(team_id)
        if team is None:
            raise KeyError(team_id)
        return team

    def teams(self) -> list[SlackTeam]:
        """Every workspace, the default one first."""
        return self._teams.all()

    # -- OAuth --------------------------------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return self.settings.client_id

    @property
    def client_secret(self) -> str:
        return self.settings.client_secret

    @property
    def authorize_url(self) -> str:
        """``{base_url}oauth/v2/authorize``: ``OAuthSettings(authorization_url=…)`` for Bolt."""
        return self._oauth.authorize_url

    def installs(self, team_id: str | None = None) -> list[Install]:
        """The OAuth installations completed (``oauth.v2.access`` answered ``ok``), in order."""
        return self._oauth.installs(team_id)

    # -- the default workspace ----------------------------------------------------------------------------

    def add_user(
        self, user_id: str, *, real_name: str | None = None, tz: str | None = None, **fields: Any
    ) -> None:
        """Describe a user for ``users.info`` (other well-formed ids get a default user)."""
        self._default.add_user(user_id, real_name=real_name, tz=tz, **fields)

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        private: bool = False,
        archived: bool = False,
        members: list[str] | tuple[str, ...] | None = None,
        **fields: Any,
    ) -> None:
        """Describe a channel of the default workspace; see :meth:`SlackTeam.add_channel`."""
        self._default.add_channel(
            channel_id, name=name, private=private, archived=archived, members=members, **fields
        )

    def invite(self, channel_id: str, user: str | None = None) -> None:
        """Someone invites the app (or ``user``) to the channel, as ``/invite @qbsync`` does."""
        self._default.invite(channel_id, user)

    def archive(self, channel_id: str) -> None:
        self._default.archive(channel_id)

    def remove_channel(self, channel_id: str) -> None:
        """Forget what ``add_channel`` said (the channel is default again)."""
        self._default.remove_channel(channel_id)

    def set_scopes(self, scopes: Any = None) -> None:
        """The bot token's scopes from now on (``None``: the bot scopes of manifest.yml)."""
        self._default.set_scopes(scopes)

    @property
    def scopes(self) -> frozenset[str]:
        return self._default.scopes

    def messages(self, channel: str) -> list[Message]:
        """Copies of the channel's messages in order (deleted ones flagged, ephemeral ones marked)."""
        return self._default.messages(channel)

    def channels(self) -> list[str]:
        return self._default.channels()

    def views(self, user: str | None = None) -> dict[str, list[dict[str, Any]]] | list[dict[str, Any]]:
        """Open modals: the stack of one user, or every user's stack."""
        return self._default.views(user)

    def close_views(self, user: str) -> None:
        """Close the user's modals, as a click on ✕ or a submission that clears them would."""
        self._default.close_views(user)

    def home(self, user: str) -> dict[str, Any] | None:
        """The Home tab view last published for the user."""
        return self._default.home(user)

    def file_content(self, file_id: str) -> bytes | None:
        return self._default.file_content(file_id)

    def subscribe(self, callback: EventCallback) -> Any:
        """Call ``callback(event)`` on every change in the default workspace; returns a function that
        unsubscribes."""
        return self._default.subscribe(callback)

    def new_trigger_id(self, user: str = DEFAULT_USER, ttl: float | None = None) -> str:
        """A trigger id for ``user``, usable once by ``views.open``/``views.push`` within ``trigger_ttl``."""
        return self._default.new_trigger_id(user, ttl)

    def new_response_url(
        self, channel: str, user: str = DEFAULT_USER, message_ts: str | None = None, ttl: float | None = None
    ) -> str:
        """A response URL for an interaction in ``channel`` by ``user`` (on message ``message_ts``).

        Usable ``response_url_uses`` times within ``response_url_ttl`` seconds (or ``ttl``).
        """
        return self._default.new_response_url(channel, user, message_ts, ttl)

    def ratelimit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the default workspace's next ``times`` calls of ``method`` (``"*"``: any) with HTTP 429
        and Retry-After (other workspaces have their own: ``slack.team(id).ratelimit``)."""
        self._default.ratelimit(method, times, retry_after)

    def use_rate_tiers(self, enabled: bool = True, minute: float = 60.0) -> None:
        """Apply Slack's rate tiers (:mod:`.tiers`) from now on in every workspace (and those added
        later), each counted on its own, over a ``minute`` of that many seconds (counts start afresh), or
        stop applying them."""
        self._tiers_now = (enabled, minute)
        for team in self._teams.all():
            team.use_rate_tiers(enabled, minute)

    @property
    def tiers(self) -> RateTiers | None:
        """Slack's rate tiers as applied now in the default workspace (``None``: not applied)."""
        return self._default.tiers

    @tiers.setter
    def tiers(self, tiers: RateTiers | None) -> None:
        self._default.tiers = tiers

    # -- installation -------------------------------------------------------------------------------------

    def uninstall(self, app_url: str | None = None, signing_secret: str | None = None) -> list[int]:
        """Remove the app from the default workspace; see :meth:`SlackTeam.uninstall`."""
        return self._default.uninstall(app_url, signing_secret)

    def reinstall(self, bot_token: str) -> None:
        """Install the app again: ``bot_token`` is its new bot token (the old one stays refused)."""
        self._default.reinstall(bot_token)

    @property
    def uninstalled(self) -> bool:
        """Whether the current bot token was revoked by :meth:`uninstall` (and no reinstall since)."""
        return self._default.uninstalled

    @staticmethod
    def post_to_app(
        url: str, body: str, signing_secret: str, **kwargs: Any
    ) -> tuple[int, dict[str, str], str]:
        """Send a signed request to an app, as Slack would; see :func:`app_requests.post_to_app`."""
        return post_to_app(url, body, signing_secret, **kwargs)

    # -- recording ----------------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """The calls the default workspace answered (and those with a token no workspace knows)."""
        return self._default.calls(method)

    def last(self, method: str) -> Call | None:
        return self._default.last(method)

    def clear(self) -> None:
        """Forget the recorded calls only (of the default workspace)."""
        self._default.clear()

    def reset(self) -> None:
        """Back to how the stand-in was built: forget the workspaces ``add_team`` added and the
        organizations, OAuth codes and installations; in the default workspace forget calls, messages,
        views, files, triggers, response URLs and rate limits (rate tiers back to how the stand-in was
        built) and reinstall the app with its first token; forget Socket Mode's envelopes and acks.
        Described channels, users and scopes of the default workspace stay."""
        for team in self._teams.drop_added():
            self._claims.release_team(team.team_id)
        self._oauth.reset()
        self._tiers_now = self._tiers_default
        self._default.reset(self._installed_token)
        with self.workspace.lock:
            self._default.tiers = self._new_tiers()
        if self._socket_mode is not None:
            self._socket_mode.reset()
