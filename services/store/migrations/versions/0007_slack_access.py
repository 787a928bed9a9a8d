"""Slack access: whether the app was uninstalled or its token revoked, why and when

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.store.models

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_access",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("lost_at", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("token_fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("skips_logged", sa.JSON(), nullable=False),
        sa.Column("updated_at", services.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("slack_access")
