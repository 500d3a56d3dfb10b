"""SQLAlchemy models of the desk database.

Every row that comes from the journal is either a *record* (``*.put`` kinds, merged field by
field with the hybrid logical clock kept per field in ``field_hlc``) or a *fact* (scans, badge
prints, certificate issues: append-only, keyed by the ``op_id`` that created them). Nothing
derived (checked in, sessions attended, eligibility) is stored: it is computed from the facts.
All datetimes are stored as naive UTC. There are no foreign keys between replicated tables:
operations from other desks may arrive in any order (a scan before the attendee's record).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, MetaData, String
from sqlalchemy import Text as SAText
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CATEGORIES = (
    "participant",
    "resource_person",
    "observer",
    "secretariat",
    "local_participant",
    "vip",
)
CATEGORY_LABELS = {
    "participant": "Participant",
    "resource_person": "Resource person",
    "observer": "Observer",
    "secretariat": "Secretariat",
    "local_participant": "Local participant",
    "vip": "VIP",
}
ATTENDEE_STATUSES = ("registered", "cancelled")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Event(Base):
    """A conference. Fields are merged last-writer-wins from ``event.put`` operations."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), default="")
    name: Mapped[str] = mapped_column(String(300), default="")
    organiser: Mapped[str] = mapped_column(String(300), default="")
    venue: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    project_code: Mapped[str] = mapped_column(String(64), default="")
    # key id (as text, JSON keys are strings) -> raw Ed25519 public key, hex
    public_keys: Mapped[dict[str, Any]] = mapped_column(default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    field_hlc: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EventSession(Base):
    """A session of the programme (named so it does not clash with the ORM Session)."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    topic: Mapped[str] = mapped_column(String(300), default="")
    day: Mapped[date | None] = mapped_column(Date)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    room: Mapped[str] = mapped_column(String(120), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    counts_for_certificate: Mapped[bool] = mapped_column(Boolean, default=True)
    categories: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    field_hlc: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Attendee(Base):
    """A registered person."""

    __tablename__ = "attendees"
    __table_args__ = (
        Index("ix_attendees_event_short_code", "event_id", "short_code"),
        # The countries, categories and registered count of an event (the areas' filters),
        # read from the index alone.
        Index("ix_attendees_event_filters", "event_id", "country", "category", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Not indexed alone: both indexes above begin with it (migration 0009).
    event_id: Mapped[str] = mapped_column(String(36))
    given_name: Mapped[str] = mapped_column(String(200), default="")
    family_name: Mapped[str] = mapped_column(String(200), default="")
    badge_name: Mapped[str] = mapped_column(String(200), default="")
    native_name: Mapped[str] = mapped_column(String(200), default="")
    honorific: Mapped[str] = mapped_column(String(40), default="")
    gender: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    organisation: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(32), default="participant")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(64), default="")
    short_code: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(16), default="registered")
    notes: Mapped[str] = mapped_column(SAText, default="")
    external_id: Mapped[str] = mapped_column(String(120), default="")
    badge_seq: Mapped[int] = mapped_column(Integer, default=0)
    field_hlc: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Desk(Base):
    """A registration desk (a laptop) known to this event."""

    __tablename__ = "desks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    code: Mapped[str] = mapped_column(String(8), default="")
    field_hlc: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Operator(Base):
    """A person who signs in at a desk."""

    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20), default="desk")
    secret_hash: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    field_hlc: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Scan(Base):
    """One scan and its decision: an append-only fact."""

    __tablename__ = "scans"
    __table_args__ = (
        # One person at one door (the entrance is session_id NULL), in time order: what a
        # scan looks up to say "already in".
        Index("ix_scans_attendee_session_at", "attendee_id", "session_id", "at"),
        Index("ix_scans_session_at", "session_id", "at"),
    )

    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    attendee_id: Mapped[str | None] = mapped_column(String(36))
    session_id: Mapped[str | None] = mapped_column(String(36))
    desk_id: Mapped[str] = mapped_column(String(36), default="")
    operator_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(DateTime)
    direction: Mapped[str] = mapped_column(String(8), default="entry")
    decision: Mapped[str] = mapped_column(String(20))
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(300), default="")
    raw: Mapped[str] = mapped_column(String(300), default="")
    hlc: Mapped[str] = mapped_column(String(64), default="")


class SessionEntryTally(Base):
    """Each session door's figures: people inside now, people ever admitted.

    A local index, never synced and never written by code: the triggers that keep
    ``session_presence`` move these by each person's change (``attendance.presence_ddl``),
    so a scan at a full room reads one row instead of counting every entry.
    """

    __tablename__ = "session_entry_tallies"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    inside: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    arrived: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SessionPresence(Base):
    """Each person's standing at each session door, kept by triggers from the scans.

    A local materialised view, never synced and never written by code: triggers on ``scans``
    and ``scan_voids`` work it out again from the person's own scans at that door whenever
    one arrives. See ``attendance.presence_ddl``.
    """

    __tablename__ = "session_presence"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    attendee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    inside: Mapped[int] = mapped_column(Integer, default=0)  # latest counted scan: an entry
    arrived: Mapped[int] = mapped_column(Integer, default=0)  # any admitted entry counted


class ScanVoid(Base):
    """A supervisor's undo of a scan: an append-only fact naming the scan it cancels.

    Kept apart from ``scans`` so that a void arriving before its scan still counts.
    """

    __tablename__ = "scan_voids"

    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    scan_op_id: Mapped[str] = mapped_column(String(36), index=True)
    desk_id: Mapped[str] = mapped_column(String(36), default="")
    operator_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(String(300), default="")
    hlc: Mapped[str] = mapped_column(String(64), default="")


class BadgePrint(Base):
    """A badge printed for an attendee: an append-only fact."""

    __tablename__ = "badge_prints"

    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    attendee_id: Mapped[str] = mapped_column(String(36), index=True)
    desk_id: Mapped[str] = mapped_column(String(36), default="")
    operator_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(DateTime)
    layout: Mapped[str] = mapped_column(String(64), default="")
    badge_seq: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(300), default="")
    hlc: Mapped[str] = mapped_column(String(64), default="")


class Picture(Base):
    """A picture the certificates of an event draw (a seal, a signature, a background).

    Kept in the database, not as a path on one desk's disk, so every desk draws the same
    certificate. Named by the SHA-256 of its bytes (``content``, base64): immutable, and the
    same picture chosen on two desks is one row.
    """

    __tablename__ = "pictures"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    media_type: Mapped[str] = mapped_column(String(40), default="")
    content: Mapped[str] = mapped_column(SAText, default="")


class Certificate(Base):
    """A certificate issued (or re-issued as a new version): an append-only fact."""

    __tablename__ = "certificates"

    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    attendee_id: Mapped[str] = mapped_column(String(36), index=True)
    serial: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(32), default="attendance")
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    desk_id: Mapped[str] = mapped_column(String(36), default="")
    operator_id: Mapped[str | None] = mapped_column(String(36))
    name_printed: Mapped[str] = mapped_column(String(300), default="")
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    hlc: Mapped[str] = mapped_column(String(64), default="")


class CertificateOverride(Base):
    """A supervisor's word on one attendee's certificate: an append-only fact.

    The latest by clock counts; ``eligible`` None withdraws the earlier ones.
    """

    __tablename__ = "certificate_overrides"

    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    attendee_id: Mapped[str] = mapped_column(String(36), index=True)
    eligible: Mapped[bool | None] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(300), default="")
    desk_id: Mapped[str] = mapped_column(String(36), default="")
    operator_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(DateTime)
    hlc: Mapped[str] = mapped_column(String(64), default="")


class CertificateSettings(Base):
    """An event's certificate rules, paper and signatories (id = the event's id).

    Merged field by field like any record. A rule set to 0 is off; a field no desk has set
    keeps its column default, which is also what an event with no row reads as.
    """

    __tablename__ = "certificate_settings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    min_percent: Mapped[int] = mapped_column(Integer, default=75)
    every_day: Mapped[bool] = mapped_column(Boolean, default=False)
    min_sessions: Mapped[int] = mapped_column(Integer, default=0)
    combine: Mapped[str] = mapped_column(String(8), default="all")
    attendance_categories: Mapped[list[str]] = mapped_column(
        default=lambda: ["participant", "local_participant", "observer"]
    )
    appreciation_categories: Mapped[list[str]] = mapped_column(default=lambda: ["resource_person"])
    paper: Mapped[str] = mapped_column(String(16), default="a4")
    partner: Mapped[str] = mapped_column(String(300), default="")
    logo: Mapped[str] = mapped_column(String(300), default="")
    partner_logo: Mapped[str] = mapped_column(String(300), default="")
    background: Mapped[str] = mapped_column(String(300), default="")
    # [{"name": ..., "title": ..., "signature": image path}], one to three.
    signatories: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    field_hlc: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Operation(Base):
    """The journal: every change, local or remote, as it was applied."""

    __tablename__ = "operations"
    __table_args__ = (Index("ix_operations_pushed_hlc", "pushed", "hlc"),)

    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    desk_id: Mapped[str] = mapped_column(String(36))
    hlc: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column()
    operator_id: Mapped[str | None] = mapped_column(String(36))
    # Local bookkeeping, not part of the replicated state: was it made here, has it reached a hub.
    local: Mapped[bool] = mapped_column(Boolean, default=True)
    pushed: Mapped[bool] = mapped_column(Boolean, default=False)
    applied_at: Mapped[datetime] = mapped_column(DateTime)


class SyncCursor(Base):
    """How far this desk has pulled from a hub."""

    __tablename__ = "sync_cursors"

    hub: Mapped[str] = mapped_column(String(300), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_success: Mapped[datetime | None] = mapped_column(DateTime)


class LocalSetting(Base):
    """Settings of this desk alone (which event is open, this desk's id): never replicated."""

    __tablename__ = "local_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(SAText, default="")
