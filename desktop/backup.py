"""Backups of the desk database and restoring one, never leaving a half-restored folder.

A backup is a consistent snapshot taken with SQLite's online backup API while the desk keeps
working (WAL readers do not block the writer), written to a temporary name, checked, then
renamed into ``<data>/backups``. Rolling backups keep the newest few.

Restoring checks the file first (SQLite, intact, EventDesk's, a schema this program knows),
copies it into ``backups`` (same disk as the database), folds the current database's
write-ahead log into it and removes the log (so it can never be replayed onto the restored
file), keeps a copy of the current database aside in ``backups`` and swaps the restored copy
in with one atomic rename. A crash at any point leaves either the old database or the
restored one, whole. The restored file keeps this desk's identity and signs everyone out.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory

from desktop.store import DB_NAME, alembic_config

BACKUP_DIR = "backups"
DEFAULT_KEEP = 10
_NAME = re.compile(r"^eventdesk-(\d{8}-\d{6}-\d{6})(?:-([a-z]+))?\.sqlite3$")
_ASIDE_PREFIX = "before-restore-"
_TEMP_PREFIX = ".partial-"
# Local settings that say who this desk is and who sits at it: a restored file keeps this
# desk's identity, and nobody stays signed in across a restore.
_KEEP_LOCAL = ("desk_id", "desk_name")
_CLEAR_LOCAL = ("operator_id", "operator_name", "operator_role")
_EVENTDESK_TABLES = {"alembic_version", "operations", "events", "local_settings"}


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class BackupInfo:
    """A backup file in the backups folder."""

    path: Path
    created: datetime  # naive UTC, from the file name
    label: str
    size: int


@dataclass(frozen=True)
class CheckedFile:
    """What :func:`check_file` found in a file that may be restored."""

    path: Path
    revision: str
    events: int
    attendees: int
    operations: int


def backups_dir(data_dir: Path) -> Path:
    """The folder rolling and manual backups go to."""
    return data_dir / BACKUP_DIR


def _stamp(now: datetime) -> str:
    return now.strftime("%Y%m%d-%H%M%S-%f")


def _fsync_dir(folder: Path) -> None:
    # Makes a rename durable; not every platform can open a folder, and then it does not matter.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_folder(folder: Path) -> None:
    if not folder.is_dir():
        folder.mkdir(parents=True, mode=0o700)
        folder.chmod(0o700)  # mkdir's mode passes through the umask


def _read_only(path: Path) -> str:
    """A URI opening ``path`` read-only (percent-encoded, so any file name works)."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _copy_database(source: Path, target: Path) -> None:
    """Copy a live database (WAL included) into a single self-contained file."""
    # Personal data: the copy is readable by its owner only, from its first byte.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    src = sqlite3.connect(_read_only(source), uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            # One step: a consistent snapshot, however busy the desk is meanwhile.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())


def _integrity(path: Path) -> str:
    db = sqlite3.connect(_read_only(path), uri=True)
    try:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    finally:
        db.close()
    return "; ".join(str(r[0]) for r in rows[:3])


def _disk_words(exc: BaseException, what: str) -> BackupError:
    text = str(exc)
    if "full" in text or getattr(exc, "errno", None) == 28:
        return BackupError(f"{what}: the disk is full; free some space and try again")
    return BackupError(f"{what}: {text}")


def make_backup(data_dir: Path, *, keep: int = DEFAULT_KEEP, label: str = "") -> BackupInfo:
    """Snapshot the database into the backups folder and keep only the newest ``keep``."""
    db_path = data_dir / DB_NAME
    if not db_path.exists():
        raise BackupError(f"there is no EventDesk database in {data_dir} to back up")
    folder = backups_dir(data_dir)
    now = datetime.now(UTC).replace(tzinfo=None)
    suffix = f"-{label}" if label else ""
    final = folder / f"eventdesk-{_stamp(now)}{suffix}.sqlite3"
    temp = folder / f"{_TEMP_PREFIX}{uuid.uuid4().hex}.sqlite3"
    try:
        _make_folder(folder)
        _copy_database(db_path, temp)
        result = _integrity(temp)
        if result != "ok":
            raise BackupError(
                f"the backup did not check out ({result}); the database may be damaged"
            )
        os.replace(temp, final)
        _fsync_dir(folder)
    except (OSError, sqlite3.Error) as exc:
        raise _disk_words(exc, "the backup was not made") from exc
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
    prune(data_dir, keep)
    return BackupInfo(final, now, label, final.stat().st_size)


def list_backups(data_dir: Path) -> list[BackupInfo]:
    """The backups made here, newest first (the files put aside by a restore are not listed)."""
    folder = backups_dir(data_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match is None:
            continue
        created = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S-%f")
        found.append(BackupInfo(path, created, match.group(2) or "", path.stat().st_size))
    found.sort(key=lambda b: b.created, reverse=True)
    return found


def prune(data_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns what was deleted."""
    removed = []
    for old in list_backups(data_dir)[max(keep, 1) :]:
        with contextlib.suppress(OSError):
            old.path.unlink()
            removed.append(old.path)
    return removed


def check_file(path: Path) -> CheckedFile:
    """Check a file before restoring it: SQLite, intact, EventDesk's, not from a newer version."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not an SQLite database, so not an EventDesk backup")
    try:
        result = _integrity(path)
        if result != "ok":
            raise BackupError(f"{path} is damaged ({result}); choose another backup")
        db = sqlite3.connect(_read_only(path), uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            missing = _EVENTDESK_TABLES - tables
            if missing:
                raise BackupError(f"{path} is an SQLite file but not an EventDesk database")
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
            counts = [
                int(db.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
                for name in ("events", "attendees", "operations")
            ]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} cannot be read as a database ({exc})") from exc
    revision = str(row[0]) if row else ""
    script = ScriptDirectory.from_config(alembic_config())
    try:
        known = bool(revision) and script.get_revision(revision) is not None
    except Exception:  # alembic raises several resolution errors for an unknown id
        known = False
    if not known:
        raise BackupError(
            f"{path} was written by a newer EventDesk (schema {revision or 'unknown'}); "
            "install that version to restore it"
        )
    return CheckedFile(path, revision, counts[0], counts[1], counts[2])


def _fold_wal(db_path: Path) -> list[tuple[str, str]]:
    """Fold the write-ahead log into the database, make sure nobody else has it open.

    Returns this desk's identity settings, read on the way.
    """
    db = sqlite3.connect(db_path, timeout=5)
    try:
        marks = ",".join("?" for _ in _KEEP_LOCAL)
        keep = db.execute(
            f"SELECT key, value FROM local_settings WHERE key IN ({marks})", _KEEP_LOCAL
        ).fetchall()
        busy, _log, _done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.close()
    wal = db_path.with_name(db_path.name + "-wal")
    if busy or wal.exists():
        # The last connection to close removes the log; it is still there, so someone is in.
        raise BackupError(
            "EventDesk is still open on this data folder (or another program is): "
            "close it, then restore again; nothing was changed"
        )
    with contextlib.suppress(OSError):
        db_path.with_name(db_path.name + "-shm").unlink(missing_ok=True)
    return [(str(k), str(v)) for k, v in keep]


def _carry_local_settings(keep: list[tuple[str, str]], restored: Path) -> None:
    db = sqlite3.connect(restored)
    try:
        with db:
            db.executemany("INSERT OR REPLACE INTO local_settings(key, value) VALUES (?, ?)", keep)
            marks = ",".join("?" for _ in _CLEAR_LOCAL)
            db.execute(f"DELETE FROM local_settings WHERE key IN ({marks})", _CLEAR_LOCAL)
    finally:
        db.close()
    with restored.open("rb+") as handle:
        os.fsync(handle.fileno())


def _copy_closed_file(source: Path, target: Path) -> None:
    """Copy a database nobody has open (its log already folded in), privately and durably."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did: the file restored and where the previous database was put."""

    restored: CheckedFile
    aside: Path | None


def restore(data_dir: Path, source: Path) -> RestoreResult:
    """Replace the database of ``data_dir`` with ``source``, keeping the current one aside.

    The app must be closed on this folder (this is checked). Open the store afterwards to
    migrate the restored file to this program's schema.
    """
    checked = check_file(source)
    db_path = data_dir / DB_NAME
    folder = backups_dir(data_dir)
    if source.resolve() == db_path.resolve():
        raise BackupError("that is the database in use; choose a backup file")
    now = datetime.now(UTC).replace(tzinfo=None)
    temp = folder / f"{_TEMP_PREFIX}{uuid.uuid4().hex}.sqlite3"
    aside: Path | None = None
    try:
        _make_folder(folder)
        for stale in folder.glob(f"{_TEMP_PREFIX}*"):
            with contextlib.suppress(OSError):
                stale.unlink()
        _copy_database(source, temp)
        if _integrity(temp) != "ok":
            raise BackupError(f"the copy of {source} did not check out; nothing was changed")
        keep: list[tuple[str, str]] = []
        if db_path.exists():
            keep = _fold_wal(db_path)
            # A plain copy: opening the old file with SQLite again would bring a log back.
            aside = folder / f"{_ASIDE_PREFIX}{_stamp(now)}.sqlite3"
            _copy_closed_file(db_path, aside)
        _carry_local_settings(keep, temp)
        # The one step that changes the folder: before it the old database, after it the new.
        os.replace(temp, db_path)
        _fsync_dir(data_dir)
    except (OSError, sqlite3.Error) as exc:
        raise _disk_words(exc, "nothing was restored") from exc
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
    return RestoreResult(checked, aside)
