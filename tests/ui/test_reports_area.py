"""The reports area: choose, type a path, generate in a worker, read the file back."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop import clock, desk, journal
from desktop.demo import demo_attendee_id, demo_session_id
from desktop.demo_data import demo_attendees
from desktop.operators import demo_operator_id
from desktop.store import Store
from desktop.ui import qt_reports
from desktop.ui.qt_reports import ReportOutcome, ReportsPage
from desktop.ui.qt_worker import active_tasks

MANILA = ZoneInfo("Asia/Manila")
PEOPLE = demo_attendees()
ARRIVED = range(10, 120)
OPENING = range(10, 60)


def venue(hour: int, minute: int) -> str:
    return clock.to_naive_utc(datetime(2024, 8, 28, hour, minute), MANILA).isoformat()


@pytest.fixture
def scanned(demo: Store) -> Store:
    with demo.begin() as session:
        ctx = desk.context(session)
        for i in ARRIVED:
            journal.record(
                session, ctx, "scan",
                {"attendee_id": demo_attendee_id(i), "session_id": None, "decision": "ok",
                 "direction": "entry", "at": venue(8, i % 60)},
            )  # fmt: skip
        for i in OPENING:
            journal.record(
                session, ctx, "scan",
                {"attendee_id": demo_attendee_id(i), "session_id": demo_session_id("opening"),
                 "decision": "ok", "direction": "entry", "at": venue(9, 2)},
            )  # fmt: skip
    return demo


def open_page(qtbot: QtBot, store: Store) -> ReportsPage:
    widget = ReportsPage(store)
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def page(qtbot: QtBot, scanned: Store) -> Iterator[ReportsPage]:
    yield open_page(qtbot, scanned)
    qtbot.waitUntil(lambda: not active_tasks(), timeout=20_000)


def type_path(qtbot: QtBot, page: ReportsPage, path: Path) -> None:
    page.path_edit.clear()
    qtbot.keyClicks(page.path_edit, str(path))


def test_no_shows_to_csv_typed_and_entered(
    qtbot: QtBot, qtmodeltester, page: ReportsPage, tmp_path: Path
) -> None:
    page.select_report("no-shows")
    page.format_combo.setCurrentIndex(page.format_combo.findData(".csv"))
    assert page.path_edit.text().endswith(".csv")
    out = tmp_path / "no-shows.csv"
    type_path(qtbot, page, out)
    with qtbot.waitSignal(page.report_written, timeout=20_000) as done:
        qtbot.keyClick(page.path_edit, Qt.Key.Key_Return)
    outcome: ReportOutcome = done.args[0]
    missing = len(PEOPLE) - len(ARRIVED)
    assert outcome.path == out and outcome.rows == missing
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    expected = {p["email"] for i, p in enumerate(PEOPLE) if i not in ARRIVED}
    assert {r[5] for r in rows[1:]} == expected
    assert f"{missing} rows saved to {out}" in page.status.text()
    qtmodeltester.check(page.preview_model)
    assert page.preview_model.rowCount() == missing
    assert page.preview_model.headerData(5, Qt.Orientation.Horizontal) == "E-mail"
    assert page.open_button.isEnabled()


def test_matrix_to_xlsx_with_the_generate_button(
    qtbot: QtBot, page: ReportsPage, tmp_path: Path
) -> None:
    page.select_report("attendance-matrix")
    assert page.format_combo.count() == 2  # no PDF for a table of names
    out = tmp_path / "matrix.xlsx"
    type_path(qtbot, page, out)
    with qtbot.waitSignal(page.report_written, timeout=20_000):
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    sheet = load_workbook(out).active
    values = list(sheet.iter_rows(values_only=True))
    header = next(n for n, row in enumerate(values) if row[0] == "No.")
    column = next(n for n, h in enumerate(values[header]) if str(h).startswith("Opening"))
    assert values[-1][1] == "Total" and values[-1][column] == len(OPENING)
    assert page.preview_model.rowCount() == len(PEOPLE) + 1  # the totals row too


def test_summary_as_the_one_page_pdf(qtbot: QtBot, page: ReportsPage, tmp_path: Path) -> None:
    page.select_report("summary")
    pdf = page.format_combo.findData(".pdf")
    assert pdf >= 0
    out = tmp_path / "summary.xlsx"
    type_path(qtbot, page, out)
    page.format_combo.setCurrentIndex(pdf)
    assert page.path_edit.text() == str(tmp_path / "summary.pdf")
    with qtbot.waitSignal(page.report_written, timeout=20_000):
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    reader = pypdf.PdfReader(tmp_path / "summary.pdf")
    assert len(reader.pages) == 1
    assert f"{len(ARRIVED)} arrived" in " ".join(reader.pages[0].extract_text().split())
    assert page.preview_model.rowCount() == 0


def test_late_arrivals_shows_the_grace(qtbot: QtBot, page: ReportsPage) -> None:
    page.select_report("late-arrivals")
    assert page.grace_spin.isVisible() and page.grace_spin.value() == 15
    page.select_report("participants")
    assert not page.grace_spin.isVisible()


def test_a_folder_that_does_not_exist(qtbot: QtBot, page: ReportsPage, tmp_path: Path) -> None:
    page.select_report("participants")
    type_path(qtbot, page, tmp_path / "missing" / "p.xlsx")
    with qtbot.waitSignal(page.report_failed, timeout=5000) as failed:
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    assert "does not exist" in failed.args[0]
    assert "does not exist" in page.status.text()
    assert not (tmp_path / "missing").exists()


def test_a_file_in_the_way_of_the_folder(qtbot: QtBot, page: ReportsPage, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    type_path(qtbot, page, tmp_path / "plain" / "p.csv")
    with qtbot.waitSignal(page.report_failed, timeout=5000) as failed:
        page.generate()
    assert "is a file, not a folder" in failed.args[0]


def test_no_scans_yet_is_said_and_leaves_no_file(qtbot: QtBot, demo: Store, tmp_path: Path) -> None:
    widget = open_page(qtbot, demo)
    widget.select_report("no-shows")
    type_path(qtbot, widget, tmp_path / "n.xlsx")
    with qtbot.waitSignal(widget.report_failed, timeout=20_000) as failed:
        widget.generate()
    assert failed.args[0].startswith("No one has been admitted yet")
    assert not (tmp_path / "n.xlsx").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]
    qtbot.waitUntil(lambda: not active_tasks(), timeout=20_000)


def test_desk_staff_may_make_only_the_summary(qtbot: QtBot, scanned: Store) -> None:
    with scanned.begin() as session:
        desk.set_setting(session, "operator_id", demo_operator_id("desk"))
    widget = open_page(qtbot, scanned)
    enabled = {
        widget.list.item(n).data(Qt.ItemDataRole.UserRole)
        for n in range(widget.list.count())
        if widget.list.item(n).flags() & Qt.ItemFlag.ItemIsEnabled
    }
    assert enabled == {"summary"}
    assert widget.current_spec() is not None and widget.current_spec().name == "summary"
    assert "only an administrator may export personal data" in widget.list.item(0).toolTip()


def test_choose_and_open_folder(
    qtbot: QtBot, page: ReportsPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Path] = []
    monkeypatch.setattr(qt_reports, "choose_path", lambda _w, _start, _suffix: tmp_path / "mine")
    monkeypatch.setattr(qt_reports, "open_folder", opened.append)
    page.select_report("participants")
    qtbot.mouseClick(page.choose_button, Qt.MouseButton.LeftButton)
    assert page.path_edit.text() == str(tmp_path / "mine.xlsx")
    with qtbot.waitSignal(page.report_written, timeout=20_000):
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert opened == [tmp_path]
    assert (tmp_path / "mine.xlsx").stat().st_size > 0
