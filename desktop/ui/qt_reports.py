"""The reports area: choose a report and a format, write it to a file, open its folder.

Reports are made in a worker on a read-only snapshot (scans go on meanwhile) and written
through :mod:`desktop.reportwriters`, so a failure leaves no half-written file. The first rows
of the report just made are shown below, so staff can see what went into the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QStandardPaths,
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import desk, permissions, reports
from desktop.models import Event
from desktop.reports import ReportError, ReportOptions, ReportSpec, Table
from desktop.reportwriters import (
    TABLE_SUFFIXES,
    ReportWriteError,
    check_destination,
    csv_text,
    write_table,
)
from desktop.store import Store
from desktop.summarypdf import make_summary_pdf
from desktop.ui.qt_theme import GREEN, MUTED, RED
from desktop.ui.qt_worker import run_task

ModelIndex = QModelIndex | QPersistentModelIndex
PREVIEW_ROWS = 500
FORMATS = {
    ".xlsx": "Excel workbook (.xlsx)",
    ".csv": "CSV, UTF-8 (.csv)",
    ".pdf": "One-page PDF with charts (.pdf)",
}


@dataclass(frozen=True)
class ReportOutcome:
    """A report written: where, how many rows, and its first rows for the preview."""

    name: str
    title: str
    path: Path
    rows: int
    preview: Table | None


def make_report(store: Store, name: str, path: Path, grace_minutes: int) -> ReportOutcome:
    """Build report ``name`` and write it to ``path`` (runs in a worker)."""
    with store.read() as session:
        if path.suffix.lower() == ".pdf":
            event_id = desk.current_event_id(session)
            if event_id is None:
                raise ReportError("no event open on this desk")
            make_summary_pdf(session, event_id, path)
            return ReportOutcome(name, "Summary for the organiser (one page)", path, 1, None)
        ctx = desk.context(session)
        options = ReportOptions(late_grace_minutes=grace_minutes)
        table = reports.build(session, ctx, name, options=options)
    write_table(table, path)
    shown = Table(
        name=table.name,
        title=table.title,
        headers=table.headers,
        rows=table.rows[:PREVIEW_ROWS],
        formats=table.formats,
    )
    return ReportOutcome(name, table.title, path, len(table.rows) - table.total_rows, shown)


class PreviewModel(QAbstractTableModel):
    """The first rows of the report just written, as the file has them."""

    def __init__(self) -> None:
        super().__init__()
        self._table: Table | None = None

    def set_table(self, table: Table | None) -> None:
        self.beginResetModel()
        self._table = table
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._table is None else len(self._table.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._table is None else len(self._table.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if self._table is None or role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self._table.headers):
            return self._table.headers[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        table = self._table
        if table is None or not index.isValid() or not (0 <= index.row() < len(table.rows)):
            return None
        column = index.column()
        if not 0 <= column < len(table.headers):
            return None
        value = table.rows[index.row()][column]
        fmt = table.column_format(column)
        if role == Qt.ItemDataRole.DisplayRole:
            # What a spreadsheet shows, without the CSV's formula guard.
            text = csv_text(value, fmt)
            return text[1:] if isinstance(value, str) and text != value else text
        if role == Qt.ItemDataRole.TextAlignmentRole and fmt in ("int", "percent"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _choose_path(parent: QWidget, start: Path, suffix: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(
        parent, "Save the report as", str(start), f"{FORMATS[suffix]} (*{suffix})"
    )
    return Path(name) if name else None


def _open_folder(folder: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


# Tests replace these: no real file dialog, no file manager opening during a test run.
choose_path: Callable[[QWidget, Path, str], Path | None] = _choose_path
open_folder: Callable[[Path], None] = _open_folder


def default_folder(store: Store) -> Path:
    """Documents, when the user has that folder; else the data folder's exports folder."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if documents and Path(documents).is_dir():
        return Path(documents)
    return store.data_dir / "exports"


class ReportsPage(QWidget):
    """Choose a report, a format and a file; generate; see the first rows; open the folder."""

    report_written = Signal(object)  # ReportOutcome
    report_failed = Signal(str)

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.last: ReportOutcome | None = None
        self._running = False
        self._event_code = "event"
        self._folder = default_folder(store)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(14)
        title = QLabel("Reports", objectName="pageTitle")
        layout.addWidget(title)

        body = QHBoxLayout()
        body.setSpacing(20)
        self.list = QListWidget()
        self.list.setMinimumWidth(280)
        self.list.setMaximumWidth(360)
        self.list.setStyleSheet(
            "QListWidget { font-size: 16px; } QListWidget::item { padding: 8px; }"
        )
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        body.addWidget(self.list)

        side = QVBoxLayout()
        side.setSpacing(12)
        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 20px; font-weight: 600;")
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet(f"font-size: 15px; color: {MUTED};")
        side.addWidget(self.heading)
        side.addWidget(self.description)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.format_combo = QComboBox()
        self.format_combo.currentIndexChanged.connect(self._on_format_combo_changed)
        form.addRow("Format", self.format_combo)
        path_row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("the file to write")
        self.path_edit.returnPressed.connect(self.generate)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self._on_choose_button_clicked)
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.choose_button)
        form.addRow("Save as", path_row)
        self.grace_spin = QSpinBox()
        self.grace_spin.setRange(0, 240)
        self.grace_spin.setValue(ReportOptions().late_grace_minutes)
        self.grace_spin.setSuffix(" minutes")
        self.grace_label = QLabel("On time up to")
        form.addRow(self.grace_label, self.grace_spin)
        side.addLayout(form)

        buttons = QHBoxLayout()
        self.generate_button = QPushButton("Generate", objectName="primary")
        self.generate_button.setDefault(True)
        self.generate_button.clicked.connect(self.generate)
        self.open_button = QPushButton("Open folder")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        side.addLayout(buttons)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("font-size: 15px;")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        side.addWidget(self.status)

        self.preview_model = PreviewModel()
        self.preview = QTableView()
        self.preview.setModel(self.preview_model)
        self.preview.verticalHeader().setVisible(False)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.preview.setAlternatingRowColors(True)
        side.addWidget(self.preview, 1)
        body.addLayout(side, 1)
        layout.addLayout(body, 1)

        self.refresh()

    # --- state -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload what the signed-in operator may make; keep the current choice."""
        current = self.current_spec()
        with self.store.read() as session:
            event_id = desk.current_event_id(session)
            allowed: dict[str, bool] = {}
            if event_id is not None:
                ctx = desk.context(session)
                allowed = {spec.name: reports.may_make(session, ctx, spec.name)
                           for spec in reports.REPORTS}  # fmt: skip
                event = session.get(Event, event_id)
                code = "".join(ch for ch in (event.code if event else "") if ch.isalnum())
                self._event_code = code or "event"
        self.list.blockSignals(True)
        self.list.clear()
        for spec in reports.REPORTS:
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.name)
            item.setToolTip(spec.description)
            if not allowed.get(spec.name, False):
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                phrase = permissions.ACTION_PHRASES["export_personal_data"]
                item.setToolTip(
                    f"{spec.description}\nIt names people: only an administrator may {phrase}."
                    if event_id is not None
                    else "Open an event first."
                )
            self.list.addItem(item)
        self.list.blockSignals(False)
        names = [spec.name for spec in reports.REPORTS]
        wanted = current.name if current is not None and allowed.get(current.name) else None
        if wanted is None:
            wanted = next((n for n in names if allowed.get(n)), None)
        if wanted is not None:
            self.list.setCurrentRow(names.index(wanted))
        else:
            self._show_spec(None)

    def current_spec(self) -> ReportSpec | None:
        item = self.list.currentItem() if hasattr(self, "list") else None
        if item is None or not item.flags() & Qt.ItemFlag.ItemIsEnabled:
            return None
        return reports.spec(str(item.data(Qt.ItemDataRole.UserRole)))

    def select_report(self, name: str) -> None:
        """Choose the report called ``name`` (as a click in the list would)."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.list.setCurrentRow(row)
                return
        raise KeyError(name)

    def _on_list_current_row_changed(self, _row: int) -> None:
        self._show_spec(self.current_spec())

    def _show_spec(self, spec: ReportSpec | None) -> None:
        self.generate_button.setEnabled(spec is not None and not self._running)
        if spec is None:
            self.heading.setText("No report available")
            self.description.setText("Open an event, or ask an administrator to sign in.")
            self.format_combo.clear()
            return
        self.heading.setText(spec.title)
        self.description.setText(spec.description)
        suffix = self.current_suffix() or ".xlsx"
        self.format_combo.blockSignals(True)
        self.format_combo.clear()
        for option in (*TABLE_SUFFIXES, ".pdf") if spec.pdf else TABLE_SUFFIXES:
            self.format_combo.addItem(FORMATS[option], option)
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(suffix)))
        self.format_combo.blockSignals(False)
        late = spec.name == "late-arrivals"
        self.grace_spin.setVisible(late)
        self.grace_label.setVisible(late)
        self._suggest_path(spec)

    def current_suffix(self) -> str | None:
        data = self.format_combo.currentData()
        return str(data) if data else None

    def _suggest_path(self, spec: ReportSpec) -> None:
        """A fresh file name in the folder last used: event, report, date, the format."""
        text = self.path_edit.text().strip()
        if text:
            self._folder = Path(text).expanduser().parent
        stamp = f"{datetime.now():%Y%m%d-%H%M}"
        suffix = self.current_suffix() or ".xlsx"
        name = f"{self._event_code}-{spec.name}-{stamp}{suffix}"
        self.path_edit.setText(str(self._folder / name))

    def _on_format_combo_changed(self, _index: int) -> None:
        suffix = self.current_suffix()
        text = self.path_edit.text().strip()
        if suffix and text:
            self.path_edit.setText(str(Path(text).with_suffix(suffix)))

    def _on_choose_button_clicked(self) -> None:
        suffix = self.current_suffix() or ".xlsx"
        chosen = choose_path(self, Path(self.path_edit.text().strip() or self._folder), suffix)
        if chosen is not None:
            if chosen.suffix.lower() not in FORMATS:
                chosen = chosen.with_suffix(suffix)
            self.path_edit.setText(str(chosen))

    # --- generating ------------------------------------------------------------------------

    def generate(self) -> None:
        """Make the chosen report into the chosen file, off the GUI thread."""
        spec = self.current_spec()
        if spec is None or self._running:
            return
        text = self.path_edit.text().strip()
        if not text:
            self._fail("Say where to save the report.")
            return
        path = Path(text).expanduser()
        suffix = self.current_suffix() or ".xlsx"
        if not path.suffix:
            path = path.with_name(path.name + suffix)
        if path.parent == self.store.data_dir / "exports":
            # The suggested folder when there is no Documents folder: made on first use.
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            allowed = (*TABLE_SUFFIXES, ".pdf") if spec.pdf else TABLE_SUFFIXES
            check_destination(path, allowed)
        except ReportWriteError as exc:
            self._fail(f"{exc}.")
            return
        self._running = True
        self.generate_button.setEnabled(False)
        self.status.setStyleSheet(f"font-size: 15px; color: {MUTED};")
        self.status.setText(f"Making “{spec.title}”…")
        run_task(
            make_report,
            self.store,
            spec.name,
            path,
            self.grace_spin.value(),
            on_result=self._on_report_made,
            on_error=self._on_report_error,
            on_finished=self._on_report_finished,
        )

    def _on_report_made(self, outcome: ReportOutcome) -> None:
        self.last = outcome
        what = "page" if outcome.path.suffix.lower() == ".pdf" else "rows"
        self.status.setStyleSheet(f"font-size: 15px; color: {GREEN};")
        self.status.setText(f"✓ {outcome.title}: {outcome.rows} {what} saved to {outcome.path}")
        self.open_button.setEnabled(True)
        self.preview_model.set_table(outcome.preview)
        self.preview.resizeColumnsToContents()
        header = self.preview.horizontalHeader()
        for column in range(self.preview_model.columnCount()):
            # One very long name or organisation must not push the other columns away.
            header.resizeSection(column, min(header.sectionSize(column), 320))
        self.report_written.emit(outcome)

    def _on_report_error(self, error: BaseException) -> None:
        if isinstance(error, ReportError | ReportWriteError | permissions.PermissionDenied):
            message = str(error)
            message = message[:1].upper() + message[1:]
        elif isinstance(error, OSError):
            message = f"The report could not be written: {error.strerror or error}"
        else:
            message = f"The report could not be made ({type(error).__name__}: {error})"
        self._fail(message if message.endswith(".") else message + ".")

    def _on_report_finished(self) -> None:
        self._running = False
        self.generate_button.setEnabled(self.current_spec() is not None)

    def _fail(self, message: str) -> None:
        self.status.setStyleSheet(f"font-size: 15px; color: {RED};")
        self.status.setText(f"✗ {message}")
        self.report_failed.emit(message)

    def _on_open_button_clicked(self) -> None:
        if self.last is not None:
            open_folder(self.last.path.parent)
