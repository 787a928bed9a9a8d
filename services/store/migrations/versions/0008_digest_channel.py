"""The digest channel's last check (its name, what keeps the digest out), and per digest what stopped it
or kept its chart out

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:00:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.store.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_channel",
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("problem", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("needed", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("checked_at", services.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    with op.batch_alter_table("digest_post", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stopped", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("chart_error", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("digest_post", schema=None) as batch_op:
        batch_op.drop_column("chart_error")
        batch_op.drop_column("stopped")
    op.drop_table("digest_channel")
