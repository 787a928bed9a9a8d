""" "Add to Slack": Bolt's OAuth flow, set up for qbsync's database (``bot.installations``), and what a
completed install does — the workspace is registered, its own storage made and migrated, the installer
made its first administrator (``services.workspaces.registry``) — and the short pages the browser shows
at the end, install or not."""

from __future__ import annotations

import html
import logging
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings

from bot.installations import DatabaseInstallationStore, DatabaseStateStore
from bot.scopes import BOT_SCOPES
from services.catalogue import workspaces as words
from services.workspaces.installations import InstallationRows, InstallStates

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


def _page(title: str, message: str, status: int) -> BoltResponse:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>qbsync</title></head>"
        f"<body style='font-family:sans-serif;max-width:36em;margin:3em auto'><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(message)}</p></body></html>"
    )
    return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})


class Install:
    """The OAuth settings of distribution mode over ``services`` (the deployment's
    ``wiring.services.Services``)."""

    def __init__(self, settings: Any, services: Any) -> None:
        self.settings = settings
        self.services = services
        self.store = DatabaseInstallationStore(InstallationRows(services.engine, services.cipher))
        self.states = DatabaseStateStore(InstallStates(services.engine))

    def oauth_settings(self) -> OAuthSettings:
        public = (self.settings.public_url or "").rstrip("/")
        settings = OAuthSettings(
            client_id=self.settings.slack_client_id,
            client_secret=self.settings.slack_client_secret.get_secret_value(),
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            installation_store=self.store,
            installation_store_bot_only=True,
            state_store=self.states,
            authorization_url=self.settings.slack_authorize_url,
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            redirect_uri=f"{public}{REDIRECT_PATH}" if public else None,
            callback_options=CallbackOptions(success=self.success, failure=self.failure),
        )
        # Each request's bot token is read from its installation; Slack's auth.test answer about that
        # token is kept (Bolt keys it by the token: a reinstall's new token is asked again, and a removed
        # installation has no token to find), instead of one auth.test round trip before every ack.
        settings.authorize.cache_enabled = True
        return settings

    def success(self, args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        tenant = installation.enterprise_id if installation.is_enterprise_install else installation.team_id
        name = installation.enterprise_name if installation.is_enterprise_install else installation.team_name
        try:
            workspace = self.services.registry.installed(
                tenant,
                name=name,
                enterprise_id=installation.enterprise_id,
                installer=installation.user_id or None,
            )
        except Exception:  # the installation is saved; registering again on the next install is safe
            log.exception("workspace %s: installed in Slack, but not registered", tenant)
            return _page(words.INSTALL_BROKEN_TITLE, words.INSTALL_BROKEN, 500)
        return _page(
            words.INSTALLED_TITLE, words.INSTALLED.format(name=workspace.name or workspace.team_id), 200
        )

    def failure(self, args: FailureArgs) -> BoltResponse:
        log.info("an install did not complete: %s", args.reason)
        message = words.INSTALL_FAILURES.get(args.reason, words.INSTALL_FAILED)
        return _page(words.NOT_INSTALLED_TITLE, message, args.suggested_status_code)
