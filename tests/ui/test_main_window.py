"""The app shell driven as a person would: areas, status bar, first run, remembered state."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.models import Attendee
from desktop.store import Store
from desktop.ui.qt_attendees import AttendeesPage
from desktop.ui.qt_checkin import CheckinPage
from desktop.ui.qt_dashboard import DashboardPage
from desktop.ui.qt_first_run import FirstRunDialog
from desktop.ui.qt_main_window import MainWindow


def _settings(store: Store) -> QSettings:
    return QSettings(str(store.data_dir / "settings.ini"), QSettings.Format.IniFormat)


def test_window_shows_event_areas_and_status(qtbot: QtBot, demo_store: Store) -> None:
    window = MainWindow(demo_store, _settings(demo_store))
    qtbot.addWidget(window)
    window.show()
    assert "Open Innovation" in window.event_title.text()
    assert "28–29 August 2024" in window.event_subtitle.text()
    assert window.area_keys()[:3] == ["home", "attendees", "sessions"]
    assert window.status_event.text().startswith("Event: Conference on Open Innovation")
    assert window.status_desk.text().startswith("Desk: ")
    assert "not signed in" in window.status_operator.text()
    assert "Sync" in window.status_sync.text()
    home = window.pages.widget(0)
    assert home.attendees.text() == "130"
    assert int(home.countries.text()) >= 15


def _click_area(qtbot: QtBot, window: MainWindow, row: int) -> None:
    nav = window.navigation
    rect = nav.visualItemRect(nav.item(row))
    qtbot.mouseClick(nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_navigation_and_models(qtbot: QtBot, qtmodeltester, demo_store: Store) -> None:
    window = MainWindow(demo_store, _settings(demo_store))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    _click_area(qtbot, window, 1)
    assert window.current_area() == "attendees"
    people = window.pages.currentWidget()
    assert isinstance(people, AttendeesPage)
    assert people.model.rowCount() == 130
    assert people.count.text() == "130 attendees"
    qtmodeltester.check(people.model)
    qtbot.keyClicks(people.search, "Development Academy")
    qtbot.waitUntil(lambda: people.model.rowCount() < 130)
    assert all(
        "Development Academy" in people.model.attendee_at(r).organisation
        for r in range(people.model.rowCount())
    )
    _click_area(qtbot, window, 2)
    assert window.current_area() == "sessions"
    programme = window.pages.currentWidget()
    assert programme.model.rowCount() == 12
    qtmodeltester.check(programme.model)


def test_window_state_is_remembered(qtbot: QtBot, demo_store: Store) -> None:
    window = MainWindow(demo_store, _settings(demo_store))
    qtbot.addWidget(window)
    window.show()
    window.show_area("sessions")
    window.close()
    again = MainWindow(demo_store, _settings(demo_store))
    qtbot.addWidget(again)
    assert again.current_area() == "sessions"


def test_first_run_offers_the_demo(qtbot: QtBot, store: Store) -> None:
    dialog = FirstRunDialog(store)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.demo_button, Qt.MouseButton.LeftButton)
    window = MainWindow(store, _settings(store))
    qtbot.addWidget(window)
    assert "Open Innovation" in window.event_title.text()


def test_first_run_creates_a_new_event(qtbot: QtBot, store: Store) -> None:
    dialog = FirstRunDialog(store)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "Regional Workshop on Green Productivity")
    qtbot.keyClicks(dialog.code, "gp25")
    with qtbot.waitSignal(dialog.accepted):
        dialog._on_buttons_accepted()
    window = MainWindow(store, _settings(store))
    qtbot.addWidget(window)
    assert window.event_title.text() == "Regional Workshop on Green Productivity"


def test_screenshot_command_writes_the_real_window(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop",
            "--data",
            str(tmp_path / "d"),
            "gui",
            "--demo",
            "--screenshot",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert not image.isNull()
    assert image.width() >= 1000 and image.height() >= 680
    # Not a blank image: the navigation band is dark blue, the page light.
    assert (
        image.pixelColor(20, image.height() // 2).blue()
        > image.pixelColor(20, image.height() // 2).red()
    )


def test_the_dashboard_follows_scans_made_at_this_desk(qtbot: QtBot, demo_store: Store) -> None:
    window = MainWindow(demo_store, _settings(demo_store))
    qtbot.addWidget(window)
    window.show()
    dashboard = window.page("dashboard")
    checkin_page = window.page("checkin")
    assert isinstance(dashboard, DashboardPage) and isinstance(checkin_page, CheckinPage)
    with qtbot.waitSignal(dashboard.refreshed, timeout=20_000):
        window.show_area("dashboard")
    before = int(dashboard.arrived_overall.value.text())
    with demo_store.begin() as session:
        code = session.scalars(select(Attendee.short_code).order_by(Attendee.short_code)).first()
    assert code is not None
    # Well inside the dashboard's own 20-second refresh: this one comes from the scan.
    with qtbot.waitSignal(dashboard.refreshed, timeout=8_000):
        checkin_page.submit(code)
    assert checkin_page.card.result is not None and checkin_page.card.result.decision == "ok"
    assert int(dashboard.arrived_overall.value.text()) == before + 1
