"""The command line: the same services the app uses, for scripts and for the desk without a screen.

Every command prints a one-line error on stderr and exits non-zero for a person's mistake;
``--json`` prints exactly one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from desktop import desk, permissions, registry
from desktop.store import Store, StoreError, open_store, resolve_data_dir

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A failure to report on one line, with the exit code to use."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


# Errors a person can cause; each becomes one line on stderr.
USER_ERRORS: tuple[type[BaseException], ...] = (
    StoreError,
    registry.RegistryError,
    desk.NoEventError,
    permissions.PermissionDenied,
    OSError,
)

Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    """Register the handler of a subcommand."""

    def register(fn: Handler) -> Handler:
        COMMANDS[name] = fn
        return fn

    return register


def print_json(data: Any) -> None:
    """Print one JSON document on stdout."""
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def data_dir(args: argparse.Namespace) -> Path:
    return resolve_data_dir(getattr(args, "data", None))


def store_for(args: argparse.Namespace, *, create: bool = True) -> Store:
    return open_store(data_dir(args), create=create)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eventdesk",
        description="EventDesk: registration desks, QR badges, check-in and certificates.",
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        help="data folder (default: $EVENTDESK_DATA or the platform's user data folder)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = sub.add_parser("gui", help="open the desk application (the default)")
    gui.add_argument("--demo", action="store_true", help="open the built-in demo event")
    gui.add_argument("--screenshot", metavar="PNG", help="render the window to PNG and exit")

    sub.add_parser("demo", help="create the built-in demo event in the data folder")

    selftest = sub.add_parser("self-test", help="check the installation and the data folder")
    selftest.add_argument("--json", action="store_true")

    attendees = sub.add_parser("attendees", help="list or search attendees")
    attendees.add_argument("--search", metavar="Q", help="any part of a name, e-mail, code")
    attendees.add_argument("--json", action="store_true")

    digest = sub.add_parser("digest", help="fingerprint of the shared state, per table")
    digest.add_argument("--json", action="store_true")

    bench = sub.add_parser("bench", help="run the benchmarks")
    bench.add_argument("--quick", action="store_true", help="smaller workloads")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--only", metavar="NAME", help="run only workloads whose name has NAME")

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_commands(sub)
    return parser


# Modules that add subcommands: each has ``add_commands(subparsers)`` and registers its
# handlers with ``@command``; listed here so the core stays one import graph.
COMMAND_MODULES: tuple[str, ...] = (
    "desktop.cli_checkin",
    "desktop.cli_import",
    "desktop.cli_admin",
    "desktop.cli_sync",
    "desktop.cli_badges",
    "desktop.cli_reports",
    "desktop.cli_certificates",
)


@command("gui")
def cmd_gui(args: argparse.Namespace) -> int:
    # Loaded by name so the core never imports Qt (the import-linter contract checks that).
    qt_app = importlib.import_module("desktop.ui.qt_app")
    result: int = qt_app.run(
        data_dir(args),
        demo=bool(getattr(args, "demo", False)),
        screenshot=getattr(args, "screenshot", None),
    )
    return result


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    from desktop.demo import create_demo

    store = store_for(args)
    try:
        with store.begin() as session:
            result = create_demo(session, store.data_dir)
    finally:
        store.close()
    if result.created:
        print(
            f"Demo event created in {store.data_dir}: "
            f"{result.attendees} attendees, {result.sessions} sessions."
        )
    else:
        print(f"The demo event is already in {store.data_dir}; nothing changed.")
    return EXIT_OK


@command("attendees")
def cmd_attendees(args: argparse.Namespace) -> int:
    store = store_for(args)
    try:
        with store.begin() as session:
            event_id = desk.required_event(session).id
            people = registry.list_attendees(session, event_id, args.search)
    finally:
        store.close()
    if args.json:
        print_json([p.to_json() for p in people])
        return EXIT_OK
    for p in people:
        line = (
            f"{p.short_code:9} {p.display_name:40} {p.country:3} {p.category:18} {p.organisation}"
        )
        print(line.rstrip())
    print(f"{len(people)} attendee(s)", file=sys.stderr)
    return EXIT_OK


@command("digest")
def cmd_digest(args: argparse.Namespace) -> int:
    from desktop.digest import state_digest

    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            result = state_digest(session)
    finally:
        store.close()
    if args.json:
        print_json(result)
    else:
        for name, value in sorted(result["tables"].items()):
            print(f"{name:20} {value}")
        print(f"{'all':20} {result['all']}")
    return EXIT_OK


@command("self-test")
def cmd_self_test(args: argparse.Namespace) -> int:
    from desktop.selftest import run_self_test

    checks = run_self_test(data_dir(args))
    ok = all(c.ok for c in checks)
    if args.json:
        print_json({"ok": ok, "checks": [c.to_json() for c in checks]})
    else:
        for c in checks:
            print(f"[{'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}")
    return EXIT_OK if ok else EXIT_FAILED


@command("bench")
def cmd_bench(args: argparse.Namespace) -> int:
    runner = importlib.import_module("eventdesk_bench.runner")
    result: int = runner.main(quick=args.quick, as_json=args.json, only=args.only)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    name = args.command or "gui"
    if args.command is None:
        args.demo = False
        args.screenshot = None
    handler = COMMANDS[name]
    try:
        return handler(args)
    except CommandError as exc:
        print(f"eventdesk: {exc}", file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        # The reader (``| head``) went away: not an error worth a message. Caught before
        # USER_ERRORS, which holds OSError, its base class.
        sys.stderr.close()
        return EXIT_OK
    except USER_ERRORS as exc:
        print(f"eventdesk: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("eventdesk: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not the person's fault: say so on one line, log the rest
        if os.environ.get("EVENTDESK_DEBUG"):
            traceback.print_exc()
        print(
            f"eventdesk: internal error ({type(exc).__name__}: {_one_line(exc)}); "
            "set EVENTDESK_DEBUG=1 for details",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
