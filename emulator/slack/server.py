"""The stand-in's HTTP server on 127.0.0.1 and the handle tests and the playground hold.

>>> with SlackStandIn() as slack:                                  # doctest: +SKIP
...     client = WebClient(token=slack.bot_token, base_url=slack.api_url)
...     client.chat_postMessage(channel="C0001", text="hello")
...     slack.messages("C0001")[0].text
'hello'
"""

from __future__ import annotations

import copy
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from emulator.slack import chat
from emulator.slack.app_requests import (
    DEFAULT_USER,
    app_uninstalled_body,
    post_to_app,
    tokens_revoked_body,
)
from emulator.slack.common import Context, Settings, add_members, manifest_bot_scopes
from emulator.slack.http_handler import handler_for
from emulator.slack.model import Call, EventCallback, Message, Trigger, Workspace
from emulator.slack.routing import Router
from emulator.slack.socket_mode import SocketModeServer
from emulator.slack.tiers import RateTiers


class SlackStandIn:
    """A local Slack Web API with a small workspace behind it; a context manager.

    ``api_url`` (with its trailing slash) is what ``WebClient(base_url=…)`` needs. ``app_token`` opens
    Socket Mode connections (``apps.connections.open``) to :attr:`socket_mode`. ``rate_tiers=True``
    applies Slack's per-method rate limits (:mod:`.tiers`) over a ``minute`` of that many seconds.
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
        self.workspace = Workspace()
        self._installed_token = bot_token
        self._tiers_default = (rate_tiers, minute)
        self._ctx = Context(self.workspace, self.settings, socket_url=lambda: self.socket_mode.issue_url())
        self._router = Router(
            self.workspace, self.settings, self._ctx, RateTiers(minute) if rate_tiers else None
        )
        self._host = host
        self._socket_mode: SocketModeServer | None = None
        self._socket_mode_lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), handler_for(self._router))
        self._server.daemon_threads = True
        self.settings.base_url = f"http://{host}:{self._server.server_address[1]}/"
        self._thread: threading.Thread | None = None

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

    # -- the workspace ------------------------------------------------------------------------------------

    def add_user(
        self, user_id: str, *, real_name: str | None = None, tz: str | None = None, **fields: Any
    ) -> None:
        """Describe a user for ``users.info`` (other well-formed ids get a default user)."""
        known = {k: v for k, v in {"real_name": real_name, "tz": tz, **fields}.items() if v is not None}
        with self.workspace.lock:
            self.workspace.users[user_id] = known

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
        """Describe a channel: public or ``private``, ``archived`` or not, and its ``members`` (``None``:
        the app was invited; a list without :attr:`bot_user_id`: the app is not in it). Used by
        ``conversations.*``, the membership rules of posting and name lookups in ``chat.postMessage``."""
        with self.workspace.lock:
            self.workspace.channels[channel_id] = {
                "name": name or channel_id.lower(),
                "is_private": private,
                "is_archived": archived,
                "members": [self.settings.bot_user_id] if members is None else list(members),
                **fields,
            }

    def invite(self, channel_id: str, user: str | None = None) -> None:
        """Someone invites the app (or ``user``) to the channel, as ``/invite @qbsync`` does."""
        with self.workspace.lock:
            record = self.workspace.channels.setdefault(channel_id, {"name": channel_id.lower()})
            add_members(record, [user or self.settings.bot_user_id])

    def archive(self, channel_id: str) -> None:
        with self.workspace.lock:
            self.workspace.channels.setdefault(channel_id, {"name": channel_id.lower()})["is_archived"] = True

    def remove_channel(self, channel_id: str) -> None:
        """Forget what ``add_channel`` said (the channel is default again)."""
        with self.workspace.lock:
            self.workspace.channels.pop(channel_id, None)

    def set_scopes(self, scopes: Any = None) -> None:
        """The bot token's scopes from now on (``None``: the bot scopes of manifest.yml)."""
        with self.workspace.lock:
            self.settings.scopes = None if scopes is None else frozenset(scopes)
            self.settings.granted = frozenset(manifest_bot_scopes() if scopes is None else scopes)

    @property
    def scopes(self) -> frozenset[str]:
        return self.settings.granted

    def messages(self, channel: str) -> list[Message]:
        """Copies of the channel's messages in order (deleted ones flagged, ephemeral ones marked)."""
        with self.workspace.lock:
            return copy.deepcopy(self.workspace.messages.get(channel, []))

    def channels(self) -> list[str]:
        with self.workspace.lock:
            return list(self.workspace.messages)

    def views(self, user: str | None = None) -> dict[str, list[dict[str, Any]]] | list[dict[str, Any]]:
        """Open modals: the stack of one user, or every user's stack."""
        with self.workspace.lock:
            if user is not None:
                return copy.deepcopy(self.workspace.modals.get(user, []))
            return copy.deepcopy({u: s for u, s in self.workspace.modals.items() if s})

    def close_views(self, user: str) -> None:
        """Close the user's modals, as a click on ✕ or a submission that clears them would."""
        with self.workspace.lock:
            self.workspace.modals.pop(user, None)
            self.workspace.emit({"type": "view_closed", "user": user})
        self.workspace.flush()

    def home(self, user: str) -> dict[str, Any] | None:
        """The Home tab view last published for the user."""
        with self.workspace.lock:
            return copy.deepcopy(self.workspace.homes.get(user))

    def file_content(self, file_id: str) -> bytes | None:
        with self.workspace.lock:
            uploaded = self.workspace.files.get(file_id)
            return uploaded.content if uploaded else None

    def subscribe(self, callback: EventCallback) -> Any:
        """Call ``callback(event)`` on every change; returns a function that unsubscribes."""
        return self.workspace.subscribe(callback)

    # -- what the app is given ----------------------------------------------------------------------------

    def new_trigger_id(self, user: str = DEFAULT_USER, ttl: float | None = None) -> str:
        """A trigger id for ``user``, usable once by ``views.open``/``views.push`` within ``trigger_ttl``."""
        trigger = Trigger(
            id=self.workspace.ids.trigger_id(),
            user=user,
            expires=time.monotonic() + (self.settings.trigger_ttl if ttl is None else ttl),
        )
        with self.workspace.lock:
            self.workspace.triggers[trigger.id] = trigger
        return trigger.id

    def new_response_url(
        self, channel: str, user: str = DEFAULT_USER, message_ts: str | None = None, ttl: float | None = None
    ) -> str:
        """A response URL for an interaction in ``channel`` by ``user`` (on message ``message_ts``).

        Usable ``response_url_uses`` times within ``response_url_ttl`` seconds (or ``ttl``).
        """
        with self.workspace.lock:
            return chat.issue_response_url(self._ctx, channel, user, message_ts, ttl)

    def ratelimit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` (``"*"``: any) with HTTP 429 and Retry-After."""
        with self.workspace.lock:
            self.workspace.rate_limits[method] = [times, retry_after]

    def use_rate_tiers(self, enabled: bool = True, minute: float = 60.0) -> None:
        """Apply Slack's rate tiers (:mod:`.tiers`) from now on, over a ``minute`` of that many seconds
        (counts start afresh), or stop applying them."""
        with self.workspace.lock:
            self.tiers = RateTiers(minute) if enabled else None

    @property
    def tiers(self) -> RateTiers | None:
        """Slack's rate tiers as applied now (``None``: not applied)."""
        return self._router.tiers

    @tiers.setter
    def tiers(self, tiers: RateTiers | None) -> None:
        self._router.tiers = tiers

    # -- installation -------------------------------------------------------------------------------------

    def uninstall(self, app_url: str | None = None, signing_secret: str | None = None) -> list[int]:
        """Remove the app from the workspace: its bot token is answered ``account_inactive`` from now on
        and, given the app's request URL and signing secret, the ``tokens_revoked`` and
        ``app_uninstalled`` events are sent to it, signed (Slack sends both, in no set order). Returns
        the HTTP statuses of those deliveries."""
        with self.workspace.lock:
            self._router.revoked.add(self.settings.bot_token)
        if app_url is None or signing_secret is None:
            return []
        s = self.settings
        bodies = [
            tokens_revoked_body([s.bot_user_id], team_id=s.team_id, api_app_id=s.app_id),
            app_uninstalled_body(team_id=s.team_id, api_app_id=s.app_id),
        ]
        return [post_to_app(app_url, body, signing_secret)[0] for body in bodies]

    def reinstall(self, bot_token: str) -> None:
        """Install the app again: ``bot_token`` is its new bot token (the old one stays refused)."""
        with self.workspace.lock:
            if bot_token in self._router.revoked:
                raise ValueError("a revoked token cannot be issued again")
            self.settings.bot_token = bot_token

    @property
    def uninstalled(self) -> bool:
        """Whether the current bot token was revoked by :meth:`uninstall` (and no reinstall since)."""
        with self.workspace.lock:
            return self.settings.bot_token in self._router.revoked

    @staticmethod
    def post_to_app(
        url: str, body: str, signing_secret: str, **kwargs: Any
    ) -> tuple[int, dict[str, str], str]:
        """Send a signed request to an app, as Slack would; see :func:`app_requests.post_to_app`."""
        return post_to_app(url, body, signing_secret, **kwargs)

    # -- recording ----------------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        with self.workspace.lock:
            return [c for c in self.workspace.calls if method is None or c.method == method]

    def last(self, method: str) -> Call | None:
        found = self.calls(method)
        return found[-1] if found else None

    def clear(self) -> None:
        """Forget the recorded calls only."""
        with self.workspace.lock:
            self.workspace.calls.clear()

    def reset(self) -> None:
        """Forget calls, messages, views, files, triggers, response URLs and rate limits (rate tiers back
        to how the stand-in was built), reinstall the app with its first token, and forget Socket Mode's
        envelopes and acks."""
        self.workspace.clear_all()
        with self.workspace.lock:
            self._router.revoked.clear()
            self.settings.bot_token = self._installed_token
            enabled, minute = self._tiers_default
            self.tiers = RateTiers(minute) if enabled else None
        if self._socket_mode is not None:
            self._socket_mode.reset()
