"""search: the attendee_search FTS5 index, its name-order table, queue and triggers

Revision ID: 0003
Revises: 0002

The statements are a frozen copy of what ``desktop.search.ddl()`` gives at this revision
(tests/test_search.py checks they still agree); see desktop/search.py for why the index is
built this way. The index tables are not in the models; db/env.py keeps autogenerate off
them. The index is filled by ``desktop.search.sync_index`` at the first search or commit.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "attendee_search"
PENDING = f"{TABLE}_pending"
ORDER = f"{TABLE}_order"
TRIGGERS = (f"{TABLE}_au", f"{TABLE}_ad")
TEXT_COLUMNS = ("name", "organisation", "email", "code")
INDEXED_COLUMNS = (
    "given_name",
    "family_name",
    "badge_name",
    "native_name",
    "organisation",
    "email",
    "short_code",
    "event_id",
    "country",
    "category",
    "status",
)


def statements() -> list[str]:
    """The CREATE statements of this revision (the first search or commit fills the index)."""
    queue_old = f"INSERT OR IGNORE INTO {PENDING}(rowid) VALUES (old.rowid);"
    queue_new = f"INSERT OR IGNORE INTO {PENDING}(rowid) VALUES (new.rowid);"
    return [
        f"CREATE VIRTUAL TABLE {TABLE} USING fts5({', '.join(TEXT_COLUMNS)}, tags, "
        "tokenize = \"unicode61 remove_diacritics 2 categories 'L* N* Co M*'\", "
        "prefix = '1 2', columnsize = 0)",
        f"CREATE TABLE {ORDER} (rowid INTEGER PRIMARY KEY, event_id VARCHAR(36) NOT NULL, "
        "sort_key TEXT NOT NULL)",
        f"CREATE INDEX {ORDER}_event_key ON {ORDER} (event_id, sort_key)",
        f"CREATE TABLE {PENDING} (rowid INTEGER PRIMARY KEY)",
        f"CREATE TRIGGER {TRIGGERS[0]} AFTER UPDATE OF {', '.join(INDEXED_COLUMNS)} "
        f"ON attendees BEGIN {queue_old} {queue_new} END",
        f"CREATE TRIGGER {TRIGGERS[1]} AFTER DELETE ON attendees BEGIN {queue_old} END",
    ]


def upgrade() -> None:
    for statement in statements():
        op.execute(statement)


def downgrade() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in (PENDING, ORDER, TABLE):
        op.execute(f"DROP TABLE IF EXISTS {table}")
