"""The event at a glance: what the home screen and the status bar show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop.models import Attendee, Event, EventSession, Operation


@dataclass(frozen=True)
class EventSummary:
    """Plain figures about one event."""

    event_id: str
    name: str
    organiser: str
    venue: str
    city: str
    starts_on: date | None
    ends_on: date | None
    timezone: str
    attendees: int
    cancelled: int
    countries: int
    sessions: int
    operations_waiting: int

    @property
    def dates_text(self) -> str:
        """'28–29 August 2024' style dates."""
        return format_date_range(self.starts_on, self.ends_on)


def format_date_range(start: date | None, end: date | None) -> str:
    """A compact, readable date range."""
    if start is None:
        return ""
    if end is None or end == start:
        return f"{start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {start:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"


def summarise(session: Session, event_id: str) -> EventSummary | None:
    """Counts for the home screen; None when the event does not exist."""
    event = session.get(Event, event_id)
    if event is None:
        return None
    registered = Attendee.status == "registered"
    # One pass over the event's attendees for the three figures (100,000 rows at a large
    # event; this runs on the GUI thread whenever the window refreshes).
    figures = select(
        func.count().filter(registered),
        func.count().filter(~registered),
        func.count(func.distinct(Attendee.country)).filter(registered, Attendee.country != ""),
    ).where(Attendee.event_id == event_id)
    attendees, cancelled, countries = (int(n or 0) for n in session.execute(figures).one())
    sessions = (
        session.scalar(
            select(func.count()).where(
                EventSession.event_id == event_id, EventSession.status != "deleted"
            )
        )
        or 0
    )
    waiting = (
        session.scalar(
            select(func.count()).where(
                # "IS 0" rather than NOT: the (pushed, hlc) index then finds the few waiting.
                Operation.event_id == event_id,
                Operation.local,
                Operation.pushed.is_(False),
            )
        )
        or 0
    )
    return EventSummary(
        event_id=event.id,
        name=event.name,
        organiser=event.organiser,
        venue=event.venue,
        city=event.city,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        timezone=event.timezone,
        attendees=attendees,
        cancelled=cancelled,
        countries=countries,
        sessions=sessions,
        operations_waiting=waiting,
    )
