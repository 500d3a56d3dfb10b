"""The store: data folder choice, durability settings, migrations, refusing what is not ours."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest_store_helpers import write_lock_held
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from desktop.store import (
    DB_NAME,
    Checkpointer,
    Store,
    StoreError,
    checkpoint_later,
    checkpointer,
    current_revision,
    head_revision,
    open_store,
    resolve_data_dir,
)


def test_data_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTDESK_DATA", str(tmp_path / "env"))
    assert resolve_data_dir(str(tmp_path / "flag")) == tmp_path / "flag"
    assert resolve_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("EVENTDESK_DATA")
    assert "EventDesk" in str(resolve_data_dir(None))


def test_new_store_is_migrated_with_durable_settings(data_dir: Path) -> None:
    store = open_store(data_dir)
    try:
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        store.close()
    assert (data_dir / DB_NAME).is_file()


def test_a_read_neither_waits_for_a_write_nor_writes(data_dir: Path) -> None:
    store = open_store(data_dir)
    count = text("SELECT count(*) FROM local_settings WHERE key LIKE 'test%'")
    with write_lock_held(store, "test-1"):
        # A snapshot from before the write, at once (a begin() would wait 5 s, then fail).
        with store.read() as session:
            assert session.scalar(count) == 0
        with pytest.raises(OperationalError, match="readonly"), store.read() as session:
            session.execute(text("INSERT INTO local_settings VALUES ('test-2', 'r')"))
    # The pooled connections write again; the refused write left nothing.
    with store.begin() as session:
        session.execute(text("INSERT INTO local_settings VALUES ('test-3', 'w')"))
    with store.read() as session:
        assert session.scalar(count) == 2
    store.close()


def test_a_connection_dropped_after_an_error_does_not_break_the_store(data_dir: Path) -> None:
    # SQLAlchemy throws away (invalidates) a connection after some errors; it is checked in
    # with no driver connection, and the next read and write get a fresh one.
    store = open_store(data_dir)
    with store.read() as session:
        session.connection().invalidate()
    with store.engine.connect() as connection:
        connection.invalidate()
    with store.begin() as session:
        session.execute(text("INSERT INTO local_settings VALUES ('test-after', 'w')"))
    with store.read() as session:
        assert session.scalar(text("SELECT value FROM local_settings WHERE key = 'test-after'"))
    store.close()


def test_reopening_keeps_data(data_dir: Path) -> None:
    store = open_store(data_dir)
    with store.begin() as session:
        session.execute(text("INSERT INTO local_settings (key, value) VALUES ('k', 'v')"))
    store.close()
    again = open_store(data_dir)
    with again.begin() as session:
        found = session.execute(text("SELECT value FROM local_settings WHERE key = 'k'"))
        assert found.scalar() == "v"
    again.close()


def test_a_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    with pytest.raises(StoreError, match="is a file"):
        open_store(target)
    assert target.read_text() == "mine"


def test_a_foreign_folder_is_refused_and_nothing_written(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(StoreError, match="not an EventDesk data folder"):
        open_store(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["holiday.jpg"]


def test_a_database_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / DB_NAME).write_bytes(b"this is not a database at all" * 10)
    with pytest.raises(StoreError, match="not an SQLite database"):
        open_store(folder)


def test_a_newer_schema_is_refused_and_not_touched(data_dir: Path) -> None:
    open_store(data_dir).close()
    db = data_dir / DB_NAME
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    before = db.read_bytes()
    with pytest.raises(StoreError, match="newer EventDesk"):
        open_store(data_dir)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == (
            "9999_from_the_future"
        )
    assert db.read_bytes() == before


def test_missing_database_without_create(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no EventDesk database"):
        open_store(tmp_path / "empty", create=False)


def _big_write(store: Store, count: int, *, later: bool) -> None:
    with store.begin() as session:
        if later:
            checkpoint_later(session)
        session.execute(text("CREATE TABLE IF NOT EXISTS filler (x TEXT)"))
        session.connection().exec_driver_sql(
            "INSERT INTO filler VALUES (?)", [(f"{n:0500d}",) for n in range(count)]
        )


def test_a_bulk_commit_leaves_its_checkpoint_to_a_background_thread(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(data_dir)
    background = checkpointer(store.engine)
    assert background is not None
    asked: list[int] = []
    monkeypatch.setattr(background, "request", lambda: asked.append(1))
    try:
        before = store.db_path.stat().st_size
        _big_write(store, 20_000, later=True)
        # Committed (in the write-ahead log), not yet copied into the database file.
        assert asked == [1]
        assert store.db_path.stat().st_size == before
        with store.read() as session:
            assert session.scalar(text("SELECT count(*) FROM filler")) == 20_000
        with store.begin() as session:
            # The pooled connection checkpoints on its own again.
            autocheckpoint = session.connection().exec_driver_sql("PRAGMA wal_autocheckpoint")
            assert autocheckpoint.scalar() == 1000
        monkeypatch.undo()
        background.request()
        background.wait()
        assert store.db_path.stat().st_size > before + 20_000 * 500
    finally:
        store.close()


def test_an_ordinary_commit_still_checkpoints_itself(data_dir: Path) -> None:
    store = open_store(data_dir)
    try:
        before = store.db_path.stat().st_size
        _big_write(store, 20_000, later=False)
        assert store.db_path.stat().st_size > before + 20_000 * 500
    finally:
        store.close()


def test_a_checkpoint_of_a_database_gone_makes_no_new_file(tmp_path: Path) -> None:
    gone = tmp_path / "eventdesk.sqlite3"
    background = Checkpointer(gone)
    background.request()
    background.wait()
    assert not gone.exists()


def test_a_checkpoint_that_fails_unforeseen_leaves_no_one_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    background = Checkpointer(tmp_path / "eventdesk.sqlite3")

    def broken() -> None:
        raise RuntimeError("unforeseen")

    monkeypatch.setattr(background, "_checkpoint", broken)
    # The thread's own report of the error is expected; the test is that waiting ends.
    monkeypatch.setattr(threading, "excepthook", lambda args: None)
    background.request()
    waiter = threading.Thread(target=background.wait, daemon=True)
    waiter.start()
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    background.request()  # and the next request starts a checkpoint again
    background.wait()


def test_a_relative_data_folder_is_checkpointed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store(Path("relative"))
    try:
        before = store.db_path.stat().st_size
        _big_write(store, 5_000, later=True)
        background = checkpointer(store.engine)
        assert background is not None
        background.wait()
        # The background checkpoint copied the rows into the database file.
        assert store.db_path.stat().st_size > before + 5_000 * 500
    finally:
        store.close()
