"""Automatic rolling backups while the desk runs, and one more when it closes.

Every ``backup/every_minutes`` (default 5) a snapshot is taken off the GUI thread with
SQLite's online backup API (:func:`desktop.backup.make_backup`), keeping the newest
``backup/keep`` (default 12). A label in the status bar says when the last one was made, or
in plain words why it failed (a full disk), so staff know their work is safe.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow

from desktop import backup
from desktop.ui.qt_worker import TaskHandle, run_task

log = logging.getLogger(__name__)

DEFAULT_EVERY_MINUTES = 5.0
DEFAULT_KEEP = 12


def _number(settings: QSettings, key: str, default: float) -> float:
    try:
        return float(settings.value(key, default))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


class AutoBackup(QObject):
    """Rolling backups on a timer, in a worker; ``backup_at_exit`` for the last one."""

    backed_up = Signal(str)  # the new file
    backup_failed = Signal(str)  # the reason, for a person

    def __init__(self, data_dir: Path, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.keep = int(_number(settings, "backup/keep", DEFAULT_KEEP))
        minutes = _number(settings, "backup/every_minutes", DEFAULT_EVERY_MINUTES)
        self.timer = QTimer(self)
        self.timer.setInterval(max(int(minutes * 60_000), 1000))
        self.timer.timeout.connect(self._on_timer_timeout)
        self.running: TaskHandle | None = None
        self.last: datetime | None = None

    def start(self) -> None:
        """Start the timer (the first backup comes after one interval)."""
        self.timer.start()

    def backup_now(self) -> None:
        """Take a backup in the background unless one is already running."""
        if self.running is not None and not self.running.done:
            return
        self.running = run_task(
            backup.make_backup,
            self.data_dir,
            keep=self.keep,
            label="auto",
            on_result=self._on_task_result,
            on_error=self._on_task_error,
        )

    def backup_at_exit(self) -> str:
        """One last backup as the app closes (on the calling thread); returns what happened."""
        self.timer.stop()
        if self.running is not None:
            self.running.wait(30_000)
        try:
            made = backup.make_backup(self.data_dir, keep=self.keep, label="exit")
        except backup.BackupError as exc:
            log.warning("no backup at exit: %s", exc)
            return str(exc)
        return str(made.path)

    def _on_timer_timeout(self) -> None:
        self.backup_now()

    def _on_task_result(self, made: backup.BackupInfo) -> None:
        self.last = datetime.now()
        self.backed_up.emit(str(made.path))

    def _on_task_error(self, exc: BaseException) -> None:
        self.backup_failed.emit(str(exc))


class BackupStatus(QLabel):
    """The status bar's word on backups: when the last was made, or why it failed."""

    def __init__(self, auto: AutoBackup) -> None:
        super().__init__("Backup: first one in a few minutes")
        auto.backed_up.connect(self._on_auto_backed_up)
        auto.backup_failed.connect(self._on_auto_backup_failed)

    def _on_auto_backed_up(self, _path: str) -> None:
        self.setStyleSheet("")
        self.setText(f"Backup: {datetime.now():%H:%M}")

    def _on_auto_backup_failed(self, reason: str) -> None:
        self.setStyleSheet("color: #b3261e; font-weight: 600;")
        self.setText(f"Backup failed: {reason}")


def install(window: QMainWindow, data_dir: Path, settings: QSettings) -> AutoBackup:
    """Start rolling backups for the window's data folder and show their state."""
    auto = AutoBackup(data_dir, settings, window)
    window.statusBar().addPermanentWidget(BackupStatus(auto))
    auto.start()
    return auto
