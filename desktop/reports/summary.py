"""The organiser's summary: participants by economy, gender, origin and category; attendance
rates per session and per day. Figures only, no names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from desktop.reports.base import day_label
from desktop.reports.figures import EventFigures, GroupFigure, event_figures
from desktop.reports.options import ReportOptions
from desktop.reports.table import Cell, Table, table


def summary_table(figures: EventFigures) -> Table:
    """The figures as one table, a section per block (filter on the first column)."""
    rows: list[tuple[Cell, ...]] = []
    total = figures.registered

    def groups(section: str, items: list[GroupFigure]) -> None:
        for g in items:
            share = g.registered / total if total else 0.0
            rows.append((section, g.label, g.registered, g.arrived, g.rate, share, None))

    rows.append(("All participants", "Registered", total, figures.arrived, figures.rate, 1.0, None))
    groups("By economy", figures.by_country)
    groups("By gender", figures.by_gender)
    groups("Overseas and local", figures.by_origin)
    groups("By category", figures.by_category)
    for s in figures.sessions:
        when = f"{s.starts_at:%a %d %b %H:%M} " if s.starts_at else ""
        rows.append(
            ("Attendance per session", f"{when}{s.title}", s.expected, s.arrived, s.rate,
             None, s.capacity)
        )  # fmt: skip
    for d in figures.days:
        rows.append(
            ("Attendance per day", day_label(d.day), d.registered, d.arrived, d.rate, None, None)
        )
    notes = [
        "Arrived: admitted at least once at any door (entrance or session). Rate: arrived "
        "divided by registered. For a session, Registered counts the registered attendees "
        "it is open to (its categories); Seats is its capacity.",
        "Overseas: an economy other than the event's own country; local: the event's country.",
    ]
    if figures.scans == 0:
        notes.append("No scans have been recorded yet: every attendance figure is 0.")
    return table(
        "summary",
        "Summary for the organiser's report",
        [
            ("Section", "text"),
            ("Item", "text"),
            ("Registered", "int"),
            ("Arrived", "int"),
            ("Rate", "percent"),
            ("Share of registered", "percent"),
            ("Seats", "int"),
        ],
        rows,
        subtitle=figures.event.subtitle(figures.generated_at),
        notes=notes,
    )


def summary(session: Session, event_id: str, now: datetime, _options: ReportOptions) -> Table:
    """The organiser's summary as a table."""
    return summary_table(event_figures(session, event_id, now=now))
