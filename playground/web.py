"""The page and its small JSON API, on the same server as the app's ``/slack/events``.

``GET /`` the page; ``GET /api/state`` what it shows; ``GET /api/events`` a Server-Sent Events stream
that says when that changed; ``POST /api/command|action|submit|close|home|digest`` what a person does.
With two workspaces on the page each call names its pane's workspace: ``?team=T…`` on a GET, ``"team"``
in a post's JSON (without it, the first workspace). Posts must be JSON and the Host must be this machine
(no other site can drive the playground).
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request

from playground.pane import Pane
from playground.safety import is_loopback

STREAM_SECONDS = 25.0  # one event stream lasts this long; the browser reconnects by itself
KEEPALIVE_SECONDS = 10.0


def page_blueprint(panes: Sequence[Pane], suggestions: Callable[[], list[str]] = list) -> Blueprint:
    """The page and its API: each pane's content comes from its ``screen``, what is done in it goes to its
    ``person``; ``suggestions()`` are commands the page offers to try in every pane."""
    by_team = {pane.team: pane for pane in panes}

    def pane_asked(data: dict[str, Any] | None = None) -> Pane:
        team = request.args.get("team") if data is None else data.get("team")
        if team is None:
            return panes[0]
        found = by_team.get(team) if isinstance(team, str) else None
        if found is None:
            abort(404, "no such workspace on this page")
        return found

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
        seats = [pane.seat for pane in panes]
        return render_template("playground.html", seats=seats, bot="qbsync", suggestions=suggestions())

    @page.get("/api/state")
    def state() -> Response:
        return jsonify(pane_asked().screen.state())

    @page.get("/api/events")
    def events() -> Response:
        screen = pane_asked().screen

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
        data = _body()
        text = data.get("text", "")
        if not isinstance(text, str):
            abort(400, "text: what follows /qbsync, as a string")
        return jsonify(pane_asked(data).person.command(text).as_json())

    @page.post("/api/action")
    def action() -> Response:
        data = _body()
        surface = data.get("surface")
        if surface not in ("message", "modal", "home"):
            abort(400, "surface: message, modal or home")
        return jsonify(pane_asked(data).person.action(surface, data).as_json())

    @page.post("/api/submit")
    def submit() -> Response:
        data = _body()
        values = data.get("values")
        if not isinstance(values, dict):
            abort(400, "values: the view state")
        return jsonify(pane_asked(data).person.submit(values).as_json())

    @page.post("/api/close")
    def close() -> Response:
        pane_asked(_body()).person.close_modal()
        return jsonify(ok=True)

    @page.post("/api/home")
    def home() -> Response:
        return jsonify(pane_asked(_body()).person.open_home().as_json())

    @page.post("/api/digest")
    def digest() -> Response:
        return jsonify(ok=True, note=pane_asked(_body()).person.run_digest())

    @page.get("/files/<file_id>")
    def file(file_id: str) -> Response:
        for pane in panes:
            content = pane.slack.file_content(file_id)
            if content is not None:
                kind = _file_type(pane, file_id)
                return Response(content, mimetype=kind, headers={"Cache-Control": "no-store"})
        abort(404)

    return page


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "a JSON object")
    return data


def _guess(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _file_type(pane: Pane, file_id: str) -> str:
    for message in pane.slack.messages(pane.seat.channel):
        for file in message.files:
            if file.get("id") == file_id:
                return file.get("mimetype") or _guess(file.get("name", ""))
    return "application/octet-stream"
