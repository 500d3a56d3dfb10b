"""Carrying an event to a desk: joining from the hub, desk kits, and operations files.

A *desk kit* is what an organiser hands a new desk on a USB stick: a zip holding the event's
operations (an operations file, see ``desktop.opsfile``), a manifest with the event's public
keys, and, only when asked for, the badge signing key encrypted with a passphrase
(``desktop.keys.export_private_key``). Every part is checked before anything is applied, and
everything is applied in one transaction: a damaged kit or file changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from desktop import desk, events, journal, sync
from desktop.hub import HubClient
from desktop.journal import JournalError, Op
from desktop.keys import (
    KeyFileError,
    export_private_key,
    import_private_key,
    load_private_key,
    public_bytes,
    save_private_key,
)
from desktop.models import Event, Operation
from desktop.opsfile import OpsFileError, export_ops, read_ops
from desktop.store import Store

KIT_FORMAT = "eventdesk-desk-kit"
KIT_VERSION = 1
KIT_SUFFIX = ".edkit"
OPS_SUFFIX = ".edops"
MIN_PASSPHRASE = 8

_MANIFEST = "kit.json"
_OPERATIONS = "operations.edops"
_SIGNING_KEY = "signing-key.json"
_MAX_MEMBER = 2 * 1024**3  # a kit member larger than this is not one EventDesk wrote


class KitError(Exception):
    """A kit, an operations file or a join cannot be used; str() says why. Nothing changed."""


@dataclass(frozen=True)
class KitInfo:
    """A desk kit's manifest as plain data."""

    event_id: str
    event_name: str
    operations: int
    public_keys: dict[str, str]
    key_id: int | None
    has_signing_key: bool
    created: str


@dataclass(frozen=True)
class JoinResult:
    """What joining (or importing) did: the event, how many operations, the signing key."""

    event_id: str
    event_name: str
    operations: int
    applied: int
    signing_key_saved: bool = False
    source: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_name": self.event_name,
            "operations": self.operations,
            "applied": self.applied,
            "signing_key_saved": self.signing_key_saved,
            "source": self.source,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class HubEvent:
    """An event a hub holds, for a desk choosing which to join."""

    event_id: str
    name: str
    operations: int


# --- operations files ---------------------------------------------------------------------


def _event_ops(session: Session, event_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(
            Operation.op_id,
            Operation.event_id,
            Operation.desk_id,
            Operation.hlc,
            Operation.kind,
            Operation.payload,
            Operation.operator_id,
        )
        .where(Operation.event_id == event_id)
        .order_by(Operation.hlc, Operation.op_id)
    ).all()
    return [
        {
            "op_id": r.op_id,
            "event_id": r.event_id,
            "desk_id": r.desk_id,
            "hlc": r.hlc,
            "kind": r.kind,
            "payload": r.payload,
            "operator_id": r.operator_id,
        }
        for r in rows
    ]


def _current_key(event: Event) -> tuple[int | None, str | None]:
    keys = {int(k): str(v) for k, v in (event.public_keys or {}).items() if str(k).isdigit()}
    if not keys:
        return None, None
    key_id = max(keys)
    return key_id, keys[key_id]


def _open_event(session: Session, event_id: str | None) -> Event:
    event_id = event_id or desk.current_event_id(session)
    if event_id is None:
        raise desk.NoEventError("no event open on this desk: nothing to export")
    event = session.get(Event, event_id)
    if event is None:
        raise KitError(f"this desk has no event {event_id}")
    return event


def export_ops_file(store: Store, path: Path, event_id: str | None = None) -> int:
    """Write every operation of the event (default: the open one) to ``path``; the count."""
    with store.begin() as session:
        event = _open_event(session, event_id)
        ops = _event_ops(session, event.id)
        _, public_key = _current_key(event)
        event_id = event.id
    try:
        return export_ops(path, ops, event_id=event_id, public_key_hex=public_key)
    except ValueError as exc:  # an operation this desk holds that no file can carry
        raise KitError(f"cannot write the operations file: {exc}") from exc


def _check_kinds(ops: Sequence[Op], what: str) -> None:
    for op in ops:
        if op.kind not in journal.APPLIERS:
            raise KitError(
                f"{what} holds changes from a newer EventDesk (kind {op.kind!r}); "
                "update EventDesk on this desk, then import it again"
            )


def _as_ops(raw: Sequence[dict[str, Any]], what: str) -> list[Op]:
    try:
        return [Op.from_dict(op) for op in raw]
    except JournalError as exc:
        raise KitError(f"{what} holds a malformed operation: {exc}") from None


def _apply_all(session: Session, ops: Sequence[Op], what: str) -> int:
    _check_kinds(ops, what)
    try:
        with session.begin_nested():
            return journal.apply_many(session, ops)
    except OperationalError:
        raise
    except (JournalError, ValueError, TypeError, KeyError) as exc:
        raise KitError(f"{what} holds an operation that cannot be applied: {exc}") from None


def import_ops_file(store: Store, path: Path) -> JoinResult:
    """Apply every operation of an operations file in one transaction; twice changes nothing.

    A file that is truncated, altered or malformed is refused whole (KitError).
    """
    if _is_kit(path):
        raise KitError(f"{path.name} is a desk kit, not an operations file: join with it instead")
    try:
        opsfile = read_ops(path)
    except OpsFileError as exc:
        raise KitError(str(exc)) from None
    ops = _as_ops(opsfile.ops, path.name)
    event_id = str(opsfile.header["event_id"])
    with store.begin() as session:
        applied = _apply_all(session, ops, path.name)
        event = session.get(Event, event_id)
        name = event.name if event is not None else ""
        if not desk.get_setting(session, "event_id") and event is not None:
            desk.open_event(session, event_id)
    warnings = [] if event is not None else [f"the file does not hold event {event_id} itself"]
    return JoinResult(event_id, name, len(ops), applied, source=str(path), warnings=warnings)


# --- desk kits ----------------------------------------------------------------------------


def _is_kit(path: Path) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signing_key_file(store: Store, event: Event) -> tuple[int, Path] | None:
    """The event's current signing key file in this data folder, if this desk holds it."""
    key_id, _ = _current_key(event)
    if key_id is None:
        return None
    path = events.key_path(store.data_dir, event.id, key_id)
    return (key_id, path) if path.exists() else None


def export_kit(
    store: Store, path: Path, *, passphrase: str | None = None, event_id: str | None = None
) -> KitInfo:
    """Write a desk kit of the event (default: the open one) to ``path``.

    With a ``passphrase`` the kit also holds the signing key, encrypted with it; without, a
    desk that joins can check badges but not print them.
    """
    with store.begin() as session:
        event = _open_event(session, event_id)
        ops = _event_ops(session, event.id)
        key_id, public_key = _current_key(event)
        info = KitInfo(
            event_id=event.id,
            event_name=event.name,
            operations=len(ops),
            public_keys={str(k): str(v) for k, v in (event.public_keys or {}).items()},
            key_id=key_id,
            has_signing_key=passphrase is not None,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        )
        key_file = signing_key_file(store, event)
    members: dict[str, bytes] = {}
    if passphrase is not None:
        if len(passphrase) < MIN_PASSPHRASE:
            raise KitError(
                f"the passphrase needs at least {MIN_PASSPHRASE} characters: the kit will "
                "travel on a USB stick, and anyone who finds it may try to guess it"
            )
        if key_file is None:
            raise KitError(
                "this desk does not hold the event's signing key: export the kit from the "
                "desk that created the event, or leave the signing key out"
            )
        try:
            key = load_private_key(key_file[1])
        except KeyFileError as exc:
            raise KitError(str(exc)) from None
        if public_key is not None and public_bytes(key).hex() != public_key.lower():
            raise KitError("the signing key file here does not match the event's public key")
        members[_SIGNING_KEY] = export_private_key(key, passphrase)
    with tempfile.TemporaryDirectory() as scratch:
        ops_path = Path(scratch) / _OPERATIONS
        try:
            export_ops(ops_path, ops, event_id=info.event_id, public_key_hex=public_key)
        except ValueError as exc:
            raise KitError(f"cannot write the kit: {exc}") from exc
        members[_OPERATIONS] = ops_path.read_bytes()
    manifest = {
        "format": KIT_FORMAT,
        "version": KIT_VERSION,
        "event_id": info.event_id,
        "event_name": info.event_name,
        "created": info.created,
        "operations": info.operations,
        "public_keys": info.public_keys,
        "key_id": info.key_id,
        "signing_key": info.has_signing_key,
        "files": {name: _sha256(data) for name, data in members.items()},
    }
    _write_zip(path, {_MANIFEST: json.dumps(manifest, indent=2).encode(), **members})
    return info


def _write_zip(path: Path, members: dict[str, bytes]) -> None:
    # Beside the target, then renamed over it: a stick pulled out mid-write leaves no half kit.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_STORED) as archive:
                for name, data in members.items():
                    archive.writestr(name, data)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


@dataclass(frozen=True)
class _Kit:
    info: KitInfo
    ops: list[Op]
    sealed_key: bytes | None


def _read_members(path: Path) -> dict[str, bytes]:
    name = path.name
    if not path.exists():
        raise KitError(f"{name} does not exist")
    if not _is_kit(path):
        raise KitError(f"{name} is not an EventDesk desk kit (or it is incomplete)")
    try:
        with zipfile.ZipFile(path) as archive:
            members: dict[str, bytes] = {}
            for item in archive.infolist():
                if item.file_size > _MAX_MEMBER:
                    raise KitError(f"{name} is not an EventDesk desk kit (a part is too large)")
                members[item.filename] = archive.read(item)
            return members
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise KitError(f"{name} is damaged ({exc}); copy it again") from None
    except OSError as exc:
        raise KitError(f"{name} could not be read: {exc.strerror or exc}") from None


def read_kit(path: Path) -> _Kit:
    """Read and check every part of a kit (manifest, checksums, operations); KitError if not."""
    name = path.name
    members = _read_members(path)
    try:
        manifest = json.loads(members[_MANIFEST])
    except (KeyError, ValueError):
        raise KitError(f"{name} is not an EventDesk desk kit (no manifest)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != KIT_FORMAT:
        raise KitError(f"{name} is not an EventDesk desk kit")
    version = manifest.get("version")
    if not isinstance(version, int) or version < 1:
        raise KitError(f"{name} has a malformed manifest (version)")
    if version > KIT_VERSION:
        raise KitError(f"{name} was made by a newer EventDesk (kit version {version}); update")
    files = manifest.get("files")
    if not isinstance(files, dict) or _OPERATIONS not in files:
        raise KitError(f"{name} has a malformed manifest (files)")
    for member, digest in files.items():
        data = members.get(str(member))
        if data is None:
            raise KitError(f"{name} is incomplete: {member} is missing")
        if _sha256(data) != digest:
            raise KitError(f"{name} has been altered or damaged ({member} does not match)")
    event_id = manifest.get("event_id")
    public_keys = manifest.get("public_keys")
    key_id = manifest.get("key_id")
    if not isinstance(event_id, str) or not isinstance(public_keys, dict):
        raise KitError(f"{name} has a malformed manifest (event)")
    if key_id is not None and not isinstance(key_id, int):
        raise KitError(f"{name} has a malformed manifest (key_id)")
    sealed = members.get(_SIGNING_KEY) if _SIGNING_KEY in files else None
    if bool(manifest.get("signing_key")) != (sealed is not None):
        raise KitError(f"{name} has a malformed manifest (signing key)")
    with tempfile.TemporaryDirectory() as scratch:
        ops_path = Path(scratch) / _OPERATIONS
        ops_path.write_bytes(members[_OPERATIONS])
        try:
            opsfile = read_ops(ops_path)
        except OpsFileError as exc:
            raise KitError(f"{name}: {exc}") from None
    if opsfile.header["event_id"] != event_id:
        raise KitError(f"{name} has been altered (its operations are of another event)")
    info = KitInfo(
        event_id=event_id,
        event_name=str(manifest.get("event_name", "")),
        operations=len(opsfile.ops),
        public_keys={str(k): str(v) for k, v in public_keys.items()},
        key_id=key_id,
        has_signing_key=sealed is not None,
        created=str(manifest.get("created", "")),
    )
    return _Kit(info=info, ops=_as_ops(opsfile.ops, name), sealed_key=sealed)


def kit_info(path: Path) -> KitInfo:
    """A kit's manifest (after checking the whole kit), to show before joining."""
    return read_kit(path).info


def join_from_kit(
    store: Store, path: Path, passphrase: str | None = None, *, desk_name: str | None = None
) -> JoinResult:
    """Join the kit's event: apply its operations, open the event, save the signing key.

    The signing key is taken only with its ``passphrase`` (without, the desk can still check
    badges). A wrong passphrase or a damaged kit changes nothing.
    """
    kit = read_kit(path)
    info = kit.info
    key = None
    warnings: list[str] = []
    if kit.sealed_key is not None and passphrase is not None:
        try:
            key = import_private_key(kit.sealed_key, passphrase)
        except KeyFileError as exc:
            raise KitError(str(exc)) from None
        expected = info.public_keys.get(str(info.key_id))
        if expected is None or public_bytes(key).hex() != expected.lower():
            raise KitError(f"{path.name} has been altered (its signing key is not the event's)")
    elif kit.sealed_key is not None:
        warnings.append("the signing key was left out (no passphrase given)")
    key_path = (
        events.key_path(store.data_dir, info.event_id, info.key_id)
        if key is not None and info.key_id is not None
        else None
    )
    if key is not None and key_path is not None and key_path.exists():
        try:
            held = load_private_key(key_path)
        except KeyFileError as exc:
            raise KitError(str(exc)) from None
        if public_bytes(held) != public_bytes(key):
            raise KitError(f"this desk already holds another signing key at {key_path}")
        key = None  # already here
    with store.begin() as session:
        applied = _apply_all(session, kit.ops, path.name)
        event = session.get(Event, info.event_id)
        if event is None:
            raise KitError(f"{path.name} does not hold the event itself")
        if {str(k): str(v) for k, v in (event.public_keys or {}).items()} != info.public_keys:
            warnings.append("the event's public keys here differ from the kit's (a newer key?)")
        _settle_in(session, info.event_id, desk_name)
        if key is not None and key_path is not None:
            # Inside the transaction: if the key cannot be written, nothing of the join stays.
            save_private_key(key_path, key)
    return JoinResult(
        event_id=info.event_id,
        event_name=event.name,
        operations=info.operations,
        applied=applied,
        signing_key_saved=key is not None or (key_path is not None and key_path.exists()),
        source=str(path),
        warnings=warnings,
    )


def _settle_in(session: Session, event_id: str, desk_name: str | None = None) -> None:
    """Open the event here and name this desk in it (a change the other desks receive)."""
    if desk_name is not None:
        desk.set_setting(session, "desk_name", _clean_desk_name(desk_name))
    desk.open_event(session, event_id)
    ctx = desk.context(session)
    events.put_desk(session, ctx, desk.desk_name(session))


def _clean_desk_name(name: str) -> str:
    clean = " ".join(name.split())[:60]
    if not clean:
        raise KitError("a desk name needs at least one letter or digit")
    return clean


# --- joining from the hub -----------------------------------------------------------------


def hub_events(url: str) -> list[HubEvent]:
    """The events on the hub, with their names where the hub holds the event's record."""
    found: list[HubEvent] = []
    with HubClient(url) as client:
        for event_id, count in client.events():
            found.append(HubEvent(event_id, _event_name(client, event_id), count))
    return found


def _event_name(client: HubClient, event_id: str) -> str:
    # The event's own record is among its first operations (it is made first).
    for _, op in client.pull(event_id, 0, 50):
        if op.get("kind") == "event.put" and op.get("payload", {}).get("id") == event_id:
            return str(op["payload"].get("name", ""))
    return ""


def choose_event(found: Sequence[HubEvent], event_id: str | None) -> HubEvent:
    """The event to join: the one named, or the only one on the hub; KitError otherwise."""
    if not found:
        raise KitError("the hub holds no event yet: sync the organiser's desk to it first")
    if event_id is None:
        if len(found) == 1:
            return found[0]
        listing = "; ".join(f"{e.event_id} ({e.name or 'no name'})" for e in found)
        raise KitError(f"the hub holds {len(found)} events, choose one with --event: {listing}")
    for item in found:
        if item.event_id == event_id:
            return item
    raise KitError(f"the hub holds no event {event_id}")


def join_from_hub(
    store: Store,
    url: str,
    event_id: str | None = None,
    *,
    batch_size: int = sync.BATCH,
    desk_name: str | None = None,
) -> JoinResult:
    """Remember the hub, pull everything of the event, open it, name this desk in it.

    ``desk_name`` (e.g. the name its hub login was made for) is what arrivals and reports
    show for this desk; without it the desk keeps its own ("Desk <computer name>").
    A join cut short keeps what it received (the next sync goes on from there), and says why
    in a KitError.
    """
    if desk_name is not None:
        desk_name = _clean_desk_name(desk_name)
    url = sync.check_hub_url(url)
    chosen = choose_event(hub_events(url), event_id)
    with store.begin() as session:
        sync.set_hub_url(session, url)
    report = sync.sync_once(store, url, event_ids=[chosen.event_id], batch_size=batch_size)
    if not report.ok:
        raise KitError(f"joining stopped: {report.error}")
    with store.begin() as session:
        event = session.get(Event, chosen.event_id)
        if event is None:
            raise KitError(f"the hub holds no record of event {chosen.event_id} itself")
        _settle_in(session, chosen.event_id, desk_name)
        name = event.name
    # Send this desk's name at once, so the other desks see who joined.
    after = sync.sync_once(store, url, event_ids=[chosen.event_id], batch_size=batch_size)
    warnings = [] if after.ok else [f"this desk's name is not on the hub yet: {after.error}"]
    return JoinResult(
        event_id=chosen.event_id,
        event_name=name,
        operations=report.pulled,
        applied=report.applied,
        source=sync.hub_label(url),
        warnings=warnings,
    )


__all__ = [
    "KIT_FORMAT",
    "KIT_SUFFIX",
    "MIN_PASSPHRASE",
    "OPS_SUFFIX",
    "HubEvent",
    "JoinResult",
    "KitError",
    "KitInfo",
    "choose_event",
    "export_kit",
    "export_ops_file",
    "hub_events",
    "import_ops_file",
    "join_from_hub",
    "join_from_kit",
    "kit_info",
    "read_kit",
    "signing_key_file",
]
