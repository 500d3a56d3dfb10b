"""Sync commands: ``hub init|desk``, ``sync``, ``ops export|import``, ``kit export``, ``join``."""

from __future__ import annotations

import argparse
import functools
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.cli import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    command,
    print_json,
    store_for,
)

PASSPHRASE_ENV = "EVENTDESK_PASSPHRASE"


def add_commands(sub: Any) -> None:
    """Add the hub, sync, operations-file, kit and join commands."""
    hub = sub.add_parser("hub", help="set up a PostgreSQL hub and the desks' logins")
    hub_sub = hub.add_subparsers(dest="hub_command", metavar="ACTION", required=True)
    init = hub_sub.add_parser("init", help="create or upgrade the hub schema (safe to repeat)")
    init.add_argument("url", metavar="URL", help="postgresql:// URL of a user who may create")
    desk_login = hub_sub.add_parser(
        "desk", help="create a desk's login (or renew its password); prints its connection URL"
    )
    desk_login.add_argument("url", metavar="URL", help="postgresql:// URL of the hub's owner")
    desk_login.add_argument("name", metavar="NAME", help="the desk's name, e.g. 'Entrance 1'")
    desk_login.add_argument("--json", action="store_true")

    run = sub.add_parser("sync", help="one sync round with the hub: send and receive changes")
    run.add_argument("--hub", metavar="URL", help="the desk's connection URL (remembered)")
    run.add_argument("--status", action="store_true", help="show the sync status; sync nothing")
    run.add_argument("--json", action="store_true")

    ops = sub.add_parser("ops", help="carry operations on a file (no network needed)")
    ops_sub = ops.add_subparsers(dest="ops_command", metavar="ACTION", required=True)
    export = ops_sub.add_parser("export", help="write every operation of the open event")
    export.add_argument("file", metavar="FILE")
    imp = ops_sub.add_parser("import", help="apply an operations file (twice changes nothing)")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--json", action="store_true")

    kit = sub.add_parser("kit", help="a desk kit: what a new desk needs to join the event")
    kit_sub = kit.add_subparsers(dest="kit_command", metavar="ACTION", required=True)
    kit_export = kit_sub.add_parser("export", help="write a desk kit of the open event")
    kit_export.add_argument("file", metavar="FILE")
    kit_export.add_argument(
        "--with-signing-key",
        action="store_true",
        help="include the badge signing key, encrypted with a passphrase you are asked for "
        f"(or ${PASSPHRASE_ENV})",
    )

    join = sub.add_parser("join", help="join an event from the hub or from a desk kit")
    source = join.add_mutually_exclusive_group(required=True)
    source.add_argument("--hub", metavar="URL", help="the desk's connection URL")
    source.add_argument("--kit", metavar="FILE", help="a desk kit file")
    join.add_argument("--event", metavar="ID", help="which event, when the hub holds several")
    join.add_argument(
        "--desk-name",
        metavar="NAME",
        help="what other desks and reports call this desk, e.g. the name of its hub login "
        "(default: Desk <computer name>)",
    )
    join.add_argument(
        "--no-signing-key",
        action="store_true",
        help="do not take the kit's signing key (no passphrase asked)",
    )
    join.add_argument("--json", action="store_true")


Handler = Callable[[argparse.Namespace], int]


def _plain_errors(fn: Handler) -> Handler:
    """Hub, sync and kit failures become the one-line message of a CommandError."""

    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        # Imported here, not at the top: every command pays for the parser, and the hub's
        # driver is slow to load.
        from desktop import deskkit, sync
        from desktop.hub import HubError
        from desktop.keys import KeyFileError

        try:
            return fn(args)
        except (HubError, sync.SyncError, deskkit.KitError, KeyFileError) as exc:
            raise CommandError(str(exc)) from None

    return run


@command("hub")
@_plain_errors
def cmd_hub(args: argparse.Namespace) -> int:
    from desktop import sync
    from desktop.hub import HubClient, create_desk_login, init_hub

    url = sync.check_hub_url(args.url)
    if args.hub_command == "init":
        init_hub(url)
        with HubClient(url) as client:
            client.check()
        print(f"Hub ready at {sync.hub_label(url)}.")
        print("Next: `eventdesk hub desk URL NAME` once per desk; give each desk its line.")
        return EXIT_OK
    try:
        login = create_desk_login(url, args.name)
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    if args.json:
        print_json({"url": login.url, "role": login.role, "renewed": login.renewed})
    else:
        print(login.url)
    if login.renewed:
        print(
            f"eventdesk: the desk login {login.role} already existed: its password was renewed, "
            "so its old connection URL no longer works",
            file=sys.stderr,
        )
    else:
        print(f"eventdesk: desk login {login.role} created", file=sys.stderr)
    print(
        "eventdesk: this URL holds the desk's password; give it only to that desk "
        "(eventdesk join --hub URL)",
        file=sys.stderr,
    )
    return EXIT_OK


@command("sync")
@_plain_errors
def cmd_sync(args: argparse.Namespace) -> int:
    from desktop import sync

    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            stored = sync.hub_url(session)
            if args.hub:
                url = sync.check_hub_url(args.hub)
                if url != stored:
                    sync.set_hub_url(session, url)
            else:
                url = stored
            status = sync.sync_status(session)
        if args.status:
            if args.json:
                print_json(status.to_json())
            else:
                print(status.status_line())
                if status.last_error:
                    when = sync.format_time(status.last_error_at) if status.last_error_at else ""
                    print(f"last problem{(' at ' + when) if when else ''}: {status.last_error}")
            return EXIT_OK
        if not url:
            raise CommandError("no hub configured for this desk: give --hub URL")
        report = sync.sync_once(store, url)
    finally:
        store.close()
    if args.json:
        print_json({"hub": sync.hub_label(url), **report.to_json()})
    else:
        print(f"Hub {sync.hub_label(url)}: {report.summary()}")
    if not report.ok:
        if not args.json:
            print(f"eventdesk: sync stopped: {report.error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


@command("ops")
@_plain_errors
def cmd_ops(args: argparse.Namespace) -> int:
    from desktop import deskkit

    path = Path(args.file).expanduser()
    if args.ops_command == "export":
        store = store_for(args, create=False)
        try:
            count = deskkit.export_ops_file(store, path)
        finally:
            store.close()
        print(f"{count} operation(s) written to {path}")
        return EXIT_OK
    store = store_for(args)
    try:
        result = deskkit.import_ops_file(store, path)
    finally:
        store.close()
    if args.json:
        print_json(result.to_json())
    else:
        print(
            f"{result.operations} operation(s) read from {path.name}, {result.applied} new "
            f"({result.operations - result.applied} already here)"
        )
    for warning in result.warnings:
        print(f"eventdesk: note: {warning}", file=sys.stderr)
    return EXIT_OK


def read_passphrase(prompt: str, *, confirm: bool) -> str | None:
    """A passphrase from ${PASSPHRASE_ENV} or the terminal (twice to confirm); None if neither."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given
    if sys.stdin is None or not sys.stdin.isatty():
        return None
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again, to be sure: ") != first:
        raise CommandError("the two passphrases differ; nothing was written")
    return first


@command("kit")
@_plain_errors
def cmd_kit(args: argparse.Namespace) -> int:
    from desktop import deskkit

    path = Path(args.file).expanduser()
    passphrase = None
    if args.with_signing_key:
        passphrase = read_passphrase("Passphrase for the signing key: ", confirm=True)
        if passphrase is None:
            raise CommandError(f"no terminal to ask for the passphrase: set {PASSPHRASE_ENV}")
    store = store_for(args, create=False)
    try:
        info = deskkit.export_kit(store, path, passphrase=passphrase)
    finally:
        store.close()
    key = (
        "with the signing key (keep the passphrase apart from the kit)"
        if info.has_signing_key
        else "without the signing key (joined desks check badges but cannot print them)"
    )
    print(f"Desk kit of {info.event_name!r}: {info.operations} operation(s), {key} -> {path}")
    return EXIT_OK


@command("join")
@_plain_errors
def cmd_join(args: argparse.Namespace) -> int:
    from desktop import deskkit

    store = store_for(args)
    try:
        if args.hub:
            result = deskkit.join_from_hub(store, args.hub, args.event, desk_name=args.desk_name)
        else:
            path = Path(args.kit).expanduser()
            info = deskkit.kit_info(path)
            passphrase = None
            if info.has_signing_key and not args.no_signing_key:
                passphrase = read_passphrase(
                    "Passphrase of the kit's signing key (empty: leave the key out): ",
                    confirm=False,
                )
            result = deskkit.join_from_kit(
                store, path, passphrase or None, desk_name=args.desk_name
            )
    finally:
        store.close()
    if args.json:
        print_json(result.to_json())
    else:
        key = "; signing key saved" if result.signing_key_saved else ""
        print(
            f"Joined {result.event_name!r} ({result.event_id}) from {result.source}: "
            f"{result.operations} operation(s) received, {result.applied} new{key}."
        )
    for warning in result.warnings:
        print(f"eventdesk: note: {warning}", file=sys.stderr)
    return EXIT_OK
