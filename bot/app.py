"""The Slack app: ``create_app(settings, services)`` builds Bolt's ``App`` with a Web API client on
``SLACK_API_URL`` (so every call can go to a local stand-in) and registers the listeners. Nothing is
built at import time."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

import commands
from commands.common import Deps
from commands.shape import well_formed
from services.access import Access

log = logging.getLogger(__name__)


class _SameTokenNotice(logging.Filter):
    """Bolt warns that ``SLACK_BOT_TOKEN`` (read from the environment) goes unused when it is given a
    client: the client carries that very token, so the warning says nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


LISTENER_THREADS = 32  # acknowledgements and the slow work after them share this pool


class QbsyncApp(App):
    """Bolt's App, refusing (400) a body not shaped as Slack sends it before Bolt reads it: Bolt builds
    every listener argument eagerly and would fail with a 500."""

    verifier: SignatureVerifier | None = None  # HTTP mode: a malformed body that is not signed is a 401

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        if not well_formed(req.body):
            headers = {name: values[0] for name, values in req.headers.items() if values}
            if self.verifier is not None and not self.verifier.is_valid_request(req.raw_body, headers):
                return BoltResponse(status=401, body="")
            log.warning("a Slack request of an unexpected shape was refused (400)")
            return BoltResponse(status=400, body="")
        return super().dispatch(req)


def web_client(settings, token: str | None = None) -> WebClient:
    token = token or (settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None)
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )


def create_app(settings, services, *, socket_mode: bool = False, connect_url: str | None = None) -> App:
    """The Bolt app for ``settings``; ``services`` is the composition root (``services.bootstrap``)."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    bolt_log = logging.getLogger("bot.bolt")
    if not any(isinstance(f, _SameTokenNotice) for f in bolt_log.filters):
        bolt_log.addFilter(_SameTokenNotice())
    app = QbsyncApp(
        client=web_client(settings),
        signing_secret=secret,
        request_verification_enabled=not socket_mode,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="qbsync-slack"),
        logger=bolt_log,
    )
    if secret and not socket_mode:
        app.verifier = SignatureVerifier(secret)
    access = Access.from_settings(settings)
    if access.open_to_everyone:
        log.warning("QBSYNC_FIXERS is not set: every member of the workspace can run fixes")
    connect_url = connect_url or settings.connect_url  # {QBSYNC_PUBLIC_URL}/qbo/connect
    commands.register(app, Deps(services=services, access=access, connect_url=connect_url))
    return app
