"""The scheduler: digests claimed per channel and day, job locks, automatic retries of loads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 01:46:53.122132
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.store.models

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_post",
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("claimed_until", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("posting_at", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("posted_at", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("chart_posting_at", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("chart_file_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("finished_at", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("created_at", services.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "day"),
    )
    op.create_table(
        "job_lock",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("until", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", services.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "load_retry",
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", services.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["load_id"], ["load.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("load_id"),
    )


def downgrade() -> None:
    op.drop_table("load_retry")
    op.drop_table("job_lock")
    op.drop_table("digest_post")
