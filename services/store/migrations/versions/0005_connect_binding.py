"""Connecting is bound: single-use Connect tickets made for an administrator, and the browser that
started a connection (a digest of its cookie) kept with its OAuth state; both say whether the
administrator asked to switch to another QuickBooks company

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connect_ticket",
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", services.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", services.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("switch_company", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("connect_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connect_ticket_expires_at"), ["expires_at"], unique=False)
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("browser_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("switch_company", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("oauth_state", schema=None) as batch_op:
        batch_op.drop_column("switch_company")
        batch_op.drop_column("browser_digest")
    with op.batch_alter_table("connect_ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connect_ticket_expires_at"))
    op.drop_table("connect_ticket")
