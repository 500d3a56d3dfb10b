"""``eventdesk badges``: badges to a PDF by filter, the layouts, and the print log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from desktop import badges, desk
from desktop.badgetokens import BadgeTokenError
from desktop.cli import EXIT_OK, CommandError, command, print_json, store_for
from desktop.countries import resolve_country
from desktop.events import event_zone, utc_to_local
from desktop.keys import KeyFileError
from desktop.layout import LayoutError
from desktop.models import CATEGORIES, CATEGORY_LABELS
from desktop.permissions import PermissionDenied, as_owner


def add_commands(sub: Any) -> None:
    """Add ``badges`` to the command line."""
    parser = sub.add_parser(
        "badges",
        help="badges to a PDF (by country, category, not yet printed, or chosen people)",
        description=(
            "Render the badges of registered attendees into one PDF. Filters combine; "
            "--country and --category may be repeated or given as comma-separated lists. "
            "The PDF is not counted as printed unless --mark-printed is given."
        ),
    )
    parser.add_argument("--out", metavar="PDF", help="the PDF file to write")
    parser.add_argument(
        "--layout",
        metavar="NAME",
        default=badges.DEFAULT_LAYOUT,
        help="layout name or .json file (default: %(default)s)",
    )
    parser.add_argument(
        "--country", metavar="CC", action="append", default=[], help="ISO country code or name"
    )
    parser.add_argument(
        "--category",
        metavar="C",
        action="append",
        default=[],
        help=f"one of {', '.join(CATEGORIES)}",
    )
    parser.add_argument(
        "--not-printed",
        action="store_true",
        help="only those whose current badge has not been printed",
    )
    parser.add_argument(
        "--ids",
        metavar="REF",
        nargs="+",
        default=[],
        help="short codes or ids of the attendees to include",
    )
    parser.add_argument(
        "--mark-printed",
        action="store_true",
        help="record every badge in the PDF as printed at this desk",
    )
    parser.add_argument(
        "--reason", metavar="TEXT", default="", help="why, when --mark-printed reprints a badge"
    )
    parser.add_argument("--list-layouts", action="store_true", help="list the badge layouts")
    parser.add_argument("--log", action="store_true", help="show the badge print log")
    parser.add_argument("--json", action="store_true")


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _countries(values: list[str]) -> tuple[str, ...]:
    codes: list[str] = []
    for value in _split(values):
        code = resolve_country(value)
        if code is None:
            raise CommandError(f"unknown country {value!r}; use an ISO code such as PH or TH")
        codes.append(code)
    return tuple(codes)


def _categories(values: list[str]) -> tuple[str, ...]:
    by_label = {label.lower(): key for key, label in CATEGORY_LABELS.items()}
    keys: list[str] = []
    for value in _split(values):
        folded = value.lower().replace("-", "_").replace(" ", "_")
        key = folded if folded in CATEGORIES else by_label.get(value.lower())
        if key is None:
            raise CommandError(f"unknown category {value!r}; use one of {', '.join(CATEGORIES)}")
        keys.append(key)
    return tuple(keys)


@command("badges")
def cmd_badges(args: argparse.Namespace) -> int:
    if args.list_layouts:
        return _list_layouts(args)
    if args.log:
        return _show_log(args)
    if not args.out:
        raise CommandError("give --out PDF (or --list-layouts, or --log)")
    out = Path(args.out)
    if out.suffix.lower() != ".pdf":
        raise CommandError(f"{out} does not end in .pdf")
    if out.is_dir():
        raise CommandError(f"{out} is a folder; give a file name ending in .pdf")
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            refs = _split(args.ids)
            flt = badges.BadgeFilter(
                countries=_countries(args.country),
                categories=_categories(args.category),
                not_printed=args.not_printed,
                ids=tuple(badges.resolve_refs(session, event.id, refs)) if refs else (),
            )
            batch = badges.prepare(session, store.data_dir, event.id, args.layout, flt)
            if args.mark_printed:
                # Refuse before writing anything: a reprint without --reason is caught here.
                ctx = as_owner(desk.context(session))
                for attendee_id in batch.attendee_ids:
                    badges.check_print(session, ctx, attendee_id, args.reason)
        out.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and moved into place: a failed run leaves no half PDF.
        partial = out.with_name(f".{out.name}.partial")
        try:
            report = badges.draw(batch, partial)
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        marked = 0
        if args.mark_printed:
            with store.begin() as session:
                ctx = as_owner(desk.context(session))
                marked = len(
                    badges.record_prints(session, ctx, batch.attendee_ids, args.layout, args.reason)
                )
    except (badges.BadgeError, LayoutError, BadgeTokenError, KeyFileError) as exc:
        raise CommandError(str(exc)) from None
    except PermissionDenied as exc:  # pragma: no cover - the command line acts as the owner
        raise CommandError(str(exc)) from None
    finally:
        store.close()
    for warning in report.warnings:
        print(f"eventdesk: warning: {warning}", file=sys.stderr)
    if args.json:
        print_json(
            {
                "out": str(out),
                "layout": args.layout,
                "badges": report.documents,
                "pages": report.pages,
                "attendees": batch.attendee_ids,
                "marked_printed": marked,
                "warnings": report.warnings,
            }
        )
    else:
        note = f"; {marked} recorded as printed" if args.mark_printed else ""
        print(f"{report.documents} badge(s) on {report.pages} page(s) written to {out}{note}")
    return EXIT_OK


def _list_layouts(args: argparse.Namespace) -> int:
    store = store_for(args, create=False)
    try:
        found = badges.badge_layouts(store.data_dir)
    finally:
        store.close()
    if args.json:
        print_json(
            [
                {
                    "name": i.name,
                    "title": i.title,
                    "width_mm": i.width,
                    "height_mm": i.height,
                    "page_width_mm": i.page_width,
                    "page_height_mm": i.page_height,
                    "per_page": i.per_page,
                    "builtin": i.builtin,
                }
                for i in found
            ]
        )
        return EXIT_OK
    for i in found:
        where = "built-in" if i.builtin else str(i.path)
        print(f"{i.name:14} {i.title}  [{where}]")
    return EXIT_OK


def _show_log(args: argparse.Namespace) -> int:
    store = store_for(args, create=False)
    try:
        with store.begin() as session:
            event = desk.required_event(session)
            entries = badges.print_log(session, event.id)
            zone = event_zone(event)
    finally:
        store.close()
    if args.json:
        print_json(
            [
                {
                    "op_id": e.op_id,
                    "attendee": e.attendee_id,
                    "short_code": e.short_code,
                    "name": e.attendee_name,
                    "at": e.at.isoformat() + "Z",
                    "desk": e.desk_name,
                    "operator": e.operator_name or None,
                    "layout": e.layout,
                    "badge_seq": e.badge_seq,
                    "reprint": e.reprint,
                    "reason": e.reason,
                }
                for e in entries
            ]
        )
        return EXIT_OK
    for e in entries:
        when = f"{utc_to_local(e.at, zone):%Y-%m-%d %H:%M}"
        kind = f"REPRINT ({e.reason})" if e.reprint else "first"
        print(
            f"{when}  {e.short_code:9} {e.attendee_name[:36]:36} {e.desk_name[:20]:20} "
            f"{e.layout:10} {kind}"
        )
    print(f"{len(entries)} print(s)", file=sys.stderr)
    return EXIT_OK
