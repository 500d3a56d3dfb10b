"""What each role may do, and the one check every service makes before a change.

Three roles, each allowed everything the one before it may do:

=============  =========================================================================
``desk``       scan, search, register_walk_in, print_first_badge
``supervisor`` + reprint_badge, undo_checkin, override_refusal, cancel_registration,
               edit_attendance, edit_attendee, view_audit
``admin``      + change_event_settings, manage_keys, import_attendees, issue_certificates,
               export_personal_data, manage_operators, erase_personal_data, restore_backup
=============  =========================================================================

Who is acting comes from ``ctx.operator_id``. The app never calls a service without a
signed-in operator (the lock screen stands in front of every area). A context with no
operator is the *owner of the data folder*: the command line, scripts and tests. The owner
may do everything, because whoever can run a command on this folder can read and write its
SQLite file directly anyway; the roles protect the desk from the people at the table, not the
laptop from its owner. An operator id that is unknown, of another event or deactivated may
do nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from desktop.journal import DeskContext
from desktop.models import Operator
from desktop.prepared import Prepared

ROLES = ("desk", "supervisor", "admin")
ROLE_LABELS = {"desk": "Desk staff", "supervisor": "Supervisor", "admin": "Administrator"}
OWNER = "owner"

# The lowest role allowed each action; higher roles inherit it.
ACTIONS: dict[str, str] = {
    "scan": "desk",
    "search": "desk",
    "register_walk_in": "desk",
    "print_first_badge": "desk",
    "reprint_badge": "supervisor",
    "undo_checkin": "supervisor",
    "override_refusal": "supervisor",
    "cancel_registration": "supervisor",
    "edit_attendance": "supervisor",
    "edit_attendee": "supervisor",
    "view_audit": "supervisor",
    "change_event_settings": "admin",
    "manage_keys": "admin",
    "import_attendees": "admin",
    "issue_certificates": "admin",
    "export_personal_data": "admin",
    "manage_operators": "admin",
    "erase_personal_data": "admin",
    "restore_backup": "admin",
}

# How an action reads in a refusal: "Only a supervisor may <phrase>."
ACTION_PHRASES: dict[str, str] = {
    "scan": "scan badges",
    "search": "search attendees",
    "register_walk_in": "register walk-ins",
    "print_first_badge": "print badges",
    "reprint_badge": "reprint a badge",
    "undo_checkin": "undo a check-in",
    "override_refusal": "admit someone the desk refused",
    "cancel_registration": "cancel a registration",
    "edit_attendance": "change attendance",
    "edit_attendee": "change an attendee's details",
    "view_audit": "see the audit trail",
    "change_event_settings": "change the event's settings",
    "manage_keys": "manage the badge signing keys",
    "import_attendees": "import attendees",
    "issue_certificates": "issue certificates",
    "export_personal_data": "export personal data",
    "manage_operators": "manage operators",
    "erase_personal_data": "erase personal data",
    "restore_backup": "restore a backup",
}


class PermissionDenied(Exception):
    """The signed-in operator's role does not allow this action; the message says who may."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: an operator (id, name, role) or the folder's owner (id None)."""

    operator_id: str | None
    name: str
    role: str

    @property
    def is_owner(self) -> bool:
        return self.role == OWNER


def _rank(role: str) -> int:
    if role == OWNER:
        return len(ROLES)
    try:
        return ROLES.index(role)
    except ValueError:
        return -1  # an unknown role may do nothing


def _check_action(action: str) -> str:
    minimum = ACTIONS.get(action)
    if minimum is None:
        # A misspelt action is a programming error, never a silent "allowed".
        raise ValueError(f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
    return minimum


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may do ``action`` (the table above; the owner may do everything)."""
    minimum = _check_action(action)
    return _rank(role) >= ROLES.index(minimum)


def actions_for(role: str) -> frozenset[str]:
    """Every action ``role`` may do: the UI shows these and hides the rest."""
    return frozenset(a for a in ACTIONS if allowed(role, a))


# Asked on every scan: one indexed read on the driver, not an ORM load.
_O = Operator.__table__.c
_OPERATOR = Prepared(
    select(_O.id, _O.name, _O.role, _O.event_id, _O.active).where(_O.id == bindparam("id"))
)


def actor(session: Session, ctx: DeskContext) -> Actor:
    """Who is acting in ``ctx``; an unusable operator id comes back with the role ``none``."""
    if ctx.operator_id is None:
        return Actor(None, "data folder owner", OWNER)
    row = _OPERATOR.first(session, {"id": ctx.operator_id})
    if row is None or row.event_id != ctx.event_id or not row.active:
        return Actor(ctx.operator_id, row.name if row is not None else "unknown operator", "none")
    return Actor(row.id, row.name, row.role)


def as_owner(ctx: DeskContext) -> DeskContext:
    """``ctx`` acting as the data folder's owner: what a command-line command should use.

    ``desk.context(session)`` stamps whoever is signed in to the app on this folder; a
    command typed in a terminal is not that person's doing.
    """
    return DeskContext(ctx.event_id, ctx.desk_id, None)


def can(session: Session, ctx: DeskContext, action: str) -> bool:
    """Whether whoever acts in ``ctx`` may do ``action``."""
    return allowed(actor(session, ctx).role, action)


def require(session: Session, ctx: DeskContext, action: str) -> None:
    """Raise :class:`PermissionDenied` unless whoever acts in ``ctx`` may do ``action``."""
    who = actor(session, ctx)
    if allowed(who.role, action):
        return
    phrase = ACTION_PHRASES[action]
    if who.role == "none":
        raise PermissionDenied(
            f"{who.name} is not an active operator of this event and may not {phrase}; "
            "sign in again (Ctrl+L)."
        )
    minimum = ACTIONS[action]
    who_may = "an administrator" if minimum == "admin" else "a supervisor or an administrator"
    raise PermissionDenied(
        f"Only {who_may} may {phrase}; {who.name} is signed in as "
        f"{ROLE_LABELS.get(who.role, who.role).lower()}. Ask one to sign in (Ctrl+L)."
    )
