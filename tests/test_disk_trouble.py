"""A full disk or a read-only data folder: a plain message, nothing corrupted, work resumes.

As root (CI) the disk is a real small tmpfs, filled up or remounted read-only. Without the
right to mount, the full disk is SQLite's own page limit and the read-only folder a chmod
(which does stop a user who is not root).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from desktop import backup, desk, journal
from desktop.demo import create_demo, demo_attendee_id
from desktop.models import Scan
from desktop.store import DB_NAME, DiskTroubleError, Store, StoreError, open_store


def _can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    with tempfile.TemporaryDirectory() as probe:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe], capture_output=True
        )
        if done.returncode != 0:
            return False
        subprocess.run(["umount", probe], check=True)
    return True


MOUNT = _can_mount()


@contextlib.contextmanager
def small_disk(root: Path, size: str) -> Iterator[Path]:
    """A folder on a filesystem of its own (tmpfs when we may mount; else a plain folder)."""
    disk = root / "disk"
    disk.mkdir()
    if not MOUNT:
        yield disk
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(disk)])
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _demo_in(folder: Path) -> Store:
    store = open_store(folder)
    with store.begin() as session:
        create_demo(session, folder)
    return store


def _scan(store: Store, n: int) -> str:
    with store.begin() as session:
        op = journal.record(
            session,
            desk.context(session),
            "scan",
            {"attendee_id": demo_attendee_id(n % 100), "decision": "ok", "raw": "x" * 250},
        )
    return op.op_id


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _fill(disk: Path) -> Path:
    filler = disk / "filler.bin"
    # Unbuffered: a buffered file keeps the bytes a full disk refused and fails again when
    # it is closed, depending on where the last write happened to end.
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
    return filler


def test_a_full_disk_says_so_loses_nothing_and_scanning_resumes(tmp_path: Path) -> None:
    with small_disk(tmp_path, "6m") as disk:
        store = _demo_in(disk / "data")
        try:
            saved = [_scan(store, i) for i in range(20)]
            if MOUNT:
                filler = _fill(disk)
            else:
                # SQLite's own ceiling stands in for the end of the disk.
                @event.listens_for(store.engine, "connect")
                def _cap(dbapi: sqlite3.Connection, _record: object) -> None:
                    pages = dbapi.execute("PRAGMA page_count").fetchone()[0]
                    dbapi.execute(f"PRAGMA max_page_count = {pages}")

                store.engine.dispose()
            failures = 0
            for i in range(200):
                try:
                    saved.append(_scan(store, 100 + i))
                except DiskTroubleError as exc:
                    failures += 1
                    message = str(exc)
                    assert message.startswith("the disk is full: free some space")
                    assert "nothing was lost" in message
                    if failures >= 3:
                        break
            assert failures >= 3, "the disk never filled up"

            with store.begin() as session:  # reading still works on a full disk
                assert set(saved) <= set(session.scalars(select(Scan.op_id)))

            if MOUNT:
                filler.unlink()
            else:
                event.remove(store.engine, "connect", _cap)
                store.engine.dispose()
            resumed = _scan(store, 999)
            with store.begin() as session:
                stored = set(session.scalars(select(Scan.op_id)))
            assert resumed in stored and set(saved) <= stored
        finally:
            store.close()
        assert _integrity(disk / "data" / DB_NAME) == "ok"


def test_a_backup_on_a_full_disk_fails_cleanly(tmp_path: Path) -> None:
    if not MOUNT:
        pytest.skip("needs a filesystem of its own to fill (root)")
    with small_disk(tmp_path, "6m") as disk:
        store = _demo_in(disk / "data")
        try:
            filler = _fill(disk)
            with pytest.raises(backup.BackupError, match="disk is full"):
                backup.make_backup(disk / "data")
            assert not list((disk / "data" / "backups").glob(".partial-*"))
            filler.unlink()
            assert backup.make_backup(disk / "data").path.exists()
        finally:
            store.close()


@contextlib.contextmanager
def read_only(disk: Path) -> Iterator[None]:
    """Make the folder read-only for this process, root included; writable again after."""
    if MOUNT:
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        try:
            yield
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
    else:
        data = disk / "data"
        modes = {p: p.stat().st_mode for p in [data, *data.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


def test_a_read_only_data_folder_says_so_and_work_resumes(tmp_path: Path) -> None:
    with small_disk(tmp_path, "16m") as disk:
        store = _demo_in(disk / "data")
        try:
            saved = [_scan(store, i) for i in range(5)]
            # The desk sits idle (its connections closed), then the folder turns read-only.
            store.engine.dispose()
            with read_only(disk):
                for i in range(3):
                    with pytest.raises(DiskTroubleError) as caught:
                        _scan(store, 50 + i)
                    assert "cannot be written" in str(caught.value)
                    assert "nothing was lost" in str(caught.value)
                with pytest.raises(StoreError, match="cannot write to"):
                    open_store(disk / "data")  # starting the app there says so too
            resumed = _scan(store, 99)
            with store.begin() as session:
                stored = set(session.scalars(select(Scan.op_id)))
                assert session.scalar(select(func.count()).select_from(Scan)) == 6
            assert stored == {*saved, resumed}
        finally:
            store.close()
        assert _integrity(disk / "data" / DB_NAME) == "ok"
