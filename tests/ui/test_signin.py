"""Signing in, switching operator and locking the desk, with real key presses and clicks."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from desktop import desk, events, operators
from desktop.demo import demo_attendee_id
from desktop.models import Attendee
from desktop.store import Store
from desktop.ui.qt_main_window import MainWindow
from desktop.ui.qt_signin import DeskGuard


def _settings(store: Store) -> QSettings:
    return QSettings(str(store.data_dir / "settings.ini"), QSettings.Format.IniFormat)


def _window(qtbot: QtBot, store: Store, **kwargs: float) -> tuple[MainWindow, DeskGuard]:
    window = MainWindow(store, _settings(store))
    qtbot.addWidget(window)
    guard = DeskGuard(window, store, _settings(store), **kwargs)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()  # shortcuts such as Ctrl+L go to the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window, guard


def _type_pin(qtbot: QtBot, guard: DeskGuard, pin: str) -> None:
    field = guard.lock_screen.pad.field
    qtbot.keyClicks(field, pin)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def _visible_areas(window: MainWindow) -> list[str]:
    nav = window.navigation
    return [
        str(nav.item(r).data(Qt.ItemDataRole.UserRole))
        for r in range(nav.count())
        if not nav.item(r).isHidden()
    ]


def test_the_desk_opens_locked_and_hides_everyone(qtbot: QtBot, demo_store: Store) -> None:
    window, guard = _window(qtbot, demo_store)
    assert guard.is_locked
    assert guard.lock_screen.geometry() == window.rect()
    assert not window.centralWidget().isEnabled()
    assert "not signed in" in window.status_operator.text()
    with demo_store.begin() as session:
        person = session.get(Attendee, demo_attendee_id(0))
        assert person is not None
        name = person.family_name or person.given_name
    shown = " ".join(label.text() for label in guard.lock_screen.findChildren(QLabel))
    assert name not in shown
    assert "1111" in shown  # the demo says its PINs
    # What shows is the lock screen, corner to corner: nothing of the pages underneath.
    image = window.grab().toImage()
    lock_blue = QColor("#12325e")
    for x, y in ((5, 5), (image.width() - 5, image.height() - 5), (300, image.height() // 2)):
        assert image.pixelColor(x, y) == lock_blue


def test_sign_in_switch_operator_and_roles(qtbot: QtBot, demo_store: Store) -> None:
    window, guard = _window(qtbot, demo_store)
    _type_pin(qtbot, guard, "1234")
    assert guard.is_locked
    assert "Wrong PIN" in guard.lock_screen.message.text()

    _type_pin(qtbot, guard, "1111")
    assert not guard.is_locked
    assert window.centralWidget().isEnabled()
    focus = QApplication.focusWidget()
    assert focus is not None and not guard.lock_screen.isAncestorOf(focus)
    assert "Dina Reyes" in window.status_operator.text()
    assert "audit" not in _visible_areas(window)
    with demo_store.begin() as session:
        assert desk.context(session).operator_id == operators.demo_operator_id("desk")

    # Switching operator: Ctrl+L, then the next person's PIN.
    qtbot.keyClick(focus, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert guard.is_locked
    assert "Switch operator" in guard.lock_screen.prompt.text()
    assert "not signed in" in window.status_operator.text()
    _type_pin(qtbot, guard, "2222")
    assert "Marco Santos" in window.status_operator.text()
    assert "audit" in _visible_areas(window)
    with demo_store.begin() as session:
        assert desk.context(session).operator_id == operators.demo_operator_id("supervisor")


def test_the_pin_pad_works_by_touch(qtbot: QtBot, demo_store: Store) -> None:
    window, guard = _window(qtbot, demo_store)
    pad = guard.lock_screen.pad
    for key in "999":
        qtbot.mouseClick(pad.buttons[key], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(pad.buttons["8"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(pad.buttons["⌫"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(pad.buttons["9"], Qt.MouseButton.LeftButton)
    assert pad.field.text() == "9999"
    qtbot.mouseClick(pad.buttons["OK"], Qt.MouseButton.LeftButton)
    assert guard.operator is not None and guard.operator.role == "admin"
    assert "Ana Cruz" in window.status_operator.text()


def test_the_desk_locks_itself_when_idle(qtbot: QtBot, demo_store: Store) -> None:
    _win, guard = _window(qtbot, demo_store, lock_minutes=0.002)
    _type_pin(qtbot, guard, "2222")
    assert not guard.is_locked
    qtbot.waitUntil(lambda: guard.is_locked, timeout=5000)
    assert "without use" in guard.lock_screen.prompt.text()
    with demo_store.begin() as session:
        assert desk.get_setting(session, "operator_id") == ""


def test_repeated_wrong_pins_pause_the_pad(qtbot: QtBot, demo_store: Store) -> None:
    _win, guard = _window(qtbot, demo_store)
    for _ in range(guard.lock_screen.throttle.limit):
        _type_pin(qtbot, guard, "0000")
    assert not guard.lock_screen.pad.field.isEnabled()
    assert "wait" in guard.lock_screen.message.text()
    _type_pin(qtbot, guard, "1111")  # ignored while paused
    assert guard.is_locked


def test_a_new_event_first_makes_its_administrator(
    qtbot: QtBot, store: Store, tmp_path: Path
) -> None:
    with store.begin() as session:
        event_id = events.create_event(
            session, desk.desk_id(session), store.data_dir, {"name": "New Event", "code": "NE"}
        )
        desk.open_event(session, event_id)
    window, guard = _window(qtbot, store)
    screen = guard.lock_screen
    assert screen.setup_box.isVisible() and not screen.unlock_box.isVisible()
    qtbot.keyClicks(screen.admin_name, "Grace Tan")
    qtbot.keyClicks(screen.admin_secret, "ab12cd")
    qtbot.keyClicks(screen.admin_again, "ab12ce")
    qtbot.mouseClick(screen.create_button, Qt.MouseButton.LeftButton)
    assert "differ" in screen.message.text()
    screen.admin_again.clear()
    qtbot.keyClicks(screen.admin_again, "ab12cd")
    qtbot.keyClick(screen.admin_again, Qt.Key.Key_Return)
    assert not guard.is_locked
    assert "Grace Tan" in window.status_operator.text()
    with store.begin() as session:
        assert operators.has_admin(session, event_id)
    # From now on the lock screen asks for the PIN.
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert screen.unlock_box.isVisible() and not screen.setup_box.isVisible()
    _type_pin(qtbot, guard, "ab12cd")
    assert guard.operator is not None and guard.operator.name == "Grace Tan"


def test_closing_the_app_signs_the_operator_out(qtbot: QtBot, demo_store: Store) -> None:
    _win, guard = _window(qtbot, demo_store)
    _type_pin(qtbot, guard, "9999")
    with demo_store.begin() as session:
        assert desk.get_setting(session, "operator_id") == operators.demo_operator_id("admin")
    app = QApplication.instance()
    assert app is not None
    app.aboutToQuit.emit()
    with demo_store.begin() as session:
        assert desk.get_setting(session, "operator_id") == ""
