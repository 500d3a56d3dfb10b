"""Sync workload: every operation of the synthetic event from desk A through a hub into desk B.

Desk A is a copy of the synthetic event's data folder (its attendees were recorded through the
journal, so every one is an operation waiting to be sent). A pushes them all to a fresh hub
database; B, a new desk, pulls and applies them. The baseline is bare psycopg inserting the same
rows (same JSON payloads) into a plain table and selecting them back.

The same work on bare sqlite3 is measured too: the rows B ended with (journal and attendees)
written into a fresh copy of B's schema, batch by batch as B wrote them, each batch indexed for
search by the same SQL and committed, with no Python in between. Bare psycopg plus that is the
floor of the workload: what the database servers alone must do.

The hub needs PostgreSQL at 127.0.0.1:5432 (user postgres, as the tests use). Without one the
figure is left out and the reason printed on stderr.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from eventdesk_bench.metrics import Metric
from eventdesk_bench.synthetic import SyntheticEvent
from psycopg import sql
from sqlalchemy import func, select

from desktop import search, sync
from desktop.hub import create_desk_login, init_hub
from desktop.models import Operation
from desktop.store import BULK_CACHE_KIB, Store, open_store

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TARGET = "< 30 s and ≤ 3× bare psycopg"

_BARE_TABLE = """
CREATE TABLE bare_ops (
    seq bigserial PRIMARY KEY,
    op_id uuid NOT NULL UNIQUE,
    event_id text NOT NULL,
    desk_id text NOT NULL,
    hlc text NOT NULL,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    operator_id text
)
"""
_BARE_INSERT = (
    "INSERT INTO bare_ops (op_id, event_id, desk_id, hlc, kind, payload, operator_id)"
    " VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)"
)


def _server_reason() -> str | None:
    """None if the server answers as the superuser, else why not."""
    try:
        with psycopg.connect(SERVER, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL at 127.0.0.1:5432 for the hub ({str(exc).strip().splitlines()[0]})"
    return None


def _url(name: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def _rows(store: Store) -> list[tuple[Any, ...]]:
    """Desk A's operations as the bare baseline sends them (payload as JSON text)."""
    with store.begin() as session:
        result = session.execute(
            select(
                Operation.op_id,
                Operation.event_id,
                Operation.desk_id,
                Operation.hlc,
                Operation.kind,
                func.json(Operation.payload),
                Operation.operator_id,
            ).order_by(Operation.hlc)
        )
        return [tuple(row) for row in result]


def _bare(admin: str, rows: list[tuple[Any, ...]], batch: int) -> float:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(_BARE_TABLE)
    start = time.perf_counter()
    with psycopg.connect(admin) as conn:
        with conn.cursor() as cur:
            for first in range(0, len(rows), batch):
                cur.executemany(_BARE_INSERT, rows[first : first + batch])
                conn.commit()
        got = 0
        after = 0
        while True:
            chunk = conn.execute(
                "SELECT seq, op_id::text, event_id, desk_id, hlc, kind, payload, operator_id"
                " FROM bare_ops WHERE seq > %s ORDER BY seq LIMIT %s",
                [after, batch],
            ).fetchall()
            if not chunk:
                break
            got += len(chunk)
            after = chunk[-1][0]
    seconds = time.perf_counter() - start
    assert got == len(rows)
    return seconds


def _same_work_raw(source: Path, target: Path, batch: int) -> float:
    """Seconds for bare sqlite3 to write and index, batch by batch, the rows B ended with."""
    db = sqlite3.connect(source)
    try:
        # Tables before their indexes and triggers; FTS5 makes its own tables (quoted names).
        schema = [
            sql
            for (sql,) in db.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"
                " AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
            if not sql.startswith(f"CREATE TABLE '{search.TABLE}_")
        ]
        ops = db.execute("SELECT * FROM operations ORDER BY rowid").fetchall()
        people = db.execute("SELECT * FROM attendees ORDER BY rowid").fetchall()
    finally:
        db.close()
    db = sqlite3.connect(target, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        for sql in schema:
            db.execute(sql)
        put_ops = f"INSERT INTO operations VALUES ({', '.join('?' * len(ops[0]))})"
        put_people = f"INSERT INTO attendees VALUES ({', '.join('?' * len(people[0]))})"
        index = search.new_rows_index_sql()
        start = time.perf_counter()
        for first in range(0, len(ops), batch):
            db.execute("BEGIN IMMEDIATE")
            db.executemany(put_ops, ops[first : first + batch])
            db.executemany(put_people, people[first : first + batch])
            for sql in index:
                db.execute(sql, {"mark": first})
            db.execute("COMMIT")
        seconds = time.perf_counter() - start
        indexed = db.execute(f"SELECT count(*) FROM {search.TABLE}").fetchone()[0]
        assert indexed == len(people), (indexed, len(people))
        return seconds
    finally:
        db.close()


def sync_a_to_b(event: SyntheticEvent) -> list[Metric]:
    """Seconds to move every operation A→hub→B, against bare psycopg insert + select."""
    reason = _server_reason()
    if reason is not None:
        print(f"sync_a_to_b skipped: {reason}", file=sys.stderr)
        return []
    name = f"eventdesk_bench_{uuid.uuid4().hex[:10]}"
    work = Path(tempfile.mkdtemp(prefix="eventdesk-bench-sync-"))
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    roles: list[str] = []
    try:
        admin = _url(name)
        init_hub(admin)
        logins = [create_desk_login(admin, f"bench {side} {name}") for side in "ab"]
        roles = [login.role for login in logins]
        shutil.copytree(event.folder, work / "a")
        desk_a = open_store(work / "a")
        desk_b = open_store(work / "b")
        try:
            with desk_a.begin() as session:
                count = sync.waiting_count(session, event.event_id)
            rows = _rows(desk_a)
            start = time.perf_counter()
            pushed = sync.sync_once(desk_a, logins[0].url, event_ids=[event.event_id])
            middle = time.perf_counter()
            pulled = sync.sync_once(desk_b, logins[1].url, event_ids=[event.event_id])
            end = time.perf_counter()
            assert pushed.ok and pulled.ok, (pushed.error, pulled.error)
            assert pushed.pushed == count and pulled.applied == len(rows), (pushed, pulled)
        finally:
            desk_a.close()
            desk_b.close()
        raw = _same_work_raw(desk_b.db_path, work / "raw.sqlite3", sync.BATCH)
        bare = _bare(admin, rows, sync.BATCH)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            for role in roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"sync_a_to_b: {len(rows):,} operations, push {middle - start:.2f} s, "
        f"pull and apply {end - middle:.2f} s, bare psycopg {bare:.2f} s, "
        f"B's writes on bare sqlite3 {raw:.2f} s",
        file=sys.stderr,
    )
    return [
        Metric(f"sync_{event.size}_ops_a_hub_b", end - start, "s", baseline=bare, target=TARGET),
        Metric("sync_push_share", middle - start, "s"),
        Metric("sync_pull_apply_share", end - middle, "s"),
        Metric("sync_apply_same_work_raw_sqlite3", raw, "s", baseline=bare),
        # What the database servers alone must do: its ratio is the floor of the target's.
        Metric("sync_floor_bare_psycopg_plus_raw_sqlite3", bare + raw, "s", baseline=bare),
    ]
