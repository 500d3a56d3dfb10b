"""check-in: scan voids (a supervisor's undo of a scan)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_voids",
        sa.Column("op_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("scan_op_id", sa.String(length=36), nullable=False),
        sa.Column("desk_id", sa.String(length=36), nullable=False),
        sa.Column("operator_id", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_scan_voids")),
    )
    with op.batch_alter_table("scan_voids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_voids_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scan_voids_scan_op_id"), ["scan_op_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scan_voids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_voids_scan_op_id"))
        batch_op.drop_index(batch_op.f("ix_scan_voids_event_id"))
    op.drop_table("scan_voids")
