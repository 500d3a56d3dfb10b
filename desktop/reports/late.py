"""Late arrivals: first arrival of the day after the day's first counting session began.

Definition (printed with the report): on each venue day, the *reference session* for an
attendee is the earliest session that day that counts towards the certificate and is open to
the attendee's category. The attendee is late that day when their first admitted entry of the
day, at any door, is later than that session's start plus the grace (15 minutes unless
chosen). Someone who did not come that day is not late (see no-shows); a day without a
counting session has no late arrivals.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop import attendance
from desktop.models import EventSession, Scan
from desktop.reports.base import (
    UNSYNCED_NAME,
    category_label,
    day_label,
    economy,
    event_days,
    listed_name,
    load_event,
    load_people,
    load_sessions,
    require_scans,
    session_day,
)
from desktop.reports.options import ReportOptions
from desktop.reports.table import Cell, Table, table

_S = Scan.__table__.c


def _first_entries(session: Session, event_id: str, window: tuple[datetime, datetime]) -> list[Any]:
    """Per attendee, their first admitted entry in the window: (attendee, at, desk)."""
    rank = (
        func.row_number().over(partition_by=_S.attendee_id, order_by=(_S.at, _S.hlc)).label("rank")
    )
    entries = (
        select(_S.attendee_id, _S.at, _S.desk_id, rank)
        .where(_S.event_id == event_id, _S.at >= window[0], _S.at < window[1])
        .where(attendance.counted(), attendance.admitted_entry())
        .subquery()
    )
    return list(
        session.execute(
            select(entries.c.attendee_id, entries.c.at, entries.c.desk_id).where(
                entries.c.rank == 1
            )
        )
    )


def _reference(day_sessions: list[EventSession], category: str) -> EventSession | None:
    for item in day_sessions:
        if not item.categories or category in item.categories:
            return item
    return None


def late_arrivals(session: Session, event_id: str, now: datetime, options: ReportOptions) -> Table:
    """Who arrived after the day's first counting session had started (plus the grace)."""
    event = load_event(session, event_id)
    require_scans(session, event_id, "arrival")
    grace = timedelta(minutes=max(0, options.late_grace_minutes))
    sessions = [s for s in load_sessions(session, event_id) if s.starts_at is not None]
    people = load_people(session, event_id, registered_only=False)
    found: list[tuple[date, float, str, tuple[Cell, ...]]] = []
    for day in event_days(event, sessions):
        counting = [
            s for s in sessions if s.counts_for_certificate and session_day(s, event) == day
        ]
        if not counting:
            continue
        window = attendance.day_bounds(event.zone, day)
        firsts = _first_entries(session, event_id, window)
        desk_ids = {r.desk_id for r in firsts}
        names = attendance.desk_names(session, desk_ids)
        for attendee_id, first_at, desk_id in firsts:
            person = people.get(attendee_id)
            category = person.category if person is not None else ""
            reference = _reference(counting, category)
            if reference is None or reference.starts_at is None:
                continue
            if first_at <= reference.starts_at + grace:
                continue
            late_by = (first_at - reference.starts_at).total_seconds() / 60
            name = listed_name(person) if person is not None else f"{UNSYNCED_NAME} {attendee_id}"
            row: tuple[Cell, ...] = (
                day_label(day),
                name,
                economy(person.country) if person is not None else "",
                person.organisation if person is not None else "",
                category_label(category) if person is not None else "",
                event.local(first_at),
                names.get(desk_id, desk_id),
                reference.title,
                event.local(reference.starts_at),
                int(late_by),
            )
            found.append((day, -late_by, name.casefold(), row))
    found.sort(key=lambda item: item[:3])
    rows: list[tuple[Cell, ...]] = [item[3] for item in found]
    minutes = options.late_grace_minutes
    return table(
        "late-arrivals",
        "Late arrivals",
        [
            ("Day", "text"),
            ("Name", "text"),
            ("Economy", "text"),
            ("Organisation", "text"),
            ("Category", "text"),
            ("First arrival", "datetime"),
            ("Desk", "text"),
            ("First session", "text"),
            ("Session started", "datetime"),
            ("Minutes late", "int"),
        ],
        rows,
        subtitle=event.subtitle(event.local(now)),
        notes=(
            "Late: the first admitted entry of the day (any door) came more than "
            f"{minutes} minutes after the start of the day's first session that counts "
            "towards the certificate and is open to the attendee's category.",
            "Absent days are not late days (see the no-shows report); days without a "
            "counting session have no late arrivals. Times are venue time.",
        ),
    )
