"""The sessions area: programme by day with live counts, attendance, supervisor changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

import pytest
from conftest_demo_helpers import venue
from conftest_store_helpers import write_lock_held
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop import attendance, badgetokens, checkin, clock, desk, registry
from desktop.checkin import DeskMode
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id, demo_session_id
from desktop.store import Store
from desktop.ui import qt_sessions
from desktop.ui.qt_sessions import AddAttendanceDialog, SessionsPage
from desktop.ui.qt_worker import active_tasks

MANILA = ZoneInfo("Asia/Manila")


@pytest.fixture
def demo(demo: Store) -> Store:
    """The shared demo store (conftest), set up for this module."""
    with demo.begin() as session:
        clock.set_as_if(session, venue(28, 9, 5))
    return demo


def admit(store: Store, index: int, session_key: str, hour: int = 9, minute: int = 5) -> None:
    with store.begin() as session:
        badge = badgetokens.token_for(
            session, store.data_dir, DEMO_EVENT_ID, demo_attendee_id(index)
        )
        result = checkin.scan(
            session,
            desk.context(session),
            badge,
            DeskMode("session", demo_session_id(session_key)),
            at=venue(28, hour, minute),
        )
    assert result.admitted


@pytest.fixture
def page(qtbot: QtBot, demo: Store) -> Iterator[SessionsPage]:
    for index in (1, 2, 3):
        admit(demo, index, "opening")
    widget = SessionsPage(demo)
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    qtbot.waitExposed(widget)
    # Loaded once shown (not when built): the programme is read on the next turn of the loop.
    qtbot.waitUntil(lambda: widget.model.rowCount() > 0)
    yield widget
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)


def test_programme_of_the_day_with_counts(qtbot: QtBot, qtmodeltester, page: SessionsPage) -> None:
    # The desk runs as if on 28 August: that day is shown first.
    assert page.day_combo.currentText() == "Wednesday 28 August"
    assert page.model.rowCount() == 7
    qtmodeltester.check(page.model)
    row = page.model.row_of(demo_session_id("opening"))
    assert page.model.data(page.model.index(row, 1)) == "Opening Session"
    # The counts read every scan of the event: they come from a worker.
    qtbot.waitUntil(lambda: page.model.data(page.model.index(row, 3)) == "3")  # arrived
    assert page.model.data(page.model.index(row, 4)) == "150"  # seats
    assert page.model.data(page.model.index(row, 5)) == "3"  # inside now
    page.day_combo.setCurrentIndex(page.day_combo.findData(qt_sessions.ALL_DAYS))
    page.day_combo.activated.emit(page.day_combo.currentIndex())
    assert page.model.rowCount() == 12


def test_attendance_list_and_live_counts(
    qtbot: QtBot, qtmodeltester, page: SessionsPage, demo: Store
) -> None:
    page.table.selectRow(page.model.row_of(demo_session_id("opening")))
    qtbot.waitUntil(lambda: page.attendance_model.rowCount() == 3)
    qtmodeltester.check(page.attendance_model)
    names = {page.attendance_model.line_at(r).person.id for r in range(3)}  # type: ignore[union-attr]
    assert names == {demo_attendee_id(i) for i in (1, 2, 3)}
    assert page.attendance_model.data(page.attendance_model.index(0, 4)) == "09:05"
    assert page.attendance_model.data(page.attendance_model.index(0, 6)) == "Inside"
    assert "3 attended, 3 inside now" in page.attendance_title.text()
    # Someone scanned at another door meanwhile: the live refresh picks it up.
    admit(demo, 4, "opening", minute=20)
    row = page.model.row_of(demo_session_id("opening"))
    page.refresh_counts()
    qtbot.waitUntil(lambda: page.model.data(page.model.index(row, 3)) == "4")
    assert page.table.currentIndex().row() == row  # the selection survived


def test_lists_load_while_another_transaction_writes(
    qtbot: QtBot, page: SessionsPage, demo: Store
) -> None:
    # An import or a pulled sync batch holds the write lock for seconds at a large event;
    # the area reads its snapshot meanwhile instead of waiting (or failing after 5 s).
    opening, session_1 = demo_session_id("opening"), demo_session_id("session-1")
    qtbot.waitUntil(lambda: page.attendance_model.rowCount() > 0 or page.model.rowCount() > 0)
    with write_lock_held(demo):
        page.refresh()  # reads on the GUI thread: with the lock awaited, it would raise
        # Chosen one after the other: the list shown is the last one chosen.
        page.table.selectRow(page.model.row_of(session_1))
        page.table.selectRow(page.model.row_of(opening))
        qtbot.waitUntil(lambda: page.attendance_model.rowCount() == 3, timeout=10_000)
        assert "Opening Session: 3 attended" in page.attendance_title.text()
        row = page.model.row_of(opening)
        qtbot.waitUntil(lambda: page.model.data(page.model.index(row, 3)) == "3", timeout=10_000)


def test_a_list_that_cannot_be_read_says_so(
    qtbot: QtBot, page: SessionsPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(store: Store, event_id: str, session_id: str) -> None:
        raise OSError("disk I/O error")

    monkeypatch.setattr(qt_sessions, "load_attendance", broken)
    page.table.selectRow(page.model.row_of(demo_session_id("session-1")))
    qtbot.waitUntil(lambda: "could not be read" in page.attendance_title.text())
    assert "disk I/O error" in page.attendance_title.text()
    assert not page.remove_button.isEnabled()


def test_supervisor_adds_and_removes_attendance(
    qtbot: QtBot, page: SessionsPage, demo: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_1 = demo_session_id("session-1")
    page.table.selectRow(page.model.row_of(session_1))
    qtbot.waitUntil(lambda: "0 attended" in page.attendance_title.text())
    assert page.attendance_model.rowCount() == 0
    assert not page.remove_button.isEnabled()

    def fake_add(
        parent: QWidget,
        store: Store,
        event_id: str,
        title: str,
        on_done: Callable[[tuple[str, str] | None], None],
    ) -> None:
        assert title.startswith("Session 1")
        on_done((demo_attendee_id(7), "signed the paper sheet"))

    monkeypatch.setattr(qt_sessions, "open_add_attendance", fake_add)
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.attendance_model.rowCount() == 1)
    line = page.attendance_model.line_at(0)
    assert line.row.forced and line.row.reasons == ("signed the paper sheet",)
    note = page.attendance_model.data(page.attendance_model.index(0, 7))
    assert note == "Added: signed the paper sheet"

    def fake_reason(
        parent: QWidget, title: str, prompt: str, on_done: Callable[[str | None], None]
    ) -> None:
        on_done("added to the wrong session")

    monkeypatch.setattr(qt_sessions, "ask_reason", fake_reason)
    page.attendance_view.selectRow(0)
    qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.attendance_model.rowCount() == 0)
    with demo.begin() as session:
        assert demo_attendee_id(7) not in attendance.sessions_attended(session, DEMO_EVENT_ID)


def test_add_attendance_dialog_needs_a_person_and_a_reason(qtbot: QtBot, demo: Store) -> None:
    owner = QWidget()
    qtbot.addWidget(owner)
    dialog = AddAttendanceDialog(owner, demo, DEMO_EVENT_ID, "Opening Session")
    dialog.show()
    with demo.begin() as session:
        person = registry.get(session, DEMO_EVENT_ID, demo_attendee_id(12))
    assert person is not None
    qtbot.keyClicks(dialog.search, person.family_name)
    assert dialog.results.count() >= 1
    assert dialog.chosen() is None  # no reason yet
    dialog._on_buttons_accepted()
    assert dialog.isVisible()
    qtbot.keyClicks(dialog.reason, "came in through the back door")
    for row in range(dialog.results.count()):
        if dialog.results.item(row).data(Qt.ItemDataRole.UserRole) == person.id:
            dialog.results.setCurrentRow(row)
    assert dialog.chosen() == (person.id, "came in through the back door")
    with qtbot.waitSignal(dialog.accepted):
        dialog._on_buttons_accepted()
