"""Personal data (the Philippine Data Privacy Act): what we hold about a person, and erasing it.

*Export* gathers everything this desk holds about one attendee into one JSON document (their
record, scans, badges, certificates and every journal operation about them), to answer a
request for access.

*Erase* is an ``attendee.erase`` operation, so every desk that receives it erases too. It
blanks the fields that identify a person (:data:`desktop.journal.PERSONAL_FIELDS`), the names
printed on certificates, the reasons supervisors typed for a certificate decision or for an
admission despite a refusal, and the journal's own copies of them; and it absorbs: a put made
before or after it, arriving in any order, never brings the data back. Gender, country,
category, status and the scans (without those reasons) stay, so reports keep their anonymous
counts. The reason given for undoing a scan is kept: it names no attendee to erase by.

The hub keeps its own copy of the operations it received; erasing there is the hub
administrator's task (the desks' role may only insert and read).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, or_, select
from sqlalchemy.orm import Session

from desktop import journal, permissions, registry
from desktop.journal import ERASED_CLOCK, PERSONAL_FIELDS, DeskContext
from desktop.models import (
    Attendee,
    BadgePrint,
    Certificate,
    Desk,
    Event,
    EventSession,
    Operation,
    Operator,
    Scan,
    ScanVoid,
)

EXPORT_FORMAT = "eventdesk-personal-data"
# Scan decisions that mean the person was let in.
ADMITTED = ("ok", "not_synced")


class PrivacyError(Exception):
    """A privacy request that cannot be done as asked."""


def is_erased(row: Attendee) -> bool:
    """Whether this attendee's personal data were erased."""
    return (row.field_hlc or {}).get("given_name") == ERASED_CLOCK


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(obj: Any, skip: tuple[str, ...] = ("field_hlc",)) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {c.key: _plain(getattr(obj, c.key)) for c in mapper.column_attrs if c.key not in skip}


def _attendee(session: Session, event_id: str, ref: str) -> Attendee:
    info = registry.get(session, event_id, ref)
    row = session.get(Attendee, info.id) if info is not None else session.get(Attendee, ref)
    if row is None or row.event_id != event_id:
        raise PrivacyError(f"no attendee {ref!r} in this event")
    return row


def export_attendee(session: Session, ctx: DeskContext, ref: str) -> dict[str, Any]:
    """Everything this desk holds about one attendee, as one JSON-ready document."""
    permissions.require(session, ctx, "export_personal_data")
    row = _attendee(session, ctx.event_id, ref)
    event = session.get(Event, ctx.event_id)
    titles = dict(
        session.execute(
            select(EventSession.id, EventSession.title).where(EventSession.event_id == ctx.event_id)
        ).all()
    )
    desks = dict(session.execute(select(Desk.id, Desk.name)).all())
    scans = list(session.scalars(select(Scan).where(Scan.attendee_id == row.id).order_by(Scan.at)))
    scan_ids = [s.op_id for s in scans]
    voided = set(
        session.scalars(select(ScanVoid.scan_op_id).where(ScanVoid.scan_op_id.in_(scan_ids)))
    )
    about = or_(
        func.json_extract(Operation.payload, "$.id") == row.id,
        func.json_extract(Operation.payload, "$.attendee_id") == row.id,
        func.json_extract(Operation.payload, "$.scan_op_id").in_(scan_ids),
    )
    ops = session.scalars(
        select(Operation)
        .where(Operation.event_id == ctx.event_id)
        .where(Operation.kind.not_in(("event.put", "desk.put", "session.put", "operator.put")))
        .where(about)
        .order_by(Operation.hlc)
    )
    who = permissions.actor(session, ctx)
    return {
        "format": EXPORT_FORMAT,
        "version": 1,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "exported_by": who.name,
        "controller": {
            "event": event.name if event else "",
            "organiser": event.organiser if event else "",
        },
        "erased": is_erased(row),
        "attendee": _row(row),
        "scans": [
            {
                **_row(s, skip=("hlc", "raw")),
                "session": titles.get(s.session_id or "", ""),
                "desk": desks.get(s.desk_id, s.desk_id),
                "voided": s.op_id in voided,
            }
            for s in scans
        ],
        "badges_printed": [
            _row(b, skip=("hlc",))
            for b in session.scalars(
                select(BadgePrint).where(BadgePrint.attendee_id == row.id).order_by(BadgePrint.at)
            )
        ],
        "certificates": [
            _row(c, skip=("hlc",))
            for c in session.scalars(
                select(Certificate)
                .where(Certificate.attendee_id == row.id)
                .order_by(Certificate.issued_at)
            )
        ],
        "operations": [
            {
                "op_id": op.op_id,
                "kind": op.kind,
                "at": _plain(_op_time(op.hlc)),
                "desk": desks.get(op.desk_id, op.desk_id),
                "operator": _operator_name(session, op.operator_id),
                "payload": op.payload,
            }
            for op in ops
        ],
    }


def _op_time(hlc: str) -> datetime:
    wall, _, _ = journal.parse_hlc(hlc)
    return datetime.fromtimestamp(wall / 1000, UTC).replace(tzinfo=None)


def _operator_name(session: Session, operator_id: str | None) -> str:
    if operator_id is None:
        return ""
    row = session.get(Operator, operator_id)
    return row.name if row is not None else operator_id


def export_to_file(session: Session, ctx: DeskContext, ref: str, path: Path) -> dict[str, Any]:
    """Write :func:`export_attendee` to ``path`` (readable by its owner only); returns it."""
    document = export_attendee(session, ctx, ref)
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
    temp = path.with_name(f".{path.name}.partial")
    with open(temp, "w", encoding="utf-8", opener=_private_opener) as handle:
        handle.write(text)
    temp.replace(path)
    return document


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def event_has_ended(session: Session, event_id: str, today: date | None = None) -> bool:
    """Whether the event's last day is past, in the event's own time zone."""
    event = session.get(Event, event_id)
    if event is None or event.ends_on is None:
        return False
    if today is None:
        today = datetime.now(ZoneInfo(event.timezone or "UTC")).date()
    return event.ends_on < today


def erase_attendee(session: Session, ctx: DeskContext, ref: str) -> str:
    """Erase one person's personal data (a request for erasure); returns the attendee id."""
    permissions.require(session, ctx, "erase_personal_data")
    row = _attendee(session, ctx.event_id, ref)
    journal.record(session, ctx, "attendee.erase", {"id": row.id})
    return row.id


def erase_event(
    session: Session, ctx: DeskContext, *, before_end: bool = False, today: date | None = None
) -> int:
    """Erase every attendee's personal data after the event; returns how many were erased.

    Refused while the event is still on unless ``before_end`` is given.
    """
    permissions.require(session, ctx, "erase_personal_data")
    if not before_end and not event_has_ended(session, ctx.event_id, today):
        raise PrivacyError(
            "the event has not ended yet: erase personal data after its last day "
            "(or say so explicitly to erase now)"
        )
    count = (
        session.scalar(
            select(func.count()).select_from(Attendee).where(Attendee.event_id == ctx.event_id)
        )
        or 0
    )
    journal.record(session, ctx, "attendee.erase", {"scope": "event"})
    return int(count)


def purge_free_space(db_path: Path) -> None:
    """Rewrite the database file so erased text survives in no free page or write-ahead log.

    Run after an erase has committed; SQLite otherwise leaves old row images on disk.
    """
    db = sqlite3.connect(db_path, timeout=30)
    try:
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def anonymous_counts(session: Session, event_id: str) -> dict[str, dict[str, int]]:
    """Counts for reports that survive erasure: by country, category, gender and attendance."""
    rows = session.execute(
        select(Attendee.id, Attendee.country, Attendee.category, Attendee.gender)
        .where(Attendee.event_id == event_id)
        .where(Attendee.status != "cancelled")
    ).all()
    voided = select(ScanVoid.scan_op_id).where(ScanVoid.event_id == event_id)
    present = set(
        session.scalars(
            select(Scan.attendee_id)
            .where(Scan.event_id == event_id)
            .where(Scan.decision.in_(ADMITTED))
            .where(Scan.op_id.not_in(voided))
            .distinct()
        )
    )
    return {
        "country": dict(Counter(r.country or "unknown" for r in rows)),
        "category": dict(Counter(r.category or "unknown" for r in rows)),
        "gender": dict(Counter(r.gender or "unknown" for r in rows)),
        "attendance": {
            "attended": sum(1 for r in rows if r.id in present),
            "absent": sum(1 for r in rows if r.id not in present),
        },
    }


def personal_fields() -> tuple[str, ...]:
    """The attendee fields an erase blanks."""
    return PERSONAL_FIELDS
