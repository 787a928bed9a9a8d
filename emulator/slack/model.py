"""What the stand-in remembers: calls, channels and their messages, views, files, triggers, response URLs.

Each workspace (team) keeps all of it in its own :class:`Workspace`, guarded by its own lock; readers
get copies. Subscribers are
told about every change after the lock is released, with a small event dict such as
``{"type": "message_posted", "channel": "C1", "ts": "1764120000.000100"}``.
"""

from __future__ import annotations

import copy
import hashlib
import mimetypes
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

EventCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Call:
    """One request the stand-in received, in arrival order.

    ``method`` is the Web API method (``chat.postMessage``), or ``response_url`` / ``file_upload``
    for posts to those URLs; ``args`` are the decoded arguments (blocks and views as objects).
    """

    method: str
    args: dict[str, Any]
    token: str | None
    at: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class Message:
    """A message in a channel as Slack would show it (ephemeral ones to ``ephemeral_for`` only)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    user: str | None = None
    bot_id: str | None = None
    ephemeral_for: str | None = None
    thread_ts: str | None = None
    replaced: int = 0
    deleted: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)
    via: str = "api"
    metadata: dict[str, Any] | None = None  # chat.postMessage's ``metadata`` (event_type, event_payload)

    def as_api(self, team_id: str, app_id: str | None = None) -> dict[str, Any]:
        """The message object Web API methods answer with."""
        out: dict[str, Any] = {"type": "message", "text": self.text, "ts": self.ts, "team": team_id}
        if self.user:
            out["user"] = self.user
        if self.bot_id:
            out["bot_id"] = self.bot_id
            if app_id:
                out["app_id"] = app_id
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.files:
            out["files"] = copy.deepcopy(self.files)
        return out


@dataclass
class UploadedFile:
    """A file announced by ``files.getUploadURLExternal``; ``content`` arrives at the upload URL."""

    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    completed: bool = False

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": len(self.content or b""),
            "mimetype": _mimetype(self.filename),
        }


def _mimetype(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


@dataclass
class Trigger:
    id: str
    user: str
    expires: float
    used: bool = False


@dataclass
class ResponseUrl:
    """A ``response_url`` issued for one interaction: five uses within thirty minutes."""

    key: str
    channel: str
    user: str
    message_ts: str | None
    expires: float
    uses_left: int
    last_posted_ts: str | None = None


class Ids:
    """Slack-shaped identifiers: increasing message timestamps, view, file and trigger ids."""

    def __init__(self) -> None:
        self._last_us = 0

    def ts(self) -> str:
        now_us = int(time.time() * 1_000_000)
        self._last_us = max(now_us, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    @staticmethod
    def view_id() -> str:
        return "V" + secrets.token_hex(5).upper()

    @staticmethod
    def file_id() -> str:
        return "F" + secrets.token_hex(5).upper()

    @staticmethod
    def trigger_id() -> str:
        return f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"

    @staticmethod
    def view_hash(view: dict[str, Any]) -> str:
        digest = hashlib.sha1(repr(sorted(view.items())).encode(), usedforsecurity=False).hexdigest()[:8]
        return f"{int(time.time())}.{digest}{secrets.token_hex(2)}"


class Workspace:
    """One workspace's whole state. Callers hold :attr:`lock` while changing it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.ids = Ids()
        self._subscribers: list[EventCallback] = []
        self._pending: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.clear_all()

    def clear_all(self) -> None:
        """Forget calls, messages, views, files, triggers, response URLs and rate limits."""
        with self.lock:
            self.calls: list[Call] = []
            self.messages: dict[str, list[Message]] = {}
            self.modals: dict[str, list[dict[str, Any]]] = {}
            self.homes: dict[str, dict[str, Any]] = {}
            self.files: dict[str, UploadedFile] = {}
            self.uploads: dict[str, str] = {}
            self.triggers: dict[str, Trigger] = {}
            self.response_urls: dict[str, ResponseUrl] = {}
            self.rate_limits: dict[str, list[int]] = {}

    # -- events -------------------------------------------------------------------------------------------

    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        with self.lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self.lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def emit(self, event: dict[str, Any]) -> None:
        """Queue an event; :meth:`flush` delivers it once the lock is released."""
        self._pending.append(event)

    def flush(self) -> None:
        with self.lock:
            events, self._pending = self._pending, []
            subscribers = list(self._subscribers)
        for event in events:
            for callback in subscribers:
                callback(dict(event))

    # -- messages -----------------------------------------------------------------------------------------

    def add_message(self, message: Message) -> Message:
        self.messages.setdefault(message.channel, []).append(message)
        self.emit({"type": "message_posted", "channel": message.channel, "ts": message.ts})
        return message

    def find_message(self, channel: str, ts: str, *, ephemeral: bool = False) -> Message | None:
        """A live message; ephemeral ones only when ``ephemeral`` (chat.update cannot reach them)."""
        for message in self.messages.get(channel, []):
            if message.ts == ts and not message.deleted and (ephemeral or message.ephemeral_for is None):
                return message
        return None

    def replace_message(self, message: Message, text: str, blocks: list[dict[str, Any]]) -> None:
        message.text, message.blocks = text, copy.deepcopy(blocks)
        message.replaced += 1
        self.emit({"type": "message_updated", "channel": message.channel, "ts": message.ts})

    def delete_message(self, message: Message) -> None:
        message.deleted = True
        self.emit({"type": "message_deleted", "channel": message.channel, "ts": message.ts})

    # -- views --------------------------------------------------------------------------------------------

    def find_view(self, view_id: str | None, external_id: str | None) -> tuple[str, dict[str, Any]] | None:
        """The user and stored view with that id or external id (modal or Home tab)."""
        for user, stack in self.modals.items():
            for view in stack:
                if _view_matches(view, view_id, external_id):
                    return user, view
        for user, view in self.homes.items():
            if _view_matches(view, view_id, external_id):
                return user, view
        return None

    def external_id_taken(self, external_id: str | None, except_id: str | None = None) -> bool:
        if not external_id:
            return False
        found = self.find_view(None, external_id)
        return found is not None and found[1]["id"] != except_id


def _view_matches(view: dict[str, Any], view_id: str | None, external_id: str | None) -> bool:
    if view_id:
        return view["id"] == view_id
    return bool(external_id) and view.get("external_id") == external_id
