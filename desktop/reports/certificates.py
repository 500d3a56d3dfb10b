"""Certificates issued, superseded and revoked.

A certificate keeps its serial when it is issued again (after a name correction, say) and
gets a higher version; every older version reads as *superseded*. Revoking a serial revokes
all its versions.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop import attendance
from desktop.models import Certificate
from desktop.reports.base import UNSYNCED_NAME, economy, listed_name, load_event, load_people
from desktop.reports.options import ReportOptions
from desktop.reports.table import Cell, ReportError, Table, table

KIND_LABELS = {"attendance": "Attendance", "appreciation": "Appreciation"}


def certificate_status(cert: Certificate, latest_version: int) -> str:
    """'Revoked', 'Superseded' or 'Issued' (the current version)."""
    if cert.revoked:
        return "Revoked"
    if cert.version < latest_version:
        return "Superseded"
    return "Issued"


def certificates_report(
    session: Session, event_id: str, now: datetime, _options: ReportOptions
) -> Table:
    """Every certificate version with its status."""
    event = load_event(session, event_id)
    certs = list(
        session.scalars(
            select(Certificate)
            .where(Certificate.event_id == event_id)
            .order_by(Certificate.serial, Certificate.version, Certificate.issued_at)
        )
    )
    if not certs:
        raise ReportError(
            "no certificate has been issued for this event yet: issue them in the "
            "Certificates area first (or sync with the desk that did)"
        )
    latest: dict[str, int] = {}
    for cert in certs:
        latest[cert.serial] = max(latest.get(cert.serial, 0), cert.version)
    people = load_people(session, event_id, registered_only=False)
    desks = attendance.desk_names(session, {c.desk_id for c in certs})
    statuses: Counter[str] = Counter()
    rows: list[tuple[Cell, ...]] = []
    for cert in certs:
        status = certificate_status(cert, latest[cert.serial])
        statuses[status] += 1
        person = people.get(cert.attendee_id)
        rows.append(
            (
                cert.serial,
                cert.version,
                status,
                cert.name_printed,
                listed_name(person)
                if person is not None
                else f"{UNSYNCED_NAME} {cert.attendee_id}",
                economy(person.country) if person is not None else "",
                KIND_LABELS.get(cert.kind, cert.kind.capitalize()),
                event.local(cert.issued_at),
                desks.get(cert.desk_id, cert.desk_id),
            )
        )
    return table(
        "certificates",
        "Certificates issued, superseded and revoked",
        [
            ("Serial", "text"),
            ("Version", "int"),
            ("Status", "text"),
            ("Name printed", "text"),
            ("Attendee", "text"),
            ("Economy", "text"),
            ("Kind", "text"),
            ("Issued at", "datetime"),
            ("Desk", "text"),
        ],
        rows,
        subtitle=event.subtitle(event.local(now)),
        notes=(
            f"{len(latest)} certificates (serials): {statuses['Issued']} current, "
            f"{statuses['Superseded']} superseded versions, {statuses['Revoked']} revoked "
            "versions. Reissuing keeps the serial and raises the version.",
        ),
    )
