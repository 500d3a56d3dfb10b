"""The audit trail: who changed what, at which desk and when, read from the journal.

Every operation already carries its desk and operator; this module only queries them. The
time of an operation is the wall-clock part of its hybrid logical clock: when it was made at
its own desk, not when it reached this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from desktop import journal, permissions
from desktop.journal import DeskContext
from desktop.models import Attendee, Desk, Operation, Operator

# The operator filter value for operations made with nobody signed in (command line, scripts).
NO_OPERATOR = "-"
NOBODY = "(nobody signed in)"


@dataclass(frozen=True)
class AuditFilter:
    """What to show; None means any. Times are naive UTC, ``until`` exclusive."""

    operator_id: str | None = None
    desk_id: str | None = None
    kinds: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One operation as the audit view shows it."""

    op_id: str
    at: datetime  # naive UTC
    kind: str
    operator_id: str | None
    operator: str
    desk_id: str
    desk: str
    summary: str


@dataclass(frozen=True)
class AuditChoices:
    """The values the filters can take in this event: (id, label) pairs and kinds."""

    operators: list[tuple[str, str]]
    desks: list[tuple[str, str]]
    kinds: list[str]


def _clock_bound(moment: datetime) -> str:
    """The smallest clock text at or after ``moment`` (clocks start with 13-digit ms)."""
    ms = int(moment.replace(tzinfo=UTC).timestamp() * 1000)
    return f"{ms:013d}"


def _filtered(query: Select[Any], event_id: str, flt: AuditFilter) -> Select[Any]:
    query = query.where(Operation.event_id == event_id)
    if flt.operator_id == NO_OPERATOR:
        query = query.where(Operation.operator_id.is_(None))
    elif flt.operator_id is not None:
        query = query.where(Operation.operator_id == flt.operator_id)
    if flt.desk_id is not None:
        query = query.where(Operation.desk_id == flt.desk_id)
    if flt.kinds:
        query = query.where(Operation.kind.in_(flt.kinds))
    if flt.since is not None:
        query = query.where(Operation.hlc >= _clock_bound(flt.since))
    if flt.until is not None:
        query = query.where(Operation.hlc < _clock_bound(flt.until))
    return query


def count(session: Session, ctx: DeskContext, flt: AuditFilter) -> int:
    """How many operations match (supervisors and administrators only)."""
    permissions.require(session, ctx, "view_audit")
    query = _filtered(select(func.count()).select_from(Operation), ctx.event_id, flt)
    return int(session.scalar(query) or 0)


def query(
    session: Session, ctx: DeskContext, flt: AuditFilter, *, limit: int = 500, offset: int = 0
) -> list[AuditEntry]:
    """Matching operations, newest first (supervisors and administrators only)."""
    permissions.require(session, ctx, "view_audit")
    rows = session.scalars(
        _filtered(select(Operation), ctx.event_id, flt)
        .order_by(Operation.hlc.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    operators = _names(session, Operator, {r.operator_id for r in rows if r.operator_id})
    desks = _names(session, Desk, {r.desk_id for r in rows})
    people = _people(session, rows)
    return [
        AuditEntry(
            op_id=r.op_id,
            at=_time(r.hlc),
            kind=r.kind,
            operator_id=r.operator_id,
            operator=operators.get(r.operator_id or "", r.operator_id or NOBODY),
            desk_id=r.desk_id,
            desk=desks.get(r.desk_id, r.desk_id),
            summary=describe(r.kind, r.payload, people),
        )
        for r in rows
    ]


def _time(hlc: str) -> datetime:
    wall, _, _ = journal.parse_hlc(hlc)
    return datetime.fromtimestamp(wall / 1000, UTC).replace(tzinfo=None)


def _names(session: Session, model: type[Operator] | type[Desk], ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(ids))).all()
    return {str(key): str(name) for key, name in rows}


def _people(session: Session, rows: Any) -> dict[str, str]:
    ids = set()
    for r in rows:
        for key in ("attendee_id", "id"):
            value = r.payload.get(key)
            if isinstance(value, str):
                ids.add(value)
    if not ids:
        return {}
    found = session.execute(
        select(Attendee.id, Attendee.short_code).where(Attendee.id.in_(ids))
    ).all()
    return {aid: code for aid, code in found if code}


DECISION_WORDS = {
    "ok": "admitted",
    "exit_ok": "left",
    "already_in": "already inside",
    "not_synced": "admitted (record not on this desk yet)",
    "invalid": "not a badge",
    "forged": "forged badge",
    "wrong_event": "badge of another event",
    "revoked": "revoked badge",
    "cancelled": "registration cancelled",
    "not_open": "session not open",
    "session_full": "session full",
    "not_permitted": "not admitted to this session",
}


def describe(kind: str, payload: dict[str, Any], people: dict[str, str]) -> str:
    """One short line about an operation: whom it concerns and what it changed.

    Names the attendee by short code, not by name: the trail is shown on a desk's screen.
    """
    person = people.get(str(payload.get("attendee_id") or payload.get("id") or ""), "")
    if kind == "scan":
        decision = str(payload.get("decision", "?"))
        words = DECISION_WORDS.get(decision, decision)
        forced = ", let in by a supervisor" if payload.get("forced") else ""
        return f"{person or 'unknown badge'}: {words}{forced}"
    if kind == "picture.put":
        return f"a certificate picture ({str(payload.get('id', ''))[:8]})"
    if kind == "attendee.put" and payload.get("short_code"):
        return f"{person or payload['short_code']}: registered"
    if kind.endswith(".put"):
        fields = sorted(
            k.replace("_", " ") for k in payload if k not in ("id", "field_hlc", "secret_hash")
        )
        if "secret_hash" in payload:
            fields.append("PIN")
        subject = person or str(payload.get("name") or payload.get("title") or "")
        changed = ", ".join(fields[:6]) + (" …" if len(fields) > 6 else "")
        return f"{subject}: {changed}" if subject else changed
    if kind == "attendee.erase":
        return "every attendee" if payload.get("scope") == "event" else person
    reason = str(payload.get("reason") or "")
    detail = f" ({reason})" if reason else ""
    if kind == "scan.void":
        return f"scan {str(payload.get('scan_op_id', ''))[:8]}…{detail}"
    return f"{person}{detail}".strip()


def choices(session: Session, event_id: str) -> AuditChoices:
    """Operators, desks and kinds that appear in the event's journal, for the filters."""
    operator_ids = set(
        session.scalars(
            select(Operation.operator_id).where(Operation.event_id == event_id).distinct()
        )
    )
    names = _names(session, Operator, {o for o in operator_ids if o})
    operators = sorted(
        ((o, names.get(o, o)) for o in operator_ids if o), key=lambda pair: pair[1].casefold()
    )
    if None in operator_ids:
        operators.append((NO_OPERATOR, NOBODY))
    desk_ids = set(
        session.scalars(select(Operation.desk_id).where(Operation.event_id == event_id).distinct())
    )
    desk_names = _names(session, Desk, desk_ids)
    desks = sorted(((d, desk_names.get(d, d)) for d in desk_ids), key=lambda p: p[1].casefold())
    kinds = sorted(
        session.scalars(select(Operation.kind).where(Operation.event_id == event_id).distinct())
    )
    return AuditChoices(operators, desks, kinds)
