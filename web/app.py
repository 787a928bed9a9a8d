"""The HTTP face of ``qbsync serve``: a WSGI application (served by gunicorn) with Slack's request
URL, connecting QuickBooks in the browser (``web/connect.py``), the TMS events (``web/tms.py``) and a
health check. Every answer is short and plain; no request produces a stack trace. A request to Slack's URL is
verified (signature and timestamp, over the body's bytes) before its body is even parsed: 401 otherwise."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import Flask, Response, jsonify, request
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.adapter.flask.handler import to_flask_response
from werkzeug.exceptions import HTTPException

from web import connect, qbo_webhooks, tms

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack's payloads are far below this; bigger bodies are refused with 413


class SlackRequest(BoltRequest):
    """Bolt's request, read right when the body is a plain form (a slash command) in which the word
    "payload" appears — in the typed text, a channel or a user name: Bolt's parser then takes it for
    an interactive ``payload=`` form and reads nothing. Copies (for lazy listeners) keep the reading."""

    def __init__(self, *, body: str, query=None, headers=None, context=None) -> None:
        super().__init__(body=body, query=query, headers=headers, context=context)
        form = _plain_form(self.raw_body, self.content_type)
        if form is not None and form != self.body:
            self.body = form  # and the context Bolt derives from the body, derived again from it
            derived = BoltRequest(body=form, headers=headers, context=context, mode="socket_mode")
            self.context = derived.context

    def to_copyable(self) -> SlackRequest:
        return SlackRequest(
            body=self.raw_body, query=self.query, headers=self.headers, context=self.context.to_copyable()
        )


def _plain_form(raw: str, content_type: str | None) -> dict[str, str] | None:
    """The fields of a form body that is not an interactive ``payload=`` form, or None."""
    if content_type == "application/json" or raw.startswith("{") or "payload" not in raw:
        return None
    form = dict(parse_qsl(raw, keep_blank_values=True))
    return None if "payload" in form else form


def _refuse_all(raw: bytes, headers) -> str:
    return "this app does not verify Slack's signature"


def create_web_app(slack_app: App, services) -> Flask:
    web = Flask("qbsync")
    web.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    slack = SlackRequestHandler(slack_app)
    verify = getattr(slack_app, "unverified", None) or _refuse_all

    @web.post("/slack/events")
    def slack_events() -> Response | tuple[Response, int]:
        raw = request.get_data(cache=True)
        if request.content_length is None and len(raw) >= MAX_BODY:  # chunked: cut at the limit
            return jsonify(error="Request Entity Too Large", message="The body is over 1 MB."), 413
        why = verify(raw, request.headers)  # verify first: nothing reads an unverified body
        if why is not None:
            log.info("POST /slack/events refused (401): %s", why)
            return jsonify(error="Unauthorized", message="The request is not signed by Slack."), 401
        try:  # what Bolt cannot parse is refused
            bolt_request = SlackRequest(
                body=raw.decode("utf-8"),
                query=request.query_string.decode("utf-8"),
                headers=request.headers,  # type: ignore[arg-type]
            )
            usable = isinstance(bolt_request.body, dict)
        except Exception:  # noqa: BLE001 - any parse failure of a signed body
            usable = False
        if not usable:
            log.warning("POST /slack/events refused (400): the body is not a Slack request")
            return jsonify(error="Bad Request", message="The body is not a Slack request."), 400
        return to_flask_response(slack.app.dispatch(bolt_request))

    if getattr(slack_app, "oauth_flow", None) is not None:  # distribution mode: "Add to Slack"

        @web.get("/slack/install")
        @web.get("/slack/oauth_redirect")
        def slack_install() -> Response:
            return slack.handle(request)

    connect.register(web, slack_app, services)
    connect.register_app_urls(web, services)
    tms.register(web, services)
    qbo_webhooks.register(web, services)

    @web.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            with services.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # any database failure: unhealthy, said plainly
            log.warning("health check: database unreachable (%s)", type(exc).__name__)
            return jsonify(status="unavailable", database="unreachable"), 503
        return jsonify(status="ok", database="ok"), 200

    @web.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        return jsonify(error=exc.name, message=exc.description), exc.code or 500

    @web.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        error_id = uuid.uuid4().hex[:8]
        log.error("error %s on %s %s", error_id, request.method, request.path, exc_info=exc)
        return jsonify(error="Internal error", error_id=error_id), 500

    return web
