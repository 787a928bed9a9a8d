"""Which response URLs the app answers through: Bolt's ``respond`` URL of a payload
(:func:`response_url_of`), used only when it is Slack's (:func:`slack_response_url`):
``https://hooks.slack.com`` or, when ``SLACK_API_URL`` names another base (a local stand-in), that
base's origin (:func:`allow_api_origin`, :func:`response_url_allowed`). A URL is logged only as its
origin (:func:`origin_of`): its path is a credential."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

SLACK_HOOKS = "hooks.slack.com"
SLACK_API_HOSTS = ("slack.com", "www.slack.com")


def response_url_of(body: dict[str, Any]) -> str | None:
    """The URL Bolt's ``respond`` answers through for ``body`` (of a checked shape), if any."""
    if "response_url" in body:
        return body["response_url"] or None
    urls = body.get("response_urls") or []
    return (urls[0].get("response_url") or None) if urls else None


def slack_response_url(url: Any, api_url: str | None) -> bool:
    """True when ``url`` is Slack's: ``https://hooks.slack.com/…``, or on the origin of ``api_url`` when
    that is not Slack's own API (the local Slack stand-in)."""
    if not isinstance(url, str) or not url.isascii() or not url.isprintable():
        return False
    parts = _split(url)
    if parts is None:
        return False
    if parts == ("https", SLACK_HOOKS, 443):
        return True
    api = _split(api_url) if isinstance(api_url, str) else None
    return api is not None and api[1] not in (SLACK_HOOKS, *SLACK_API_HOSTS) and parts == api


class _Origins:
    """The origins of the non-Slack API bases of the apps built in this process (a local stand-in)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.apis: set[str] = set()

    def add(self, api_url: str | None) -> None:
        if isinstance(api_url, str) and _split(api_url) is not None:
            with self.lock:
                self.apis.add(api_url)

    def allow(self, url: Any) -> bool:
        with self.lock:
            apis = sorted(self.apis)
        return slack_response_url(url, None) or any(slack_response_url(url, api) for api in apis)


ORIGINS = _Origins()


def allow_api_origin(api_url: str | None) -> None:
    """Response URLs on ``api_url``'s origin are Slack's (``SLACK_API_URL`` naming a local stand-in)."""
    ORIGINS.add(api_url)


def response_url_allowed(url: Any) -> bool:
    """The last guard before anything is sent to a response URL: Slack's, or a stand-in's in use."""
    return ORIGINS.allow(url)


def origin_of(url: Any) -> str:
    """Scheme and host of ``url`` for a log line (never its path, which is a credential)."""
    parts = _split(url) if isinstance(url, str) else None
    return f"{parts[0]}://{parts[1]}:{parts[2]}" if parts else "an unusable URL"


def _split(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)
