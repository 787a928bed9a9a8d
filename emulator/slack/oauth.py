"""Installing the app with OAuth v2, as Slack does it (https://docs.slack.dev/authentication/installing-with-oauth).

* ``GET /oauth/v2/authorize?client_id=…&scope=…&user_scope=…&redirect_uri=…&state=…[&team=T…]``: the
  person approves at once; ``302`` to ``redirect_uri?code=…&state=…``. The workspace is ``team``
  (Slack's way to preselect one), else the default workspace. Test hooks in the query: ``deny=1`` →
  ``302`` to ``redirect_uri?error=access_denied&state=…``; ``user=U…`` → who installs (default: the
  stand-in's default user); ``enterprise=E…`` (instead of ``team``) → an admin of that Enterprise
  Grid organization installs the app for the whole organization (an org-wide install, see
  :mod:`.enterprise`; an unknown organization, or one without workspaces, is ``invalid_enterprise``; an
  installer who is a user of a workspace outside it, ``user_not_found``). An unknown ``client_id`` or
  ``team``, a ``redirect_uri`` missing (with no Redirect URL configured) or outside the configured
  ones, and scopes the app's manifest does not ask for are answered ``400`` with a short HTML page
  naming the error: Slack shows an error page there, it does not redirect.
* ``POST /api/oauth.v2.access`` (``code``, ``redirect_uri``; the client credentials as HTTP Basic auth,
  as slack_sdk sends them, or as the form fields ``client_id``/``client_secret``) answers like
  https://docs.slack.dev/reference/methods/oauth.v2.access: ``access_token`` (``xoxb-…``),
  ``token_type: "bot"``, ``scope``, ``bot_user_id``, ``app_id``, ``team``, ``enterprise``,
  ``authed_user``, ``is_enterprise_install``; for an org-wide install ``"team": null``, the
  ``enterprise`` and ``"is_enterprise_install": true``, with one token for the organization
  (https://api.slack.com/enterprise/apps/reference, "Sample oauth.v2.access response"). Refusals:
  ``invalid_client_id``, ``bad_client_secret``, ``invalid_code`` (unknown, already exchanged, or
  older than ``code_ttl`` — ten minutes), ``bad_redirect_uri`` (a ``redirect_uri`` given at the
  authorize step must be repeated identically), ``invalid_grant_type``, ``invalid_refresh_token``
  (token rotation is off: there are no refresh tokens).

Installing into a workspace whose app was uninstalled issues a new token (the revoked one stays
refused); installing again while installed answers the current token, its scopes widened. The bot
token carries the bot scopes requested.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from emulator.slack.app_requests import DEFAULT_USER
from emulator.slack.common import USER_ID, ApiError, Settings, manifest_bot_scopes

if TYPE_CHECKING:
    from emulator.slack.teams import SlackTeam, Teams

AUTHORIZE_PATH = "/oauth/v2/authorize"
SCOPE_SEPARATOR = re.compile(r"[,\s]+")


@dataclass
class Grant:
    """An authorization code: who approved what, in which workspace, redirected where."""

    code: str
    team_id: str  # "" for an org-wide install
    user_id: str
    scopes: frozenset[str]
    redirect_uri: str | None  # as given at the authorize step (None: not given, the configured one used)
    used_redirect: str
    issued: float
    used: bool = False
    enterprise_id: str | None = None  # an org-wide install of this organization


@dataclass(frozen=True)
class Install:
    """A completed installation (an ``oauth.v2.access`` that answered ``ok``); an org-wide one has no
    ``team_id`` and ``is_enterprise_install``."""

    team_id: str | None
    enterprise_id: str | None
    user_id: str
    scopes: frozenset[str]
    bot_token: str
    bot_user_id: str
    new_token: bool  # False: the app was installed already and kept its token
    at: float
    is_enterprise_install: bool = False


class OAuthError(Exception):
    """An authorize request Slack answers with an error page (400), not a redirect."""

    def __init__(self, error: str, detail: str = "") -> None:
        super().__init__(error)
        self.error = error
        self.detail = detail


def scope_list(value: str | None) -> frozenset[str]:
    """Scopes as the authorize URL carries them: comma-separated (spaces tolerated)."""
    return frozenset(s for s in SCOPE_SEPARATOR.split(value or "") if s)


def error_page(error: str, detail: str = "") -> str:
    more = f"<p>{html.escape(detail)}</p>" if detail else ""
    return (
        "<!DOCTYPE html><html><head><title>Slack</title></head><body>"
        f"<h1>Something went wrong</h1><p>{html.escape(error)}</p>{more}</body></html>"
    )


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from an ``Authorization: Basic …`` header, else ``None``."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


class OAuthInstaller:
    """The authorize step and ``oauth.v2.access`` over the stand-in's workspaces. Thread-safe; its lock
    is taken before a workspace's, never while one is held."""

    def __init__(
        self, teams: Teams, settings: Settings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.teams = teams
        self.settings = settings  # the app's (the default workspace's) settings
        self.clock = clock
        self._lock = threading.Lock()
        self._grants: dict[str, Grant] = {}
        self._installs: list[Install] = []

    @property
    def authorize_url(self) -> str:
        return self.settings.base_url + AUTHORIZE_PATH.lstrip("/")

    # -- the authorize step -------------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """Answer ``GET /oauth/v2/authorize``: (status, headers, HTML body)."""
        try:
            location = self._authorize(query)
        except OAuthError as exc:
            return 400, {"Content-Type": "text/html; charset=utf-8"}, error_page(exc.error, exc.detail)
        return 302, {"Location": location, "Content-Type": "text/html; charset=utf-8"}, ""

    def team_for_authorize(self, query: dict[str, str]) -> SlackTeam:
        """The workspace an authorize request is for (the default one when unknown; an organization's
        first workspace for an org-wide install), to record it in."""
        org = self.teams.enterprise(query.get("enterprise"))
        members = org.teams() if org is not None else []
        return members[0] if members else self.teams.get(query.get("team") or "") or self.teams.default

    def _authorize(self, query: dict[str, str]) -> str:
        s = self.settings
        if query.get("client_id") != s.client_id:
            raise OAuthError("invalid_client_id", "Unknown client_id.")
        redirect_given = query.get("redirect_uri") or None
        redirect = self._redirect_for(redirect_given)
        if query.get("enterprise"):
            return self._authorize_org(query, redirect, redirect_given)
        team = self.teams.get(query["team"]) if query.get("team") else self.teams.default
        if team is None:
            raise OAuthError("invalid_team", f"No workspace {query['team']}.")
        scopes = _requested_scopes(query)
        user = query.get("user") or DEFAULT_USER
        if not USER_ID.fullmatch(user) or _owned_elsewhere(team, user):
            raise OAuthError("user_not_found", f"{user} is not a member of {team.team_id}.")
        return self._grant(query, redirect, redirect_given, scopes, user, team_id=team.team_id)

    def _authorize_org(self, query: dict[str, str], redirect: str, redirect_given: str | None) -> str:
        """An org admin approves an install for the whole organization ``query["enterprise"]``."""
        org = self.teams.enterprise(query["enterprise"])
        if org is None or not org.teams():
            raise OAuthError("invalid_enterprise", f"No organization {query['enterprise']} with workspaces.")
        if query.get("team"):
            raise OAuthError("invalid_team", "A workspace or the whole organization, not both.")
        scopes = _requested_scopes(query)
        user = query.get("user") or DEFAULT_USER
        owner = org.teams()[0].claims.owner("user", user)
        if not USER_ID.fullmatch(user) or (owner is not None and owner not in org.team_ids()):
            raise OAuthError("user_not_found", f"{user} is not a member of {org.enterprise_id}.")
        return self._grant(query, redirect, redirect_given, scopes, user, enterprise_id=org.enterprise_id)

    def _grant(
        self,
        query: dict[str, str],
        redirect: str,
        redirect_given: str | None,
        scopes: frozenset[str],
        user: str,
        *,
        team_id: str = "",
        enterprise_id: str | None = None,
    ) -> str:
        state = {"state": query["state"]} if "state" in query else {}
        if query.get("deny") in ("1", "true"):
            return _with_query(redirect, {"error": "access_denied", **state})
        grant = Grant(
            code=f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(32)}",
            team_id=team_id,
            user_id=user,
            scopes=scopes,
            redirect_uri=redirect_given,
            used_redirect=redirect,
            issued=self.clock(),
            enterprise_id=enterprise_id,
        )
        with self._lock:
            self._grants[grant.code] = grant
        return _with_query(redirect, {"code": grant.code, **state})

    def _redirect_for(self, given: str | None) -> str:
        """The redirect URL: the one given, if the app's settings allow it, else the first configured."""
        configured = self.settings.redirect_urls
        if given is None:
            if not configured:
                raise OAuthError("bad_redirect_uri", "No redirect_uri, and the app configures none.")
            return configured[0]
        parts = urlsplit(given)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise OAuthError("bad_redirect_uri", "redirect_uri is not a URL.")
        if configured and not any(_under(given, allowed) for allowed in configured):
            raise OAuthError("bad_redirect_uri", "redirect_uri did not match any configured URIs.")
        return given

    # -- oauth.v2.access ----------------------------------------------------------------------------------

    def team_for_code(self, code: str | None) -> SlackTeam | None:
        """The workspace the code's install is for (an org-wide one's: the organization's first)."""
        with self._lock:
            grant = self._grants.get(code or "")
        if grant is not None and grant.enterprise_id:
            org = self.teams.enterprise(grant.enterprise_id)
            members = org.teams() if org is not None else []
            return members[0] if members else None
        return self.teams.get(grant.team_id) if grant else None

    def access(self, args: dict[str, Any], basic: tuple[str, str] | None) -> dict[str, Any]:
        """Answer ``oauth.v2.access``: the body of an ``ok`` answer; raises :class:`ApiError`."""
        s = self.settings
        client_id, secret = basic or (str(args.get("client_id") or ""), str(args.get("client_secret") or ""))
        if client_id != s.client_id:
            raise ApiError("invalid_client_id")
        if not secrets.compare_digest(secret.encode(), s.client_secret.encode()):
            raise ApiError("bad_client_secret")
        grant_type = args.get("grant_type") or "authorization_code"
        if grant_type == "refresh_token":
            raise ApiError("invalid_refresh_token")
        if grant_type != "authorization_code":
            raise ApiError("invalid_grant_type")
        with self._lock:
            grant = self._grants.get(str(args.get("code") or ""))
            if grant is None or grant.used or self.clock() - grant.issued > s.code_ttl:
                raise ApiError("invalid_code")
            redirect = args.get("redirect_uri") or None
            if grant.redirect_uri is not None and redirect != grant.redirect_uri:
                raise ApiError("bad_redirect_uri")
            if redirect is not None and redirect != grant.used_redirect:
                raise ApiError("bad_redirect_uri")
            if grant.enterprise_id:
                return self._access_org(grant)
            team = self.teams.get(grant.team_id)
            if team is None:
                raise ApiError("invalid_code")
            grant.used = True
            token, new = team.install(grant.scopes)
            self._installs.append(
                Install(
                    team_id=team.team_id,
                    enterprise_id=team.enterprise_id,
                    user_id=grant.user_id,
                    scopes=team.scopes,
                    bot_token=token,
                    bot_user_id=team.bot_user_id,
                    new_token=new,
                    at=time.time(),
                )
            )
        enterprise = None
        if team.enterprise_id:
            name = team.enterprise_name or team.enterprise_id.lower()
            enterprise = {"id": team.enterprise_id, "name": name}
        return {
            "app_id": team.app_id,
            "authed_user": {"id": grant.user_id},
            "scope": ",".join(sorted(team.scopes)),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": team.bot_user_id,
            "team": {"id": team.team_id, "name": team.team_name},
            "enterprise": enterprise,
            "is_enterprise_install": False,
        }

    def _access_org(self, grant: Grant) -> dict[str, Any]:
        """``oauth.v2.access`` for an org-wide install (the caller holds the lock)."""
        org = self.teams.enterprise(grant.enterprise_id)
        if org is None:
            raise ApiError("invalid_code")
        grant.used = True
        token, new = org.install(grant.scopes, grant.user_id)
        self._installs.append(
            Install(
                team_id=None,
                enterprise_id=org.enterprise_id,
                user_id=grant.user_id,
                scopes=org.scopes,
                bot_token=token,
                bot_user_id=org.bot_user_id,
                new_token=new,
                at=time.time(),
                is_enterprise_install=True,
            )
        )
        return {
            "app_id": org.app_id,
            "authed_user": {"id": grant.user_id},
            "scope": ",".join(sorted(org.scopes)),
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": org.bot_user_id,
            "team": None,
            "enterprise": {"id": org.enterprise_id, "name": org.name},
            "is_enterprise_install": True,
        }

    # -- what tests read ----------------------------------------------------------------------------------

    def installs(self, team_id: str | None = None) -> list[Install]:
        with self._lock:
            return [i for i in self._installs if team_id is None or i.team_id == team_id]

    def reset(self) -> None:
        with self._lock:
            self._grants.clear()
            self._installs.clear()


def _requested_scopes(query: dict[str, str]) -> frozenset[str]:
    """The bot scopes an authorize request asks for, checked against the app's configuration."""
    scopes, user_scopes = scope_list(query.get("scope")), scope_list(query.get("user_scope"))
    if not scopes and not user_scopes:
        raise OAuthError("no_scopes", "No scopes were requested.")
    unknown = (scopes - manifest_bot_scopes()) | user_scopes  # manifest.yml asks for no user scopes
    if unknown:
        raise OAuthError("invalid_scope", "Not in the app's configuration: " + ",".join(sorted(unknown)))
    return scopes


def _owned_elsewhere(team: SlackTeam, user: str) -> bool:
    owner = team.claims.owner("user", user)
    return owner is not None and owner != team.team_id


def _under(url: str, allowed: str) -> bool:
    """Whether ``url`` is the configured Redirect URL ``allowed`` or a path below it (same scheme, host
    and port), as Slack accepts."""
    a, b = urlsplit(url), urlsplit(allowed)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        return False
    base = b.path.rstrip("/")
    return a.path == b.path or a.path.startswith(base + "/")


def _with_query(url: str, params: dict[str, str]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return url + separator + urlencode(params)
