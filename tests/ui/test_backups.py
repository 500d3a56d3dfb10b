"""Rolling backups while the app runs (worker + timer) and one at exit."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from desktop import backup
from desktop.store import Store
from desktop.ui import qt_backups


def test_rolling_backups_in_the_background_and_at_exit(qtbot: QtBot, demo_store: Store) -> None:
    settings = QSettings(str(demo_store.data_dir / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("backup/every_minutes", 0.0001)  # clamped to one second
    settings.setValue("backup/keep", 2)
    window = QMainWindow()
    qtbot.addWidget(window)
    auto = qt_backups.install(window, demo_store.data_dir, settings)
    status = window.statusBar().findChild(qt_backups.BackupStatus)
    assert status is not None and "first one" in status.text()
    for _ in range(3):
        with qtbot.waitSignal(auto.backed_up, timeout=10000) as made:
            pass
        assert str(made.args[0]).endswith("-auto.sqlite3")
    assert status.text().startswith("Backup: ")
    kept = backup.list_backups(demo_store.data_dir)
    assert len(kept) == 2 and all(b.label == "auto" for b in kept)
    assert backup.check_file(kept[0].path).attendees == 130

    last = auto.backup_at_exit()
    assert last.endswith("-exit.sqlite3")
    assert not auto.timer.isActive()
    assert backup.list_backups(demo_store.data_dir)[0].label == "exit"


def test_a_failed_backup_is_said_in_the_status_bar(qtbot: QtBot, store: Store) -> None:
    settings = QSettings(str(store.data_dir / "settings.ini"), QSettings.Format.IniFormat)
    window = QMainWindow()
    qtbot.addWidget(window)
    auto = qt_backups.install(window, store.data_dir / "nowhere", settings)
    status = window.statusBar().findChild(qt_backups.BackupStatus)
    assert status is not None
    with qtbot.waitSignal(auto.backup_failed, timeout=10000):
        auto.backup_now()
    assert status.text().startswith("Backup failed: there is no EventDesk database")
