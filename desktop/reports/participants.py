"""The participant list as international organisations present it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from desktop.reports.base import (
    category_label,
    economy,
    gender_label,
    listed_name,
    load_event,
    load_people,
    people_in_list_order,
)
from desktop.reports.options import ReportOptions
from desktop.reports.table import Cell, Table, table


def participant_list(
    session: Session, event_id: str, now: datetime, _options: ReportOptions
) -> Table:
    """No., name, economy, organisation, position, gender, category of everyone registered."""
    event = load_event(session, event_id)
    people = people_in_list_order(load_people(session, event_id).values())
    rows: list[tuple[Cell, ...]] = [
        (
            number,
            listed_name(p),
            economy(p.country),
            p.organisation,
            p.position,
            gender_label(p.gender or ""),
            category_label(p.category),
        )
        for number, p in enumerate(people, start=1)
    ]
    return table(
        "participants",
        "List of participants",
        [
            ("No.", "int"),
            ("Name", "text"),
            ("Economy", "text"),
            ("Organisation", "text"),
            ("Position", "text"),
            ("Gender", "text"),
            ("Category", "text"),
        ],
        rows,
        subtitle=event.subtitle(event.local(now)),
        notes=(
            "Registered attendees (cancelled registrations left out), grouped by category "
            "(participants first, secretariat last), then by economy and family name.",
            "Family names are in capitals.",
        ),
    )
