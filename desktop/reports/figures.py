"""The event's figures: registered against arrived by group, per session, per day, over time.

One computation feeds the organiser's summary table, the one-page PDF and the live dashboard,
so all three always agree. *Arrived* means admitted at least once at any door (entrance or
session; a forced admission counts, a voided scan does not), as :mod:`desktop.attendance`
defines it; only registered attendees are counted, so a rate never passes 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, Subquery, case, cast, func, select
from sqlalchemy.orm import Session

from desktop import attendance, checkin, clock
from desktop.checkin import DoorRules
from desktop.models import Attendee, Scan
from desktop.reports.base import (
    EventFacts,
    category_label,
    category_rank,
    economy,
    event_days,
    gender_label,
    load_event,
    load_sessions,
    scan_count,
    session_day,
)

_S = Scan.__table__.c
_A = Attendee.__table__.c
BIN_MINUTES = 15


@dataclass(frozen=True)
class GroupFigure:
    """One group of attendees (an economy, a category, a gender): registered and arrived."""

    key: str
    label: str
    registered: int
    arrived: int

    @property
    def rate(self) -> float:
        return self.arrived / self.registered if self.registered else 0.0


@dataclass(frozen=True)
class SessionFigure:
    """A session: who could come (its categories), who came, who is inside now, its seats."""

    id: str
    title: str
    day: date | None
    starts_at: datetime | None  # venue time, naive
    ends_at: datetime | None
    room: str
    capacity: int | None
    expected: int
    arrived: int
    inside: int
    counts_for_certificate: bool

    @property
    def rate(self) -> float:
        """Attendance against the registered attendees the session is open to."""
        return self.arrived / self.expected if self.expected else 0.0

    @property
    def fill(self) -> float:
        """Attendance against the seats (0 when the room has no stated capacity)."""
        return self.arrived / self.capacity if self.capacity else 0.0

    @property
    def short_label(self) -> str:
        when = f"{self.starts_at:%a %H:%M} " if self.starts_at else ""
        return f"{when}{self.title}"


@dataclass(frozen=True)
class DayFigure:
    """One venue day: registered attendees admitted anywhere that day."""

    day: date
    registered: int
    arrived: int

    @property
    def rate(self) -> float:
        return self.arrived / self.registered if self.registered else 0.0


@dataclass(frozen=True)
class TimeBin:
    """First arrivals of the day whose time falls in [start, start + bin)."""

    start: datetime  # venue time, naive
    count: int


@dataclass(frozen=True)
class RoomFigure:
    """A room now: the session on in it (if any) and the people inside."""

    room: str
    session_title: str
    inside: int
    capacity: int | None


@dataclass(frozen=True)
class EventFigures:
    """Everything the summary, the PDF and the dashboard show, computed at ``generated_at``."""

    event: EventFacts
    generated_at: datetime  # venue time, naive
    today: date | None  # the event day shown live (None before the first scan of the event)
    scans: int
    registered: int
    arrived: int
    by_country: list[GroupFigure]
    by_category: list[GroupFigure]
    by_gender: list[GroupFigure]
    by_origin: list[GroupFigure]
    sessions: list[SessionFigure]
    days: list[DayFigure]
    arrivals: dict[date, list[TimeBin]]
    rooms: list[RoomFigure]
    inside_venue: int  # people inside by today's entrance scans
    bin_minutes: int = BIN_MINUTES

    @property
    def rate(self) -> float:
        return self.arrived / self.registered if self.registered else 0.0

    @property
    def economies(self) -> int:
        return sum(1 for g in self.by_country if g.key and g.registered)


def _arrived_ids(event_id: str, window: tuple[datetime, datetime] | None = None) -> Subquery:
    query = select(_S.attendee_id).where(
        _S.event_id == event_id, attendance.counted(), attendance.admitted_entry()
    )
    if window is not None:
        query = query.where(_S.at >= window[0], _S.at < window[1])
    return query.distinct().subquery()


def _grouped(session: Session, event_id: str) -> dict[str, dict[str, list[int]]]:
    """Registered and arrived per country, per category and per gender, in one GROUP BY.

    Returns {"country": {key: [registered, arrived]}, "category": …, "gender": …}.
    """
    # IN (subquery) is built once as an index; a LEFT JOIN on it was scanned per attendee.
    arrived = select(_arrived_ids(event_id).c.attendee_id)
    gender = func.lower(_A.gender)
    rows = session.execute(
        select(
            _A.country,
            _A.category,
            gender,
            func.count(),
            func.sum(case((_A.id.in_(arrived), 1), else_=0)),
        )
        .where(_A.event_id == event_id, _A.status == "registered")
        .group_by(_A.country, _A.category, gender)
    )
    found: dict[str, dict[str, list[int]]] = {"country": {}, "category": {}, "gender": {}}
    for country, category, sex, registered, came in rows:
        for field, key in (("country", country), ("category", category), ("gender", sex)):
            sums = found[field].setdefault(str(key or ""), [0, 0])
            sums[0] += int(registered)
            sums[1] += int(came or 0)
    return found


def _by_country(counts: dict[str, list[int]]) -> list[GroupFigure]:
    groups = [
        GroupFigure(code, economy(code) or "Not given", reg, arr)
        for code, (reg, arr) in counts.items()
    ]
    return sorted(groups, key=lambda g: (-g.registered, g.label.casefold()))


def _by_origin(counts: dict[str, list[int]], host: str) -> list[GroupFigure]:
    """Overseas (country given and not the event's) against local (the event's country)."""
    if not host:
        reg = sum(v[0] for v in counts.values())
        arr = sum(v[1] for v in counts.values())
        return [GroupFigure("unknown", "Not known (the event's country is not set)", reg, arr)]
    sums = {"overseas": [0, 0], "local": [0, 0], "unknown": [0, 0]}
    for code, (reg, arr) in counts.items():
        key = "unknown" if not code else ("local" if code.upper() == host else "overseas")
        sums[key][0] += reg
        sums[key][1] += arr
    labels = {
        "overseas": "Overseas",
        "local": f"Local ({economy(host)})",
        "unknown": "Country not given",
    }
    return [
        GroupFigure(key, labels[key], reg, arr)
        for key, (reg, arr) in sums.items()
        if reg or key != "unknown"
    ]


def _arrivals_by_bin(
    session: Session, event: EventFacts, day: date, bin_minutes: int
) -> list[TimeBin]:
    """First arrival of each attendee on ``day``, counted per bin of venue time."""
    start, end = attendance.day_bounds(event.zone, day)
    first = (
        select(_S.attendee_id, func.min(_S.at).label("first_at"))
        .where(_S.event_id == event.id, _S.at >= start, _S.at < end)
        .where(attendance.counted(), attendance.admitted_entry())
        .group_by(_S.attendee_id)
        .subquery()
    )
    # Whole seconds since the venue's midnight, in SQL: no per-person rows reach Python.
    epoch = int((start - datetime(1970, 1, 1)).total_seconds())
    seconds = cast(func.strftime("%s", first.c.first_at), Integer) - epoch
    width = bin_minutes * 60
    slot = (seconds // width).label("slot")
    rows = session.execute(select(slot, func.count()).group_by(slot).order_by(slot)).all()
    if not rows:
        return []
    found = {int(s): int(n) for s, n in rows}
    first_slot, last_slot = min(found), max(found)
    return [
        TimeBin(event.local(start + timedelta(seconds=n * width)), found.get(n, 0))
        for n in range(first_slot, last_slot + 1)
    ]


def _day_arrived(session: Session, event: EventFacts, day: date) -> int:
    arrived = _arrived_ids(event.id, attendance.day_bounds(event.zone, day))
    count = session.scalar(
        select(func.count())
        .select_from(arrived)
        .join(Attendee.__table__, _A.id == arrived.c.attendee_id)
        .where(_A.status == "registered")
    )
    return int(count or 0)


def _pick_today(
    event: EventFacts, days: list[date], now: datetime, busy: list[date]
) -> date | None:
    """The day the live charts show: today if it is an event day, else the last busy day."""
    local_now = event.local(now).date()
    if local_now in days:
        return local_now
    past_busy = [d for d in busy if d <= local_now]
    if past_busy:
        return past_busy[-1]
    if busy:
        return busy[0]
    return days[0] if days else None


def event_figures(
    session: Session,
    event_id: str,
    *,
    now: datetime | None = None,
    bin_minutes: int = BIN_MINUTES,
) -> EventFigures:
    """The event's figures at ``now`` (naive UTC; the desk's clock when None)."""
    event = load_event(session, event_id)
    moment = now if now is not None else clock.now(session)
    sessions = load_sessions(session, event_id)
    days = event_days(event, sessions)

    grouped = _grouped(session, event_id)
    countries, categories, genders = grouped["country"], grouped["category"], grouped["gender"]
    registered = sum(v[0] for v in countries.values())
    arrived = sum(v[1] for v in countries.values())

    counts = attendance.session_counts(session, event_id)
    session_figures: list[SessionFigure] = []
    for item in sessions:
        allowed = set(item.categories or ())
        expected = sum(v[0] for k, v in categories.items() if not allowed or k in allowed)
        door = counts.get(item.id)
        session_figures.append(
            SessionFigure(
                id=item.id,
                title=item.title,
                day=session_day(item, event),
                starts_at=event.local(item.starts_at) if item.starts_at else None,
                ends_at=event.local(item.ends_at) if item.ends_at else None,
                room=item.room,
                capacity=item.capacity,
                expected=expected,
                arrived=door.arrived if door else 0,
                inside=door.inside if door else 0,
                counts_for_certificate=item.counts_for_certificate,
            )
        )

    day_figures = [DayFigure(d, registered, _day_arrived(session, event, d)) for d in days]
    arrivals = {d: _arrivals_by_bin(session, event, d, bin_minutes) for d in days}
    busy = [d for d in days if arrivals[d]]
    today = _pick_today(event, days, moment, busy)

    rooms: list[RoomFigure] = []
    inside_venue = 0
    if today is not None:
        inside_venue = attendance.inside_now(
            session, event_id, None, attendance.day_bounds(event.zone, today)
        )
        rules = DoorRules()
        for room in checkin.rooms(session, event_id):
            on, open_now = checkin.session_in_room(session, event_id, room, moment, rules)
            if on is not None and open_now:
                door = counts.get(on.id)
                rooms.append(RoomFigure(room, on.title, door.inside if door else 0, on.capacity))
            else:
                rooms.append(RoomFigure(room, "", 0, None))

    return EventFigures(
        event=event,
        generated_at=event.local(moment),
        today=today,
        scans=scan_count(session, event_id),
        registered=registered,
        arrived=arrived,
        by_country=_by_country(countries),
        by_category=sorted(
            (GroupFigure(k, category_label(k), r, a) for k, (r, a) in categories.items()),
            key=lambda g: category_rank(g.key),
        ),
        by_gender=sorted(
            (GroupFigure(k, gender_label(k), r, a) for k, (r, a) in genders.items()),
            key=lambda g: (not g.key, -g.registered),
        ),
        by_origin=_by_origin(countries, event.country),
        sessions=session_figures,
        days=day_figures,
        arrivals=arrivals,
        rooms=rooms,
        inside_venue=inside_venue,
        bin_minutes=bin_minutes,
    )


def top_groups(groups: list[GroupFigure], limit: int) -> list[GroupFigure]:
    """The ``limit`` largest groups, the rest summed as 'Other' (a chart stays readable)."""
    if len(groups) <= limit:
        return list(groups)
    kept, rest = groups[: limit - 1], groups[limit - 1 :]
    other = GroupFigure(
        "other",
        f"Other ({len(rest)})",
        sum(g.registered for g in rest),
        sum(g.arrived for g in rest),
    )
    return [*kept, other]
