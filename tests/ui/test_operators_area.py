"""The operators area: an administrator adds desk staff, who can then sign in."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop import desk, operators
from desktop.store import Store
from desktop.ui.qt_main_window import MainWindow
from desktop.ui.qt_operators import OperatorsPage
from desktop.ui.qt_signin import DeskGuard


def _sign_in(guard: DeskGuard, qtbot: QtBot, pin: str) -> None:
    field = guard.lock_screen.pad.field
    qtbot.keyClicks(field, pin)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def test_an_administrator_adds_an_operator_who_then_signs_in(
    qtbot: QtBot, qtmodeltester: object, demo_store: Store
) -> None:
    settings = QSettings(str(demo_store.data_dir / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(demo_store, settings)
    qtbot.addWidget(window)
    guard = DeskGuard(window, demo_store, settings)
    window.show()
    qtbot.waitExposed(window)

    _sign_in(guard, qtbot, "2222")  # a supervisor sees neither operators nor import
    assert window.navigation.item(window.area_keys().index("operators")).isHidden()
    assert not window.import_action.isVisible()
    guard.lock()
    _sign_in(guard, qtbot, "9999")
    assert not window.navigation.item(window.area_keys().index("operators")).isHidden()
    assert window.import_action.isVisible()

    window.show_area("operators")
    page = window.pages.currentWidget()
    assert isinstance(page, OperatorsPage)
    assert page.model.rowCount() == 3
    qtmodeltester.check(page.model)  # type: ignore[attr-defined]
    qtbot.keyClicks(page.name, "Joy Bautista")
    qtbot.keyClicks(page.secret, "5678")
    qtbot.keyClicks(page.again, "5679")
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert "differ" in page.message.text()
    page.again.clear()
    qtbot.keyClicks(page.again, "5678")
    with qtbot.waitSignal(page.changed, timeout=10000):
        qtbot.keyClick(page.again, Qt.Key.Key_Return)
    assert "Joy Bautista may now sign in as desk staff" in page.message.text()
    assert page.model.rowCount() == 4
    qtmodeltester.check(page.model)  # type: ignore[attr-defined]

    # A PIN already taken is refused with words.
    qtbot.keyClicks(page.name, "Copy Cat")
    qtbot.keyClicks(page.secret, "5678")
    qtbot.keyClicks(page.again, "5678")
    with qtbot.waitSignal(page.changed, timeout=10000):
        qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert "already uses this PIN" in page.message.text()

    guard.lock()  # Ctrl+L itself is driven in test_signin
    _sign_in(guard, qtbot, "5678")
    assert guard.operator is not None and guard.operator.name == "Joy Bautista"
    assert "Joy Bautista" in window.status_operator.text()

    # Back as administrator: stop Joy signing in.
    guard.lock()
    _sign_in(guard, qtbot, "9999")
    window.show_area("operators")
    row = next(r for r in range(4) if page.model.operator_at(r).name == "Joy Bautista")
    page.table.selectionModel().select(
        page.model.index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert page.toggle_button.isEnabled()
    with qtbot.waitSignal(page.changed, timeout=10000):
        qtbot.mouseClick(page.toggle_button, Qt.MouseButton.LeftButton)
    assert "may no longer sign in" in page.message.text()
    with demo_store.begin() as session:
        event_id = desk.current_event_id(session) or ""
        joy = operators.get_operator(session, event_id, "Joy Bautista")
        assert joy is not None and not joy.active
    assert QApplication.instance() is not None
