"""A verified request's shape, checked before Bolt dispatches it (``bot.app.QbsyncApp``): Bolt and the
listeners read ``user``, ``actions``, ``view``, ``event`` and the like as Slack sends them, so a body of
another shape would fail inside Bolt or a listener. :func:`problem` names what is wrong with one; such
a body is answered 400 and nothing runs.

Every payload type the app listens to is described here: slash commands (a form), ``block_actions``,
``view_submission``, ``view_closed``, ``block_suggestion``, and the events (``app_home_opened``,
``app_uninstalled``, ``tokens_revoked``, ``url_verification``). Ids must have Slack's shape (upper-case
letters and digits), so an actor is always a Slack id.

A ``response_url`` is used only when it is Slack's (:func:`slack_response_url`): ``https://hooks.slack.com``
or, when ``SLACK_API_URL`` names another base (a local stand-in), that base's origin."""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import urlsplit

SLACK_ID = re.compile(r"[A-Z][A-Z0-9]{1,29}")  # any Slack id: A…, B…, V…
IDS = {  # the kinds of id the app reads, by their first letter
    "user": re.compile(r"[UW][A-Z0-9]{2,29}"),
    "team": re.compile(r"[TE][A-Z0-9]{2,29}"),  # an org-wide install names the organisation (E…)
    "channel": re.compile(r"[CGD][A-Z0-9]{2,29}"),
    "enterprise": re.compile(r"E[A-Z0-9]{2,29}"),
}
TOKEN = re.compile(r"[\x21-\x7e]{1,255}")  # trigger ids, event ids, timestamps: printable ASCII, no space
SLACK_HOOKS = "hooks.slack.com"
SLACK_API_HOSTS = ("slack.com", "www.slack.com")
EVENTS = ("app_home_opened", "app_uninstalled", "tokens_revoked")
MISSING = object()


class Malformed(Exception):
    """What is wrong with a payload, in a few words for the log."""


def problem(body: Any) -> str | None:
    """None when ``body`` is shaped as Slack sends it for something the app listens to; else why not."""
    try:
        _check(body)
    except Malformed as exc:
        return str(exc)
    return None


def well_formed(body: Any) -> bool:
    return problem(body) is None


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


def text_value(action: dict[str, Any]) -> str:
    value = action.get("value")
    return value if isinstance(value, str) else ""


# -- the checks ------------------------------------------------------------------------------------------


def _check(body: Any) -> None:
    if not isinstance(body, dict) or not body:
        raise Malformed("the body is not a Slack payload")
    _optional(body, "token", str)
    _optional(body, "api_app_id", str)
    _authorizations(body)
    _enterprise(body)
    kind = body.get("type", MISSING)
    if kind is MISSING and "command" in body:
        _slash_command(body)
    elif kind is MISSING and "ssl_check" in body:
        _field(body, "ssl_check", str)
    elif kind == "block_actions":
        _block_actions(body)
    elif kind in ("view_submission", "view_closed"):
        _view_payload(body, needs_trigger=kind == "view_submission")
    elif kind == "block_suggestion":
        _interactive(body)
        _field(body, "action_id", str)
        _optional(body, "value", str)
        if _optional(body, "view", dict):
            _view(body["view"])
    elif kind == "event_callback":
        _event_callback(body)
    elif kind == "url_verification":
        challenge = body.get("challenge")
        if not isinstance(challenge, str) or not challenge or len(challenge) > 255:
            raise Malformed("url_verification: challenge is not text")
    else:
        raise Malformed(f"type {_say(kind)} is not a payload the app listens to")


def _slash_command(body: dict[str, Any]) -> None:
    for key in ("command", "user_id", "team_id", "channel_id", "trigger_id"):
        if not isinstance(body.get(key), str):
            raise Malformed(f"slash command: {key} is missing")
    for key in ("user_id", "team_id", "channel_id"):
        _id(body, key, kind=key.split("_")[0])
    if body.get("enterprise_id"):
        _id(body, "enterprise_id", kind="enterprise")
    _token(body, "trigger_id")
    _optional(body, "text", str)
    _optional(body, "response_url", str)


def _interactive(body: dict[str, Any]) -> None:
    """What every interaction payload carries: the person who acted and their team."""
    user = _field(body, "user", dict)
    _id(user, "id", "user.id", "user")
    if user.get("team_id") is not None:
        _id(user, "team_id", "user.team_id", "team")
    team = body.get("team", MISSING)
    if team is not None and team is not MISSING:  # an org-wide install sends none
        if not isinstance(team, dict):
            raise Malformed(f"team is {_say(team)}, not an object")
        _id(team, "id", "team.id", "team")
    for key in ("user_id", "team_id"):  # Slack puts them in user/team: a stray one must still be an id
        if key in body:
            _id(body, key, kind=key.split("_")[0])


def _block_actions(body: dict[str, Any]) -> None:
    _interactive(body)
    _token(body, "trigger_id")
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or len(actions) > 25:
        raise Malformed("block_actions: actions is not a list of actions")
    for action in actions:
        if not isinstance(action, dict):
            raise Malformed("block_actions: an action is not an object")
        action_id = action.get("action_id")
        if not isinstance(action_id, str) or not action_id or len(action_id) > 255:
            raise Malformed("block_actions: an action_id is not text")
        for key in ("block_id", "type", "action_ts", "value"):
            _optional(action, key, str)
        if action.get("selected_option") is not None:
            _option(action["selected_option"], "selected_option")
    channel = _optional(body, "channel", dict)
    if channel:
        _id(channel, "id", "channel.id", "channel")
    container = _optional(body, "container", dict)
    if container:
        if container.get("channel_id") is not None:
            _id(container, "channel_id", "container.channel_id", "channel")
        for key in ("type", "message_ts", "view_id"):
            _optional(container, key, str)
    message = _optional(body, "message", dict)
    if message:
        for key in ("ts", "thread_ts", "text", "user"):
            _optional(message, key, str)
        _optional(message, "blocks", list)
    state = _optional(body, "state", dict)
    if state:
        _values(state.get("values"), "state.values")
    if _optional(body, "view", dict):
        _view(body["view"])
    _optional(body, "response_url", str)


def _view_payload(body: dict[str, Any], *, needs_trigger: bool) -> None:
    _interactive(body)
    if needs_trigger:
        _token(body, "trigger_id")
    view = _field(body, "view", dict)
    _view(view)
    _field(view, "callback_id", str)
    urls = _optional(body, "response_urls", list)
    for entry in urls or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("response_url"), str):
            raise Malformed("response_urls is not a list of response URLs")
        if entry.get("channel_id") is not None:
            _id(entry, "channel_id", "response_urls.channel_id", "channel")
    _optional(body, "is_cleared", bool)


def _view(view: dict[str, Any]) -> None:
    kind = view.get("type")
    if not isinstance(kind, str) or not kind:
        raise Malformed("view: type is not text")
    for key in ("id", "callback_id", "private_metadata", "external_id", "hash", "root_view_id"):
        _optional(view, key, str)
    for key in ("team_id", "app_installed_team_id", "bot_id", "app_id"):
        if view.get(key) is not None:
            _id(view, key, f"view.{key}", "team" if "team" in key else None)
    state = _optional(view, "state", dict)
    if state:
        _values(state.get("values"), "view.state.values")


def _values(values: Any, where: str) -> None:
    """``{block_id: {action_id: element}}``; an element's value is text, a selected option has a value."""
    if values is None:
        return
    if not isinstance(values, dict):
        raise Malformed(f"{where} is not an object")
    for block in values.values():
        if not isinstance(block, dict):
            raise Malformed(f"{where}: a block is not an object")
        for element in block.values():
            if not isinstance(element, dict):
                raise Malformed(f"{where}: an input is not an object")
            _optional(element, "type", str)
            _optional(element, "value", str)
            if element.get("selected_option") is not None:
                _option(element["selected_option"], f"{where}: selected_option")
            options = _optional(element, "selected_options", list)
            for option in options or []:
                _option(option, f"{where}: selected_options")


def _option(option: Any, where: str) -> None:
    if not isinstance(option, dict) or not isinstance(option.get("value"), str):
        raise Malformed(f"{where} has no text value")


def _event_callback(body: dict[str, Any]) -> None:
    _id(body, "team_id", kind="team")
    _token(body, "event_id")
    _optional(body, "event_time", int)
    _optional(body, "is_ext_shared_channel", bool)
    event = _field(body, "event", dict)
    kind = event.get("type")
    if kind not in EVENTS:
        raise Malformed(f"event {_say(kind)} is not one the app listens to")
    if kind == "app_home_opened":
        _id(event, "user", "event.user", "user")
        if event.get("channel") is not None:
            _id(event, "channel", "event.channel", "channel")
        _optional(event, "tab", str)
        if _optional(event, "view", dict):
            _view(event["view"])
    if kind == "tokens_revoked":
        tokens = _optional(event, "tokens", dict)
        for key in ("oauth", "bot"):
            found = (tokens or {}).get(key)
            if found is not None and not (isinstance(found, list) and all(isinstance(t, str) for t in found)):
                raise Malformed(f"tokens_revoked: tokens.{key} is not a list of ids")


def _authorizations(body: dict[str, Any]) -> None:
    found = _optional(body, "authorizations", list)
    for entry in found or []:
        if not isinstance(entry, dict):
            raise Malformed("authorizations is not a list of objects")
        for key in ("team_id", "user_id", "enterprise_id"):
            if entry.get(key) is not None:
                _id(entry, key, f"authorizations.{key}", key.split("_")[0])
        _optional(entry, "is_enterprise_install", bool)


def _enterprise(body: dict[str, Any]) -> None:
    org = body.get("enterprise")
    if org is None:
        return
    if isinstance(org, dict):
        if org.get("id") is not None:
            _id(org, "id", "enterprise.id", "enterprise")
    elif not (isinstance(org, str) and IDS["enterprise"].fullmatch(org)):
        raise Malformed("enterprise is not an enterprise")


def _field(data: dict[str, Any], key: str, kind: type) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise Malformed(f"{key} is {_say(value)}, not {'an object' if kind is dict else kind.__name__}")
    return value


def _optional(data: dict[str, Any], key: str, kind: type) -> Any:
    """The value when present; None when absent (or null); refused when of another type."""
    if data.get(key) is None:
        return None
    return _field(data, key, kind)


def _id(data: dict[str, Any], key: str, name: str | None = None, kind: str | None = None) -> str:
    """``data[key]``, a Slack id of ``kind`` (user, team, channel, enterprise; else any)."""
    value = data.get(key)
    pattern = IDS.get(kind or "", SLACK_ID)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Malformed(f"{name or key} is {_say(value)}, not a Slack {kind or ''} id".replace("  ", " "))
    return value


def _token(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not TOKEN.fullmatch(value):
        raise Malformed(f"{key} is {_say(value)}")
    return value


def _say(value: Any) -> str:
    """A value's kind for the log (never its content: a payload is not log material)."""
    if value is None or value is MISSING:
        return "missing"
    if isinstance(value, str):
        return "empty text" if not value else "text of another shape"
    return {dict: "an object", list: "a list", bool: "a boolean"}.get(type(value), "a number")
