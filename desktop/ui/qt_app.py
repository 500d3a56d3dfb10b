"""Starting the desk application: the QApplication, the store, the first run, the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import desk
from desktop.demo import create_demo
from desktop.paths import resources_dir
from desktop.store import Store, StoreError, open_store
from desktop.ui import qt_backups, qt_signin
from desktop.ui.qt_first_run import FirstRunDialog
from desktop.ui.qt_gc import GuiThreadCollector
from desktop.ui.qt_main_window import MainWindow
from desktop.ui.qt_theme import apply_theme


def make_application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication, with the desk theme."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv or [sys.argv[0]])
    QCoreApplication.setOrganizationName("EventDesk")
    QCoreApplication.setApplicationName("EventDesk")
    QGuiApplication.setApplicationDisplayName("EventDesk")
    # The .desktop file the Linux package installs, so the window gets its entry's icon.
    QGuiApplication.setDesktopFileName("eventdesk")
    QGuiApplication.setWindowIcon(_app_icon())
    apply_theme(app)
    return app


def _app_icon() -> QIcon:
    icon = QIcon()
    for path in sorted((resources_dir() / "icons").glob("eventdesk-*.png")):
        icon.addFile(str(path))
    return icon


def settings_for(store: Store) -> QSettings:
    """Window state and desk preferences, kept in the data folder beside the database."""
    return QSettings(str(store.data_dir / "settings.ini"), QSettings.Format.IniFormat)


def _has_event(store: Store) -> bool:
    with store.begin() as session:
        return desk.current_event_id(session) is not None


def run(data_dir: Path, *, demo: bool = False, screenshot: str | None = None) -> int:
    """Open the app on ``data_dir``; with ``screenshot`` render the window to PNG and exit."""
    app = make_application()
    try:
        store = open_store(data_dir)
    except StoreError as exc:
        if screenshot:
            print(f"eventdesk: {exc}", file=sys.stderr)
        else:
            QMessageBox.critical(None, "EventDesk cannot open its data", str(exc))
        return 1
    if demo:
        with store.begin() as session:
            create_demo(session, store.data_dir)
    if not _has_event(store):
        if screenshot:
            with store.begin() as session:
                create_demo(session, store.data_dir)
        else:
            dialog = FirstRunDialog(store)
            if dialog.exec() != FirstRunDialog.DialogCode.Accepted:
                store.close()
                return 0
    window = MainWindow(store, settings_for(store))
    if screenshot:
        return _screenshot(app, window, Path(screenshot))
    # Behind the lock screen until someone signs in; rolling backups while it runs.
    guard = qt_signin.install(window, store, settings_for(store))
    backups = qt_backups.install(window, store.data_dir, settings_for(store))
    collector = GuiThreadCollector(app)
    window.show()
    code = app.exec()
    collector.stop()
    backups.backup_at_exit()
    del guard
    store.close()
    return int(code)


def _screenshot(app: QApplication, window: MainWindow, out: Path) -> int:
    window.resize(1400, 900)
    window.show()
    result: list[int] = []

    def grab() -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(out), "PNG")
        if not ok:
            print(f"eventdesk: could not write {out}", file=sys.stderr)
        result.append(0 if ok else 1)
        window.close()
        app.quit()

    # Let layouts and the first data load settle before grabbing the real window.
    QTimer.singleShot(300, grab)
    app.exec()
    window.store.close()
    return result[0] if result else 1
