"""QuickBooks invoice number override and dismissal of loads

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:12:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.store.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("load", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("qb_doc_number", sqlmodel.sql.sqltypes.AutoString(length=21), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dismissed_by", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dismissed_at", services.store.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dismissed_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_load_qb_doc_number"), ["qb_doc_number"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("load", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_load_qb_doc_number"))
        batch_op.drop_column("dismissed_reason")
        batch_op.drop_column("dismissed_at")
        batch_op.drop_column("dismissed_by")
        batch_op.drop_column("qb_doc_number")
