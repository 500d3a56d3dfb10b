"""Backups with SQLite's online backup API, and restores that never leave half a database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop import backup, cli, desk, journal, operators
from desktop.demo import demo_attendee_id
from desktop.models import Operation, Scan
from desktop.store import DB_NAME, Store, open_store


def _scan(store: Store, n: int = 1) -> list[str]:
    ids = []
    with store.begin() as session:
        ctx = desk.context(session)
        for i in range(n):
            op = journal.record(
                session, ctx, "scan", {"attendee_id": demo_attendee_id(i), "decision": "ok"}
            )
            ids.append(op.op_id)
    return ids


def _count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_backup_of_a_busy_database_is_whole_and_private(demo_store: Store) -> None:
    _scan(demo_store, 3)
    # An open write transaction elsewhere does not stop the backup or leak into it.
    with demo_store.begin() as session:
        journal.record(session, desk.context(session), "scan", {"decision": "invalid"})
        made = backup.make_backup(demo_store.data_dir)
    assert made.path.parent == demo_store.data_dir / "backups"
    assert backup.check_file(made.path).attendees == 130
    assert _count(made.path, "scans") == 3
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(made.path.parent.stat().st_mode) == 0o700
    # One self-contained file: no write-ahead log needed to read it.
    with sqlite3.connect(made.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert not list(made.path.parent.glob(".partial-*"))


def test_rolling_backups_keep_the_newest(demo_store: Store) -> None:
    made = [backup.make_backup(demo_store.data_dir, keep=3) for _ in range(5)]
    kept = backup.list_backups(demo_store.data_dir)
    assert [b.path for b in kept] == [m.path for m in reversed(made[-3:])]
    assert not made[0].path.exists()


def test_check_file_refuses_what_is_not_a_good_eventdesk_backup(
    demo_store: Store, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(backup.BackupError, match="not an SQLite database"):
        backup.check_file(junk)

    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (x)")
    with pytest.raises(backup.BackupError, match="not an EventDesk database"):
        backup.check_file(other)

    newer = backup.make_backup(demo_store.data_dir).path
    with sqlite3.connect(newer) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_future'")
    with pytest.raises(backup.BackupError, match="newer EventDesk"):
        backup.check_file(newer)

    damaged = backup.make_backup(demo_store.data_dir).path
    data = bytearray(damaged.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data) - page, page):
        data[offset + 100 : offset + 400] = os.urandom(300)
    damaged.write_bytes(bytes(data))
    with pytest.raises(backup.BackupError):
        backup.check_file(damaged)

    with pytest.raises(backup.BackupError, match="not a file"):
        backup.check_file(tmp_path / "missing.sqlite3")


def test_restore_brings_back_the_backup_and_keeps_the_current_aside(demo_store: Store) -> None:
    data_dir = demo_store.data_dir
    before = _scan(demo_store, 2)
    saved = backup.make_backup(data_dir).path
    after = _scan(demo_store, 3)
    with demo_store.begin() as session:
        this_desk = desk.desk_id(session)
        operators.sign_in(session, operators.OperatorInfo("x", "Someone", "desk", True))
    demo_store.close()

    result = backup.restore(data_dir, saved)

    assert result.aside is not None and result.aside.exists()
    aside_scans = {r[0] for r in sqlite3.connect(result.aside).execute("SELECT op_id FROM scans")}
    assert set(before + after) <= aside_scans
    reopened = open_store(data_dir)
    try:
        with reopened.begin() as session:
            scans = set(session.scalars(select(Scan.op_id)))
            assert scans == set(before)
            assert desk.desk_id(session) == this_desk
            assert desk.get_setting(session, "operator_id") == ""
            # The restored desk works on: a new scan is saved.
            journal.record(session, desk.context(session), "scan", {"decision": "ok"})
    finally:
        reopened.close()
    assert not list((data_dir / "backups").glob(".partial-*"))


def test_restore_refuses_while_the_app_has_the_database_open(demo_store: Store) -> None:
    saved = backup.make_backup(demo_store.data_dir).path
    _scan(demo_store, 2)
    with demo_store.engine.connect() as held:  # the app, still open on the folder
        held.exec_driver_sql("SELECT count(*) FROM scans").all()
        with pytest.raises(backup.BackupError, match="still open"):
            backup.restore(demo_store.data_dir, saved)
    with demo_store.begin() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 2


def test_a_failure_at_the_swap_leaves_the_old_database_whole(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = demo_store.data_dir
    saved = backup.make_backup(data_dir).path
    kept = _scan(demo_store, 4)
    demo_store.close()
    real_replace = os.replace

    def failing_replace(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if Path(dst).name == DB_NAME:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(backup.BackupError, match="disk is full"):
        backup.restore(data_dir, saved)
    monkeypatch.undo()
    with sqlite3.connect(data_dir / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert {r[0] for r in db.execute("SELECT op_id FROM scans")} == set(kept)
    assert not list((data_dir / "backups").glob(".partial-*"))


CRASHING_DESK = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from desktop import desk, journal
    from desktop.store import open_store

    store = open_store(Path(sys.argv[1]))
    with store.begin() as session:
        op = journal.record(session, desk.context(session), "scan", {"decision": "ok"})
    print(op.op_id, flush=True)
    os._exit(0)  # the battery dies: no checkpoint, the scan lives only in the -wal file
    """
)


def test_restore_over_a_crashed_desk_folds_its_log_and_drops_it(
    demo_store: Store, tmp_path: Path
) -> None:
    data_dir = demo_store.data_dir
    saved = backup.make_backup(data_dir).path
    demo_store.close()
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_DESK, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script), str(data_dir)], capture_output=True, text=True, check=True
    )
    last_scan = run.stdout.strip()
    wal = data_dir / f"{DB_NAME}-wal"
    assert wal.exists() and wal.stat().st_size > 0

    result = backup.restore(data_dir, saved)

    assert not wal.exists()  # never replayed onto the restored file
    assert result.aside is not None
    with sqlite3.connect(result.aside) as db:
        assert db.execute("SELECT count(*) FROM scans WHERE op_id = ?", (last_scan,)).fetchone()
    with sqlite3.connect(data_dir / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 0


def test_backup_and_restore_commands(
    demo_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = demo_store.data_dir
    demo_store.close()
    assert cli.main(["--data", str(data_dir), "backup"]) == 0
    out = capsys.readouterr().out
    assert "Backed up to" in out
    made = Path(out.split("Backed up to", 1)[1].strip())
    assert made.exists()

    copy = tmp_path / "carried.sqlite3"
    shutil.copy(made, copy)
    assert cli.main(["--data", str(data_dir), "restore", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "Restored" in out and "130 attendees" in out and "kept at" in out

    bad = tmp_path / "bad.sqlite3"
    bad.write_text("hello")
    assert cli.main(["--data", str(data_dir), "restore", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("eventdesk: ") and "not an SQLite database" in err
    assert err.count("\n") == 1
    assert _count(data_dir / DB_NAME, "attendees") == 130
    with sqlite3.connect(data_dir / DB_NAME) as db:
        assert db.execute("SELECT count(*) FROM operations").fetchone()[0] > 130
    assert Operation.__tablename__ == "operations"
