"""Issuing an attendee's badge token with the event's signing key from the data folder."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from desktop.events import key_path
from desktop.keys import load_private_key
from desktop.models import Attendee, Event
from desktop.tokens import make_token


class BadgeTokenError(Exception):
    """A token that cannot be issued (unknown attendee or event, no key)."""


def current_key_id(event: Event) -> int:
    """The newest signing key id of an event (the highest listed public key)."""
    ids = [int(k) for k in (event.public_keys or {}) if str(k).isdigit()]
    if not ids:
        raise BadgeTokenError(f"event {event.id} has no signing key")
    return max(ids)


def token_for(session: Session, data_dir: Path, event_id: str, attendee_id: str) -> str:
    """The signed QR token for an attendee's current badge (their ``badge_seq``).

    Raises BadgeTokenError for an unknown attendee or event, and ``keys.KeyFileError``
    when the signing key file is missing or unreadable.
    """
    event = session.get(Event, event_id)
    if event is None:
        raise BadgeTokenError(f"no event {event_id} on this desk")
    attendee = session.get(Attendee, attendee_id)
    if attendee is None or attendee.event_id != event_id:
        raise BadgeTokenError(f"no attendee {attendee_id} in this event")
    key_id = current_key_id(event)
    private_key = load_private_key(key_path(data_dir, event_id, key_id))
    try:
        event_uuid, attendee_uuid = uuid.UUID(event_id), uuid.UUID(attendee_id)
    except ValueError as exc:
        raise BadgeTokenError(f"ids must be UUIDs to go into a badge: {exc}") from None
    return make_token(private_key, key_id, event_uuid, attendee_uuid, attendee.badge_seq)
