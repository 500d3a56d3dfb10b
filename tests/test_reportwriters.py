"""Report files: XLSX and CSV read back, formula escaping, and never half a file."""

from __future__ import annotations

import contextlib
import csv
import errno
import os
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from desktop import desk, permissions, registry, reports, reportwriters
from desktop.reports.table import table as make_table
from desktop.reportwriters import ReportWriteError, header_row, write_csv, write_table, write_xlsx
from desktop.store import Store

FORMULA = '=HYPERLINK("http://example.invalid","click")'


def participants(store: Store) -> reports.Table:
    with store.begin() as session:
        return reports.build(session, permissions.as_owner(desk.context(session)), "participants")


def sample() -> reports.Table:
    return make_table(
        "sample",
        "Sample: formulas, times, shares",
        [("Text", "text"), ("Count", "int"), ("Share", "percent"), ("When", "datetime")],
        [
            (FORMULA, 1, 0.25, datetime(2024, 8, 28, 9, 5)),
            ("+63 5555 0101", 2, 0.5, None),
            ("@SUM(A1)", None, None, None),
            ("bell\x07 and tab\tstay", 3, 1.0, datetime(2024, 8, 29, 17, 0)),
            ("Total", 6, None, None),
        ],
        subtitle="An event · 28–29 August 2024",
        notes=("A note that explains the terms.",),
        total_rows=1,
    )


def test_xlsx_has_title_frozen_filtered_header_and_the_rows(demo: Store, tmp_path: Path) -> None:
    table = participants(demo)
    out = write_xlsx(table, tmp_path / "participants.xlsx")
    sheet = load_workbook(out).active
    top = header_row(table)
    assert sheet["A1"].value == "List of participants"
    assert sheet["A1"].font.b
    assert sheet["A2"].value.startswith("Conference on Open Innovation in the Public Sector")
    assert tuple(c.value for c in sheet[top]) == table.headers
    assert all(c.font.b for c in sheet[top])
    assert sheet.freeze_panes == f"A{top + 1}"
    assert sheet.auto_filter.ref == f"A{top}:G{top + len(table.rows)}"
    assert sheet.print_title_rows == f"${top}:${top}"
    read = [
        tuple(c.value for c in row)
        for row in sheet.iter_rows(min_row=top + 1, max_row=sheet.max_row)
    ]
    # Blank cells read back as None; the table keeps "" for a missing position.
    assert read == [tuple(v if v != "" else None for v in row) for row in table.rows]
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert widths["A"] < widths["C"] < widths["B"] <= 52
    names = [r[1] for r in read]
    assert max(len(n) for n in names) > widths["C"]  # the name column is the wide one


def test_xlsx_keeps_formula_text_as_text_with_formats(tmp_path: Path) -> None:
    table = sample()
    out = write_xlsx(table, tmp_path / "sample.xlsx")
    sheet = load_workbook(out).active
    top = header_row(table)
    first = sheet.cell(top + 1, 1)
    assert first.value == FORMULA and first.data_type == "s"  # text, never run
    assert sheet.cell(top + 3, 1).value == "@SUM(A1)"
    assert sheet.cell(top + 2, 1).value == "+63 5555 0101"
    assert sheet.cell(top + 4, 1).value == "bell and tab\tstay"  # XML cannot hold a bell
    share = sheet.cell(top + 1, 3)
    assert share.value == 0.25 and share.number_format == "0.0%"
    when = sheet.cell(top + 1, 4)
    assert when.value == datetime(2024, 8, 28, 9, 5) and when.number_format == "yyyy-mm-dd hh:mm"
    total = sheet.cell(top + 5, 1)
    assert total.value == "Total" and total.font.b
    # The filter covers the data, not the total row.
    assert sheet.auto_filter.ref == f"A{top}:D{top + 4}"
    assert sheet.title == "Sample formulas, times, shares"


def test_csv_is_utf8_with_escaped_formulas(tmp_path: Path) -> None:
    out = write_csv(sample(), tmp_path / "sample.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads the names right
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["Text", "Count", "Share", "When"]
    assert rows[1] == ["'" + FORMULA, "1", "25.0%", "2024-08-28 09:05"]
    assert rows[2][0] == "'+63 5555 0101"
    assert rows[3] == ["'@SUM(A1)", "", "", ""]
    assert rows[5] == ["Total", "6", "", ""]
    assert len(rows) == 6


def test_csv_of_the_participant_list_reads_back(demo: Store, tmp_path: Path) -> None:
    with demo.begin() as session:
        ctx = permissions.as_owner(desk.context(session))
        registry.register(
            session, ctx, {"given_name": "Eve", "family_name": "Sheet", "organisation": FORMULA}
        )
    table = participants(demo)
    out = write_table(table, tmp_path / "participants.CSV")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(table.headers)
    assert len(rows) - 1 == len(table.rows) == 131
    assert [r[0] for r in rows[1:]] == [str(n) for n in range(1, 132)]
    eve = next(r for r in rows if "SHEET" in r[1])
    assert eve[3] == "'" + FORMULA
    assert any("Ü" in r[1] or "Ñ" in r[1] for r in rows)  # diacritics survive


# --- bad destinations: a clear message and no file ---------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ReportWriteError, match=r"folder .*missing does not exist"):
        write_table(sample(), tmp_path / "missing" / "r.xlsx")
    assert not (tmp_path / "missing").exists()


def test_a_folder_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("I am a file")
    for target in (blocker / "r.csv", blocker / "deeper" / "r.xlsx"):
        with pytest.raises(ReportWriteError, match=r"notes.txt is a file, not a folder"):
            write_table(sample(), target)
    assert blocker.read_text() == "I am a file"
    assert leftovers(tmp_path) == ["notes.txt"]


def test_the_name_must_say_the_format(tmp_path: Path) -> None:
    with pytest.raises(ReportWriteError, match=r"must end in \.xlsx or \.csv"):
        write_table(sample(), tmp_path / "r.ods")
    (tmp_path / "folder.xlsx").mkdir()
    with pytest.raises(ReportWriteError, match="is a folder"):
        write_table(sample(), tmp_path / "folder.xlsx")
    assert leftovers(tmp_path) == ["folder.xlsx"]


@contextlib.contextmanager
def read_only_mount(where: Path) -> Iterator[Path]:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a read-only tmpfs needs root")
def test_a_read_only_folder(tmp_path: Path) -> None:
    with read_only_mount(tmp_path / "ro") as folder:
        for name in ("r.xlsx", "r.csv"):
            with pytest.raises(ReportWriteError, match="read-only disk: choose another folder"):
                write_table(sample(), folder / name)
        assert leftovers(folder) == []


def test_a_failure_midway_leaves_the_old_file_and_no_scraps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.xlsx"
    write_xlsx(sample(), target)
    before = target.read_bytes()

    def disk_full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ReportWriteError, match=r"disk holding .* is full"):
        write_xlsx(sample(), target)
    with pytest.raises(ReportWriteError, match="is full"):
        write_csv(sample(), tmp_path / "new.csv")
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == ["r.xlsx"]


def test_a_bug_while_writing_leaves_nothing(tmp_path: Path) -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("cannot be shown")

    bad = make_table("bad", "Bad", [("A", "text")], [("fine",), (Broken(),)])  # type: ignore[list-item]
    with pytest.raises(RuntimeError):
        write_csv(bad, tmp_path / "bad.csv")
    with pytest.raises(RuntimeError):
        write_xlsx(bad, tmp_path / "bad.xlsx")
    assert leftovers(tmp_path) == []


def test_the_file_is_readable_by_others(tmp_path: Path) -> None:
    out = write_csv(sample(), tmp_path / "r.csv")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert reportwriters.sheet_name("Budget: Q1/Q2 [draft]") == "Budget Q1 Q2 draft"
    assert len(reportwriters.sheet_name("x" * 80)) == 31
