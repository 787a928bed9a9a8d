"""The Flask app and a threaded HTTP server to run it, in-process or from the command line.

>>> with EmulatorServer(port=0) as emu:          # doctest: +SKIP
...     tokens = emu.issue_tokens()
...     emu.seed({"customers": [{"DisplayName": "Acme Foods"}]})

The helper methods (``reset``, ``seed``, ``stats``, ``issue_tokens``, ...) call the
``/_emulator/`` HTTP endpoints, so everything they do can be done against a standalone
``qbsync emulator`` too.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

import requests
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from emulator import admin, api, errors, oauth
from emulator.config import DEFAULT_WEBHOOK_VERIFIER, EmulatorConfig
from emulator.context import EXTENSION_KEY, Emulator
from emulator.responses import json_response

log = logging.getLogger(__name__)


class DropConnectionMiddleware:
    """Close the client's socket without a response when a request was marked for dropping."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: list[tuple[Any, ...]] = []

        def capture(*args: Any) -> Callable[[bytes], None]:
            captured.append(args)
            return lambda _data: None

        result = self.app(environ, capture)
        if environ.get(api.DROP_FLAG):
            if hasattr(result, "close"):
                result.close()
            sock = environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            # werkzeug treats ConnectionError as "client went away" and writes nothing.
            raise ConnectionAbortedError("connection dropped by fault injection")
        start_response(*captured[0])
        return result


def create_app(config: EmulatorConfig | None = None) -> Flask:
    """The emulator as a WSGI app (QuickBooks API, Intuit OAuth, admin endpoints)."""
    app = Flask("qbo_emulator")
    emu = Emulator.build(config or EmulatorConfig())
    app.extensions[EXTENSION_KEY] = emu
    app.register_blueprint(api.bp)
    app.register_blueprint(oauth.bp)
    app.register_blueprint(admin.bp)

    @app.after_request
    def add_tid(response: Response) -> Response:
        response.headers["intuit_tid"] = "1-" + secrets.token_hex(12)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if request.path.startswith("/v3/"):
            err = errors.unsupported_operation(f"{request.method} {request.path}")
            return json_response(err.body(), exc.code or 400)
        return json_response({"error": exc.name}, exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.debug("unexpected error in emulator", exc_info=exc)
        if request.path.startswith("/v3/"):
            return json_response(errors.system_failure().body(), 500)
        return json_response({"error": "server_error"}, 500)

    app.wsgi_app = DropConnectionMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


class QuietRequestHandler(WSGIRequestHandler):
    """No per-request access log lines (used in tests)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class EmulatorServer:
    """A real threaded HTTP server running the emulator on ``host:port`` (a free port for 0)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: int = 0,
        fault_rate: float = 0.0,
        rate_limit: int = 500,
        concurrency_limit: int = 10,
        batch_rate_limit: int = 40,
        time_scale: float = 1.0,
        seed: int | None = None,
        throttle_xml: bool = False,
        client_id: str | None = None,
        client_secret: str | None = None,
        quiet: bool = True,
        webhook_url: str | None = None,
        webhook_verifier: str = DEFAULT_WEBHOOK_VERIFIER,
        webhook_format: str = "cloudevents",
        webhook_delay_ms: int = 200,
        webhook_duplicate_rate: float = 0.0,
        webhook_batch_ms: int | None = None,
    ) -> None:
        self.config = EmulatorConfig(
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            rate_limit=rate_limit,
            concurrency_limit=concurrency_limit,
            batch_rate_limit=batch_rate_limit,
            time_scale=time_scale,
            seed=seed,
            throttle_xml=throttle_xml,
            client_id=client_id,
            client_secret=client_secret,
            webhook_url=webhook_url,
            webhook_verifier=webhook_verifier,
            webhook_format=webhook_format,
            webhook_delay_ms=webhook_delay_ms,
            webhook_duplicate_rate=webhook_duplicate_rate,
            webhook_batch_ms=webhook_batch_ms,
        )
        self.app = create_app(self.config)
        self.host = host
        handler = QuietRequestHandler if quiet else WSGIRequestHandler
        self._server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=handler
        )
        self.port: int = self._server.server_port
        self._thread: threading.Thread | None = None
        self._http = requests.Session()

    # -- addresses ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.url + "/v3"

    @property
    def discovery_url(self) -> str:
        return self.url + "/.well-known/openid_configuration"

    @property
    def realm_id(self) -> str:
        return self.emulator.store.default_realm_id

    @property
    def emulator(self) -> Emulator:
        return self.app.extensions[EXTENSION_KEY]

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="qbo-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and stop the webhook sender (no thread is left behind)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self.emulator.webhooks.close()
        self._http.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- admin helpers (plain HTTP, like any other client) --------------------------------------

    def _admin(self, method: str, path: str, payload: Any = None, **params: Any) -> Any:
        response = self._http.request(
            method, f"{self.url}/_emulator/{path}", json=payload, params=params or None, timeout=10
        )
        if response.status_code != 200:
            raise RuntimeError(f"emulator admin {path} failed: {response.status_code} {response.text}")
        return response.json()

    def reset(self) -> dict[str, Any]:
        return self._admin("POST", "reset")

    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._admin("POST", "seed", data)

    def stats(self) -> dict[str, Any]:
        return self._admin("GET", "stats")

    def queries(self) -> list[dict[str, Any]]:
        """The query log: every statement with the literal values it was parsed into."""
        return self._admin("GET", "queries")["queries"]

    def issue_tokens(self, realm_id: str | None = None, client_id: str | None = None) -> dict[str, Any]:
        return self._admin("POST", "tokens", {"realm_id": realm_id, "client_id": client_id})

    def expire_tokens(self, realm_id: str | None = None) -> dict[str, Any]:
        return self._admin("POST", "tokens/expire", {"realm_id": realm_id})

    def add_fault(self, kind: str, count: int = 1, **match: Any) -> dict[str, Any]:
        """Script the next ``count`` requests matching ``method``/``path_contains`` to fail as ``kind``."""
        return self._admin("POST", "faults", {"kind": kind, "count": count, **match})

    def configure(self, **changes: Any) -> dict[str, Any]:
        """Change settings at run time, e.g. ``configure(webhook_url=None)`` to stop webhooks."""
        return self._admin("POST", "config", changes)

    def set_users(self, users: dict[str, str], realm_id: str | None = None) -> dict[str, str]:
        """Name user ids (as they appear in ``MetaData.LastModifiedByRef``) for a company."""
        return self._admin("POST", "users", {"realm_id": realm_id, "users": users})["users"]

    def users(self, realm_id: str | None = None) -> dict[str, str]:
        """A company's user ids and display names."""
        params = {"realm_id": realm_id} if realm_id else {}
        return self._admin("GET", "users", **params)["users"]

    def webhooks(self) -> list[dict[str, Any]]:
        """The recent webhook deliveries, oldest first (see ``GET /_emulator/webhooks``)."""
        return self._admin("GET", "webhooks")["deliveries"]

    def clear_webhooks(self) -> None:
        """Forget the recorded deliveries (queued events are still sent)."""
        self._admin("DELETE", "webhooks")

    def flush_webhooks(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until no webhook event is queued and every delivery (retries included) is answered;
        the recent deliveries. Raises TimeoutError when that takes longer than ``timeout`` seconds."""
        response = self._http.post(
            f"{self.url}/_emulator/webhooks/flush", json={"timeout": timeout}, timeout=timeout + 10
        )
        if response.status_code == 504:
            raise TimeoutError(f"webhooks still pending after {timeout} s: {response.json()['stats']}")
        if response.status_code != 200:
            raise RuntimeError(
                f"emulator admin webhooks/flush failed: {response.status_code} {response.text}"
            )
        return self.webhooks()
