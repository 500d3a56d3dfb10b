"""One sync round of a desk with its hub, and the sync status a person sees.

A round pushes the operations this desk made that the hub has not confirmed yet, in clock
order and in batches, then pulls what is new on the hub for each event the desk holds. Each
pulled batch is applied and the pull cursor moved in one local transaction, so a round cut
anywhere (a dropped network, a closed laptop) leaves nothing half-done: the next round pushes
again what was not confirmed (the hub ignores duplicates) and pulls again from the cursor
(the journal ignores operations it already has).
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.orm import Session

from desktop import desk, journal
from desktop.hub import (
    HubClient,
    HubError,
    HubNotInitialised,
    HubRefused,
    HubSchemaTooNew,
    HubUnreachable,
)
from desktop.journal import JournalError, Op
from desktop.models import Operation, SyncCursor
from desktop.opwire import OpShapeError, check_op
from desktop.store import Store, StoreError

BATCH = 5000
"""Operations per push batch and per pulled batch (one local transaction each)."""

# Local settings (never replicated).
HUB_URL_KEY = "sync_hub_url"
HUB_ID_KEY = "sync_hub_id"
STATE_KEY = "sync_state"
LAST_ERROR_KEY = "sync_last_error"
LAST_ERROR_AT_KEY = "sync_last_error_at"
LAST_ATTEMPT_KEY = "sync_last_attempt"
LAST_SUCCESS_KEY = "sync_last_success"

# What a round can end in; the words a person reads are in STATE_WORDS.
ONLINE = "online"
OFFLINE = "offline"
REFUSED = "refused"
FAILED = "failed"
NO_HUB = "no_hub"
NEVER = "never"
STATE_WORDS = {
    ONLINE: "online",
    OFFLINE: "offline",
    REFUSED: "hub refused this desk",
    FAILED: "sync stopped",
    NO_HUB: "no hub configured",
    NEVER: "not synced yet",
}

# Errors of one operation's content (never of the disk): the operation is skipped, not the batch.
_BAD_OPERATION = (JournalError, ValueError, TypeError, KeyError, AttributeError, StatementError)


class SyncError(Exception):
    """A round cannot go on for a reason on this desk's side; str() says what to do."""


class NewerOperationsError(SyncError):
    """The hub holds operations of a kind this program does not know (a newer EventDesk)."""


@dataclass(frozen=True)
class SyncReport:
    """What one round moved, and how it ended.

    ``pushed``: this desk's operations sent and confirmed; ``pulled``: operations of other
    desks received (this desk's own come back only as a confirmation);
    ``applied``: of those, the ones new here; ``skipped``: received operations that could not
    be applied (malformed) and were passed over; ``unsendable``: this desk's operations the hub
    cannot store (they stay here); ``cursor``: event id -> hub sequence this desk holds up to;
    ``error``: the plain sentence if the round stopped early (what moved before still counts).
    """

    pushed: int = 0
    pulled: int = 0
    applied: int = 0
    cursor: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    state: str = ONLINE
    skipped: int = 0
    unsendable: int = 0
    waiting: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "state": self.state,
            "pushed": self.pushed,
            "pulled": self.pulled,
            "applied": self.applied,
            "skipped": self.skipped,
            "unsendable": self.unsendable,
            "waiting": self.waiting,
            "cursor": dict(self.cursor),
            "error": self.error,
        }

    def summary(self) -> str:
        """One line for a person: what moved, and the problem if there was one."""
        parts = [f"sent {self.pushed}", f"received {self.pulled} ({self.applied} new)"]
        if self.skipped:
            parts.append(f"{self.skipped} received operation(s) could not be applied")
        if self.unsendable:
            parts.append(f"{self.unsendable} operation(s) here cannot be sent")
        parts.append(f"{self.waiting} waiting")
        text = ", ".join(parts)
        return text if self.error is None else f"{text}; stopped: {self.error}"


@dataclass
class _Tally:
    pushed: int = 0
    pulled: int = 0
    applied: int = 0
    skipped: int = 0
    unsendable: int = 0
    cursor: dict[str, int] = field(default_factory=dict)


# --- settings -----------------------------------------------------------------------------


def hub_url(session: Session) -> str:
    """The hub this desk syncs with ("" when none is configured)."""
    return desk.get_setting(session, HUB_URL_KEY)


def check_hub_url(url: str) -> str:
    """The URL stripped of blanks; SyncError unless it is a PostgreSQL URL."""
    url = url.strip()
    if not url.startswith(("postgresql://", "postgres://")):
        raise SyncError("a hub address starts with postgresql:// (ask for the desk's connection)")
    return url


def set_hub_url(session: Session, url: str) -> None:
    """Remember the hub this desk syncs with; an empty URL forgets it."""
    desk.set_setting(session, HUB_URL_KEY, check_hub_url(url) if url.strip() else "")


def mask_url(url: str) -> str:
    """The URL with its password replaced by dots, for showing on screen."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "••••"
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:••••••@{host}"
    if "password=" in query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        query = "&".join(
            f"{k}=••••••" if k == "password" else urllib.parse.urlencode({k: v}) for k, v in pairs
        )
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=query))


def hub_label(url: str) -> str:
    """Where a hub URL points, without user or password: ``host:port/database``."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
    except ValueError:
        return "the hub"
    if ":" in host:
        host = f"[{host}]"
    database = urllib.parse.unquote(parts.path.lstrip("/"))
    return f"{host}:{port}/{database}" if database else f"{host}:{port}"


# --- the round ----------------------------------------------------------------------------


def waiting_count(session: Session, event_id: str | None = None) -> int:
    """This desk's operations (of one event, or all) the hub has not confirmed yet."""
    query = select(func.count()).select_from(Operation).where(Operation.local, ~Operation.pushed)
    if event_id is not None:
        query = query.where(Operation.event_id == event_id)
    return int(session.scalar(query) or 0)


def sync_once(
    store: Store, url: str, *, event_ids: Sequence[str] | None = None, batch_size: int = BATCH
) -> SyncReport:
    """Connect to the hub at ``url``, do one round, disconnect."""
    with HubClient(url, batch_size=batch_size) as client:
        return sync_round(store, client, event_ids=event_ids, batch_size=batch_size)


def sync_round(
    store: Store,
    client: HubClient,
    *,
    event_ids: Sequence[str] | None = None,
    batch_size: int = BATCH,
    should_stop: Callable[[], bool] | None = None,
) -> SyncReport:
    """Push what this desk made, pull what is new, for ``event_ids`` (default: the open event).

    Never raises for a hub or network failure: the report carries the plain sentence, and the
    status kept in the local settings is updated for the status bar.
    """
    tally = _Tally()
    error: str | None = None
    state = ONLINE
    try:
        if event_ids is None:
            with store.begin() as session:
                current = desk.current_event_id(session)
            if current is None:
                raise SyncError("no event open on this desk: join one first (eventdesk join)")
            event_ids = [current]
        hub_id = client.hub_id()
        _adopt_hub(store, hub_id)
        _push(store, client, list(event_ids), batch_size, tally, should_stop)
        for event_id in event_ids:
            _pull(store, client, hub_id, event_id, batch_size, tally, should_stop)
    except HubError as exc:
        error, state = str(exc), state_of(exc)
    except (SyncError, StoreError) as exc:
        error, state = str(exc), FAILED
    report = SyncReport(
        pushed=tally.pushed,
        pulled=tally.pulled,
        applied=tally.applied,
        cursor=tally.cursor,
        error=error,
        state=state,
        skipped=tally.skipped,
        unsendable=tally.unsendable,
    )
    return _record_outcome(store, report)


def state_of(exc: BaseException) -> str:
    """The status a hub failure puts a desk in."""
    if isinstance(exc, HubUnreachable):
        return OFFLINE
    if isinstance(exc, HubRefused | HubNotInitialised | HubSchemaTooNew):
        return REFUSED
    return FAILED


def _adopt_hub(store: Store, hub_id: str) -> None:
    with store.begin() as session:
        known = desk.get_setting(session, HUB_ID_KEY)
        if known == hub_id:
            return
        if known:
            # Another hub than last time (or the same one made afresh): it may lack what the
            # old one confirmed, so send everything made here again; it ignores duplicates.
            session.execute(
                update(Operation).where(Operation.local, Operation.pushed).values(pushed=False)
            )
        desk.set_setting(session, HUB_ID_KEY, hub_id)


_OP_COLUMNS = (
    Operation.op_id,
    Operation.event_id,
    Operation.desk_id,
    Operation.hlc,
    Operation.kind,
    Operation.payload,
    Operation.operator_id,
)


def _push(
    store: Store,
    client: HubClient,
    event_ids: list[str],
    batch_size: int,
    tally: _Tally,
    should_stop: Callable[[], bool] | None,
) -> None:
    floor = ""
    refused: list[str] = []  # operations the hub cannot store: they stay here, unpushed
    while True:
        if should_stop is not None and should_stop():
            return
        query = (
            select(*_OP_COLUMNS)
            .where(Operation.pushed.is_(False), Operation.local)
            .where(Operation.event_id.in_(event_ids), Operation.hlc >= floor)
            .order_by(Operation.hlc)
            .limit(batch_size)
        )
        if refused:
            query = query.where(Operation.op_id.not_in(refused))
        with store.begin() as session:
            # By the (pushed, hlc) index: each batch starts where the last one ended.
            rows = session.execute(query).all()
        if not rows:
            return
        floor = rows[-1].hlc
        ops = [_row_dict(row) for row in rows]
        try:
            client.push(ops)
        except OpShapeError:
            ops, bad = _sendable(ops)
            refused += bad
            tally.unsendable += len(bad)
            if ops:
                client.push(ops)
        with store.begin() as session:
            _mark_pushed(session, [op["op_id"] for op in ops])
        tally.pushed += len(ops)
        if len(rows) < batch_size:
            return


_OP_KEYS = ("op_id", "event_id", "desk_id", "hlc", "kind", "payload", "operator_id")


def _row_dict(row: Any) -> dict[str, Any]:
    return dict(zip(_OP_KEYS, row, strict=True))


def _sendable(ops: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    good: list[dict[str, Any]] = []
    bad: list[str] = []
    for op in ops:
        try:
            check_op(op)
        except OpShapeError:
            bad.append(str(op["op_id"]))
        else:
            good.append(op)
    return good, bad


def _pull(
    store: Store,
    client: HubClient,
    hub_id: str,
    event_id: str,
    batch_size: int,
    tally: _Tally,
    should_stop: Callable[[], bool] | None,
) -> None:
    with store.begin() as session:
        cursor = _cursor(session, hub_id, event_id)
        own_desk = desk.desk_id(session)
    tally.cursor[event_id] = cursor

    def fetch(after: int) -> list[tuple[int, dict[str, Any]]]:
        return client.pull(event_id, after, batch_size, without_payload_of=own_desk)

    # One batch is fetched while the one before is applied: the network and SQLite overlap.
    # The client is not thread-safe, so it is used here only once the fetch ahead is over.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventdesk-pull") as ahead:
        pending: Future[list[tuple[int, dict[str, Any]]]] | None = ahead.submit(fetch, cursor)
        while pending is not None:
            rows = pending.result()
            pending = None
            if not rows:
                return
            stopping = should_stop is not None and should_stop()
            if len(rows) == batch_size and not stopping:
                pending = ahead.submit(fetch, rows[-1][0])
            own = [data["op_id"] for _, data in rows if data["payload"] is None]
            if own:
                with store.begin() as session:
                    lost = len(_known(session, own)) < len(own)
                if lost:
                    # This desk lost some of its own operations (a backup put back): fetch
                    # them whole.
                    if pending is not None:
                        wait([pending])
                    rows = client.pull(event_id, cursor, batch_size)
                    own = []
                    pending = ahead.submit(fetch, rows[-1][0]) if pending else None
            cursor = _apply_pulled(store, hub_id, event_id, own_desk, cursor, rows, own, tally)


def _apply_pulled(
    store: Store,
    hub_id: str,
    event_id: str,
    own_desk: str,
    cursor: int,
    rows: list[tuple[int, dict[str, Any]]],
    own: list[str],
    tally: _Tally,
) -> int:
    """Apply one pulled batch and move the cursor in one transaction; the new cursor."""
    ops, skipped, upto, newer = _decode(rows)
    with store.begin() as session:
        applied, failed = apply_batch(session, ops)
        # Back from the hub, so the hub has them, even if the push that sent them broke
        # before it could say so.
        _mark_pushed(session, own + [op.op_id for op in ops if op.desk_id == own_desk])
        if upto > cursor:
            _move_cursor(session, hub_id, event_id, upto)
    # This desk's own operations come back as a mere confirmation: they are not "received".
    tally.pulled += len(ops) + skipped
    tally.applied += applied
    tally.skipped += skipped + failed
    cursor = max(cursor, upto)
    tally.cursor[event_id] = cursor
    if newer is not None:
        raise NewerOperationsError(
            f"the hub holds changes from a newer EventDesk (kind {newer!r}); "
            "update EventDesk on this desk to receive them"
        )
    return cursor


def _known(session: Session, op_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(op_ids), 500):
        chunk = op_ids[start : start + 500]
        found.update(session.scalars(select(Operation.op_id).where(Operation.op_id.in_(chunk))))
    return found


def _decode(
    rows: list[tuple[int, dict[str, Any]]],
) -> tuple[list[Op], int, int, str | None]:
    """Pulled rows as operations: (ops, malformed count, last seq taken, unknown kind or None).

    Rows without a payload (this desk's own, already here) are passed over. Stops before the
    first operation of a kind this program does not know, so the cursor stays in front of it
    until the desk is updated; a malformed operation is passed over.
    """
    ops: list[Op] = []
    skipped = 0
    upto = 0
    for seq, data in rows:
        kind = data.get("kind")
        if isinstance(kind, str) and kind not in journal.APPLIERS:
            return ops, skipped, upto, kind
        if data["payload"] is not None:
            try:
                # The hub gives every row the agreed keys; what is inside is checked on applying.
                ops.append(Op.from_dict(data))
            except JournalError:
                skipped += 1
        upto = seq
    return ops, skipped, upto, None


def apply_batch(session: Session, ops: Iterable[Op]) -> tuple[int, int]:
    """Apply operations from elsewhere: (new ones applied, malformed ones passed over).

    The batch goes in bulk; if one operation in it cannot be applied, each is applied on its
    own so that one bad operation cannot stop a desk from ever receiving the rest.
    """
    batch = list(ops)
    try:
        with session.begin_nested():
            return journal.apply_many(session, batch), 0
    except OperationalError:
        raise  # the disk, not the data: the caller's transaction fails whole
    except _BAD_OPERATION:
        pass
    applied = failed = 0
    for op in batch:
        try:
            with session.begin_nested():
                if journal.apply(session, op):
                    applied += 1
        except OperationalError:
            raise
        except _BAD_OPERATION:
            failed += 1
    return applied, failed


def _mark_pushed(session: Session, op_ids: list[str]) -> None:
    if not op_ids:
        return
    if len(op_ids) > 500:
        unsent = session.scalar(
            select(Operation.op_id).where(Operation.pushed.is_(False), Operation.local).limit(1)
        )
        if unsent is None:
            return  # the usual case after a pull: nothing here is waiting for confirmation
    table: Table = Operation.__table__  # type: ignore[assignment]
    # Core and executemany: the ORM's bulk update costs ten times as much per row here.
    session.connection().execute(
        update(table)
        .where(table.c.op_id == bindparam("id"), table.c.local, table.c.pushed.is_(False))
        .values(pushed=True),
        [{"id": op_id} for op_id in op_ids],
    )


def _cursor(session: Session, hub_id: str, event_id: str) -> int:
    row = session.get(SyncCursor, (hub_id, event_id))
    return row.last_seq if row is not None else 0


def _move_cursor(session: Session, hub_id: str, event_id: str, seq: int) -> None:
    row = session.get(SyncCursor, (hub_id, event_id))
    if row is None:
        session.add(SyncCursor(hub=hub_id, event_id=event_id, last_seq=seq))
    elif seq > row.last_seq:
        # Another round (the command line beside the app) may have gone further already.
        row.last_seq = seq


def _record_outcome(store: Store, report: SyncReport) -> SyncReport:
    now = journal.utcnow()
    stamp = now.isoformat(timespec="seconds")
    try:
        with store.begin() as session:
            desk.set_setting(session, LAST_ATTEMPT_KEY, stamp)
            desk.set_setting(session, STATE_KEY, report.state)
            if report.ok:
                desk.set_setting(session, LAST_SUCCESS_KEY, stamp)
                hub_id = desk.get_setting(session, HUB_ID_KEY)
                for event_id in report.cursor:
                    row = session.get(SyncCursor, (hub_id, event_id))
                    if row is not None:
                        row.last_success = now
            else:
                desk.set_setting(session, LAST_ERROR_KEY, report.error or "")
                desk.set_setting(session, LAST_ERROR_AT_KEY, stamp)
            waiting = waiting_count(session, desk.current_event_id(session))
    except StoreError:
        # The status is a convenience; what the round moved is committed already.
        return report
    return dataclasses.replace(report, waiting=waiting)


# --- status -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar and the Sync page show, as plain data."""

    hub: str
    state: str
    waiting: int
    last_success: datetime | None
    last_attempt: datetime | None
    last_error: str
    last_error_at: datetime | None

    @property
    def configured(self) -> bool:
        return bool(self.hub)

    @property
    def words(self) -> str:
        """The state in words: online, offline, hub refused this desk, …"""
        return STATE_WORDS.get(self.state, self.state)

    def status_line(self) -> str:
        """The status bar's text."""
        if not self.configured:
            return f"Sync: no hub configured · {self.waiting} change(s) kept on this desk"
        parts = [f"Sync: {self.words}", f"{self.waiting} waiting"]
        parts.append(
            f"last sync {format_time(self.last_success)}" if self.last_success else "never synced"
        )
        if self.state not in (ONLINE, NEVER) and self.last_error:
            parts.append(self.last_error)  # last: a narrow status bar cuts it, not the rest
        return " · ".join(parts)

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.replace(tzinfo=UTC).isoformat()

        return {
            "hub": self.hub,
            "state": self.state,
            "words": self.words,
            "waiting": self.waiting,
            "last_success": iso(self.last_success),
            "last_attempt": iso(self.last_attempt),
            "last_error": self.last_error or None,
            "last_error_at": iso(self.last_error_at),
        }


def format_time(value: datetime, now: datetime | None = None) -> str:
    """A stored naive-UTC time as this computer's local clock time (with the date if not today)."""
    local = value.replace(tzinfo=UTC).astimezone()
    today = (now or datetime.now(UTC)).astimezone().date()
    return f"{local:%H:%M:%S}" if local.date() == today else f"{local:%d %b %H:%M}"


def _parse_stamp(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def sync_status(session: Session) -> SyncStatus:
    """The sync status of this desk, read from its local settings."""
    url = hub_url(session)
    state = desk.get_setting(session, STATE_KEY) or NEVER
    event_id = desk.current_event_id(session)
    return SyncStatus(
        hub=hub_label(url) if url else "",
        state=state if url else NO_HUB,
        waiting=waiting_count(session, event_id) if event_id else 0,
        last_success=_parse_stamp(desk.get_setting(session, LAST_SUCCESS_KEY)),
        last_attempt=_parse_stamp(desk.get_setting(session, LAST_ATTEMPT_KEY)),
        last_error=desk.get_setting(session, LAST_ERROR_KEY),
        last_error_at=_parse_stamp(desk.get_setting(session, LAST_ERROR_AT_KEY)),
    )


__all__ = [
    "BATCH",
    "HUB_URL_KEY",
    "NewerOperationsError",
    "SyncError",
    "SyncReport",
    "SyncStatus",
    "apply_batch",
    "check_hub_url",
    "format_time",
    "hub_label",
    "hub_url",
    "mask_url",
    "set_hub_url",
    "state_of",
    "sync_once",
    "sync_round",
    "sync_status",
    "waiting_count",
]
