"""Derived attendance facts, computed from scans every time (never stored as flags).

A *door* is the entrance (scans with no session) or one session. A scan *counts* when it
has not been voided and is either an admitted entry (``ok``, ``not_synced``, or any entry a
supervisor forced) or an ``exit_ok``. Someone is *inside* a door when their latest counted
scan there (by time, then clock) is an entry. These functions are what check-in, the
sessions area, certificates and reports all call, so the answers agree everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, Subquery, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from desktop.events import event_zone
from desktop.models import Desk, Event, EventSession, Scan, ScanVoid, SessionEntryTally
from desktop.prepared import Prepared

ADMITTING = frozenset({"ok", "not_synced"})
EXIT_OK = "exit_ok"

TALLY_TRIGGERS = ("session_entry_tally_ai", "session_entry_tally_ad")


def tally_ddl() -> list[str]:
    """Triggers keeping ``session_entry_tallies`` in step with every insert into ``scans``.

    Triggers rather than code in the scan applier, so that every way a scan arrives (a scan
    here, a batch pulled from the hub, a desk kit) counts. Migration 0005 holds a copy.
    """
    table = SessionEntryTally.__tablename__
    admitting = ", ".join(f"'{d}'" for d in sorted(ADMITTING))

    def admitted(row: str) -> str:
        return (
            f"{row}.session_id IS NOT NULL AND {row}.direction = 'entry' "
            f"AND ({row}.decision IN ({admitting}) OR {row}.forced)"
        )

    return [
        f"CREATE TRIGGER {TALLY_TRIGGERS[0]} AFTER INSERT ON scans WHEN {admitted('new')} "
        f"BEGIN INSERT INTO {table} (session_id, entries) VALUES (new.session_id, 1) "
        "ON CONFLICT (session_id) DO UPDATE SET entries = entries + 1; END",
        f"CREATE TRIGGER {TALLY_TRIGGERS[1]} AFTER DELETE ON scans WHEN {admitted('old')} "
        f"BEGIN UPDATE {table} SET entries = entries - 1 WHERE session_id = old.session_id; END",
    ]


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
# An upper bound of the people inside a session: every admitted entry ever (voids, exits and
# repeat entries only lower the true figure). One row read, so the exact count (which reads
# every entry of the session) runs only when the session is near full.
_ENTRY_BOUND = Prepared(
    select(SessionEntryTally.__table__.c.entries).where(
        SessionEntryTally.__table__.c.session_id == bindparam("session_id")
    )
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


def _latest_moves(conditions: list[ColumnElement[bool]]) -> Subquery:
    """Per (door, attendee): the direction of the latest counted scan."""
    rank = (
        func.row_number()
        .over(
            partition_by=(_S.session_id, _S.attendee_id),
            order_by=(_S.at.desc(), _S.hlc.desc()),
        )
        .label("rank")
    )
    return (
        select(_S.session_id, _S.attendee_id, _S.direction, rank)
        .where(counted(), *conditions)
        .subquery()
    )


def inside_now(
    session: Session,
    event_id: str,
    session_id: str | None,
    window: tuple[datetime, datetime] | None = None,
) -> int:
    """How many people are inside a door now (entries minus exits, per person)."""
    count = session.scalar(_INSIDE[session_id is None], _params(event_id, session_id, window))
    return int(count or 0)


def could_be_full(session: Session, session_id: str, capacity: int) -> bool:
    """False when a session certainly has seats left; True when the exact count is needed."""
    bound = _ENTRY_BOUND.scalar(session, {"session_id": session_id})
    return int(bound or 0) >= capacity


def door_count(
    session: Session,
    event_id: str,
    session_id: str | None,
    window: tuple[datetime, datetime] | None = None,
) -> DoorCount:
    """Arrived and inside-now of one door."""
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
    """Arrived / inside now / capacity for every session of the programme, in two queries."""
    capacities = dict(
        session.execute(
            select(EventSession.id, EventSession.capacity).where(EventSession.event_id == event_id)
        ).all()
    )
    arrived: dict[str, int] = dict(
        session.execute(
            select(_S.session_id, func.count(func.distinct(_S.attendee_id)))
            .where(_S.event_id == event_id, _S.session_id.is_not(None))
            .where(counted(), admitted_entry())
            .group_by(_S.session_id)
        ).all()
    )
    moves = _latest_moves([_S.event_id == event_id, _S.session_id.is_not(None)])
    inside: dict[str, int] = dict(
        session.execute(
            select(moves.c.session_id, func.count())
            .where(moves.c.rank == 1, moves.c.direction == "entry")
            .group_by(moves.c.session_id)
        ).all()
    )
    return {
        sid: DoorCount(sid, int(arrived.get(sid, 0)), int(inside.get(sid, 0)), capacity)
        for sid, capacity in capacities.items()
    }


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
