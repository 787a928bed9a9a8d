"""The HTTP face of ``qbsync serve``: a WSGI application (served by gunicorn) with Slack's request
URL, connecting QuickBooks in the browser and the TMS events (``bot/routes/``), and a health check.
Every answer is short and plain; no request produces a stack trace."""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from flask import Flask, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_bolt.adapter.flask.handler import to_bolt_request, to_flask_response
from werkzeug.exceptions import HTTPException

from bot import routes

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack's payloads are far below this; bigger bodies are refused with 413


def create_web_app(slack_app: App, services) -> Flask:
    web = Flask("qbsync")
    web.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    slack = SlackRequestHandler(slack_app)

    @web.post("/slack/events")
    def slack_events() -> Response | tuple[Response, int]:
        raw = request.get_data(cache=True)
        if request.content_length is None and len(raw) >= MAX_BODY:  # chunked: cut at the limit
            return jsonify(error="Request Entity Too Large", message="The body is over 1 MB."), 413
        try:  # Bolt parses the body before it checks the signature: what it cannot parse is refused
            bolt_request = to_bolt_request(request)
            usable = isinstance(bolt_request.body, dict)
        except Exception:  # noqa: BLE001 - any parse failure of an unverified body
            usable = False
        if not usable:
            log.warning("POST /slack/events refused: the body is not a Slack request")
            return jsonify(error="Bad Request", message="The body is not a Slack request."), 400
        return to_flask_response(slack.app.dispatch(bolt_request))

    routes.register(web, slack_app, services)

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
