"""session presence: exact inside-now and arrived figures per session door, kept by triggers

Revision ID: 0006
Revises: 0005

Near a session's capacity a scan counted everyone inside the room from all its scans (half a
second per scan in a 100,000-seat room), and the programme's live counts did the same for
every session. ``session_presence`` now holds each person's standing at each session door,
and ``session_entry_tallies`` the door's totals, both worked out again by triggers from the
person's own scans whenever a scan or a void arrives. The trigger statements are a frozen
copy of ``desktop.attendance.presence_ddl()`` at this revision (migration 0008 made them
again without the entry bound; tests/test_checkin.py checks that 0008's copy still agrees);
the backfill runs the same per-person query over the scans already there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TRIGGERS = (
    "session_presence_scan_ai",
    "session_presence_scan_ad",
    "session_presence_void_ai",
    "session_presence_void_ad",
)
_COUNTED = (
    "s.attendee_id = {a} AND s.session_id = {s} AND ("
    "(s.direction = 'entry' AND (s.decision IN ('not_synced', 'ok') OR s.forced)) "
    "OR (s.direction = 'exit' AND s.decision = 'exit_ok')"
    ") AND NOT EXISTS (SELECT 1 FROM scan_voids v WHERE v.scan_op_id = s.op_id)"
)


def _inside(s_: str, a: str) -> str:
    return (
        f"coalesce((SELECT s.direction = 'entry' FROM scans s WHERE {_COUNTED.format(s=s_, a=a)} "
        "ORDER BY s.at DESC, s.hlc DESC LIMIT 1), 0)"
    )


def _arrived(s_: str, a: str) -> str:
    where = _COUNTED.format(s=s_, a=a)
    return f"EXISTS (SELECT 1 FROM scans s WHERE {where} AND s.direction = 'entry')"


def _move_tally(s_: str, mine: str, sign: str) -> str:
    return (
        f"UPDATE session_entry_tallies SET "
        f"inside = inside {sign} (SELECT inside FROM session_presence WHERE {mine}), "
        f"arrived = arrived {sign} (SELECT arrived FROM session_presence WHERE {mine}) "
        f"WHERE session_id = {s_}; "
    )


def _block(s_: str, a: str) -> str:
    mine = f"session_id = {s_} AND attendee_id = {a}"
    return (
        "INSERT INTO session_entry_tallies (session_id, entries, inside, arrived) "
        f"VALUES ({s_}, 0, 0, 0) ON CONFLICT (session_id) DO NOTHING; "
        "INSERT INTO session_presence (session_id, attendee_id, inside, arrived) "
        f"VALUES ({s_}, {a}, 0, 0) ON CONFLICT (session_id, attendee_id) DO NOTHING; "
        + _move_tally(s_, mine, "-")
        + f"UPDATE session_presence SET inside = {_inside(s_, a)}, "
        f"arrived = {_arrived(s_, a)} WHERE {mine}; " + _move_tally(s_, mine, "+")
    )


def _void_trigger(name: str, event: str, row: str) -> str:
    scan_of = f"FROM scans WHERE op_id = {row}.scan_op_id"
    when = f"EXISTS (SELECT 1 {scan_of} AND session_id IS NOT NULL AND attendee_id IS NOT NULL)"
    block = _block(f"(SELECT session_id {scan_of})", f"(SELECT attendee_id {scan_of})")
    return f"CREATE TRIGGER {name} {event} ON scan_voids WHEN {when} BEGIN {block} END"


def _scan_trigger(name: str, event: str, row: str) -> str:
    when = f"{row}.session_id IS NOT NULL AND {row}.attendee_id IS NOT NULL"
    block = _block(f"{row}.session_id", f"{row}.attendee_id")
    return f"CREATE TRIGGER {name} {event} ON scans WHEN {when} BEGIN {block} END"


def statements() -> list[str]:
    """The trigger statements of this revision."""
    return [
        _scan_trigger(TRIGGERS[0], "AFTER INSERT", "new"),
        _scan_trigger(TRIGGERS[1], "AFTER DELETE", "old"),
        _void_trigger(TRIGGERS[2], "AFTER INSERT", "new"),
        _void_trigger(TRIGGERS[3], "AFTER DELETE", "old"),
    ]


def backfill() -> list[str]:
    """Every person's standing at every session door, from the scans already recorded."""
    pair = ("p.session_id", "p.attendee_id")
    return [
        "INSERT OR REPLACE INTO session_presence (session_id, attendee_id, inside, arrived) "
        f"SELECT p.session_id, p.attendee_id, {_inside(*pair)}, {_arrived(*pair)} FROM "
        "(SELECT DISTINCT session_id, attendee_id FROM scans "
        "WHERE session_id IS NOT NULL AND attendee_id IS NOT NULL) p",
        "INSERT OR IGNORE INTO session_entry_tallies (session_id, entries) "
        "SELECT DISTINCT session_id, 0 FROM session_presence",
        "UPDATE session_entry_tallies SET "
        "inside = (SELECT coalesce(sum(inside), 0) FROM session_presence p "
        "WHERE p.session_id = session_entry_tallies.session_id), "
        "arrived = (SELECT coalesce(sum(arrived), 0) FROM session_presence p "
        "WHERE p.session_id = session_entry_tallies.session_id)",
    ]


def upgrade() -> None:
    op.create_table(
        "session_presence",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("attendee_id", sa.String(length=36), nullable=False),
        sa.Column("inside", sa.Integer(), nullable=False),
        sa.Column("arrived", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "attendee_id", name=op.f("pk_session_presence")),
    )
    op.add_column(
        "session_entry_tallies",
        sa.Column("inside", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "session_entry_tallies",
        sa.Column("arrived", sa.Integer(), server_default="0", nullable=False),
    )
    for statement in statements():
        op.execute(statement)
    for statement in backfill():
        op.execute(statement)


def downgrade() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    # SQLite's own DROP COLUMN (3.35+): a batch copy of the table would trip over the entry
    # tally triggers of 0005, which name it.
    op.drop_column("session_entry_tallies", "arrived")
    op.drop_column("session_entry_tallies", "inside")
    op.drop_table("session_presence")
