"""The administrators' Settings of a workspace (distribution mode), from its App Home: Edit settings opens
a modal; its submission is checked (errors shown on the field, nothing saved) and saved to the workspace's
row (``services.workspaces.registry``); New TMS webhook secret makes a new URL and secret and shows them
once, in a modal only that administrator sees. Every step checks that the person is an administrator."""

from __future__ import annotations

import logging
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import ids
from bot.views.settings import settings_modal, tms_secret_modal
from commands.common import Deps, actor_of
from services.access.roles import Refusal, audit_refusal
from services.catalogue import workspaces as words
from services.workspaces.routing import tms_url

log = logging.getLogger(__name__)

USER = re.compile(r"^[UW][A-Z0-9]{1,30}$")
CHANNEL = re.compile(r"^[CG][A-Z0-9]{1,30}$")
TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


def _admin(deps: Deps, body: dict[str, Any]) -> str | None:
    """The administrator acting, or None (the refusal audited)."""
    actor, user = actor_of(body)
    if deps.services.workspace is not None and deps.access.is_admin(user):
        return user
    audit_refusal(
        deps.services.engine, actor, None, Refusal("settings", words.SETTINGS_ADMINS_ONLY, deps.access.admins)
    )
    log.warning("Settings refused to %s: not an administrator", actor)
    return None


def edit(ack: Ack, body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    ack()
    if _admin(deps, body) is None:
        return
    try:
        client.views_open(trigger_id=body.get("trigger_id"), view=settings_modal(deps.services.settings))
    except SlackApiError as exc:
        log.info("views.open refused: %s", exc.response.get("error"))


def rotate(ack: Ack, body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    ack()
    user = _admin(deps, body)
    if user is None:
        return
    root = deps.services.root or deps.services
    url = secret = None
    if deps.services.settings.public_url:
        key, secret = root.registry.rotate_tms_secret(deps.services.workspace.team_id)
        url = tms_url(deps.services.settings, key)
        log.warning(
            "workspace %s: a new TMS webhook secret was made by %s", deps.services.workspace.team_id, user
        )
    try:
        client.views_open(trigger_id=body.get("trigger_id"), view=tms_secret_modal(url, secret))
    except SlackApiError as exc:  # the secret was not shown: the administrator presses again for another
        log.info("views.open refused: %s", exc.response.get("error"))
    _republish(client, deps, user)


def _value(values: dict[str, Any], block: str) -> dict[str, Any]:
    found = (values.get(block) or {}).get(ids.SETTINGS_VALUE)
    return found if isinstance(found, dict) else {}


def read(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings of a submission, and the errors by block (nothing saved when there are any)."""
    errors: dict[str, str] = {}
    channel = _value(values, ids.SETTINGS_CHANNEL_INPUT).get("selected_conversation")
    time = _value(values, ids.SETTINGS_TIME_INPUT).get("selected_time")
    zone = (_value(values, ids.SETTINGS_ZONE_INPUT).get("value") or "").strip()
    fixers = _value(values, ids.SETTINGS_FIXERS_INPUT).get("selected_users") or []
    admins = _value(values, ids.SETTINGS_ADMINS_INPUT).get("selected_users") or []
    if channel is not None and not (isinstance(channel, str) and CHANNEL.fullmatch(channel)):
        channel = None
    if not (isinstance(time, str) and TIME.fullmatch(time)):
        errors[ids.SETTINGS_TIME_INPUT] = "HH:MM"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        errors[ids.SETTINGS_ZONE_INPUT] = words.SETTINGS_BAD_TIMEZONE.format(zone=zone[:40] or "''")[:150]
    people = [u for u in [*fixers, *admins] if not (isinstance(u, str) and USER.fullmatch(u))]
    if people or not admins:
        errors[ids.SETTINGS_ADMINS_INPUT] = words.SETTINGS_NO_ADMINS
    chosen = {
        "digest_channel": channel,
        "digest_time": time,
        "timezone": zone,
        "fixers": list(dict.fromkeys(fixers)) or None,
        "admins": list(dict.fromkeys(admins)),
    }
    return chosen, errors


def check(ack: Ack, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    chosen, errors = read((view.get("state") or {}).get("values") or {})
    if _admin(deps, body) is None:
        ack(response_action="errors", errors={ids.SETTINGS_ADMINS_INPUT: words.SETTINGS_ADMINS_ONLY})
        return
    if errors:
        ack(response_action="errors", errors=errors)
        return
    root = deps.services.root or deps.services
    root.registry.update_settings(
        deps.services.workspace.team_id, **chosen
    )  # saved before the Home is redrawn
    ack()
    _, user = actor_of(body)
    log.info("workspace %s: settings changed by %s", deps.services.workspace.team_id, user)


def saved(body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    _, user = actor_of(body)
    _republish(client, deps, user)


def _republish(client: WebClient, deps: Deps, user: str) -> None:
    """The App Home again, from the workspace's settings as now saved."""
    from commands.events import home

    fresh = deps.of_workspace(deps.services.workspace.team_id)
    if fresh is None:
        return
    try:
        client.views_publish(user_id=user, view=home(fresh, connect_url=fresh.connect_url, viewer=user))
    except SlackApiError as exc:
        log.info("views.publish refused: %s", exc.response.get("error"))


def register(app: App) -> None:
    app.action(ids.SETTINGS_EDIT)(edit)
    app.action(ids.SETTINGS_TMS)(rotate)
    app.view(ids.SETTINGS_VIEW)(ack=check, lazy=[saved])
