"""This desk's identity and the event it has open (local settings, never replicated)."""

from __future__ import annotations

import secrets
import socket

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from desktop.journal import DeskContext
from desktop.models import Desk, Event, LocalSetting
from desktop.prepared import Prepared


class NoEventError(Exception):
    """The desk has no event open yet."""


def get_setting(session: Session, key: str, default: str = "") -> str:
    """A local setting of this desk."""
    row = session.get(LocalSetting, key)
    return row.value if row is not None else default


def set_setting(session: Session, key: str, value: str) -> None:
    """Store a local setting of this desk."""
    row = session.get(LocalSetting, key)
    if row is None:
        session.add(LocalSetting(key=key, value=value))
    else:
        row.value = value


def desk_id(session: Session) -> str:
    """This desk's id, made once per database and kept."""
    current = get_setting(session, "desk_id")
    if not current:
        current = secrets.token_hex(6)
        set_setting(session, "desk_id", current)
        set_setting(session, "desk_name", _default_desk_name())
    return current


def desk_name(session: Session) -> str:
    """The name shown for this desk (its row when the event knows it, else the local default)."""
    did = desk_id(session)
    row = session.get(Desk, did)
    if row is not None and row.name:
        return row.name
    return get_setting(session, "desk_name") or _default_desk_name()


def _default_desk_name() -> str:
    host = socket.gethostname().split(".")[0] or "desk"
    return f"Desk {host}"[:60]


def current_event_id(session: Session) -> str | None:
    """The event this desk has open, if any."""
    event_id = get_setting(session, "event_id")
    if event_id and session.get(Event, event_id) is not None:
        return event_id
    first = session.scalars(select(Event.id).order_by(Event.starts_on)).first()
    return first


def required_event(session: Session) -> Event:
    """The event this desk has open; NoEventError, saying what to do, when it has none."""
    event_id = current_event_id(session)
    event = session.get(Event, event_id) if event_id is not None else None
    if event is None:
        raise NoEventError("no event yet: run `eventdesk demo` first")
    return event


def open_event(session: Session, event_id: str) -> None:
    """Make ``event_id`` the event this desk works on."""
    set_setting(session, "event_id", event_id)


# Built once: every scan asks for its context, so it is one indexed read, not four ORM loads.
_CONTEXT_SETTINGS = Prepared(
    select(LocalSetting.__table__.c.key, LocalSetting.__table__.c.value).where(
        LocalSetting.__table__.c.key.in_(["event_id", "desk_id", "operator_id"])
    )
)
_EVENT_EXISTS = Prepared(
    select(Event.__table__.c.id).where(Event.__table__.c.id == bindparam("id"))
)


def context(session: Session, operator_id: str | None = None) -> DeskContext:
    """The context for a change at this desk on its open event."""
    values: dict[str, str] = {k: v for k, v in _CONTEXT_SETTINGS.all(session)}
    event_id: str | None = values.get("event_id", "")
    if not event_id or _EVENT_EXISTS.first(session, {"id": event_id}) is None:
        event_id = current_event_id(session)
    if event_id is None:
        raise NoEventError("no event yet: run `eventdesk demo` or create an event in the app")
    if operator_id is None:
        operator_id = values.get("operator_id") or None
    did = values.get("desk_id") or desk_id(session)
    return DeskContext(event_id=event_id, desk_id=did, operator_id=operator_id)
