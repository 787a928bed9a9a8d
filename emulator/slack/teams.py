"""The workspaces (teams) behind one stand-in, each with its own state, bot and token.

A :class:`SlackTeam` is one workspace the app is (or was, or will be) installed in: its channels,
messages, modals, Home tabs, files, triggers, response URLs, recorded calls and users live in its own
:class:`~emulator.slack.model.Workspace`; its bot user, bot id, bot token and scopes in its own
:class:`~emulator.slack.common.Settings`; its rate limits (fault injection and tiers) are its own, as
Slack's are per workspace. A Web API call is answered by the workspace its token belongs to
(:class:`Teams` finds it), so another workspace's channels, views, files and users are not found there.

Tests hold a team through ``slack.team(team_id)`` or ``slack.add_team(...)``::

    acme = slack.add_team("T0ACME01", name="Acme")
    WebClient(token=acme.bot_token, base_url=acme.api_url).chat_postMessage(channel="C0ACME1", text="hi")
    acme.messages("C0ACME1")[0].text
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from emulator.slack import chat
from emulator.slack.app_requests import (
    DEFAULT_CHANNEL,
    DEFAULT_USER,
    app_home_opened_body,
    app_uninstalled_body,
    block_actions_body,
    block_suggestion_body,
    event_callback_body,
    post_to_app,
    slash_command_body,
    tokens_revoked_body,
    view_submission_body,
)
from emulator.slack.common import Claims, Context, Settings, add_members, manifest_bot_scopes
from emulator.slack.model import Call, EventCallback, Message, Trigger, Workspace
from emulator.slack.tiers import RateTiers

if TYPE_CHECKING:
    from emulator.slack.enterprise import SlackEnterprise


def new_bot_token(team_id: str) -> str:
    """A fresh bot token for the workspace, shaped like Slack's (``xoxb-<team>-<random>``)."""
    return f"xoxb-{team_id}-{secrets.token_hex(12)}"


class SlackTeam:
    """One workspace: its state, its bot, its token, its rate limits — and what tests do in it.

    ``installed=False`` makes a workspace the app is not installed in yet: no token works until an
    OAuth install (``/oauth/v2/authorize`` and ``oauth.v2.access``) issues one.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        claims: Claims,
        tiers: RateTiers | None = None,
        socket_url: Callable[[], str] | None = None,
        installed: bool = True,
    ) -> None:
        self.settings = settings
        self.workspace = Workspace()
        self.ctx = Context(self.workspace, settings, socket_url=socket_url, claims=claims)
        self.claims = claims
        self.revoked: set[str] = set()  # bot tokens of an uninstall: answered ``account_inactive``
        self.tiers = tiers
        self.enterprise: SlackEnterprise | None = None  # its Enterprise Grid organization, if any
        self._first_token = "" if installed else settings.bot_token  # what the first OAuth install issues
        if not installed:
            settings.bot_token = ""

    def __repr__(self) -> str:
        return f"SlackTeam({self.team_id!r}, installed={self.installed})"

    # -- who the workspace and its bot are ----------------------------------------------------------------

    @property
    def team_id(self) -> str:
        return self.settings.team_id

    @property
    def team_name(self) -> str:
        return self.settings.team_name

    @property
    def team_domain(self) -> str:
        return self.settings.team_domain

    @property
    def enterprise_id(self) -> str | None:
        return self.settings.enterprise_id

    @property
    def enterprise_name(self) -> str | None:
        return self.settings.enterprise_name

    @property
    def bot_token(self) -> str:
        """The bot token of the current installation (``""`` before the first install)."""
        return self.settings.bot_token

    @property
    def bot_user_id(self) -> str:
        return self.settings.bot_user_id

    @property
    def bot_id(self) -> str:
        return self.settings.bot_id

    @property
    def app_id(self) -> str:
        return self.settings.app_id

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/`` — the stand-in's, shared by every workspace."""
        return self.settings.base_url

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: the token, not the URL, picks the workspace."""
        return self.settings.base_url + "api/"

    # -- the workspace ------------------------------------------------------------------------------------

    def add_user(
        self, user_id: str, *, real_name: str | None = None, tz: str | None = None, **fields: Any
    ) -> None:
        """Describe a user of this workspace for ``users.info`` (other well-formed ids get a default user;
        a user described in another workspace is ``user_not_found`` here)."""
        self._claim("user", user_id)
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
        ``conversations.*``, the membership rules of posting and name lookups in ``chat.postMessage``.
        A channel belongs to one workspace: one another workspace holds is a ``ValueError``."""
        self._claim("channel", channel_id)
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
        self._claim("channel", channel_id)
        with self.workspace.lock:
            record = self.workspace.channels.setdefault(channel_id, {"name": channel_id.lower()})
            add_members(record, [user or self.settings.bot_user_id])

    def archive(self, channel_id: str) -> None:
        self._claim("channel", channel_id)
        with self.workspace.lock:
            self.workspace.channels.setdefault(channel_id, {"name": channel_id.lower()})["is_archived"] = True

    def remove_channel(self, channel_id: str) -> None:
        """Forget what ``add_channel`` said (the channel is default again)."""
        with self.workspace.lock:
            self.workspace.channels.pop(channel_id, None)

    def _claim(self, kind: str, ident: str) -> None:
        if not self.claims.claim(kind, ident, self.team_id):
            owner = self.claims.owner(kind, ident)
            raise ValueError(f"{kind} {ident} belongs to workspace {owner}, not {self.team_id}")

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
        """Call ``callback(event)`` on every change in this workspace; returns a function that
        unsubscribes."""
        return self.workspace.subscribe(callback)

    # -- what the app is given ----------------------------------------------------------------------------

    def new_trigger_id(self, user: str = DEFAULT_USER, ttl: float | None = None) -> str:
        """A trigger id for ``user`` in this workspace, usable once by ``views.open``/``views.push`` (with
        this workspace's token) within ``trigger_ttl``."""
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
        """A response URL for an interaction in ``channel`` of this workspace by ``user`` (on message
        ``message_ts``); what is posted to it lands in this workspace.

        Usable ``response_url_uses`` times within ``response_url_ttl`` seconds (or ``ttl``).
        """
        with self.workspace.lock:
            return chat.issue_response_url(self.ctx, channel, user, message_ts, ttl)

    def ratelimit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer this workspace's next ``times`` calls of ``method`` (``"*"``: any) with HTTP 429 and
        Retry-After."""
        with self.workspace.lock:
            self.workspace.rate_limits[method] = [times, retry_after]

    def rate_limited(self, method: str) -> int | None:
        """Count a call against :meth:`ratelimit`: the Retry-After to answer, or ``None``. The caller holds
        the workspace lock."""
        for key in (method, "*"):
            limit = self.workspace.rate_limits.get(key)
            if limit and limit[0] > 0:
                limit[0] -= 1
                return limit[1]
        return None

    def use_rate_tiers(self, enabled: bool = True, minute: float = 60.0) -> None:
        """Apply Slack's rate tiers (:mod:`.tiers`) to this workspace from now on, over a ``minute`` of
        that many seconds (counts start afresh), or stop applying them."""
        with self.workspace.lock:
            self.tiers = RateTiers(minute) if enabled else None

    # -- what Slack sends to the app from this workspace ---------------------------------------------------

    @property
    def org_wide(self) -> bool:
        """Whether the app reaches this workspace through its organization's org-wide installation (the
        organization's installation is live and the workspace has no live one of its own): what Slack
        sends the app from here then says ``is_enterprise_install: true``."""
        return self.enterprise is not None and self.enterprise.installed and not self.installed

    def _app_fields(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        s = self.settings
        kwargs.setdefault("team_id", s.team_id)
        kwargs.setdefault("api_app_id", s.app_id)
        if s.enterprise_id:
            kwargs.setdefault("enterprise_id", s.enterprise_id)
            if self.org_wide:
                kwargs.setdefault("is_enterprise_install", True)
        return kwargs

    def _grid_name(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.settings.enterprise_id and self.settings.enterprise_name:
            kwargs.setdefault("enterprise_name", self.settings.enterprise_name)
        return kwargs

    def slash_command_body(
        self,
        command: str,
        text: str = "",
        user_id: str = DEFAULT_USER,
        channel_id: str = DEFAULT_CHANNEL,
        **kwargs: Any,
    ) -> str:
        """:func:`~emulator.slack.app_requests.slash_command_body` in this workspace, with a response URL
        and a trigger id it issued (unless given)."""
        kwargs.setdefault("response_url", self.new_response_url(channel_id, user_id))
        kwargs.setdefault("trigger_id", self.new_trigger_id(user_id))
        fields = self._grid_name(self._app_fields(kwargs))
        return slash_command_body(command, text, user_id, channel_id, **fields)

    def block_actions_body(self, action_id: str, value: str | None = None, **kwargs: Any) -> str:
        """:func:`~emulator.slack.app_requests.block_actions_body` in this workspace, with a trigger id and
        (for a click in a message) a response URL it issued, unless given."""
        user = kwargs.get("user_id", DEFAULT_USER)
        kwargs.setdefault("trigger_id", self.new_trigger_id(user))
        if kwargs.get("view") is None:
            channel = kwargs.get("channel_id", DEFAULT_CHANNEL)
            kwargs.setdefault("response_url", self.new_response_url(channel, user, kwargs.get("message_ts")))
        return block_actions_body(action_id, value, **self._grid_name(self._app_fields(kwargs)))

    def block_suggestion_body(self, action_id: str, value: str = "", **kwargs: Any) -> str:
        """:func:`~emulator.slack.app_requests.block_suggestion_body` in this workspace."""
        return block_suggestion_body(action_id, value, **self._grid_name(self._app_fields(kwargs)))

    def view_submission_body(
        self, view: dict[str, Any], values: dict[str, dict[str, dict[str, Any]]], **kwargs: Any
    ) -> str:
        """:func:`~emulator.slack.app_requests.view_submission_body` in this workspace, with a trigger id
        it issued (unless given)."""
        kwargs.setdefault("trigger_id", self.new_trigger_id(kwargs.get("user_id", DEFAULT_USER)))
        return view_submission_body(view, values, **self._grid_name(self._app_fields(kwargs)))

    def event_callback_body(self, event: dict[str, Any], event_id: str | None = None, **kwargs: Any) -> str:
        """:func:`~emulator.slack.app_requests.event_callback_body` in this workspace, authorized for its
        bot user."""
        kwargs.setdefault("bot_user_id", self.settings.bot_user_id)
        return event_callback_body(event, event_id, **self._app_fields(kwargs))

    def app_home_opened_body(self, user_id: str = DEFAULT_USER, tab: str = "home", **kwargs: Any) -> str:
        """``app_home_opened`` for ``user_id`` in this workspace, with the Home view last published for
        them (as Slack sends it)."""
        kwargs.setdefault("view", self.home(user_id))
        kwargs.setdefault("bot_user_id", self.settings.bot_user_id)
        return app_home_opened_body(user_id, tab, **self._app_fields(kwargs))

    # -- installation -------------------------------------------------------------------------------------

    @property
    def installed(self) -> bool:
        """Whether the app is installed here: it has a bot token that was not revoked."""
        with self.workspace.lock:
            token = self.settings.bot_token
            return bool(token) and token not in self.revoked

    @property
    def uninstalled(self) -> bool:
        """Whether the app is not installed here: its token was revoked by :meth:`uninstall` (and no
        reinstall since), or it was never installed."""
        return not self.installed

    def uninstall(self, app_url: str | None = None, signing_secret: str | None = None) -> list[int]:
        """Remove the app from this workspace: its bot token is answered ``account_inactive`` from now on
        (other workspaces keep theirs) and, given the app's request URL and signing secret, the
        ``tokens_revoked`` and ``app_uninstalled`` events are sent to it with this workspace's
        ``team_id`` (and ``enterprise_id``), signed (Slack sends both, in no set order). Returns the HTTP
        statuses of those deliveries."""
        with self.workspace.lock:
            if self.settings.bot_token:
                self.revoked.add(self.settings.bot_token)
        if app_url is None or signing_secret is None:
            return []
        s = self.settings
        grid = {"team_id": s.team_id, "api_app_id": s.app_id, "enterprise_id": s.enterprise_id}
        bodies = [tokens_revoked_body([s.bot_user_id], **grid), app_uninstalled_body(**grid)]
        return [post_to_app(app_url, body, signing_secret)[0] for body in bodies]

    def reinstall(self, bot_token: str) -> None:
        """Install the app again: ``bot_token`` is its new bot token (the old one stays refused)."""
        with self.workspace.lock:
            if bot_token in self.revoked:
                raise ValueError("a revoked token cannot be issued again")
            self.settings.bot_token = bot_token

    def install(self, scopes: frozenset[str]) -> tuple[str, bool]:
        """What an OAuth install does here: installed already, the current token gains ``scopes`` (Slack
        adds scopes, it does not take any away); otherwise a new token with ``scopes`` is issued (the
        ``bot_token`` given to ``add_team`` on the first install). Returns the token and whether it is
        new."""
        with self.workspace.lock:
            token = self.settings.bot_token
            if token and token not in self.revoked:
                self.set_scopes(self.settings.granted | scopes)
                return token, False
            token, self._first_token = self._first_token, ""
            self.settings.bot_token = token or new_bot_token(self.team_id)
            self.set_scopes(scopes)
            return self.settings.bot_token, True

    def reset(self, bot_token: str) -> None:
        """Forget calls, messages, views, files, triggers, response URLs and rate limits, and install the
        app with ``bot_token`` (channels, users and scopes stay as described; channels only used
        implicitly are free for other workspaces again)."""
        self.workspace.clear_all()
        with self.workspace.lock:
            self.revoked.clear()
            self.settings.bot_token = bot_token
            self.claims.release_team(self.team_id)
            for channel_id in self.workspace.channels:
                self.claims.claim("channel", channel_id, self.team_id)
            for user_id in self.workspace.users:
                self.claims.claim("user", user_id, self.team_id)

    # -- recording ----------------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """The requests this workspace answered (Web API calls with its tokens, posts to its response URLs
        and upload URLs), in order."""
        with self.workspace.lock:
            return [c for c in self.workspace.calls if method is None or c.method == method]

    def last(self, method: str) -> Call | None:
        found = self.calls(method)
        return found[-1] if found else None

    def clear(self) -> None:
        """Forget the recorded calls only."""
        with self.workspace.lock:
            self.workspace.calls.clear()


class Teams:
    """The stand-in's workspaces by team id, the first one being the default, and the Enterprise Grid
    organizations some of them belong to. Finds the workspace of a token (current or revoked), the
    organization of an org-wide token, and the workspace of a response URL and of an upload URL. Its lock
    is never taken while a workspace's lock is held."""

    def __init__(self, default: SlackTeam) -> None:
        self.lock = threading.RLock()
        self.default = default
        self._teams: dict[str, SlackTeam] = {default.team_id: default}
        self._enterprises: dict[str, SlackEnterprise] = {}

    def enterprise(self, enterprise_id: str | None) -> SlackEnterprise | None:
        with self.lock:
            return self._enterprises.get(enterprise_id or "")

    def enterprises(self) -> list[SlackEnterprise]:
        with self.lock:
            return list(self._enterprises.values())

    def add_enterprise(self, enterprise: SlackEnterprise) -> SlackEnterprise:
        with self.lock:
            if enterprise.enterprise_id in self._enterprises:
                raise ValueError(f"organization {enterprise.enterprise_id} exists already")
            self._enterprises[enterprise.enterprise_id] = enterprise
            return enterprise

    def enterprise_for_token(self, token: str | None) -> SlackEnterprise | None:
        """The organization whose org-wide token (current or revoked) ``token`` is."""
        if not token:
            return None
        return next((org for org in self.enterprises() if org.is_token(token)), None)

    def get(self, team_id: str) -> SlackTeam | None:
        with self.lock:
            return self._teams.get(team_id)

    def all(self) -> list[SlackTeam]:
        with self.lock:
            return list(self._teams.values())

    def add(self, team: SlackTeam) -> SlackTeam:
        with self.lock:
            if team.team_id in self._teams:
                raise ValueError(f"workspace {team.team_id} exists already")
            self._teams[team.team_id] = team
            return team

    def drop_added(self) -> list[SlackTeam]:
        """Forget every workspace but the default; returns those forgotten."""
        with self.lock:
            dropped = [t for t in self._teams.values() if t is not self.default]
            self._teams = {self.default.team_id: self.default}
            self._enterprises = {}
            return dropped

    def taken(self, *, bot_user_id: str | None = None, bot_id: str | None = None) -> bool:
        with self.lock:
            return any(
                (bot_user_id and t.bot_user_id == bot_user_id) or (bot_id and t.bot_id == bot_id)
                for t in self._teams.values()
            ) or any(
                (bot_user_id and o.bot_user_id == bot_user_id) or (bot_id and o.bot_id == bot_id)
                for o in self._enterprises.values()
            )

    def for_token(self, token: str | None) -> SlackTeam | None:
        """The workspace whose bot token (current or revoked) ``token`` is."""
        if not token:
            return None
        for team in self.all():
            if token == team.settings.bot_token or token in team.revoked:
                return team
        return None

    def is_bot_token(self, token: str | None) -> bool:
        """Whether ``token`` is the live bot token of some workspace or organization."""
        return bool(token) and (
            any(token == t.settings.bot_token for t in self.all())
            or any(token == o.bot_token for o in self.enterprises())
        )

    def for_response_url(self, key: str) -> SlackTeam:
        """The workspace that issued the response URL (the default when none did)."""
        for team in self.all():
            if key in team.workspace.response_urls:
                return team
        return self.default

    def for_upload(self, key: str) -> SlackTeam:
        """The workspace that issued the upload URL (the default when none did)."""
        for team in self.all():
            if key in team.workspace.uploads:
                return team
        return self.default
