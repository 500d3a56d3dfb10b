"""The badge print log, and the reprints with their reasons."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy.orm import Session

from desktop import badges
from desktop.badges import PrintEntry
from desktop.reports.base import UNSYNCED_NAME, load_event
from desktop.reports.options import ReportOptions
from desktop.reports.table import Cell, ReportError, Table, table


def _prints(session: Session, event_id: str) -> list[PrintEntry]:
    entries = list(reversed(badges.print_log(session, event_id)))  # oldest first
    if not entries:
        raise ReportError(
            "no badge has been printed for this event yet, so there is no print log: "
            "print badges in the Badges area first (or sync with the desks that did)"
        )
    return entries


def _name(entry: PrintEntry) -> str:
    return entry.attendee_name or f"{UNSYNCED_NAME} {entry.attendee_id}"


def badge_print_log(
    session: Session, event_id: str, now: datetime, _options: ReportOptions
) -> Table:
    """Every badge print in time order: who, when, where, by whom, first print or reprint."""
    event = load_event(session, event_id)
    entries = _prints(session, event_id)
    number_of: Counter[str] = Counter()
    rows: list[tuple[Cell, ...]] = []
    for entry in entries:
        number_of[entry.attendee_id] += 1
        count = number_of[entry.attendee_id]
        rows.append(
            (
                event.local(entry.at),
                _name(entry),
                entry.short_code,
                "First print" if count == 1 else f"Reprint {count - 1}",
                entry.badge_seq,
                entry.layout,
                entry.desk_name,
                entry.operator_name,
                entry.reason,
            )
        )
    people = len(number_of)
    reprints = len(entries) - people
    return table(
        "badge-log",
        "Badge print log",
        [
            ("Printed at", "datetime"),
            ("Name", "text"),
            ("Code", "text"),
            ("Print", "text"),
            ("Badge no.", "int"),
            ("Layout", "text"),
            ("Desk", "text"),
            ("Operator", "text"),
            ("Reason", "text"),
        ],
        rows,
        subtitle=event.subtitle(event.local(now)),
        notes=(
            f"{len(entries)} prints for {people} attendees, of which {reprints} reprints. "
            "Badge no. is the badge sequence: it rises when a lost badge is revoked.",
        ),
    )


def reprints(session: Session, event_id: str, now: datetime, _options: ReportOptions) -> Table:
    """Only the reprints, each with its reason and when the first badge was printed."""
    event = load_event(session, event_id)
    entries = _prints(session, event_id)
    first: dict[str, PrintEntry] = {}
    count: Counter[str] = Counter()
    rows: list[tuple[Cell, ...]] = []
    reasons: Counter[str] = Counter()
    for entry in entries:
        count[entry.attendee_id] += 1
        earliest = first.setdefault(entry.attendee_id, entry)
        if earliest is entry:
            continue
        reason = entry.reason or "(no reason recorded)"
        reasons[reason.casefold()] += 1
        rows.append(
            (
                event.local(entry.at),
                _name(entry),
                entry.short_code,
                count[entry.attendee_id] - 1,
                reason,
                entry.desk_name,
                entry.operator_name,
                event.local(earliest.at),
                entry.badge_seq,
            )
        )
    common = ", ".join(f"{text} ({n})" for text, n in reasons.most_common(5))
    return table(
        "reprints",
        "Badge reprints and their reasons",
        [
            ("Reprinted at", "datetime"),
            ("Name", "text"),
            ("Code", "text"),
            ("Reprint no.", "int"),
            ("Reason", "text"),
            ("Desk", "text"),
            ("Operator", "text"),
            ("First printed at", "datetime"),
            ("Badge no.", "int"),
        ],
        rows,
        subtitle=event.subtitle(event.local(now)),
        notes=(
            f"{len(rows)} reprints for {sum(1 for n in count.values() if n > 1)} attendees."
            + (f" Most given reasons: {common}." if common else ""),
        ),
    )
