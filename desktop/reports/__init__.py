"""Reports: each one a function of the event's facts returning a plain :class:`Table`.

The file writers (:mod:`desktop.reportwriters`), the one-page PDF (:mod:`desktop.summarypdf`),
the command line and the reports area all start from :func:`build`, so a report reads the
same everywhere. Reports that name people need the ``export_personal_data`` permission; the
summary holds figures only and anyone signed in may make it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from desktop import clock, permissions
from desktop.journal import DeskContext
from desktop.reports.badgelog import badge_print_log, reprints
from desktop.reports.certificates import certificates_report
from desktop.reports.duplicates import duplicate_admissions
from desktop.reports.late import late_arrivals
from desktop.reports.matrix import attendance_matrix
from desktop.reports.noshows import no_shows
from desktop.reports.options import ReportOptions
from desktop.reports.participants import participant_list
from desktop.reports.summary import summary
from desktop.reports.table import Cell, Format, ReportError, Table

Builder = Callable[[Session, str, datetime, ReportOptions], Table]


@dataclass(frozen=True)
class ReportSpec:
    """A report the desk can make: its name on the command line, title, what it holds."""

    name: str
    title: str
    description: str
    build: Builder
    personal: bool = True  # names people: needs export_personal_data
    pdf: bool = False  # also comes as the one-page PDF


REPORTS: tuple[ReportSpec, ...] = (
    ReportSpec(
        "participants",
        "List of participants",
        "No., name, economy, organisation, position, gender, category of everyone registered.",
        participant_list,
    ),
    ReportSpec(
        "attendance-matrix",
        "Attendance by session",
        "Attendees down, sessions across (1 = attended), with totals per row and column.",
        attendance_matrix,
    ),
    ReportSpec(
        "no-shows",
        "No-shows",
        "Registered attendees never admitted at any door, with e-mail and phone.",
        no_shows,
    ),
    ReportSpec(
        "late-arrivals",
        "Late arrivals",
        "First arrival of the day after the day's first counting session began (+ grace).",
        late_arrivals,
    ),
    ReportSpec(
        "duplicates",
        "Duplicate admissions",
        "One badge admitted at two desks while they were apart; the later scan is flagged.",
        duplicate_admissions,
    ),
    ReportSpec(
        "badge-log",
        "Badge print log",
        "Every badge printed: when, where, by whom, first print or reprint.",
        badge_print_log,
    ),
    ReportSpec(
        "reprints",
        "Badge reprints",
        "Reprinted badges with the reason given for each.",
        reprints,
    ),
    ReportSpec(
        "certificates",
        "Certificates",
        "Certificates issued, superseded (older versions) and revoked.",
        certificates_report,
    ),
    ReportSpec(
        "summary",
        "Summary for the organiser",
        "Participants by economy, gender, overseas/local, category; attendance rates per "
        "session and per day. As a table, or a one-page PDF with charts.",
        summary,
        personal=False,
        pdf=True,
    ),
)
REPORTS_BY_NAME = {spec.name: spec for spec in REPORTS}


def spec(name: str) -> ReportSpec:
    """The report called ``name``; ReportError naming the close ones otherwise."""
    found = REPORTS_BY_NAME.get(name.strip().lower())
    if found is not None:
        return found
    close = difflib.get_close_matches(name.strip().lower(), list(REPORTS_BY_NAME), n=2)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    raise ReportError(f"no report called {name!r}{hint}; `eventdesk report --list` names them all")


def may_make(session: Session, ctx: DeskContext, name: str) -> bool:
    """Whether whoever acts in ``ctx`` may make this report (the UI greys out the rest)."""
    return not spec(name).personal or permissions.can(session, ctx, "export_personal_data")


def build(
    session: Session,
    ctx: DeskContext,
    name: str,
    *,
    now: datetime | None = None,
    options: ReportOptions | None = None,
) -> Table:
    """Make report ``name`` for the event in ``ctx`` as of ``now`` (naive UTC; desk clock)."""
    found = spec(name)
    if found.personal:
        permissions.require(session, ctx, "export_personal_data")
    moment = now if now is not None else clock.now(session)
    return found.build(session, ctx.event_id, moment, options or ReportOptions())


__all__ = [
    "REPORTS",
    "REPORTS_BY_NAME",
    "Cell",
    "Format",
    "ReportError",
    "ReportOptions",
    "ReportSpec",
    "Table",
    "build",
    "may_make",
    "spec",
]
