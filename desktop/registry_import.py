"""Write an import plan into the store: new attendees and field-level updates, all or nothing.

The plan (desktop/importing.py) says what a file would change; this module writes it through
the journal in the caller's transaction. The policy, from the issue: every problem is
reported with its row number *before* anything is written, so a plan with refused rows is not
written at all unless the caller chose to import the valid rows and skip the rest. A dry run
writes nothing; importing the same file again finds every row unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop import desk, permissions, registry, search
from desktop.columns import ColumnMapping
from desktop.importing import (
    ImportPlan,
    ParsedRow,
    ParseResult,
    Table,
    gc_paused,
    guess_mapping,
    parse_rows,
    plan_import,
    read_table,
    summarise,
)
from desktop.journal import DeskContext, PreparedOps
from desktop.models import Attendee
from desktop.store import Store, bulk_cache, checkpoint_later

Progress = Callable[[int, int, str], None]
CheckCancel = Callable[[], None]

# Rows written per step: between steps progress is reported and cancellation is checked.
MIN_STEP = 2000
STEPS = 10


class ImportRefused(Exception):
    """The plan cannot be written as asked; str() is one line for a person."""


@dataclass(frozen=True)
class ImportResult:
    """What was written: (row number, attendee id) for new and updated attendees."""

    created: list[tuple[int, str]] = field(default_factory=list)
    updated: list[tuple[int, str]] = field(default_factory=list)
    unchanged: int = 0
    skipped_rows: list[int] = field(default_factory=list)
    dry_run: bool = False

    @property
    def written(self) -> bool:
        """Whether the store changed."""
        return not self.dry_run and bool(self.created or self.updated)

    def summary(self) -> str:
        """One line: what the import did (or, for a dry run, would do)."""
        verb = "would be" if self.dry_run else "were"
        text = (
            f"{len(self.created)} new and {len(self.updated)} updated attendee(s) {verb} "
            f"written; {self.unchanged} unchanged"
        )
        if self.skipped_rows:
            text += f"; {len(self.skipped_rows)} row(s) with problems skipped"
        return text


@dataclass(frozen=True)
class ImportOutcome:
    """A whole import of a file: the table read, the mapping used, the plan and the result."""

    table: Table
    mapping: ColumnMapping
    plan: ImportPlan
    result: ImportResult | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON document of `eventdesk import --json`."""
        return outcome_dict(self.table, self.mapping, self.plan, self.result, self.error)


# --- reading what is there -------------------------------------------------------------------


def existing_attendees(session: Session, event_id: str) -> list[dict[str, Any]]:
    """The event's attendees (cancelled ones too) as plain dicts, as `plan_import` takes them."""
    columns = [Attendee.id, *(getattr(Attendee, f) for f in registry.EDITABLE_FIELDS)]
    query = select(*columns).where(Attendee.event_id == event_id)
    return [dict(row) for row in session.execute(query).mappings()]


def refused_rows(plan: ImportPlan) -> list[int]:
    """Row numbers the plan refuses, in order, each once."""
    return sorted({p.row_number for p in plan.problems if p.row_number is not None})


def refusal_message(plan: ImportPlan) -> str:
    """Why a plan with problems is not written, on one line."""
    rows = refused_rows(plan)
    valid = len(plan.new) + len(plan.updates) + len(plan.unchanged)
    remedy = f", or import the {valid} valid row(s) and skip the rest" if valid else ""
    return (
        f"nothing imported: {len(rows)} row(s) have problems ({summarise(plan.problems)}); "
        f"fix the file{remedy}"
    )


def plan_signature(plan: ImportPlan) -> tuple[Any, ...]:
    """What a person approved when they checked a plan: rows, ids, changes and refusals."""
    return (
        tuple(r.row_number for r in plan.new),
        tuple(
            (u.row_number, u.attendee_id, tuple(sorted(u.changes.items()))) for u in plan.updates
        ),
        tuple(plan.unchanged),
        tuple((p.row_number, p.kind) for p in plan.problems),
    )


# --- writing ---------------------------------------------------------------------------------


def _steps(total: int) -> int:
    return max(MIN_STEP, math.ceil(total / STEPS)) if total else MIN_STEP


def apply_plan(
    session: Session,
    ctx: DeskContext,
    plan: ImportPlan,
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    check_cancel: CheckCancel | None = None,
) -> ImportResult:
    """Write a plan in the caller's transaction: new attendees, then the changed fields.

    Refuses (ImportRefused) a plan with problems unless `skip_invalid`. `check_cancel` is
    called between steps and may raise to stop; the caller's transaction then rolls back,
    so an import is written whole or not at all.
    """
    if plan.problems and not skip_invalid:
        raise ImportRefused(refusal_message(plan))
    permissions.require(session, ctx, "import_attendees")
    with gc_paused():
        return _apply_plan(session, ctx, plan, progress, check_cancel)


def _apply_plan(
    session: Session,
    ctx: DeskContext,
    plan: ImportPlan,
    progress: Progress | None,
    check_cancel: CheckCancel | None,
) -> ImportResult:
    total = len(plan.new) + len(plan.updates)
    done = 0

    def step(message: str) -> None:
        if check_cancel is not None:
            check_cancel()
        if progress is not None:
            progress(done, total, message)

    # A larger page cache for this connection while the rows go in; restored afterwards. The
    # commit returns once the import is safe in the write-ahead log.
    checkpoint_later(session)
    with bulk_cache(session):
        created: list[tuple[int, str]] = []
        size = _steps(total)
        chunks = [plan.new[start : start + size] for start in range(0, len(plan.new), size)]
        if chunks:
            registrations = registry.Registrations(session, ctx)
            # A helper thread prepares the next chunk (Python) while SQLite indexes this one
            # for search (SQLite alone, Python's lock let go): a third of an import's time.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventdesk-import") as helper:
                coming = helper.submit(_prepare_chunk, registrations, chunks[0])
                for index, chunk in enumerate(chunks):
                    step(f"Adding attendees ({done:,} of {total:,})")
                    ids, prepared = coming.result()
                    registrations.write(session, prepared)
                    if index + 1 < len(chunks):
                        coming = helper.submit(_prepare_chunk, registrations, chunks[index + 1])
                    search.sync_index(session, meanwhile=partial(wait, [coming]))
                    created.extend(zip((row.row_number for row in chunk), ids, strict=True))
                    done += len(chunk)
        updated: list[tuple[int, str]] = []
        for start in range(0, len(plan.updates), size):
            step(f"Updating attendees ({done:,} of {total:,})")
            part = plan.updates[start : start + size]
            registry.update_many(
                session,
                ctx,
                [(u.attendee_id, {f: new for f, (_old, new) in u.changes.items()}) for u in part],
            )
            updated.extend((u.row_number, u.attendee_id) for u in part)
            done += len(part)
        step("Saving")
    return ImportResult(
        created=created,
        updated=updated,
        unchanged=len(plan.unchanged),
        skipped_rows=refused_rows(plan),
    )


def _prepare_chunk(
    registrations: registry.Registrations, chunk: Sequence[ParsedRow]
) -> tuple[list[str], PreparedOps]:
    return registrations.prepare([row.fields for row in chunk])


def dry_run_result(plan: ImportPlan) -> ImportResult:
    """What `apply_plan` would report, without writing (new rows have no id yet)."""
    return ImportResult(
        created=[(row.row_number, "") for row in plan.new],
        updated=[(u.row_number, u.attendee_id) for u in plan.updates],
        unchanged=len(plan.unchanged),
        skipped_rows=refused_rows(plan),
        dry_run=True,
    )


def import_parsed(
    session: Session,
    ctx: DeskContext,
    parsed: ParseResult,
    *,
    skip_invalid: bool = False,
    expected: ImportPlan | None = None,
    progress: Progress | None = None,
    check_cancel: CheckCancel | None = None,
) -> tuple[ImportPlan, ImportResult]:
    """Plan parsed rows against the attendees as they are now, and write the plan.

    Planning inside the writing transaction means no other desk's change slips between the
    check and the write. With `expected` (the plan a person approved), a plan that came out
    different is refused rather than written.
    """
    if progress is not None:
        progress(0, 0, "Comparing with the attendees already registered")
    plan = plan_import(parsed, existing_attendees(session, ctx.event_id))
    if expected is not None and plan_signature(plan) != plan_signature(expected):
        raise ImportRefused(
            "nothing imported: the attendees of this event changed since the file was "
            "checked (another desk or import); check the file again"
        )
    return plan, apply_plan(
        session,
        ctx,
        plan,
        skip_invalid=skip_invalid,
        progress=progress,
        check_cancel=check_cancel,
    )


def read_and_parse(
    path: Path,
    *,
    mapping: ColumnMapping | None = None,
    header_row: int | None = None,
) -> tuple[Table, ColumnMapping, ParseResult]:
    """Read a file, guess its mapping unless given, and check every row (no database)."""
    table = read_table(path, header_row=header_row)
    if mapping is None:
        mapping = guess_mapping(table.headers, table.samples())
    return table, mapping, parse_rows(table, mapping)


def import_file(
    store: Store,
    path: Path,
    *,
    mapping: ColumnMapping | None = None,
    header_row: int | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    check_cancel: CheckCancel | None = None,
    as_owner: bool = False,
) -> ImportOutcome:
    """Import a file into the desk's open event in one transaction (or only plan it).

    The import is made by whoever is signed in at this desk, or with ``as_owner`` by the data
    folder's owner (the command line).

    Raises ImportFileError for a file that cannot be imported at all. A plan with problems
    comes back with `result` None and `error` set, nothing written, unless `skip_invalid`.
    """
    # Paused to the end of the commit, which indexes the new rows for search.
    with gc_paused():
        return _import_file(
            store,
            path,
            mapping,
            header_row,
            dry_run,
            skip_invalid,
            progress,
            check_cancel,
            as_owner,
        )


def _import_file(
    store: Store,
    path: Path,
    mapping: ColumnMapping | None,
    header_row: int | None,
    dry_run: bool,
    skip_invalid: bool,
    progress: Progress | None,
    check_cancel: CheckCancel | None,
    as_owner: bool,
) -> ImportOutcome:
    table, mapping, parsed = read_and_parse(path, mapping=mapping, header_row=header_row)
    if dry_run:
        session = store.session_factory()
        try:
            event_id = desk.context(session).event_id
            plan = plan_import(parsed, existing_attendees(session, event_id))
        finally:
            session.rollback()
            session.close()
        error = refusal_message(plan) if plan.problems and not skip_invalid else None
        return ImportOutcome(table, mapping, plan, dry_run_result(plan), error)
    with store.begin() as session:
        ctx = desk.context(session)
        if as_owner:
            ctx = permissions.as_owner(ctx)
        if progress is not None:
            progress(0, 0, "Comparing with the attendees already registered")
        plan = plan_import(parsed, existing_attendees(session, ctx.event_id))
        if plan.problems and not skip_invalid:
            return ImportOutcome(table, mapping, plan, None, refusal_message(plan))
        result = apply_plan(
            session,
            ctx,
            plan,
            skip_invalid=skip_invalid,
            progress=progress,
            check_cancel=check_cancel,
        )
    return ImportOutcome(table, mapping, plan, result)


# --- reporting -------------------------------------------------------------------------------


def outcome_dict(
    table: Table,
    mapping: ColumnMapping,
    plan: ImportPlan,
    result: ImportResult | None,
    error: str | None = None,
) -> dict[str, Any]:
    """One JSON-ready document: the file, the mapping, counts, rows new/updated/refused."""
    document: dict[str, Any] = {
        "ok": error is None,
        "error": error,
        "file": table.name,
        "format": table.source_format,
        "source": mapping.source,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "sheet": table.sheet,
        "header_row": table.header_row,
        "rows": len(table.rows),
        "mapping": [
            {"column": c.index + 1, "heading": c.heading, "field": c.field, "reason": c.reason}
            for c in mapping.columns
        ],
        "dry_run": result.dry_run if result is not None else False,
        "written": result.written if result is not None else False,
        "counts": {
            "new": len(plan.new),
            "updated": len(plan.updates),
            "unchanged": len(plan.unchanged),
            "refused": len(refused_rows(plan)),
            "warnings": len(plan.warnings),
        },
    }
    document.update(plan.as_dict())
    # The id each new row got (None until written: a dry run, a refused plan).
    ids = dict(result.created) if result is not None and not result.dry_run else {}
    for entry in document["new"]:
        entry["attendee"] = ids.get(entry["row"])
    document["skipped_rows"] = result.skipped_rows if result is not None else []
    return document


def describe_changes(changes: Mapping[str, tuple[str, str]]) -> str:
    """Field changes as one line: "organisation 'A' → 'B'; email '' → 'x@y.org'"."""
    return "; ".join(f"{name} {old!r} → {new!r}" for name, (old, new) in changes.items())
