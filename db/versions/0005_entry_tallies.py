"""entry tallies: a per-session bound for the capacity check; a per-person-and-door scan index

Revision ID: 0005
Revises: 0004

A scan at a session door read every entry of that session twice (its "already in?" lookup
went by the session's index, and the capacity bound counted all its entries), so a scan got
slower as the room filled. The index now leads with the person and the door, and the bound
is one row of ``session_entry_tallies``, kept by triggers. The trigger statements are a
frozen copy of what ``desktop.attendance`` made at this revision; migration 0008 dropped
them with the bound.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TRIGGERS = ("session_entry_tally_ai", "session_entry_tally_ad")
_ADMITTED_NEW = (
    "new.session_id IS NOT NULL AND new.direction = 'entry' "
    "AND (new.decision IN ('not_synced', 'ok') OR new.forced)"
)
_ADMITTED_OLD = _ADMITTED_NEW.replace("new.", "old.")


def statements() -> list[str]:
    """The trigger statements of this revision."""
    return [
        f"CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT ON scans WHEN {_ADMITTED_NEW} "
        "BEGIN INSERT INTO session_entry_tallies (session_id, entries) VALUES (new.session_id, 1) "
        "ON CONFLICT (session_id) DO UPDATE SET entries = entries + 1; END",
        f"CREATE TRIGGER {TRIGGERS[1]} AFTER DELETE ON scans WHEN {_ADMITTED_OLD} "
        "BEGIN UPDATE session_entry_tallies SET entries = entries - 1 "
        "WHERE session_id = old.session_id; END",
    ]


BACKFILL = (
    "INSERT OR REPLACE INTO session_entry_tallies (session_id, entries) "
    "SELECT session_id, count(*) FROM scans WHERE session_id IS NOT NULL "
    "AND direction = 'entry' AND (decision IN ('not_synced', 'ok') OR forced) "
    "GROUP BY session_id"
)


def upgrade() -> None:
    op.create_table(
        "session_entry_tallies",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_entry_tallies")),
    )
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_index("ix_scans_attendee_at")
        batch_op.create_index(
            "ix_scans_attendee_session_at", ["attendee_id", "session_id", "at"], unique=False
        )
    for statement in statements():
        op.execute(statement)
    op.execute(BACKFILL)


def downgrade() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_index("ix_scans_attendee_session_at")
        batch_op.create_index("ix_scans_attendee_at", ["attendee_id", "at"], unique=False)
    op.drop_table("session_entry_tallies")
