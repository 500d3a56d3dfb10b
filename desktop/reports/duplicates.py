"""Duplicate admissions found after sync: one badge let in at two desks that were apart.

Desks apart cannot see each other's scans, so the second desk admits a badge the first one
already admitted. After sync both scans are kept (nothing is rewritten) and this report
flags the later one: an admitting entry (``ok`` or ``not_synced``, not forced) at the same
door, while the person was already inside by an earlier admission at a *different* desk
with no exit in between. The entrance counts per venue day; each session is its own door.
A desk that had seen the earlier scan would have answered ``already_in``, so such a pair
means the desks had not synced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop import attendance
from desktop.models import Scan
from desktop.reports.base import (
    UNSYNCED_NAME,
    day_label,
    listed_name,
    load_event,
    load_people,
    load_sessions,
    require_scans,
    venue_day,
)
from desktop.reports.options import ReportOptions
from desktop.reports.table import Cell, Table, table

_S = Scan.__table__.c


@dataclass(frozen=True)
class Duplicate:
    """A later admission (``op_id``) made while an earlier one at another desk still held."""

    attendee_id: str
    session_id: str | None
    first_op_id: str
    first_at: datetime  # naive UTC
    first_desk_id: str
    op_id: str
    at: datetime
    desk_id: str


def find_duplicates(session: Session, event_id: str) -> list[Duplicate]:
    """Every flagged later admission, in time order."""
    event = load_event(session, event_id)
    admitting = attendance.admitted_entry() & ~_S.forced
    # Only people admitted at one door by more than one desk can have a duplicate.
    suspects = (
        select(_S.attendee_id, _S.session_id)
        .where(_S.event_id == event_id, attendance.counted(), admitting)
        .group_by(_S.attendee_id, _S.session_id)
        .having(func.count(func.distinct(_S.desk_id)) > 1)
    ).subquery()
    rows = session.execute(
        select(_S.op_id, _S.attendee_id, _S.session_id, _S.at, _S.hlc, _S.desk_id)
        .add_columns(_S.direction, _S.decision, _S.forced)
        .join(
            suspects,
            (suspects.c.attendee_id == _S.attendee_id)
            & (func.coalesce(suspects.c.session_id, "") == func.coalesce(_S.session_id, "")),
        )
        .where(_S.event_id == event_id, attendance.counted())
        .order_by(_S.attendee_id, _S.session_id, _S.at, _S.hlc)
    ).all()
    found: list[Duplicate] = []
    door: tuple[object, ...] | None = None
    holder: Any = None  # the admission that has the person inside this door
    for row in rows:
        key = (
            row.attendee_id,
            row.session_id,
            venue_day(event, row.at) if row.session_id is None else None,
        )
        if key != door:
            door, holder = key, None
        if row.direction == "exit":
            holder = None
            continue
        plain = row.decision in attendance.ADMITTING and not row.forced
        if holder is not None and plain and row.desk_id != holder.desk_id:
            found.append(
                Duplicate(
                    attendee_id=row.attendee_id,
                    session_id=row.session_id,
                    first_op_id=holder.op_id,
                    first_at=holder.at,
                    first_desk_id=holder.desk_id,
                    op_id=row.op_id,
                    at=row.at,
                    desk_id=row.desk_id,
                )
            )
            continue  # the person stays inside by the first admission
        if holder is None:
            holder = row
    found.sort(key=lambda d: (d.at, d.op_id))
    return found


def duplicate_admissions(
    session: Session, event_id: str, now: datetime, _options: ReportOptions
) -> Table:
    """The flagged later admissions with the earlier one they repeat."""
    event = load_event(session, event_id)
    require_scans(session, event_id, "admission")
    found = find_duplicates(session, event_id)
    people = load_people(session, event_id, registered_only=False)
    titles = {s.id: s.title for s in load_sessions(session, event_id)}
    names = attendance.desk_names(
        session, {d.desk_id for d in found} | {d.first_desk_id for d in found}
    )
    rows: list[tuple[Cell, ...]] = []
    for d in found:
        person = people.get(d.attendee_id)
        rows.append(
            (
                day_label(venue_day(event, d.at)),
                "Entrance" if d.session_id is None else titles.get(d.session_id, d.session_id),
                listed_name(person) if person is not None else f"{UNSYNCED_NAME} {d.attendee_id}",
                person.short_code if person is not None else "",
                event.local(d.first_at),
                names.get(d.first_desk_id, d.first_desk_id),
                event.local(d.at),
                names.get(d.desk_id, d.desk_id),
                int((d.at - d.first_at).total_seconds() // 60),
                d.op_id,
            )
        )
    return table(
        "duplicates",
        "Duplicate admissions found after sync",
        [
            ("Day", "text"),
            ("Door", "text"),
            ("Name", "text"),
            ("Code", "text"),
            ("First admitted", "datetime"),
            ("First desk", "text"),
            ("Admitted again", "datetime"),
            ("Second desk", "text"),
            ("Minutes apart", "int"),
            ("Flagged scan", "text"),
        ],
        rows,
        subtitle=event.subtitle(event.local(now)),
        notes=(
            "A badge admitted again at another desk while the person was still inside by an "
            "earlier admission (no exit between): the desks had not synced. Both scans are "
            "kept; the later one is flagged. A supervisor may undo it in the check-in area.",
            "The entrance counts per venue day; each session is its own door.",
        ),
    )
