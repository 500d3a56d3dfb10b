"""Test helpers for the real PostgreSQL at 127.0.0.1:5432 (user postgres, trust on loopback).

`fresh_database()` gives each test its own uniquely named database and drops it afterwards,
together with any desk roles the test made. `require_server()` starts the cluster if it is down.
`require_desk_passwords()` makes the server ask desk roles for their password (see below).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

HOST = "127.0.0.1"
PORT = 5432
ADMIN_URL = f"postgresql://postgres@{HOST}:{PORT}/postgres"

# Desk roles are members of this group (desktop.hubschema.DESK_GROUP). The test server trusts
# every loopback connection, which would let a wrong password through; this rule, put first,
# makes members of the group authenticate with SCRAM as they would on a real hub.
_DESK_RULES = (
    "# eventdesk tests: desk roles must give their password\n"
    "host all +eventdesk_desk 127.0.0.1/32 scram-sha-256\n"
    "host all +eventdesk_desk ::1/128 scram-sha-256\n"
)


def admin_url(dbname: str = "postgres") -> str:
    """The superuser URL for a database on the test server."""
    return f"postgresql://postgres@{HOST}:{PORT}/{dbname}"


def _server_up() -> bool:
    try:
        psycopg.connect(ADMIN_URL, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


def require_server() -> None:
    """Make sure the server answers, starting the cluster (no systemd here) if it is down."""
    if _server_up():
        return
    versions = sorted(os.listdir("/etc/postgresql"))
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        check=False,
        capture_output=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _server_up():
            return
        time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL at {HOST}:{PORT} did not come up")


def require_desk_passwords() -> None:
    """Put the SCRAM rule for desk roles at the top of pg_hba.conf (once) and reload."""
    require_server()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        row = conn.execute("SHOW hba_file").fetchone()
        assert row is not None
        hba = Path(row[0])
        text = hba.read_text()
        if _DESK_RULES in text:
            return
        loaded = conn.execute("SELECT pg_conf_load_time()").fetchone()
        # Rewrite in place so the file keeps its owner and mode.
        with hba.open("r+") as f:
            f.write(_DESK_RULES + text)
        conn.execute("SELECT pg_reload_conf()")
    # New backends fork from the postmaster, which rereads the file a moment after the signal.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with psycopg.connect(ADMIN_URL) as conn:
            if conn.execute("SELECT pg_conf_load_time()").fetchone() != loaded:
                return
        time.sleep(0.05)
    raise RuntimeError("PostgreSQL did not reload pg_hba.conf")


@contextlib.contextmanager
def fresh_database(prefix: str = "edtest") -> Iterator[str]:
    """Create a uniquely named empty database; yield its superuser URL; drop it (and its roles)."""
    require_server()
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield admin_url(name)
    finally:
        drop_database(name)


def drop_database(name: str) -> None:
    """Drop a test database even if connections are still open, then desk roles named after it."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        drop_roles(conn, f"%{name}%")


def drop_roles(conn: psycopg.Connection[tuple[object, ...]], like: str) -> None:
    """Drop the login roles whose name matches a LIKE pattern (desk roles made by a test)."""
    rows = conn.execute(
        "SELECT rolname FROM pg_roles WHERE rolname LIKE %s AND rolcanlogin", [like]
    ).fetchall()
    for (role,) in rows:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(str(role))))


def desk_name(db_url: str, label: str) -> str:
    """A desk name unique to one test database, so `drop_database` can find its role."""
    return f"{label}_{db_url.rsplit('/', 1)[1]}"
