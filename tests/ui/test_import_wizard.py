"""The import wizard driven as a person would: clicks, keys, a file chosen, the store read back."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from desktop import desk, journal
from desktop.demo_data import synthetic_attendees
from desktop.models import Attendee, Operation
from desktop.store import Store
from desktop.ui import qt_import
from desktop.ui.qt_import import ImportWizard
from desktop.ui.qt_main_window import MainWindow
from desktop.ui.qt_worker import active_tasks, shutdown_tasks

WAIT_MS = 30_000

HEADINGS = ["Family name", "Given name", "Economy", "Institution", "Contact", "Post held"]
ROWS = [
    ["Nguyễn", "Văn An", "Viet Nam", "Ministry of Planning", "an@mpi.gov.vn", "Director"],
    ["Şahin", "Ayşe", "Türkiye", "KOSGEB", "ayse(at)kosgeb.gov.tr", "Expert"],
    ["Dela Cruz", "Juan", "PHILIPPINES", "DAP", "juan@dap.edu.ph", "=Fellow"],
    ["Byun", "Ha-eun", "Atlantis", "KPC", "haeun@kpc.or.kr", "Manager"],
    ["Santos", "Maria", "Philippines", "DBM", "maria@dbm.gov.ph", "Analyst"],
]


@pytest.fixture(autouse=True)
def no_leftover_tasks(qtbot: QtBot) -> Iterator[None]:
    """Every test ends with its workers finished and delivered."""
    yield
    assert shutdown_tasks(WAIT_MS)
    qtbot.waitUntil(lambda: not active_tasks(), timeout=WAIT_MS)


def write_csv(path: Path, rows: list[list[str]], headings: list[str] = HEADINGS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Participants — APO workshop"])  # a title above the headings
        writer.writerow([])
        writer.writerow(headings)
        writer.writerows(rows)
    return path


@pytest.fixture
def chosen(monkeypatch: pytest.MonkeyPatch) -> list[Path | None]:
    """Files the next "Choose a file…" clicks will pick (the file dialog replaced)."""
    queue: list[Path | None] = []

    def fake_choose(parent: QWidget, on_done: Callable[[Path | None], None]) -> None:
        on_done(queue.pop(0))

    monkeypatch.setattr(qt_import, "choose_file", fake_choose)
    return queue


def open_wizard(qtbot: QtBot, store: Store) -> ImportWizard:
    wizard = ImportWizard(store)
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    return wizard


def click(qtbot: QtBot, button: QWidget) -> None:
    assert button.isVisible() and button.isEnabled(), button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def choose(qtbot: QtBot, wizard: ImportWizard, chosen: list[Path | None], path: Path) -> None:
    chosen.append(path)
    click(qtbot, wizard.choose_button)


def attendees(store: Store) -> dict[str, Attendee]:
    with store.begin() as session:
        event_id = desk.current_event_id(session)
        rows = session.scalars(select(Attendee).where(Attendee.event_id == event_id)).all()
        session.expunge_all()
    return {row.email or f"{row.given_name} {row.family_name}": row for row in rows}


def test_choose_correct_check_skip_and_import(
    qtbot: QtBot, qtmodeltester, tmp_path: Path, demo_store: Store, chosen: list[Path | None]
) -> None:
    path = write_csv(tmp_path / "participants.csv", ROWS)
    wizard = open_wizard(qtbot, demo_store)
    assert wizard.current_page() == wizard.FILE
    choose(qtbot, wizard, chosen, path)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    assert "headings on row 3" in wizard.file_summary.text()
    assert "5 data rows" in wizard.file_summary.text()
    qtmodeltester.check(wizard.mapping_table.model())
    assert wizard.combo_for("Economy").currentText() == "Country or economy"
    contact = wizard.combo_for("Contact")
    assert contact.currentText() == "— not imported —"
    assert wizard.mapping_table.item(4, 2).text().startswith("an@mpi.gov.vn")

    # The person corrects two columns with the keyboard.
    contact.setFocus()
    qtbot.keyClicks(contact, "E-m")
    assert contact.currentData() == "email"
    post = wizard.combo_for("Post held")
    post.setFocus()
    qtbot.keyClicks(post, "Posi")
    assert post.currentData() == "position"
    assert wizard.mapping_table.item(5, 3).text() == "set by hand"

    # Taking away every name column stops the check, with a message saying why.
    family, given = wizard.combo_for("Family name"), wizard.combo_for("Given name")
    for combo in (family, given):
        combo.setFocus()
        qtbot.keyClick(combo, Qt.Key.Key_Home)
    assert not wizard.next_button.isEnabled()
    assert "No column gives names" in wizard.mapping_note.text()
    family.setFocus()
    qtbot.keyClicks(family, "Fam")
    given.setFocus()
    qtbot.keyClicks(given, "Giv")
    assert (family.currentData(), given.currentData()) == ("family_name", "given_name")

    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.CHECK, timeout=WAIT_MS)
    for model in (wizard.problems_model, wizard.changes_model, wizard.warnings_model):
        qtmodeltester.check(model)
    assert (wizard.new_count.text(), wizard.problem_count.text()) == ("3", "2")
    problems = [wizard.problems_model.row_texts(r) for r in range(wizard.problems_model.rowCount())]
    assert problems == [
        ("5", "E-mail", "e-mail 'ayse(at)kosgeb.gov.tr' is not a valid address"),
        ("7", "Country or economy", "country 'Atlantis' is not recognised"),
    ]
    assert wizard.tabs.currentIndex() == 0
    assert wizard.warnings_model.row_texts(0)[:2] == ("6", "Position")
    # Problems block the import until the person chooses to skip those rows.
    assert wizard.next_button.text() == "Import 3 attendees"
    assert not wizard.next_button.isEnabled()
    assert wizard.skip_box.text() == "Import the 3 valid rows and skip the 2 rows with problems"
    box = wizard.skip_box
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(10, box.height() // 2))
    assert box.isChecked() and wizard.next_button.isEnabled()

    with qtbot.waitSignal(wizard.imported, timeout=WAIT_MS) as imported:
        click(qtbot, wizard.next_button)
    result = imported.args[0]
    assert [row for row, _ in result.created] == [4, 6, 8]
    assert result.skipped_rows == [5, 7]
    assert wizard.current_page() == wizard.DONE
    assert wizard.done_text.text().startswith("3 new attendees, 0 updated, 0 unchanged, 2 rows")
    found = attendees(demo_store)
    assert len(found) == 133
    an = found["an@mpi.gov.vn"]
    assert (an.family_name, an.given_name, an.country, an.position) == (
        "Nguyễn",
        "Văn An",
        "VN",
        "Director",
    )
    assert (found["juan@dap.edu.ph"].position, found["juan@dap.edu.ph"].country) == (
        "=Fellow",
        "PH",
    )
    assert found["maria@dbm.gov.ph"].organisation == "DBM"
    assert "ayse(at)kosgeb.gov.tr" not in found and "haeun@kpc.or.kr" not in found


def test_updates_show_what_changes_and_a_second_import_changes_nothing(
    qtbot: QtBot, tmp_path: Path, demo_store: Store, chosen: list[Path | None]
) -> None:
    someone = next(p for p in attendees(demo_store).values() if p.email)
    rows = [[someone.family_name, someone.given_name, someone.country, "New Agency", someone.email]]
    rows.append(["Santos", "Maria", "Philippines", "DBM", "maria@dbm.gov.ph"])
    headings = ["Family name", "Given name", "Country", "Organisation", "E-mail"]
    path = write_csv(tmp_path / "changes.csv", rows, headings)
    wizard = open_wizard(qtbot, demo_store)
    choose(qtbot, wizard, chosen, path)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    qtbot.keyClick(wizard, Qt.Key.Key_Return)  # the default button: check every row
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.CHECK, timeout=WAIT_MS)
    assert (wizard.new_count.text(), wizard.update_count.text()) == ("1", "1")
    assert wizard.tabs.currentIndex() == 1 and wizard.tabs.tabText(1) == "Changes (1 attendee)"
    assert wizard.changes_model.rowCount() == 1
    assert wizard.changes_model.row_texts(0) == (
        "4",
        f"{someone.given_name} {someone.family_name}",
        "Organisation",
        someone.organisation,
        "New Agency",
    )
    assert wizard.check_message.text() == "Every row can be imported."
    with qtbot.waitSignal(wizard.imported, timeout=WAIT_MS):
        qtbot.keyClick(wizard, Qt.Key.Key_Return)
    assert attendees(demo_store)[someone.email].organisation == "New Agency"

    # "Import another file": the same file again finds nothing to do.
    chosen.append(path)
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.CHECK, timeout=WAIT_MS)
    assert wizard.unchanged_count.text() == "2" and wizard.new_count.text() == "0"
    assert wizard.check_message.text().startswith("Nothing to import")
    assert not wizard.next_button.isEnabled()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(64), "photo.csv: this is a PNG image"),
        ("empty.xlsx", b"", "empty.xlsx: the file is empty"),
        ("junk.csv", bytes(range(1, 256)) * 41_200, "junk.csv: not a CSV or XLSX file"),
        ("prices.csv", b"Item,Price\nTea,2\n", "prices.csv: no heading row with a name column"),
    ],
)
def test_a_bad_file_shows_its_message_and_the_wizard_stays_usable(
    qtbot: QtBot,
    tmp_path: Path,
    demo_store: Store,
    chosen: list[Path | None],
    name: str,
    content: bytes,
    message: str,
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    wizard = open_wizard(qtbot, demo_store)
    choose(qtbot, wizard, chosen, bad)
    qtbot.waitUntil(lambda: wizard.choose_button.isEnabled(), timeout=WAIT_MS)
    assert wizard.current_page() == wizard.FILE
    assert wizard.file_status.text().startswith(message)
    assert "Choose another file" in wizard.file_status.text()
    # Still usable: a good file goes through.
    choose(qtbot, wizard, chosen, write_csv(tmp_path / "good.csv", ROWS[:1]))
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    assert wizard.file_status.text() == ""


def test_a_file_where_every_row_is_refused_lists_each_row(
    qtbot: QtBot, tmp_path: Path, demo_store: Store, chosen: list[Path | None]
) -> None:
    rows = [
        [f"Family{i}", "Given", "Neverland", "Org", f"p{i}@example.net", ""] for i in range(1000)
    ]
    wizard = open_wizard(qtbot, demo_store)
    choose(qtbot, wizard, chosen, write_csv(tmp_path / "bad.csv", rows))
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.CHECK, timeout=WAIT_MS)
    assert wizard.problem_count.text() == "1,000"
    assert wizard.problems_model.rowCount() == 1000
    assert [wizard.problems_model.row_texts(r)[0] for r in range(1000)] == [
        str(n) for n in range(4, 1004)
    ]
    assert "none of the 1000 rows can be imported" in wizard.check_message.text()
    assert not wizard.skip_box.isVisible() and not wizard.next_button.isEnabled()
    click(qtbot, wizard.back_button)
    assert wizard.current_page() == wizard.COLUMNS


def test_an_indico_workbook_is_recognised_and_imported(
    qtbot: QtBot, tmp_path: Path, demo_store: Store, chosen: list[Path | None]
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["ID", "Name", "Title", "First Name", "Last Name", "Email Address"])
    sheet["G1"], sheet["H1"], sheet["I1"] = "Affiliation", "Country", "Registration state"
    sheet.append(
        [17, "Siti Aminah", "Ms", "Siti", "Aminah", "siti@lan.go.id", "LAN", "ID", "Complete"]
    )
    sheet.append([19, "Bo Zhang", "Mr", "Bo", "Zhang", "bo@example.cn", "X", "CN", "Withdrawn"])
    path = tmp_path / "indico.xlsx"
    workbook.save(path)
    wizard = open_wizard(qtbot, demo_store)
    choose(qtbot, wizard, chosen, path)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    assert "Indico registrant export" in wizard.file_summary.text()
    assert "Excel workbook" in wizard.file_summary.text()
    assert wizard.combo_for("Name").currentData() == "full_name"
    assert wizard.combo_for("ID").currentData() == "external_id"
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.CHECK, timeout=WAIT_MS)
    assert wizard.new_count.text() == "1"
    assert "registration is 'Withdrawn': skipped" in wizard.warnings_model.row_texts(0)[2]
    with qtbot.waitSignal(wizard.imported, timeout=WAIT_MS):
        click(qtbot, wizard.next_button)
    siti = attendees(demo_store)["siti@lan.go.id"]
    assert (siti.external_id, siti.honorific, siti.country) == ("indico:17", "Ms", "ID")


def test_cancelling_a_long_import_writes_nothing(
    qtbot: QtBot, tmp_path: Path, demo_store: Store, chosen: list[Path | None]
) -> None:
    rows = [
        [p["family_name"], p["given_name"], p["country"], p["organisation"], p["email"], ""]
        for p in synthetic_attendees(50_000, seed=4)
    ]
    wizard = open_wizard(qtbot, demo_store)
    choose(qtbot, wizard, chosen, write_csv(tmp_path / "big.csv", rows))
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    contact = wizard.combo_for("Contact")
    contact.setFocus()
    qtbot.keyClicks(contact, "E-m")
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.CHECK, timeout=WAIT_MS)
    assert wizard.new_count.text() == "50,000"
    with demo_store.begin() as session:
        operations = session.scalar(select(func.count()).select_from(Operation))
    click(qtbot, wizard.next_button)
    assert wizard.current_page() == wizard.IMPORTING
    assert not wizard.close_button.isEnabled()
    click(qtbot, wizard.cancel_import_button)
    assert wizard.cancel_import_button.text() == "Cancelling…"
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.DONE, timeout=WAIT_MS)
    assert wizard.done_title.text() == "Import cancelled"
    assert "Nothing was written" in wizard.done_text.text()
    assert len(attendees(demo_store)) == 130
    with demo_store.begin() as session:
        assert session.scalar(select(func.count()).select_from(Operation)) == operations
    # Back to the check, and the import can still be run.
    assert wizard.back_button.isVisible()
    click(qtbot, wizard.back_button)
    assert wizard.current_page() == wizard.CHECK


def test_escape_during_an_import_cancels_instead_of_closing(
    qtbot: QtBot, tmp_path: Path, demo_store: Store, chosen: list[Path | None]
) -> None:
    rows = [
        [p["family_name"], p["given_name"], p["country"], p["organisation"], p["email"], ""]
        for p in synthetic_attendees(20_000, seed=6)
    ]
    wizard = open_wizard(qtbot, demo_store)
    choose(qtbot, wizard, chosen, write_csv(tmp_path / "big.csv", rows))
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    contact = wizard.combo_for("Contact")
    contact.setFocus()
    qtbot.keyClicks(contact, "E-m")
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.CHECK, timeout=WAIT_MS)
    click(qtbot, wizard.next_button)
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert wizard.isVisible()
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.DONE, timeout=WAIT_MS)
    assert wizard.done_title.text() == "Import cancelled"
    assert len(attendees(demo_store)) == 130
    qtbot.keyClick(wizard, Qt.Key.Key_Escape)
    assert not wizard.isVisible()


def test_desk_staff_see_why_they_cannot_import(
    qtbot: QtBot, tmp_path: Path, demo_store: Store, chosen: list[Path | None]
) -> None:
    operator_id = str(uuid.uuid4())
    with demo_store.begin() as session:
        journal.record(
            session,
            desk.context(session),
            "operator.put",
            {"id": operator_id, "name": "Dana", "role": "desk", "active": True},
        )
        desk.set_setting(session, "operator_id", operator_id)
    wizard = open_wizard(qtbot, demo_store)
    choose(qtbot, wizard, chosen, write_csv(tmp_path / "list.csv", ROWS[:1]))
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.CHECK, timeout=WAIT_MS)
    assert wizard.check_message.text().startswith("Only an administrator may import")
    assert not wizard.next_button.isEnabled()


def test_the_main_window_opens_the_wizard_and_refreshes_after_an_import(
    qtbot: QtBot, tmp_path: Path, demo_store: Store, chosen: list[Path | None]
) -> None:
    settings = QSettings(str(demo_store.data_dir / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(demo_store, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.show_area("home")
    # File > Import participants… (Ctrl+I; the offscreen platform activates no window, so
    # the window shortcut cannot be pressed here).
    assert window.import_action.shortcut().toString() == "Ctrl+I"
    window.import_action.trigger()
    wizard = window.findChild(ImportWizard)
    assert wizard is not None and wizard.isVisible()
    choose(qtbot, wizard, chosen, write_csv(tmp_path / "list.csv", ROWS[:1]))
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.COLUMNS, timeout=WAIT_MS)
    click(qtbot, wizard.next_button)
    qtbot.waitUntil(lambda: wizard.current_page() == wizard.CHECK, timeout=WAIT_MS)
    with qtbot.waitSignal(wizard.imported, timeout=WAIT_MS):
        click(qtbot, wizard.next_button)
    assert window.pages.currentWidget().attendees.text() == "131"
    click(qtbot, wizard.close_button)
    qtbot.waitUntil(lambda: window.findChild(ImportWizard) is None, timeout=WAIT_MS)
    assert QApplication.activeModalWidget() is None
