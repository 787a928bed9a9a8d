"""The stand-in's HTTP side: reading a request's path, arguments and token, handing it to the
:class:`~emulator.slack.routing.Router`, and writing the answer. ``/api/<method>`` is the Web API (the
token as ``Authorization: Bearer`` or a ``token`` argument; ``oauth.v2.access`` takes the client
credentials as ``Authorization: Basic``), ``GET /oauth/v2/authorize`` the OAuth authorize step,
``/response/<key>`` a response URL, ``/upload/v1/<key>`` a file upload; anything else is 404.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulator.slack.oauth import AUTHORIZE_PATH, basic_credentials
from emulator.slack.routing import Router


def parse_body(content_type: str, raw: bytes, query: str) -> dict[str, Any]:
    """Arguments from the query string and a JSON or form body (the body wins)."""
    args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if not raw:
        return args
    if content_type.startswith("application/json"):
        decoded = json.loads(raw)
        if not isinstance(decoded, dict):
            raise ValueError("a JSON body must be an object")
        args.update(decoded)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
        args.update({k: v[-1] for k, v in form.items()})
    else:
        raise ValueError(f"unsupported content type {content_type!r}")
    return args


def handler_for(router: Router) -> type[BaseHTTPRequestHandler]:
    """The request handler class of a server whose requests ``router`` answers."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "SlackStandIn/1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

        def do_GET(self) -> None:
            self._dispatch()

        def do_POST(self) -> None:
            self._dispatch()

        def _dispatch(self) -> None:
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = parts.path
            if path.startswith("/api/"):
                self._api(path[len("/api/") :], raw, parts.query)
            elif path == AUTHORIZE_PATH and self.command == "GET":
                query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                status, headers, page = router.handle_authorize(query)
                content_type = headers.pop("Content-Type", "text/html; charset=utf-8")
                self._send(status, page.encode(), content_type, headers=headers)
            elif path.startswith("/response/") and self.command == "POST":
                status, body = router.handle_response_url(path[len("/response/") :], raw)
                self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8")
            elif path.startswith("/upload/v1/") and self.command == "POST":
                status, text = router.handle_upload(path[len("/upload/v1/") :], raw)
                self._send(status, text.encode(), "text/plain; charset=utf-8")
            else:
                self._send(404, b"Not Found", "text/plain; charset=utf-8")

        def _api(self, method: str, raw: bytes, query: str) -> None:
            try:
                args = parse_body(self.headers.get("Content-Type") or "", raw, query)
            except (ValueError, UnicodeDecodeError):
                self._send(200, json.dumps({"ok": False, "error": "invalid_form_data"}).encode())
                return
            token = args.get("token")
            auth = self.headers.get("Authorization") or ""
            if auth.startswith("Bearer "):
                token = auth[len("Bearer ") :]
            status, body, headers = router.handle_api(method, args, token, basic_credentials(auth))
            self._send(status, json.dumps(body).encode(), headers=headers)

        def _send(
            self,
            status: int,
            payload: bytes,
            content_type: str = "application/json; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler
