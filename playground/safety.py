"""The playground can reach nothing but its own stand-ins: QuickBooks and Intuit on the in-process
emulator, Slack on the in-process stand-in, a throw-away database, fresh secrets. The settings it runs
with are built here from the demo's, whatever the environment says, and checked before anything
starts."""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlsplit

from pydantic import SecretStr

from services.errors import ConfigurationError
from services.settings import Settings

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def playground_settings(
    base: Settings,
    *,
    slack_api_url: str,
    bot_token: str | None,
    user: str,
    channel: str,
    public_url: str | None = None,
    oauth: tuple[str, str, str] | None = None,
):
    """``base`` (the demo's: emulator URLs, a temporary SQLite file) with Slack pointed at the stand-in,
    a fresh signing secret, ``user`` allowed every fix (an administrator), and ``public_url`` (the
    playground's own loopback address) where Connect QuickBooks leads.

    ``oauth`` (the stand-in's client id, client secret and authorize URL) runs the app in distribution
    mode: no bot token of its own, each workspace's from its "Add to Slack"; who may fix and administer
    and the digest channel are each workspace's then (the installer is its first administrator)."""
    if public_url is not None and not is_loopback(urlsplit(public_url).hostname):
        raise ConfigurationError("the playground serves on a loopback address only")
    update = {
        "public_url": public_url,
        "slack_bot_token": SecretStr(bot_token) if bot_token else None,
        "slack_signing_secret": SecretStr(secrets.token_hex(16)),
        "slack_app_token": None,
        "slack_api_url": slack_api_url,
        "slack_client_id": None,
        "slack_client_secret": None,
        "fixers": (user,),
        "admins": (user,),
        "digest_channel": channel,
        "tms_webhook_secret": None,
    }
    if oauth is not None:
        client_id, client_secret, authorize_url = oauth
        update.update(
            slack_client_id=client_id,
            slack_client_secret=SecretStr(client_secret),
            slack_authorize_url=authorize_url,
        )
    return base.model_copy(update=update)


def check_settings(settings: Settings, *, emulator_url: str, slack_api_url: str) -> None:
    """Refuse to start unless every outside address is one of the playground's own stand-ins."""
    quickbooks = {
        "QBO_API_BASE_URL": settings.qbo_api_base_url,
        "INTUIT_DISCOVERY_URL": settings.intuit_discovery_url,
    }
    for name, url in quickbooks.items():
        if not url or not url.startswith(emulator_url + "/") or not is_loopback(urlsplit(url).hostname):
            raise ConfigurationError(
                f"the playground talks to the QuickBooks emulator only; {name} is {url or 'unset'}"
            )
    if settings.slack_api_url != slack_api_url or not is_loopback(urlsplit(slack_api_url).hostname):
        raise ConfigurationError("the playground talks to its Slack stand-in only")
    if settings.distribution:  # "Add to Slack" leads to the stand-in's authorize page, nowhere else
        authorize = settings.slack_authorize_url or ""
        stand_in = slack_api_url.removesuffix("api/")
        if not authorize.startswith(stand_in) or not is_loopback(urlsplit(authorize).hostname):
            raise ConfigurationError("the playground installs the app in its Slack stand-in only")
    if settings.slack_app_token is not None:
        raise ConfigurationError("the playground never opens a Socket Mode connection to Slack")
    database = urlsplit(settings.database_url)
    if database.scheme != "sqlite":
        raise ConfigurationError("the playground uses a throw-away SQLite database only")


def check_host(host: str) -> None:
    if not is_loopback(host):
        raise ConfigurationError(f"the playground listens on this machine only (127.0.0.1), not {host}")
