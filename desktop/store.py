"""The desk's SQLite store: choosing the data folder, opening the database, migrating it."""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from desktop import desk
from desktop.paths import migrations_dir
from desktop.prepared import driver_execute

DB_NAME = "eventdesk.sqlite3"
MARKER_NAME = "EVENTDESK"
# Files EventDesk itself puts in a data folder; anything else means it is someone else's folder.
OWN_ENTRIES = {
    DB_NAME,
    f"{DB_NAME}-wal",
    f"{DB_NAME}-shm",
    f"{DB_NAME}-journal",
    MARKER_NAME,
    "keys",
    "layouts",
    "backups",
    "exports",
    "certificates",
    "settings.ini",
}
BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """A problem with the data folder or database that a person can act on."""


class DiskTroubleError(StoreError):
    """The disk is full or the data folder cannot be written; the action was rolled back."""


def disk_trouble(exc: BaseException, data_dir: Path) -> DiskTroubleError | None:
    """The plain-words error for a write that failed on a full or read-only disk, else None."""
    orig = getattr(exc, "orig", exc)
    name = str(getattr(orig, "sqlite_errorname", ""))
    if name == "SQLITE_FULL":
        return DiskTroubleError(
            "the disk is full: free some space (empty the trash, delete old downloads); "
            "nothing was lost, and the last action was not saved, so do it again afterwards"
        )
    if name.startswith(("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN")):
        return DiskTroubleError(
            f"the data folder {data_dir} cannot be written (read-only, or its disk was "
            "removed): nothing was lost, and the last action was not saved; make the folder "
            "writable again or plug the disk back in, then do it again"
        )
    return None


def default_data_dir() -> Path:
    """The data folder when neither ``--data`` nor ``EVENTDESK_DATA`` is given."""
    return Path(platformdirs.user_data_dir("EventDesk", appauthor=False))


def resolve_data_dir(explicit: str | os.PathLike[str] | None) -> Path:
    """``--data`` wins, then ``EVENTDESK_DATA``, then the platform's user data folder."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("EVENTDESK_DATA")
    if env:
        return Path(env).expanduser()
    return default_data_dir()


def check_data_dir(path: Path) -> None:
    """Refuse a path that is a file or a folder holding things that are not EventDesk's."""
    if path.exists() and not path.is_dir():
        raise StoreError(f"{path} is a file, not a data folder; choose a folder with --data")
    if not path.is_dir():
        return
    if (path / MARKER_NAME).exists() or (path / DB_NAME).exists():
        return
    foreign = sorted(p.name for p in path.iterdir() if p.name not in OWN_ENTRIES)
    if foreign:
        shown = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
        raise StoreError(
            f"{path} is not an EventDesk data folder (it holds {shown}); "
            "choose an empty or new folder with --data"
        )


def _check_sqlite_file(db_path: Path) -> None:
    with db_path.open("rb") as handle:
        header = handle.read(16)
    if header and header != b"SQLite format 3\x00":
        raise StoreError(f"{db_path} is not an SQLite database; it was not written by EventDesk")


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # FULL: a check-in the desk has confirmed survives a power cut, even in WAL mode.
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


# Page cache for bulk writes (an import, a pulled sync batch): the default 2 MB makes SQLite
# reread index pages it just wrote; this is given back as soon as the bulk write is done.
BULK_CACHE_KIB = 65536
# SQLite's own default: a commit that leaves more WAL pages than this copies them into the
# database file (a checkpoint) before it returns.
AUTOCHECKPOINT_PAGES = 1000
# Set in a pooled connection's info by checkpoint_later: checkpoint after the transaction.
_CHECKPOINT_LATER = "eventdesk.checkpoint_later"


@contextmanager
def bulk_cache(session: Session) -> Iterator[None]:
    """A larger page cache on the session's connection for the duration of a bulk write."""
    connection = session.connection()
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous or -2000)}")


def checkpoint_later(session: Session) -> None:
    """Leave the checkpoint after this session's transaction to a background thread.

    For one large write (an import) whose commit should not wait for its pages to be copied
    into the database file (see :class:`Checkpointer`). Not for a run of transactions (a sync
    pull's batches): a checkpoint running beside the next one's writes slowed them more than
    it saved. The connection checkpoints on its own again once the transaction is over.
    """
    connection = session.connection()
    connection.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")
    connection.connection.info[_CHECKPOINT_LATER] = True


class Checkpointer:
    """Copies the write-ahead log into the database file in a background thread.

    A commit is durable once its pages are in the WAL (synchronous FULL). SQLite then copies
    them into the database file, by default inside the commit that took the WAL past 1,000
    pages: after a 50,000-row import that copy took a third of a second of the import. After
    a bulk write it is done here instead, on a connection of its own, as a PASSIVE checkpoint
    (it waits for no reader and no writer; scans go on meanwhile). Should it not run (the
    program stops first), the next commit or the last connection's close does it.
    """

    def __init__(self, db_path: Path) -> None:
        # mode=rw: a database moved away meanwhile is not made again, empty. (A file URI
        # needs an absolute path: a data folder may be given relative to where one stands.)
        self._uri = f"{db_path.absolute().as_uri()}?mode=rw"
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False

    def request(self) -> None:
        """Checkpoint soon (once more, if a checkpoint is running now)."""
        with self._lock:
            if self._thread is not None:
                self._again = True
                return
            self._thread = threading.Thread(
                target=self._run, name="eventdesk-checkpoint", daemon=True
            )
            self._thread.start()

    def wait(self) -> None:
        """Return once no checkpoint is running or asked for."""
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return
            thread.join()  # a thread always lets go of its place before it ends

    def _run(self) -> None:
        try:
            while True:
                self._checkpoint()
                with self._lock:  # decided and cleared under one lock: no request is lost
                    if not self._again:
                        self._thread = None
                        return
                    self._again = False
        except BaseException:
            # A failure not foreseen: the thread ends, and wait() must not wait on it.
            with self._lock:
                self._thread = None
                self._again = False
            raise

    def _checkpoint(self) -> None:
        try:
            db = sqlite3.connect(self._uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                db.close()
        except sqlite3.Error:
            pass  # a full disk, a removed folder: the next commit's own checkpoint retries


_checkpointers: weakref.WeakKeyDictionary[Engine, Checkpointer] = weakref.WeakKeyDictionary()


def checkpointer(engine: Engine) -> Checkpointer | None:
    """The background checkpointer of a desk database's engine (None for another engine)."""
    return _checkpointers.get(engine)


def make_engine(db_path: Path) -> Engine:
    """An engine on the desk database with the durability settings applied on every connection."""
    engine = create_engine(f"sqlite:///{db_path}", connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _on_connect)
    background = _checkpointers[engine] = Checkpointer(db_path)

    # pysqlite's own transaction handling defers BEGIN; take over so writes begin IMMEDIATE
    # (a second desk process then waits on busy_timeout instead of failing mid-transaction).
    @event.listens_for(engine, "connect")
    def _no_pysqlite_tx(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        # Straight on the driver: through exec_driver_sql this costs as much as a scan's reads.
        driver = conn.connection.driver_connection
        if conn.get_execution_options().get(_READ_ONLY):
            # A snapshot (WAL): it waits for no writer and no writer waits for it. query_only
            # turns a write attempted by mistake into an error instead of a lock upgrade.
            conn.connection.info[_QUERY_ONLY] = True
            driver_execute(driver, "PRAGMA query_only = ON")
            driver_execute(driver, "BEGIN DEFERRED")
        else:
            driver_execute(driver, "BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _writable_again(dbapi_connection: Any, record: Any) -> None:
        # Pooled connections serve readers and writers alike. (None: the connection was
        # invalidated after an error and is not going back to the pool.)
        if dbapi_connection is not None and record.info.pop(_QUERY_ONLY, False):
            dbapi_connection.execute("PRAGMA query_only = OFF")
        if record.info.pop(_CHECKPOINT_LATER, False):
            # The transaction is over (committed or not): checkpoint in the background, and
            # let this connection checkpoint on its own again.
            if dbapi_connection is not None:
                dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
            background.request()

    return engine


# The execution option that makes a session's transactions read-only snapshots.
_READ_ONLY = "eventdesk_read_only"
# Set in a pooled connection's info while it is a read-only snapshot.
_QUERY_ONLY = "eventdesk.query_only"


def alembic_config(engine: Engine | None = None, url: str | None = None) -> Config:
    """Alembic configuration pointing at the bundled migrations."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str | None:
    """The newest migration this program knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _knows_revision(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except Exception:  # alembic raises several resolution errors for an unknown id
        return False


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema; refuse one newer than this program."""
    script = ScriptDirectory.from_config(alembic_config())
    current = current_revision(engine)
    if current is not None and not _knows_revision(script, current):
        raise StoreError(
            f"this database was written by a newer EventDesk (schema {current}); "
            "install the newer version to open it"
        )
    if current != script.get_current_head():
        command.upgrade(alembic_config(engine), "head")


@dataclass
class Store:
    """An open data folder: its path, engine and session factory."""

    data_dir: Path
    engine: Engine
    session_factory: sessionmaker[Session]
    reader_factory: sessionmaker[Session]

    @property
    def db_path(self) -> Path:
        return self.data_dir / DB_NAME

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """One session and transaction for one user action.

        A write that fails on a full or read-only disk is rolled back whole and raised as
        :class:`DiskTroubleError`; the next action works again once the disk is fixed.
        """
        try:
            with self.session_factory.begin() as session:
                yield session
        except (OperationalError, sqlite3.OperationalError) as exc:
            trouble = disk_trouble(exc, self.data_dir)
            if trouble is None:
                raise
            # A connection opened while the folder was read-only stays read-only: start afresh.
            self.engine.dispose()
            raise trouble from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only snapshot of the database, for showing, counting or exporting.

        Unlike :meth:`begin` it takes no write lock: it neither waits for a write in progress
        (an import, a pulled sync batch) nor holds up the scans while a long report runs. A
        write inside it fails ("attempt to write a readonly database") and nothing is kept.
        """
        with self.reader_factory() as session:
            try:
                yield session
            finally:
                session.rollback()

    def close(self) -> None:
        background = checkpointer(self.engine)
        if background is not None:
            background.wait()
        self.engine.dispose()


def open_store(data_dir: Path, *, create: bool = True) -> Store:
    """Open (and when needed create and migrate) the store in ``data_dir``."""
    check_data_dir(data_dir)
    db_path = data_dir / DB_NAME
    if db_path.exists():
        _check_sqlite_file(db_path)
    elif not create:
        raise StoreError(f"no EventDesk database in {data_dir}; run `eventdesk demo` or the app")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / MARKER_NAME).touch(exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot write to {data_dir}: {exc.strerror or exc}") from exc
    engine = make_engine(db_path)
    try:
        migrate(engine)
    except StoreError:
        engine.dispose()
        raise
    except sqlite3.DatabaseError as exc:
        engine.dispose()
        raise StoreError(f"{db_path} cannot be opened: {exc}") from exc
    except Exception as exc:
        engine.dispose()
        orig = getattr(exc, "orig", None)
        if isinstance(orig, sqlite3.DatabaseError):
            raise StoreError(f"{db_path} cannot be opened: {orig}") from exc
        raise
    factory = sessionmaker(engine, expire_on_commit=False)
    reader = sessionmaker(engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)
    store = Store(data_dir=data_dir, engine=engine, session_factory=factory, reader_factory=reader)
    # The desk's id is made on first use; made here, a read-only snapshot never has to.
    with store.read() as session:
        known = bool(desk.get_setting(session, "desk_id"))
    if not known:
        with store.begin() as session:
            desk.desk_id(session)
    return store
