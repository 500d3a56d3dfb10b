"""Operators: the people who sign in at a desk, their roles and their PINs or passwords.

A PIN or password is kept only as an Argon2id hash (argon2-cffi), inside the replicated
``operator.put`` record so that an operator can sign in at any desk of the event. Who is
signed in at this desk is a local setting (``operator_id``/``operator_name``), never
replicated: the status bar reads it and :func:`desktop.desk.context` stamps it on every
operation, which is what the audit trail shows.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop import desk, journal, permissions
from desktop.journal import DeskContext
from desktop.models import Operator

# Argon2id at OWASP's lower recommended cost (19 MiB, two passes): slow enough to make
# guessing from a stolen file expensive, quick enough to try every operator for a bare PIN.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
MIN_SECRET_LENGTH = 4

# Fixed ids and documented PINs of the demo's three operators (README, "Demo operators").
DEMO_NAMESPACE = uuid.UUID("0b5e7a8e-3f55-4f0e-8c1e-6d2f1a9c0e24")
DEMO_OPERATORS: tuple[tuple[str, str, str], ...] = (
    ("Dina Reyes", "desk", "1111"),
    ("Marco Santos", "supervisor", "2222"),
    ("Ana Cruz", "admin", "9999"),
)


class OperatorError(Exception):
    """An operator change that cannot be made as asked (empty name, short PIN, clash)."""


@dataclass(frozen=True)
class OperatorInfo:
    """An operator as plain data (never the hash)."""

    id: str
    name: str
    role: str
    active: bool

    @property
    def role_label(self) -> str:
        return permissions.ROLE_LABELS.get(self.role, self.role)

    @classmethod
    def of(cls, row: Operator) -> OperatorInfo:
        return cls(id=row.id, name=row.name, role=row.role, active=row.active)


def hash_secret(secret: str) -> str:
    """The Argon2id hash of a PIN or password (salted; never the secret itself)."""
    return _HASHER.hash(secret)


def check_secret(secret_hash: str, secret: str) -> bool:
    """Whether ``secret`` matches ``secret_hash``; a damaged hash matches nothing."""
    if not secret_hash:
        return False
    try:
        return _HASHER.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def _validate_secret(secret: str) -> None:
    if len(secret) < MIN_SECRET_LENGTH:
        raise OperatorError(f"a PIN or password needs at least {MIN_SECRET_LENGTH} characters")
    if secret != secret.strip():
        raise OperatorError("a PIN or password cannot start or end with a space")


def _validate_role(role: str) -> None:
    if role not in permissions.ROLES:
        raise OperatorError(f"unknown role {role!r}: choose one of {', '.join(permissions.ROLES)}")


def list_operators(
    session: Session, event_id: str, *, include_inactive: bool = False
) -> list[OperatorInfo]:
    """The event's operators by name (active ones only unless asked)."""
    query = select(Operator).where(Operator.event_id == event_id).order_by(Operator.name)
    if not include_inactive:
        query = query.where(Operator.active.is_(True))
    return [OperatorInfo.of(row) for row in session.scalars(query)]


def get_operator(session: Session, event_id: str, ref: str) -> OperatorInfo | None:
    """An operator of the event by id or by exact name (case-insensitive)."""
    row = session.get(Operator, ref)
    if row is not None and row.event_id == event_id:
        return OperatorInfo.of(row)
    for row in session.scalars(select(Operator).where(Operator.event_id == event_id)):
        if row.name.casefold() == ref.strip().casefold():
            return OperatorInfo.of(row)
    return None


def has_admin(session: Session, event_id: str) -> bool:
    """Whether the event has at least one active administrator (the first run makes one)."""
    query = (
        select(Operator.id)
        .where(Operator.event_id == event_id)
        .where(Operator.role == "admin")
        .where(Operator.active.is_(True))
    )
    return session.scalars(query).first() is not None


def _matching(session: Session, event_id: str, secret: str) -> list[Operator]:
    rows = session.scalars(
        select(Operator).where(Operator.event_id == event_id).where(Operator.active.is_(True))
    )
    return [row for row in rows if check_secret(row.secret_hash, secret)]


def create_operator(
    session: Session,
    ctx: DeskContext,
    name: str,
    role: str,
    secret: str,
    *,
    operator_id: str | None = None,
    secret_hash: str | None = None,
) -> OperatorInfo:
    """Add an operator to the event (administrators only; the first run acts as owner).

    PINs must be unique among active operators: a bare PIN is enough to switch operator.
    """
    permissions.require(session, ctx, "manage_operators")
    name = " ".join(name.split())
    if not name:
        raise OperatorError("an operator needs a name")
    _validate_role(role)
    _validate_secret(secret)
    if get_operator(session, ctx.event_id, name) is not None:
        raise OperatorError(f"there is already an operator called {name!r}")
    if _matching(session, ctx.event_id, secret):
        raise OperatorError("another operator already uses this PIN: choose a different one")
    new_id = operator_id or str(uuid.uuid4())
    payload = {
        "id": new_id,
        "name": name,
        "role": role,
        "secret_hash": secret_hash or hash_secret(secret),
        "active": True,
    }
    journal.record(session, ctx, "operator.put", payload)
    return OperatorInfo(id=new_id, name=name, role=role, active=True)


def _existing(session: Session, ctx: DeskContext, operator_id: str) -> Operator:
    row = session.get(Operator, operator_id)
    if row is None or row.event_id != ctx.event_id:
        raise OperatorError(f"no operator {operator_id!r} in this event")
    return row


def set_role(session: Session, ctx: DeskContext, operator_id: str, role: str) -> None:
    """Change an operator's role (administrators only)."""
    permissions.require(session, ctx, "manage_operators")
    _validate_role(role)
    row = _existing(session, ctx, operator_id)
    if row.role == "admin" and role != "admin":
        _keep_one_admin(session, ctx, operator_id)
    journal.record(session, ctx, "operator.put", {"id": operator_id, "role": role})


def set_active(session: Session, ctx: DeskContext, operator_id: str, active: bool) -> None:
    """Deactivate (or reactivate) an operator; a deactivated one cannot sign in."""
    permissions.require(session, ctx, "manage_operators")
    row = _existing(session, ctx, operator_id)
    if not active and row.role == "admin":
        _keep_one_admin(session, ctx, operator_id)
    journal.record(session, ctx, "operator.put", {"id": operator_id, "active": active})


def _keep_one_admin(session: Session, ctx: DeskContext, leaving_id: str) -> None:
    others = [
        op
        for op in list_operators(session, ctx.event_id)
        if op.role == "admin" and op.id != leaving_id
    ]
    if not others:
        raise OperatorError("the event must keep at least one active administrator")


def change_secret(session: Session, ctx: DeskContext, operator_id: str, secret: str) -> None:
    """Set a new PIN or password: an operator for themself, or an administrator for anyone."""
    if ctx.operator_id != operator_id:
        permissions.require(session, ctx, "manage_operators")
    _existing(session, ctx, operator_id)
    _validate_secret(secret)
    if any(row.id != operator_id for row in _matching(session, ctx.event_id, secret)):
        raise OperatorError("another operator already uses this PIN: choose a different one")
    journal.record(
        session, ctx, "operator.put", {"id": operator_id, "secret_hash": hash_secret(secret)}
    )


# --- signing in at this desk ----------------------------------------------------------------


class SignInError(Exception):
    """A sign-in that failed; the message is for the person at the desk."""


def identify(
    session: Session, event_id: str, secret: str, operator_id: str | None = None
) -> OperatorInfo:
    """The active operator this PIN or password belongs to (of ``operator_id`` if given)."""
    if operator_id is not None:
        row = session.get(Operator, operator_id)
        if row is None or row.event_id != event_id or not row.active:
            raise SignInError("that operator cannot sign in here")
        if not check_secret(row.secret_hash, secret):
            raise SignInError("wrong PIN or password")
        return OperatorInfo.of(row)
    found = _matching(session, event_id, secret)
    if not found:
        raise SignInError("wrong PIN or password")
    if len(found) > 1:
        # Two desks gave two people one PIN while apart: make them pick their name.
        raise SignInError("two operators share this PIN: choose your name, then type it")
    return OperatorInfo.of(found[0])


def sign_in(session: Session, info: OperatorInfo) -> None:
    """Make ``info`` the operator of this desk (a local setting the status bar shows)."""
    desk.set_setting(session, "operator_id", info.id)
    desk.set_setting(session, "operator_name", info.name)
    desk.set_setting(session, "operator_role", info.role)


def sign_out(session: Session) -> None:
    """Nobody is signed in at this desk any more (the lock screen, closing the app)."""
    desk.set_setting(session, "operator_id", "")
    desk.set_setting(session, "operator_name", "")
    desk.set_setting(session, "operator_role", "")


def current(session: Session) -> OperatorInfo | None:
    """The operator signed in at this desk, if any is and is still active."""
    operator_id = desk.get_setting(session, "operator_id")
    if not operator_id:
        return None
    row = session.get(Operator, operator_id)
    if row is None or not row.active:
        return None
    return OperatorInfo.of(row)


@dataclass
class Throttle:
    """Slows down guessing at the desk: after ``limit`` failures, wait ``pause`` seconds."""

    limit: int = 5
    pause: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _failures: int = 0
    _until: float = field(default=0.0)

    def wait_left(self) -> float:
        """Seconds until another attempt is allowed (0 when one is)."""
        return max(0.0, self._until - self.clock())

    def failed(self) -> None:
        self._failures += 1
        if self._failures >= self.limit:
            self._failures = 0
            self._until = self.clock() + self.pause

    def succeeded(self) -> None:
        self._failures = 0
        self._until = 0.0


# --- the demo -------------------------------------------------------------------------------


@functools.cache
def _demo_hash(pin: str) -> str:
    # Hashing is deliberately slow; the demo is built in many tests of one process.
    return hash_secret(pin)


def demo_operator_id(role: str) -> str:
    """The fixed id of the demo operator with ``role``."""
    return str(uuid.uuid5(DEMO_NAMESPACE, f"operator-{role}"))


def create_demo_operators(session: Session, ctx: DeskContext) -> list[OperatorInfo]:
    """One operator per role with the PINs documented in the README."""
    made = []
    for name, role, pin in DEMO_OPERATORS:
        if session.get(Operator, demo_operator_id(role)) is not None:
            continue
        made.append(
            create_operator(
                session,
                ctx,
                name,
                role,
                pin,
                operator_id=demo_operator_id(role),
                secret_hash=_demo_hash(pin),
            )
        )
    return made
