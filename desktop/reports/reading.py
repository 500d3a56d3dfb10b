"""A read-only view of the desk database for reports and the dashboard.

The store begins every transaction ``IMMEDIATE`` (it takes the write lock), which is right for
a change but would make a long report on 100,000 attendees hold up the scans at this desk.
A report reads through its own connection opened read-only, in one deferred transaction: in
WAL mode it sees one consistent snapshot while scans go on being written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from desktop.store import BUSY_TIMEOUT_MS, Store


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


@contextmanager
def reading(store: Store) -> Iterator[Session]:
    """A session that only reads, on one snapshot, without taking the write lock.

    Falls back to an ordinary transaction when the file cannot be opened read-only.
    """
    uri = f"{store.db_path.resolve().as_uri()}?mode=ro"
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        poolclass=NullPool,
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    try:
        session = Session(engine)
        try:
            session.connection()
        except OperationalError:
            session.close()
            with store.begin() as fallback:
                yield fallback
            return
        try:
            yield session
        finally:
            session.rollback()
            session.close()
    finally:
        engine.dispose()
