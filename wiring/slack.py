"""Slack's side of the composition root: the Bolt app with every listener registered, and the digest's
Slack channel and poster for the scheduler, ``qbsync digest --post`` and the playground."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

import commands
from bot.app import build_bolt_app
from bot.digest_channel import SlackDigestChannel
from commands.common import Deps
from services.access.roles import Access
from services.digest.posting import DigestPoster, poster_for

log = logging.getLogger("bot.app")


def create_app(
    settings: Any, services: Any, *, socket_mode: bool = False, connect_url: str | None = None
) -> App:
    """The Bolt app for ``settings`` with qbsync's listeners; ``services`` is ``wiring.services.Services``."""
    install = None
    if settings.distribution:
        from bot.install import Install

        install = Install(settings, services)
    app = build_bolt_app(settings, services.engine, socket_mode=socket_mode, install=install)
    access = Access.from_settings(settings)
    if access.open_to_everyone and not settings.distribution:
        log.warning("QBSYNC_FIXERS is not set: every member of the workspace can run fixes")
    connect_url = connect_url or settings.connect_url  # {QBSYNC_PUBLIC_URL}/qbo/connect
    commands.register(app, Deps(services=services, access=access, connect_url=connect_url))
    return app


def digest_channel(services: Any, client: WebClient) -> SlackDigestChannel:
    return SlackDigestChannel(client, connect_url=getattr(services.settings, "connect_url", None))


def digest_poster(services: Any, client: WebClient, **changes: Any) -> DigestPoster:
    """The digest poster of ``services``' settings, posting through ``client``; ``changes`` replace
    its fields (``channel``, ``tz``, ``at``, ``now``)."""
    poster = poster_for(services, digest_channel(services, client))
    for name, value in changes.items():
        setattr(poster, name, value)
    return poster


def workspace_client(services: Any) -> WebClient | None:
    """A Web API client with the bot token of ``services``' workspace, recording Slack's refusals in its
    storage: ``SLACK_BOT_TOKEN`` in single-workspace mode; in distribution mode the token of its
    installation, or None when the app is not installed there (its Slack work stops; its data stays)."""
    from bot.app import web_client
    from services.access.workspace import SlackAccessStore

    settings = services.settings
    workspace = services.workspace
    if not settings.distribution or workspace is None:
        return (
            web_client(settings, access=SlackAccessStore(services.engine))
            if settings.slack_bot_token
            else None
        )
    if not workspace.installed:
        return None
    from services.workspaces.installations import InstallationRows

    root = services.root or services
    org = workspace.org_wide
    found = InstallationRows(root.engine, root.cipher).find(
        workspace.enterprise_id, None if org else workspace.team_id, org
    )
    if not found or not found.get("bot_token"):
        return None
    return web_client(settings, token=found["bot_token"], access=SlackAccessStore(services.engine))


def workspace_chat(services: Any) -> SlackDigestChannel | None:
    """The digest's chat port for ``services``' workspace, or None without a token."""
    client = workspace_client(services)
    return digest_channel(services, client) if client is not None else None
