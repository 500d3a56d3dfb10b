"""Certificates: who earned one and why, serial numbers, issuing, overrides and verifying.

Eligibility is derived from the scans every time (never stored): an event's *rules* say what
attendance earns a certificate of attendance (at least N % of the sessions that count, an
arrival on every day, at least N sessions; all of the chosen rules or any one), and resource
persons who came get a certificate of appreciation. A supervisor may override the rules for
one person with a reason (a ``certificate.override`` fact; the latest counts).

Issuing records a ``certificate.issue`` fact per certificate. A serial is the event's code,
the issuing desk's id and that desk's own counter (``OI24-3F9A1C2B7D40-0007``), so desks
never need to agree on numbers. Issuing again gives the same serials and records nothing
unless the printed name changed: then the serial stays and its version goes up, and the old
version reads as superseded. A revoked serial is never used again.

The QR code on a certificate is a token signed with the event's key (:mod:`desktop.certtokens`);
:func:`verify` tells genuine, superseded, revoked, forged or another event's, with details.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from desktop import attendance, clock, journal, permissions, pictures
from desktop.certtokens import (
    CERT_PREFIX,
    CertCheck,
    find_certificate_token,
    make_certificate_token,
    verify_certificate_token,
)
from desktop.countries import country_name
from desktop.events import event_zone, key_path, utc_to_local
from desktop.journal import DeskContext, Op
from desktop.keys import load_private_key
from desktop.models import (
    CATEGORY_LABELS,
    Attendee,
    Certificate,
    CertificateOverride,
    CertificateSettings,
    Desk,
    Event,
    EventSession,
    Operation,
    Operator,
    Scan,
)
from desktop.overview import format_date_range

ATTENDANCE = "attendance"
APPRECIATION = "appreciation"
KIND_LABELS = {ATTENDANCE: "Attendance", APPRECIATION: "Appreciation"}
PAPERS = {"a4": "A4 landscape", "letter": "US Letter landscape"}
COMBINES = {"all": "all of the chosen rules", "any": "any one of the chosen rules"}
MAX_SIGNATORIES = 3
MAX_VERSION = 255
OUTPUT_FOLDER = "certificates"  # in the data folder: the default place for generated PDFs
# Honorifics worth printing on a certificate (not Mr., Ms. and the like).
_TITLES = re.compile(r"^(dr|prof|professor|hon|atty|engr|arch|rev|sir|dame)\b\.?", re.IGNORECASE)
_SETTING_FIELDS = (
    "min_percent",
    "every_day",
    "min_sessions",
    "combine",
    "attendance_categories",
    "appreciation_categories",
    "paper",
    "partner",
    "logo",
    "partner_logo",
    "background",
    "signatories",
)
_CHUNK = 500


class CertificateError(Exception):
    """A certificate request that cannot be done as asked; the message says why and what to do."""


# --- settings: rules, paper, signatories ------------------------------------------------------


@dataclass(frozen=True)
class Signatory:
    """One signature block: name, title (may hold a line break), signature image."""

    name: str
    title: str = ""
    signature: str = ""

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "signature": self.signature}


@dataclass(frozen=True)
class Rules:
    """What attendance earns a certificate. A number rule set to 0 is off."""

    min_percent: int = 75
    every_day: bool = False
    min_sessions: int = 0
    combine: str = "all"
    attendance_categories: tuple[str, ...] = ("participant", "local_participant", "observer")
    appreciation_categories: tuple[str, ...] = ("resource_person",)

    @property
    def chosen(self) -> int:
        """How many rules are switched on."""
        return int(self.min_percent > 0) + int(self.every_day) + int(self.min_sessions > 0)

    def describe(self) -> str:
        """The rules in words, for the rules editor and the command line."""
        parts = []
        if self.min_percent > 0:
            parts.append(f"at least {self.min_percent} % of the sessions that count")
        if self.every_day:
            parts.append("an arrival on every day of the event")
        if self.min_sessions > 0:
            parts.append(f"at least {self.min_sessions} session(s) that count")
        if not parts:
            return "no rule chosen: nobody earns a certificate of attendance by the rules"
        joiner = " and " if self.combine == "all" else " or "
        return "Certificate of attendance for " + joiner.join(parts)


@dataclass(frozen=True)
class Settings:
    """An event's certificate settings as plain data."""

    rules: Rules = field(default_factory=Rules)
    paper: str = "a4"
    partner: str = ""
    logo: str = ""
    partner_logo: str = ""
    background: str = ""
    signatories: tuple[Signatory, ...] = ()

    def to_fields(self) -> dict[str, Any]:
        """The settings as the fields of a ``certificate.settings.put``."""
        r = self.rules
        return {
            "min_percent": r.min_percent,
            "every_day": r.every_day,
            "min_sessions": r.min_sessions,
            "combine": r.combine,
            "attendance_categories": list(r.attendance_categories),
            "appreciation_categories": list(r.appreciation_categories),
            "paper": self.paper,
            "partner": self.partner,
            "logo": self.logo,
            "partner_logo": self.partner_logo,
            "background": self.background,
            "signatories": [s.to_json() for s in self.signatories],
        }

    def to_json(self) -> dict[str, Any]:
        return self.to_fields()

    @classmethod
    def from_fields(cls, data: Mapping[str, Any]) -> Settings:
        """Settings from stored fields or JSON (missing fields take their defaults)."""
        base = Rules()
        signatories = tuple(
            Signatory(str(s.get("name", "")), str(s.get("title", "")), str(s.get("signature", "")))
            for s in data.get("signatories") or []
            if isinstance(s, Mapping)
        )

        def cats(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
            value = data.get(key)
            return default if value is None else tuple(str(c) for c in value)

        return cls(
            rules=Rules(
                min_percent=int(data.get("min_percent", base.min_percent) or 0),
                every_day=bool(data.get("every_day", base.every_day)),
                min_sessions=int(data.get("min_sessions", base.min_sessions) or 0),
                combine=str(data.get("combine", base.combine) or "all"),
                attendance_categories=cats("attendance_categories", base.attendance_categories),
                appreciation_categories=cats(
                    "appreciation_categories", base.appreciation_categories
                ),
            ),
            paper=str(data.get("paper", "a4") or "a4"),
            partner=str(data.get("partner", "") or ""),
            logo=str(data.get("logo", "") or ""),
            partner_logo=str(data.get("partner_logo", "") or ""),
            background=str(data.get("background", "") or ""),
            signatories=signatories,
        )


def load_settings(session: Session, event_id: str) -> Settings:
    """The event's certificate settings (the defaults where no desk has set any)."""
    row = session.get(CertificateSettings, event_id)
    if row is None:
        return Settings()
    return Settings.from_fields({name: getattr(row, name) for name in _SETTING_FIELDS})


def check_settings(settings: Settings) -> None:
    """Raise CertificateError for settings that cannot work (the message says which)."""
    r = settings.rules
    if not 0 <= r.min_percent <= 100:
        raise CertificateError("the share of sessions must be between 0 and 100 %")
    if r.min_sessions < 0:
        raise CertificateError("the number of sessions cannot be negative")
    if r.combine not in COMBINES:
        raise CertificateError(f"combine the rules with {' or '.join(COMBINES)}")
    unknown = [
        c
        for c in (*r.attendance_categories, *r.appreciation_categories)
        if c not in CATEGORY_LABELS
    ]
    if unknown:
        raise CertificateError(f"unknown categories: {', '.join(unknown)}")
    both = set(r.attendance_categories) & set(r.appreciation_categories)
    if both:
        raise CertificateError(
            f"{', '.join(sorted(both))} cannot get both kinds of certificate: choose one"
        )
    if settings.paper not in PAPERS:
        raise CertificateError(f"paper must be one of {', '.join(PAPERS)}")
    if len(settings.signatories) > MAX_SIGNATORIES:
        raise CertificateError(f"a certificate has at most {MAX_SIGNATORIES} signatories")
    if any(not s.name.strip() for s in settings.signatories):
        raise CertificateError("every signatory needs a name")


def save_settings(session: Session, ctx: DeskContext, settings: Settings) -> Op | None:
    """Keep the event's certificate settings; records only the fields that changed."""
    permissions.require(session, ctx, "issue_certificates")
    check_settings(settings)
    wanted = _keep_pictures(session, ctx, settings).to_fields()
    row = session.get(CertificateSettings, ctx.event_id)
    if row is None:
        changed = wanted
    else:
        current = load_settings(session, ctx.event_id).to_fields()
        changed = {k: v for k, v in wanted.items() if current.get(k) != v}
    if not changed:
        return None
    return journal.record(session, ctx, "certificate.settings.put", {"id": ctx.event_id, **changed})


def _keep_pictures(session: Session, ctx: DeskContext, settings: Settings) -> Settings:
    """The settings with each picture chosen from this desk's disk kept with the event, so
    every desk draws it (see desktop.pictures)."""
    try:

        def keep(value: str) -> str:
            return pictures.keep(session, ctx, value)

        return replace(
            settings,
            logo=keep(settings.logo),
            partner_logo=keep(settings.partner_logo),
            background=keep(settings.background),
            signatories=tuple(
                replace(person, signature=keep(person.signature)) for person in settings.signatories
            ),
        )
    except pictures.PictureError as exc:
        raise CertificateError(str(exc)) from exc


# --- eligibility -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OverrideInfo:
    """The override in force for one attendee."""

    eligible: bool
    reason: str
    at: datetime  # naive UTC
    operator: str


@dataclass(frozen=True)
class IssuedInfo:
    """An attendee's current certificate of one kind: its serial and latest version."""

    serial: str
    version: int
    kind: str
    issued_at: datetime  # naive UTC
    name_printed: str
    revoked: bool


@dataclass(frozen=True)
class Person:
    """What a certificate prints about an attendee."""

    id: str
    short_code: str
    name: str  # as printed on the certificate
    native_name: str
    organisation: str
    position: str
    country: str
    category: str
    status: str

    @property
    def name_printed(self) -> str:
        """What the register keeps as the printed name (a change means a new version)."""
        return f"{self.name} ({self.native_name})" if self.native_name else self.name


@dataclass(frozen=True)
class Eligibility:
    """One attendee's standing: eligible or not, why, and the certificate already issued."""

    person: Person
    kind: str | None  # the certificate they would get, None when their category gets none
    eligible: bool
    by_rules: bool
    reasons: tuple[str, ...]
    attended: int = 0
    counting: int = 0
    missed: tuple[str, ...] = ()
    days_arrived: tuple[date, ...] = ()
    override: OverrideInfo | None = None
    certificate: IssuedInfo | None = None

    @property
    def attendee_id(self) -> str:
        return self.person.id

    @property
    def overridden(self) -> bool:
        """A supervisor's word decides, not the rules."""
        return self.override is not None

    @property
    def summary(self) -> str:
        """The first reason: what a table shows in one line."""
        return self.reasons[0] if self.reasons else ""

    def to_json(self) -> dict[str, Any]:
        cert = self.certificate
        return {
            "attendee": self.person.id,
            "short_code": self.person.short_code,
            "name": self.person.name,
            "category": self.person.category,
            "kind": self.kind,
            "eligible": self.eligible,
            "by_rules": self.by_rules,
            "overridden": self.overridden,
            "reasons": list(self.reasons),
            "attended": self.attended,
            "counting": self.counting,
            "missed": list(self.missed),
            "days_arrived": [d.isoformat() for d in self.days_arrived],
            "serial": cert.serial if cert else None,
            "version": cert.version if cert else None,
        }


def certificate_name(
    given: str, family: str, badge_name: str, honorific: str = "", country: str = ""
) -> str:
    """The full name for a certificate, family name in capitals, in the person's own order.

    A badge name that holds every word of the given name is the full name already (``SOK
    Dara``, ``Nurul Aina binti AHMAD``); a shortened one (``Lan NGUYỄN``) is rebuilt, family
    first for Vietnamese names.
    """
    given, family, badge_name = given.strip(), family.strip(), badge_name.strip()
    words = badge_name.split()
    has_family = not family or _loose(family) in _loose(badge_name)
    if badge_name and given and has_family and all(w in words for w in given.split()):
        name = badge_name
    elif not family:
        name = given or badge_name
    else:
        # The family name as the badge writes it in capitals (a Turkish İ stays dotted).
        capitals = " ".join(w for w in words if w.isupper() and _loose(w) in _loose(family))
        caps = capitals or family.upper()
        family_first = bool(words) and words[0] == caps.split()[0]
        name = f"{caps} {given}" if family_first or country == "VN" else f"{given} {caps}"
    title = honorific.strip()
    if title and _TITLES.match(title):
        name = f"{title} {name}"
    return " ".join(name.split())


def _loose(text: str) -> str:
    """Text folded for comparing names: no case, no accents."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_PERSON_COLUMNS = (
    Attendee.id,
    Attendee.short_code,
    Attendee.given_name,
    Attendee.family_name,
    Attendee.badge_name,
    Attendee.native_name,
    Attendee.honorific,
    Attendee.organisation,
    Attendee.position,
    Attendee.country,
    Attendee.category,
    Attendee.status,
)


def _people(session: Session, event_id: str, ids: Sequence[str] | None) -> list[Person]:
    statement = select(*_PERSON_COLUMNS, Attendee.event_id)
    found = _in_chunks(session, statement, Attendee.id, ids, Attendee.event_id, event_id)
    rows = [r for r in found if r.event_id == event_id]
    people = [
        Person(
            id=r.id,
            short_code=r.short_code,
            name=certificate_name(
                r.given_name, r.family_name, r.badge_name, r.honorific, r.country
            ),
            native_name=r.native_name,
            organisation=r.organisation,
            position=r.position,
            country=r.country,
            category=r.category,
            status=r.status,
        )
        for r in rows
    ]
    if ids is not None:
        order = {attendee_id: n for n, attendee_id in enumerate(ids)}
        people.sort(key=lambda p: order.get(p.id, 0))
    else:
        people.sort(key=lambda p: (p.name.casefold(), p.id))
    return people


def _in_chunks(
    session: Session,
    statement: Any,
    column: Any,
    ids: Sequence[str] | None,
    event_column: Any,
    event_id: str,
) -> Iterable[Any]:
    """Rows of the whole event, or of the attendees ``ids`` (500 at a time).

    With ids, the event is left out of the query: an attendee id belongs to one event, and
    SQLite would otherwise walk the event's index through every row instead of the ids'.
    """
    if ids is None:
        yield from session.execute(statement.where(event_column == event_id))
        return
    for start in range(0, len(ids), _CHUNK):
        yield from session.execute(statement.where(column.in_(list(ids[start : start + _CHUNK]))))


def _attended(session: Session, event_id: str, ids: Sequence[str] | None) -> dict[str, set[str]]:
    s = Scan.__table__.c
    statement = (
        select(s.attendee_id, s.session_id)
        .where(s.session_id.is_not(None))
        .where(attendance.counted(), attendance.admitted_entry())
        .distinct()
    )
    found: dict[str, set[str]] = {}
    for person, sid in _in_chunks(session, statement, s.attendee_id, ids, s.event_id, event_id):
        found.setdefault(str(person), set()).add(str(sid))
    return found


def event_days(session: Session, event: Event) -> list[date]:
    """The venue days of the event (its dates, else the days its sessions fall on)."""
    if event.starts_on is not None:
        last = event.ends_on or event.starts_on
        return [
            event.starts_on + timedelta(days=n) for n in range((last - event.starts_on).days + 1)
        ]
    zone = event_zone(event)
    starts = session.scalars(
        select(EventSession.starts_at).where(
            EventSession.event_id == event.id, EventSession.starts_at.is_not(None)
        )
    )
    return sorted({attendance.local_day(zone, moment) for moment in starts if moment})


def _arrival_days(
    session: Session, event: Event, days: Sequence[date], ids: Sequence[str] | None
) -> dict[str, set[date]]:
    s = Scan.__table__.c
    zone = event_zone(event)
    found: dict[str, set[date]] = {}
    statement = (
        select(s.attendee_id)
        .where(attendance.counted(), attendance.admitted_entry())
        .where(s.at >= bindparam("start"), s.at < bindparam("end"))
        .distinct()
    )
    for day in days:
        start, end = attendance.day_bounds(zone, day)
        bound = statement.params(start=start, end=end)
        for (person,) in _in_chunks(session, bound, s.attendee_id, ids, s.event_id, event.id):
            found.setdefault(str(person), set()).add(day)
    return found


def _any_arrival(session: Session, event_id: str, ids: Sequence[str] | None) -> set[str]:
    s = Scan.__table__.c
    statement = (
        select(s.attendee_id).where(attendance.counted(), attendance.admitted_entry()).distinct()
    )
    rows = _in_chunks(session, statement, s.attendee_id, ids, s.event_id, event_id)
    return {str(r[0]) for r in rows}


def overrides(
    session: Session, event_id: str, ids: Sequence[str] | None = None
) -> dict[str, OverrideInfo]:
    """The override in force per attendee (the latest by clock; withdrawn ones left out)."""
    o = CertificateOverride
    statement = select(o.attendee_id, o.eligible, o.reason, o.at, o.hlc, Operator.name).outerjoin(
        Operator, Operator.id == o.operator_id
    )
    latest: dict[str, Any] = {}
    for row in _in_chunks(session, statement, o.attendee_id, ids, o.event_id, event_id):
        held = latest.get(row.attendee_id)
        if held is None or row.hlc > held.hlc:
            latest[row.attendee_id] = row
    return {
        person: OverrideInfo(bool(row.eligible), row.reason, row.at, row.name or "the owner")
        for person, row in latest.items()
        if row.eligible is not None
    }


def issued(
    session: Session, event_id: str, ids: Sequence[str] | None = None
) -> dict[tuple[str, str], IssuedInfo]:
    """Per (attendee, kind): the certificate in force (not revoked; the first issued wins)."""
    c = Certificate
    statement = select(
        c.attendee_id, c.serial, c.version, c.kind, c.issued_at, c.name_printed, c.revoked, c.hlc
    )
    by_serial: dict[str, list[Any]] = {}
    for row in _in_chunks(session, statement, c.attendee_id, ids, c.event_id, event_id):
        by_serial.setdefault(row.serial, []).append(row)
    found: dict[tuple[str, str], tuple[str, IssuedInfo]] = {}
    for serial, rows in by_serial.items():
        first = min(r.hlc for r in rows)
        latest = max(rows, key=lambda r: (r.version, r.hlc))
        info = IssuedInfo(
            serial,
            latest.version,
            latest.kind,
            latest.issued_at,
            latest.name_printed,
            any(r.revoked for r in rows),
        )
        key = (latest.attendee_id, latest.kind)
        held = found.get(key)
        # Two desks apart may each issue one: the first issued stays the person's serial.
        better = held is None or (held[1].revoked, held[0]) > (info.revoked, first)
        if better:
            found[key] = (first, info)
    return {key: info for key, (_, info) in found.items()}


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


def eligibility(
    session: Session,
    event_id: str,
    ids: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> list[Eligibility]:
    """Every attendee's standing (or those in ``ids``, in that order), with the reasons."""
    event = session.get(Event, event_id)
    if event is None:
        raise CertificateError(f"no event {event_id} on this desk")
    settings = settings or load_settings(session, event_id)
    rules = settings.rules
    wanted = list(dict.fromkeys(ids)) if ids is not None else None
    people = _people(session, event_id, wanted)
    counting_sessions = list(
        session.execute(
            select(EventSession.id, EventSession.title, EventSession.categories)
            .where(EventSession.event_id == event_id, EventSession.status != "deleted")
            .where(EventSession.counts_for_certificate.is_(True))
            .order_by(EventSession.starts_at, EventSession.title)
        )
    )
    attended = _attended(session, event_id, wanted)
    days = event_days(session, event)
    arrivals = _arrival_days(session, event, days, wanted) if rules.every_day else {}
    came = _any_arrival(session, event_id, wanted)
    forced = overrides(session, event_id, wanted)
    certs = issued(session, event_id, wanted)
    result: list[Eligibility] = []
    for person in people:
        kind: str | None = None
        if person.category in rules.appreciation_categories:
            kind = APPRECIATION
        elif person.category in rules.attendance_categories:
            kind = ATTENDANCE
        mine = attended.get(person.id, set())
        open_to = [
            (sid, title)
            for sid, title, cats in counting_sessions
            if not cats or person.category in cats
        ]
        count = sum(1 for sid, _ in open_to if sid in mine)
        missed = tuple(title for sid, title in open_to if sid not in mine)
        arrived_days = tuple(sorted(arrivals.get(person.id, set())))
        by_rules, reasons = _judge(
            person, kind, rules, count, len(open_to), missed, days, arrived_days, person.id in came
        )
        override = forced.get(person.id)
        eligible = by_rules
        if override is not None:
            eligible = override.eligible
            word = "eligible" if eligible else "not eligible"
            reasons = (
                f"{word} by override of {override.operator} "
                f"({_day(utc_to_local(override.at, event_zone(event)).date())}): "
                f"{override.reason}",
                *(f"by the rules: {r}" if n == 0 else r for n, r in enumerate(reasons)),
            )
            if eligible and kind is None:
                kind = ATTENDANCE
        if person.status != "registered" and eligible:
            eligible = False
            reasons = ("not eligible: the registration is cancelled", *reasons)
        cert = certs.get((person.id, kind)) if kind is not None else None
        result.append(
            Eligibility(
                person=person,
                kind=kind,
                eligible=eligible,
                by_rules=by_rules,
                reasons=tuple(reasons),
                attended=count,
                counting=len(open_to),
                missed=missed,
                days_arrived=arrived_days,
                override=override,
                certificate=cert,
            )
        )
    return result


def _judge(
    person: Person,
    kind: str | None,
    rules: Rules,
    attended: int,
    counting: int,
    missed: tuple[str, ...],
    days: Sequence[date],
    arrived: tuple[date, ...],
    came: bool,
) -> tuple[bool, tuple[str, ...]]:
    """Eligible by the rules?, and the reasons in words (the first one sums it up)."""
    label = CATEGORY_LABELS.get(person.category, person.category).lower()
    if person.status != "registered":
        return False, ("not eligible: the registration is cancelled",)
    if not (person.name or "").strip():
        return False, ("not eligible: the personal data was erased",)
    if kind is None:
        return False, (f"not eligible: no certificate for the category {label}",)
    if kind == APPRECIATION:
        if came:
            return True, (f"eligible: {label} who came (certificate of appreciation)",)
        return False, (f"not eligible: {label} with no recorded arrival",)
    checks: list[tuple[bool, str]] = []
    if rules.min_percent > 0:
        if counting == 0:
            checks.append((False, "no session counts towards the certificate"))
        else:
            share = attended * 100 / counting
            met = attended * 100 >= rules.min_percent * counting
            checks.append(
                (
                    met,
                    f"attended {attended} of {counting} sessions that count "
                    f"({share:.0f} %; {rules.min_percent} % needed)",
                )
            )
    if rules.every_day:
        absent = [d for d in days if d not in arrived]
        if absent:
            checks.append((False, "no arrival on " + ", ".join(_day(d) for d in absent)))
        else:
            checks.append((True, "arrived every day (" + ", ".join(_day(d) for d in days) + ")"))
    if rules.min_sessions > 0:
        met = attended >= rules.min_sessions
        checks.append((met, f"attended {attended} session(s) ({rules.min_sessions} needed)"))
    if not checks:
        return False, ("not eligible: no eligibility rule is chosen for this event",)
    metrics = [met for met, _ in checks]
    eligible = all(metrics) if rules.combine == "all" else any(metrics)
    if eligible:
        shown = [text for met, text in checks if met]
        reasons = ["eligible: " + "; ".join(shown)]
    else:
        shown = [text for met, text in checks if not met]
        reasons = ["not eligible: " + "; ".join(shown)]
    if missed:
        reasons.append("missed: " + "; ".join(missed))
    return eligible, tuple(reasons)


def explain(session: Session, event_id: str, attendee_id: str) -> Eligibility:
    """One attendee's standing; raises CertificateError for an unknown attendee."""
    found = eligibility(session, event_id, [attendee_id])
    if not found:
        raise CertificateError(f"no attendee {attendee_id} in this event")
    return found[0]


def set_override(
    session: Session, ctx: DeskContext, attendee_id: str, eligible: bool | None, reason: str
) -> Op:
    """A supervisor decides one attendee's eligibility (None: back to the rules), with a reason."""
    permissions.require(session, ctx, "edit_attendance")
    reason = " ".join(reason.split())
    if not reason:
        raise CertificateError("an override needs a reason")
    row = session.get(Attendee, attendee_id)
    if row is None or row.event_id != ctx.event_id:
        raise CertificateError(f"no attendee {attendee_id} in this event")
    return journal.record(
        session,
        ctx,
        "certificate.override",
        {
            "attendee_id": attendee_id,
            "eligible": eligible,
            "reason": reason[:300],
            "at": clock.now(session).isoformat(),
        },
    )


# --- serials and issuing ---------------------------------------------------------------------

_ALNUM = re.compile(r"[^A-Z0-9]")


def event_code(event: Event) -> str:
    """The event part of a serial: its code in capitals and digits (``OI24``)."""
    return _ALNUM.sub("", (event.code or "").upper())[:8] or "EV"


def desk_code(desk_id: str) -> str:
    """The desk part of a serial: the desk's own id, which no other desk has."""
    code = _ALNUM.sub("", desk_id.upper())
    if code and len(code) <= 12 and code == desk_id.upper():
        return code
    # An id that is not plain letters and digits: a stable digest of it, 12 characters.
    digest = uuid.uuid5(uuid.NAMESPACE_OID, desk_id).hex.upper()
    return digest[:12]


def serial_prefix(event: Event, desk_id: str) -> str:
    """What every serial issued by this desk for this event starts with."""
    return f"{event_code(event)}-{desk_code(desk_id)}-"


def next_counter(session: Session, event_id: str, prefix: str) -> int:
    """The next number of this desk's own counter (its serials are only made here)."""
    highest = 0
    serials = session.scalars(
        select(Certificate.serial)
        .where(Certificate.event_id == event_id, Certificate.serial.startswith(prefix))
        .distinct()
    )
    for serial in serials:
        tail = serial[len(prefix) :]
        if tail.isdigit():
            highest = max(highest, int(tail))
    return highest + 1


@dataclass(frozen=True)
class CertificateRecord:
    """One certificate to draw, as plain data (safe to hand to another thread)."""

    attendee_id: str
    short_code: str
    kind: str
    serial: str
    version: int
    issued_on: date
    name: str
    native_name: str
    organisation: str
    position: str
    country: str
    token: str


@dataclass(frozen=True)
class CertificateBatch:
    """Certificates to draw, with what the pages need; no database. ``recorded`` ops were new."""

    event_id: str
    paper: str
    records: tuple[CertificateRecord, ...]
    context: dict[str, str]
    user_layouts: Path | None = None
    issued: int = 0
    reissued: int = 0
    left_out: tuple[tuple[str, str], ...] = ()  # (attendee id, why)

    def part(self, start: int, stop: int) -> CertificateBatch:
        """The certificates from ``start`` to ``stop`` (printing in several jobs)."""
        return replace(self, records=self.records[start:stop])


class _Signer:
    """Signs certificate tokens with the event's newest key, read from the data folder once."""

    def __init__(self, event: Event, data_dir: Path) -> None:
        ids = [int(k) for k in (event.public_keys or {}) if str(k).isdigit()]
        if not ids:
            raise CertificateError("this event has no signing key")
        self.key_id = max(ids)
        self.key = load_private_key(key_path(data_dir, event.id, self.key_id))
        self.event_uuid = uuid.UUID(event.id)

    def token(self, attendee_id: str, serial: str, version: int, day: date, kind: str) -> str:
        return make_certificate_token(
            self.key,
            self.key_id,
            self.event_uuid,
            uuid.UUID(attendee_id),
            serial=serial,
            version=version,
            issued_on=day,
            kind=kind,
        )


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def page_context(session: Session, event: Event, settings: Settings) -> dict[str, str]:
    """The event's placeholders for a certificate layout, signatories included."""
    place = ", ".join(
        p for p in (event.city, country_name(event.country) if event.country else "") if p
    )
    values = {
        "event_name": event.name,
        "event_code": event.code,
        "event_dates": format_date_range(event.starts_on, event.ends_on),
        "organiser": event.organiser,
        "venue": event.venue,
        "place": place or event.venue,
        "project_code": event.project_code,
        "partner": settings.partner,
        "logo": pictures.drawable(session, settings.logo),
        "partner_logo": pictures.drawable(session, settings.partner_logo),
        "background": pictures.drawable(session, settings.background),
    }
    if settings.logo and settings.partner_logo:
        values["two_logos"] = "1"
    elif settings.logo or settings.partner_logo:
        values["one_logo"] = "1"
        values["logo"] = values["logo"] or values["partner_logo"]
    count = len(settings.signatories)
    if count:
        values[f"signatories_{count}"] = "1"
    for n, person in enumerate(settings.signatories, start=1):
        values[f"s{n}_name"] = person.name
        values[f"s{n}_title"] = person.title
        values[f"s{n}_signature"] = pictures.drawable(session, person.signature)
    return values


def _record(person: Person, cert: IssuedInfo, day: date, token: str) -> CertificateRecord:
    return CertificateRecord(
        attendee_id=person.id,
        short_code=person.short_code,
        kind=cert.kind,
        serial=cert.serial,
        version=cert.version,
        issued_on=day,
        name=person.name,
        native_name=person.native_name,
        organisation=person.organisation,
        position=person.position,
        country=person.country,
        token=token,
    )


def issue(
    session: Session,
    ctx: DeskContext,
    data_dir: Path,
    *,
    ids: Sequence[str] | None = None,
    kinds: Iterable[str] = (ATTENDANCE, APPRECIATION),
    user_layouts: Path | None = None,
) -> CertificateBatch:
    """Issue the certificates the eligible attendees (of ``ids``, if given) have earned.

    Records a ``certificate.issue`` for each new certificate and each new version (a name
    corrected since); a certificate already issued as it stands records nothing and keeps
    its serial, date and QR code. Raises CertificateError when nobody is eligible.
    """
    permissions.require(session, ctx, "issue_certificates")
    event = session.get(Event, ctx.event_id)
    if event is None:
        raise CertificateError(f"no event {ctx.event_id} on this desk")
    signer = _Signer(event, data_dir)  # no key, no certificate: fail before recording
    settings = load_settings(session, ctx.event_id)
    wanted = set(kinds)
    standings = eligibility(session, ctx.event_id, ids, settings)
    chosen = [e for e in standings if e.eligible and e.kind in wanted]
    if not chosen:
        raise CertificateError(
            "nobody is eligible for a certificate yet"
            + (" among those chosen" if ids is not None else "")
            + ": see the reasons in the eligibility list"
        )
    zone = event_zone(event)
    now = clock.now(session)
    prefix = serial_prefix(event, ctx.desk_id)
    counter = next_counter(session, ctx.event_id, prefix)
    items: list[tuple[str, Mapping[str, Any]]] = []
    planned: list[tuple[Person, IssuedInfo]] = []
    left_out: list[tuple[str, str]] = []
    fresh = again = 0
    for standing in chosen:
        person, kind = standing.person, str(standing.kind)
        current = standing.certificate
        if current is not None and current.revoked:
            current = None  # a revoked serial is never used again: a new one is issued
        if current is not None and current.name_printed == person.name_printed:
            planned.append((person, current))
            continue
        if current is not None:
            if current.version >= MAX_VERSION:
                left_out.append((person.id, f"{current.serial} has {MAX_VERSION} versions"))
                continue
            cert = IssuedInfo(
                current.serial, current.version + 1, kind, now, person.name_printed, False
            )
            again += 1
        else:
            cert = IssuedInfo(f"{prefix}{counter:04d}", 1, kind, now, person.name_printed, False)
            counter += 1
            fresh += 1
        items.append(
            (
                "certificate.issue",
                {
                    "attendee_id": person.id,
                    "serial": cert.serial,
                    "version": cert.version,
                    "kind": kind,
                    "issued_at": now.isoformat(),
                    "name_printed": person.name_printed,
                },
            )
        )
        planned.append((person, cert))
    if items:
        journal.record_many(session, ctx, items)
    records = []
    for person, cert in planned:
        day = utc_to_local(cert.issued_at, zone).date()
        token = signer.token(person.id, cert.serial, cert.version, day, cert.kind)
        records.append(_record(person, cert, day, token))
    return CertificateBatch(
        event_id=ctx.event_id,
        paper=settings.paper,
        records=tuple(records),
        context=page_context(session, event, settings),
        user_layouts=user_layouts,
        issued=fresh,
        reissued=again,
        left_out=tuple(left_out),
    )


def preview_batch(
    session: Session, event_id: str, attendee_id: str, user_layouts: Path | None = None
) -> CertificateBatch:
    """One attendee's certificate as it would print, issuing nothing.

    Shows the certificate in force when there is one; otherwise a sample serial and a QR
    code that verifies as nothing (a preview is not a certificate).
    """
    event = session.get(Event, event_id)
    if event is None:
        raise CertificateError(f"no event {event_id} on this desk")
    settings = load_settings(session, event_id)
    standing = explain(session, event_id, attendee_id)
    kind = standing.kind or ATTENDANCE
    zone = event_zone(event)
    cert = standing.certificate
    person = standing.person
    if cert is not None and cert.name_printed == person.name_printed and not cert.revoked:
        record = _record(person, cert, utc_to_local(cert.issued_at, zone).date(), "")
    else:
        now = clock.now(session)
        sample = IssuedInfo("PREVIEW-NOT-ISSUED", 1, kind, now, person.name_printed, False)
        record = _record(person, sample, utc_to_local(now, zone).date(), "")
    # The real token needs the key, which a preview must not require; a placeholder of the
    # same length draws the same QR code size and verifies as nothing.
    placeholder = CERT_PREFIX + "PREVIEW" + "A" * 176
    return CertificateBatch(
        event_id=event_id,
        paper=settings.paper,
        records=(replace(record, token=placeholder),),
        context=page_context(session, event, settings),
        user_layouts=user_layouts,
    )


def revoke(session: Session, ctx: DeskContext, serial: str, reason: str) -> Op:
    """Revoke a certificate (every version): its QR code reads as revoked from then on."""
    permissions.require(session, ctx, "issue_certificates")
    reason = " ".join(reason.split())
    if not reason:
        raise CertificateError("say why the certificate is revoked")
    serial = serial.strip().upper()
    rows = list(
        session.scalars(
            select(Certificate).where(
                Certificate.event_id == ctx.event_id, Certificate.serial == serial
            )
        )
    )
    if not rows:
        raise CertificateError(f"no certificate {serial} on this desk")
    if any(r.revoked for r in rows):
        raise CertificateError(f"certificate {serial} is already revoked")
    return journal.record(
        session,
        ctx,
        "certificate.revoke",
        {
            "serial": serial,
            "attendee_id": rows[0].attendee_id,
            "reason": reason[:300],
            "at": clock.now(session).isoformat(),
        },
    )


# --- verifying -------------------------------------------------------------------------------

VERDICTS = {
    "genuine": "Genuine certificate",
    "superseded": "Superseded: a newer version exists",
    "revoked": "Revoked certificate",
    "forged": "Forged: the signature does not match",
    "wrong_event": "A certificate of another event",
    "invalid": "Not a certificate",
}


@dataclass(frozen=True)
class Verdict:
    """What a certificate's QR code says once checked, with the details to show."""

    status: str  # a key of VERDICTS
    details: tuple[str, ...] = ()
    serial: str | None = None
    version: int | None = None
    kind: str | None = None
    attendee_id: str | None = None
    name: str = ""
    issued_on: date | None = None
    latest_version: int | None = None
    on_register: bool = False

    @property
    def headline(self) -> str:
        return VERDICTS.get(self.status, self.status)

    @property
    def genuine(self) -> bool:
        """A genuine certificate in force."""
        return self.status == "genuine"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headline": self.headline,
            "genuine": self.genuine,
            "serial": self.serial,
            "version": self.version,
            "latest_version": self.latest_version,
            "kind": self.kind,
            "attendee": self.attendee_id,
            "name": self.name,
            "issued_on": self.issued_on.isoformat() if self.issued_on else None,
            "on_register": self.on_register,
            "details": list(self.details),
        }


def _public_keys(event: Event) -> dict[int, bytes]:
    keys: dict[int, bytes] = {}
    for key_id, hex_key in (event.public_keys or {}).items():
        try:
            raw = bytes.fromhex(str(hex_key))
        except ValueError:
            continue
        if str(key_id).isdigit() and len(raw) == 32:
            keys[int(key_id)] = raw
    return keys


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def verify(session: Session, event_id: str, text: str) -> Verdict:
    """Check a scanned or typed certificate token against the key and this desk's register."""
    token = find_certificate_token(text)
    if token is None:
        return Verdict("invalid", ("This is not an EventDesk certificate code.",))
    event = session.get(Event, event_id)
    if event is None:
        return Verdict("invalid", ("This desk has no event open.",))
    try:
        event_uuid = uuid.UUID(event.id)
    except ValueError:
        return Verdict("invalid", ("This event cannot check certificates (its id is odd).",))
    check, payload = verify_certificate_token(token, _public_keys(event), event_uuid)
    if check is CertCheck.FORGED:
        return Verdict(
            "forged",
            (
                "The code claims to be a certificate of this event, but its signature does "
                "not match the event's key. Do not accept it.",
            ),
        )
    if check is CertCheck.WRONG_EVENT:
        return Verdict("wrong_event", ("This certificate was issued for another event.",))
    if check is not CertCheck.VALID or payload is None:
        return Verdict("invalid", ("This is not an EventDesk certificate code.",))
    kind_text = "certificate of " + payload.kind
    base = Verdict(
        "genuine",
        serial=payload.serial,
        version=payload.version,
        kind=payload.kind,
        attendee_id=str(payload.attendee_id),
        issued_on=payload.issued_on,
    )
    rows = list(
        session.execute(
            select(Certificate, Desk.name)
            .outerjoin(Desk, Desk.id == Certificate.desk_id)
            .where(Certificate.event_id == event.id, Certificate.serial == payload.serial)
            .order_by(Certificate.version, Certificate.hlc)
        )
    )
    person = session.get(Attendee, str(payload.attendee_id))
    name = person_name(person)
    signed = (
        f"Signed by the event's key: {kind_text} {payload.serial}, version "
        f"{payload.version}, issued {_long_date(payload.issued_on)}."
    )
    if not rows:
        return replace(
            base,
            name=name,
            details=(
                signed,
                "This desk's register does not have it yet (it was issued at a desk that "
                "has not synced here): the signature alone proves it genuine.",
            ),
        )
    this = next((c for c, _ in rows if c.version == payload.version), None)
    latest = max(c.version for c, _ in rows)
    printed = this.name_printed if this is not None else rows[-1][0].name_printed
    desk_name = next((d for c, d in rows if c.version == payload.version), None) or ""
    on_register = replace(base, name=printed or name, on_register=True, latest_version=latest)
    revoked = [c for c, _ in rows if c.revoked]
    if revoked:
        revocation = session.execute(
            select(Operation.hlc, Operation.payload, Operator.name)
            .outerjoin(Operator, Operator.id == Operation.operator_id)
            .where(Operation.kind == "certificate.revoke", Operation.event_id == event.id)
            .where(func.json_extract(Operation.payload, "$.serial") == payload.serial)
            .order_by(Operation.hlc)
            .limit(1)
        ).first()
        why = ""
        if revocation is not None:
            wall, _, _ = journal.parse_hlc(revocation.hlc)
            moment = datetime.fromtimestamp(wall / 1000, UTC).replace(tzinfo=None)
            when = utc_to_local(moment, event_zone(event)).date()
            who = revocation[2] or "the owner"
            why = f"Revoked on {_long_date(when)} by {who}: {revocation[1].get('reason', '')}"
        return replace(
            on_register,
            status="revoked",
            details=(f"Issued to {printed}.", why or "Revoked.", "Do not accept it."),
        )
    if payload.version < latest:
        newest = max((c for c, _ in rows), key=lambda c: (c.version, c.hlc))
        newest_day = utc_to_local(newest.issued_at, event_zone(event)).date()
        return replace(
            on_register,
            status="superseded",
            details=(
                f"Version {payload.version} was issued to {printed}.",
                f"Version {latest} replaced it on {_long_date(newest_day)}, issued to "
                f"{newest.name_printed}. Ask for the current certificate.",
            ),
        )
    where = f" at {desk_name}" if desk_name else ""
    return replace(
        on_register,
        details=(
            f"Issued to {printed}{where} on {_long_date(payload.issued_on)}.",
            f"Certificate of {payload.kind}, serial {payload.serial}, version "
            f"{payload.version}: in force, not revoked.",
        ),
    )


def person_name(row: Attendee | None) -> str:
    """An attendee's certificate name, or empty."""
    if row is None:
        return ""
    return certificate_name(
        row.given_name, row.family_name, row.badge_name, row.honorific, row.country
    )


def serial_counts(session: Session, event_id: str) -> dict[str, int]:
    """Certificates issued, current and revoked: the figures the area shows."""
    rows = session.execute(
        select(Certificate.serial, func.max(Certificate.version), func.max(Certificate.revoked))
        .where(Certificate.event_id == event_id)
        .group_by(Certificate.serial)
    ).all()
    return {
        "serials": len(rows),
        "revoked": sum(1 for r in rows if r[2]),
        "reissued": sum(1 for r in rows if r[1] > 1),
    }


def default_output(data_dir: Path) -> Path:
    """Where certificates go unless the organiser says otherwise."""
    return data_dir / OUTPUT_FOLDER


def attendee_by_ref(session: Session, event_id: str, refs: Iterable[str]) -> list[str]:
    """Attendee ids for short codes or ids; raises CertificateError naming the unknown ones."""
    from desktop import registry

    ids, unknown = registry.ids_for_refs(session, event_id, refs)
    if unknown:
        raise CertificateError(f"no attendee with code or id {', '.join(unknown)} in this event")
    return ids
