"""No-shows: registered attendees never admitted at any door during the event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop import attendance
from desktop.models import BadgePrint
from desktop.reports.base import (
    category_label,
    economy,
    listed_name,
    load_event,
    load_people,
    people_in_list_order,
    require_scans,
)
from desktop.reports.options import ReportOptions
from desktop.reports.table import Cell, Table, table


def no_shows(session: Session, event_id: str, now: datetime, _options: ReportOptions) -> Table:
    """Everyone registered who has no admitted entry, with how to reach them."""
    event = load_event(session, event_id)
    require_scans(session, event_id, "no-show")
    arrived = attendance.checked_in_ids(session, event_id)
    printed = set(
        session.scalars(
            select(BadgePrint.attendee_id).where(BadgePrint.event_id == event_id).distinct()
        )
    )
    people = people_in_list_order(
        p for pid, p in load_people(session, event_id).items() if pid not in arrived
    )
    rows: list[tuple[Cell, ...]] = [
        (
            number,
            listed_name(p),
            economy(p.country),
            p.organisation,
            category_label(p.category),
            p.email,
            p.phone,
            "Yes" if p.id in printed else "No",
        )
        for number, p in enumerate(people, start=1)
    ]
    return table(
        "no-shows",
        "No-shows",
        [
            ("No.", "int"),
            ("Name", "text"),
            ("Economy", "text"),
            ("Organisation", "text"),
            ("Category", "text"),
            ("E-mail", "text"),
            ("Phone", "text"),
            ("Badge printed", "text"),
        ],
        rows,
        subtitle=event.subtitle(event.local(now)),
        notes=(
            "Registered attendees with no admitted entry at the entrance or any session door "
            "so far (voided scans do not count). Scans still on desks that have not synced "
            "are not seen here.",
        ),
    )
