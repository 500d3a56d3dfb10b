"""``eventdesk report``: list the reports, or write one to an .xlsx, .csv (or the summary .pdf)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from desktop import desk, permissions, reports
from desktop.cli import EXIT_OK, EXIT_USAGE, CommandError, command, print_json, store_for
from desktop.reports import ReportError, ReportOptions
from desktop.reportwriters import TABLE_SUFFIXES, ReportWriteError, check_destination, write_table
from desktop.summarypdf import make_summary_pdf


def add_commands(sub: Any) -> None:
    """Add ``report`` to the command line."""
    names = ", ".join(spec.name for spec in reports.REPORTS)
    parser = sub.add_parser(
        "report",
        help="write a report (participant list, attendance, no-shows, …) to .xlsx or .csv",
        description=(
            "Write one report of the open event to a file; the extension picks the format: "
            ".xlsx (Excel, with a frozen, filtered header row) or .csv (UTF-8). The summary "
            f"also comes as a one-page .pdf with charts. Reports: {names}."
        ),
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="the report (see --list)")
    parser.add_argument("--list", action="store_true", help="name the reports and what they hold")
    parser.add_argument("--out", metavar="FILE", help="the file to write (.xlsx, .csv, .pdf)")
    parser.add_argument(
        "--grace",
        metavar="MINUTES",
        type=int,
        default=ReportOptions().late_grace_minutes,
        help="late-arrivals: minutes after the first session's start still on time "
        "(default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true")


def _list(as_json: bool) -> int:
    if as_json:
        print_json(
            [
                {
                    "name": spec.name,
                    "title": spec.title,
                    "description": spec.description,
                    "formats": ["xlsx", "csv", *(["pdf"] if spec.pdf else [])],
                    "personal_data": spec.personal,
                }
                for spec in reports.REPORTS
            ]
        )
        return EXIT_OK
    width = max(len(spec.name) for spec in reports.REPORTS)
    for spec in reports.REPORTS:
        print(f"{spec.name:{width}}  {spec.description}")
    return EXIT_OK


def _suffixes(spec: reports.ReportSpec) -> tuple[str, ...]:
    return (*TABLE_SUFFIXES, ".pdf") if spec.pdf else TABLE_SUFFIXES


@command("report")
def cmd_report(args: argparse.Namespace) -> int:
    if args.list:
        return _list(args.json)
    if not args.name:
        raise CommandError("name a report (see `eventdesk report --list`)", EXIT_USAGE)
    if not args.out:
        raise CommandError("say where to write it: --out FILE (.xlsx or .csv)", EXIT_USAGE)
    if args.grace < 0:
        raise CommandError("--grace must be 0 minutes or more", EXIT_USAGE)
    try:
        spec = reports.spec(args.name)
        out = Path(args.out).expanduser().absolute()
        if out.suffix.lower() == ".pdf" and not spec.pdf:
            raise ReportWriteError(
                f"only the summary comes as a PDF: write {spec.name} to .xlsx or .csv"
            )
        # Before any work: a wrong folder is said at once, not after a long report.
        check_destination(out, _suffixes(spec))
        store = store_for(args, create=False)
        try:
            # A read-only snapshot: a long report does not hold up scans at this desk.
            with store.read() as session:
                event_id = desk.required_event(session).id
                # A command typed at this folder is its owner's doing, not the app's operator's.
                ctx = permissions.as_owner(desk.context(session))
                if out.suffix.lower() == ".pdf":
                    make_summary_pdf(session, event_id, out)
                    rows = 1
                    title = "Summary for the organiser (one page)"
                else:
                    options = ReportOptions(late_grace_minutes=args.grace)
                    table = reports.build(session, ctx, spec.name, options=options)
                    write_table(table, out)
                    rows = len(table.rows) - table.total_rows
                    title = table.title
        finally:
            store.close()
    except (ReportError, ReportWriteError, permissions.PermissionDenied) as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print_json({"report": spec.name, "path": str(out), "rows": rows, "title": title})
    else:
        unit = "page" if out.suffix.lower() == ".pdf" else ("row" if rows == 1 else "rows")
        print(f"{title}: {rows} {unit} written to {out}")
    return EXIT_OK
