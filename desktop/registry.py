"""The attendee registry: registering, correcting, cancelling and finding people."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop import journal, permissions
from desktop import search as finder
from desktop.journal import DeskContext
from desktop.models import CATEGORIES, Attendee, Event
from desktop.search import Filters, Query
from desktop.tokens import short_code

EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "badge_name",
    "native_name",
    "honorific",
    "gender",
    "country",
    "organisation",
    "position",
    "category",
    "email",
    "phone",
    "notes",
    "external_id",
)


class RegistryError(Exception):
    """A change to the registry that cannot be made as asked."""


@dataclass(frozen=True)
class AttendeeInfo:
    """An attendee as plain data, safe to hand to another thread or print as JSON."""

    id: str
    short_code: str
    given_name: str
    family_name: str
    badge_name: str
    native_name: str
    honorific: str
    gender: str
    country: str
    organisation: str
    position: str
    category: str
    email: str
    phone: str
    status: str
    notes: str
    external_id: str
    badge_seq: int

    @property
    def display_name(self) -> str:
        """The full name as a person reads it."""
        return " ".join(p for p in (self.given_name, self.family_name) if p) or self.badge_name

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["name"] = self.display_name
        return data

    @classmethod
    def of(cls, row: Attendee) -> AttendeeInfo:
        return cls(
            id=row.id,
            short_code=row.short_code,
            given_name=row.given_name,
            family_name=row.family_name,
            badge_name=row.badge_name,
            native_name=row.native_name,
            honorific=row.honorific,
            gender=row.gender,
            country=row.country,
            organisation=row.organisation,
            position=row.position,
            category=row.category,
            email=row.email,
            phone=row.phone,
            status=row.status,
            notes=row.notes,
            external_id=row.external_id,
            badge_seq=row.badge_seq,
        )


def default_badge_name(given_name: str, family_name: str) -> str:
    """The name printed large when none is given: given name then family name."""
    return " ".join(p for p in (given_name.strip(), family_name.strip()) if p)


_EDITABLE: frozenset[str] = frozenset(EDITABLE_FIELDS)


def _validate(fields: Mapping[str, Any]) -> dict[str, Any]:
    if not _EDITABLE.issuperset(fields):
        unknown = next(name for name in fields if name not in _EDITABLE)
        raise RegistryError(f"unknown attendee field {unknown!r}")
    # One comprehension, text taken as it is: this runs for every row of an import.
    clean: dict[str, Any] = {
        name: value.strip() if type(value) is str else "" if value is None else str(value).strip()
        for name, value in fields.items()
    }
    if "category" in clean and clean["category"] not in CATEGORIES:
        raise RegistryError(
            f"unknown category {clean['category']!r}; use one of {', '.join(CATEGORIES)}"
        )
    if "country" in clean:
        clean["country"] = clean["country"].upper()
        if clean["country"] and len(clean["country"]) != 2:
            raise RegistryError(
                f"country must be an ISO 3166 two-letter code, not {clean['country']!r}"
            )
    return clean


def _event_prefix(session: Session, event_id: str) -> str:
    event = session.get(Event, event_id)
    code = (event.code if event is not None else "") or "EV"
    letters = "".join(ch for ch in code.upper() if ch.isalpha())
    return letters[:2] or "EV"


def allocate_short_code(session: Session, event_id: str, attendee_id: str) -> str:
    """A short code not yet used in the event (derived from the id, so it is stable)."""
    prefix = _event_prefix(session, event_id)
    for attempt in range(64):
        code = short_code(prefix, uuid.UUID(attendee_id), attempt)
        taken = session.scalar(
            select(Attendee.id).where(Attendee.event_id == event_id, Attendee.short_code == code)
        )
        if taken is None or taken == attendee_id:
            return code
    raise RegistryError("could not find a free short code")


def register(
    session: Session,
    ctx: DeskContext,
    fields: Mapping[str, Any],
    *,
    attendee_id: str | None = None,
) -> str:
    """Register a new attendee (a walk-in, an imported row); returns the new id."""
    permissions.require(session, ctx, "register_walk_in")
    clean = _validate(fields)
    if not (clean.get("given_name") or clean.get("family_name")):
        raise RegistryError("a name is needed: given name or family name")
    clean.setdefault("category", "participant")
    if not clean.get("badge_name"):
        clean["badge_name"] = default_badge_name(
            clean.get("given_name", ""), clean.get("family_name", "")
        )
    new_id = attendee_id or str(uuid.uuid4())
    payload: dict[str, Any] = {"id": new_id, **clean, "status": "registered"}
    payload["short_code"] = allocate_short_code(session, ctx.event_id, new_id)
    journal.record(session, ctx, "attendee.put", payload)
    return new_id


def register_many(
    session: Session,
    ctx: DeskContext,
    people: Sequence[Mapping[str, Any]],
    *,
    ids: Sequence[str] | None = None,
) -> list[str]:
    """Register many attendees in one go (an import); one operation each, applied in bulk."""
    registrations = Registrations(session, ctx)
    new_ids, prepared = registrations.prepare(people, ids=ids)
    registrations.write(session, prepared)
    return new_ids


class Registrations:
    """Many new attendees registered batch after batch in one transaction (an import).

    :meth:`prepare` checks a batch of people and builds their operations and rows without
    the database (another thread may do it while the session writes or indexes the batch
    before); :meth:`write` stores a prepared batch. Short codes stay unique across batches.
    """

    def __init__(self, session: Session, ctx: DeskContext) -> None:
        self._prefix = _event_prefix(session, ctx.event_id)
        self._taken = set(
            session.scalars(select(Attendee.short_code).where(Attendee.event_id == ctx.event_id))
        )
        self._journal = journal.LocalBatches(session, ctx)

    def prepare(
        self, people: Sequence[Mapping[str, Any]], *, ids: Sequence[str] | None = None
    ) -> tuple[list[str], journal.PreparedOps]:
        """The new attendees' ids and their prepared operations; RegistryError for a bad row."""
        prefix, taken = self._prefix, self._taken
        new_ids: list[str] = []
        items: list[tuple[str, Mapping[str, Any]]] = []
        for index, fields in enumerate(people):
            clean = _validate(fields)
            given, family = clean.get("given_name", ""), clean.get("family_name", "")
            if not (given or family):
                raise RegistryError(f"row {index + 1}: a name is needed")
            clean.setdefault("category", "participant")
            if not clean.get("badge_name"):
                clean["badge_name"] = default_badge_name(given, family)
            # A fresh UUID object is used as it is; parsing its text again cost ~0.1 s per
            # 50,000.
            as_uuid = uuid.UUID(ids[index]) if ids is not None else uuid.uuid4()
            new_id = ids[index] if ids is not None else str(as_uuid)
            code = short_code(prefix, as_uuid)
            if code in taken:
                for attempt in range(1, 64):
                    code = short_code(prefix, as_uuid, attempt)
                    if code not in taken:
                        break
                else:
                    raise RegistryError("could not find a free short code")
            taken.add(code)
            new_ids.append(new_id)
            items.append(
                (
                    "attendee.put",
                    {"id": new_id, **clean, "status": "registered", "short_code": code},
                )
            )
        # Fresh dicts of text: the journal keeps them as they are.
        return new_ids, self._journal.prepare(items, plain=True)

    def write(self, session: Session, prepared: journal.PreparedOps) -> None:
        """Store a prepared batch in the session's transaction."""
        self._journal.write(session, prepared)


def update(session: Session, ctx: DeskContext, attendee_id: str, fields: Mapping[str, Any]) -> None:
    """Correct some fields of an attendee; only the fields given change."""
    permissions.require(session, ctx, "edit_attendee")
    row = session.get(Attendee, attendee_id)
    if row is None or row.event_id != ctx.event_id:
        raise RegistryError(f"no attendee {attendee_id} in this event")
    clean = _validate(fields)
    changed = {k: v for k, v in clean.items() if getattr(row, k) != v}
    if changed:
        journal.record(session, ctx, "attendee.put", {"id": attendee_id, **changed})


def update_many(
    session: Session, ctx: DeskContext, changes: Sequence[tuple[str, Mapping[str, Any]]]
) -> int:
    """Correct many attendees in one go (an import); returns how many changed.

    As :func:`update` for each (attendee id, fields), one operation per attendee holding only
    the fields whose value differs, the clocks rising one by one. The caller checks who may
    do it (an import needs ``import_attendees``).
    """
    columns = [Attendee.id, Attendee.event_id, *(getattr(Attendee, f) for f in EDITABLE_FIELDS)]
    stored: dict[str, Any] = {}  # id -> row of the stored values
    ids = list(dict.fromkeys(attendee_id for attendee_id, _ in changes))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for found in session.execute(select(*columns).where(Attendee.id.in_(chunk))):
            stored[found.id] = found
    items: list[tuple[str, Mapping[str, Any]]] = []
    for attendee_id, fields in changes:
        current = stored.get(attendee_id)
        if current is None or current.event_id != ctx.event_id:
            raise RegistryError(f"no attendee {attendee_id} in this event")
        clean = _validate(fields)
        changed = {k: v for k, v in clean.items() if getattr(current, k) != v}
        if changed:
            items.append(("attendee.put", {"id": attendee_id, **changed}))
    journal.record_many(session, ctx, items)
    return len(items)


def cancel(session: Session, ctx: DeskContext, attendee_id: str, reason: str = "") -> None:
    """Cancel a registration (the badge stops admitting; nothing is deleted)."""
    permissions.require(session, ctx, "cancel_registration")
    if session.get(Attendee, attendee_id) is None:
        raise RegistryError(f"no attendee {attendee_id}")
    journal.record(session, ctx, "attendee.cancel", {"id": attendee_id, "reason": reason})


def restore(session: Session, ctx: DeskContext, attendee_id: str, reason: str = "") -> None:
    """Undo a cancellation."""
    permissions.require(session, ctx, "cancel_registration")
    if session.get(Attendee, attendee_id) is None:
        raise RegistryError(f"no attendee {attendee_id}")
    journal.record(session, ctx, "attendee.restore", {"id": attendee_id, "reason": reason})


def get(session: Session, event_id: str, ref: str) -> AttendeeInfo | None:
    """An attendee by id or short code (any case, with or without the dash)."""
    ref = ref.strip()
    row = session.get(Attendee, ref)
    if row is not None and row.event_id == event_id:
        return AttendeeInfo.of(row)
    code = ref.upper().replace(" ", "")
    if "-" not in code and len(code) > 2:
        code = f"{code[:2]}-{code[2:]}"
    row = session.scalars(
        select(Attendee).where(Attendee.event_id == event_id, Attendee.short_code == code)
    ).first()
    return AttendeeInfo.of(row) if row is not None else None


def ids_for_refs(
    session: Session, event_id: str, refs: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Attendee ids for short codes or ids, in order; and the refs that match nobody."""
    ids: list[str] = []
    unknown: list[str] = []
    for ref in refs:
        info = get(session, event_id, ref)
        if info is None:
            unknown.append(ref)
        else:
            ids.append(info.id)
    return ids, unknown


def list_attendees(
    session: Session,
    event_id: str,
    search: str | None = None,
    limit: int | None = None,
    *,
    filters: Filters | None = None,
) -> list[AttendeeInfo]:
    """Attendees of an event: by family name, or best match first for a search text.

    The search is desktop.search's (word prefixes over names, organisation, e-mail and
    short code, ignoring case and accents); ``filters`` narrow by country, category, status,
    arrival and badge printing.
    """
    query = Query(text=search or "", filters=filters or Filters())
    return get_many(session, finder.page(session, event_id, query, limit=limit))


def get_many(session: Session, ids: Sequence[str]) -> list[AttendeeInfo]:
    """The attendees with these ids, in the order given (unknown ids are left out)."""
    # Plain rows, not ORM objects: this runs for every page of the attendee list.
    names = [f.name for f in dataclasses.fields(AttendeeInfo)]
    columns = [Attendee.__table__.c[name] for name in names]
    found: dict[str, AttendeeInfo] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        statement = select(*columns).where(Attendee.id.in_(chunk))
        for row in session.connection().execute(statement):
            found[row.id] = AttendeeInfo(*row)
    return [found[i] for i in ids if i in found]
