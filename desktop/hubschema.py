"""The hub's schema in PostgreSQL: its version, the steps that build it, and the desk group role.

Kept apart from the client so the SQL can be read (and reviewed for privileges) in one place.
"""

from __future__ import annotations

SCHEMA_VERSION = 1
"""The newest hub schema this program knows; a hub with a newer one is refused."""

META_TABLE = "eventdesk_meta"
DESK_GROUP = "eventdesk_desk"
DESK_ROLE_PREFIX = "eventdesk_desk_"

# Keys for pg_advisory_xact_lock. Advisory locks are per database, so two hubs on one server do
# not wait for each other. The values are arbitrary constants fixed for all versions.
INIT_LOCK_KEY = 0x45D_1417  # serialises `hub init` runs
PUSH_LOCK_KEY = 0x45D_0935  # serialises writers of ops (see _STEP_1 below)

CREATE_META = f"""
CREATE TABLE IF NOT EXISTS {META_TABLE} (
    key text PRIMARY KEY,
    value text NOT NULL
)
"""

READ_VERSION = f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'"

# The concurrency hazard: seq comes from a sequence when a row is inserted, but becomes visible
# when its transaction commits. With two writers, seq 11 can commit while seq 10 is still open;
# a desk that pulls `seq > 9` then moves its cursor to 11 and never sees 10.
#
# Chosen fix: writers are serialised on a transaction-level advisory lock that is taken *before*
# a seq is drawn and released only after commit, so seqs become visible in the order they were
# drawn and `seq > cursor` is safe. The lock and the draw happen in a BEFORE INSERT trigger, so
# the hub enforces it for every writer (an old or foreign client cannot bypass it, and a seq or
# received_at sent by a client is ignored). The alternative, reading only below a watermark of
# the oldest open writer, needs transaction-id bookkeeping that is easy to get subtly wrong;
# the cost of serialising is small because a push is one short INSERT per batch. A crashed
# writer cannot hold the lock for long: the client and the desk role both set
# idle_in_transaction_session_timeout.
_STEP_1 = [
    """
    CREATE SEQUENCE ops_seq_seq AS bigint
    """,
    """
    CREATE TABLE ops (
        seq bigint PRIMARY KEY,
        op_id uuid NOT NULL UNIQUE,
        event_id text NOT NULL,
        desk_id text NOT NULL,
        hlc text NOT NULL,
        kind text NOT NULL,
        payload jsonb NOT NULL,
        operator_id text,
        received_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "ALTER SEQUENCE ops_seq_seq OWNED BY ops.seq",
    # A pull for one event walks this index in seq order; a pull of all events uses the key.
    "CREATE INDEX ops_event_seq ON ops (event_id, seq)",
    f"""
    CREATE FUNCTION ops_assign_seq() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
    AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock({PUSH_LOCK_KEY});
        NEW.seq := nextval('ops_seq_seq');
        NEW.received_at := now();
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER ops_assign_seq BEFORE INSERT ON ops
    FOR EACH ROW EXECUTE FUNCTION ops_assign_seq()
    """,
]

STEPS: dict[int, list[str]] = {1: _STEP_1}
"""Migration steps: STEPS[n] takes a hub from version n-1 to n."""

CREATE_GROUP = f"""
DO $$
BEGIN
    CREATE ROLE {DESK_GROUP} NOLOGIN;
EXCEPTION
    -- Roles are shared by every database of the server: another hub may have made it, maybe
    -- at this very moment (then the catalogue's unique index reports the clash).
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$
"""


def grants(database: str, schema: str) -> list[str]:
    """The privileges of the desk group, given from scratch (safe to repeat)."""
    return [
        "REVOKE ALL ON ops, ops_seq_seq, " + META_TABLE + " FROM PUBLIC",
        f"REVOKE ALL ON ops, ops_seq_seq, {META_TABLE} FROM {DESK_GROUP}",
        f"GRANT CONNECT ON DATABASE {database} TO {DESK_GROUP}",
        f"GRANT USAGE ON SCHEMA {schema} TO {DESK_GROUP}",
        f"GRANT SELECT, INSERT ON ops TO {DESK_GROUP}",
        # nextval in the trigger runs with the desk's rights.
        f"GRANT USAGE ON SEQUENCE ops_seq_seq TO {DESK_GROUP}",
        # Read-only, so a desk can tell "not initialised" and "too new" from other failures.
        f"GRANT SELECT ON {META_TABLE} TO {DESK_GROUP}",
    ]
