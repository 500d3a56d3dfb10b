"""Administration commands: backups, restore, operators, the audit trail, personal data, keys.

The command line acts as the *owner of the data folder* and may do everything an
administrator may: whoever can run a command here can read the SQLite file directly, so a
PIN would protect nothing (see :mod:`desktop.permissions`). Its changes carry no operator in
the audit trail. Passphrases and PINs are asked for without echo; scripts may set
``EVENTDESK_PASSPHRASE`` and ``EVENTDESK_PIN`` instead.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from desktop import audit, backup, desk, keys, operators, permissions, privacy
from desktop.cli import EXIT_OK, CommandError, command, data_dir, print_json, store_for
from desktop.events import key_path
from desktop.journal import DeskContext
from desktop.store import DB_NAME

_MINE = (
    backup.BackupError,
    operators.OperatorError,
    permissions.PermissionDenied,
    privacy.PrivacyError,
    keys.KeyFileError,
)


def add_commands(sub: Any) -> None:
    """Add this module's subcommands to the ``eventdesk`` parser."""
    p = sub.add_parser("backup", help="back up the database now (or list the backups)")
    p.add_argument("--keep", type=int, default=backup.DEFAULT_KEEP, help="backups to keep")
    p.add_argument("--list", action="store_true", help="list the backups instead")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("restore", help="replace the database with a backup (the app closed)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("operators", help="list the event's operators, or add one")
    ops = p.add_subparsers(dest="operators_command", metavar="ACTION")
    add = ops.add_parser("add", help="add an operator (asks for the PIN)")
    add.add_argument("name")
    add.add_argument("--role", choices=permissions.ROLES, default="desk")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("audit", help="the audit trail: who did what, where, when")
    p.add_argument("--operator", metavar="NAME_OR_ID")
    p.add_argument("--desk", metavar="ID")
    p.add_argument("--kind", action="append", default=[], metavar="KIND")
    p.add_argument("--since", metavar="ISO8601")
    p.add_argument("--until", metavar="ISO8601")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("privacy", help="personal data: export one attendee's, erase all")
    priv = p.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)
    exp = priv.add_parser("export", help="everything held about one attendee, as JSON")
    exp.add_argument("ref", metavar="REF")
    exp.add_argument("--out", metavar="FILE", required=True)
    era = priv.add_parser("erase", help="erase personal data (after the event)")
    era.add_argument("ref", metavar="REF", nargs="?", help="one attendee only")
    era.add_argument("--confirm", action="store_true", help="yes, erase: it cannot be undone")
    era.add_argument("--before-end", action="store_true", help="erase although the event is on")
    era.add_argument(
        "--keep-backups", action="store_true", help="keep local backups (they hold the data)"
    )

    p = sub.add_parser("keys", help="carry the signing key to another desk, encrypted")
    k = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    kx = k.add_parser("export", help="write the signing key encrypted with a passphrase")
    kx.add_argument("file", metavar="FILE")
    kx.add_argument("--key-id", type=int, default=None)
    ki = k.add_parser("import", help="install a signing key exported from another desk")
    ki.add_argument("file", metavar="FILE")


Handler = Callable[[argparse.Namespace], int]


def _plain_errors(fn: Handler) -> Handler:
    """This module's errors become the one-line message of a CommandError."""

    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except _MINE as exc:
            raise CommandError(" ".join(str(exc).split())) from exc

    return run


def _secret(env: str, prompt: str, *, twice: bool) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CommandError(f"no terminal to ask for it: set {env}")
    first = getpass.getpass(f"{prompt}: ")
    if twice and getpass.getpass(f"{prompt} again: ") != first:
        raise CommandError("the two entries differ; nothing was done")
    return first


# --- backups --------------------------------------------------------------------------------


@command("backup")
@_plain_errors
def cmd_backup(args: argparse.Namespace) -> int:
    folder = data_dir(args)
    if args.list:
        found = backup.list_backups(folder)
        if args.json:
            print_json([_backup_json(b) for b in found])
        else:
            for b in found:
                print(f"{b.created:%Y-%m-%d %H:%M:%S} UTC  {b.size / 1e6:7.2f} MB  {b.path}")
            print(f"{len(found)} backup(s)", file=sys.stderr)
        return EXIT_OK
    # Opening the store first checks the folder is EventDesk's and brings it to the schema.
    store_for(args, create=False).close()
    made = backup.make_backup(folder, keep=args.keep, label="manual")
    if args.json:
        print_json(_backup_json(made))
    else:
        print(f"Backed up to {made.path}")
    return EXIT_OK


def _backup_json(b: backup.BackupInfo) -> dict[str, Any]:
    return {"path": str(b.path), "created": b.created.isoformat(), "size": b.size}


@command("restore")
@_plain_errors
def cmd_restore(args: argparse.Namespace) -> int:
    folder = data_dir(args)
    result = backup.restore(folder, Path(args.file))
    # Migrates an older backup to this program's schema, and proves it opens.
    store_for(args, create=False).close()
    checked = result.restored
    if args.json:
        print_json(
            {
                "restored": str(checked.path),
                "aside": str(result.aside) if result.aside else None,
                "attendees": checked.attendees,
                "operations": checked.operations,
            }
        )
        return EXIT_OK
    print(
        f"Restored {checked.path} ({checked.attendees} attendees, {checked.operations} operations)."
    )
    if result.aside is not None:
        print(f"The database it replaced is kept at {result.aside}")
    return EXIT_OK


# --- operators and the audit trail ------------------------------------------------------------


@command("operators")
@_plain_errors
def cmd_operators(args: argparse.Namespace) -> int:
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            ctx = _owner(session)
            if args.operators_command == "add":
                pin = _secret("EVENTDESK_PIN", f"PIN or password for {args.name}", twice=True)
                made = operators.create_operator(session, ctx, args.name, args.role, pin)
                print(f"Added {made.name} ({made.role_label}).")
                return EXIT_OK
            people = operators.list_operators(session, ctx.event_id, include_inactive=True)
    finally:
        store.close()
    if args.json:
        print_json(
            [{"id": o.id, "name": o.name, "role": o.role, "active": o.active} for o in people]
        )
        return EXIT_OK
    for o in people:
        state = "" if o.active else "  (deactivated)"
        print(f"{o.role_label:14} {o.name}{state}")
    return EXIT_OK


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date and time: {text!r} (use 2024-08-28T09:00+08:00)") from exc
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a bare time is the desk's local time
    return moment.astimezone(UTC).replace(tzinfo=None)


@command("audit")
@_plain_errors
def cmd_audit(args: argparse.Namespace) -> int:
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            ctx = _owner(session)
            operator_id = None
            if args.operator:
                found = operators.get_operator(session, ctx.event_id, args.operator)
                if found is None:
                    raise CommandError(f"no operator {args.operator!r} in this event")
                operator_id = found.id
            flt = audit.AuditFilter(
                operator_id=operator_id,
                desk_id=args.desk,
                kinds=tuple(args.kind),
                since=_when(args.since),
                until=_when(args.until),
            )
            entries = audit.query(session, ctx, flt, limit=args.limit)
    finally:
        store.close()
    if args.json:
        print_json(
            [
                {
                    "op_id": e.op_id,
                    "at": e.at.replace(tzinfo=UTC).isoformat(),
                    "kind": e.kind,
                    "operator": e.operator,
                    "operator_id": e.operator_id,
                    "desk": e.desk,
                    "desk_id": e.desk_id,
                    "summary": e.summary,
                }
                for e in entries
            ]
        )
        return EXIT_OK
    for e in entries:
        local = e.at.replace(tzinfo=UTC).astimezone()
        print(
            f"{local:%Y-%m-%d %H:%M:%S}  {e.desk:16.16} {e.operator:24.24} {e.kind:18} {e.summary}"
        )
    return EXIT_OK


def _owner(session: Session) -> DeskContext:
    """This desk's context with no operator: the command line acts as the folder's owner.

    Never the operator signed in to the app on this folder: that is a different person.
    """
    return permissions.as_owner(desk.context(session))


# --- personal data --------------------------------------------------------------------------


@command("privacy")
@_plain_errors
def cmd_privacy(args: argparse.Namespace) -> int:
    if args.privacy_command == "export":
        return _privacy_export(args)
    return _privacy_erase(args)


def _privacy_export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            document = privacy.export_to_file(session, _owner(session), args.ref, out)
    finally:
        store.close()
    print(
        f"Wrote everything held about {document['attendee']['short_code']} to {out} "
        f"({len(document['scans'])} scans, {len(document['operations'])} operations)."
    )
    return EXIT_OK


def _privacy_erase(args: argparse.Namespace) -> int:
    if not args.confirm:
        raise CommandError(
            "erasing personal data cannot be undone: add --confirm to go ahead "
            "(export first what must be kept)"
        )
    folder = data_dir(args)
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            ctx = _owner(session)
            if args.ref:
                privacy.erase_attendee(session, ctx, args.ref)
                what = f"{args.ref}'s personal data"
            else:
                count = privacy.erase_event(session, ctx, before_end=args.before_end)
                what = f"the personal data of {count} attendee(s)"
    finally:
        store.close()
    privacy.purge_free_space(folder / DB_NAME)
    print(f"Erased {what}; every desk erases too when it next syncs.")
    if args.keep_backups:
        print("Local backups were kept and still hold the data: delete them when you can.")
        return EXIT_OK
    removed = 0
    folder_b = backup.backups_dir(folder)
    if folder_b.is_dir():
        for old in folder_b.glob("*.sqlite3"):
            old.unlink()
            removed += 1
    made = backup.make_backup(folder, label="erased")
    print(f"Deleted {removed} older backup(s) that held the data; new backup {made.path.name}.")
    return EXIT_OK


# --- signing keys ---------------------------------------------------------------------------


@command("keys")
@_plain_errors
def cmd_keys(args: argparse.Namespace) -> int:
    folder = data_dir(args)
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            event_id = event.id
            public = dict(event.public_keys or {})
    finally:
        store.close()
    if args.keys_command == "export":
        key_id = args.key_id or max((int(k) for k in public if str(k).isdigit()), default=1)
        key = keys.load_private_key(key_path(folder, event_id, key_id))
        passphrase = _secret("EVENTDESK_PASSPHRASE", "Passphrase to protect the key", twice=True)
        if len(passphrase) < 8:
            raise CommandError("choose a passphrase of at least 8 characters")
        data = keys.export_private_key(key, passphrase)
        target = Path(args.file)
        with open(target, "wb", opener=_private) as handle:
            handle.write(data)
        print(f"Wrote signing key {key_id}, encrypted with your passphrase, to {target}")
        return EXIT_OK
    data = Path(args.file).read_bytes()
    passphrase = _secret("EVENTDESK_PASSPHRASE", "Passphrase of the exported key", twice=False)
    key = keys.import_private_key(data, passphrase)
    wanted = keys.public_bytes(key).hex()
    matching = [int(k) for k, v in public.items() if v == wanted and str(k).isdigit()]
    if not matching:
        raise CommandError("this key does not belong to the event open here; nothing was changed")
    path = key_path(folder, event_id, matching[0])
    if path.exists() and keys.public_bytes(keys.load_private_key(path)).hex() == wanted:
        print(f"Signing key {matching[0]} is already installed; nothing changed.")
        return EXIT_OK
    keys.save_private_key(path, key)
    print(f"Installed signing key {matching[0]} at {path} (readable by you only).")
    return EXIT_OK


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
