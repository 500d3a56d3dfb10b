"""The built-in demo: the APO Conference on Open Innovation in the Public Sector, Manila 2024."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from desktop import certificates, desk, events, operators, permissions, registry
from desktop.demo_data import DEMO_CERTIFICATES, DEMO_EVENT, demo_attendees, demo_sessions
from desktop.journal import DeskContext
from desktop.models import CertificateSettings, Event

# Fixed ids: the demo is the same event on every desk and in every run.
DEMO_NAMESPACE = uuid.UUID("6f1c7f0e-5d0a-4c53-9a43-0a9d7c2e2024")
DEMO_EVENT_ID = str(uuid.uuid5(DEMO_NAMESPACE, "event"))


def demo_attendee_id(index: int) -> str:
    """The fixed id of the demo's attendee number ``index``."""
    return str(uuid.uuid5(DEMO_NAMESPACE, f"attendee-{index}"))


def demo_session_id(key: str) -> str:
    """The fixed id of a demo session."""
    return str(uuid.uuid5(DEMO_NAMESPACE, f"session-{key}"))


@dataclass(frozen=True)
class DemoResult:
    event_id: str
    created: bool
    attendees: int
    sessions: int


def create_demo(session: Session, data_dir: Path) -> DemoResult:
    """Create the demo event in this desk's database (once); open it."""
    existing = session.get(Event, DEMO_EVENT_ID)
    desk_id = desk.desk_id(session)
    if existing is not None:
        desk.open_event(session, DEMO_EVENT_ID)
        # A demo made before there were operators gets its three (a no-op otherwise).
        operators.create_demo_operators(session, permissions.as_owner(desk.context(session)))
        _demo_certificates(session, permissions.as_owner(desk.context(session)))
        return DemoResult(DEMO_EVENT_ID, False, 0, 0)
    event_fields = {k: v for k, v in DEMO_EVENT.items() if k != "id"}
    events.create_event(session, desk_id, data_dir, event_fields, event_id=DEMO_EVENT_ID)
    desk.open_event(session, DEMO_EVENT_ID)
    ctx = desk.context(session)
    events.put_desk(session, ctx, desk.desk_name(session))
    operators.create_demo_operators(session, permissions.as_owner(ctx))
    zone = ZoneInfo(str(DEMO_EVENT["timezone"]))
    sessions = demo_sessions()
    for item in sessions:
        starts = datetime.fromisoformat(str(item["starts_at"]))
        ends = datetime.fromisoformat(str(item["ends_at"]))
        events.put_session(
            session,
            ctx,
            {
                "id": demo_session_id(str(item["key"])),
                "title": item["title"],
                "topic": item.get("topic", ""),
                "day": item["day"],
                "starts_at": events.local_to_utc(starts, zone),
                "ends_at": events.local_to_utc(ends, zone),
                "room": item["room"],
                "capacity": item.get("capacity"),
                "counts_for_certificate": bool(item.get("counts_for_certificate", True)),
                "categories": list(item.get("categories") or []),
            },
        )
    people = demo_attendees()
    for index, person in enumerate(people):
        fields = {k: v for k, v in person.items() if k in registry.EDITABLE_FIELDS}
        registry.register(session, ctx, fields, attendee_id=demo_attendee_id(index))
    _demo_certificates(session, permissions.as_owner(ctx))
    return DemoResult(DEMO_EVENT_ID, True, len(people), len(sessions))


def _demo_certificates(session: Session, ctx: DeskContext) -> None:
    """The demo's certificate rules and fictional signatories (once; a no-op after)."""
    if session.get(CertificateSettings, DEMO_EVENT_ID) is None:
        settings = certificates.Settings.from_fields(DEMO_CERTIFICATES)
        certificates.save_settings(session, ctx, settings)
