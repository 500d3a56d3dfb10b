"""``eventdesk report`` as a script uses it: real processes, files read back."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest
from conftest_cli_helpers import run
from openpyxl import load_workbook

from desktop import clock, desk, journal
from desktop.demo import demo_attendee_id, demo_session_id
from desktop.demo_data import demo_attendees
from desktop.store import open_store

MANILA = ZoneInfo("Asia/Manila")
ARRIVED = range(0, 90)
OPENING = range(0, 40)


def venue(hour: int, minute: int) -> str:
    return clock.to_naive_utc(datetime(2024, 8, 28, hour, minute), MANILA).isoformat()


@pytest.fixture
def scanned(data: Path) -> Path:
    store = open_store(data)
    try:
        with store.begin() as session:
            ctx = desk.context(session)
            for i in ARRIVED:
                journal.record(
                    session, ctx, "scan",
                    {"attendee_id": demo_attendee_id(i), "session_id": None, "decision": "ok",
                     "direction": "entry", "at": venue(8, i % 50)},
                )  # fmt: skip
            for i in OPENING:
                journal.record(
                    session, ctx, "scan",
                    {"attendee_id": demo_attendee_id(i), "session_id": demo_session_id("opening"),
                     "decision": "ok", "direction": "entry", "at": venue(9, 1)},
                )  # fmt: skip
    finally:
        store.close()
    return data


def test_list_names_every_report(data: Path) -> None:
    plain = run(data, "report", "--list")
    assert plain.returncode == 0, plain.stderr
    for name in ("participants", "attendance-matrix", "no-shows", "late-arrivals",
                 "duplicates", "badge-log", "reprints", "certificates", "summary"):  # fmt: skip
        assert name in plain.stdout
    listed = json.loads(run(data, "report", "--list", "--json").stdout)
    assert len(listed) == 9
    summary = next(item for item in listed if item["name"] == "summary")
    assert summary["formats"] == ["xlsx", "csv", "pdf"] and summary["personal_data"] is False


def test_matrix_xlsx_no_shows_csv_and_summary_pdf(scanned: Path, tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.xlsx"
    done = run(scanned, "report", "attendance-matrix", "--out", str(matrix), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "report": "attendance-matrix",
        "path": str(matrix),
        "rows": len(demo_attendees()),
        "title": "Attendance by session",
    }
    sheet = load_workbook(matrix).active
    values = list(sheet.iter_rows(values_only=True))
    header = next(n for n, row in enumerate(values) if row[0] == "No.")
    opening = values[header].index(next(h for h in values[header] if str(h).startswith("Open")))
    total = values[-1]
    assert total[1] == "Total" and total[opening] == len(OPENING) and total[-1] == len(OPENING)
    assert sum(1 for row in values[header + 1 : -1] if row[opening] == 1) == len(OPENING)

    no_shows = tmp_path / "no-shows.csv"
    done = run(scanned, "report", "no-shows", "--out", str(no_shows))
    assert done.returncode == 0, done.stderr
    missing = len(demo_attendees()) - len(ARRIVED)
    assert f"No-shows: {missing} rows written to {no_shows}" in done.stdout
    with no_shows.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert len(rows) == missing + 1
    expected = {demo_attendees()[i]["email"] for i in range(len(ARRIVED), len(demo_attendees()))}
    assert {r[5] for r in rows[1:]} == expected

    pdf = tmp_path / "summary.pdf"
    done = run(scanned, "report", "summary", "--out", str(pdf))
    assert done.returncode == 0, done.stderr
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 1
    assert f"{len(ARRIVED)} arrived" in " ".join(reader.pages[0].extract_text().split())


def test_late_arrivals_with_a_grace_of_ten_minutes(scanned: Path, tmp_path: Path) -> None:
    out = tmp_path / "late.csv"
    done = run(scanned, "report", "late-arrivals", "--out", str(out), "--grace", "10")
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    # Everyone arrived 08:00-08:49, before the 09:00 opening: nobody is late.
    assert len(rows) == 1 and rows[0][0] == "Day"


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["report", "partcipants", "--out", "{tmp}/p.xlsx"], "did you mean participants", 1),
        (["report", "participants"], "--out FILE", 2),
        (["report", "--out", "{tmp}/p.xlsx"], "name a report", 2),
        (["report", "participants", "--out", "{tmp}/nowhere/p.xlsx"], "does not exist", 1),
        (["report", "participants", "--out", "{tmp}/file/p.xlsx"], "is a file, not a folder", 1),
        (["report", "no-shows", "--out", "{tmp}/n.pdf"], "only the summary comes as a PDF", 1),
        (["report", "participants", "--out", "{tmp}/p.ods"], r"must end in .xlsx or .csv", 1),
        (["report", "no-shows", "--out", "{tmp}/n.xlsx"], "no one has been admitted yet", 1),
        (["report", "late-arrivals", "--out", "{tmp}/l.csv", "--grace", "-5"], "--grace", 2),
    ],
)
def test_mistakes_get_one_line_and_leave_no_file(
    data: Path, tmp_path: Path, args: list[str], message: str, code: int
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "file").write_text("x")
    done = run(data, *[a.replace("{tmp}", str(out)) for a in args])
    assert done.returncode == code
    assert message in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["file"]


def test_no_data_folder_yet(tmp_path: Path) -> None:
    done = run(tmp_path / "empty", "report", "summary", "--out", str(tmp_path / "s.pdf"))
    assert done.returncode == 1
    assert "no EventDesk database" in done.stderr and "eventdesk demo" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []
