"""CSRF states of browser connections (GET /qbo/connect)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.store.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "oauth_state",
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("requested_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("created_at", services.store.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", services.store.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", services.store.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_state_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_state_expires_at"))
    op.drop_table("oauth_state")
