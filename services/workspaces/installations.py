"""Slack's installations of the app and its install states, kept in the home database (tables
``slack_installation`` and ``slack_oauth_state``) with the tokens encrypted like QuickBooks' are. Plain
dictionaries in and out: ``bot.installations`` adapts them to slack_sdk's stores, and nothing here
imports Slack's libraries."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from services.store.models import utcnow
from services.store.secrets import TokenCipher
from services.store.storage import dialect_insert, immediate_transaction, retry_busy
from services.store.tenants import SlackInstallationRecord, SlackOAuthStateRecord
from services.workspaces.recent import forget, recall

TOKENS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
_INSTALLS = SlackInstallationRecord.__table__  # type: ignore[attr-defined]
_STATES = SlackOAuthStateRecord.__table__  # type: ignore[attr-defined]
STATE_TTL = dt.timedelta(minutes=10)


def _key(
    enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
) -> dict[str, Any]:
    # An org-wide install is found by its enterprise alone, whatever team a request comes from.
    org = bool(is_enterprise_install)
    return {
        "enterprise_id": enterprise_id or "",
        "team_id": "" if org else team_id or "",
        "is_enterprise_install": org,
    }


class InstallationRows:
    """The latest installation per (enterprise, team, org-wide)."""

    def __init__(self, home: Engine, cipher: TokenCipher) -> None:
        self.home = home
        self.cipher = cipher

    def save(self, data: dict[str, Any]) -> None:
        """Keep ``data`` (an installation's fields, tokens included) as the latest of its key."""
        key = _key(data.get("enterprise_id"), data.get("team_id"), data.get("is_enterprise_install"))
        plain = {name: value for name, value in data.items() if name not in TOKENS}
        values = {name: self.cipher.encrypt(data[name]) if data.get(name) else None for name in TOKENS} | {
            "data": plain,
            "installed_at": utcnow(),
        }

        def write() -> None:
            with immediate_transaction(self.home) as conn:
                insert = dialect_insert(conn, _INSTALLS).values(**key, **values)
                conn.execute(insert.on_conflict_do_update(index_elements=list(key), set_=values))

        retry_busy(write)
        forget(self.home)

    def find(
        self,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
        *,
        recent: bool = False,
    ) -> dict[str, Any] | None:
        """The latest installation of the key, tokens decrypted; an org-wide one when ``team_id`` has
        none of its own and ``enterprise_id`` is given. ``recent``: as read a moment ago will do
        (:mod:`services.workspaces.recent`), for the lookup every Slack request makes."""
        if recent:
            key = ("installation", enterprise_id, team_id, bool(is_enterprise_install))
            found = recall(self.home, key, lambda: self.find(enterprise_id, team_id, is_enterprise_install))
            return dict(found) if found is not None else None
        keys = [_key(enterprise_id, team_id, is_enterprise_install)]
        if not is_enterprise_install and enterprise_id:
            keys.append(_key(enterprise_id, None, True))
        with self.home.connect() as conn:
            for key in keys:
                row = conn.execute(
                    sa.select(_INSTALLS).where(*(_INSTALLS.c[name] == value for name, value in key.items()))
                ).first()
                if row is not None:
                    found = dict(row.data)
                    for name in TOKENS:
                        value = getattr(row, name)
                        found[name] = self.cipher.decrypt(value) if value else None
                    return found
        return None

    def delete(
        self, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> int:
        key = _key(enterprise_id, team_id, is_enterprise_install)
        with immediate_transaction(self.home) as conn:
            done = conn.execute(
                sa.delete(_INSTALLS).where(*(_INSTALLS.c[name] == value for name, value in key.items()))
            )
        forget(self.home)
        return done.rowcount or 0

    def delete_bot_tokens(
        self, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> None:
        key = _key(enterprise_id, team_id, is_enterprise_install)
        with immediate_transaction(self.home) as conn:
            conn.execute(
                sa.update(_INSTALLS)
                .where(*(_INSTALLS.c[name] == value for name, value in key.items()))
                .values(bot_token=None, bot_refresh_token=None)
            )
        forget(self.home)


class InstallStates:
    """The states of "Add to Slack": random, stored as a SHA-256 digest, single-use, ten minutes."""

    def __init__(self, home: Engine) -> None:
        self.home = home

    @staticmethod
    def _digest(state: str) -> str:
        return hashlib.sha256(state.encode("utf-8")).hexdigest()

    def issue(self) -> str:
        state = secrets.token_urlsafe(32)
        now = utcnow()
        with immediate_transaction(self.home) as conn:
            conn.execute(sa.delete(_STATES).where(_STATES.c.expires_at < now))
            conn.execute(sa.insert(_STATES).values(digest=self._digest(state), expires_at=now + STATE_TTL))
        return state

    def consume(self, state: str | None) -> bool:
        if not state or len(state) > 200:
            return False
        with immediate_transaction(self.home) as conn:
            done = conn.execute(
                sa.delete(_STATES).where(
                    _STATES.c.digest == self._digest(state), _STATES.c.expires_at >= utcnow()
                )
            )
        return bool(done.rowcount)
