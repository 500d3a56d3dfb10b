"""What every report reads: the event, its days and programme, its people, in venue time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop import attendance
from desktop.countries import country_name
from desktop.events import event_zone, utc_to_local
from desktop.models import CATEGORIES, CATEGORY_LABELS, Attendee, Event, EventSession, Scan
from desktop.overview import format_date_range
from desktop.reports.table import ReportError

_A = Attendee.__table__.c
# The order international organisations list delegates in: participants first, the
# secretariat last.
CATEGORY_ORDER = (
    "participant",
    "local_participant",
    "resource_person",
    "observer",
    "vip",
    "secretariat",
)
GENDER_LABELS = {"male": "Male", "female": "Female", "": "Not given"}
ERASED_NAME = "(personal data erased)"
UNSYNCED_NAME = "(not on this desk yet)"


@dataclass(frozen=True)
class EventFacts:
    """The event as reports print it, with its time zone and days."""

    id: str
    name: str
    code: str
    organiser: str
    venue: str
    city: str
    country: str
    zone: ZoneInfo
    starts_on: date | None
    ends_on: date | None

    @property
    def dates_text(self) -> str:
        return format_date_range(self.starts_on, self.ends_on)

    def subtitle(self, generated_at: datetime) -> str:
        """'Event name · 28–29 August 2024 · Manila · as of 28 Aug 2024 10:15 (venue time)'."""
        parts = [self.name, self.dates_text, self.city or self.venue]
        as_of = f"as of {generated_at:%d %b %Y %H:%M} ({self.zone.key} time)"
        return " · ".join(p for p in (*parts, as_of) if p)

    def local(self, moment_utc: datetime) -> datetime:
        """A stored naive UTC time as naive venue time (what a spreadsheet cell holds)."""
        return utc_to_local(moment_utc, self.zone).replace(tzinfo=None)


def load_event(session: Session, event_id: str) -> EventFacts:
    """The event, or ReportError when this desk does not have it."""
    row = session.get(Event, event_id)
    if row is None:
        raise ReportError("no event open on this desk: run `eventdesk demo` or create one")
    return EventFacts(
        id=row.id,
        name=row.name,
        code=row.code,
        organiser=row.organiser,
        venue=row.venue,
        city=row.city,
        country=(row.country or "").upper(),
        zone=event_zone(row),
        starts_on=row.starts_on,
        ends_on=row.ends_on,
    )


def load_sessions(session: Session, event_id: str) -> list[EventSession]:
    """The programme in time order (deleted sessions left out)."""
    return list(
        session.scalars(
            select(EventSession)
            .where(EventSession.event_id == event_id, EventSession.status != "deleted")
            .order_by(EventSession.starts_at, EventSession.title, EventSession.id)
        )
    )


def session_day(item: EventSession, event: EventFacts) -> date | None:
    """The venue day a session is on."""
    if item.starts_at is not None:
        return event.local(item.starts_at).date()
    return item.day


def event_days(event: EventFacts, sessions: Sequence[EventSession]) -> list[date]:
    """The days of the event: its dates, else the days its sessions are on."""
    if event.starts_on is not None:
        end = event.ends_on if event.ends_on and event.ends_on >= event.starts_on else None
        last = end or event.starts_on
        if (last - event.starts_on).days <= 366:
            count = (last - event.starts_on).days + 1
            return [event.starts_on + timedelta(days=n) for n in range(count)]
    return sorted({d for d in (session_day(s, event) for s in sessions) if d is not None})


def session_label(item: EventSession, event: EventFacts) -> str:
    """'Opening Session (Wed 28 Aug 09:00)': a session as a column heading reads."""
    if item.starts_at is None:
        return item.title or item.id
    return f"{item.title} ({event.local(item.starts_at):%a %d %b %H:%M})"


def day_label(day: date) -> str:
    return f"{day:%a %d %b %Y}"


def category_label(key: str) -> str:
    return CATEGORY_LABELS.get(key, key.replace("_", " ").capitalize() or "Not given")


def category_rank(key: str) -> int:
    return CATEGORY_ORDER.index(key) if key in CATEGORY_ORDER else len(CATEGORY_ORDER)


def gender_label(key: str) -> str:
    return GENDER_LABELS.get(key.lower(), key.capitalize())


def economy(code: str) -> str:
    """The economy's name as APO documents print it ('' when not given)."""
    return country_name(code) if code else ""


def listed_name(row: Person) -> str:
    """A person's name as an international list prints it: honorific, family name in capitals.

    A badge name that already marks the family name in capitals keeps its order (family name
    first for Japanese or Korean names, for example); otherwise given name then FAMILY.
    """
    given, family = (row.given_name or "").strip(), (row.family_name or "").strip()
    badge = (row.badge_name or "").strip()
    if any(len(word) > 1 and word.isupper() for word in badge.split()):
        core = badge
    elif family:
        core = f"{given} {family.upper()}".strip()
    else:
        core = given or badge
    if not core:
        return ERASED_NAME
    honorific = (row.honorific or "").strip()
    return f"{honorific} {core}" if honorific else core


# A row of PERSON_COLUMNS (SQLAlchemy's Row of fourteen columns; attribute access by name).
Person = Any

PERSON_COLUMNS = (
    _A.id,
    _A.short_code,
    _A.honorific,
    _A.given_name,
    _A.family_name,
    _A.badge_name,
    _A.gender,
    _A.country,
    _A.organisation,
    _A.position,
    _A.category,
    _A.email,
    _A.phone,
    _A.status,
)


def load_people(
    session: Session, event_id: str, *, registered_only: bool = True
) -> dict[str, Person]:
    """Attendees by id as light rows (Core, not ORM objects: 100,000 of them load in a blink)."""
    query = select(*PERSON_COLUMNS).where(_A.event_id == event_id)
    if registered_only:
        query = query.where(_A.status == "registered")
    return {row.id: row for row in session.execute(query)}


def people_in_list_order(people: Iterable[Person]) -> list[Person]:
    """By category group, then economy, then family and given name."""
    return sorted(
        people,
        key=lambda r: (
            category_rank(r.category),
            economy(r.country).casefold() or "\uffff",
            (r.family_name or r.badge_name or "").casefold(),
            (r.given_name or "").casefold(),
            r.id,
        ),
    )


def scan_count(session: Session, event_id: str) -> int:
    """How many scans the event has (of any decision)."""
    return int(session.scalar(select(func.count()).where(Scan.event_id == event_id)) or 0)


def require_scans(session: Session, event_id: str, what: str) -> None:
    """ReportError when nothing has been scanned yet: an attendance report would be all blank."""
    admitted = session.scalar(
        select(func.count())
        .select_from(Scan)
        .where(Scan.event_id == event_id, attendance.counted(), attendance.admitted_entry())
    )
    if not admitted:
        raise ReportError(
            f"no one has been admitted yet, so there is no {what} to report: scan badges at "
            "the entrance or session doors first (or sync with the desks that did)"
        )


def venue_day(event: EventFacts, moment_utc: datetime) -> date:
    return attendance.local_day(event.zone, moment_utc)


__all__ = [
    "CATEGORIES",
    "ERASED_NAME",
    "UNSYNCED_NAME",
    "EventFacts",
    "Person",
    "category_label",
    "category_rank",
    "day_label",
    "economy",
    "event_days",
    "gender_label",
    "listed_name",
    "load_event",
    "load_people",
    "load_sessions",
    "people_in_list_order",
    "require_scans",
    "scan_count",
    "session_day",
    "session_label",
    "venue_day",
]
