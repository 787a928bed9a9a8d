"""QuickBooks' limits per company kept across processes: the budget row each process locks, the grants
of sends counted against the sliding minute, and the places among the requests in flight

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10 09:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "qbo_budget",
        sa.Column("realm_id", Text(length=32), nullable=False),
        sa.Column("paused_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("realm_id"),
    )
    op.create_table(
        "qbo_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", Text(length=32), nullable=False),
        sa.Column("kind", Text(length=8), nullable=False),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.Float(), nullable=False),
        sa.Column("use_by", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_qbo_grant_realm_id_use_by", "qbo_grant", ["realm_id", "use_by"])
    op.create_table(
        "qbo_slot",
        sa.Column("realm_id", Text(length=32), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", Text(length=120), nullable=True),
        sa.Column("until", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("realm_id", "slot"),
    )


def downgrade() -> None:
    op.drop_table("qbo_slot")
    op.drop_index("ix_qbo_grant_realm_id_use_by", table_name="qbo_grant")
    op.drop_table("qbo_grant")
    op.drop_table("qbo_budget")
