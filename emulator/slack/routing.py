"""Answering the stand-in's requests once the HTTP side has read them.

A Web API call is answered by the workspace its token belongs to (:class:`~emulator.slack.teams.Teams`):
past that workspace's uninstall, rate-limit and token checks to its method (:data:`.methods.METHODS`),
which reads and writes only that workspace. A call with an organization's org-wide token is answered by
the member workspace it is about (:meth:`~emulator.slack.enterprise.SlackEnterprise.locate`), as the
organization's installation sees it there. A post to a response URL or an upload URL goes to the
workspace that issued it (:mod:`.chat`, :mod:`.files`). ``oauth.v2.access`` and the authorize step go
to :mod:`.oauth`. Every request is recorded as a :class:`~emulator.slack.model.Call` in the workspace
that answered it; calls with a token no workspace knows (and app-level calls) in the default one.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from emulator.slack import chat, files, methods
from emulator.slack.common import ApiError, Context, decode_json_arg
from emulator.slack.model import Call
from emulator.slack.oauth import OAuthInstaller
from emulator.slack.teams import SlackTeam, Teams

# What Slack answers a bot token of an app removed from its workspace (its bot user is deactivated);
# see https://github.com/slackapi/bolt-python/issues/1029 and the error lists of each method.
UNINSTALLED_ERROR = "account_inactive"
OAUTH_ACCESS = "oauth.v2.access"  # no token: the code names the workspace
AUTHORIZE = "oauth/v2/authorize"  # how the authorize step is recorded


class Router:
    """The stand-in's answers to requests, over its workspaces (``teams``) and OAuth (``oauth``)."""

    def __init__(self, teams: Teams, oauth: OAuthInstaller) -> None:
        self.teams = teams
        self.oauth = oauth

    @staticmethod
    def _record(
        team: SlackTeam, method: str, args: dict[str, Any], token: str | None, status: int, body: dict
    ) -> None:
        call = Call(method=method, args=args, token=token, at=time.time(), status=status, response=body)
        team.workspace.calls.append(call)

    def handle_api(
        self, method: str, args: dict[str, Any], token: str | None, client: tuple[str, str] | None = None
    ) -> tuple[int, dict, dict[str, str]]:
        """Answer one Web API call: (status, body, extra headers). ``client`` is the HTTP Basic
        credentials of ``oauth.v2.access``."""
        if method == OAUTH_ACCESS:
            return self._oauth_access(args, client)
        team, ctx, org_state = self._answering(token, args)
        app_token = self.teams.default.settings.app_token
        app_level = method in methods.APP_LEVEL
        is_bot_token = app_level and self.teams.is_bot_token(token)
        headers: dict[str, str] = {}
        with team.workspace.lock:
            expected, revoked = org_state or (team.settings.bot_token, token in team.revoked)
            status, body = 200, {"ok": False, "error": "unknown_method"}
            retry_after = team.rate_limited(method)
            if retry_after is None and team.tiers is not None and method in methods.METHODS:
                retry_after = team.tiers.check(method, args)
            if retry_after is not None:
                status, body = 429, {"ok": False, "error": "ratelimited"}
                headers["Retry-After"] = str(retry_after)
            elif method in methods.METHODS:
                try:
                    if token is not None and revoked:
                        raise ApiError(UNINSTALLED_ERROR)
                    if app_level:
                        _check_token(token, app_token, other_kind=is_bot_token)
                    elif method not in methods.NO_AUTH:
                        _check_token(token, expected, other_kind=token == app_token)
                    body = {"ok": True, **methods.METHODS[method](ctx, args)}
                except ApiError as exc:
                    body = exc.body()
            self._record(team, method, _decoded(args), token, status, body)
        team.workspace.flush()
        if method == "auth.test" and body.get("ok"):  # https://docs.slack.dev/reference/methods/auth.test
            headers["X-OAuth-Scopes"] = ",".join(sorted(ctx.settings.granted))
        return status, body, headers

    def _answering(
        self, token: str | None, args: dict[str, Any]
    ) -> tuple[SlackTeam, Context, tuple[str, bool] | None]:
        """(the workspace that answers a call with ``token``, the context its method sees, and for an
        organization's token: (its live token, whether ``token`` was revoked); None for a workspace's,
        whose state is read under the workspace's lock)."""
        org = self.teams.enterprise_for_token(token)
        team = org.locate(args) if org is not None else None
        if org is None or team is None:
            team = self.teams.for_token(token) or self.teams.default
            return team, team.ctx, None
        org.gather_files(team, args)
        return team, org.context_in(team), org.token_state(token)

    def _oauth_access(
        self, args: dict[str, Any], client: tuple[str, str] | None
    ) -> tuple[int, dict, dict[str, str]]:
        team = self.oauth.team_for_code(args.get("code")) or self.teams.default
        with team.workspace.lock:
            retry_after = team.rate_limited(OAUTH_ACCESS)
        if retry_after is not None:
            status, body = 429, {"ok": False, "error": "ratelimited"}
        else:
            status = 200
            try:
                body = {"ok": True, **self.oauth.access(args, client)}
            except ApiError as exc:
                body = exc.body()
        recorded = {k: v for k, v in _decoded(args).items() if k != "client_secret"}
        if client is not None:
            recorded["client_id"] = client[0]
        with team.workspace.lock:
            self._record(team, OAUTH_ACCESS, recorded, None, status, body)
        team.workspace.flush()
        return status, body, {"Retry-After": str(retry_after)} if retry_after is not None else {}

    def handle_authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """Answer ``GET /oauth/v2/authorize``: (status, headers, HTML body)."""
        status, headers, page = self.oauth.authorize(query)
        team = self.oauth.team_for_authorize(query)
        outcome = {"ok": status == 302, "location": headers.get("Location")}
        with team.workspace.lock:
            self._record(team, AUTHORIZE, dict(query), None, status, outcome)
        team.workspace.flush()
        return status, headers, page

    def handle_response_url(self, key: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            payload: Any = json.loads(raw or b"null")
        except ValueError:
            payload = None
        team = self.teams.for_response_url(key)
        with team.workspace.lock:
            status, body = chat.post_to_response_url(team.ctx, key, payload)
            args = dict(payload) if isinstance(payload, dict) else {"raw": raw.decode("utf-8", "replace")}
            url = team.settings.base_url + "response/" + key
            self._record(team, "response_url", {**args, "url": url}, None, status, body)
        team.workspace.flush()
        return status, body

    def handle_upload(self, key: str, data: bytes) -> tuple[int, str]:
        team = self.teams.for_upload(key)
        with team.workspace.lock:
            status, text = files.receive_upload(team.ctx, key, data)
            ok = {"ok": status == 200}
            self._record(team, "file_upload", {"key": key, "bytes": len(data)}, None, status, ok)
        team.workspace.flush()
        return status, text


def _check_token(token: str | None, expected: str, *, other_kind: bool) -> None:
    """``other_kind``: the token is a live token of the other kind (bot or app-level); Slack knows it,
    and says that this method does not take it."""
    if not token:
        raise ApiError("not_authed")
    if other_kind:
        raise ApiError("not_allowed_token_type")
    if token != expected:
        raise ApiError("invalid_auth")


def _decoded(args: dict[str, Any]) -> dict[str, Any]:
    """The arguments as recorded: JSON strings of blocks, views and files decoded, the token dropped."""
    out = {k: v for k, v in args.items() if k != "token"}
    for key in ("blocks", "view", "attachments", "files", "metadata"):
        with contextlib.suppress(ValueError):
            out[key] = decode_json_arg(out, key)
        if out.get(key) is None:
            out.pop(key, None)
    return out
