"""attendee indexes trimmed: the two that no query needs

Revision ID: 0009
Revises: 0008

Every attendee written (an import's 50,000 rows, a pulled batch, a walk-in) updates each
index of ``attendees``. Two of them served no query: the one on ``email`` (an import matches
e-mail addresses in Python, folded for case, so a binary index cannot help; search reads
e-mail from the search index), and the one on ``event_id`` alone, which the indexes on
(event_id, short_code) and (event_id, country, category, status) both begin with, so a
query by event uses those. Without them a 50,000-row import writes a tenth less.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_attendees_email", table_name="attendees")
    op.drop_index("ix_attendees_event_id", table_name="attendees")


def downgrade() -> None:
    op.create_index("ix_attendees_event_id", "attendees", ["event_id"], unique=False)
    op.create_index("ix_attendees_email", "attendees", ["email"], unique=False)
