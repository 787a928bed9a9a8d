"""The home tables of a deployment for many workspaces: which workspaces there are and where each one's
data lives (``workspace``), and Slack's installations and install states. They live in the home
database only (``DATABASE_URL``'s default schema); a workspace's own tables live in its storage
(:mod:`services.store.tenancy`). Slack's tokens are kept encrypted, as QuickBooks' are."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from services.store.models import UTCDateTime, utcnow


def _when(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


class WorkspaceRecord(SQLModel, table=True):
    """One Slack workspace (team) and its tenant: where its data is, whether the app is installed there,
    its QuickBooks company, its TMS webhook key, and the settings its administrators chose in Slack
    (``None``: the deployment's environment variables)."""

    __tablename__ = "workspace"

    team_id: str = Field(primary_key=True, max_length=32)
    enterprise_id: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=200)
    # Where its tables are: None = the home tables (the workspace of a single-workspace deployment);
    # else a PostgreSQL schema, or the suffix of a SQLite file beside the home database.
    storage: str | None = Field(default=None, max_length=64, unique=True)
    installed: bool = Field(default=True)
    installed_at: dt.datetime | None = _when(nullable=True)
    installed_by: str | None = Field(default=None, max_length=32)
    uninstalled_at: dt.datetime | None = _when(nullable=True)
    uninstalled_reason: str | None = Field(default=None, max_length=64)
    # The QuickBooks company connected: one workspace per company.
    realm_id: str | None = Field(default=None, max_length=32, unique=True)
    # ``POST /tms/events/{tms_key}``, signed with the secret (ciphertext).
    tms_key: str | None = Field(default=None, max_length=64, unique=True)
    tms_secret: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    admins: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    fixers: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    digest_channel: str | None = Field(default=None, max_length=32)
    digest_time: str | None = Field(default=None, max_length=5)
    timezone: str | None = Field(default=None, max_length=64)
    created_at: dt.datetime = _when(nullable=False, default=utcnow)
    updated_at: dt.datetime = _when(nullable=False, default=utcnow, onupdate=utcnow)


class SlackInstallationRecord(SQLModel, table=True):
    """The latest installation of the app in a workspace or an organisation, keyed as Slack recommends
    for Enterprise Grid: (enterprise id, team id, org-wide or not); '' stands for none. ``data`` holds
    what Slack returned without its tokens; the tokens are ciphertext."""

    __tablename__ = "slack_installation"

    enterprise_id: str = Field(primary_key=True, max_length=32)
    team_id: str = Field(primary_key=True, max_length=32)
    is_enterprise_install: bool = Field(primary_key=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    bot_token: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    bot_refresh_token: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    user_token: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    user_refresh_token: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    installed_at: dt.datetime = _when(nullable=False, default=utcnow)


class SlackOAuthStateRecord(SQLModel, table=True):
    """A state of one "Add to Slack" install, stored as a SHA-256 digest, single-use, ten minutes."""

    __tablename__ = "slack_oauth_state"

    digest: str = Field(primary_key=True, max_length=64)
    expires_at: dt.datetime = _when(nullable=False, index=True)


HOME_TABLES = frozenset({"workspace", "slack_installation", "slack_oauth_state"})
