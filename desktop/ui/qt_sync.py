"""Sync in the app: a background worker that keeps the desk in step with its hub, and the Sync area.

`SyncController` runs a round every few seconds while a hub is configured, and soon after a
local change (another area may call `local_change()`; the controller also notices new
unsent operations by itself). While the hub cannot be reached it waits longer and longer
between tries. Every round runs off the GUI thread with its own sessions; only plain data
(reports, statuses) comes back. The status bar's sync label follows the controller.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop import desk, deskkit, digest, sync
from desktop.hub import HubClient
from desktop.store import Store
from desktop.ui.qt_theme import GREEN, MUTED, RED
from desktop.ui.qt_worker import run_task, writer_pool

# --- the background worker --------------------------------------------------------------------


@dataclass(frozen=True)
class _Probe:
    """What a look at the store found: the hub URL (kept inside the controller) and the status."""

    url: str
    status: sync.SyncStatus


def _probe(store: Store) -> _Probe:
    with store.read() as session:
        return _Probe(sync.hub_url(session), sync.sync_status(session))


def _round(store: Store, client: HubClient) -> tuple[sync.SyncReport, _Probe]:
    report = sync.sync_round(store, client)
    return report, _probe(store)


class SyncController(QObject):
    """Runs sync rounds in the background while a hub is configured; emits plain data."""

    status_changed = Signal(object)  # sync.SyncStatus
    sync_finished = Signal(object)  # sync.SyncReport

    def __init__(
        self,
        store: Store,
        parent: QObject | None = None,
        *,
        interval_s: float = 5.0,
        poll_s: float = 1.0,
        debounce_s: float = 1.0,
        first_backoff_s: float = 2.0,
        max_backoff_s: float = 60.0,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.interval_s = interval_s
        self.debounce_s = debounce_s
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.failures = 0
        self.status: sync.SyncStatus | None = None
        self.last_report: sync.SyncReport | None = None
        self._url = ""
        self._url_known = False  # set by the first look at the store or by use_url()
        self._client: HubClient | None = None
        self._busy = False
        self._due = 0.0  # monotonic time of the next round
        self._next_probe = 0.0
        self._known_waiting = -1
        self._timer = QTimer(self)
        self._timer.setInterval(int(poll_s * 1000))
        self._timer.timeout.connect(self._on_timer_timeout)

    # -- control

    def start(self) -> None:
        """Begin: look at the store now, then tick."""
        self._timer.start()
        self._on_timer_timeout()

    def stop(self) -> None:
        """Stop ticking and let go of the hub connection (after a round in flight ends)."""
        self._timer.stop()
        if not self._busy:
            self._drop_client()

    @property
    def configured(self) -> bool:
        return bool(self._url)

    @property
    def busy(self) -> bool:
        """True while a round (or a look at the store) runs in the background."""
        return self._busy

    def seconds_to_next_round(self) -> float:
        """How long until the next round is due (negative when overdue)."""
        return self._due - time.monotonic()

    def backoff_s(self) -> float:
        """The wait after the current run of failures (0 when the last round worked)."""
        if self.failures == 0:
            return 0.0
        return float(min(self.first_backoff_s * 2 ** (self.failures - 1), self.max_backoff_s))

    def use_url(self, url: str) -> None:
        """Sync with the hub at ``url`` from now on ("" stops syncing); already saved."""
        self._url_known = True
        if url == self._url:
            return
        self._url = url
        self.failures = 0
        if not self._busy:
            self._drop_client()
        self._due = time.monotonic()
        self._next_probe = 0.0

    def local_change(self) -> None:
        """Something was written here: sync soon (unless the hub is being waited for)."""
        if self.failures:
            return
        self._due = min(self._due, time.monotonic() + self.debounce_s)

    def sync_now(self) -> None:
        """A person asked: try at once, whatever the waiting so far."""
        self.failures = 0
        self._due = time.monotonic()
        self._on_timer_timeout()

    # -- the ticking

    def _on_timer_timeout(self) -> None:
        if self._busy:
            return
        now = time.monotonic()
        if self._url and now >= self._due:
            self._start_round()
        elif now >= self._next_probe:
            self._busy = True
            # Without a hub only the waiting count matters, and it can wait a little longer.
            self._next_probe = now + (1.0 if self._url else 5.0)
            run_task(
                _probe,
                self.store,
                on_result=self._on_probe_result,
                on_error=self._on_task_error,
                on_finished=self._on_task_finished,
            )

    def _start_round(self) -> None:
        if self._client is None or self._client.url != self._url:
            self._drop_client()
            self._client = HubClient(self._url)
        self._busy = True
        # A round waits on the network; on the single writer thread it would hold up every
        # scan behind a slow hub. Its local transactions are short, and SQLite's busy timeout
        # orders them with the writer's.
        run_task(
            _round,
            self.store,
            self._client,
            on_result=self._on_round_result,
            on_error=self._on_task_error,
            on_finished=self._on_task_finished,
        )

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _on_probe_result(self, probe: _Probe) -> None:
        if not self._url_known:
            self.use_url(probe.url)  # the hub remembered from last time
        if self._known_waiting >= 0 and probe.status.waiting > self._known_waiting:
            self.local_change()
        self._known_waiting = probe.status.waiting
        self._set_status(probe.status)

    def _on_round_result(self, result: tuple[sync.SyncReport, _Probe]) -> None:
        report, probe = result
        self.last_report = report
        if report.ok:
            self.failures = 0
            self._due = time.monotonic() + self.interval_s
        else:
            self.failures += 1
            self._due = time.monotonic() + self.backoff_s()
        self._known_waiting = probe.status.waiting
        self._set_status(probe.status)
        self.sync_finished.emit(report)

    def _on_task_error(self, error: BaseException) -> None:
        # A bug or a disk problem, not the network: say it, and try again later, not at once.
        self.failures += 1
        self._due = time.monotonic() + self.backoff_s()
        if self.status is not None:
            failed = dataclasses.replace(self.status, state=sync.FAILED, last_error=str(error))
            self._set_status(failed)

    def _on_task_finished(self) -> None:
        self._busy = False
        if self._client is not None and self._client.url != self._url:
            self._drop_client()
        if not self._timer.isActive():
            self._drop_client()

    def _set_status(self, status: sync.SyncStatus) -> None:
        self.status = status
        self.status_changed.emit(status)


def find_controller(widget: QWidget) -> SyncController | None:
    """The sync controller of the window ``widget`` is in, if it has one."""
    return widget.window().findChild(SyncController)


def notify_local_change(widget: QWidget) -> None:
    """Tell the window's sync worker that something was written (other areas call this)."""
    controller = find_controller(widget)
    if controller is not None:
        controller.local_change()


# --- dialogs, behind small functions tests can replace ----------------------------------------


def choose_file(parent: QWidget, title: str, save: bool, name_filter: str, on_chosen: Any) -> None:
    """Open a file dialog; call ``on_chosen(path)`` with the file picked."""
    dialog = QFileDialog(parent, title)
    dialog.setNameFilter(name_filter)
    if save:
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    else:
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.fileSelected.connect(lambda path: on_chosen(Path(path)))
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()


def ask_passphrase(parent: QWidget, prompt: str, on_given: Any) -> None:
    """Ask for a passphrase (hidden as it is typed); call ``on_given(text)`` if given."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle("Passphrase")
    dialog.setLabelText(prompt)
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    dialog.textValueSelected.connect(on_given)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()


def choose_event(parent: QWidget, found: list[deskkit.HubEvent], on_chosen: Any) -> None:
    """Let a person pick one of the hub's events; call ``on_chosen(HubEvent)``."""
    labels = [f"{e.name or 'Unnamed event'} ({e.operations} changes) · {e.event_id}" for e in found]
    dialog = QInputDialog(parent)
    dialog.setWindowTitle("Join which event?")
    dialog.setLabelText("The hub holds several events. Join:")
    dialog.setComboBoxItems(labels)
    dialog.textValueSelected.connect(lambda text: on_chosen(found[labels.index(text)]))
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()


# --- the Sync area ----------------------------------------------------------------------------

KIT_FILTER = "Desk kits (*.edkit);;All files (*)"
OPS_FILTER = "Operations files (*.edops);;All files (*)"
_STATE_COLOURS = {
    sync.ONLINE: GREEN,
    sync.OFFLINE: RED,
    sync.REFUSED: RED,
    sync.FAILED: RED,
}


def _card(title: str) -> tuple[QFrame, QVBoxLayout]:
    card = QFrame(objectName="card")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(20, 16, 20, 16)
    layout.setSpacing(10)
    layout.addWidget(QLabel(title, objectName="figureLabel"))
    return card, layout


def _when(value: Any) -> str:
    return sync.format_time(value) if value is not None else "never"


def _digest_text(value: str) -> str:
    # Sixteen characters in groups of four: enough to compare two desks by eye.
    return " ".join(value[i : i + 4] for i in range(0, 16, 4))


class SyncPage(QWidget):
    """The hub to sync with, the sync status, the desk's fingerprint, files and joining."""

    def __init__(self, store: Store, *, controller: SyncController | None = None) -> None:
        super().__init__()
        self.store = store
        self.controller = controller or SyncController(store, self)
        self.controller.status_changed.connect(self._on_controller_status_changed)
        self.controller.sync_finished.connect(self._on_controller_sync_finished)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(16)
        layout.addWidget(QLabel("Sync", objectName="pageTitle"))

        # Status, first: it is what a person comes here to read.
        card, box = _card("Status")
        self.state_label = QLabel("…")
        self.state_label.setStyleSheet("font-size: 30px; font-weight: 700;")
        self.detail_label = QLabel()
        self.detail_label.setWordWrap(True)
        self.detail_label.setStyleSheet("font-size: 17px;")
        self.round_label = QLabel()
        self.round_label.setWordWrap(True)
        self.round_label.setStyleSheet(f"font-size: 15px; color: {MUTED};")
        self.sync_button = QPushButton("Sync now", objectName="primary")
        self.sync_button.clicked.connect(self._on_sync_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self.state_label, 1)
        row.addWidget(self.sync_button)
        box.addLayout(row)
        box.addWidget(self.detail_label)
        box.addWidget(self.round_label)
        layout.addWidget(card)

        card, box = _card("Hub")
        self.hub_label = QLabel("No hub configured: this desk keeps its changes.")
        self.hub_label.setStyleSheet("font-size: 16px;")
        self.hub_label.setWordWrap(True)
        self.hub_field = QLineEdit(
            placeholderText="Paste this desk's connection line (postgresql://…)"
        )
        self.hub_field.setEchoMode(QLineEdit.EchoMode.Password)  # it holds the desk's password
        self.show_check = QCheckBox("Show")
        self.show_check.toggled.connect(self._on_show_check_toggled)
        self.save_button = QPushButton("Use this hub")
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.hub_field.returnPressed.connect(self._on_save_button_clicked)
        self.forget_button = QPushButton("Stop syncing")
        self.forget_button.clicked.connect(self._on_forget_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self.hub_field, 1)
        row.addWidget(self.show_check)
        row.addWidget(self.save_button)
        row.addWidget(self.forget_button)
        box.addWidget(self.hub_label)
        box.addLayout(row)
        layout.addWidget(card)

        card, box = _card("Fingerprint of this desk's data (equal on desks that agree)")
        self.digest_label = QLabel("—")
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(22)
        mono.setBold(True)
        self.digest_label.setFont(mono)
        self.digest_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.digest_button = QPushButton("Recompute")
        self.digest_button.clicked.connect(self.refresh_digest)
        row = QHBoxLayout()
        row.addWidget(self.digest_label, 1)
        row.addWidget(self.digest_button)
        box.addLayout(row)
        layout.addWidget(card)

        card, box = _card("Without a network, and new desks")
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        self.export_ops_button = QPushButton("Export operations…")
        self.import_ops_button = QPushButton("Import operations…")
        self.export_kit_button = QPushButton("Export desk kit…")
        self.with_key_check = QCheckBox("with the signing key (asks for a passphrase)")
        self.join_kit_button = QPushButton("Join from a desk kit…")
        self.join_hub_button = QPushButton("Join from the hub…")
        grid.addWidget(self.export_ops_button, 0, 0)
        grid.addWidget(self.import_ops_button, 0, 1)
        grid.addWidget(self.export_kit_button, 1, 0)
        grid.addWidget(self.with_key_check, 1, 1)
        grid.addWidget(self.join_kit_button, 3, 0)
        grid.addWidget(self.join_hub_button, 3, 1)
        # The name other desks show in arrival details and reports once this desk joins.
        self.desk_name_field = QLineEdit(placeholderText="e.g. Entrance 2")
        self.desk_name_field.setMaxLength(60)
        with self.store.read() as session:
            self.desk_name_field.setText(desk.desk_name(session))
        grid.addWidget(QLabel("This desk's name when it joins:"), 2, 0)
        grid.addWidget(self.desk_name_field, 2, 1)
        box.addLayout(grid)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("font-size: 16px;")
        box.addWidget(self.message_label)
        layout.addWidget(card)
        layout.addStretch(1)

        self.export_ops_button.clicked.connect(self._on_export_ops_button_clicked)
        self.import_ops_button.clicked.connect(self._on_import_ops_button_clicked)
        self.export_kit_button.clicked.connect(self._on_export_kit_button_clicked)
        self.join_kit_button.clicked.connect(self._on_join_kit_button_clicked)
        self.join_hub_button.clicked.connect(self._on_join_hub_button_clicked)

        self._digest_running = False
        if controller is None:
            # After the window has been built around this page, so the status bar exists.
            QTimer.singleShot(0, self.controller, self.controller.start)

    # -- status

    def refresh(self) -> None:
        """Called when the area is shown: bring the fingerprint up to date."""
        self.refresh_digest()

    def _on_controller_status_changed(self, status: sync.SyncStatus) -> None:
        colour = _STATE_COLOURS.get(status.state, MUTED)
        self.state_label.setText(status.words.capitalize())
        self.state_label.setStyleSheet(f"font-size: 30px; font-weight: 700; color: {colour};")
        lines = [
            f"{status.waiting} change(s) made here waiting to be sent",
            f"Last successful sync: {_when(status.last_success)}",
        ]
        if status.last_error:
            lines.append(f"Last problem ({_when(status.last_error_at)}): {status.last_error}")
        self.detail_label.setText("\n".join(lines))
        if status.configured:
            self.hub_label.setText(f"Syncing with the hub at {status.hub}")
        else:
            self.hub_label.setText("No hub configured: this desk keeps its changes.")
        self.sync_button.setEnabled(status.configured)
        self.forget_button.setEnabled(status.configured)
        label = getattr(self.window(), "status_sync", None)
        if isinstance(label, QLabel):
            label.setText(status.status_line())
            label.setToolTip(status.status_line())
            label.setStyleSheet(f"color: {colour};" if colour != MUTED else "")

    def _on_controller_sync_finished(self, report: sync.SyncReport) -> None:
        self.round_label.setText(f"Last round: {report.summary()}")
        if report.applied and self.isVisible():
            self.refresh_digest()

    def _on_sync_button_clicked(self) -> None:
        self.round_label.setText("Syncing…")
        self.controller.sync_now()

    # -- the hub URL

    def _on_show_check_toggled(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.hub_field.setEchoMode(mode)

    def _on_save_button_clicked(self) -> None:
        try:
            url = sync.check_hub_url(self.hub_field.text())
        except sync.SyncError as exc:
            self._say(str(exc), error=True)
            return
        self._save_url(url)

    def _on_forget_button_clicked(self) -> None:
        self._save_url("")

    def _save_url(self, url: str) -> None:
        def save(store: Store, value: str) -> None:
            with store.begin() as session:
                sync.set_hub_url(session, value)

        def saved(_result: object) -> None:
            self.hub_field.clear()
            self.controller.use_url(url)
            self._say(
                f"This desk now syncs with {sync.mask_url(url)}." if url else "Syncing stopped."
            )
            self.controller.sync_now()

        run_task(
            save, self.store, url, on_result=saved, on_error=self._on_task_error, pool=writer_pool()
        )

    # -- fingerprint

    def refresh_digest(self) -> None:
        """Compute the fingerprint in the background and show it."""
        if self._digest_running:
            return
        self._digest_running = True

        def compute(store: Store) -> dict[str, Any]:
            with store.read() as session:
                return digest.state_digest(session)

        def shown(result: dict[str, Any]) -> None:
            self.digest_label.setText(_digest_text(str(result["all"])))
            self.digest_label.setToolTip(
                "\n".join(
                    [str(result["all"])] + [f"{k}: {v[:16]}" for k, v in result["tables"].items()]
                )
            )

        def done() -> None:
            self._digest_running = False

        run_task(
            compute, self.store, on_result=shown, on_error=self._on_task_error, on_finished=done
        )

    # -- files and joining

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet(
            f"font-size: 16px; color: {RED};" if error else "font-size: 16px;"
        )

    def _on_task_error(self, error: BaseException) -> None:
        self._say(" ".join(str(error).split()) or type(error).__name__, error=True)

    def _after_change(self) -> None:
        """The event or its data changed here: tell the window and the sync worker."""
        refresh = getattr(self.window(), "refresh", None)
        if callable(refresh):
            refresh()
        self.controller.local_change()
        self.refresh_digest()

    def _on_export_ops_button_clicked(self) -> None:
        def chosen(path: Path) -> None:
            def shown(count: int) -> None:
                self._say(f"{count} operation(s) written to {path}.")

            run_task(
                deskkit.export_ops_file,
                self.store,
                path,
                on_result=shown,
                on_error=self._on_task_error,
            )

        choose_file(self, "Export operations", True, OPS_FILTER, chosen)

    def _on_import_ops_button_clicked(self) -> None:
        def chosen(path: Path) -> None:
            def shown(result: deskkit.JoinResult) -> None:
                self._say(
                    f"{result.operations} operation(s) read from {path.name}: "
                    f"{result.applied} new, {result.operations - result.applied} already here."
                )
                self._after_change()

            run_task(
                deskkit.import_ops_file,
                self.store,
                path,
                on_result=shown,
                on_error=self._on_task_error,
                pool=writer_pool(),
            )

        choose_file(self, "Import operations", False, OPS_FILTER, chosen)

    def _on_export_kit_button_clicked(self) -> None:
        with_key = self.with_key_check.isChecked()

        def write(path: Path, passphrase: str | None) -> None:
            def shown(info: deskkit.KitInfo) -> None:
                key = "with" if info.has_signing_key else "without"
                self._say(
                    f"Desk kit written to {path}: {info.operations} operation(s), {key} the "
                    "signing key." + (" Give the passphrase separately." if with_key else "")
                )

            run_task(
                deskkit.export_kit,
                self.store,
                path,
                passphrase=passphrase,
                on_result=shown,
                on_error=self._on_task_error,
            )

        def chosen(path: Path) -> None:
            if not with_key:
                write(path, None)
                return
            ask_passphrase(
                self,
                f"A passphrase to protect the signing key (at least {deskkit.MIN_PASSPHRASE} "
                "characters):",
                lambda text: write(path, text),
            )

        choose_file(self, "Export desk kit", True, KIT_FILTER, chosen)

    def _on_join_kit_button_clicked(self) -> None:
        def join(path: Path, passphrase: str | None) -> None:
            def shown(result: deskkit.JoinResult) -> None:
                key = " The signing key was saved." if result.signing_key_saved else ""
                notes = "".join(f" Note: {w}." for w in result.warnings)
                self._say(
                    f"Joined {result.event_name}: {result.applied} new change(s).{key}{notes}"
                )
                self._after_change()

            run_task(
                deskkit.join_from_kit,
                self.store,
                path,
                passphrase,
                desk_name=self._joining_name(),
                on_result=shown,
                on_error=self._on_task_error,
                pool=writer_pool(),
            )

        def inspected(path: Path, info: deskkit.KitInfo) -> None:
            if not info.has_signing_key:
                join(path, None)
                return
            ask_passphrase(
                self,
                "This kit holds the signing key. Its passphrase (leave empty to join without "
                "the key):",
                lambda text: join(path, text or None),
            )

        def chosen(path: Path) -> None:
            run_task(
                deskkit.kit_info,
                path,
                on_result=lambda info: inspected(path, info),
                on_error=self._on_task_error,
            )

        choose_file(self, "Join from a desk kit", False, KIT_FILTER, chosen)

    def _joining_name(self) -> str | None:
        """The desk name typed for the join; None (keep this desk's own) when left empty."""
        return " ".join(self.desk_name_field.text().split()) or None

    def _on_join_hub_button_clicked(self) -> None:
        typed = self.hub_field.text().strip()

        def join(url: str, event: deskkit.HubEvent) -> None:
            def shown(result: deskkit.JoinResult) -> None:
                self.hub_field.clear()
                self.controller.use_url(url)
                self._say(
                    f"Joined {result.event_name} from the hub: {result.applied} change(s) "
                    "received. This desk now syncs with it."
                )
                self._after_change()

            self._say(f"Joining {event.name or event.event_id}…")
            run_task(
                deskkit.join_from_hub,
                self.store,
                url,
                event.event_id,
                desk_name=self._joining_name(),
                on_result=shown,
                on_error=self._on_task_error,
            )

        def listed(result: tuple[str, list[deskkit.HubEvent]]) -> None:
            url, found = result
            if len(found) > 1:
                choose_event(self, found, lambda event: join(url, event))
                return
            try:
                join(url, deskkit.choose_event(found, None))
            except deskkit.KitError as exc:
                self._say(str(exc), error=True)

        def look(store: Store, given: str) -> tuple[str, list[deskkit.HubEvent]]:
            if given:
                url = sync.check_hub_url(given)
            else:
                with store.begin() as session:
                    url = sync.hub_url(session)
                if not url:
                    raise sync.SyncError("paste this desk's connection line in the hub field first")
            return url, deskkit.hub_events(url)

        self._say("Asking the hub which events it holds…")
        run_task(look, self.store, typed, on_result=listed, on_error=self._on_task_error)
