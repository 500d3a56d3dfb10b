"""The operation journal: one path for every change, local or from another desk.

A change is recorded as an operation in the same transaction as the state it changes, and
operations from other desks are applied through the very same functions. The merge rules make
the resulting state independent of the order operations arrive in:

* ``*.put`` records merge field by field, last writer wins by hybrid logical clock;
* ``scan``, ``badge.print``, ``certificate.issue`` are facts, deduplicated by ``op_id``;
* ``badge.revoke`` raises a badge sequence (the maximum wins), ``attendee.cancel`` and
  ``attendee.restore`` write the ``status`` field like any put.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

import uuid6
from sqlalchemy import Column, Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from desktop.models import (
    Attendee,
    BadgePrint,
    Certificate,
    CertificateOverride,
    CertificateSettings,
    Desk,
    Event,
    EventSession,
    Operation,
    Operator,
    Picture,
    Scan,
    ScanVoid,
)
from desktop.prepared import Prepared


class JournalError(Exception):
    """An operation that cannot be applied (malformed payload, unknown kind)."""


@dataclass(frozen=True)
class DeskContext:
    """Who is making a change: the event, this desk, the signed-in operator."""

    event_id: str
    desk_id: str
    operator_id: str | None = None


@dataclass(frozen=True)
class Op:
    """An operation as it travels between desks."""

    op_id: str
    event_id: str
    desk_id: str
    hlc: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
    operator_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "op_id": self.op_id,
            "event_id": self.event_id,
            "desk_id": self.desk_id,
            "hlc": self.hlc,
            "kind": self.kind,
            "payload": self.payload,
            "operator_id": self.operator_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Op:
        try:
            payload = data["payload"]
            if isinstance(payload, str):
                payload = json.loads(payload)
            if not isinstance(payload, dict):
                raise TypeError("payload is not an object")
            op = cls(
                op_id=str(data["op_id"]),
                event_id=str(data["event_id"]),
                desk_id=str(data["desk_id"]),
                hlc=str(data["hlc"]),
                kind=str(data["kind"]),
                payload=payload,
                operator_id=(None if data.get("operator_id") is None else str(data["operator_id"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise JournalError(f"malformed operation: {exc}") from exc
        parse_hlc(op.hlc)
        return op


# --- hybrid logical clock -------------------------------------------------------------------


def format_hlc(wall_ms: int, counter: int, desk_id: str) -> str:
    """The textual clock: sorts as the clock orders, ties broken by desk id."""
    return f"{wall_ms:013d}-{counter:04d}-{desk_id}"


def parse_hlc(text: str) -> tuple[int, int, str]:
    """Split a clock into wall milliseconds, counter and desk id."""
    parts = text.split("-", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise JournalError(f"not a hybrid logical clock: {text!r}")
    return int(parts[0]), int(parts[1]), parts[2]


_LATEST_HLC = Prepared(select(func.max(Operation.__table__.c.hlc)))


def next_hlc(session: Session, desk_id: str, now_ms: int | None = None) -> str:
    """A clock value above every operation this desk has seen, local or remote."""
    wall = int(time.time() * 1000) if now_ms is None else now_ms
    latest = _LATEST_HLC.scalar(session)
    if latest is None:
        return format_hlc(wall, 0, desk_id)
    last_wall, last_counter, _ = parse_hlc(latest)
    if wall > last_wall:
        return format_hlc(wall, 0, desk_id)
    if last_counter >= 9999:
        # The counter has four digits; move the clock on rather than break the text order.
        return format_hlc(last_wall + 1, 0, desk_id)
    return format_hlc(last_wall, last_counter + 1, desk_id)


def new_op_id() -> str:
    """A UUIDv7: globally unique and roughly time-ordered."""
    return str(uuid6.uuid7())


def new_op_ids(count: int) -> list[str]:
    """``count`` UUIDv7s sharing this millisecond, for a batch of operations.

    Six times faster than ``uuid6.uuid7()`` in a loop (one urandom call, no UUID objects),
    and it does not push the clock part a millisecond ahead per id as that does. The ids are
    unique by their 74 random bits; order within the batch does not matter (the clock does).
    """
    wall = f"{time.time_ns() // 1_000_000:012x}"
    head = f"{wall[:8]}-{wall[8:]}-7"
    randoms = os.urandom(10 * count).hex()
    ids: list[str] = []
    for start in range(0, 20 * count, 20):
        r = randoms[start : start + 20]
        # RFC 9562 variant: the top two bits of the fourth group are 10 (8, 9, a or b).
        variant = "89ab"[int(r[3], 16) & 3]
        ids.append(f"{head}{r[:3]}-{variant}{r[4:7]}-{r[7:19]}")
    return ids


def utcnow() -> datetime:
    """Now, as the naive UTC the store keeps."""
    return datetime.now(UTC).replace(tzinfo=None)


# --- recording and applying -----------------------------------------------------------------

Applier = Callable[[Session, Op], None]
APPLIERS: dict[str, Applier] = {}


def applier(kind: str) -> Callable[[Applier], Applier]:
    """Register the function that applies one kind of operation."""

    def register(fn: Applier) -> Applier:
        APPLIERS[kind] = fn
        return fn

    return register


def record(session: Session, ctx: DeskContext, kind: str, payload: Mapping[str, Any]) -> Op:
    """Make a local change: write the operation and apply it in the caller's transaction."""
    op = Op(
        op_id=new_op_id(),
        event_id=ctx.event_id,
        desk_id=ctx.desk_id,
        hlc=next_hlc(session, ctx.desk_id),
        kind=kind,
        payload=_jsonable(dict(payload)),
        operator_id=ctx.operator_id,
    )
    apply(session, op, local=True)
    return op


def apply(session: Session, op: Op, *, local: bool = False) -> bool:
    """Apply one operation once; returns False for one already applied.

    A local operation has an op_id made a moment ago by :func:`record`: it cannot be in the
    journal yet, so the lookup is left out (the primary key would still refuse a repeat).
    """
    if not local and _OP_EXISTS.first(session, {"op_id": op.op_id}) is not None:
        return False
    fn = APPLIERS.get(op.kind)
    if fn is None:
        raise JournalError(f"unknown operation kind {op.kind!r}")
    _INSERT_OP.run(session, _operation_row(op, local, utcnow()))
    fn(session, op)
    return True


def _operation_row(op: Op, local: bool, applied_at: datetime) -> dict[str, Any]:
    """The journal's row of one operation, as the operations table takes it."""
    return {
        "op_id": op.op_id,
        "event_id": op.event_id,
        "desk_id": op.desk_id,
        "hlc": op.hlc,
        "kind": op.kind,
        "payload": op.payload,
        "operator_id": op.operator_id,
        "local": local,
        "pushed": False,
        "applied_at": applied_at,
    }


# Built once and run on the driver: one operation at a time (a scan) is a few index seeks,
# which should not pay SQLAlchemy's statement handling several times over.
_OP_EXISTS = Prepared(
    select(Operation.__table__.c.op_id).where(Operation.__table__.c.op_id == bindparam("op_id"))
)
_OPERATION_COLUMNS = (
    "op_id", "event_id", "desk_id", "hlc", "kind", "payload", "operator_id", "local", "pushed",
    "applied_at",
)  # fmt: skip
_INSERT_OP = Prepared(insert(Operation.__table__), _OPERATION_COLUMNS)  # type: ignore[arg-type]


def apply_many(
    session: Session,
    ops: Iterable[Op],
    *,
    local: bool = False,
    payload_texts: Mapping[str, str] | None = None,
) -> int:
    """Apply a batch of operations; returns how many were new.

    Same result as calling :func:`apply` for each, but puts that create new records are
    inserted in bulk, which is what makes importing 50,000 rows or pulling 100,000
    operations take seconds rather than minutes. `payload_texts` may give payloads as the
    JSON text they came in (by op_id; it must decode to the very payload): stored as it is.
    """
    batch = list(ops)
    if not batch:
        return 0
    known = _known_op_ids(session, [op.op_id for op in batch])
    fresh: list[Op] = []
    for op in batch:
        if op.op_id in known:
            continue
        if op.kind not in APPLIERS:
            raise JournalError(f"unknown operation kind {op.kind!r}")
        known.add(op.op_id)
        fresh.append(op)
    _apply_fresh(session, fresh, local, payload_texts)
    return len(fresh)


# One statement for a whole batch of ids (the ids travel as one JSON array), by the key.
_KNOWN_OP_IDS = "SELECT op_id FROM operations WHERE op_id IN (SELECT value FROM json_each(?))"


def _known_op_ids(session: Session, op_ids: list[str]) -> set[str]:
    """Those of `op_ids` the journal holds."""
    if not op_ids:
        return set()
    result = session.connection().exec_driver_sql(_KNOWN_OP_IDS, (json.dumps(op_ids),))
    return {row[0] for row in result}


def _apply_fresh(
    session: Session,
    fresh: list[Op],
    local: bool,
    payload_texts: Mapping[str, str] | None = None,
) -> None:
    """Insert and apply operations known not to be in the journal yet."""
    if fresh:
        dialect = session.connection().dialect
        _write_fresh(session, _prepare_fresh(dialect, fresh, local, utcnow(), payload_texts))


@dataclass(frozen=True)
class _Insert:
    """One executemany: the statement and its rows, values already in their stored form."""

    sql: str
    params: list[Any]


@dataclass(frozen=True)
class _Puts:
    """Puts of one kind in a row of the batch: those creating a record, inserted in bulk (if
    the record is still missing when they are written), the others merged by the applier."""

    table: Table
    ops: list[Op]
    record_ids: list[str]
    single: frozenset[str]  # ids put once in the group: inserted unless the record exists
    rows: _Insert | None  # the new rows of `single`, in group order
    row_ids: list[str]  # the record id of each of those rows


@dataclass(frozen=True)
class PreparedOps:
    """New operations turned into the rows that store them, built without the database.

    :func:`_prepare_fresh` builds it (pure Python: any thread may, while the database is busy
    with something else), :func:`_write_fresh` writes it in the session's transaction.
    """

    ops: list[Op]
    journal: _Insert
    steps: list[_Puts | Op]  # in batch order: bulk puts, or one operation for its applier


def _prepare_fresh(
    dialect: Any,
    fresh: list[Op],
    local: bool,
    now: datetime,
    payload_texts: Mapping[str, str] | None = None,
) -> PreparedOps:
    ops_table: Table = Operation.__table__  # type: ignore[assignment]
    rows = [_operation_row(op, local, now) for op in fresh]
    ready: tuple[str, ...] = ()
    encode = ops_table.c.payload.type.bind_processor(dialect)
    if payload_texts and encode is not None:
        # Every payload as text: the one it came in, else encoded as the column would.
        for op, row in zip(fresh, rows, strict=True):
            stored = payload_texts.get(op.op_id)
            row["payload"] = encode(op.payload) if stored is None else stored
        ready = ("payload",)
    journal = _insert_params(dialect, ops_table, rows, ready)
    assert journal is not None
    steps: list[_Puts | Op] = []
    pending: list[Op] = []
    for op in fresh:
        if op.kind in _BULK_PUT_TABLES:
            pending.append(op)
            continue
        steps += _prepare_puts(dialect, pending)
        pending = []
        steps.append(op)
    steps += _prepare_puts(dialect, pending)
    return PreparedOps(fresh, journal, steps)


def _prepare_puts(dialect: Any, ops: list[Op]) -> list[_Puts]:
    by_kind: dict[str, list[Op]] = {}
    for op in ops:
        by_kind.setdefault(op.kind, []).append(op)
    prepared: list[_Puts] = []
    for kind, group in by_kind.items():
        table = _BULK_PUT_TABLES[kind]
        record_ids = [_record_id(op) for op in group]
        # A record touched twice in one batch goes through the merge path, in clock order.
        single = frozenset(rid for rid, n in Counter(record_ids).items() if n == 1)
        filler = _column_defaults(table)
        row_ids = [rid for rid in record_ids if rid in single]
        rows = [
            _new_row(table, op, rid, filler)
            for op, rid in zip(group, record_ids, strict=True)
            if rid in single
        ]
        inserts = _insert_params(dialect, table, rows, ready={"field_hlc"})
        prepared.append(_Puts(table, group, record_ids, single, inserts, row_ids))
    return prepared


def _write_fresh(session: Session, prepared: PreparedOps) -> None:
    _run_insert(session, prepared.journal)
    for step in prepared.steps:
        if isinstance(step, Op):
            APPLIERS[step.kind](session, step)
        else:
            _write_puts(session, step)
    _scrub_erased(session, prepared.ops)  # records inserted in bulk skip the appliers' check


def _write_puts(session: Session, puts: _Puts) -> None:
    """Insert the records that do not exist yet in one statement; merge the rest."""
    # One statement for the group, the ids as one JSON array, each found by the key.
    found = session.connection().exec_driver_sql(
        f'SELECT id FROM "{puts.table.name}" WHERE id IN (SELECT value FROM json_each(?))',
        (json.dumps(list(dict.fromkeys(puts.record_ids))),),
    )
    existing = {row[0] for row in found}
    inserts, single = puts.rows, puts.single
    if existing and inserts is not None:
        # Records made since the rows were built (another group of the batch): merged instead.
        single = single - existing
        kept = [row for rid, row in zip(puts.row_ids, inserts.params, strict=True) if rid in single]
        inserts = _Insert(inserts.sql, kept) if kept else None
    if inserts is not None:
        _run_insert(session, inserts)
    merged = (op for op, rid in zip(puts.ops, puts.record_ids, strict=True) if rid not in single)
    for op in sorted(merged, key=_hlc_key):
        APPLIERS[op.kind](session, op)


def _run_insert(session: Session, insert_: _Insert) -> None:
    session.connection().exec_driver_sql(insert_.sql, insert_.params)


def _insert_params(
    dialect: Any, table: Table, rows: list[dict[str, Any]], ready: Container[str] = ()
) -> _Insert | None:
    """The executemany that inserts `rows`, values converted by the columns' own types.

    Same stored values as an ORM insert, without SQLAlchemy's per-row statement handling,
    which dominated the time of a 50,000-row import. Columns named in `ready` already hold
    the stored form (JSON text). The row dicts are the caller's throw-away copies: values
    are converted in place. None for no rows.
    """
    if not rows:
        return None
    names = list(rows[0])
    for name in names:
        processor = None if name in ready else table.c[name].type.bind_processor(dialect)
        if processor is None:
            continue
        memo: dict[Any, Any] = {}
        for row in rows:
            value = row[name]
            if value is None:
                continue
            if isinstance(value, dict | list):
                row[name] = processor(value)
                continue
            # Repeated scalars (a batch's timestamp, flags) are converted once.
            converted = memo.get(value)
            if converted is None:
                converted = memo[value] = processor(value)
            row[name] = converted
    quoted = ", ".join(f'"{n}"' for n in names)
    marks = ", ".join("?" for _ in names)
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})'
    # itemgetter builds each row's tuple in C; a comprehension over names cost ~0.2 s per
    # 50,000 rows. (With one name it returns the bare value, hence the wrapping.)
    pick = itemgetter(*names)
    params = [pick(row) for row in rows] if len(names) > 1 else [(row[names[0]],) for row in rows]
    return _Insert(sql, params)


def _column_defaults(table: Table) -> dict[str, Any]:
    """Every column's default, so each row of a bulk insert names the same columns."""
    values: dict[str, Any] = {}
    for column in table.columns:
        default = column.default
        arg = getattr(default, "arg", None)
        if default is None:
            values[column.name] = None
        elif getattr(default, "is_callable", False) and callable(arg):
            values[column.name] = arg(None)
        else:
            values[column.name] = arg
    return values


def _hlc_key(op: Op) -> str:
    return op.hlc


def _new_row(table: Table, op: Op, record_id: str, filler: dict[str, Any]) -> dict[str, Any]:
    """The row a put creates: every column, its defaults overwritten by the payload."""
    payload = op.payload
    plan = _row_plan(table, tuple(payload))
    row = filler.copy()
    if plan.names:
        values = plan.pick(payload)
        if len(plan.names) == 1:
            values = (values,)
        if plan.all_text and set(map(type, values)) <= _STR_OR_NONE:
            # Text for text columns, the usual case, needs no conversion.
            row.update(zip(plan.names, values, strict=True))
        else:
            for name, coerce, value in zip(plan.names, plan.coercers, values, strict=True):
                if value is not None and not (coerce is str and type(value) is str):
                    value = coerce(value)
                row[name] = value
    row["id"] = record_id
    if "event_id" in row:
        row["event_id"] = op.event_id
    row["field_hlc"] = _clocks_json_for(plan.names, op.hlc)
    return row


_STR_OR_NONE = frozenset({str, type(None)})


@dataclass(frozen=True)
class _RowPlan:
    """For one table and one set of payload keys: the settable ones and their coercers."""

    names: tuple[str, ...]
    coercers: tuple[Callable[[Any], Any], ...]
    pick: Callable[[Mapping[str, Any]], Any]
    all_text: bool


_row_plans: dict[tuple[str, tuple[str, ...]], _RowPlan] = {}


def _row_plan(table: Table, keys: tuple[str, ...]) -> _RowPlan:
    plan = _row_plans.get((table.name, keys))
    if plan is None:
        if len(_row_plans) > 256:  # remote puts may name any mix of fields; keep it small
            _row_plans.clear()
        coercers = _settable_columns(table)
        names = tuple(k for k in keys if k in coercers)
        fns = tuple(coercers[k] for k in names)
        pick: Callable[[Mapping[str, Any]], Any] = itemgetter(*names) if names else _no_values
        plan = _RowPlan(names, fns, pick, all(fn is str for fn in fns))
        _row_plans[(table.name, keys)] = plan
    return plan


def _no_values(payload: Mapping[str, Any]) -> tuple[()]:
    return ()


def _clocks_json_for(names: tuple[str, ...], hlc: str) -> str:
    """`_clocks_json` of the clocks naming `names`, all at `hlc`, without building the dict."""
    if not names or not hlc.isascii() or not hlc.isprintable() or '"' in hlc or "\\" in hlc:
        return _clocks_json(dict.fromkeys(names, hlc), hlc)
    pieces = _clock_pieces.get(names)
    if pieces is None:
        return _clocks_json(dict.fromkeys(names, hlc), hlc)
    quoted = f'"{hlc}"'
    return quoted.join(pieces) + quoted + "}"


def _clocks_json(clocks: dict[str, str], hlc: str) -> str:
    """``json.dumps(clocks)`` for clocks that all hold `hlc`, written directly (a fresh row).

    Every field of a new record has the same clock and an import's rows name the same
    fields, so the text is the clock joined between cached pieces: seven times faster than
    encoding 50,000 dicts. Column names and a desk's clock are plain ASCII; any other clock
    goes through json.dumps, so the stored text is the same either way.
    """
    if not clocks or not hlc.isascii() or not hlc.isprintable() or '"' in hlc or "\\" in hlc:
        return json.dumps(clocks)
    names = tuple(clocks)
    pieces = _clock_pieces.get(names)
    if pieces is None:
        if len(_clock_pieces) > 256:  # remote puts may name any mix of fields; keep it small
            _clock_pieces.clear()
        pieces = [f'{{"{names[0]}": ', *(f', "{name}": ' for name in names[1:])]
        _clock_pieces[names] = pieces
    quoted = f'"{hlc}"'
    return quoted.join(pieces) + quoted + "}"


_clock_pieces: dict[tuple[str, ...], list[str]] = {}


def record_many(
    session: Session, ctx: DeskContext, items: Iterable[tuple[str, Mapping[str, Any]]]
) -> list[Op]:
    """Make many local changes in one go (an import): clocks rise one by one, applied in bulk."""
    batches = LocalBatches(session, ctx)
    return batches.write(session, batches.prepare(items))


class LocalBatches:
    """Local changes made batch after batch in one transaction (an import).

    Each batch is prepared (operations, clocks and rows built in Python, no database), then
    written. Preparing needs no session, so another thread may prepare the next batch while
    the session writes or indexes this one. The clocks rise one by one across the batches,
    from above every operation the desk has seen; batches are prepared one at a time and
    written in the order they were prepared.
    """

    def __init__(self, session: Session, ctx: DeskContext) -> None:
        self._ctx = ctx
        self._dialect = session.connection().dialect
        self._wall, self._counter, _ = parse_hlc(next_hlc(session, ctx.desk_id))

    def prepare(
        self, items: Iterable[tuple[str, Mapping[str, Any]]], *, plain: bool = False
    ) -> PreparedOps:
        """The operations of `items`, clocks given, rows built. With `plain` the payloads are
        dicts of JSON values under text keys, made for this and not used again: kept as they
        are (copying 50,000 of them cost 0.1 s of an import)."""
        ctx = self._ctx
        batch = list(items)
        ops: list[Op] = []
        wall, counter = self._wall, self._counter
        for (kind, payload), op_id in zip(batch, new_op_ids(len(batch)), strict=True):
            if kind not in APPLIERS:
                raise JournalError(f"unknown operation kind {kind!r}")
            ops.append(
                Op(
                    op_id=op_id,
                    event_id=ctx.event_id,
                    desk_id=ctx.desk_id,
                    hlc=format_hlc(wall, counter, ctx.desk_id),
                    kind=kind,
                    payload=_payload(payload, plain),
                    operator_id=ctx.operator_id,
                )
            )
            counter += 1
            if counter > 9999:
                wall, counter = wall + 1, 0
        self._wall, self._counter = wall, counter
        # Ids minted just now cannot be in the journal: no look-up of known ids.
        return _prepare_fresh(self._dialect, ops, True, utcnow())

    def write(self, session: Session, prepared: PreparedOps) -> list[Op]:
        """Write a prepared batch in the session's transaction; its operations."""
        if prepared.ops:
            _write_fresh(session, prepared)
        return prepared.ops


_PLAIN = (str, int, float, bool, type(None))


def _payload(payload: Mapping[str, Any], plain: bool) -> dict[str, Any]:
    if plain and type(payload) is dict:
        return payload
    # _jsonable copies a dict; only another kind of mapping needs dict() first.
    copied: dict[str, Any] = _jsonable(payload if type(payload) is dict else dict(payload))
    return copied


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict) and all(type(v) in _PLAIN for v in value.values()):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# --- records: field-level last writer wins --------------------------------------------------


def _parse_datetime(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _parse_date(value: Any) -> Any:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _parse_int(value: Any) -> Any:
    return value if isinstance(value, bool) else int(value)


def _identity(value: Any) -> Any:
    return value


_COERCERS: dict[type, Callable[[Any], Any]] = {
    datetime: _parse_datetime,
    date: _parse_date,
    int: _parse_int,
    bool: bool,
    str: str,
}
_coercer_cache: dict[tuple[str, str], Callable[[Any], Any]] = {}


def _coerce(column: Column[Any], value: Any) -> Any:
    """A JSON value as the column's Python type (dates arrive as ISO text)."""
    if value is None:
        return None
    return _coercer(column)(value)


def _coercer(column: Column[Any]) -> Callable[[Any], Any]:
    key = (column.table.name, column.name)
    fn = _coercer_cache.get(key)
    if fn is None:
        try:
            fn = _COERCERS.get(column.type.python_type, _identity)
        except NotImplementedError:
            fn = _identity
        _coercer_cache[key] = fn
    return fn


_PROTECTED = {"id", "field_hlc", "event_id", "badge_seq"}
_settable_cache: dict[str, dict[str, Callable[[Any], Any]]] = {}


def _settable_columns(table: Table) -> dict[str, Callable[[Any], Any]]:
    """The columns a put may set, each with its coercer (looked up once per table)."""
    found = _settable_cache.get(table.name)
    if found is None:
        found = {}
        for column in table.columns:
            if column.name not in _PROTECTED:
                found[column.name] = _coercer(column)
        _settable_cache[table.name] = found
    return found


def merge_record(
    session: Session,
    table: Table,
    record_id: str,
    fields: Mapping[str, Any],
    hlc: str,
    defaults: Mapping[str, Any],
) -> None:
    """Merge ``fields`` into the row ``record_id``: a field changes only for a newer clock."""
    columns = table.c
    row = session.execute(select(columns.field_hlc).where(columns.id == record_id)).first()
    clocks: dict[str, str] = dict(row[0] or {}) if row is not None else {}
    changes: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _PROTECTED or name not in columns:
            continue
        if clocks.get(name, "") >= hlc:
            continue
        changes[name] = _coerce(columns[name], value)
        clocks[name] = hlc
    if row is None:
        values = {k: v for k, v in defaults.items() if k in columns}
        values.update(changes)
        values["id"] = record_id
        values["field_hlc"] = clocks
        session.execute(insert(table).values(**values))
    elif changes:
        session.execute(
            update(table).where(columns.id == record_id).values(**changes, field_hlc=clocks)
        )


def _record_id(op: Op) -> str:
    record_id = op.payload.get("id")
    if not isinstance(record_id, str) or not record_id:
        raise JournalError(f"{op.kind} operation {op.op_id} has no record id")
    return record_id


def _put(table: Table, with_event: bool = True) -> Applier:
    def apply_put(session: Session, op: Op) -> None:
        defaults: dict[str, Any] = {"event_id": op.event_id} if with_event else {}
        merge_record(session, table, _record_id(op), op.payload, op.hlc, defaults)

    return apply_put


APPLIERS["event.put"] = _put(Event.__table__, with_event=False)  # type: ignore[arg-type]
APPLIERS["session.put"] = _put(EventSession.__table__)  # type: ignore[arg-type]
APPLIERS["attendee.put"] = _put(Attendee.__table__)  # type: ignore[arg-type]
APPLIERS["desk.put"] = _put(Desk.__table__)  # type: ignore[arg-type]
APPLIERS["operator.put"] = _put(Operator.__table__)  # type: ignore[arg-type]
APPLIERS["certificate.settings.put"] = _put(
    CertificateSettings.__table__  # type: ignore[arg-type]
)

_BULK_PUT_TABLES: dict[str, Table] = {
    "attendee.put": Attendee.__table__,  # type: ignore[dict-item]
    "session.put": EventSession.__table__,  # type: ignore[dict-item]
}


@applier("attendee.cancel")
def _apply_cancel(session: Session, op: Op) -> None:
    merge_record(
        session,
        Attendee.__table__,  # type: ignore[arg-type]
        _record_id(op),
        {"status": "cancelled"},
        op.hlc,
        {"event_id": op.event_id},
    )


@applier("attendee.restore")
def _apply_restore(session: Session, op: Op) -> None:
    merge_record(
        session,
        Attendee.__table__,  # type: ignore[arg-type]
        _record_id(op),
        {"status": "registered"},
        op.hlc,
        {"event_id": op.event_id},
    )


@applier("badge.revoke")
def _apply_badge_revoke(session: Session, op: Op) -> None:
    attendee_id = _record_id(op)
    seq = int(op.payload.get("badge_seq", 0))
    attendee = session.get(Attendee, attendee_id)
    if attendee is None:
        # The attendee's put has not arrived yet: create the row so the maximum still holds.
        session.execute(
            insert(Attendee).values(
                id=attendee_id, event_id=op.event_id, badge_seq=seq, field_hlc={}
            )
        )
    elif seq > attendee.badge_seq:
        attendee.badge_seq = seq


# --- facts: append-only, deduplicated by op_id (apply() already refuses a repeat) -----------


def _at(op: Op, key: str = "at") -> datetime:
    value = op.payload.get(key)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed
    wall, _, _ = parse_hlc(op.hlc)
    return datetime.fromtimestamp(wall / 1000, UTC).replace(tzinfo=None)


@applier("scan")
def _apply_scan(session: Session, op: Op) -> None:
    p = op.payload
    _INSERT_SCAN.run(
        session,
        {
            "op_id": op.op_id,
            "event_id": op.event_id,
            "attendee_id": p.get("attendee_id"),
            "session_id": p.get("session_id"),
            "desk_id": op.desk_id,
            "operator_id": op.operator_id,
            "at": _at(op),
            "direction": str(p.get("direction", "entry")),
            "decision": str(p.get("decision", "invalid")),
            "forced": bool(p.get("forced", False)),
            "reason": str(p.get("reason", ""))[:300],
            "raw": str(p.get("raw", ""))[:300],
            "hlc": op.hlc,
        },
    )


_INSERT_SCAN = Prepared(
    insert(Scan.__table__),  # type: ignore[arg-type]
    (
        "op_id", "event_id", "attendee_id", "session_id", "desk_id", "operator_id", "at",
        "direction", "decision", "forced", "reason", "raw", "hlc",
    ),
)  # fmt: skip


@applier("scan.void")
def _apply_scan_void(session: Session, op: Op) -> None:
    # A separate fact, not a flag on the scan: it holds even when it arrives first.
    p = op.payload
    session.execute(
        insert(ScanVoid).values(
            op_id=op.op_id,
            event_id=op.event_id,
            scan_op_id=str(p.get("scan_op_id", "")),
            desk_id=op.desk_id,
            operator_id=op.operator_id,
            at=_at(op),
            reason=str(p.get("reason", ""))[:300],
            hlc=op.hlc,
        )
    )


@applier("badge.print")
def _apply_badge_print(session: Session, op: Op) -> None:
    p = op.payload
    session.execute(
        insert(BadgePrint).values(
            op_id=op.op_id,
            event_id=op.event_id,
            attendee_id=str(p.get("attendee_id", "")),
            desk_id=op.desk_id,
            operator_id=op.operator_id,
            at=_at(op),
            layout=str(p.get("layout", "")),
            badge_seq=int(p.get("badge_seq", 0)),
            reason=str(p.get("reason", ""))[:300],
            hlc=op.hlc,
        )
    )


# Built once, as Core statements: issuing a thousand certificates applies a thousand of these.
_REVOKES_OF = (
    select(func.count())
    .select_from(Operation.__table__)
    .where(Operation.__table__.c.kind == "certificate.revoke")
    .where(func.json_extract(Operation.__table__.c.payload, "$.serial") == bindparam("serial"))
)
_INSERT_CERTIFICATE = insert(Certificate.__table__)  # type: ignore[arg-type]


@applier("certificate.issue")
def _apply_certificate_issue(session: Session, op: Op) -> None:
    p = op.payload
    serial = str(p.get("serial", ""))
    revoked = (session.scalar(_REVOKES_OF, {"serial": serial}) or 0) > 0
    session.execute(
        _INSERT_CERTIFICATE,
        {
            "op_id": op.op_id,
            "event_id": op.event_id,
            "attendee_id": str(p.get("attendee_id", "")),
            "serial": serial,
            "version": int(p.get("version", 1)),
            "kind": str(p.get("kind", "attendance")),
            "issued_at": _at(op, "issued_at"),
            "desk_id": op.desk_id,
            "operator_id": op.operator_id,
            "name_printed": str(p.get("name_printed", ""))[:300],
            "revoked": revoked,
            "hlc": op.hlc,
        },
    )


# Largest picture a certificate may draw (its bytes; base64 in the operation takes a third more).
MAX_PICTURE_BYTES = 20 * 1024 * 1024
_INSERT_PICTURE = insert(Picture.__table__).prefix_with("OR IGNORE")  # type: ignore[arg-type]


@applier("picture.put")
def _apply_picture(session: Session, op: Op) -> None:
    """Keep a picture; its id must be the SHA-256 of its bytes (the same picture is one row)."""
    p = op.payload
    picture_id, content = str(p.get("id", "")), str(p.get("content", ""))
    try:
        data = base64.b64decode(content, validate=True)
    except binascii.Error as exc:
        raise JournalError(f"picture {picture_id[:12]}… is not base64 ({exc})") from exc
    if len(data) > MAX_PICTURE_BYTES:
        raise JournalError(f"picture {picture_id[:12]}… is larger than {MAX_PICTURE_BYTES} bytes")
    if hashlib.sha256(data).hexdigest() != picture_id:
        raise JournalError(f"picture {picture_id[:12]}… does not match its bytes")
    media_type = str(p.get("media_type", ""))[:40]
    session.execute(
        _INSERT_PICTURE,
        {"id": picture_id, "event_id": op.event_id, "media_type": media_type, "content": content},
    )


@applier("certificate.revoke")
def _apply_certificate_revoke(session: Session, op: Op) -> None:
    serial = str(op.payload.get("serial", ""))
    session.execute(update(Certificate).where(Certificate.serial == serial).values(revoked=True))


@applier("certificate.override")
def _apply_certificate_override(session: Session, op: Op) -> None:
    # A fact like a scan: the latest override by clock is the one that counts.
    p = op.payload
    eligible = p.get("eligible")
    session.execute(
        insert(CertificateOverride).values(
            op_id=op.op_id,
            event_id=op.event_id,
            attendee_id=str(p.get("attendee_id", "")),
            eligible=None if eligible is None else bool(eligible),
            reason=str(p.get("reason", ""))[:300],
            desk_id=op.desk_id,
            operator_id=op.operator_id,
            at=_at(op),
            hlc=op.hlc,
        )
    )


# --- personal data erasure (the Data Privacy Act): absorbing, whatever the order ------------

# Fields of an attendee that identify the person. Gender, country, category, status and the
# short code stay, so reports keep their anonymous counts.
PERSONAL_FIELDS = (
    "given_name",
    "family_name",
    "badge_name",
    "native_name",
    "honorific",
    "organisation",
    "position",
    "email",
    "phone",
    "notes",
    "external_id",
)
# The clock an erased field carries: above any real clock, so no put, older or newer, wins.
ERASED_CLOCK = "9999999999999-9999-erased"
# Kinds that hold personal data or create an attendee's row: the payload key naming the
# attendee, and the payload fields to remove once that attendee is erased.
_PERSONAL_IN_OPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "attendee.put": ("id", PERSONAL_FIELDS),
    "attendee.cancel": ("id", ("reason",)),
    "attendee.restore": ("id", ("reason",)),
    "certificate.issue": ("attendee_id", ("name_printed",)),
    # A supervisor's free text about the person ("her flight was late", a doctor's note),
    # on a certificate decision or on an admission despite a refusal, ...
    "certificate.override": ("attendee_id", ("reason",)),
    # and the text typed into the scan field when a person was chosen by name.
    "scan": ("attendee_id", ("reason", "raw")),
    # No personal data in it, but it may create the attendee's row: that row must be erased.
    "badge.revoke": ("id", ()),
}


# Text about a person in the facts that name them: blanked when the person is erased.
_ERASED_TEXT = {
    "certificates": "name_printed = ''",
    "certificate_overrides": "reason = ''",
    "scans": "reason = '', raw = ''",
}


def _erase_rows(session: Session, event_id: str, ids: list[str] | None) -> None:
    """Blank the personal fields (clocks pinned at ERASED_CLOCK), printed names, reasons."""
    blanks = ", ".join(f"{name} = ''" for name in PERSONAL_FIELDS)
    pins = ", ".join(f"'$.{name}', :erased" for name in PERSONAL_FIELDS)
    only = "" if ids is None else " AND id IN :ids"
    params: dict[str, Any] = {"event_id": event_id, "erased": ERASED_CLOCK}
    if ids is not None:
        params["ids"] = ids
    attendees = text(
        f"UPDATE attendees SET {blanks}, field_hlc = json_set(coalesce(field_hlc, '{{}}'), "
        f"{pins}) WHERE event_id = :event_id{only}"
    )
    person = "" if ids is None else " AND attendee_id IN :ids"
    facts = [
        text(f"UPDATE {table} SET {blank} WHERE event_id = :event_id{person}")
        for table, blank in _ERASED_TEXT.items()
    ]
    if ids is not None:
        attendees = attendees.bindparams(bindparam("ids", expanding=True))
        facts = [fact.bindparams(bindparam("ids", expanding=True)) for fact in facts]
    session.execute(attendees, params)
    for fact in facts:
        session.execute(fact, {k: v for k, v in params.items() if k != "erased"})


def _erase_ops(
    session: Session, event_id: str, ids: list[str] | None, op_ids: list[str] | None = None
) -> None:
    """Remove personal data from the journal's own copies of the operations."""
    for kind, (key, fields) in _PERSONAL_IN_OPS.items():
        if not fields:
            continue
        paths = ", ".join(f"'$.{name}'" for name in fields)
        present = " OR ".join(f"json_type(payload, '$.{name}') IS NOT NULL" for name in fields)
        sql = (
            f"UPDATE operations SET payload = json_remove(payload, {paths}) "
            f"WHERE event_id = :event_id AND kind = :kind AND ({present})"
        )
        params: dict[str, Any] = {"event_id": event_id, "kind": kind}
        statement = text(sql)
        if ids is not None:
            statement = text(sql + f" AND json_extract(payload, '$.{key}') IN :ids")
            statement = statement.bindparams(bindparam("ids", expanding=True))
            params["ids"] = ids
        if op_ids is not None:
            statement = text(sql + " AND op_id IN :op_ids")
            statement = statement.bindparams(bindparam("op_ids", expanding=True))
            params["op_ids"] = op_ids
        session.execute(statement, params)


@applier("attendee.erase")
def _apply_attendee_erase(session: Session, op: Op) -> None:
    if op.payload.get("scope") == "event":
        ids: list[str] | None = None
    else:
        ids = [_record_id(op)]
    _erase_rows(session, op.event_id, ids)
    _erase_ops(session, op.event_id, ids)
    _erase_void_reasons(session, op.event_id, people=ids)


# Asked after every scan is applied (scans may carry a supervisor's reason): on the driver.
_ERASURES = Prepared(
    select(Operation.__table__.c.event_id, Operation.__table__.c.payload).where(
        Operation.__table__.c.kind == "attendee.erase"
    )
)


def _scrub_erased(session: Session, ops: list[Op]) -> None:
    """Erase what just arrived about someone already erased (the erase came first)."""
    erasures = _ERASURES.all(session)
    if not erasures:
        return
    everyone = {e for e, p in erasures if p.get("scope") == "event"}
    erased = {(e, str(p.get("id"))) for e, p in erasures if p.get("scope") != "event"}
    hit: dict[str, tuple[list[str], list[str]]] = {}
    for op in ops:
        where = _PERSONAL_IN_OPS.get(op.kind)
        if where is None:
            continue
        person = str(op.payload.get(where[0], ""))
        if op.event_id in everyone or (op.event_id, person) in erased:
            people, op_ids = hit.setdefault(op.event_id, ([], []))
            people.append(person)
            op_ids.append(op.op_id)
    for event_id, (people, op_ids) in hit.items():
        _erase_rows(session, event_id, people)
        _erase_ops(session, event_id, None, op_ids)
        # A scan names its person by id, or no one (typed text that matched nobody): its own
        # row is blanked by op id, as the erasure blanked the scans it found.
        session.execute(_BLANK_SCANS, {"op_ids": op_ids})
        # A scan undone before it arrived here: the reason given for undoing it goes too.
        _erase_void_reasons(session, event_id, scans=op_ids)


def _erase_void_reasons(
    session: Session,
    event_id: str,
    *,
    people: list[str] | None = None,
    scans: list[str] | None = None,
) -> None:
    """Blank the reasons given for undoing scans of erased people, here and in the journal.

    The reason is free text a supervisor typed ("scanned Ana Lim instead"); the undo names
    the scan, the scan names the person. By ``people`` (their scans here), by ``scans`` (op
    ids), or, with neither, every undo of the event.
    """
    params: dict[str, Any] = {"event_id": event_id}
    if people is not None:
        which = " AND scan_op_id IN (SELECT op_id FROM scans WHERE event_id = :event_id"
        which += " AND attendee_id IN :people)"
        journal_which = which.replace("scan_op_id IN", "json_extract(payload, '$.scan_op_id') IN")
        params["people"] = people
    elif scans is not None:
        which = " AND scan_op_id IN :scans"
        journal_which = " AND json_extract(payload, '$.scan_op_id') IN :scans"
        params["scans"] = scans
    else:
        which = journal_which = ""
    voids = text(f"UPDATE scan_voids SET reason = '' WHERE event_id = :event_id{which}")
    copies = text(
        "UPDATE operations SET payload = json_remove(payload, '$.reason') "
        "WHERE event_id = :event_id AND kind = 'scan.void' "
        f"AND json_type(payload, '$.reason') IS NOT NULL{journal_which}"
    )
    for name in ("people", "scans"):
        if name in params:
            voids = voids.bindparams(bindparam(name, expanding=True))
            copies = copies.bindparams(bindparam(name, expanding=True))
    session.execute(voids, params)
    session.execute(copies, params)


# The person a scan names, and whether an undo of it is here (both by the key).
_SCAN_PERSON = Prepared(
    select(Scan.__table__.c.event_id, Scan.__table__.c.attendee_id).where(
        Scan.__table__.c.op_id == bindparam("op_id")
    )
)
_VOID_OF = Prepared(
    select(ScanVoid.__table__.c.op_id).where(ScanVoid.__table__.c.scan_op_id == bindparam("op_id"))
)


def _scrub_void(session: Session, op: Op) -> None:
    """An undo with a reason, of a scan of someone already erased: its reason goes."""
    if not op.payload.get("reason"):
        return
    erasures = _ERASURES.all(session)
    if not erasures:
        return
    scan_op_id = str(op.payload.get("scan_op_id", ""))
    scan = _SCAN_PERSON.first(session, {"op_id": scan_op_id})
    if scan is None:
        return  # the scan is not here yet: blanked when it arrives (see _scrub_erased)
    event_id, person = scan
    for erased_event, payload in erasures:
        if erased_event == event_id and (
            payload.get("scope") == "event" or str(payload.get("id")) == person
        ):
            _erase_void_reasons(session, event_id, scans=[scan_op_id])
            return


_BLANK_SCANS = text(f"UPDATE scans SET {_ERASED_TEXT['scans']} WHERE op_id IN :op_ids").bindparams(
    bindparam("op_ids", expanding=True)
)
# Facts whose only personal data is their typed text: one without it has nothing to scrub.
_TEXT_ONLY = frozenset({"scan", "certificate.override"})


def _erasing(fn: Applier, kind: str) -> Applier:
    texts = _PERSONAL_IN_OPS[kind][1] if kind in _TEXT_ONLY else ()

    def apply_then_scrub(session: Session, op: Op) -> None:
        fn(session, op)
        if (
            not texts
            or any(op.payload.get(name) for name in texts)
            # A scan whose undo came first (one seek): the undo's reason may need blanking.
            or (kind == "scan" and _VOID_OF.first(session, {"op_id": op.op_id}) is not None)
        ):
            _scrub_erased(session, [op])

    return apply_then_scrub


for _kind in _PERSONAL_IN_OPS:
    APPLIERS[_kind] = _erasing(APPLIERS[_kind], _kind)


def _scrubbing_void(fn: Applier) -> Applier:
    def apply_then_scrub(session: Session, op: Op) -> None:
        fn(session, op)
        _scrub_void(session, op)

    return apply_then_scrub


APPLIERS["scan.void"] = _scrubbing_void(APPLIERS["scan.void"])
