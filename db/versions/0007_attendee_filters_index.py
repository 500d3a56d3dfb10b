"""attendee filters index: an event's countries, categories and counts from the index alone

Revision ID: 0007
Revises: 0006

The attendees and badges areas list the countries and categories of the event for their
filters, and the badges area counts the registered attendees a batch would print. With
100,000 attendees each of these read every attendee row (115 ms each on the GUI thread,
whenever the area was shown). An index on (event_id, country, category, status) answers them
from the index in a few milliseconds. It takes the place of the one on (event_id,
family_name), which no query used (names are sorted by the search index's folded keys, and
the badge order is case-blind, which a binary index cannot give), so a write still updates as
many indexes as before.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_attendees_event_family", table_name="attendees")
    op.create_index(
        "ix_attendees_event_filters",
        "attendees",
        ["event_id", "country", "category", "status"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_attendees_event_filters", table_name="attendees")
    op.create_index(
        "ix_attendees_event_family", "attendees", ["event_id", "family_name"], unique=False
    )
