"""The home tables of many workspaces: the registry of workspaces (where each one's tables are, its
QuickBooks company, its TMS key and settings), Slack's installations and install states

Revision ID: h001
Revises:
Create Date: 2026-12-03 09:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.store.models

revision = "h001"
down_revision = None
branch_labels = ("home",)  # the home database only, never a workspace's storage
depends_on = None

When = services.store.models.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "workspace",
        sa.Column("team_id", Text(length=32), nullable=False),
        sa.Column("enterprise_id", Text(length=32), nullable=True),
        sa.Column("name", Text(length=200), nullable=True),
        sa.Column("storage", Text(length=64), nullable=True),
        sa.Column("installed", sa.Boolean(), nullable=False),
        sa.Column("installed_at", When(timezone=True), nullable=True),
        sa.Column("installed_by", Text(length=32), nullable=True),
        sa.Column("uninstalled_at", When(timezone=True), nullable=True),
        sa.Column("uninstalled_reason", Text(length=64), nullable=True),
        sa.Column("realm_id", Text(length=32), nullable=True),
        sa.Column("tms_key", Text(length=64), nullable=True),
        sa.Column("tms_secret", sa.Text(), nullable=True),
        sa.Column("admins", sa.JSON(), nullable=True),
        sa.Column("fixers", sa.JSON(), nullable=True),
        sa.Column("digest_channel", Text(length=32), nullable=True),
        sa.Column("digest_time", Text(length=5), nullable=True),
        sa.Column("timezone", Text(length=64), nullable=True),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
        sa.UniqueConstraint("storage"),
        sa.UniqueConstraint("realm_id"),
        sa.UniqueConstraint("tms_key"),
    )
    op.create_table(
        "slack_installation",
        sa.Column("enterprise_id", Text(length=32), nullable=False),
        sa.Column("team_id", Text(length=32), nullable=False),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("bot_token", sa.Text(), nullable=True),
        sa.Column("bot_refresh_token", sa.Text(), nullable=True),
        sa.Column("user_token", sa.Text(), nullable=True),
        sa.Column("user_refresh_token", sa.Text(), nullable=True),
        sa.Column("installed_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("enterprise_id", "team_id", "is_enterprise_install"),
    )
    op.create_table(
        "slack_oauth_state",
        sa.Column("digest", Text(length=64), nullable=False),
        sa.Column("expires_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_slack_oauth_state_expires_at", "slack_oauth_state", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_slack_oauth_state_expires_at", table_name="slack_oauth_state")
    op.drop_table("slack_oauth_state")
    op.drop_table("slack_installation")
    op.drop_table("workspace")
