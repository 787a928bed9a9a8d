"""QuickBooks' own changes: how far each company's change feed was read, the webhook notifications
received, the notices for the channel, and what QuickBooks says of each invoice's money

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 06:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.store.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

When = services.store.models.UTCDateTime
Text = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "qbo_change_point",
        sa.Column("realm_id", Text(length=32), nullable=False),
        sa.Column("reached_at", When(timezone=True), nullable=True),
        sa.Column("due_at", When(timezone=True), nullable=True),
        sa.Column("full_at", When(timezone=True), nullable=True),
        sa.Column("objects_seen", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("realm_id"),
    )
    op.create_table(
        "qbo_change_event",
        sa.Column("key", Text(length=64), nullable=False),
        sa.Column("realm_id", Text(length=32), nullable=False),
        sa.Column("entity", Text(length=32), nullable=False),
        sa.Column("entity_id", Text(length=32), nullable=False),
        sa.Column("operation", Text(length=16), nullable=False),
        sa.Column("occurred_at", When(timezone=True), nullable=True),
        sa.Column("received_at", When(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_qbo_change_event_realm_id", "qbo_change_event", ["realm_id"])
    op.create_index("ix_qbo_change_event_received_at", "qbo_change_event", ["received_at"])
    op.create_table(
        "qbo_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", Text(length=32), nullable=False),
        sa.Column("load_number", Text(length=64), nullable=False),
        sa.Column("code", Text(length=40), nullable=False),
        sa.Column("text", Text(length=500), nullable=False),
        sa.Column("created_at", When(timezone=True), nullable=False),
        sa.Column("posted_at", When(timezone=True), nullable=True),
        sa.Column("claimed_by", Text(length=100), nullable=True),
        sa.Column("claimed_until", When(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_qbo_notice_posted_at", "qbo_notice", ["posted_at"])
    with op.batch_alter_table("load", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qb_total", services.store.models.Money(), nullable=True))
        batch_op.add_column(sa.Column("qb_balance", services.store.models.Money(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("load", schema=None) as batch_op:
        batch_op.drop_column("qb_balance")
        batch_op.drop_column("qb_total")
    op.drop_index("ix_qbo_notice_posted_at", table_name="qbo_notice")
    op.drop_table("qbo_notice")
    op.drop_index("ix_qbo_change_event_received_at", table_name="qbo_change_event")
    op.drop_index("ix_qbo_change_event_realm_id", table_name="qbo_change_event")
    op.drop_table("qbo_change_event")
    op.drop_table("qbo_change_point")
