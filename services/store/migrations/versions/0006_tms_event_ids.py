"""TMS events: the event ids already applied, and per record the timestamp of the newest event applied

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.store.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tms_event",
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("event_at", services.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", services.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("tms_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tms_event_received_at"), ["received_at"], unique=False)
    op.create_table(
        "tms_record_event",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("event_at", services.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )


def downgrade() -> None:
    op.drop_table("tms_record_event")
    with op.batch_alter_table("tms_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tms_event_received_at"))
    op.drop_table("tms_event")
