"""exact tallies only: the entry bound of 0005 retired

Revision ID: 0008
Revises: 0007

0005 kept, per session, every admitted entry ever: an upper bound of the people inside, so
that a scan counted the room exactly only near capacity. Since 0006 the exact figure is one
row too, so the bound, its column and its two triggers go: a scan reads the exact figure,
and an insert into ``scans`` fires one trigger fewer.

The tallies' insert in 0006's triggers named the ``entries`` column, so those triggers are
made again without it. Their text is 0006's (a frozen file, loaded here rather than copied a
third time) with that column left out; tests/test_checkin.py checks the result against
``desktop.attendance.presence_ddl()``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _sibling(filename: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"eventdesk_migration_{filename[:4]}", Path(__file__).with_name(filename)
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_V5 = "0005_entry_tallies.py"
_V6 = "0006_session_presence.py"


def statements() -> list[str]:
    """0006's presence triggers with the tallies' ``entries`` column left out."""
    return [
        text.replace(
            "INSERT INTO session_entry_tallies (session_id, entries, inside, arrived) ",
            "INSERT INTO session_entry_tallies (session_id, inside, arrived) ",
        ).replace(", 0, 0, 0) ON CONFLICT (session_id) DO", ", 0, 0) ON CONFLICT (session_id) DO")
        for text in _sibling(_V6).statements()
    ]


def _drop_triggers(*modules: ModuleType) -> None:
    for module in modules:
        for trigger in module.TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def upgrade() -> None:
    v5, v6 = _sibling(_V5), _sibling(_V6)
    _drop_triggers(v5, v6)
    # SQLite's own DROP COLUMN (3.35+): a batch copy of the table is not needed.
    op.drop_column("session_entry_tallies", "entries")
    for statement in statements():
        op.execute(statement)


def downgrade() -> None:
    v5, v6 = _sibling(_V5), _sibling(_V6)
    _drop_triggers(v6)
    op.add_column(
        "session_entry_tallies",
        sa.Column("entries", sa.Integer(), server_default="0", nullable=False),
    )
    # Every session with a scan has its row (0006's triggers make it): fill the bound in.
    op.execute(
        "UPDATE session_entry_tallies SET entries = (SELECT count(*) FROM scans s "
        "WHERE s.session_id = session_entry_tallies.session_id AND s.direction = 'entry' "
        "AND (s.decision IN ('not_synced', 'ok') OR s.forced))"
    )
    for statement in [*v5.statements(), *v6.statements()]:
        op.execute(statement)
