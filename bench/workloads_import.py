"""Import workloads: a 50,000-row CSV and XLSX imported end to end into a fresh event.

The files are written in the setup (not timed) from the synthetic attendees. Baselines,
measured in the same run: the csv module reading the file plus bare sqlite3 executemany of
the same rows into one table; openpyxl in read-only mode reading the workbook.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import openpyxl
from eventdesk_bench.metrics import Metric
from eventdesk_bench.synthetic import SYNTHETIC_EVENT, SyntheticEvent

from desktop import desk, events
from desktop.demo_data import synthetic_attendees
from desktop.registry_import import import_file
from desktop.store import open_store

FULL_ROWS = 50_000
HEADINGS = [
    "Honorific",
    "Given name",
    "Family name",
    "Name on badge",
    "Native name",
    "Gender",
    "Country",
    "Organisation",
    "Position",
    "Category",
    "E-mail",
    "Phone",
]
FIELDS = [
    "honorific",
    "given_name",
    "family_name",
    "badge_name",
    "native_name",
    "gender",
    "country",
    "organisation",
    "position",
    "category",
    "email",
    "phone",
]


def _rows(count: int) -> list[list[str]]:
    return [[person[f] for f in FIELDS] for person in synthetic_attendees(count, seed=21)]


def _write_files(folder: Path, rows: list[list[str]]) -> tuple[Path, Path]:
    csv_path = folder / "participants.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADINGS)
        writer.writerows(rows)
    xlsx_path = folder / "participants.xlsx"
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Participants")
    sheet.append(HEADINGS)
    for row in rows:
        sheet.append(row)
    workbook.save(xlsx_path)
    return csv_path, xlsx_path


def _import_into_fresh_event(folder: Path, path: Path) -> tuple[float, float, int]:
    """Seconds for the whole import, seconds inside its transaction, rows created."""
    store = open_store(folder)
    try:
        with store.begin() as session:
            desk_id = desk.desk_id(session)
            event_id = events.create_event(session, desk_id, folder, dict(SYNTHETIC_EVENT))
            desk.open_event(session, event_id)
        marks: list[float] = []

        def progress(done: int, total: int, message: str) -> None:
            marks.append(time.perf_counter())

        start = time.perf_counter()
        outcome = import_file(store, path, progress=progress)
        seconds = time.perf_counter() - start
    finally:
        store.close()
    if outcome.result is None:
        raise RuntimeError(f"the benchmark file was refused: {outcome.error}")
    # From the first progress report on, the import is inside its one transaction: planning
    # against the stored attendees, writing, committing.
    in_transaction = seconds - (marks[0] - start) if marks else seconds
    return seconds, in_transaction, len(outcome.result.created)


def _bare_csv(folder: Path, path: Path) -> float:
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    db = sqlite3.connect(folder / "bare.sqlite3")
    db.execute(f"CREATE TABLE people ({', '.join(f'{f} TEXT' for f in FIELDS)})")
    with db:
        db.executemany(f"INSERT INTO people VALUES ({', '.join('?' for _ in FIELDS)})", rows)
    db.close()
    return time.perf_counter() - start


def _bare_xlsx(path: Path) -> float:
    start = time.perf_counter()
    workbook = openpyxl.load_workbook(path, read_only=True)
    count = sum(1 for _ in workbook.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    workbook.close()
    assert count > 1
    return time.perf_counter() - start


def import_files(event: SyntheticEvent) -> list[Metric]:
    """A 50,000-row CSV and XLSX (5,000 with --quick) imported into a fresh event each."""
    count = FULL_ROWS if event.size >= 100_000 else event.size // 2
    root = Path(tempfile.mkdtemp(prefix="eventdesk-bench-import-"))
    try:
        csv_path, xlsx_path = _write_files(root, _rows(count))
        csv_seconds, csv_transaction, created = _import_into_fresh_event(root / "csv", csv_path)
        assert created == count, created
        xlsx_seconds, xlsx_transaction, created = _import_into_fresh_event(root / "xlsx", xlsx_path)
        assert created == count, created
        bare_csv = _bare_csv(root, csv_path)
        bare_xlsx = _bare_xlsx(xlsx_path)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return [
        Metric(f"import_csv_{count}_rows", csv_seconds, "s", baseline=bare_csv, target="< 3 s"),
        Metric(f"import_csv_{count}_rows_transaction", csv_transaction, "s"),
        Metric(f"import_xlsx_{count}_rows", xlsx_seconds, "s", baseline=bare_xlsx, target="< 15 s"),
        Metric(f"import_xlsx_{count}_rows_transaction", xlsx_transaction, "s"),
    ]
