"""``eventdesk import FILE``: bring a participant list (CSV or XLSX) into the open event."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from desktop.cli import EXIT_OK, CommandError, command, print_json, store_for
from desktop.importing import ImportFileError, Problem
from desktop.registry_import import ImportOutcome, describe_changes, import_file

# Problems and warnings listed one per line in the text report; the rest are counted.
MAX_LISTED = 1000


def add_commands(sub: Any) -> None:
    """Add ``import`` to the command line."""
    parser = sub.add_parser(
        "import",
        help="import attendees from a CSV or XLSX file (Indico, pretix or any list)",
        description=(
            "Read a participant list, match its rows to the attendees already registered, "
            "and add or update them in one go. Every problem is listed with its row number; "
            "if there is any, nothing is written unless --skip-invalid is given. Importing "
            "the same file again changes nothing."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="a .csv or .xlsx file")
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would change; write nothing"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and skip the rows with problems",
    )
    parser.add_argument(
        "--header-row",
        type=int,
        metavar="N",
        help="the row holding the headings (found automatically when not given)",
    )


@command("import")
def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    store = store_for(args, create=False)
    try:
        outcome = import_file(
            store,
            path,
            header_row=args.header_row,
            dry_run=args.dry_run,
            skip_invalid=args.skip_invalid,
            as_owner=True,
        )
    except ImportFileError as error:
        # A file whose every row is refused still gets each row's problem listed first.
        if error.problems:
            _print_problems(error.problems, as_json=args.json, message=str(error))
        raise CommandError(str(error)) from None
    finally:
        store.close()
    if args.json:
        print_json(outcome.as_dict())
    else:
        _print_report(outcome)
    if outcome.error is not None:
        raise CommandError(outcome.error)
    return EXIT_OK


def _print_report(outcome: ImportOutcome) -> None:
    table, mapping, plan, result = outcome.table, outcome.mapping, outcome.plan, outcome.result
    kind = "XLSX" if table.source_format == "xlsx" else "CSV"
    where = f"sheet {table.sheet!r}" if table.sheet else f"{table.encoding}, {table.delimiter!r}"
    source = {"indico": "an Indico export", "pretix": "a pretix export"}.get(
        mapping.source, "a participant list"
    )
    print(
        f"{table.name}: {kind} ({where}), {source}, headings on row {table.header_row}, "
        f"{len(table.rows)} row(s)"
    )
    used = [
        f"{c.heading or f'column {c.index + 1}'} → {c.field.replace('_', ' ')}"
        for c in mapping.columns
        if c.field is not None
    ]
    print("Columns: " + "; ".join(used))
    if mapping.ignored:
        print("Not imported: " + "; ".join(mapping.ignored))
    for update in plan.updates:
        print(
            f"row {update.row_number}: updates {update.attendee_id} "
            f"(matched by {update.matched_by}): {describe_changes(update.changes)}"
        )
    _print_list("Problems", plan.problems)
    _print_list("Warnings", plan.warnings)
    print(plan.summary())
    if result is not None:
        print(result.summary() + ("." if not result.dry_run else " (dry run: nothing written)."))


def _print_list(heading: str, items: Sequence[Problem]) -> None:
    if not items:
        return
    print(f"{heading} ({len(items)}):")
    for item in items[:MAX_LISTED]:
        print(f"  {item}")
    if len(items) > MAX_LISTED:
        print(f"  … and {len(items) - MAX_LISTED} more (see --json for all)")


def _print_problems(problems: Sequence[Problem], *, as_json: bool, message: str) -> None:
    if not as_json:
        _print_list("Problems", problems)
        return
    print_json(
        {
            "ok": False,
            "error": message,
            "written": False,
            "problems": [
                {"row": p.row_number, "field": p.field, "kind": p.kind, "message": p.message}
                for p in problems
            ],
        }
    )
