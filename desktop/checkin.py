"""Check-in: turning whatever arrives in the scan field into exactly one recorded decision.

``decide`` reads; ``scan`` decides and records the decision as a ``scan`` operation, failures
included. Decisions are the words of :data:`DECISIONS`. Door rules, in the order applied:

1. the badge: ``invalid`` (not a token or code we know), ``forged`` (signature fails),
   ``wrong_event``, ``revoked`` (an older badge than the attendee's current one),
   ``cancelled``; a genuine token of someone this desk has not received yet is ``not_synced``
   (admitted, shown amber); an exit with a good badge is ``exit_ok``;
2. at a session door: ``not_open`` outside the session's time window widened by the grace
   periods (or no session on in the room), ``not_permitted`` when the attendee's category is
   not among the session's admitted categories;
3. ``already_in`` when the attendee is inside that door now (their latest entry there has no
   exit after it; at the entrance, counted per venue day);
4. ``session_full`` when the people inside now (entries minus exits, per person) have
   reached the capacity: someone who leaves frees their seat;
5. otherwise ``ok``.

A supervisor may admit despite a refusal of rule 1-4 that names a person (``revoked``,
``cancelled``, ``not_open``, ``not_permitted``, ``session_full``): the scan keeps the refusal
as its decision, with ``forced`` set and a reason, and counts as an admission.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from desktop import attendance, clock, journal, permissions
from desktop.attendance import Arrival
from desktop.desk import get_setting, set_setting
from desktop.events import SessionInfo, event_zone, utc_to_local
from desktop.journal import DeskContext
from desktop.models import Attendee, Event, EventSession, Scan, ScanVoid
from desktop.prepared import Prepared
from desktop.registry import AttendeeInfo
from desktop.scaninput import classify, clean_scan_input, truncate_raw
from desktop.tokens import TokenCheck, normalise_short_code, verify_token

DECISIONS: tuple[str, ...] = (
    "ok",
    "exit_ok",
    "already_in",
    "not_synced",
    "invalid",
    "forged",
    "wrong_event",
    "revoked",
    "cancelled",
    "not_open",
    "session_full",
    "not_permitted",
)
ADMITTING = attendance.ADMITTING
# Refusals that name a person a supervisor can see and decide to let in after all.
FORCEABLE = frozenset({"revoked", "cancelled", "not_open", "session_full", "not_permitted"})
Direction = Literal["entry", "exit"]
DoorKind = Literal["entrance", "session", "room"]
InputKind = Literal["token", "short_code", "search", "empty", "manual"]

RAW_LIMIT = 256  # characters of raw input kept with a scan
MODE_KEY = "checkin.mode"
SESSION_KEY = "checkin.session_id"
ROOM_KEY = "checkin.room"
DIRECTION_KEY = "checkin.direction"
BEFORE_KEY = "checkin.grace_before_minutes"
AFTER_KEY = "checkin.grace_after_minutes"


class CheckinError(Exception):
    """A check-in action that cannot be done as asked (no reason given, unknown scan)."""


@dataclass(frozen=True)
class DeskMode:
    """What this desk scans for: the entrance, one session, or whatever is on in a room."""

    door: DoorKind = "entrance"
    session_id: str | None = None
    room: str = ""
    direction: Direction = "entry"


@dataclass(frozen=True)
class DoorRules:
    """How long before its start a session door opens and after its end it still admits."""

    grace_before: timedelta = timedelta(minutes=30)
    grace_after: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class ScanResult:
    """One scan's decision with what the card shows; ``op_id`` once recorded."""

    decision: str
    at: datetime  # naive UTC, by the desk's clock
    direction: Direction
    input_kind: InputKind
    raw: str  # truncated, printable
    attendee_id: str | None = None
    attendee: AttendeeInfo | None = None
    session: SessionInfo | None = None
    detail: str = ""
    first_arrival: Arrival | None = None
    forced: bool = False
    reason: str = ""
    op_id: str | None = None

    @property
    def admitted(self) -> bool:
        """True when the person may walk through (an exit always may)."""
        if self.direction == "exit":
            return self.decision == "exit_ok"
        return self.decision in ADMITTING or self.forced

    @property
    def forceable(self) -> bool:
        """True when a supervisor could admit despite this refusal."""
        return (
            not self.forced
            and self.direction == "entry"
            and self.decision in FORCEABLE
            and self.attendee_id is not None
        )

    def to_json(self) -> dict[str, Any]:
        person: dict[str, str | None] | None = None
        if self.attendee is not None:
            person = {
                "id": self.attendee.id,
                "short_code": self.attendee.short_code,
                "name": self.attendee.display_name,
            }
        elif self.attendee_id is not None:
            person = {"id": self.attendee_id, "short_code": None, "name": None}
        arrival = None
        if self.first_arrival is not None:
            arrival = {
                "at": self.first_arrival.at.isoformat() + "Z",
                "desk": self.first_arrival.desk_name,
                "desk_id": self.first_arrival.desk_id,
            }
        return {
            "decision": self.decision,
            "admitted": self.admitted,
            "attendee": person,
            "session": self.session.id if self.session is not None else None,
            "at": self.at.isoformat() + "Z",
            "direction": self.direction,
            "forced": self.forced,
            "reason": self.reason,
            "detail": self.detail,
            "first_arrival": arrival,
            "input": self.input_kind,
            "op_id": self.op_id,
        }


# --- desk settings -------------------------------------------------------------------------


def load_mode(session: Session) -> DeskMode:
    """This desk's scanning mode from its local settings."""
    door = get_setting(session, MODE_KEY, "entrance")
    direction = get_setting(session, DIRECTION_KEY, "entry")
    return DeskMode(
        door=door if door in ("entrance", "session", "room") else "entrance",  # type: ignore[arg-type]
        session_id=get_setting(session, SESSION_KEY) or None,
        room=get_setting(session, ROOM_KEY),
        direction="exit" if direction == "exit" else "entry",
    )


def save_mode(session: Session, mode: DeskMode) -> None:
    """Keep this desk's scanning mode."""
    set_setting(session, MODE_KEY, mode.door)
    set_setting(session, SESSION_KEY, mode.session_id or "")
    set_setting(session, ROOM_KEY, mode.room)
    set_setting(session, DIRECTION_KEY, mode.direction)


def _minutes(session: Session, key: str, default: timedelta) -> timedelta:
    text = get_setting(session, key)
    try:
        value = int(text)
    except ValueError:
        return default
    return timedelta(minutes=max(0, min(value, 24 * 60)))


def load_rules(session: Session) -> DoorRules:
    """This desk's grace periods (defaults: 30 minutes before, 15 after)."""
    base = DoorRules()
    return DoorRules(
        grace_before=_minutes(session, BEFORE_KEY, base.grace_before),
        grace_after=_minutes(session, AFTER_KEY, base.grace_after),
    )


def save_rules(session: Session, rules: DoorRules) -> None:
    """Keep this desk's grace periods."""
    set_setting(session, BEFORE_KEY, str(int(rules.grace_before.total_seconds() // 60)))
    set_setting(session, AFTER_KEY, str(int(rules.grace_after.total_seconds() // 60)))


# --- the event as a scan needs it ----------------------------------------------------------


@dataclass(frozen=True)
class _EventFacts:
    uuid: uuid.UUID | None
    keys: dict[int, bytes]
    prefix: str
    zone_name: str


_FACTS: dict[tuple[str, str, str, str], _EventFacts] = {}


def _event_facts(event: EventRow) -> _EventFacts:
    # Parsed once per event and key set: a scan only pays for the dictionary lookup.
    keys_text = repr(sorted((event.public_keys or {}).items()))
    cache_key = (event.id, keys_text, event.code or "", event.timezone or "")
    found = _FACTS.get(cache_key)
    if found is not None:
        return found
    keys: dict[int, bytes] = {}
    for key_id, hex_key in (event.public_keys or {}).items():
        try:
            raw = bytes.fromhex(str(hex_key))
        except ValueError:
            continue
        if str(key_id).isdigit() and 0 <= int(key_id) <= 255 and len(raw) == 32:
            keys[int(key_id)] = raw
    try:
        event_uuid: uuid.UUID | None = uuid.UUID(event.id)
    except ValueError:
        event_uuid = None
    letters = "".join(ch for ch in (event.code or "EV").upper() if ch.isascii() and ch.isalpha())
    facts = _EventFacts(event_uuid, keys, letters[:2] or "EV", event.timezone or "UTC")
    if len(_FACTS) > 64:
        _FACTS.clear()
    _FACTS[cache_key] = facts
    return facts


# A session as an ORM object or a row of a prepared lookup: the door rules read the same
# attributes. The event likewise (a scan reads it as a row: an ORM load costs more than the
# rest of the scan).
SessionRow = EventSession | Any
EventRow = Event | Any


def _session_info(row: SessionRow, event: EventRow) -> SessionInfo:
    zone = event_zone(event)
    return SessionInfo(
        id=row.id,
        title=row.title,
        topic=row.topic,
        day=row.day,
        starts_at=utc_to_local(row.starts_at, zone) if row.starts_at else None,
        ends_at=utc_to_local(row.ends_at, zone) if row.ends_at else None,
        room=row.room,
        capacity=row.capacity,
        counts_for_certificate=row.counts_for_certificate,
        categories=tuple(row.categories or ()),
    )


def _in_window(row: SessionRow, at: datetime, rules: DoorRules) -> bool:
    if row.starts_at is not None and at < row.starts_at - rules.grace_before:
        return False
    return not (row.ends_at is not None and at > row.ends_at + rules.grace_after)


def rooms(session: Session, event_id: str) -> list[str]:
    """The rooms of the programme, for a door that follows "whatever is on in this room"."""
    found = session.scalars(
        select(EventSession.room)
        .where(EventSession.event_id == event_id, EventSession.status != "deleted")
        .where(EventSession.room != "")
        .distinct()
        .order_by(EventSession.room)
    )
    return list(found)


def session_in_room(
    session: Session, event_id: str, room: str, at: datetime, rules: DoorRules
) -> tuple[EventSession | None, bool]:
    """The session a room's door serves at ``at``: (session, open now?).

    When nothing is on, the next session in the room (else the last one) comes back with
    False, so the card can say when the door opens.
    """
    rows = list(
        session.scalars(
            select(EventSession)
            .where(EventSession.event_id == event_id, EventSession.room == room)
            .where(EventSession.status != "deleted")
            .order_by(EventSession.starts_at, EventSession.id)
        )
    )
    open_now = [r for r in rows if _in_window(r, at, rules)]
    if open_now:
        # Back-to-back sessions overlap by the grace periods: the later one has started.
        started = [r for r in open_now if r.starts_at is None or r.starts_at <= at]
        return (started[-1] if started else open_now[0]), True
    upcoming = [r for r in rows if r.starts_at is not None and r.starts_at > at]
    if upcoming:
        return upcoming[0], False
    return (rows[-1] if rows else None), False


# --- deciding ------------------------------------------------------------------------------


def _local_hm(moment: datetime, event: EventRow) -> str:
    return f"{utc_to_local(moment, event_zone(event)):%H:%M}"


def _local_day_hm(moment: datetime, event: EventRow, at: datetime) -> str:
    zone = event_zone(event)
    local = utc_to_local(moment, zone)
    if local.date() == utc_to_local(at, zone).date():
        return f"{local:%H:%M}"
    return f"{local:%a %d %b %H:%M}"


def decide(
    session: Session,
    event_id: str,
    raw: str,
    mode: DeskMode,
    at: datetime,
    rules: DoorRules | None = None,
    *,
    attendee_id: str | None = None,
) -> ScanResult:
    """The decision for one scan at ``at`` (naive UTC); reads only, never raises on input.

    ``attendee_id`` is given when staff chose a person from a name search instead.
    """
    rules = rules or DoorRules()
    text_raw = raw if isinstance(raw, str) else str(raw)
    base = ScanResult(
        decision="invalid",
        at=at,
        direction=mode.direction,
        input_kind="manual" if attendee_id is not None else "empty",
        raw=_journal_raw(text_raw),
    )
    event = _EVENT_BY_ID.first(session, {"id": event_id})
    if event is None:
        return replace(base, detail="This desk has no event open.")
    facts = _event_facts(event)
    token_seq: int | None = None
    if attendee_id is None:
        kind = classify(text_raw, facts.prefix)
        base = replace(base, input_kind=kind)
        text = clean_scan_input(text_raw)
        if kind == "empty":
            return replace(base, detail="Nothing was scanned.")
        if kind == "token":
            if facts.uuid is None:
                return replace(base, detail="This event cannot check badges (its id is odd).")
            check, info = verify_token(text, facts.keys, facts.uuid)
            if check is TokenCheck.FORGED:
                # Every event signs with key id 1, so another event's genuine badge fails our
                # key; its event prefix tells it apart (checked with no keys at all).
                check = verify_token(text, {}, facts.uuid)[0]
            if check is TokenCheck.FORGED:
                return replace(
                    base, decision="forged", detail="The badge's signature does not match."
                )
            if check is TokenCheck.WRONG_EVENT:
                return replace(
                    base, decision="wrong_event", detail="This badge is for another event."
                )
            if check is not TokenCheck.VALID or info is None:
                return replace(base, detail="This is not an EventDesk badge.")
            attendee_id, token_seq = str(info.attendee_id), info.badge_seq
        else:
            code = normalise_short_code(text, facts.prefix)
            found = None
            if code is not None:
                found = _ID_BY_CODE.scalar(session, {"event_id": event_id, "code": code})
            if found is None:
                shown = text[:40]
                return replace(base, detail=f"No badge or code matches “{shown}”.")
            attendee_id = found
    row = _ATTENDEE_BY_ID.first(session, {"id": attendee_id})
    stub = row is not None and not (row.short_code or row.given_name or row.family_name)
    if row is not None and row.event_id != event_id:
        return replace(base, detail="This person is registered for another event.")
    if row is None and base.input_kind == "manual":
        return replace(base, detail="This person is not on this desk.")
    person = None if row is None or stub else _attendee_info(row)
    result = replace(base, attendee_id=attendee_id, attendee=person)
    if row is not None and token_seq is not None and token_seq < row.badge_seq:
        return replace(
            result,
            decision="revoked",
            detail="A newer badge replaced this one (lost badge). Ask for photo ID.",
        )
    if row is not None and row.status == "cancelled":
        return replace(result, decision="cancelled", detail="This registration was cancelled.")
    return _door_decision(session, event, result, mode, at, rules, row if person else None)


# Built once: the lookups every scan makes, run straight on the driver, reading only the
# columns a scan uses (each JSON column read is one more decode per scan).
_E = Event.__table__.c
_A = Attendee.__table__.c
_SE = EventSession.__table__.c
_INFO_FIELDS = tuple(f.name for f in fields(AttendeeInfo))
_EVENT_BY_ID = Prepared(
    select(_E.id, _E.code, _E.timezone, _E.public_keys).where(_E.id == bindparam("id"))
)
_ATTENDEE_BY_ID = Prepared(
    select(_A.event_id, *(_A[name] for name in _INFO_FIELDS)).where(_A.id == bindparam("id"))
)
_ID_BY_CODE = Prepared(
    select(_A.id)
    .where(_A.event_id == bindparam("event_id"), _A.short_code == bindparam("code"))
    .limit(1)
)
_SESSION_BY_ID = Prepared(
    select(*(c for c in _SE if c.key != "field_hlc")).where(_SE.id == bindparam("id"))
)


def _attendee_info(row: Any) -> AttendeeInfo:
    return AttendeeInfo(**{name: getattr(row, name) for name in _INFO_FIELDS})


def _journal_raw(text: str) -> str:
    """The raw input as the journal keeps it (what ``truncate_raw`` returns, faster)."""
    # A scanned token is short, printable ASCII: truncate_raw would return it unchanged.
    if len(text) <= RAW_LIMIT and text.isascii() and text.isprintable() and "\\" not in text:
        return text
    return truncate_raw(text, RAW_LIMIT)


def _door_decision(
    session: Session,
    event: EventRow,
    result: ScanResult,
    mode: DeskMode,
    at: datetime,
    rules: DoorRules,
    row: Any | None,
) -> ScanResult:
    attendee_id = result.attendee_id
    assert attendee_id is not None
    admit = "ok" if row is not None else "not_synced"
    if mode.door == "entrance":
        if mode.direction == "exit":
            return replace(result, decision="exit_ok", detail="Leaving the venue.")
        zone = event_zone(event)
        window = attendance.day_bounds(zone, attendance.local_day(zone, at))
        here = attendance.presence(session, event.id, attendee_id, None, window)
        if here.inside and here.first_arrival is not None:
            first = here.first_arrival
            return replace(
                result,
                decision="already_in",
                first_arrival=first,
                detail=f"First arrival today {_local_hm(first.at, event)} · {first.desk_name}",
            )
        return replace(result, decision=admit, detail=_admit_detail(admit))

    door, open_now = _door_session(session, event, mode, at, rules)
    info = _session_info(door, event) if door is not None else None
    result = replace(result, session=info)
    if mode.direction == "exit":
        return replace(result, decision="exit_ok", detail="Leaving the session.")
    if door is None or info is None:
        where = f"in {mode.room}" if mode.door == "room" else "chosen for this door"
        return replace(result, decision="not_open", detail=f"No session {where}.")
    if not open_now:
        return replace(result, decision="not_open", detail=_window_detail(door, event, at, rules))
    if row is not None and door.categories and row.category not in door.categories:
        return replace(
            result, decision="not_permitted", detail="This session is not open to this category."
        )
    here = attendance.presence(session, event.id, attendee_id, door.id)
    if here.inside and here.first_arrival is not None:
        first = here.first_arrival
        return replace(
            result,
            decision="already_in",
            first_arrival=first,
            detail=f"Came in at {_local_day_hm(first.at, event, at)} · {first.desk_name}",
        )
    if door.capacity is not None:
        inside = attendance.inside_now(session, event.id, door.id)
        if inside >= door.capacity:
            return replace(
                result,
                decision="session_full",
                detail=f"{inside} inside for {door.capacity} seats. Wait for someone to leave.",
            )
    return replace(result, decision=admit, detail=_admit_detail(admit))


def _admit_detail(decision: str) -> str:
    if decision == "not_synced":
        return "Genuine badge, but this desk has not received the registration yet."
    return ""


def _door_session(
    session: Session, event: EventRow, mode: DeskMode, at: datetime, rules: DoorRules
) -> tuple[SessionRow | None, bool]:
    if mode.door == "room":
        return session_in_room(session, event.id, mode.room, at, rules)
    if not mode.session_id:
        return None, False
    row = _SESSION_BY_ID.first(session, {"id": mode.session_id})
    if row is None or row.event_id != event.id or row.status == "deleted":
        return None, False
    return row, _in_window(row, at, rules)


def _window_detail(row: SessionRow, event: EventRow, at: datetime, rules: DoorRules) -> str:
    zone = event_zone(event)
    if row.starts_at is not None and at < row.starts_at - rules.grace_before:
        opens = utc_to_local(row.starts_at - rules.grace_before, zone)
        starts = utc_to_local(row.starts_at, zone)
        if opens.date() != utc_to_local(at, zone).date():
            return f"Opens {opens:%a %d %b} at {opens:%H:%M} (starts {starts:%H:%M})."
        return f"Doors open at {opens:%H:%M}; the session starts at {starts:%H:%M}."
    if row.ends_at is not None:
        return f"This session ended at {_local_day_hm(row.ends_at, event, at)}."
    return "This session is not open."


# --- recording -----------------------------------------------------------------------------


def record(session: Session, ctx: DeskContext, result: ScanResult) -> ScanResult:
    """Record a decision as a ``scan`` operation; returns it with its ``op_id``."""
    op = journal.record(
        session,
        ctx,
        "scan",
        {
            "attendee_id": result.attendee_id,
            "session_id": result.session.id if result.session is not None else None,
            "decision": result.decision,
            "direction": result.direction,
            "at": result.at.isoformat(),
            "forced": result.forced,
            "reason": result.reason,
            "raw": result.raw,
        },
    )
    return replace(result, op_id=op.op_id)


def scan(
    session: Session,
    ctx: DeskContext,
    raw: str,
    mode: DeskMode,
    *,
    at: datetime | None = None,
    rules: DoorRules | None = None,
    attendee_id: str | None = None,
    force: bool = False,
    reason: str = "",
) -> ScanResult:
    """Decide one scan and record it (failures too).

    With ``force`` and a reason, a refusal a supervisor may override is recorded as a forced
    admission; for any other decision ``force`` changes nothing.
    """
    reason = " ".join(reason.split())
    if force and not reason:
        raise CheckinError("admitting despite a refusal needs a reason (--reason)")
    permissions.require(session, ctx, "override_refusal" if force else "scan")
    moment = at if at is not None else clock.now(session)
    result = decide(
        session, ctx.event_id, raw, mode, moment, rules or load_rules(session),
        attendee_id=attendee_id,
    )  # fmt: skip
    if force and result.forceable:
        result = replace(result, forced=True, reason=reason[:300])
    return record(session, ctx, result)


def admit_anyway(
    session: Session, ctx: DeskContext, refused: ScanResult, reason: str, at: datetime | None = None
) -> ScanResult:
    """A supervisor lets in someone a scan refused: a new, forced scan with a reason."""
    permissions.require(session, ctx, "override_refusal")
    reason = " ".join(reason.split())
    if not reason:
        raise CheckinError("a reason is needed to admit despite a refusal")
    if not refused.forceable:
        raise CheckinError(f"a {refused.decision} scan cannot be overridden")
    moment = at if at is not None else clock.now(session)
    forced = replace(refused, at=moment, forced=True, reason=reason[:300], op_id=None)
    return record(session, ctx, forced)


def void_scan(session: Session, ctx: DeskContext, scan_op_id: str, reason: str) -> str:
    """Undo a scan (a check-in made by mistake) with a compensating operation; nothing is deleted.

    Returns the void's op id.
    """
    permissions.require(session, ctx, "undo_checkin")
    reason = " ".join(reason.split())
    if not reason:
        raise CheckinError("a reason is needed to undo a check-in")
    row = session.get(Scan, scan_op_id)
    if row is None or row.event_id != ctx.event_id:
        raise CheckinError(f"no scan {scan_op_id} on this desk")
    already = session.scalar(select(ScanVoid.op_id).where(ScanVoid.scan_op_id == scan_op_id))
    if already is not None:
        raise CheckinError("this scan was already undone")
    op = journal.record(
        session,
        ctx,
        "scan.void",
        {"scan_op_id": scan_op_id, "reason": reason[:300], "at": clock.now(session).isoformat()},
    )
    return op.op_id


def add_attendance(
    session: Session,
    ctx: DeskContext,
    attendee_id: str,
    session_id: str,
    reason: str,
    at: datetime | None = None,
) -> ScanResult:
    """A supervisor records someone as attending a session (a forced entry with a reason).

    ``at`` defaults to the session's start, as a paper sign-in sheet would say.
    """
    permissions.require(session, ctx, "edit_attendance")
    reason = " ".join(reason.split())
    if not reason:
        raise CheckinError("a reason is needed to add attendance")
    event = session.get(Event, ctx.event_id)
    door = session.get(EventSession, session_id)
    if event is None or door is None or door.event_id != ctx.event_id:
        raise CheckinError(f"no session {session_id} in this event")
    row = session.get(Attendee, attendee_id)
    if row is None or row.event_id != ctx.event_id:
        raise CheckinError(f"no attendee {attendee_id} in this event")
    moment = at or door.starts_at or clock.now(session)
    result = ScanResult(
        decision="ok",
        at=moment,
        direction="entry",
        input_kind="manual",
        raw="added by a supervisor",
        attendee_id=attendee_id,
        attendee=AttendeeInfo.of(row),
        session=_session_info(door, event),
        forced=True,
        reason=reason[:300],
    )
    return record(session, ctx, result)


def remove_attendance(
    session: Session, ctx: DeskContext, attendee_id: str, session_id: str, reason: str
) -> int:
    """A supervisor removes someone's attendance of a session: voids every scan there.

    Returns how many scans were voided.
    """
    permissions.require(session, ctx, "edit_attendance")
    reason = " ".join(reason.split())
    if not reason:
        raise CheckinError("a reason is needed to remove attendance")
    op_ids = list(
        session.scalars(
            select(Scan.op_id)
            .where(Scan.event_id == ctx.event_id, Scan.session_id == session_id)
            .where(Scan.attendee_id == attendee_id, attendance.counted())
        )
    )
    for op_id in op_ids:
        void_scan(session, ctx, op_id, reason)
    return len(op_ids)


@dataclass(frozen=True)
class RecentScan:
    """A scan made at this desk, for the station's history list."""

    op_id: str
    at: datetime
    decision: str
    direction: str
    attendee_id: str | None
    name: str
    forced: bool
    voided: bool


def recent_scans(
    session: Session, event_id: str, desk_id: str, limit: int = 12
) -> list[RecentScan]:
    """This desk's latest scans, newest first."""
    rows = session.execute(
        select(
            Scan.op_id,
            Scan.at,
            Scan.decision,
            Scan.direction,
            Scan.attendee_id,
            Scan.forced,
            Attendee.given_name,
            Attendee.family_name,
            Attendee.badge_name,
        )
        .outerjoin(Attendee, Attendee.id == Scan.attendee_id)
        .where(Scan.event_id == event_id, Scan.desk_id == desk_id)
        .order_by(Scan.hlc.desc())
        .limit(limit)
    ).all()
    voided = set(
        session.scalars(
            select(ScanVoid.scan_op_id).where(ScanVoid.scan_op_id.in_([r.op_id for r in rows]))
        )
    )
    result: list[RecentScan] = []
    for r in rows:
        name = " ".join(p for p in (r.given_name, r.family_name) if p) or (r.badge_name or "")
        result.append(
            RecentScan(
                r.op_id, r.at, r.decision, r.direction, r.attendee_id, name, bool(r.forced),
                r.op_id in voided,
            )
        )  # fmt: skip
    return result
