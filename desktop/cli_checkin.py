"""Check-in commands: ``scan``, ``sessions`` (the programme with live counts), ``token``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from desktop import attendance, checkin, clock, desk, permissions, registry
from desktop.badgetokens import BadgeTokenError, token_for
from desktop.cli import EXIT_OK, CommandError, command, print_json, store_for
from desktop.events import event_zone, list_sessions, utc_to_local
from desktop.keys import KeyFileError


def add_commands(sub: Any) -> None:
    """Add ``scan``, ``sessions`` and ``token`` to the command line."""
    scan = sub.add_parser(
        "scan",
        help="check a badge token or short code in or out; records the decision",
        description=(
            "Decide one scan and record it (refusals too). Without --session or --room the "
            "desk is the entrance. The exit status is 0 whenever a decision was recorded; "
            "read it from the output."
        ),
    )
    scan.add_argument("code", nargs="?", metavar="TOKEN_OR_CODE", help="badge token or code")
    scan.add_argument("--image", metavar="FILE", help="read the QR code from a picture instead")
    scan.add_argument("--session", metavar="ID", help="scan at this session's door")
    scan.add_argument("--room", metavar="ROOM", help="scan at the door of whatever is on in ROOM")
    scan.add_argument("--exit", action="store_true", help="record leaving instead of entering")
    scan.add_argument(
        "--at",
        metavar="ISO8601",
        help="when the scan happened (e.g. from a paper sheet); without an offset it is "
        "venue time. Default: the desk's clock",
    )
    scan.add_argument(
        "--force", action="store_true", help="admit despite a refusal (needs --reason)"
    )
    scan.add_argument("--reason", metavar="TEXT", default="", help="why it was forced")
    scan.add_argument("--json", action="store_true")

    sessions = sub.add_parser("sessions", help="the programme, with arrived and inside counts")
    sessions.add_argument("--json", action="store_true")

    token = sub.add_parser("token", help="print an attendee's badge token (the QR text)")
    token.add_argument("ref", metavar="REF", help="the attendee's short code or id")


def _read_image(path: str) -> str:
    # Loaded here: zxing-cpp and Pillow are needed by this one option only.
    from desktop import camerascan

    try:
        return camerascan.read_picture(path)
    except camerascan.PictureError as exc:
        raise CommandError(str(exc)) from None


def _mode(args: argparse.Namespace) -> checkin.DeskMode:
    direction: checkin.Direction = "exit" if args.exit else "entry"
    if args.session and args.room:
        raise CommandError("give --session or --room, not both")
    if args.session:
        return checkin.DeskMode("session", session_id=args.session, direction=direction)
    if args.room:
        return checkin.DeskMode("room", room=args.room, direction=direction)
    return checkin.DeskMode("entrance", direction=direction)


@command("scan")
def cmd_scan(args: argparse.Namespace) -> int:
    if (args.code is None) == (args.image is None):
        raise CommandError("give a TOKEN_OR_CODE or --image FILE (one of them)")
    if args.force and not args.reason.strip():
        raise CommandError("--force needs --reason TEXT")
    raw = _read_image(args.image) if args.image else str(args.code)
    mode = _mode(args)
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            if mode.session_id and not any(
                s.id == mode.session_id for s in list_sessions(session, event.id)
            ):
                raise CommandError(f"no session {mode.session_id}; see `eventdesk sessions`")
            at = clock.parse_moment(args.at, event_zone(event)) if args.at else None
            ctx = permissions.as_owner(desk.context(session))
            result = checkin.scan(
                session, ctx, raw, mode, at=at, force=args.force, reason=args.reason
            )
            zone = event_zone(event)
    except (checkin.CheckinError, clock.ClockError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        store.close()
    if args.json:
        print_json(result.to_json())
    else:
        print(_scan_line(result, zone))
    if args.force and not result.forced:
        print(f"eventdesk: note: a {result.decision} scan needs no override", file=sys.stderr)
    return EXIT_OK


def _scan_line(result: checkin.ScanResult, zone: Any) -> str:
    when = f"{utc_to_local(result.at, zone):%Y-%m-%d %H:%M}"
    who = ""
    if result.attendee is not None:
        who = f"  {result.attendee.display_name} ({result.attendee.short_code})"
    elif result.attendee_id is not None:
        who = f"  attendee {result.attendee_id}"
    where = f"  [{result.session.title}]" if result.session is not None else ""
    forced = f"  FORCED: {result.reason}" if result.forced else ""
    detail = f"  {result.detail}" if result.detail else ""
    return f"{result.decision.upper()}{who}{where}  {when}{forced}{detail}"


@command("sessions")
def cmd_sessions(args: argparse.Namespace) -> int:
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            programme = list_sessions(session, event.id)
            counts = attendance.session_counts(session, event.id)
    finally:
        store.close()
    if args.json:
        rows = []
        for item in programme:
            data = item.to_json()
            figures = counts.get(item.id)
            data["arrived"] = figures.arrived if figures else 0
            data["inside"] = figures.inside if figures else 0
            rows.append(data)
        print_json(rows)
        return EXIT_OK
    for item in programme:
        figures = counts.get(item.id)
        when = (
            f"{item.starts_at:%a %d %b %H:%M}–{item.ends_at:%H:%M}"
            if item.starts_at and item.ends_at
            else "(no time)"
        )
        seats = "" if item.capacity is None else f"/{item.capacity}"
        arrived = figures.arrived if figures else 0
        inside = figures.inside if figures else 0
        print(
            f"{item.id}  {when:22} {item.title[:48]:48} {item.room[:22]:22} "
            f"arrived {arrived}{seats}, inside {inside}"
        )
    return EXIT_OK


@command("token")
def cmd_token(args: argparse.Namespace) -> int:
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            person = registry.get(session, event.id, args.ref)
            if person is None:
                raise CommandError(f"no attendee {args.ref!r}; see `eventdesk attendees`")
            text = token_for(session, store.data_dir, event.id, person.id)
    except (BadgeTokenError, KeyFileError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        store.close()
    print(text)
    return EXIT_OK
