"""The attendance matrix: attendees down, sessions across, 1 where someone attended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from desktop import attendance
from desktop.reports.base import (
    UNSYNCED_NAME,
    category_label,
    economy,
    listed_name,
    load_event,
    load_people,
    load_sessions,
    people_in_list_order,
    require_scans,
    session_label,
)
from desktop.reports.options import ReportOptions
from desktop.reports.table import Cell, Format, ReportError, Table, table


def attendance_matrix(
    session: Session, event_id: str, now: datetime, _options: ReportOptions
) -> Table:
    """Every registered attendee against every session, totals per row and per column."""
    event = load_event(session, event_id)
    sessions = load_sessions(session, event_id)
    if not sessions:
        raise ReportError(
            "the event has no sessions yet, so there is no attendance matrix: "
            "add the programme first (Sessions area)"
        )
    require_scans(session, event_id, "attendance")
    attended = attendance.sessions_attended(session, event_id)
    people = load_people(session, event_id)
    everyone = load_people(session, event_id, registered_only=False)
    # Someone cancelled after attending still attended; someone this desk has not received
    # yet (a scan synced before their registration) is listed by id.
    extra = [pid for pid in attended if pid not in people]
    ordered = people_in_list_order(people.values()) + people_in_list_order(
        everyone[pid] for pid in extra if pid in everyone
    )
    unknown = sorted(pid for pid in extra if pid not in everyone)

    ids = [s.id for s in sessions]
    column_totals = [0] * len(ids)
    rows: list[tuple[Cell, ...]] = []

    def add(number: int, name: str, country: str, category: str, person_id: str) -> None:
        seen = attended.get(person_id, frozenset())
        marks: list[Cell] = []
        for index, sid in enumerate(ids):
            if sid in seen:
                marks.append(1)
                column_totals[index] += 1
            else:
                marks.append(None)
        rows.append((number, name, country, category, *marks, len(seen & set(ids))))

    for number, p in enumerate(ordered, start=1):
        add(number, listed_name(p), economy(p.country), category_label(p.category), p.id)
    for offset, pid in enumerate(unknown, start=len(ordered) + 1):
        add(offset, f"{UNSYNCED_NAME} {pid}", "", "", pid)
    rows.append((None, "Total", None, None, *column_totals, sum(column_totals)))

    columns: list[tuple[str, Format]] = [
        ("No.", "int"),
        ("Name", "text"),
        ("Economy", "text"),
        ("Category", "text"),
    ]
    columns += [(session_label(s, event), "int") for s in sessions]
    columns.append(("Sessions attended", "int"))
    return table(
        "attendance-matrix",
        "Attendance by session",
        columns,
        rows,
        subtitle=event.subtitle(event.local(now)),
        notes=(
            "1 = admitted to the session at least once (a forced admission counts; a voided "
            "scan does not). The last row and the last column are totals.",
        ),
        total_rows=1,
    )
