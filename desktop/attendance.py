"""Derived attendance facts, computed from scans every time (never stored as flags).

A *door* is the entrance (scans with no session) or one session. A scan *counts* when it
has not been voided and is either an admitted entry (``ok``, ``not_synced``, or any entry a
supervisor forced) or an ``exit_ok``. Someone is *inside* a door when their latest counted
scan there (by time, then clock) is an entry. These functions are what check-in, the
sessions area, certificates and reports all call, so the answers agree everywhere.

At session doors the figures are also kept, per person and per session, in two local tables
that triggers on ``scans`` and ``scan_voids`` recompute from those facts whenever one
arrives (:func:`presence_ddl`): a materialised view, never synced and never written by any
desk's code, so two desks cannot disagree about it any more than about the facts. A scan at
a full room of 100,000 then reads one row instead of every entry of the room.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from desktop.events import event_zone
from desktop.models import Desk, Event, EventSession, Scan, ScanVoid, SessionEntryTally
from desktop.prepared import Prepared

ADMITTING = frozenset({"ok", "not_synced"})
EXIT_OK = "exit_ok"

PRESENCE_TRIGGERS = (
    "session_presence_scan_ai",
    "session_presence_scan_ad",
    "session_presence_void_ai",
    "session_presence_void_ad",
)


def presence_ddl() -> list[str]:
    """Triggers keeping ``session_presence`` and the tallies' ``inside``/``arrived`` exact.

    Whenever a scan or a void arrives (or goes), the person's standing at that session door
    is worked out again from their own scans there (a few rows, by the per-person index):
    inside when the latest counted scan is an entry, arrived when any counted scan is an
    admitted entry. The tallies move by the difference. Migration 0008 holds a copy.
    """
    admitting = ", ".join(f"'{d}'" for d in sorted(ADMITTING))
    counted_sql = (
        "s.attendee_id = {a} AND s.session_id = {s} AND ("
        f"(s.direction = 'entry' AND (s.decision IN ({admitting}) OR s.forced)) "
        f"OR (s.direction = 'exit' AND s.decision = '{EXIT_OK}')"
        ") AND NOT EXISTS (SELECT 1 FROM scan_voids v WHERE v.scan_op_id = s.op_id)"
    )

    def block(s_: str, a: str) -> str:
        where = counted_sql.format(s=s_, a=a)
        inside = (
            f"coalesce((SELECT s.direction = 'entry' FROM scans s WHERE {where} "
            "ORDER BY s.at DESC, s.hlc DESC LIMIT 1), 0)"
        )
        arrived = f"EXISTS (SELECT 1 FROM scans s WHERE {where} AND s.direction = 'entry')"
        mine = f"session_id = {s_} AND attendee_id = {a}"
        # The person's old standing leaves the tallies, the new one is worked out once and
        # stored, then it joins the tallies.
        return (
            "INSERT INTO session_entry_tallies (session_id, inside, arrived) "
            f"VALUES ({s_}, 0, 0) ON CONFLICT (session_id) DO NOTHING; "
            "INSERT INTO session_presence (session_id, attendee_id, inside, arrived) "
            f"VALUES ({s_}, {a}, 0, 0) ON CONFLICT (session_id, attendee_id) DO NOTHING; "
            + _move_tally(s_, mine, "-")
            + f"UPDATE session_presence SET inside = {inside}, arrived = {arrived} WHERE {mine}; "
            + _move_tally(s_, mine, "+")
        )

    def by_void(row: str) -> tuple[str, str, str]:
        scan_of = f"FROM scans WHERE op_id = {row}.scan_op_id"
        when = f"EXISTS (SELECT 1 {scan_of} AND session_id IS NOT NULL AND attendee_id IS NOT NULL)"
        return when, f"(SELECT session_id {scan_of})", f"(SELECT attendee_id {scan_of})"

    at_door = "{r}.session_id IS NOT NULL AND {r}.attendee_id IS NOT NULL"
    new_void, old_void = by_void("new"), by_void("old")
    return [
        f"CREATE TRIGGER {PRESENCE_TRIGGERS[0]} AFTER INSERT ON scans "
        f"WHEN {at_door.format(r='new')} "
        f"BEGIN {block('new.session_id', 'new.attendee_id')} END",
        f"CREATE TRIGGER {PRESENCE_TRIGGERS[1]} AFTER DELETE ON scans "
        f"WHEN {at_door.format(r='old')} "
        f"BEGIN {block('old.session_id', 'old.attendee_id')} END",
        f"CREATE TRIGGER {PRESENCE_TRIGGERS[2]} AFTER INSERT ON scan_voids WHEN {new_void[0]} "
        f"BEGIN {block(new_void[1], new_void[2])} END",
        f"CREATE TRIGGER {PRESENCE_TRIGGERS[3]} AFTER DELETE ON scan_voids WHEN {old_void[0]} "
        f"BEGIN {block(old_void[1], old_void[2])} END",
    ]


def _move_tally(s_: str, mine: str, sign: str) -> str:
    return (
        f"UPDATE session_entry_tallies SET "
        f"inside = inside {sign} (SELECT inside FROM session_presence WHERE {mine}), "
        f"arrived = arrived {sign} (SELECT arrived FROM session_presence WHERE {mine}) "
        f"WHERE session_id = {s_}; "
    )


@dataclass(frozen=True)
class Arrival:
    """One admitted entry: when (naive UTC), where, through which desk."""

    op_id: str
    at: datetime
    desk_id: str
    desk_name: str
    session_id: str | None
    forced: bool


@dataclass(frozen=True)
class Presence:
    """An attendee at one door: inside now?, their first arrival there."""

    inside: bool
    first_arrival: Arrival | None
    entries: int


@dataclass(frozen=True)
class DoorCount:
    """Figures of one door: distinct people admitted, people inside now."""

    session_id: str | None
    arrived: int
    inside: int
    capacity: int | None = None


@dataclass(frozen=True)
class AttendanceRow:
    """One attendee's attendance of one session."""

    attendee_id: str
    first_in: datetime
    last_out: datetime | None
    inside: bool
    forced: bool
    reasons: tuple[str, ...]
    scan_op_ids: tuple[str, ...]


# Table columns rather than ORM attributes: these run on every scan, and Core statements
# built once skip the ORM's per-call compilation work.
_S = Scan.__table__.c
_V = ScanVoid.__table__.c
# Wide enough for any stored time: a door with no window uses these bounds.
_EARLIEST = datetime(1900, 1, 1)
_LATEST = datetime(9999, 1, 1)


def not_voided() -> ColumnElement[bool]:
    """SQL condition: the scan has not been undone."""
    return _S.op_id.not_in(select(_V.scan_op_id))


def admitted_entry() -> ColumnElement[bool]:
    """SQL condition: an entry that let someone in (forced ones included)."""
    return and_(_S.direction == "entry", or_(_S.decision.in_(ADMITTING), _S.forced))


def counted() -> ColumnElement[bool]:
    """SQL condition: a scan that moves someone in or out of a door."""
    return and_(
        _S.attendee_id.is_not(None),
        or_(admitted_entry(), and_(_S.direction == "exit", _S.decision == EXIT_OK)),
        not_voided(),
    )


def _door(entrance: bool) -> list[ColumnElement[bool]]:
    """Conditions of one door and time window, with bound parameters."""
    return [
        _S.event_id == bindparam("event_id"),
        _S.session_id.is_(None) if entrance else _S.session_id == bindparam("session_id"),
        _S.at >= bindparam("start"),
        _S.at < bindparam("end"),
    ]


def _presence_statement(entrance: bool) -> Select[Any]:
    return (
        select(_S.op_id, _S.at, _S.hlc, _S.direction, _S.desk_id, _S.forced)
        .where(_S.attendee_id == bindparam("attendee_id"), counted(), *_door(entrance))
        .order_by(_S.at, _S.hlc)
    )


def _inside_statement(entrance: bool) -> Select[Any]:
    rank = (
        func.row_number()
        .over(partition_by=_S.attendee_id, order_by=(_S.at.desc(), _S.hlc.desc()))
        .label("rank")
    )
    moves = select(_S.direction, rank).where(counted(), *_door(entrance)).subquery()
    return select(func.count()).where(moves.c.rank == 1, moves.c.direction == "entry")


_PRESENCE = {
    True: Prepared(_presence_statement(True)),
    False: Prepared(_presence_statement(False)),
}
_INSIDE = {True: _inside_statement(True), False: _inside_statement(False)}
# A session door's figures as the triggers keep them: one row read, never the room's scans.
_T = SessionEntryTally.__table__.c
_DOOR_TALLY = Prepared(
    select(_T.inside, _T.arrived).where(_T.session_id == bindparam("session_id"))
)


def _params(
    event_id: str, session_id: str | None, window: tuple[datetime, datetime] | None
) -> dict[str, Any]:
    start, end = window if window is not None else (_EARLIEST, _LATEST)
    return {"event_id": event_id, "session_id": session_id, "start": start, "end": end}


def zone_of(session: Session, event_id: str) -> ZoneInfo:
    """The event's time zone (UTC for an unknown event)."""
    event = session.get(Event, event_id)
    return event_zone(event) if event is not None else ZoneInfo("UTC")


def day_bounds(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """A venue day as a half-open naive UTC interval."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return _naive_utc(start), _naive_utc(end)


def local_day(zone: ZoneInfo, at_utc: datetime) -> date:
    """The venue day a naive UTC time falls on."""
    return at_utc.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).date()


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _door_conditions(
    event_id: str, session_id: str | None, window: tuple[datetime, datetime] | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [_S.event_id == event_id]
    if session_id is None:
        conditions.append(_S.session_id.is_(None))
    else:
        conditions.append(_S.session_id == session_id)
    if window is not None:
        conditions.append(_S.at >= window[0])
        conditions.append(_S.at < window[1])
    return conditions


def desk_names(session: Session, desk_ids: Iterable[str]) -> dict[str, str]:
    """Desk names by id; a desk the event does not know keeps its id."""
    wanted = {d for d in desk_ids if d}
    if not wanted:
        return {}
    rows = session.execute(select(Desk.id, Desk.name).where(Desk.id.in_(wanted)))
    names = {desk_id: name for desk_id, name in rows if name}
    return {d: names.get(d, f"desk {d}") for d in wanted}


def presence(
    session: Session,
    event_id: str,
    attendee_id: str,
    session_id: str | None,
    window: tuple[datetime, datetime] | None = None,
) -> Presence:
    """Where one attendee stands at one door (the entrance when ``session_id`` is None).

    ``window`` (naive UTC) limits the scans considered, e.g. to one venue day at the entrance.
    """
    params = _params(event_id, session_id, window)
    params["attendee_id"] = attendee_id
    rows = _PRESENCE[session_id is None].all(session, params)
    entries = [r for r in rows if r.direction == "entry"]
    if not entries:
        return Presence(False, None, 0)
    first = entries[0]
    name = desk_names(session, [first.desk_id]).get(first.desk_id, "")
    arrival = Arrival(first.op_id, first.at, first.desk_id, name, session_id, bool(first.forced))
    return Presence(rows[-1].direction == "entry", arrival, len(entries))


def inside_now(
    session: Session,
    event_id: str,
    session_id: str | None,
    window: tuple[datetime, datetime] | None = None,
) -> int:
    """How many people are inside a door now (entries minus exits, per person)."""
    if session_id is not None and window is None:
        return _door_tally(session, session_id)[0]
    count = session.scalar(_INSIDE[session_id is None], _params(event_id, session_id, window))
    return int(count or 0)


def _door_tally(session: Session, session_id: str) -> tuple[int, int]:
    """A session door's (inside now, arrived), as the triggers keep them: one row read."""
    row = _DOOR_TALLY.first(session, {"session_id": session_id})
    return (int(row.inside), int(row.arrived)) if row is not None else (0, 0)


def door_count(
    session: Session,
    event_id: str,
    session_id: str | None,
    window: tuple[datetime, datetime] | None = None,
) -> DoorCount:
    """Arrived and inside-now of one door."""
    if session_id is not None and window is None:
        inside, arrived_here = _door_tally(session, session_id)
        capacity = session.scalar(
            select(EventSession.capacity).where(EventSession.id == session_id)
        )
        return DoorCount(session_id, arrived_here, inside, capacity)
    arrived = session.scalar(
        select(func.count(func.distinct(_S.attendee_id))).where(
            counted(), admitted_entry(), *_door_conditions(event_id, session_id, window)
        )
    )
    capacity = None
    if session_id is not None:
        capacity = session.scalar(
            select(EventSession.capacity).where(EventSession.id == session_id)
        )
    return DoorCount(
        session_id, int(arrived or 0), inside_now(session, event_id, session_id, window), capacity
    )


def entrance_count(session: Session, event_id: str, day: date) -> DoorCount:
    """Arrivals at the entrance on a venue day, and how many are inside by its scans."""
    return door_count(session, event_id, None, day_bounds(zone_of(session, event_id), day))


def session_counts(session: Session, event_id: str) -> dict[str, DoorCount]:
    """Arrived / inside now / capacity for every session of the programme, in two queries.

    The figures are the triggers' (see :func:`presence_ddl`): no scan is read.
    """
    capacities = dict(
        session.execute(
            select(EventSession.id, EventSession.capacity).where(EventSession.event_id == event_id)
        ).all()
    )
    tallies = {
        row.session_id: row
        for row in session.execute(
            select(_T.session_id, _T.inside, _T.arrived)
            .join(EventSession, EventSession.id == _T.session_id)
            .where(EventSession.event_id == event_id)
        )
    }
    counts: dict[str, DoorCount] = {}
    for sid, capacity in capacities.items():
        row = tallies.get(sid)
        inside, arrived = (int(row.inside), int(row.arrived)) if row is not None else (0, 0)
        counts[sid] = DoorCount(sid, arrived, inside, capacity)
    return counts


def session_attendance(session: Session, event_id: str, session_id: str) -> list[AttendanceRow]:
    """Everyone admitted to a session, with first entry, last exit, inside now, forced."""
    rows = session.execute(
        select(
            _S.op_id,
            _S.attendee_id,
            _S.at,
            _S.hlc,
            _S.direction,
            _S.forced,
            _S.reason,
        )
        .where(counted(), *_door_conditions(event_id, session_id, None))
        .order_by(_S.attendee_id, _S.at, _S.hlc)
    ).all()
    by_person: dict[str, list[tuple[str, datetime, str, bool, str]]] = {}
    for r in rows:
        by_person.setdefault(str(r.attendee_id), []).append(
            (r.op_id, r.at, r.direction, bool(r.forced), r.reason)
        )
    result: list[AttendanceRow] = []
    for attendee_id, moves in by_person.items():
        entries = [m for m in moves if m[2] == "entry"]
        if not entries:
            continue  # only exits: left a room they were never recorded entering
        exits = [m for m in moves if m[2] == "exit"]
        result.append(
            AttendanceRow(
                attendee_id=attendee_id,
                first_in=entries[0][1],
                last_out=exits[-1][1] if exits else None,
                inside=moves[-1][2] == "entry",
                forced=any(m[3] for m in entries),
                reasons=tuple(m[4] for m in entries if m[3] and m[4]),
                scan_op_ids=tuple(m[0] for m in moves),
            )
        )
    result.sort(key=lambda row: (row.first_in, row.attendee_id))
    return result


def sessions_attended(
    session: Session, event_id: str, attendee_id: str | None = None
) -> dict[str, frozenset[str]]:
    """Per attendee, the ids of the sessions they were admitted to (one attendee if given)."""
    query = (
        select(_S.attendee_id, _S.session_id)
        .where(_S.event_id == event_id, _S.session_id.is_not(None))
        .where(counted(), admitted_entry())
        .distinct()
    )
    if attendee_id is not None:
        query = query.where(_S.attendee_id == attendee_id)
    found: dict[str, set[str]] = {}
    for person, sid in session.execute(query):
        found.setdefault(str(person), set()).add(str(sid))
    return {person: frozenset(ids) for person, ids in found.items()}


def first_arrival(
    session: Session, event_id: str, attendee_id: str, day: date | None = None
) -> Arrival | None:
    """The attendee's first admitted entry at any door (on a venue day, if given)."""
    query = (
        select(_S.op_id, _S.at, _S.desk_id, _S.session_id, _S.forced)
        .where(_S.event_id == event_id, _S.attendee_id == attendee_id)
        .where(counted(), admitted_entry())
        .order_by(_S.at, _S.hlc)
        .limit(1)
    )
    if day is not None:
        start, end = day_bounds(zone_of(session, event_id), day)
        query = query.where(_S.at >= start, _S.at < end)
    row = session.execute(query).first()
    if row is None:
        return None
    name = desk_names(session, [row.desk_id]).get(row.desk_id, "")
    return Arrival(row.op_id, row.at, row.desk_id, name, row.session_id, bool(row.forced))


def checked_in(session: Session, event_id: str, attendee_id: str, day: date | None = None) -> bool:
    """Has the attendee been admitted anywhere (on a venue day, if given)?"""
    return first_arrival(session, event_id, attendee_id, day) is not None


def checked_in_ids(session: Session, event_id: str, day: date | None = None) -> frozenset[str]:
    """Everyone admitted anywhere (on a venue day, if given): one query for reports."""
    query = (
        select(_S.attendee_id)
        .where(_S.event_id == event_id, counted(), admitted_entry())
        .distinct()
    )
    if day is not None:
        start, end = day_bounds(zone_of(session, event_id), day)
        query = query.where(_S.at >= start, _S.at < end)
    return frozenset(str(a) for a in session.scalars(query))
