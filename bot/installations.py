"""slack_sdk's installation and state stores over qbsync's own tables (``services.workspaces.installations``):
Bolt's OAuth flow saves each "Add to Slack" here, and finds the bot token of every request's workspace
here. Tokens are encrypted at rest with ``QBSYNC_SECRET_KEY``."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from services.workspaces.installations import InstallationRows, InstallStates

log = logging.getLogger(__name__)


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """An installation's fields as JSON can hold them (times as seconds)."""
    out = {}
    for name, value in data.items():
        out[name] = value.timestamp() if isinstance(value, dt.datetime) else value
    return out


class DatabaseInstallationStore(InstallationStore):
    def __init__(self, rows: InstallationRows) -> None:
        self.rows = rows

    @property
    def logger(self) -> logging.Logger:
        return log

    def save(self, installation: Installation) -> None:
        self.rows.save(_plain(installation.to_dict()))

    def save_bot(self, bot: Bot) -> None:
        found = self.rows.find(bot.enterprise_id, bot.team_id, bot.is_enterprise_install) or {}
        self.rows.save({**found, **_plain(bot.to_dict()), "user_id": found.get("user_id") or ""})

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = self.rows.find(enterprise_id, team_id, is_enterprise_install, recent=True)
        if found is None:
            return None
        if user_id is not None and found.get("user_id") != user_id:
            return None  # only the installer's user token is kept
        known = {
            name: value for name, value in found.items() if name in Installation.__init__.__code__.co_varnames
        }
        known.setdefault("user_id", "")
        return Installation(**known)

    def find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        installation = self.find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        if installation is None or not installation.bot_token:
            return None
        return installation.to_bot()

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.rows.delete_bot_tokens(enterprise_id, team_id, team_id is None and bool(enterprise_id))

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self.rows.delete(enterprise_id, team_id, team_id is None and bool(enterprise_id))

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.rows.delete(enterprise_id, team_id, team_id is None and bool(enterprise_id))


class DatabaseStateStore(OAuthStateStore):
    def __init__(self, states: InstallStates) -> None:
        self.states = states

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        return self.states.issue()

    def consume(self, state: str) -> bool:
        return self.states.consume(state)
