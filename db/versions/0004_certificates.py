"""certificates: supervisors' overrides of eligibility, and each event's certificate settings

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_overrides",
        sa.Column("op_id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("attendee_id", sa.String(length=36), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("desk_id", sa.String(length=36), nullable=False),
        sa.Column("operator_id", sa.String(length=36), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_certificate_overrides")),
    )
    with op.batch_alter_table("certificate_overrides", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_overrides_attendee_id"), ["attendee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_certificate_overrides_event_id"), ["event_id"], unique=False
        )

    op.create_table(
        "certificate_settings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("min_percent", sa.Integer(), nullable=False),
        sa.Column("every_day", sa.Boolean(), nullable=False),
        sa.Column("min_sessions", sa.Integer(), nullable=False),
        sa.Column("combine", sa.String(length=8), nullable=False),
        sa.Column("attendance_categories", sa.JSON(), nullable=False),
        sa.Column("appreciation_categories", sa.JSON(), nullable=False),
        sa.Column("paper", sa.String(length=16), nullable=False),
        sa.Column("partner", sa.String(length=300), nullable=False),
        sa.Column("logo", sa.String(length=300), nullable=False),
        sa.Column("partner_logo", sa.String(length=300), nullable=False),
        sa.Column("background", sa.String(length=300), nullable=False),
        sa.Column("signatories", sa.JSON(), nullable=False),
        sa.Column("field_hlc", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_settings")),
    )
    with op.batch_alter_table("certificate_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_settings_event_id"), ["event_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("certificate_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_settings_event_id"))
    op.drop_table("certificate_settings")
    with op.batch_alter_table("certificate_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_overrides_event_id"))
        batch_op.drop_index(batch_op.f("ix_certificate_overrides_attendee_id"))
    op.drop_table("certificate_overrides")
