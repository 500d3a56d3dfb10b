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
import json
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, func, select, type_coerce, update
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
    PreparedPush,
    PulledRow,
    prepare_push,
)
from desktop.journal import JournalError, Op
from desktop.models import Operation, SyncCursor
from desktop.opwire import OpShapeError, StoredJson, check_op
from desktop.store import Store, StoreError, bulk_cache

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
    # "IS 0" rather than NOT: the (pushed, hlc) index then reads only the waiting ones.
    query = (
        select(func.count())
        .select_from(Operation)
        .where(Operation.local, Operation.pushed.is_(False))
    )
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
    refused: list[str] = []  # operations the hub cannot store: they stay here, unpushed
    confirmed: list[str] = []  # op_ids the hub has; not marked here yet
    # A batch travels to the hub while the one before is marked and the next one read and
    # checked here: the network and SQLite overlap. The client is used by one thread at a time
    # (the sender, until its batch is confirmed).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventdesk-push") as sender:
        batch, more = _unpushed(store, event_ids, batch_size, "", refused, [])
        prepared = _prepared(batch, refused, tally)
        while batch and not (should_stop is not None and should_stop()):
            sending = sender.submit(client.push_prepared, prepared)
            _confirm(store, confirmed, tally)
            following: list[dict[str, Any]] = []
            if more:
                following, more = _unpushed(
                    store, event_ids, batch_size, batch[-1]["hlc"], refused, batch
                )
            coming = _prepared(following, refused, tally)
            good: Sequence[Mapping[str, Any]] = prepared.ops
            try:
                sending.result()
            except OpShapeError:
                # The hub refused stored text that looked sound; checked strictly now.
                good, bad = _sendable([dict(op) for op in prepared.ops])
                refused += bad
                tally.unsendable += len(bad)
                if good:
                    client.push(good)
            confirmed = [op["op_id"] for op in good]
            batch, prepared = following, coming
    _confirm(store, confirmed, tally)


def _prepared(batch: list[dict[str, Any]], refused: list[str], tally: _Tally) -> PreparedPush:
    """The batch checked for the hub; operations it cannot hold are left out (and refused)."""
    try:
        return prepare_push(batch)
    except OpShapeError:
        good, bad = _sendable(batch)
        refused += bad
        tally.unsendable += len(bad)
        return prepare_push(good)


def _unpushed(
    store: Store,
    event_ids: list[str],
    batch_size: int,
    floor: str,
    refused: list[str],
    sending: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], bool]:
    """The next batch of this desk's operations to send, from clock `floor` on, in clock
    order, and whether more may follow. `sending` is the batch before it, still unmarked."""
    # The batch being sent is not marked pushed yet: those of its operations at the floor
    # come again, and are dropped here.
    again = {op["op_id"] for op in sending if op["hlc"] >= floor}
    limit = batch_size + len(again)
    query = (
        select(*_PUSH_COLUMNS)
        .where(Operation.pushed.is_(False), Operation.local)
        .where(Operation.event_id.in_(event_ids), Operation.hlc >= floor)
        .order_by(Operation.hlc)
        .limit(limit)
    )
    if refused:
        query = query.where(Operation.op_id.not_in(refused))
    with store.begin() as session:
        # By the (pushed, hlc) index: each batch starts where the last one ended.
        rows = session.execute(query).all()
    ops = [_row_dict(row) for row in rows if row[0] not in again]
    return ops[:batch_size], len(rows) == limit or len(ops) > batch_size


def _confirm(store: Store, confirmed: list[str], tally: _Tally) -> None:
    """Mark operations the hub confirmed as pushed."""
    if not confirmed:
        return
    with store.begin() as session:
        _mark_pushed(session, list(confirmed))
    tally.pushed += len(confirmed)
    confirmed.clear()


# The payload as the text the database holds: it goes to the hub as it is (see StoredJson).
_PUSH_COLUMNS = (*_OP_COLUMNS[:5], type_coerce(Operation.payload, Text), Operation.operator_id)


def _row_dict(row: Any) -> dict[str, Any]:
    op_id, event_id, desk_id, hlc, kind, payload, operator_id = row
    return {
        "op_id": op_id,
        "event_id": event_id,
        "desk_id": desk_id,
        "hlc": hlc,
        "kind": kind,
        "payload": None if payload is None else StoredJson(payload),
        "operator_id": operator_id,
    }


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

    def fetch(after: int) -> tuple[list[PulledRow], _Decoded]:
        rows = client.pull_raw(event_id, after, batch_size, without_payload_of=own_desk)
        return rows, _decode(rows)

    # One batch is fetched and decoded while the one before is applied: the network, the JSON
    # decoding and SQLite (which lets other threads run) overlap.
    # The client is not thread-safe, so it is used here only once the fetch ahead is over.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventdesk-pull") as ahead:
        pending: Future[tuple[list[PulledRow], _Decoded]] | None = ahead.submit(fetch, cursor)
        # Batches of nothing but this desk's own operations, all here (the confirmations after
        # a push), apply nothing: their cursor move waits for the next batch's transaction,
        # one commit instead of one each. Cut off, they are only pulled again.
        carried: list[str] = []
        carried_upto = 0

        def flush() -> int:
            nonlocal carried, carried_upto
            if not carried_upto:
                return cursor
            moved = _apply_pulled(
                store,
                hub_id,
                event_id,
                own_desk,
                cursor,
                ([], {}, 0, carried_upto, None),
                carried,
                tally,
            )
            carried, carried_upto = [], 0
            return moved

        while pending is not None:
            rows, decoded = pending.result()
            pending = None
            if not rows:
                cursor = flush()
                return
            stopping = should_stop is not None and should_stop()
            if len(rows) == batch_size and not stopping:
                pending = ahead.submit(fetch, rows[-1][0])
            own = [row[1] for row in rows if row[6] is None]
            if own:
                with store.begin() as session:
                    lost = len(_known(session, own)) < len(own)
                if lost:
                    # This desk lost some of its own operations (a backup put back): fetch
                    # them whole.
                    cursor = flush()
                    if pending is not None:
                        wait([pending])
                    rows = client.pull_raw(event_id, cursor, batch_size)
                    decoded = _decode(rows)
                    own = []
                    pending = ahead.submit(fetch, rows[-1][0]) if pending else None
            ops, texts, skipped, upto, newer = decoded
            if not ops and not skipped and newer is None and pending is not None:
                carried += own
                carried_upto = max(carried_upto, upto)
                continue
            if carried_upto:
                decoded = (ops, texts, skipped, max(upto, carried_upto), newer)
                own = carried + own
                carried, carried_upto = [], 0
            cursor = _apply_pulled(store, hub_id, event_id, own_desk, cursor, decoded, own, tally)


def _apply_pulled(
    store: Store,
    hub_id: str,
    event_id: str,
    own_desk: str,
    cursor: int,
    decoded: _Decoded,
    own: list[str],
    tally: _Tally,
) -> int:
    """Apply one pulled batch and move the cursor in one transaction; the new cursor."""
    ops, texts, skipped, upto, newer = decoded
    with store.begin() as session, bulk_cache(session):
        applied, failed = apply_batch(session, ops, payload_texts=texts)
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


# One statement for a whole batch of ids (they travel as one JSON array), by the key.
_KNOWN = "SELECT op_id FROM operations WHERE op_id IN (SELECT value FROM json_each(?))"


def _known(session: Session, op_ids: list[str]) -> set[str]:
    if not op_ids:
        return set()
    result = session.connection().exec_driver_sql(_KNOWN, (json.dumps(op_ids),))
    return {row[0] for row in result}


# Pulled rows decoded: ops, their payloads' JSON text by op_id, malformed count, last seq
# taken, unknown kind or None.
_Decoded = tuple[list[Op], dict[str, str], int, int, str | None]


def _decode(rows: list[PulledRow]) -> _Decoded:
    """Pulled rows as operations: (ops, their payloads' JSON text by op_id, malformed count,
    last seq taken, unknown kind or None).

    Rows without a payload (this desk's own, already here) are passed over. Stops before the
    first operation of a kind this program does not know, so the cursor stays in front of it
    until the desk is updated; a malformed operation is passed over.
    """
    ops: list[Op] = []
    texts: dict[str, str] = {}
    skipped = 0
    upto = 0
    appliers = journal.APPLIERS
    loads = json.loads
    for seq, op_id, event_id, desk_id, hlc, kind, text, operator_id in rows:
        if kind not in appliers:
            return ops, texts, skipped, upto, kind
        if text is not None:
            # The hub gives every row the agreed columns as text; what is inside the payload
            # is checked on applying.
            try:
                payload = loads(text)
                if not isinstance(payload, dict):
                    raise JournalError("malformed operation: payload is not an object")
                journal.parse_hlc(hlc)
            except (JournalError, ValueError):
                skipped += 1
            else:
                ops.append(Op(op_id, event_id, desk_id, hlc, kind, payload, operator_id))
                texts[op_id] = text
        upto = seq
    return ops, texts, skipped, upto, None


def apply_batch(
    session: Session, ops: Iterable[Op], *, payload_texts: Mapping[str, str] | None = None
) -> tuple[int, int]:
    """Apply operations from elsewhere: (new ones applied, malformed ones passed over).

    The batch goes in bulk; if one operation in it cannot be applied, each is applied on its
    own so that one bad operation cannot stop a desk from ever receiving the rest.
    `payload_texts` may give payloads' JSON text by op_id, stored as it is instead of encoded
    again (it must decode to the very payload).
    """
    batch = list(ops)
    try:
        with session.begin_nested():
            return journal.apply_many(session, batch, payload_texts=payload_texts), 0
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


_MARK_PUSHED = (
    "UPDATE operations SET pushed = 1"
    " WHERE op_id IN (SELECT value FROM json_each(?)) AND local = 1 AND pushed = 0"
)


def _mark_pushed(session: Session, op_ids: list[str]) -> None:
    if not op_ids:
        return
    if len(op_ids) > 500:
        unsent = session.scalar(
            select(Operation.op_id).where(Operation.pushed.is_(False), Operation.local).limit(1)
        )
        if unsent is None:
            return  # the usual case after a pull: nothing here is waiting for confirmation
    # One statement, the ids as one JSON array, each found by the key: a tenth of the time of
    # an executemany through SQLAlchemy.
    session.connection().exec_driver_sql(_MARK_PUSHED, (json.dumps(op_ids),))


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
