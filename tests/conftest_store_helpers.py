"""Helpers for tests about the store: migrations as modules, a write lock held by another
thread, the query plans of what an action runs."""

from __future__ import annotations

import importlib.util
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from sqlalchemy import event, text

from desktop.store import Store


def load_migration(filename: str) -> ModuleType:
    """A migration file of db/versions imported as a module (to compare its statements)."""
    path = Path(__file__).parents[1] / "db" / "versions" / filename
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


@contextmanager
def write_lock_held(store: Store, key: str = "test-held") -> Iterator[None]:
    """Another thread writes (as an import or a pulled batch does) until the block ends."""
    holding, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with store.begin() as session:
            session.execute(text("INSERT INTO local_settings VALUES (:k, 'w')"), {"k": key})
            holding.set()
            release.wait(30)

    writer = threading.Thread(target=long_write)
    writer.start()
    try:
        assert holding.wait(10), "the writer never took the lock"
        yield
    finally:
        release.set()
        writer.join()


def query_plans(store: Store, action: Callable[[], object]) -> list[str]:
    """The query plan lines of every SELECT that ``action`` runs on the store.

    Statements are caught by SQLite itself (the trace callback, with their values), so those
    run straight on the driver connection are seen as well as those run through SQLAlchemy.
    """
    ran: list[str] = []

    def seen(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            ran.append(statement)

    def traced(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.set_trace_callback(seen)

    store.engine.dispose()  # pooled connections are made again, with the callback
    event.listen(store.engine, "connect", traced)
    try:
        action()
    finally:
        event.remove(store.engine, "connect", traced)
        store.engine.dispose()
    conn = sqlite3.connect(store.db_path)
    try:
        return [
            str(row[3])
            for statement in ran
            for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")
        ]
    finally:
        conn.close()
