"""Events: the App Home shows the sync's state (connection, problems by reason with dollars, the oldest
with Diagnose buttons, the last automatic sync, the next digest). An uninstall or revoked tokens are
recorded (``services.access.workspace``): the scheduler's Slack jobs stop calling Slack until a valid token
is back; QuickBooks syncs go on. Slack retries an event it did not see answered within 3 s
(``X-Slack-Retry-Num``): events are keyed on ``event_id`` so a retry does nothing twice."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.shape import IDS
from bot.views.home import home_view
from commands.common import Deps
from services.access.workspace import SlackAccessStore
from services.diagnosis.dashboard import build_dashboard
from services.scheduler.jobs import next_digest_at

log = logging.getLogger(__name__)
USER_ID = IDS["user"]


def home_opened(body: dict[str, Any], event: dict[str, Any], client: WebClient, deps: Deps) -> None:
    user = event.get("user")  # checked before dispatch (bot.shape): a user id, never an object
    if not isinstance(user, str) or not USER_ID.fullmatch(user):
        log.warning("app_home_opened without a user id was ignored")
        return
    if event.get("tab", "home") != "home" or not deps.seen_events.first_time(body.get("event_id")):
        return
    client.views_publish(user_id=user, view=home(deps, connect_url=deps.connect_url, viewer=user))


def uninstalled(body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    log.warning("the Slack app was uninstalled from %s", _where(body))
    _lost(deps, "app_uninstalled", client.token, tokens_only=False)


def revoked(body: dict[str, Any], client: WebClient, deps: Deps) -> None:
    log.warning("Slack tokens were revoked in %s", _where(body))
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    tokens = event.get("tokens") if isinstance(event.get("tokens"), dict) else {}
    if deps.services.workspace is None or tokens.get("bot"):
        _lost(deps, "tokens_revoked", client.token, tokens_only=True)


def _where(body: dict[str, Any]) -> str:
    """The team an event came from, or the organisation (an org-wide install's event names no team)."""
    team = body.get("team_id")
    return f"team {team}" if team else f"organisation {body.get('enterprise_id')}"


def _lost(deps: Deps, reason: str, token: str | None, *, tokens_only: bool) -> None:
    """Single-workspace mode: the loss is recorded (the Slack jobs stop). Distribution mode: the
    workspace's Slack tokens are deleted too and it is marked uninstalled; its data stays."""
    workspace = deps.services.workspace
    if workspace is None:
        SlackAccessStore(deps.services.engine).lost(reason, token)
        return
    root = deps.services.root or deps.services
    root.registry.removed_from_slack(workspace, reason, tokens_only=tokens_only)


def register(app: App) -> None:
    app.event("app_home_opened")(home_opened)
    app.event("app_uninstalled")(uninstalled)
    app.event("tokens_revoked")(revoked)


def home(deps: Deps, connect_url: str | None = None, viewer: str | None = None) -> dict[str, Any]:
    """The App Home view, from the database alone; with the Settings section when ``viewer`` is an
    administrator of a workspace in distribution mode."""
    settings = deps.services.settings
    dashboard = build_dashboard(deps.services.engine, deps.services.connection.status())
    channel = settings.digest_channel
    extra = None
    workspace = deps.services.workspace
    if workspace is not None and settings.distribution and viewer and deps.access.is_admin(viewer):
        from bot.views.settings import settings_blocks
        from services.workspaces.routing import tms_url

        extra = settings_blocks(settings, tms_url(settings, workspace.tms_key))
    return home_view(
        dashboard.status,
        connect_url=connect_url,
        dashboard=dashboard,
        next_digest=next_digest_at(settings.digest_time, settings.timezone) if channel else None,
        digest_channel=channel,
        settings=extra,
    )
