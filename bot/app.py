"""The Slack app: ``build_bolt_app(settings, engine)`` builds Bolt's ``App`` with a Web API client on
``SLACK_API_URL`` (so every call can go to a local stand-in) and the checks every request passes before
Bolt reads it; ``wiring.slack.create_app`` registers the listeners. Nothing is built at import time."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.exc import SQLAlchemyError

from bot.shape import allow_api_origin, origin_of, problem, response_url_of, slack_response_url
from services.access.workspace import LOST_ERRORS, SlackAccessStore
from services.catalogue.workspaces import NOT_INSTALLED

log = logging.getLogger(__name__)


class _SameTokenNotice(logging.Filter):
    """Bolt warns that ``SLACK_BOT_TOKEN`` (read from the environment) goes unused when it is given a
    client: the client carries that very token, so the warning says nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


LISTENER_THREADS = 32  # acknowledgements and the slow work after them share this pool


class QbsyncApp(App):
    """Bolt's App, checking every request before Bolt reads it. Over HTTP, a request whose signature or
    timestamp cannot be verified is answered 401 before any middleware, listener or error handler runs
    (Bolt's own check raises on a timestamp that is not a number, and its error path then trusts the
    body). A verified body not shaped as Slack sends it, one that nothing listens to, or one whose
    ``response_url`` is not Slack's is answered 400 with one warning line. Socket Mode requests arrive
    over the app-level WebSocket and carry no signature."""

    signing_secret: str | None = None  # HTTP mode; None in Socket Mode
    api_url: str | None = None  # SLACK_API_URL: its origin holds the response URLs of a local stand-in

    def unverified(self, raw: bytes, headers: Mapping[str, Any]) -> str | None:
        """Why a request over HTTP cannot be verified, or None when Slack signed it just now."""
        if not self.signing_secret:
            return "no signing secret is configured"
        return signature_problem(self.signing_secret, raw, headers)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        if req.mode != "socket_mode":
            why = self.unverified(req.raw_body.encode("utf-8", "replace"), req.headers)
            if why is not None:
                log.info("a request to the Slack URL was refused (401): %s", why)
                return BoltResponse(status=401, body="")
        why = problem(req.body)
        if why is None:
            url = response_url_of(req.body)
            if url is not None and not slack_response_url(url, self.api_url):
                why = f"its response_url is not Slack's ({origin_of(url)})"
        if why is None and _for_listeners(req.body) and not self._listened(req):
            why = "nothing in the app listens to it"
        if why is not None:
            log.warning("a Slack request was refused (400): %s", why)
            return BoltResponse(status=400, body="")
        return super().dispatch(req)

    def _listened(self, req: BoltRequest) -> bool:
        resp = BoltResponse(status=200, body="")
        return any(listener.matches(req=req, resp=resp) for listener in self._listeners)


def _for_listeners(body: dict[str, Any]) -> bool:
    """Bolt answers ``url_verification`` and ``ssl_check`` itself; everything else needs a listener."""
    return body.get("type") != "url_verification" and "ssl_check" not in body


TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
MAX_AGE = 300  # seconds either way, as Slack documents


def signature_problem(secret: str, raw: bytes, headers: Mapping[str, Any]) -> str | None:
    """Why ``raw`` with these headers is not a request Slack signed with ``secret`` in the last five
    minutes, or None. The headers are checked for their shape first — exactly one
    ``X-Slack-Request-Timestamp`` of ASCII digits and one ``X-Slack-Signature`` of ``v0=`` and 64 hex
    digits — because slack_sdk's verifier raises on a timestamp that is not an integer; then slack_sdk
    checks the age and the HMAC (constant-time) over the body's bytes as received."""
    timestamp = _one(headers, "x-slack-request-timestamp")
    signature = _one(headers, "x-slack-signature")
    if timestamp is None or signature is None:
        return "the signature headers are missing or repeated"
    if not TIMESTAMP.fullmatch(timestamp):
        return "the timestamp is not a number of seconds"
    if abs(time.time() - int(timestamp)) > MAX_AGE:
        return "the timestamp is more than five minutes away"
    if not SIGNATURE.fullmatch(signature):
        return "the signature is not a v0 signature"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    if not SignatureVerifier(secret).is_valid(body=raw, timestamp=timestamp, signature=signature):
        return "the signature does not match"
    return None


def _one(headers: Mapping[str, Any], name: str) -> str | None:
    """The one value of header ``name`` (any case), or None when it is missing or given twice (a WSGI
    server joins repeated headers with commas)."""
    if hasattr(headers, "getlist"):  # werkzeug's headers: case-insensitive already
        values = list(headers.getlist(name))
    else:  # Bolt's: lower-case names, each with its list of values
        values = []
        for key, found in headers.items():
            if isinstance(key, str) and key.lower() == name:
                values += [found] if isinstance(found, str) else list(found)
    if len(values) != 1 or not isinstance(values[0], str) or "," in values[0]:
        return None
    return values[0]


class NoticeLostAccess(RetryHandler):
    """Never retries: notes every answer of Slack that means the app lost its workspace
    (``invalid_auth``, ``token_revoked``, ``account_inactive``) in the database, so the scheduler's
    Slack jobs stop calling Slack with a dead token. Bolt copies it into each request's client."""

    def __init__(self, access: SlackAccessStore, token: str | None) -> None:
        super().__init__(max_retry_count=0)
        self.access = access
        self.token = token

    def __deepcopy__(self, memo: dict) -> NoticeLostAccess:
        return self  # Bolt copies each request (lazy listeners): the database stays shared, not copied

    def can_retry(self, *, state, request, response=None, error=None) -> bool:
        body = getattr(response, "body", None)
        if isinstance(body, dict) and body.get("ok") is False and body.get("error") in LOST_ERRORS:
            try:
                self.access.lost(body["error"], self.token)
            except Exception:  # the database is down: the call's own error still reaches its caller
                log.warning("could not record that Slack refused the token", exc_info=True)
        return False


_ENVIRONMENT_TOKEN = object()


def web_client(
    settings, token: Any = _ENVIRONMENT_TOKEN, *, access: SlackAccessStore | None = None
) -> WebClient:
    """A Web API client on ``SLACK_API_URL`` with ``token`` (by default ``SLACK_BOT_TOKEN``); with
    ``access``, Slack's refusals of the token are recorded."""
    if token is _ENVIRONMENT_TOKEN:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    handlers: list[RetryHandler] = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
    ]
    if access is not None:
        handlers.insert(0, NoticeLostAccess(access, token))
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=15, retry_handlers=handlers)


def checked_client(settings, engine) -> tuple[WebClient, dict[str, Any]]:
    """The start-up check: ``auth.test`` with ``SLACK_BOT_TOKEN``. Accepted, a recorded loss of Slack
    access is cleared (logged) and the Slack jobs resume; refused, the loss is recorded and
    ``SlackApiError`` raised. Returns the client (recording refusals) and Slack's answer."""
    access = SlackAccessStore(engine)
    client = web_client(settings, access=access)
    who = client.auth_test()
    try:
        access.restored()
    except SQLAlchemyError as exc:  # no tables yet (before qbsync db upgrade): nothing was recorded
        log.info("Slack access not checked in the database (%s)", type(exc).__name__)
    return client, who.data if isinstance(who.data, dict) else {}


def build_bolt_app(settings, engine, *, socket_mode: bool = False, install=None) -> QbsyncApp:
    """Bolt's app for ``settings``, with no listeners yet (``wiring.slack.create_app`` adds them): a Web
    API client on ``SLACK_API_URL`` that records Slack's refusals of the token in ``engine``. In
    distribution mode (``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET``) Bolt's OAuth flow serves
    ``/slack/install`` and ``/slack/oauth_redirect``, keeps each workspace's installation in the
    database and finds every request's bot token there; ``install`` (a ``bot.install.Install``) says
    what happens when a workspace installs."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    bolt_log = logging.getLogger("bot.bolt")
    if not any(isinstance(f, _SameTokenNotice) for f in bolt_log.filters):
        bolt_log.addFilter(_SameTokenNotice())
    common: dict[str, Any] = {
        "signing_secret": secret,
        "request_verification_enabled": not socket_mode,
        "process_before_response": False,
        "listener_executor": ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="qbsync-slack"),
        "logger": bolt_log,
    }
    if settings.distribution and install is not None:
        # Every workspace's token comes from its installation; Slack's refusals of it arrive as
        # app_uninstalled / tokens_revoked events (commands.events), not through a shared client.
        app = QbsyncApp(
            client=web_client(settings, token=None),
            oauth_settings=install.oauth_settings(),
            installation_store_bot_only=True,
            user_facing_authorize_error_message=NOT_INSTALLED,  # a workspace that removed the app
            **common,
        )
    else:
        app = QbsyncApp(client=web_client(settings, access=SlackAccessStore(engine)), **common)
    app.signing_secret = None if socket_mode else secret
    app.api_url = settings.slack_api_url
    allow_api_origin(settings.slack_api_url)
    return app
