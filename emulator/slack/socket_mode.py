"""Slack's Socket Mode, as the stand-in serves it: a WebSocket server on 127.0.0.1 that an app reaches
through ``apps.connections.open`` and that delivers what Slack would otherwise POST to its request URL.

The protocol, as Slack speaks it and slack_sdk's clients expect it:

* ``apps.connections.open`` with the app-level token (``xapp-…``) answers
  ``{"ok": true, "url": "ws://127.0.0.1:PORT/link/?ticket=…&app_id=…"}`` (Slack's is ``wss://``). A
  URL opens one connection: its ticket is spent by the handshake, a reconnection asks for a new one.
* On connect the server sends ``{"type": "hello", "num_connections": n, "connection_info": …}``.
* Each delivery is an envelope ``{"envelope_id", "type": "slash_commands" | "interactive" |
  "events_api", "payload", "accepts_response_payload"}`` (events add ``retry_attempt`` and
  ``retry_reason``); the app acknowledges with ``{"envelope_id": …}`` and, where
  ``accepts_response_payload`` is true, an optional ``"payload"`` (a command's answer, a modal's
  ``response_action``). Slack shows an error when the ack takes more than 3 s.
* ``{"type": "disconnect", "reason": "warning" | "refresh_requested" | "link_disabled"}`` asks the app to
  open a new connection before this one goes away; pings and pongs are WebSocket control frames.

Tests drive it through :class:`SocketModeServer` (``SlackStandIn.socket_mode``)::

    link = slack.socket_mode.wait_connected()
    envelope = slack.socket_mode.send_request(slash_command_body("/qbsync", "help"))
    ack = slack.socket_mode.wait_ack(envelope)          # ack.latency, ack.payload

The server uses the ``websockets`` package (a development dependency), imported when it starts.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

ACK_TIMEOUT = 3.0  # seconds: later, Slack shows the person an error (and retries an event)
ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")
# Interactions whose ack may carry an answer (a modal's response_action, a select's options).
ANSWERABLE_INTERACTIONS = {"view_submission", "block_suggestion"}
DISCONNECT_REASONS = ("warning", "refresh_requested", "link_disabled")


@dataclass
class Link:
    """One WebSocket connection an app opened (``number`` counts from 1 in order of opening)."""

    number: int
    ticket: str
    opened_at: float
    closed_at: float | None = None
    close_code: int | None = None
    hello: dict[str, Any] = field(default_factory=dict)
    _socket: Any = field(default=None, repr=False, compare=False)

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Envelope:
    """What the stand-in pushed to the app, on connection ``link``."""

    envelope_id: str
    type: str
    payload: Any
    accepts_response_payload: bool
    link: int
    sent_at: float

    def as_message(self) -> dict[str, Any]:
        message = {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "payload": self.payload,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api":
            message.update(retry_attempt=0, retry_reason="")
        return message


@dataclass(frozen=True)
class Ack:
    """An acknowledgement the app sent: the envelope id, the optional answer, when and how fast."""

    envelope_id: str
    payload: dict[str, Any] | None
    link: int
    at: float
    latency: float | None  # seconds since the envelope was sent; None for an id the stand-in never sent

    @property
    def in_time(self) -> bool:
        return self.latency is not None and self.latency <= ACK_TIMEOUT


def envelope_parts(body: str) -> tuple[str, dict[str, Any], bool]:
    """The envelope type, payload and ``accepts_response_payload`` Socket Mode uses for what Slack would
    POST over HTTP as ``body`` (built by :func:`slash_command_body`, :func:`block_actions_body`,
    :func:`view_submission_body`, :func:`event_callback_body`)."""
    if body.lstrip().startswith("{"):
        return "events_api", json.loads(body), False
    form = dict(parse_qsl(body, keep_blank_values=True))
    if set(form) == {"payload"}:
        payload = json.loads(form["payload"])
        return "interactive", payload, payload.get("type") in ANSWERABLE_INTERACTIONS
    return "slash_commands", form, True


class SocketModeServer:
    """The stand-in's Socket Mode endpoint: issues connection URLs, says hello, pushes envelopes and
    records the acks. Thread-safe; every ``wait_*`` polls nothing (a condition is notified)."""

    def __init__(self, *, host: str = "127.0.0.1", app_id: str = "A0APP0001") -> None:
        self.host = host
        self.app_id = app_id
        self._changed = threading.Condition()
        self._tickets: set[str] = set()
        self._links: list[Link] = []
        self._envelopes: dict[str, Envelope] = {}
        self._acks: list[Ack] = []
        self._other: list[str] = []
        self._sent_monotonic: dict[str, float] = {}
        self._count = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> SocketModeServer:
        if self._server is None:
            # imported here to keep start-up fast, and websockets is a dev-only dependency (pyproject)
            from websockets.sync.server import serve

            self._server = serve(
                self._serve_link,
                self.host,
                0,
                process_request=self._check_ticket,
                compression=None,  # slack_sdk's client offers no extension
                ping_interval=20,
                ping_timeout=20,
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="slack-standin-socket-mode", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Close every connection (1001, going away) and the listening socket."""
        if self._server is not None:
            self._server.shutdown()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server, self._thread = None, None

    @property
    def port(self) -> int:
        self.start()
        return self._server.socket.getsockname()[1]

    def reset(self) -> None:
        """Forget envelopes, acks, spent tickets and closed connections (open ones stay open)."""
        with self._changed:
            self._envelopes.clear()
            self._sent_monotonic.clear()
            self._acks.clear()
            self._other.clear()
            self._links = [link for link in self._links if link.open]

    # -- apps.connections.open ----------------------------------------------------------------------------

    def issue_url(self) -> str:
        """A new single-use connection URL (what ``apps.connections.open`` answers)."""
        ticket = str(uuid.uuid4())
        with self._changed:
            self._tickets.add(ticket)
        return f"ws://{self.host}:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    def _check_ticket(self, connection: Any, request: Any) -> Any:
        parts = urlsplit(request.path)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._changed:
            if parts.path.rstrip("/") == "/link" and ticket in self._tickets:
                self._tickets.discard(ticket)
                return None
        return connection.respond(401, "invalid or spent ticket: call apps.connections.open\n")

    # -- one connection (in the server's thread for it) ---------------------------------------------------

    def _serve_link(self, socket: Any) -> None:
        from websockets.exceptions import ConnectionClosed  # a dev dependency: see start()

        ticket = (parse_qs(urlsplit(socket.request.path).query).get("ticket") or [""])[0]
        with self._changed:
            self._count += 1
            link = Link(number=self._count, ticket=ticket, opened_at=time.time(), _socket=socket)
            link.hello = {
                "type": "hello",
                "num_connections": sum(1 for x in self._links if x.open) + 1,
                "debug_info": {
                    "host": f"standin-applink-{link.number}",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        try:
            socket.send(json.dumps(link.hello))  # first: envelopes go only to links that said hello
            with self._changed:
                self._links.append(link)
                self._changed.notify_all()
            for message in socket:
                self._received(link, message)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                link.closed_at = time.time()
                link.close_code = socket.close_code
                link._socket = None
                self._changed.notify_all()

    def _received(self, link: Link, message: str | bytes) -> None:
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        now, tick = time.time(), time.monotonic()
        with self._changed:
            if isinstance(decoded, dict) and isinstance(decoded.get("envelope_id"), str):
                envelope_id = decoded["envelope_id"]
                sent = self._sent_monotonic.get(envelope_id)
                payload = decoded.get("payload")
                self._acks.append(
                    Ack(
                        envelope_id=envelope_id,
                        payload=payload if isinstance(payload, dict) else None,
                        link=link.number,
                        at=now,
                        latency=None if sent is None else tick - sent,
                    )
                )
            else:
                self._other.append(text)
            self._changed.notify_all()

    # -- what a test does ---------------------------------------------------------------------------------

    def links(self) -> list[Link]:
        """Every connection since the last reset, in order of opening (copies)."""
        with self._changed:
            return [_copy(link) for link in self._links]

    def wait_connected(self, timeout: float = 15.0, after: Link | None = None) -> Link:
        """The newest open connection (opened after ``after``, when given), waiting for one."""
        floor = after.number if after is not None else 0
        with self._changed:
            found = self._changed.wait_for(lambda: self._newest_open(floor), timeout)
            if not found:
                raise AssertionError(f"no app connected over Socket Mode within {timeout} s")
            return _copy(found)

    def wait_closed(self, link: Link, timeout: float = 15.0) -> Link:
        with self._changed:
            closed = self._changed.wait_for(
                lambda: next((x for x in self._links if x.number == link.number and not x.open), None),
                timeout,
            )
            if not closed:
                raise AssertionError(f"connection {link.number} still open after {timeout} s")
            return _copy(closed)

    def send(
        self,
        type: str,  # noqa: A002 - the envelope's field
        payload: Any,
        *,
        accepts_response_payload: bool | None = None,
        link: Link | None = None,
    ) -> Envelope:
        """Push an envelope to ``link`` (default: the newest open connection)."""
        envelope_id = str(uuid.uuid4())
        with self._changed:
            target = self._target(link)
            envelope = Envelope(
                envelope_id=envelope_id,
                type=type,
                payload=payload,
                accepts_response_payload=(
                    type == "slash_commands" if accepts_response_payload is None else accepts_response_payload
                ),
                link=target.number,
                sent_at=time.time(),
            )
            self._envelopes[envelope_id] = envelope
            self._sent_monotonic[envelope_id] = time.monotonic()
            socket = target._socket
        socket.send(json.dumps(envelope.as_message()))
        return envelope

    def send_request(self, body: str, *, link: Link | None = None) -> Envelope:
        """Push what Slack would POST as ``body`` over HTTP (see :func:`envelope_parts`)."""
        kind, payload, answerable = envelope_parts(body)
        return self.send(kind, payload, accepts_response_payload=answerable, link=link)

    def send_raw(self, text: str, *, link: Link | None = None) -> None:
        """Send any text frame, well-formed or not."""
        with self._changed:
            socket = self._target(link)._socket
        socket.send(text)

    def disconnect(self, reason: str = "refresh_requested", *, link: Link | None = None) -> None:
        """Ask the app to reconnect, as Slack does before it recycles a connection."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"Slack's disconnect reasons are {DISCONNECT_REASONS}")
        with self._changed:
            target = self._target(link)
            message = {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": f"standin-applink-{target.number}"},
            }
            socket = target._socket
        socket.send(json.dumps(message))

    def close(self, link: Link | None = None, code: int = 1001) -> None:
        """Close a connection from Slack's side, without warning."""
        with self._changed:
            socket = self._target(link)._socket
        socket.close(code)

    def envelopes(self) -> list[Envelope]:
        with self._changed:
            return list(self._envelopes.values())

    def acks(self, envelope: Envelope | str | None = None) -> list[Ack]:
        envelope_id = envelope.envelope_id if isinstance(envelope, Envelope) else envelope
        with self._changed:
            return [a for a in self._acks if envelope_id is None or a.envelope_id == envelope_id]

    def wait_ack(self, envelope: Envelope | str, timeout: float = 10.0) -> Ack:
        """The app's ack of ``envelope``; waits up to ``timeout`` (longer than Slack's 3 s, so that a
        late ack is seen and its latency can be reported)."""
        envelope_id = envelope.envelope_id if isinstance(envelope, Envelope) else envelope
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((a for a in self._acks if a.envelope_id == envelope_id), None), timeout
            )
        if not found:
            raise AssertionError(f"no ack of envelope {envelope_id} within {timeout} s")
        return found

    def other_messages(self) -> list[str]:
        """Text frames from the app that were not acks."""
        with self._changed:
            return list(self._other)

    # -- helpers (the condition is held) ------------------------------------------------------------------

    def _newest_open(self, floor: int = 0) -> Link | None:
        live = [x for x in self._links if x.open and x.number > floor]
        return live[-1] if live else None

    def _target(self, link: Link | None) -> Link:
        if link is None:
            target = self._newest_open()
        else:
            target = next((x for x in self._links if x.number == link.number and x.open), None)
        if target is None or target._socket is None:
            raise RuntimeError("no app is connected" if link is None else f"link {link.number} is closed")
        return target


def _copy(link: Link) -> Link:
    return Link(
        number=link.number,
        ticket=link.ticket,
        opened_at=link.opened_at,
        closed_at=link.closed_at,
        close_code=link.close_code,
        hello=dict(link.hello),
    )


def apps_connections_open(ctx: Any, args: dict[str, Any]) -> dict[str, Any]:
    """``apps.connections.open``: a WebSocket URL for one new connection (the caller checked the token)."""
    if ctx.socket_url is None:
        raise RuntimeError("this stand-in serves no Socket Mode")
    return {"url": ctx.socket_url()}
