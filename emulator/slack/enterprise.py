"""An Enterprise Grid organization behind the stand-in, and the app's org-wide installation there.

An organization (``slack.add_enterprise("E0ORG0001", name="Acme Holdings")``) has member workspaces:
every ``slack.add_team(team_id, enterprise_id="E0ORG0001")``. An org admin can install the app for the
whole organization (the authorize step with ``enterprise=E…``; see :mod:`.oauth`): ``oauth.v2.access``
then answers ``"team": null``, ``"enterprise": {"id", "name"}`` and ``"is_enterprise_install": true``,
with one bot token for the organization (https://api.slack.com/enterprise/apps/reference). Slack adds an
org-wide app to no workspace by itself; here it is as if the admin added it to every member workspace
at once, so the token works in each of them.

A Web API call with the organization's token is answered by the member workspace it is about: the
``team_id`` argument (Slack's way for org-level tokens, https://api.slack.com/enterprise/apps/changes-apis),
else the workspace of the channel, user, trigger id or view it names, else the first member workspace.
Files uploaded with the organization's token are the organization's: completing an upload in another
member workspace's channel finds them.
``auth.test`` answers for the organization (its id as ``team_id``, ``is_enterprise_install: true``).
The app's bot is one user of the organization (``W…``), the same in every member workspace, and so is
the bot of a workspace-level installation in one of them.

What Slack sends the app from a member workspace reached only through the org-wide installation carries
``is_enterprise_install: true`` (:mod:`.app_requests` says where); a member workspace with a live
installation of its own is reached through that one. :meth:`SlackEnterprise.uninstall` revokes the
organization's token and sends ``tokens_revoked`` and ``app_uninstalled`` naming the organization only.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import replace
from typing import Any

from emulator.slack.app_requests import app_uninstalled_body, post_to_app, tokens_revoked_body
from emulator.slack.common import Context, Settings, decode_json_arg, manifest_bot_scopes
from emulator.slack.model import Call

Member = Any  # a member workspace: emulator.slack.teams' SlackTeam (teams builds organisations, not this)

ARG_USERS = ("user", "user_id")
ARG_CHANNELS = ("channel", "channel_id")


class SlackEnterprise:
    """One Enterprise Grid organization: its id, name and domain, its member workspaces, and the app's
    org-wide installation (token, scopes, bot). Thread-safe; its lock is never held while a workspace's
    lock is taken."""

    def __init__(
        self, enterprise_id: str, *, name: str | None, domain: str | None, app_id: str, bot: tuple[str, str]
    ) -> None:
        self.enterprise_id = enterprise_id
        self.name = name or enterprise_id.lower()
        self.domain = domain or enterprise_id.lower()
        self.app_id = app_id
        self.bot_user_id, self.bot_id = bot
        self._lock = threading.Lock()
        self._members: list[Member] = []
        self._token = ""  # the org-wide installation's bot token ("" before the first install)
        self._revoked: set[str] = set()
        self._granted: frozenset[str] = frozenset()
        self.installed_by: str | None = None

    def __repr__(self) -> str:
        return f"SlackEnterprise({self.enterprise_id!r}, installed={self.installed})"

    # -- the organization ---------------------------------------------------------------------------------

    def add_member(self, team: Member) -> None:
        with self._lock:
            self._members.append(team)

    def teams(self) -> list[Member]:
        """The member workspaces, in the order they were added."""
        with self._lock:
            return list(self._members)

    def team_ids(self) -> list[str]:
        return [t.team_id for t in self.teams()]

    # -- the org-wide installation ------------------------------------------------------------------------

    @property
    def bot_token(self) -> str:
        """The org-wide installation's bot token (``""`` before the first install)."""
        with self._lock:
            return self._token

    @property
    def installed(self) -> bool:
        """Whether the app is installed for the whole organization (a token that was not revoked)."""
        with self._lock:
            return bool(self._token) and self._token not in self._revoked

    @property
    def scopes(self) -> frozenset[str]:
        with self._lock:
            return self._granted

    def set_scopes(self, scopes: Any = None) -> None:
        """The org-wide token's scopes from now on (``None``: the bot scopes of manifest.yml)."""
        with self._lock:
            self._granted = frozenset(manifest_bot_scopes() if scopes is None else scopes)

    def install(self, scopes: frozenset[str], installer: str) -> tuple[str, bool]:
        """What an org-wide OAuth install does: installed already, the token gains ``scopes``; otherwise a
        new token with ``scopes``. Returns the token and whether it is new."""
        with self._lock:
            self.installed_by = installer
            if self._token and self._token not in self._revoked:
                self._granted |= scopes
                return self._token, False
            self._token = new_org_token(self.enterprise_id)
            self._granted = frozenset(scopes)
            return self._token, True

    def is_token(self, token: str | None) -> bool:
        """Whether ``token`` is the organization's (live or revoked)."""
        with self._lock:
            return bool(token) and (token == self._token or token in self._revoked)

    def token_state(self, token: str | None) -> tuple[str, bool]:
        """(the live token, whether ``token`` was revoked)."""
        with self._lock:
            return self._token, token in self._revoked

    def uninstall(self, app_url: str | None = None, signing_secret: str | None = None) -> list[int]:
        """An org admin removes the app from the organization: its token is answered ``account_inactive``
        in every member workspace from now on and, given the app's request URL and signing secret,
        ``tokens_revoked`` (the bot user) and ``app_uninstalled`` are sent to it, signed, naming the
        organization and no team. Returns the HTTP statuses of those deliveries."""
        with self._lock:
            if self._token:
                self._revoked.add(self._token)
        if app_url is None or signing_secret is None:
            return []
        grid = {"team_id": None, "api_app_id": self.app_id, "enterprise_id": self.enterprise_id}
        bodies = [tokens_revoked_body([self.bot_user_id], **grid), app_uninstalled_body(**grid)]
        return [post_to_app(app_url, body, signing_secret)[0] for body in bodies]

    # -- answering a call made with the organization's token ----------------------------------------------

    def locate(self, args: dict[str, Any]) -> Member | None:
        """The member workspace a call with the organization's token is about (None without members)."""
        members = self.teams()
        if not members:
            return None
        by_id = {t.team_id: t for t in members}
        team_id = args.get("team_id")
        if isinstance(team_id, str) and team_id in by_id:
            return by_id[team_id]
        claims = members[0].claims
        for kind, ident in _named_ids(args):
            owner = claims.owner(kind, ident)
            if owner in by_id:
                return by_id[owner]
        for team in members:
            if _holds(team, args):
                return team
        return members[0]

    def gather_files(self, team: Member, args: dict[str, Any]) -> None:
        """Bring the files a call names (``files``: ``[{"id": …}]``), uploaded with the organization's
        token in another member workspace, into ``team``, where the call is answered."""
        try:
            wanted = decode_json_arg(args, "files")
        except ValueError:
            return
        ids = [f.get("id") for f in wanted if isinstance(f, dict)] if isinstance(wanted, list) else []
        for file_id in ids:
            for other in self.teams():
                if other is team:
                    continue
                with other.workspace.lock:
                    found = other.workspace.files.pop(file_id, None)
                if found is not None:
                    with team.workspace.lock:
                        team.workspace.files.setdefault(file_id, found)
                    break

    def settings_in(self, team: Member) -> Settings:
        """The settings a call with the organization's token sees in member workspace ``team``."""
        with self._lock:
            token, granted = self._token, self._granted
        return replace(
            team.settings,
            bot_token=token,
            bot_user_id=self.bot_user_id,
            bot_id=self.bot_id,
            enterprise_id=self.enterprise_id,
            enterprise_name=self.name,
            enterprise_domain=self.domain,
            is_enterprise_install=True,
            scopes=granted,
        )

    def context_in(self, team: Member) -> Context:
        return Context(
            team.workspace, self.settings_in(team), socket_url=team.ctx.socket_url, claims=team.claims
        )

    # -- recording ----------------------------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """The calls made with the organization's tokens (live or revoked) in its member workspaces, in
        the order they arrived."""
        found = [c for team in self.teams() for c in team.calls(method) if self.is_token(c.token)]
        return sorted(found, key=lambda c: c.at)

    def reset(self) -> None:
        with self._lock:
            self._token, self._granted, self.installed_by = "", frozenset(), None
            self._revoked.clear()


def new_org_token(enterprise_id: str) -> str:
    """A fresh org-level bot token, shaped like Slack's (``xoxb-<enterprise>-<random>``)."""
    return f"xoxb-{enterprise_id}-{secrets.token_hex(12)}"


def _named_ids(args: dict[str, Any]) -> list[tuple[str, str]]:
    """The channels and users a call names, as (kind, id) for :class:`~emulator.slack.common.Claims`; a
    direct message ``D…`` stands for its user."""
    named: list[tuple[str, str]] = []
    for key in ARG_CHANNELS:
        value = args.get(key)
        if isinstance(value, str) and value:
            if value[0] == "D":
                named += [("user", "U" + value[1:]), ("user", "W" + value[1:])]
            else:
                named.append(("channel", value))
    for key in ARG_USERS:
        value = args.get(key)
        if isinstance(value, str) and value:
            named.append(("user", value))
    return named


def _holds(team: Member, args: dict[str, Any]) -> bool:
    """Whether the workspace issued the call's trigger id, holds its view, or shows the user a view."""
    ws = team.workspace
    trigger, view_id, external_id = args.get("trigger_id"), args.get("view_id"), args.get("external_id")
    user = args.get("user_id")
    with ws.lock:
        if isinstance(trigger, str) and trigger in ws.triggers:
            return True
        if (view_id or external_id) and ws.find_view(view_id, external_id) is not None:
            return True
        return isinstance(user, str) and (user in ws.homes or bool(ws.modals.get(user)))
