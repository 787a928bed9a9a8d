"""What Slack sends to an app's request URL, signed as Slack signs it.

Slash commands are form bodies; interactions (options requests of an ``external_select`` too) are a
form body with one ``payload`` field of JSON; events are JSON. :func:`signed_headers` adds
``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` (``v0=`` + HMAC-SHA256 of
``v0:{timestamp}:{body}``), so Bolt's request verification accepts them.

Every builder takes the ``team_id`` of the workspace the person acts in and, for a workspace in an
Enterprise Grid organization, its ``enterprise_id`` (and ``enterprise_name``), placed where Slack puts
them: the ``enterprise_id``/``enterprise_name`` form fields of a slash command, ``enterprise`` and
``team.enterprise_id`` of an interaction payload, ``enterprise_id`` and ``authorizations`` of an
event. ``SlackTeam`` (``slack.team(team_id)``) has helpers that fill these in for its workspace.

``is_enterprise_install=True``: the app reaches the workspace through its organization's org-wide
installation (https://api.slack.com/enterprise/apps/changes-apis ; sample payloads at
https://api.slack.com/enterprise/apps/reference). Then a slash command's form says
``is_enterprise_install=true`` beside the member workspace's ``team_id`` and the ``enterprise_id``; an
interaction payload has ``"team": null``, the ``enterprise`` object, ``"is_enterprise_install": true`` and
the member workspace only in ``user.team_id`` (and ``view.team_id``), as java-slack-sdk's
``BlockActionRequestTest``/``ViewSubmissionRequestTest`` show Slack's org-wide payloads; an event keeps the
member workspace in the outer ``team_id`` while its ``authorizations`` entry names the installation:
the organization, ``"team_id": null`` and ``"is_enterprise_install": true`` (as in bolt-python's
``test_context_generation`` and java-slack-sdk's fix #918 for a null team of org-wide installs; the
sample on Slack's reference page shows a team id there, which Bolt would read the same way). The
org-wide uninstall events carry only the organization (``"team_id": null``, as for
https://docs.slack.dev/reference/events/team_access_revoked/).
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

DEFAULT_USER = "U0USER001"
DEFAULT_CHANNEL = "C0001"
DEFAULT_TEAM = "T0001"
DEFAULT_APP = "A0APP0001"
VERIFICATION_TOKEN = "standin-verification-token"


def _fake_trigger_id() -> str:
    return f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"


def _user(user_id: str, team_id: str) -> dict[str, Any]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str, enterprise_id: str | None = None, enterprise_name: str | None = None) -> dict:
    team: dict[str, Any] = {"id": team_id, "domain": team_id.lower()}
    if enterprise_id:
        team.update(enterprise_id=enterprise_id, enterprise_name=enterprise_name or enterprise_id.lower())
    return team


def _enterprise(enterprise_id: str | None, enterprise_name: str | None) -> dict[str, Any] | None:
    """An interaction payload's ``enterprise``: ``null`` outside an Enterprise Grid organization."""
    if not enterprise_id:
        return None
    return {"id": enterprise_id, "name": enterprise_name or enterprise_id.lower()}


def _installation(
    team_id: str, enterprise_id: str | None, enterprise_name: str | None, org_wide: bool
) -> dict[str, Any]:
    """An interaction payload's ``team``, ``enterprise`` and ``is_enterprise_install``: an org-wide
    installation's payloads name no team (``null``; the member workspace is in ``user.team_id``)."""
    team = None if org_wide and enterprise_id else _team(team_id, enterprise_id, enterprise_name)
    return {
        "team": team,
        "enterprise": _enterprise(enterprise_id, enterprise_name),
        "is_enterprise_install": bool(org_wide and enterprise_id),
    }


def slash_command_body(
    command: str,
    text: str = "",
    user_id: str = DEFAULT_USER,
    channel_id: str = DEFAULT_CHANNEL,
    team_id: str = DEFAULT_TEAM,
    response_url: str = "",
    trigger_id: str | None = None,
    *,
    api_app_id: str = DEFAULT_APP,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    """The form body of a slash command invocation; ``&``, ``<`` and ``>`` in the text arrive as entities,
    as Slack sends them. In an Enterprise Grid workspace the form also names the organization."""
    grid = {}
    if enterprise_id:
        grid = {"enterprise_id": enterprise_id, "enterprise_name": enterprise_name or enterprise_id.lower()}
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": team_id.lower(),
            **grid,
            "channel_id": channel_id,
            "channel_name": channel_id.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            "api_app_id": api_app_id,
            "is_enterprise_install": "true" if is_enterprise_install else "false",
            "response_url": response_url,
            "trigger_id": trigger_id or _fake_trigger_id(),
        }
    )


def _payload_form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def block_actions_body(
    action_id: str,
    value: str | None = None,
    block_id: str = "actions",
    user_id: str = DEFAULT_USER,
    channel_id: str = DEFAULT_CHANNEL,
    message_ts: str | None = None,
    message_blocks: list[dict[str, Any]] | None = None,
    response_url: str | None = None,
    trigger_id: str | None = None,
    view: dict[str, Any] | None = None,
    *,
    team_id: str = DEFAULT_TEAM,
    action_type: str = "button",
    api_app_id: str = DEFAULT_APP,
    selected_option: dict[str, Any] | None = None,
    is_ephemeral: bool = False,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    """The form body of a click on an interactive element, in a message or (with ``view``) in a view."""
    action: dict[str, Any] = {
        "type": action_type,
        "action_id": action_id,
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
    if selected_option is not None:
        action["selected_option"] = selected_option
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _fake_trigger_id(),
        **_installation(team_id, enterprise_id, enterprise_name, is_enterprise_install),
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id")}
        payload["view"] = view
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": is_ephemeral,
        }
        payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
        payload["message"] = {
            "type": "message",
            "ts": message_ts,
            "text": "",
            "blocks": message_blocks or [],
        }
        payload["state"] = {"values": {}}
        payload["response_url"] = response_url
    return _payload_form(payload)


def block_suggestion_body(
    action_id: str,
    value: str = "",
    block_id: str = "",
    view: dict[str, Any] | None = None,
    user_id: str = DEFAULT_USER,
    *,
    team_id: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
    channel_id: str = DEFAULT_CHANNEL,
    message_ts: str | None = None,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    """The form body of an options request: Slack asks the app for an ``external_select``'s options
    when the menu opens and as the person types (``value`` is what they typed; with
    ``min_query_length`` 0 the first request carries ``""``). In a view (``view``, as stored by
    ``views.open``) the payload carries it, state included; otherwise it names the message.

    The app answers HTTP 200 within 3 seconds with ``{"options": […]}`` or ``{"option_groups": […]}``
    (check it with :func:`emulator.slack.blocks.validate_options`). Slack's reference:
    https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#external_select
    """
    payload: dict[str, Any] = {
        "type": "block_suggestion",
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        **_installation(team_id, enterprise_id, enterprise_name, is_enterprise_install),
    }
    if view is not None:
        shown = {**view, "state": view.get("state") or {"values": {}}}
        shown.setdefault("id", "V" + secrets.token_hex(5).upper())
        shown.setdefault("team_id", team_id)
        for key in ("callback_id", "private_metadata", "external_id"):
            shown.setdefault(key, "")
        payload["container"] = {"type": "view", "view_id": shown["id"]}
        payload["view"] = shown
    else:
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
    return _payload_form(payload)


def view_submission_body(
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any]]],
    user_id: str = DEFAULT_USER,
    *,
    team_id: str = DEFAULT_TEAM,
    trigger_id: str | None = None,
    api_app_id: str = DEFAULT_APP,
    response_urls: list[dict[str, Any]] | None = None,
    enterprise_id: str | None = None,
    enterprise_name: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    """The form body of a modal's submission.

    ``values`` is the view state: ``{block_id: {action_id: {"type": …, "value": …}}}``.
    """
    submitted = {**view, "state": {"values": values}}
    submitted.setdefault("id", "V" + secrets.token_hex(5).upper())
    submitted.setdefault("team_id", team_id)
    for key in ("callback_id", "private_metadata", "external_id"):
        submitted.setdefault(key, "")
    payload = {
        "type": "view_submission",
        "user": _user(user_id, team_id),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _fake_trigger_id(),
        "view": submitted,
        "response_urls": response_urls or [],
        **_installation(team_id, enterprise_id, enterprise_name, is_enterprise_install),
    }
    return _payload_form(payload)


def event_callback_body(
    event: dict[str, Any],
    event_id: str | None = None,
    *,
    team_id: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
    bot_user_id: str = "U0BOT0001",
    event_time: int | None = None,
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    """The JSON body of an Events API delivery wrapping ``event``; ``authorizations`` names the app's bot
    user in the workspace (``bot_user_id``), as Slack's deliveries do (for an org-wide installation: the
    organization, no team)."""
    org_wide = bool(is_enterprise_install and enterprise_id)
    body: dict[str, Any] = {"token": VERIFICATION_TOKEN, "team_id": team_id}
    if enterprise_id:
        body["enterprise_id"] = enterprise_id
    body.update(
        {
            "api_app_id": api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": event_time or int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": enterprise_id,
                    "team_id": None if org_wide else team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": org_wide,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )
    return json.dumps(body)


def app_home_opened_body(
    user_id: str = DEFAULT_USER,
    tab: str = "home",
    view: dict[str, Any] | None = None,
    event_id: str | None = None,
    *,
    team_id: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
    bot_user_id: str = "U0BOT0001",
    enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> str:
    """The JSON body of ``app_home_opened`` (https://docs.slack.dev/reference/events/app_home_opened): the
    person opened the app's Home tab; ``view`` is the Home view last published for them, if any."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D" + user_id[1:],
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    if view is not None:
        event["view"] = view
    return event_callback_body(
        event,
        event_id,
        team_id=team_id,
        api_app_id=api_app_id,
        bot_user_id=bot_user_id,
        enterprise_id=enterprise_id,
        is_enterprise_install=is_enterprise_install,
    )


def app_uninstalled_body(
    event_id: str | None = None,
    *,
    team_id: str | None = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
    enterprise_id: str | None = None,
) -> str:
    """The JSON body of ``app_uninstalled`` as Slack documents it
    (https://api.slack.com/events/app_uninstalled): the outer wrapper and ``{"type": "app_uninstalled"}``.
    ``team_id=None`` with ``enterprise_id``: an org-wide installation was removed from the organization."""
    return _bare_event({"type": "app_uninstalled"}, event_id, team_id, api_app_id, enterprise_id)


def tokens_revoked_body(
    bot_user_ids: list[str],
    oauth_user_ids: list[str] | None = None,
    event_id: str | None = None,
    *,
    team_id: str | None = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
    enterprise_id: str | None = None,
) -> str:
    """The JSON body of ``tokens_revoked`` as Slack documents it
    (https://api.slack.com/events/tokens_revoked): user ids (not tokens) per kind of token revoked."""
    tokens: dict[str, list[str]] = {"bot": list(bot_user_ids)}
    if oauth_user_ids:
        tokens["oauth"] = list(oauth_user_ids)
    return _bare_event(
        {"type": "tokens_revoked", "tokens": tokens}, event_id, team_id, api_app_id, enterprise_id
    )


def _bare_event(
    event: dict[str, Any],
    event_id: str | None,
    team_id: str | None,
    api_app_id: str,
    enterprise_id: str | None,
) -> str:
    """An Events API body with only the fields Slack's documented examples carry (no ``authorizations``:
    the app no longer has any), and the organization of an Enterprise Grid workspace."""
    grid = {"enterprise_id": enterprise_id} if enterprise_id else {}
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            **grid,
            "api_app_id": api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
        }
    )


def signed_headers(signing_secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers and the body's content type."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body)
    is_json = body.lstrip().startswith("{")
    return {
        "Content-Type": "application/json" if is_json else "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }


def post_to_app(
    url: str,
    body: str,
    signing_secret: str,
    *,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], str]:
    """POST a signed body to an app's request URL: (status, headers, body), errors included."""
    all_headers = {**signed_headers(signing_secret, body, timestamp), **(headers or {})}
    request = urllib.request.Request(url, data=body.encode("utf-8"), headers=all_headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - local app URL
            return response.status, dict(response.headers.items()), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read().decode("utf-8", "replace")
