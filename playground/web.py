"""The page and its small JSON API, on the same server as the app's ``/slack/events``.

``GET /`` the page; ``GET /api/state`` what it shows; ``GET /api/events`` a Server-Sent Events stream
that says when that changed; ``POST /api/command|action|submit|close|home|digest`` what a person does.
Posts must be JSON and the Host must be this machine (no other site can drive the playground).
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request

from emulator.slack import SlackStandIn
from playground.person import Person
from playground.safety import is_loopback
from playground.screen import Screen
from playground.workspace import CHANNEL, CHANNEL_NAME, TEAM_NAME, USER_NAME

STREAM_SECONDS = 25.0  # one event stream lasts this long; the browser reconnects by itself
KEEPALIVE_SECONDS = 10.0


def page_blueprint(screen: Screen, person: Person) -> Blueprint:
    """The page and its API: what it shows comes from ``screen``, what is done on it goes to ``person``."""
    page = Blueprint(
        "playground",
        __name__,
        static_folder="static",
        static_url_path="/playground-static",
        template_folder="templates",
    )

    @page.before_request
    def only_this_machine() -> None:
        host = (request.host or "").rsplit(":", 1)[0].strip("[]")
        if not is_loopback(host):
            abort(403, "the playground answers on this machine only")
        if request.method == "POST" and not request.is_json:
            abort(415, "JSON only")

    @page.get("/")
    def index() -> str:
        return render_template(
            "playground.html", team=TEAM_NAME, channel=CHANNEL_NAME, user=USER_NAME, bot="qbsync"
        )

    @page.get("/api/state")
    def state() -> Response:
        return jsonify(screen.state())

    @page.get("/api/events")
    def events() -> Response:
        def stream() -> Iterator[str]:
            yield "retry: 500\n\n"
            seen, until = -1, time.monotonic() + STREAM_SECONDS
            while not screen.stopping.is_set() and time.monotonic() < until:
                version = screen.wait_change(seen, KEEPALIVE_SECONDS)
                if version != seen:
                    seen = version
                    yield f"data: {json.dumps({'version': version})}\n\n"
                else:
                    yield ": still here\n\n"

        return Response(stream(), mimetype="text/event-stream", headers={"Cache-Control": "no-store"})

    @page.post("/api/command")
    def command() -> Response:
        text = _body().get("text", "")
        if not isinstance(text, str):
            abort(400, "text: what follows /qbsync, as a string")
        return jsonify(person.command(text).as_json())

    @page.post("/api/action")
    def action() -> Response:
        data = _body()
        surface = data.get("surface")
        if surface not in ("message", "modal", "home"):
            abort(400, "surface: message, modal or home")
        return jsonify(person.action(surface, data).as_json())

    @page.post("/api/submit")
    def submit() -> Response:
        values = _body().get("values")
        if not isinstance(values, dict):
            abort(400, "values: the view state")
        return jsonify(person.submit(values).as_json())

    @page.post("/api/close")
    def close() -> Response:
        person.close_modal()
        return jsonify(ok=True)

    @page.post("/api/home")
    def home() -> Response:
        return jsonify(person.open_home().as_json())

    @page.post("/api/digest")
    def digest() -> Response:
        return jsonify(ok=True, note=person.run_digest())

    @page.get("/files/<file_id>")
    def file(file_id: str) -> Response:
        content = screen.slack.file_content(file_id)
        if content is None:
            abort(404)
        kind = _file_type(screen.slack, file_id)
        return Response(content, mimetype=kind, headers={"Cache-Control": "no-store"})

    return page


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "a JSON object")
    return data


def _guess(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _file_type(slack: SlackStandIn, file_id: str) -> str:
    for message in slack.messages(CHANNEL):
        for file in message.files:
            if file.get("id") == file_id:
                return file.get("mimetype") or _guess(file.get("name", ""))
    return "application/octet-stream"
