"""Badges: who gets one, what goes on it, and the record of every badge printed.

A badge is a layout (see :mod:`desktop.layout`) filled with an attendee's record: names,
organisation, country, category and the signed QR token of their current badge sequence.
Every badge handed to a printer becomes a ``badge.print`` fact. The first print of a badge
is ordinary desk work; a reprint needs a reason (and a supervisor), and the desk is told when
the badge was first printed. A lost badge is revoked (``badge.revoke`` raises the badge
sequence, so the old QR code stops working) before its replacement is printed.

A print that could not reach the printer waits in this desk's retry queue (a local setting,
never replicated) until it is printed or dropped.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from desktop import desk, journal, permissions, registry
from desktop.badgetokens import BadgeTokenError, current_key_id
from desktop.countries import country_name
from desktop.events import event_zone, key_path, utc_to_local
from desktop.journal import DeskContext, Op
from desktop.keys import load_private_key
from desktop.layout import Layout, LayoutInfo, RenderReport, list_layouts, load_layout, render
from desktop.models import CATEGORY_LABELS, Attendee, BadgePrint, Desk, Event, Operator
from desktop.overview import format_date_range
from desktop.registry import AttendeeInfo
from desktop.tokens import make_token

DEFAULT_LAYOUT = "a6"
# Local settings of this desk (never replicated): the badge printer and the retry queue.
PRINTER_SETTING = "badges.printer"
QUEUE_SETTING = "badges.retry_queue"
MAX_BADGE_SEQ = 255  # one byte in the token


class BadgeError(Exception):
    """A badge request that cannot be done as asked; the message says why and what to do."""


class ReasonRequired(BadgeError):
    """A reprint was asked for without a reason; ``first`` is the badge's first print."""

    def __init__(self, message: str, first: PrintEntry) -> None:
        super().__init__(message)
        self.first = first


# --- choosing attendees ---------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeFilter:
    """Which registered attendees get a badge; empty fields mean any.

    ``not_printed`` keeps those with no print of their *current* badge (a revoked badge
    needs a new one). ``ids`` keeps exactly those attendees, in that order.
    """

    countries: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    not_printed: bool = False
    ids: tuple[str, ...] = ()

    def describe(self) -> str:
        """The filter in words, for a progress line or a confirmation."""
        parts: list[str] = []
        if self.ids:
            parts.append(f"{len(self.ids)} chosen attendee(s)")
        if self.countries:
            parts.append(", ".join(country_name(c) for c in self.countries))
        if self.categories:
            parts.append(", ".join(category_label(c) for c in self.categories))
        if self.not_printed:
            parts.append("not yet printed")
        return " · ".join(parts) or "everyone registered"


def category_label(key: str) -> str:
    """How a category reads on a badge and in the desk's lists."""
    return CATEGORY_LABELS.get(key) or key.replace("_", " ").capitalize()


def _current_printed() -> Any:
    b = BadgePrint.__table__.c
    return exists().where(
        and_(
            b.attendee_id == Attendee.id,
            b.event_id == Attendee.event_id,
            b.badge_seq == Attendee.badge_seq,
        )
    )


def _filtered(columns: Any, event_id: str, flt: BadgeFilter) -> Any:
    statement = select(columns).where(
        Attendee.event_id == event_id, Attendee.status == "registered"
    )
    if flt.countries:
        statement = statement.where(Attendee.country.in_([c.upper() for c in flt.countries]))
    if flt.categories:
        statement = statement.where(Attendee.category.in_(list(flt.categories)))
    if flt.not_printed:
        statement = statement.where(~_current_printed())
    return statement


def _by_name(statement: Any) -> Any:
    return statement.order_by(
        Attendee.family_name.collate("NOCASE"), Attendee.given_name.collate("NOCASE"), Attendee.id
    )


def select_ids(session: Session, event_id: str, flt: BadgeFilter) -> list[str]:
    """Ids of the registered attendees the filter keeps, in badge order (see select_attendees)."""
    if flt.ids:
        return [p.id for p in select_attendees(session, event_id, flt)]
    return [str(i) for i in session.scalars(_by_name(_filtered(Attendee.id, event_id, flt)))]


def count_attendees(session: Session, event_id: str, flt: BadgeFilter) -> int:
    """How many registered attendees the filter keeps."""
    if flt.ids:
        return len(select_ids(session, event_id, flt))
    inner = _filtered(Attendee.id, event_id, flt).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


def select_attendees(session: Session, event_id: str, flt: BadgeFilter) -> list[AttendeeInfo]:
    """Registered attendees the filter keeps: by family then given name, or in ``ids`` order."""
    statement = _filtered(Attendee, event_id, flt)
    if flt.ids:
        found: dict[str, AttendeeInfo] = {}
        unique = list(dict.fromkeys(flt.ids))
        for start in range(0, len(unique), 500):
            chunk = statement.where(Attendee.id.in_(unique[start : start + 500]))
            found.update((row.id, AttendeeInfo.of(row)) for row in session.scalars(chunk))
        return [found[i] for i in unique if i in found]
    return [AttendeeInfo.of(row) for row in session.scalars(_by_name(statement))]


def resolve_refs(session: Session, event_id: str, refs: Iterable[str]) -> list[str]:
    """Attendee ids for short codes or ids; raises BadgeError naming the unknown ones."""
    ids, unknown = registry.ids_for_refs(session, event_id, refs)
    if unknown:
        raise BadgeError(f"no attendee with code or id {', '.join(unknown)} in this event")
    return ids


# --- what goes on a badge -------------------------------------------------------------------


def _event(session: Session, event_id: str) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise BadgeError(f"no event {event_id} on this desk")
    return event


def badge_context(session: Session, event_id: str) -> dict[str, str]:
    """The event's own placeholders: ``event_name``, ``event_dates``, ``venue`` and more."""
    event = _event(session, event_id)
    place = ", ".join(p for p in (event.city, country_name(event.country) if event.country else ""))
    return {
        "event_name": event.name,
        "event_code": event.code,
        "event_dates": format_date_range(event.starts_on, event.ends_on),
        "organiser": event.organiser,
        # The short place fits under the event name; the full address is there if wanted.
        "venue": place or event.venue,
        "venue_address": event.venue,
    }


def badge_record(info: AttendeeInfo, token: str) -> dict[str, str]:
    """The fields a layout fills in for one attendee (plain strings)."""
    return {
        "id": info.id,
        "badge_name": info.badge_name
        or registry.default_badge_name(info.given_name, info.family_name),
        "given_name": info.given_name,
        "family_name": info.family_name,
        "native_name": info.native_name,
        "honorific": info.honorific,
        "organisation": info.organisation,
        "position": info.position,
        "country": info.country,
        "country_name": country_name(info.country) if info.country else "",
        "category": category_label(info.category),
        "category_key": info.category,
        "short_code": info.short_code,
        "badge_seq": str(info.badge_seq),
        "token": token,
    }


class _Signer:
    """Signs badge tokens with the event's newest key, read from the data folder once."""

    def __init__(self, session: Session, data_dir: Path, event_id: str) -> None:
        event = _event(session, event_id)
        self.key_id = current_key_id(event)
        self.key = load_private_key(key_path(data_dir, event_id, self.key_id))
        self.event_uuid = uuid.UUID(event_id)

    def token(self, info: AttendeeInfo) -> str:
        try:
            attendee_uuid = uuid.UUID(info.id)
        except ValueError:
            raise BadgeTokenError(f"attendee id {info.id} is not a UUID") from None
        return make_token(self.key, self.key_id, self.event_uuid, attendee_uuid, info.badge_seq)


@dataclass(frozen=True)
class BadgeBatch:
    """Everything needed to draw some badges, with no database: safe to hand to a thread."""

    event_id: str
    layout_name: str
    records: tuple[dict[str, str], ...]
    context: dict[str, str]
    user_layouts: Path | None = None

    @property
    def attendee_ids(self) -> list[str]:
        return [r["id"] for r in self.records]

    def names(self) -> list[str]:
        """The attendees' printed names, in order."""
        return [r["badge_name"] for r in self.records]

    def seqs(self) -> dict[str, int]:
        """Attendee id -> the badge sequence their token carries."""
        return {r["id"]: int(r["badge_seq"]) for r in self.records}

    def part(self, start: int, stop: int) -> BadgeBatch:
        """The badges from ``start`` to ``stop`` (for printing a batch in several jobs)."""
        return replace(self, records=self.records[start:stop])


def user_layout_dir(data_dir: Path) -> Path:
    """The organiser's own layouts: ``layouts/`` in the data folder."""
    return data_dir / "layouts"


def badge_layouts(data_dir: Path) -> list[LayoutInfo]:
    """The badge layouts this desk can print: built-in ones and the organiser's own."""
    return [i for i in list_layouts(user_layout_dir(data_dir)) if i.kind == "badge"]


def prepare(
    session: Session,
    data_dir: Path,
    event_id: str,
    layout_name: str,
    flt: BadgeFilter,
) -> BadgeBatch:
    """Read and sign the badges the filter selects; raises BadgeError when none match."""
    load_layout(layout_name, user_layout_dir(data_dir))  # a bad layout fails before signing
    people = select_attendees(session, event_id, flt)
    if not people:
        raise BadgeError(f"no registered attendee matches ({flt.describe()})")
    signer = _Signer(session, data_dir, event_id)
    return BadgeBatch(
        event_id=event_id,
        layout_name=layout_name,
        records=tuple(badge_record(p, signer.token(p)) for p in people),
        context=badge_context(session, event_id),
        user_layouts=user_layout_dir(data_dir),
    )


def draw(
    batch: BadgeBatch,
    out: Path | BinaryIO,
    *,
    progress: Callable[[int, int], bool | None] | None = None,
    layout: Layout | None = None,
) -> RenderReport:
    """Draw a prepared batch into one PDF (``progress`` may return False to stop)."""
    chosen = layout or load_layout(batch.layout_name, batch.user_layouts)
    return render(chosen, batch.records, out, context=batch.context, progress=progress)


def render_badges(
    session: Session,
    data_dir: Path,
    event_id: str,
    out: Path | BinaryIO,
    layout_name: str = DEFAULT_LAYOUT,
    flt: BadgeFilter | None = None,
    *,
    progress: Callable[[int, int], bool | None] | None = None,
) -> RenderReport:
    """Render the badges the filter selects into one PDF; nothing is recorded as printed."""
    batch = prepare(session, data_dir, event_id, layout_name, flt or BadgeFilter())
    return draw(batch, out, progress=progress)


# --- the print record -----------------------------------------------------------------------


@dataclass(frozen=True)
class PrintEntry:
    """One badge print, as the print log shows it."""

    op_id: str
    attendee_id: str
    attendee_name: str
    short_code: str
    at: datetime  # naive UTC
    desk_id: str
    desk_name: str
    operator_id: str | None
    operator_name: str
    layout: str
    badge_seq: int
    reason: str
    reprint: bool


@dataclass(frozen=True)
class BadgeStatus:
    """An attendee's badge so far: its sequence and its prints (oldest first)."""

    attendee_id: str
    name: str
    badge_seq: int
    prints: tuple[PrintEntry, ...] = ()

    @property
    def first(self) -> PrintEntry | None:
        return self.prints[0] if self.prints else None

    @property
    def printed(self) -> bool:
        """Any badge was ever printed for them: the next print is a reprint."""
        return bool(self.prints)

    @property
    def current_printed(self) -> bool:
        """Their current badge (this badge sequence) has been printed."""
        return any(p.badge_seq == self.badge_seq for p in self.prints)


def print_log(
    session: Session,
    event_id: str,
    *,
    attendee_ids: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[PrintEntry]:
    """Badge prints of the event, newest first (optionally of some attendees only)."""
    b = BadgePrint
    statement = (
        select(b, Attendee, Desk.name, Operator.name)
        .outerjoin(Attendee, Attendee.id == b.attendee_id)
        .outerjoin(Desk, Desk.id == b.desk_id)
        .outerjoin(Operator, Operator.id == b.operator_id)
        .where(b.event_id == event_id)
    )
    if attendee_ids is not None:
        statement = statement.where(b.attendee_id.in_(list(attendee_ids)))
    rows = session.execute(statement.order_by(b.at, b.hlc)).all()
    seen: set[str] = set()
    entries: list[PrintEntry] = []
    for bp, person, desk_name, operator_name in rows:
        reprint = bp.attendee_id in seen
        seen.add(bp.attendee_id)
        name = AttendeeInfo.of(person).display_name if person is not None else ""
        code = person.short_code if person is not None else ""
        entries.append(
            PrintEntry(
                op_id=bp.op_id,
                attendee_id=bp.attendee_id,
                attendee_name=name,
                short_code=code,
                at=bp.at,
                desk_id=bp.desk_id,
                desk_name=desk_name or bp.desk_id,
                operator_id=bp.operator_id,
                operator_name=operator_name or ("" if bp.operator_id is None else "unknown"),
                layout=bp.layout,
                badge_seq=bp.badge_seq,
                reason=bp.reason,
                reprint=reprint,
            )
        )
    entries.reverse()
    return entries if limit is None else entries[:limit]


def print_counts(session: Session, event_id: str, attendee_ids: Sequence[str]) -> dict[str, int]:
    """How many badges were printed for each of these attendees (absent: none)."""
    counts: dict[str, int] = {}
    unique = list(dict.fromkeys(attendee_ids))
    for start in range(0, len(unique), 500):
        rows = session.execute(
            select(BadgePrint.attendee_id, func.count())
            .where(
                BadgePrint.event_id == event_id,
                BadgePrint.attendee_id.in_(unique[start : start + 500]),
            )
            .group_by(BadgePrint.attendee_id)
        )
        counts.update((str(a), int(n)) for a, n in rows)
    return counts


def badge_status(session: Session, event_id: str, attendee_id: str) -> BadgeStatus:
    """An attendee's badge sequence and prints; raises BadgeError for an unknown attendee."""
    person = session.get(Attendee, attendee_id)
    if person is None or person.event_id != event_id:
        raise BadgeError(f"no attendee {attendee_id} in this event")
    prints = tuple(reversed(print_log(session, event_id, attendee_ids=[attendee_id])))
    name = AttendeeInfo.of(person).display_name
    return BadgeStatus(attendee_id, name, person.badge_seq, prints)


def describe_print(session: Session, event_id: str, entry: PrintEntry) -> str:
    """'28 Aug 2024 09:12 at Desk 2 by Ana' in the event's time zone."""
    local = utc_to_local(entry.at, event_zone(_event(session, event_id)))
    who = f" by {entry.operator_name}" if entry.operator_name else ""
    return f"{local:%d %b %Y %H:%M} at {entry.desk_name}{who}"


def check_print(
    session: Session, ctx: DeskContext, attendee_id: str, reason: str = ""
) -> BadgeStatus:
    """Whether whoever acts in ``ctx`` may print this badge now; raises if not.

    A first print needs ``print_first_badge``; a reprint needs ``reprint_badge`` and a
    reason (:class:`ReasonRequired` says when the badge was first printed). A cancelled
    registration gets no badge.
    """
    status = badge_status(session, ctx.event_id, attendee_id)
    person = session.get(Attendee, attendee_id)
    if person is not None and person.status != "registered":
        raise BadgeError(f"{status.name}'s registration is cancelled: restore it first")
    first = status.first
    if first is None:
        permissions.require(session, ctx, "print_first_badge")
        return status
    permissions.require(session, ctx, "reprint_badge")
    if not reason.strip():
        when = describe_print(session, ctx.event_id, first)
        raise ReasonRequired(
            f"{status.name}'s badge was first printed {when}; a reprint needs a reason.", first
        )
    return status


def record_print(
    session: Session, ctx: DeskContext, attendee_id: str, layout: str, reason: str = ""
) -> Op:
    """Record that this attendee's current badge was handed to a printer (a fact)."""
    status = check_print(session, ctx, attendee_id, reason)
    return journal.record(
        session,
        ctx,
        "badge.print",
        {
            "attendee_id": attendee_id,
            "layout": layout,
            "badge_seq": status.badge_seq,
            "reason": reason.strip(),
            "at": journal.utcnow().isoformat(),
        },
    )


def record_prints(
    session: Session,
    ctx: DeskContext,
    attendee_ids: Sequence[str],
    layout: str,
    reason: str = "",
    *,
    printed_seqs: Mapping[str, int] | None = None,
) -> list[Op]:
    """Record a batch of prints at once; each is checked as :func:`record_print` checks one.

    ``printed_seqs`` (attendee id -> the badge sequence on the paper) records badges that
    are already printed, after :func:`check_print` let them through: the fact is recorded
    as it happened even if another desk's print arrived meanwhile and made it a reprint.
    """
    at = journal.utcnow().isoformat()
    items: list[tuple[str, Mapping[str, Any]]] = []
    for attendee_id in attendee_ids:
        if printed_seqs is not None:
            seq = printed_seqs[attendee_id]
        else:
            seq = check_print(session, ctx, attendee_id, reason).badge_seq
        payload = {
            "attendee_id": attendee_id,
            "layout": layout,
            "badge_seq": seq,
            "reason": reason.strip(),
            "at": at,
        }
        items.append(("badge.print", payload))
    return journal.record_many(session, ctx, items) if items else []


def reprint_needed(session: Session, event_id: str, attendee_ids: Sequence[str]) -> list[str]:
    """Which of these attendees already had a badge printed (so printing again is a reprint)."""
    if not attendee_ids:
        return []
    printed: set[str] = set()
    unique = list(dict.fromkeys(attendee_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        printed.update(
            session.scalars(
                select(BadgePrint.attendee_id)
                .where(BadgePrint.event_id == event_id, BadgePrint.attendee_id.in_(chunk))
                .distinct()
            )
        )
    return [i for i in unique if i in printed]


def revoke_badge(session: Session, ctx: DeskContext, attendee_id: str, reason: str) -> int:
    """Revoke a lost badge: its QR code stops working. Returns the new badge sequence.

    Print the replacement next (a reprint, with the same reason).
    """
    permissions.require(session, ctx, "reprint_badge")
    if not reason.strip():
        raise BadgeError("say why the badge is revoked (lost, stolen, damaged…)")
    status = badge_status(session, ctx.event_id, attendee_id)
    new_seq = status.badge_seq + 1
    if new_seq > MAX_BADGE_SEQ:
        raise BadgeError(f"{status.name}'s badge has been replaced {MAX_BADGE_SEQ} times already")
    journal.record(
        session,
        ctx,
        "badge.revoke",
        {"id": attendee_id, "badge_seq": new_seq, "reason": reason.strip()},
    )
    return new_seq


# --- this desk's printer and retry queue (local settings) -----------------------------------


@dataclass(frozen=True)
class PrinterSettings:
    """The badge printer chosen once at this desk.

    ``paper`` is ``"layout"`` (paper the size of the badge: labels, cards) or a paper
    name the printer knows (``"A4"``); ``dpi`` 0 picks the printer's own resolution.
    """

    printer: str = ""
    paper: str = "layout"
    dpi: int = 0
    layout: str = DEFAULT_LAYOUT

    @property
    def configured(self) -> bool:
        return bool(self.printer)


def load_printer_settings(session: Session) -> PrinterSettings:
    """This desk's badge printer settings (defaults when none are saved or they are unreadable)."""
    raw = desk.get_setting(session, PRINTER_SETTING)
    try:
        data = json.loads(raw) if raw else {}
        return PrinterSettings(
            printer=str(data.get("printer", "")),
            paper=str(data.get("paper", "layout")) or "layout",
            dpi=max(0, int(data.get("dpi", 0))),
            layout=str(data.get("layout", DEFAULT_LAYOUT)) or DEFAULT_LAYOUT,
        )
    except (ValueError, TypeError, AttributeError):
        return PrinterSettings()


def save_printer_settings(session: Session, settings: PrinterSettings) -> None:
    """Keep the badge printer settings at this desk."""
    desk.set_setting(session, PRINTER_SETTING, json.dumps(asdict(settings)))


@dataclass(frozen=True)
class PendingPrint:
    """A print job that did not reach the printer, kept to try again."""

    job_id: str
    attendee_ids: tuple[str, ...]
    names: tuple[str, ...]
    layout: str
    reason: str = ""
    queued_at: str = ""  # ISO 8601, naive UTC
    error: str = ""
    attempts: int = 1

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["attendee_ids"] = list(self.attendee_ids)
        data["names"] = list(self.names)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PendingPrint:
        return cls(
            job_id=str(data["job_id"]),
            attendee_ids=tuple(str(i) for i in data.get("attendee_ids", [])),
            names=tuple(str(n) for n in data.get("names", [])),
            layout=str(data.get("layout", DEFAULT_LAYOUT)),
            reason=str(data.get("reason", "")),
            queued_at=str(data.get("queued_at", "")),
            error=str(data.get("error", "")),
            attempts=int(data.get("attempts", 1)),
        )


def pending_prints(session: Session) -> list[PendingPrint]:
    """The retry queue, oldest first (unreadable entries are left out)."""
    raw = desk.get_setting(session, QUEUE_SETTING)
    try:
        items = json.loads(raw) if raw else []
    except ValueError:
        return []
    jobs: list[PendingPrint] = []
    for item in items if isinstance(items, list) else []:
        try:
            jobs.append(PendingPrint.from_json(item))
        except (KeyError, TypeError, ValueError):
            continue
    return jobs


def _save_queue(session: Session, jobs: Sequence[PendingPrint]) -> None:
    desk.set_setting(session, QUEUE_SETTING, json.dumps([j.to_json() for j in jobs]))


def queue_print(
    session: Session,
    attendee_ids: Sequence[str],
    names: Sequence[str],
    layout: str,
    reason: str,
    error: str,
    job_id: str | None = None,
) -> PendingPrint:
    """Put a failed print in the retry queue (or update the entry ``job_id`` a retry came from)."""
    jobs = pending_prints(session)
    existing = next((j for j in jobs if job_id is not None and j.job_id == job_id), None)
    if existing is not None:
        # A retry that printed some of its badges keeps only the rest.
        job = replace(
            existing,
            attendee_ids=tuple(attendee_ids),
            names=tuple(names),
            error=error,
            attempts=existing.attempts + 1,
        )
        jobs = [job if j.job_id == job.job_id else j for j in jobs]
    else:
        job = PendingPrint(
            job_id=job_id or journal.new_op_id(),
            attendee_ids=tuple(attendee_ids),
            names=tuple(names),
            layout=layout,
            reason=reason,
            queued_at=journal.utcnow().isoformat(timespec="seconds"),
            error=error,
        )
        jobs.append(job)
    _save_queue(session, jobs)
    return job


def drop_pending(session: Session, job_id: str) -> bool:
    """Take a job out of the retry queue (printed, or given up); False if it was not there."""
    jobs = pending_prints(session)
    kept = [j for j in jobs if j.job_id != job_id]
    if len(kept) == len(jobs):
        return False
    _save_queue(session, kept)
    return True
