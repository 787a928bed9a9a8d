"""Answering the stand-in's requests once the HTTP side has read them: a Web API call goes past the
uninstall, rate-limit and token checks to its method (:data:`.methods.METHODS`); a post to a response
URL and a file upload go to :mod:`.chat` and :mod:`.files`. Every request is recorded as a
:class:`~emulator.slack.model.Call`.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any

from emulator.slack import chat, files, methods
from emulator.slack.common import ApiError, Context, Settings, decode_json_arg
from emulator.slack.model import Call, Workspace
from emulator.slack.tiers import RateTiers

# What Slack answers a bot token of an app removed from its workspace (its bot user is deactivated);
# see https://github.com/slackapi/bolt-python/issues/1029 and the error lists of each method.
UNINSTALLED_ERROR = "account_inactive"


class Router:
    """The stand-in's answers to requests, over its workspace and settings. ``revoked`` holds the bot
    tokens of an uninstall; ``tiers`` applies Slack's rate tiers when set."""

    def __init__(
        self, workspace: Workspace, settings: Settings, ctx: Context, tiers: RateTiers | None
    ) -> None:
        self.workspace = workspace
        self.settings = settings
        self.ctx = ctx
        self.revoked: set[str] = set()  # bot tokens of an uninstall: answered UNINSTALLED_ERROR
        self.tiers = tiers

    def _record(self, method: str, args: dict[str, Any], token: str | None, status: int, body: dict) -> None:
        call = Call(method=method, args=args, token=token, at=time.time(), status=status, response=body)
        self.workspace.calls.append(call)

    def _rate_limited(self, method: str) -> int | None:
        for key in (method, "*"):
            limit = self.workspace.rate_limits.get(key)
            if limit and limit[0] > 0:
                limit[0] -= 1
                return limit[1]
        return None

    def handle_api(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict, dict[str, str]]:
        """Answer one Web API call: (status, body, extra headers)."""
        headers: dict[str, str] = {}
        with self.workspace.lock:
            status, body = 200, {"ok": False, "error": "unknown_method"}
            retry_after = self._rate_limited(method)
            if retry_after is None and self.tiers is not None and method in methods.METHODS:
                retry_after = self.tiers.check(method, args)
            if retry_after is not None:
                status, body = 429, {"ok": False, "error": "ratelimited"}
                headers["Retry-After"] = str(retry_after)
            elif method in methods.METHODS:
                try:
                    if token is not None and token in self.revoked:
                        raise ApiError(UNINSTALLED_ERROR)
                    if method in methods.APP_LEVEL:
                        _check_token(token, self.settings.app_token, other=self.settings.bot_token)
                    elif method not in methods.NO_AUTH:
                        _check_token(token, self.settings.bot_token, other=self.settings.app_token)
                    body = {"ok": True, **methods.METHODS[method](self.ctx, args)}
                except ApiError as exc:
                    body = exc.body()
            self._record(method, _decoded(args), token, status, body)
        self.workspace.flush()
        if method == "auth.test" and body.get("ok"):  # https://docs.slack.dev/reference/methods/auth.test
            headers["X-OAuth-Scopes"] = ",".join(sorted(self.settings.granted))
        return status, body, headers

    def handle_response_url(self, key: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        try:
            payload: Any = json.loads(raw or b"null")
        except ValueError:
            payload = None
        with self.workspace.lock:
            status, body = chat.post_to_response_url(self.ctx, key, payload)
            args = dict(payload) if isinstance(payload, dict) else {"raw": raw.decode("utf-8", "replace")}
            url = self.settings.base_url + "response/" + key
            self._record("response_url", {**args, "url": url}, None, status, body)
        self.workspace.flush()
        return status, body

    def handle_upload(self, key: str, data: bytes) -> tuple[int, str]:
        with self.workspace.lock:
            status, text = files.receive_upload(self.ctx, key, data)
            self._record("file_upload", {"key": key, "bytes": len(data)}, None, status, {"ok": status == 200})
        self.workspace.flush()
        return status, text


def _check_token(token: str | None, expected: str, other: str) -> None:
    """``other`` is the workspace's token of the other kind (bot or app-level): Slack knows it, and says
    that this method does not take it."""
    if not token:
        raise ApiError("not_authed")
    if token == other:
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
