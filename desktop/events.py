"""Events and their programme: creating an event, its signing key, sessions, desks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from desktop import journal, permissions
from desktop.journal import DeskContext
from desktop.keys import generate_signing_key, public_bytes, save_private_key
from desktop.models import Desk, Event, EventSession


def key_path(data_dir: Path, event_id: str, key_id: int) -> Path:
    """Where the event's private signing key lives in a data folder."""
    return data_dir / "keys" / f"{event_id}-k{key_id}.pem"


def create_event(
    session: Session,
    desk_id: str,
    data_dir: Path,
    fields: dict[str, Any],
    *,
    event_id: str | None = None,
    operator_id: str | None = None,
) -> str:
    """Create an event with a fresh signing key (kept in the data folder) and register this desk."""
    event_id = event_id or str(uuid.uuid4())
    key = generate_signing_key()
    key_id = 1
    save_private_key(key_path(data_dir, event_id, key_id), key)
    ctx = DeskContext(event_id=event_id, desk_id=desk_id, operator_id=operator_id)
    payload = dict(fields)
    payload["id"] = event_id
    payload["public_keys"] = {str(key_id): public_bytes(key).hex()}
    journal.record(session, ctx, "event.put", payload)
    return event_id


def put_desk(session: Session, ctx: DeskContext, name: str, code: str = "") -> None:
    """Name this desk for the event (so other desks and reports show its name)."""
    journal.record(session, ctx, "desk.put", {"id": ctx.desk_id, "name": name, "code": code})


def put_session(session: Session, ctx: DeskContext, fields: dict[str, Any]) -> str:
    """Create or change a session of the programme (an administrator's change); returns its id."""
    permissions.require(session, ctx, "change_event_settings")
    payload = dict(fields)
    payload.setdefault("id", str(uuid.uuid4()))
    journal.record(session, ctx, "session.put", payload)
    return str(payload["id"])


def event_zone(event: Event | Row[Any]) -> ZoneInfo:
    """The event's time zone."""
    try:
        return ZoneInfo(event.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def local_to_utc(naive_local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time at the venue as the naive UTC the store keeps."""
    return naive_local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def utc_to_local(naive_utc: datetime, zone: ZoneInfo) -> datetime:
    """A stored naive UTC time as an aware time at the venue."""
    return naive_utc.replace(tzinfo=UTC).astimezone(zone)


@dataclass(frozen=True)
class SessionInfo:
    """A session as plain data for the CLI and the UI."""

    id: str
    title: str
    topic: str
    day: date | None
    starts_at: datetime | None  # aware, venue time
    ends_at: datetime | None
    room: str
    capacity: int | None
    counts_for_certificate: bool
    categories: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "topic": self.topic,
            "day": self.day.isoformat() if self.day else None,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "room": self.room,
            "capacity": self.capacity,
            "counts_for_certificate": self.counts_for_certificate,
            "categories": list(self.categories),
        }


def list_sessions(session: Session, event_id: str) -> list[SessionInfo]:
    """The programme in time order, times in the venue's zone."""
    event = session.get(Event, event_id)
    zone = event_zone(event) if event is not None else ZoneInfo("UTC")
    rows = session.scalars(
        select(EventSession)
        .where(EventSession.event_id == event_id, EventSession.status != "deleted")
        .order_by(EventSession.starts_at, EventSession.title)
    )
    return [
        SessionInfo(
            id=row.id,
            title=row.title,
            topic=row.topic,
            day=row.day,
            starts_at=utc_to_local(row.starts_at, zone) if row.starts_at else None,
            ends_at=utc_to_local(row.ends_at, zone) if row.ends_at else None,
            room=row.room,
            capacity=row.capacity,
            counts_for_certificate=row.counts_for_certificate,
            categories=tuple(row.categories or ()),
        )
        for row in rows
    ]


def list_desks(session: Session, event_id: str) -> list[Desk]:
    """Desks known to the event."""
    return list(session.scalars(select(Desk).where(Desk.event_id == event_id).order_by(Desk.name)))
