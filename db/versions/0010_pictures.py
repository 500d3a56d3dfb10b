"""pictures: the seals, signatures and backgrounds certificates draw, kept in the database

Revision ID: 0010
Revises: 0009

A certificate setting named a picture by its path on the desk where it was chosen, so another
desk drew the certificate without it. The picture's bytes now travel as an operation
(``picture.put``) and are kept here, named by their SHA-256; the setting names the picture.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pictures",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pictures")),
    )
    op.create_index(op.f("ix_pictures_event_id"), "pictures", ["event_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_pictures_event_id"), table_name="pictures")
    op.drop_table("pictures")
