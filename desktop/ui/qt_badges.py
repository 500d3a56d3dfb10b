"""The badges area: pick a layout, find a person, see their badge, print it in one click.

Also: print a batch by country, category or "not yet printed" with progress and cancel, the
print log (who printed which badge, when, where, and why a reprint), and the retry queue
of prints a printer did not take. Printing runs on its own thread (:mod:`qt_printing`);
the prints are recorded on the writer thread once the printer has the job.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    QSize,
    QSizeF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import badges, desk, permissions, registry, search
from desktop.badges import BadgeFilter, PendingPrint, PrintEntry, PrinterSettings
from desktop.countries import country_name
from desktop.events import event_zone, utc_to_local
from desktop.models import Event
from desktop.permissions import PermissionDenied
from desktop.registry import AttendeeInfo
from desktop.store import Store
from desktop.ui.qt_printing import (
    BadgeJob,
    JobOutcome,
    PrinterChoice,
    available_printers,
    describe_settings,
    pdf_page_image,
    print_pool,
    run_badge_job,
)
from desktop.ui.qt_theme import AMBER, BLUE, GREEN, MUTED, RED, show_notice
from desktop.ui.qt_worker import CancelToken, TaskHandle, run_task, writer_pool

ModelIndex = QModelIndex | QPersistentModelIndex
LIST_LIMIT = 300
BATCH_TAB = 2
# Drawn at this size (times the screen's pixel ratio), shown scaled to the room there is.
PREVIEW_SIZE = QSize(360, 420)
PREVIEW_CACHE = 48


# --- dialogs, behind functions tests can replace ------------------------------------------


def ask_reason(
    parent: QWidget, title: str, prompt: str, on_done: Callable[[str | None], None]
) -> QDialog:
    """Ask why (a reprint, a lost badge); ``on_done`` gets the text, or None if cancelled."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(prompt)
    dialog.setInputMode(QInputDialog.InputMode.TextInput)

    def finished(code: int) -> None:
        text = dialog.textValue().strip()
        on_done(text if code == QDialog.DialogCode.Accepted and text else None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()
    return dialog


class PrinterSettingsDialog(QDialog):
    """Choose the badge printer, its paper and resolution once for this desk."""

    def __init__(
        self, parent: QWidget, current: PrinterSettings, printers: list[PrinterChoice]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Badge printer")
        self.current = current
        self.printers = printers
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Badges print on this printer without a print dialog. Choose “badge size” "
            "for label and card printers; choose a paper size for an office printer."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.printer_combo = QComboBox()
        for choice in printers:
            label = choice.name + (" (default)" if choice.is_default else "")
            if not choice.ready:
                label += " — reports a problem"
            self.printer_combo.addItem(label, choice.name)
        if current.printer and self.printer_combo.findData(current.printer) < 0:
            self.printer_combo.addItem(f"{current.printer} — not found", current.printer)
        self.printer_combo.setCurrentIndex(max(0, self.printer_combo.findData(current.printer)))
        self.paper_combo = QComboBox()
        self.dpi_combo = QComboBox()
        form.addRow("Printer", self.printer_combo)
        form.addRow("Paper", self.paper_combo)
        form.addRow("Resolution", self.dpi_combo)
        layout.addLayout(form)
        self.empty_note = QLabel(
            "This computer knows no printer. Connect one (or add it in the system's printer "
            "settings), then open this again."
        )
        self.empty_note.setWordWrap(True)
        self.empty_note.setStyleSheet(f"color: {RED};")
        self.empty_note.setVisible(not printers)
        layout.addWidget(self.empty_note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.printer_combo.currentIndexChanged.connect(self._on_printer_combo_changed)
        self._on_printer_combo_changed()

    def _choice(self) -> PrinterChoice | None:
        name = self.printer_combo.currentData()
        return next((p for p in self.printers if p.name == name), None)

    def _on_printer_combo_changed(self, _index: int = 0) -> None:
        choice = self._choice()
        self.paper_combo.clear()
        self.paper_combo.addItem("Badge size (labels, cards)", "layout")
        for key, name in choice.paper_sizes if choice else ():
            self.paper_combo.addItem(name, key)
        self.paper_combo.setCurrentIndex(max(0, self.paper_combo.findData(self.current.paper)))
        self.dpi_combo.clear()
        self.dpi_combo.addItem("The printer's own", 0)
        for dpi in choice.resolutions if choice else ():
            self.dpi_combo.addItem(f"{dpi} dpi", dpi)
        self.dpi_combo.setCurrentIndex(max(0, self.dpi_combo.findData(self.current.dpi)))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(
            self.printer_combo.count() > 0
        )

    def chosen(self) -> PrinterSettings:
        return PrinterSettings(
            printer=str(self.printer_combo.currentData() or ""),
            paper=str(self.paper_combo.currentData() or "layout"),
            dpi=int(self.dpi_combo.currentData() or 0),
            layout=self.current.layout,
        )


def open_printer_settings(
    parent: QWidget,
    current: PrinterSettings,
    on_done: Callable[[PrinterSettings | None], None],
) -> QDialog:
    """Open the printer settings; ``on_done`` gets the new settings, or None if cancelled."""
    dialog = PrinterSettingsDialog(parent, current, available_printers())

    def finished(code: int) -> None:
        on_done(dialog.chosen() if code == QDialog.DialogCode.Accepted else None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()
    return dialog


# --- the preview ---------------------------------------------------------------------------


class BadgePreview(QWidget):
    """The badge as it will print, scaled to fit (never overlapping what is below it)."""

    def __init__(self) -> None:
        super().__init__()
        self._image: QImage | None = None
        self._message = ""
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def image(self) -> QImage | None:
        """The badge image shown, if any."""
        return self._image

    def message(self) -> str:
        """The text shown instead of a badge, if any."""
        return self._message

    def set_image(self, image: QImage) -> None:
        self._image, self._message = image, ""
        self.update()

    def set_message(self, text: str) -> None:
        self._image, self._message = None, text
        self.update()

    def sizeHint(self) -> QSize:
        return PREVIEW_SIZE

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#e9ecf0"))
        painter.drawRoundedRect(QRectF(self.rect()), 8, 8)
        room = QRectF(self.rect()).adjusted(10, 10, -10, -10)
        if self._image is not None and not self._image.isNull():
            size = QSizeF(self._image.size()).scaled(
                room.size(), Qt.AspectRatioMode.KeepAspectRatio
            )
            target = QRectF(QPointF(0, 0), size)
            target.moveCenter(room.center())
            painter.drawImage(target, self._image)
        elif self._message:
            painter.setPen(QColor(MUTED))
            painter.drawText(
                room, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self._message
            )
        painter.end()


# --- models ----------------------------------------------------------------------------------


class _TableModel(QAbstractTableModel):
    """Rows of plain data with fixed headers; subclasses say what each cell shows."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        if not 0 <= index.column() < len(self.HEADERS):
            return None
        return self.cell(self._rows[index.row()], index.column(), role)

    def cell(self, row: Any, column: int, role: int) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class PersonRow:
    """An attendee in the badge list, with how often their badge was printed."""

    info: AttendeeInfo
    prints: int


class BadgeAttendeeModel(_TableModel):
    """Attendees to pick from: code, name, country, badge printed or not."""

    HEADERS = ("Code", "Name", "Country", "Badge")

    def cell(self, row: PersonRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return row.info.short_code
            if column == 1:
                return row.info.display_name
            if column == 2:
                return row.info.country
            if row.prints == 0:
                return "not printed"
            return "printed" if row.prints == 1 else f"printed ×{row.prints}"
        if role == Qt.ItemDataRole.ForegroundRole and column == 3:
            return QColor(GREEN if row.prints else MUTED)
        if role == Qt.ItemDataRole.ToolTipRole and column == 1 and row.info.native_name:
            return row.info.native_name
        return None


class PrintLogModel(_TableModel):
    """The print log: when, whose badge, which desk and operator, layout, first or reprint."""

    HEADERS = ("When", "Name", "Code", "Desk", "Operator", "Layout", "Print")

    def __init__(self) -> None:
        super().__init__()
        self.zone = ZoneInfo("UTC")

    def cell(self, row: PrintEntry, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return f"{utc_to_local(row.at, self.zone):%d %b %H:%M}"
            values = (
                row.attendee_name or row.attendee_id,
                row.short_code,
                row.desk_name,
                row.operator_name or "—",
                row.layout,
                f"Reprint: {row.reason}" if row.reprint else "First print",
            )
            return values[column - 1]
        if role == Qt.ItemDataRole.ForegroundRole and column == 6 and row.reprint:
            return QColor(AMBER)
        return None


class RetryQueueModel(_TableModel):
    """Prints waiting for a printer: since when, whose badges, what went wrong."""

    HEADERS = ("Since", "Badges", "Layout", "Tries", "Problem")

    def __init__(self) -> None:
        super().__init__()
        self.zone = ZoneInfo("UTC")

    def cell(self, row: PendingPrint, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                try:
                    at = datetime.fromisoformat(row.queued_at)
                except ValueError:
                    return row.queued_at
                return f"{utc_to_local(at, self.zone):%d %b %H:%M}"
            if column == 1:
                shown = ", ".join(row.names[:3])
                more = len(row.attendee_ids) - 3
                return shown + (f" and {more} more" if more > 0 else "")
            return (row.layout, str(row.attempts), row.error)[column - 2]
        if role == Qt.ItemDataRole.ToolTipRole and column == 4:
            return row.error
        return None


# --- work done off the GUI thread -----------------------------------------------------------


def render_preview(store: Store, attendee_id: str, layout_name: str, box: QSize) -> QImage:
    """One attendee's badge as an image fitting ``box`` (drawn like the printed one)."""
    with store.begin() as session:
        event_id = desk.current_event_id(session)
        if event_id is None:
            raise badges.BadgeError("no event is open at this desk")
        batch = badges.prepare(
            session, store.data_dir, event_id, layout_name, BadgeFilter(ids=(attendee_id,))
        )
    buffer = io.BytesIO()
    badges.draw(batch, buffer)
    return pdf_page_image(buffer.getvalue(), box)


@dataclass(frozen=True)
class PreviewRequest:
    """A preview to draw: whose, on which layout, how big (device pixels)."""

    attendee_id: str
    layout_name: str
    box: QSize
    ratio: float
    person: AttendeeInfo | None  # the data shown, to key the cache


@dataclass(frozen=True)
class Preview:
    """A drawn preview and what it was drawn for."""

    request: PreviewRequest
    image: QImage


def _preview_job(store: Store, request: PreviewRequest) -> Preview:
    image = render_preview(store, request.attendee_id, request.layout_name, request.box)
    return Preview(request, image)


def _record_outcome(store: Store, outcome: JobOutcome) -> JobOutcome:
    """On the writer: record what was printed; keep what was not in the retry queue."""
    job = outcome.job
    with store.begin() as session:
        if outcome.printed:
            badges.record_prints(
                session,
                job.ctx,
                list(outcome.printed),
                job.layout,
                job.reason,
                printed_seqs=outcome.seqs,
            )
        if outcome.retryable and outcome.failed:
            badges.queue_print(
                session,
                outcome.failed,
                [outcome.names.get(i, i) for i in outcome.failed],
                job.layout,
                job.reason,
                outcome.error,
                job_id=job.retry_of,
            )
        elif job.retry_of is not None and not outcome.cancelled:
            badges.drop_pending(session, job.retry_of)
    return outcome


def _revoke(store: Store, job: BadgeJob) -> BadgeJob:
    """On the writer: revoke the lost badge; the job prints its replacement."""
    with store.begin() as session:
        badges.revoke_badge(session, job.ctx, job.attendee_ids[0], job.reason)
    return job


def _drop_pending(store: Store, job_id: str) -> bool:
    with store.begin() as session:
        return badges.drop_pending(session, job_id)


# --- the page --------------------------------------------------------------------------------


class BadgesPage(QWidget):
    """Layout picker, attendee search, live preview, one-click print, batch, log, queue."""

    job_finished = Signal(object)  # JobOutcome, once recorded
    preview_shown = Signal(str)  # attendee id

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.setObjectName("badgesPage")
        self.event_id: str | None = None
        self.zone = ZoneInfo("UTC")
        self.settings = PrinterSettings()
        self.selected: AttendeeInfo | None = None
        self.batch_handle: TaskHandle | None = None
        self.batch_stop = CancelToken()
        self.jobs_running = 0
        self._preview_cache: OrderedDict[tuple[Any, ...], QImage] = OrderedDict()
        self._preview_running = False
        self._preview_wanted: tuple[str, str] | None = None

        root = QVBoxLayout(self)
        root.setContentsMargins(22, 14, 22, 14)
        root.setSpacing(10)
        root.addLayout(self._build_top_bar())
        self.notice = QLabel(objectName="badgeNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        root.addWidget(self.notice)

        middle = QWidget()
        middle_row = QHBoxLayout(middle)
        middle_row.setContentsMargins(0, 0, 0, 0)
        middle_row.setSpacing(14)
        middle_row.addWidget(self._build_people_panel(), 1)
        middle_row.addWidget(self._build_preview_panel())
        # A splitter, so a small screen can give the person and their badge the room.
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self._build_tabs())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        root.addWidget(self.splitter, 1)

        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self.reload_people)
        self._count_timer = QTimer(self, singleShot=True, interval=100)
        self._count_timer.timeout.connect(self._update_batch_count)
        self.setStyleSheet(
            "#badgeName { font-size: 22px; font-weight: 600; }"
            "#badgeStatus { font-size: 15px; color: " + MUTED + "; }"
            "#printerLine { font-size: 15px; }"
            "#batchCount { font-size: 16px; font-weight: 600; }"
            "QPushButton#printButton { font-size: 19px; padding: 12px 22px; font-weight: 600;"
            " background: " + BLUE + "; color: white; border: none; }"
            "QPushButton#printButton:disabled { background: #b8c0ca; }"
            "QPushButton:disabled { color: #9aa3ad; }"
            "#badgeNotice { font-size: 16px; padding: 10px 14px; border-radius: 8px; }"
        )
        self.refresh()

    # --- building --------------------------------------------------------------------------

    def _build_top_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Badges", objectName="pageTitle"))
        bar.addSpacing(18)
        bar.addWidget(QLabel("Layout"))
        self.layout_combo = QComboBox()
        self.layout_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.layout_combo.setMinimumContentsLength(30)
        self.layout_combo.activated.connect(self._on_layout_combo_activated)
        bar.addWidget(self.layout_combo)
        bar.addStretch(1)
        self.settings_button = QPushButton("Printer settings…")
        self.settings_button.clicked.connect(self._on_settings_button_clicked)
        bar.addWidget(self.settings_button)
        return bar

    def _build_people_panel(self) -> QWidget:
        panel = QFrame(objectName="card")
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(14, 12, 14, 12)
        self.search_field = QLineEdit(placeholderText="Find a person: name, organisation or code")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.textEdited.connect(self._on_search_field_edited)
        layout.addWidget(self.search_field)
        self.people_model = BadgeAttendeeModel()
        self.people_view = QTableView()
        self.people_view.setModel(self.people_model)
        self.people_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.people_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.people_view.verticalHeader().setVisible(False)
        header = self.people_view.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.people_view.selectionModel().currentRowChanged.connect(self._on_people_row_changed)
        layout.addWidget(self.people_view, 1)
        return panel

    def _build_preview_panel(self) -> QWidget:
        panel = QFrame(objectName="card")
        panel.setMinimumWidth(280)
        panel.setMaximumWidth(PREVIEW_SIZE.width() + 40)
        panel.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(16, 12, 16, 14)
        self.preview = BadgePreview()
        self.preview.set_message("Choose a person to see their badge")
        layout.addWidget(self.preview, 1)
        self.name_label = QLabel(objectName="badgeName")
        self.name_label.setWordWrap(True)
        self.status_label = QLabel(objectName="badgeStatus")
        self.status_label.setWordWrap(True)
        self.printer_line = QLabel(objectName="printerLine")
        self.printer_line.setWordWrap(True)
        layout.addWidget(self.name_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.printer_line)
        buttons = QHBoxLayout()
        self.print_button = QPushButton("Print badge", objectName="printButton")
        self.print_button.clicked.connect(self._on_print_button_clicked)
        self.lost_button = QPushButton("Lost badge…")
        self.lost_button.setToolTip("Revoke the lost badge (its QR code stops working), reprint")
        self.lost_button.clicked.connect(self._on_lost_button_clicked)
        buttons.addWidget(self.print_button, 1)
        buttons.addWidget(self.lost_button)
        layout.addLayout(buttons)
        return panel

    def _build_batch_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(12, 10, 12, 10)
        filters = QHBoxLayout()
        self.country_combo = QComboBox()
        self.category_combo = QComboBox()
        for combo in (self.country_combo, self.category_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.activated.connect(self._on_filter_changed)
        self.not_printed_box = QCheckBox("Not yet printed")
        self.not_printed_box.setChecked(True)
        self.not_printed_box.toggled.connect(self._on_filter_changed)
        filters.addWidget(self.country_combo)
        filters.addWidget(self.category_combo)
        filters.addWidget(self.not_printed_box)
        filters.addStretch(1)
        layout.addLayout(filters)
        row = QHBoxLayout()
        self.batch_count = QLabel(objectName="batchCount")
        self.batch_count.setWordWrap(True)
        row.addWidget(self.batch_count, 1)
        self.batch_progress = QProgressBar()
        self.batch_progress.setMinimumWidth(160)
        self.batch_progress.setFormat("%v of %m")
        self.batch_progress.hide()
        row.addWidget(self.batch_progress)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.cancel_button.hide()
        row.addWidget(self.cancel_button)
        self.batch_button = QPushButton("Print batch")
        self.batch_button.clicked.connect(self._on_batch_button_clicked)
        row.addWidget(self.batch_button)
        layout.addLayout(row)
        layout.addStretch(1)
        return page

    def _build_tabs(self) -> QWidget:
        self.tabs = QTabWidget()
        self.log_model = PrintLogModel()
        self.log_view = self._table(self.log_model, stretch=6)
        self.tabs.addTab(self.log_view, "Print log")
        queue_page = QWidget()
        queue_layout = QVBoxLayout(queue_page)
        queue_layout.setContentsMargins(0, 6, 0, 0)
        self.queue_model = RetryQueueModel()
        self.queue_view = self._table(self.queue_model, stretch=4)
        queue_layout.addWidget(self.queue_view, 1)
        queue_buttons = QHBoxLayout()
        self.retry_button = QPushButton("Retry all")
        self.retry_button.clicked.connect(self._on_retry_button_clicked)
        self.drop_button = QPushButton("Remove selected")
        self.drop_button.clicked.connect(self._on_drop_button_clicked)
        queue_buttons.addWidget(self.retry_button)
        queue_buttons.addWidget(self.drop_button)
        queue_buttons.addStretch(1)
        queue_layout.addLayout(queue_buttons)
        self.tabs.addTab(queue_page, "Waiting to print")
        self.tabs.addTab(self._build_batch_page(), "Print a batch")
        return self.tabs

    def _reserve_label_lines(self) -> None:
        # Wrapped labels do not count their second line in the panel's minimum: reserve it
        # (in the style sheet's font, known once shown), so on a small screen the preview
        # shrinks instead of sliding under the text.
        for label, lines in ((self.name_label, 1), (self.status_label, 2), (self.printer_line, 1)):
            label.ensurePolished()
            label.setMinimumHeight(label.fontMetrics().lineSpacing() * lines + 4)

    def showEvent(self, event: QShowEvent) -> None:
        self._reserve_label_lines()
        super().showEvent(event)

    def _table(self, model: QAbstractTableModel, stretch: int) -> QTableView:
        view = QTableView()
        view.setModel(model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.verticalHeader().setVisible(False)
        view.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        view.setMinimumHeight(60)
        return view

    # --- state -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the event, layouts, printer settings, people, batch filters, log and queue."""
        with self.store.read() as session:
            self.event_id = desk.current_event_id(session)
            event = session.get(Event, self.event_id) if self.event_id else None
            self.zone = event_zone(event) if event is not None else ZoneInfo("UTC")
            self.settings = badges.load_printer_settings(session)
            # DISTINCT in SQL: a handful of values, not one per attendee (100,000 at a large
            # event took seconds on the GUI thread).
            countries = search.countries(session, self.event_id) if self.event_id else []
            categories = search.categories(session, self.event_id) if self.event_id else []
        self.log_model.zone = self.queue_model.zone = self.zone
        self._fill_layouts()
        self._fill_filters(countries, categories)
        self._show_printer()
        self.reload_people()
        self.reload_log()
        self._update_batch_count()

    def _fill_layouts(self) -> None:
        self.layout_combo.clear()
        for info in badges.badge_layouts(self.store.data_dir):
            self.layout_combo.addItem(info.title, info.name)
        index = self.layout_combo.findData(self.settings.layout)
        self.layout_combo.setCurrentIndex(max(0, index))

    def _fill_filters(self, countries: list[str], categories: list[str]) -> None:
        keep_country = self.country_combo.currentData()
        keep_category = self.category_combo.currentData()
        self.country_combo.clear()
        self.country_combo.addItem("All countries", "")
        for code in sorted(countries, key=country_name):
            self.country_combo.addItem(country_name(code), code)
        self.category_combo.clear()
        self.category_combo.addItem("All categories", "")
        for key in categories:
            self.category_combo.addItem(badges.category_label(key), key)
        self.country_combo.setCurrentIndex(max(0, self.country_combo.findData(keep_country)))
        self.category_combo.setCurrentIndex(max(0, self.category_combo.findData(keep_category)))

    def layout_name(self) -> str:
        """The layout chosen in the picker."""
        return str(self.layout_combo.currentData() or badges.DEFAULT_LAYOUT)

    def _show_printer(self) -> None:
        text = describe_settings(self.settings)
        colour = MUTED if self.settings.configured else RED
        self.printer_line.setText(f"Printer: {text}")
        self.printer_line.setStyleSheet(f"color: {colour};")

    def batch_filter(self) -> BadgeFilter:
        """The filter the batch bar shows."""
        country = self.country_combo.currentData() or ""
        category = self.category_combo.currentData() or ""
        return BadgeFilter(
            countries=(country,) if country else (),
            categories=(category,) if category else (),
            not_printed=self.not_printed_box.isChecked(),
        )

    def reload_people(self) -> None:
        """Reload the attendee list for the search text, keeping the selection."""
        keep = self.selected.id if self.selected else None
        rows: list[PersonRow] = []
        if self.event_id:
            with self.store.begin() as session:
                people = registry.list_attendees(
                    session, self.event_id, self.search_field.text() or None, limit=LIST_LIMIT
                )
                counts = badges.print_counts(session, self.event_id, [p.id for p in people])
            rows = [PersonRow(p, counts.get(p.id, 0)) for p in people]
        self.people_model.set_rows(rows)
        self.people_view.resizeColumnToContents(0)
        self.people_view.resizeColumnToContents(2)
        target = next((i for i, r in enumerate(rows) if r.info.id == keep), 0 if rows else -1)
        if target >= 0:
            self.people_view.selectRow(target)
        else:
            self._show_person(None)

    def reload_log(self) -> None:
        """Reload the print log and the retry queue."""
        entries: list[PrintEntry] = []
        with self.store.read() as session:
            if self.event_id:
                entries = badges.print_log(session, self.event_id, limit=500)
            pending = badges.pending_prints(session)
        self.log_model.set_rows(entries)
        self.queue_model.set_rows(pending)
        self.queue_view.resizeColumnsToContents()
        self.queue_view.setColumnWidth(1, min(self.queue_view.columnWidth(1), 320))
        self.queue_view.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.log_view.resizeColumnsToContents()
        self.log_view.horizontalHeader().setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        waiting = len(pending)
        self.tabs.setTabText(1, f"Waiting to print ({waiting})" if waiting else "Waiting to print")
        self.retry_button.setEnabled(waiting > 0)
        self.drop_button.setEnabled(waiting > 0)

    def _update_batch_count(self) -> None:
        count = 0
        if self.event_id:
            with self.store.read() as session:
                count = badges.count_attendees(session, self.event_id, self.batch_filter())
        self.batch_count.setText(f"{count} badge(s): {self.batch_filter().describe()}.")
        running = self.batch_handle is not None
        self.batch_button.setText(f"Print {count} badge(s)" if count else "Print batch")
        self.batch_button.setEnabled(count > 0 and not running)

    def _show_person(self, person: AttendeeInfo | None) -> None:
        self.selected = person
        self.print_button.setEnabled(person is not None)
        self.lost_button.setEnabled(False)
        if person is None:
            self.name_label.setText("")
            self.status_label.setText("")
            self.preview.set_message("Choose a person to see their badge")
            return
        self.name_label.setText(person.display_name)
        assert self.event_id is not None
        with self.store.read() as session:
            status = badges.badge_status(session, self.event_id, person.id)
            first = (
                badges.describe_print(session, self.event_id, status.first) if status.first else ""
            )
        if person.status != "registered":
            text = "Registration cancelled: no badge."
            self.print_button.setEnabled(False)
        elif status.first is None:
            text = "Badge not printed yet."
        else:
            text = f"First printed {first}."
            if len(status.prints) > 1:
                text += f" Printed {len(status.prints)} times."
            if not status.current_printed:
                text += " Their badge was replaced: the new one is not printed yet."
        self.status_label.setText(f"{person.short_code} · {text}")
        self.print_button.setText("Reprint badge…" if status.printed else "Print badge")
        self.lost_button.setEnabled(status.printed and person.status == "registered")
        self.show_preview()

    # --- preview ---------------------------------------------------------------------------

    def show_preview(self) -> None:
        """Show the selected person's badge on the chosen layout (cached, drawn off-thread)."""
        if self.selected is None:
            return
        key = self._preview_key(self.selected)
        cached = self._preview_cache.get(key)
        if cached is not None:
            self._preview_cache.move_to_end(key)
            self._set_preview(cached, self.selected.id)
            return
        self._preview_wanted = (self.selected.id, self.layout_name())
        if not self._preview_running:
            self._start_preview()

    def _preview_key(self, person: AttendeeInfo) -> tuple[Any, ...]:
        ratio = self.devicePixelRatioF()
        return (self.layout_name(), person, ratio)

    def _start_preview(self) -> None:
        if self._preview_wanted is None:
            return
        attendee_id, layout_name = self._preview_wanted
        self._preview_wanted = None
        self._preview_running = True
        ratio = self.devicePixelRatioF()
        box = QSize(round(PREVIEW_SIZE.width() * ratio), round(PREVIEW_SIZE.height() * ratio))
        person = self.selected if self.selected and self.selected.id == attendee_id else None
        run_task(
            _preview_job,
            self.store,
            PreviewRequest(attendee_id, layout_name, box, ratio, person),
            on_result=self._on_preview_rendered,
            on_error=self._on_preview_failed,
            on_finished=self._on_preview_finished,
        )

    def _on_preview_rendered(self, preview: Preview) -> None:
        request = preview.request
        if request.person is not None:
            self._preview_cache[(request.layout_name, request.person, request.ratio)] = (
                preview.image
            )
            while len(self._preview_cache) > PREVIEW_CACHE:
                self._preview_cache.popitem(last=False)
        showing = self.selected is not None and self.selected.id == request.attendee_id
        if showing and request.layout_name == self.layout_name():
            self._set_preview(preview.image, request.attendee_id)

    def _set_preview(self, image: QImage, attendee_id: str) -> None:
        self.preview.set_image(image)
        self.preview_shown.emit(attendee_id)

    def _on_preview_failed(self, error: BaseException) -> None:
        self.preview.set_message(f"No preview: {error}")

    def _on_preview_finished(self) -> None:
        self._preview_running = False
        if self._preview_wanted is not None:
            self._start_preview()

    # --- printing --------------------------------------------------------------------------

    def say(self, text: str, tone: str = "info") -> None:
        """Show a message above the lists: info, ok, warn or error."""
        show_notice(self.notice, text, tone)

    def start_job(self, job: BadgeJob, *, batch: bool = False) -> TaskHandle | None:
        """Hand a job to the print thread; silent, to the configured printer."""
        if not self.settings.configured:
            self.say(
                "No badge printer is chosen at this desk: press Printer settings… first.", "error"
            )
            return None
        self.jobs_running += 1
        stop = CancelToken()
        handle = run_task(
            run_badge_job,
            self.store,
            job,
            self.settings,
            # Our own token rather than the handle's: a job cancelled before it starts
            # still reports its (empty) outcome, so the page always hears back.
            stop=stop,
            pool=print_pool(),
            on_progress=self._on_batch_progress if batch else None,
            on_result=self._on_job_done,
            on_error=self._on_job_crashed,
            on_finished=self._on_job_finished,
        )
        if batch:
            self.batch_handle = handle
            self.batch_stop = stop
            self.tabs.setCurrentIndex(BATCH_TAB)
            self.batch_progress.setRange(0, len(job.attendee_ids))
            self.batch_progress.setValue(0)
            self.batch_progress.show()
            self.cancel_button.show()
            self.batch_button.setEnabled(False)
        return handle

    def _check(self, attendee_ids: list[str], reason: str) -> bool:
        """Whether the operator may print these now; says why not."""
        if self.event_id is None:
            return False
        try:
            with self.store.begin() as session:
                ctx = desk.context(session)
                for attendee_id in attendee_ids:
                    badges.check_print(session, ctx, attendee_id, reason)
        except (badges.BadgeError, PermissionDenied) as exc:
            self.say(str(exc), "error")
            return False
        return True

    def _context(self) -> Any:
        with self.store.begin() as session:
            return desk.context(session)

    def print_selected(self, reason: str = "") -> None:
        """Print the selected person's badge; a reprint asks for a reason first."""
        person = self.selected
        if person is None or self.event_id is None:
            return
        with self.store.begin() as session:
            status = badges.badge_status(session, self.event_id, person.id)
            first = (
                badges.describe_print(session, self.event_id, status.first) if status.first else ""
            )
        if status.printed and not reason:
            try:
                with self.store.begin() as session:
                    permissions.require(session, desk.context(session), "reprint_badge")
            except PermissionDenied as exc:
                self.say(str(exc), "error")
                return

            def done(text: str | None) -> None:
                if text:
                    self.print_selected(text)

            ask_reason(
                self,
                "Reprint badge",
                f"{person.display_name}'s badge was first printed {first}.\nWhy print it again?",
                done,
            )
            return
        if not self._check([person.id], reason):
            return
        job = BadgeJob((person.id,), self.layout_name(), self._context(), reason)
        if self.start_job(job) is not None:
            self.say(f"Printing {person.display_name}'s badge…", "info")

    def replace_lost(self, reason: str = "") -> None:
        """Revoke the selected person's badge (lost), then print the new one."""
        person = self.selected
        if person is None:
            return
        if not reason:

            def done(text: str | None) -> None:
                if text:
                    self.replace_lost(text)

            ask_reason(
                self,
                "Lost badge",
                f"{person.display_name}'s badge will stop working at every door and a new "
                "one is printed.\nWhat happened (lost, stolen, damaged)?",
                done,
            )
            return
        if not self._check([person.id], reason):
            return
        job = BadgeJob((person.id,), self.layout_name(), self._context(), reason)
        run_task(
            _revoke,
            self.store,
            job,
            pool=writer_pool(),
            on_result=self._on_badge_revoked,
            on_error=self._on_write_failed,
        )

    def _on_badge_revoked(self, job: BadgeJob) -> None:
        self.start_job(job)
        self.say(
            "The old badge is revoked (its QR code no longer opens doors); printing the new one…"
        )
        self.reload_people()

    def print_batch(self, reason: str = "") -> None:
        """Print the badges the batch bar selects (asks for a reason if some are reprints)."""
        if self.event_id is None or self.batch_handle is not None:
            return
        flt = self.batch_filter()
        with self.store.begin() as session:
            ids = badges.select_ids(session, self.event_id, flt)
            again = badges.reprint_needed(session, self.event_id, ids)
        if not ids:
            self.say(f"No badge to print ({flt.describe()}).", "warn")
            return
        if again and not reason:

            def done(text: str | None) -> None:
                if text:
                    self.print_batch(text)

            ask_reason(
                self,
                "Reprint badges",
                f"{len(again)} of these {len(ids)} badges were printed before.\n"
                "Why print them again?",
                done,
            )
            return
        if not self._check(ids, reason):
            return
        job = BadgeJob(tuple(ids), self.layout_name(), self._context(), reason)
        if self.start_job(job, batch=True) is not None:
            self.say(f"Printing {len(ids)} badge(s): {flt.describe()}…")

    def retry_pending(self) -> None:
        """Send every job of the retry queue to the printer again."""
        with self.store.begin() as session:
            pending = badges.pending_prints(session)
        if not pending:
            return
        ctx = self._context()
        started = 0
        for item in pending:
            job = BadgeJob(item.attendee_ids, item.layout, ctx, item.reason, retry_of=item.job_id)
            if self.start_job(job) is None:
                return
            started += 1
        self.say(f"Trying {started} waiting print job(s) again…")

    # --- slots -----------------------------------------------------------------------------

    def _on_layout_combo_activated(self, _index: int) -> None:
        self.settings = PrinterSettings(
            self.settings.printer, self.settings.paper, self.settings.dpi, self.layout_name()
        )
        with self.store.begin() as session:
            badges.save_printer_settings(session, self.settings)
        self.show_preview()

    def _on_settings_button_clicked(self) -> None:
        def done(chosen: PrinterSettings | None) -> None:
            if chosen is None:
                return
            self.settings = PrinterSettings(
                chosen.printer, chosen.paper, chosen.dpi, self.layout_name()
            )
            with self.store.begin() as session:
                badges.save_printer_settings(session, self.settings)
            self._show_printer()
            self.say(f"Badges print on {describe_settings(self.settings)}.", "ok")

        open_printer_settings(self, self.settings, done)

    def _on_search_field_edited(self, _text: str) -> None:
        self._search_timer.start()

    def _on_people_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self._show_person(None)
            return
        row: PersonRow = self.people_model.row_at(current.row())
        # Also after a reload of the same person: their badge status may have changed.
        self._show_person(row.info)

    def _on_print_button_clicked(self) -> None:
        self.print_selected()

    def _on_lost_button_clicked(self) -> None:
        self.replace_lost()

    def _on_filter_changed(self, *_args: object) -> None:
        self._count_timer.start()

    def _on_batch_button_clicked(self) -> None:
        self.print_batch()

    def _on_cancel_button_clicked(self) -> None:
        if self.batch_handle is not None:
            self.batch_stop.cancel()
            self.cancel_button.setEnabled(False)
            self.say("Stopping once the badges being sent now have reached the printer…", "warn")

    def _on_retry_button_clicked(self) -> None:
        self.retry_pending()

    def _on_drop_button_clicked(self) -> None:
        rows = self.queue_view.selectionModel().selectedRows()
        if not rows:
            self.say("Select a waiting job first.", "warn")
            return
        item: PendingPrint = self.queue_model.row_at(rows[0].row())
        run_task(
            _drop_pending,
            self.store,
            item.job_id,
            pool=writer_pool(),
            on_result=self._on_pending_dropped,
        )

    def _on_batch_progress(self, done: int, total: int, _message: str) -> None:
        self.batch_progress.setRange(0, max(1, total))
        self.batch_progress.setValue(done)
        self.tabs.setTabText(BATCH_TAB, f"Print a batch ({done} of {total})")

    def _on_job_done(self, outcome: JobOutcome) -> None:
        run_task(
            _record_outcome,
            self.store,
            outcome,
            pool=writer_pool(),
            on_result=self._on_outcome_recorded,
            on_error=self._on_write_failed,
        )

    def _on_outcome_recorded(self, outcome: JobOutcome) -> None:
        printed = len(outcome.printed)
        names = [outcome.names.get(i, "") for i in outcome.printed]
        what = f"{names[0]}'s badge" if printed == 1 else f"{printed} badges"
        if outcome.retryable:
            left = len(outcome.failed)
            done = f"{what} printed. " if printed else ""
            self.say(
                f"{done}{outcome.error} {left} badge(s) wait under “Waiting to print”.", "error"
            )
        elif outcome.error:
            self.say(f"Nothing printed: {outcome.error}", "error")
        elif outcome.cancelled:
            self.say(f"Cancelled. {printed} badge(s) had gone to the printer.", "warn")
        else:
            extra = f" ({'; '.join(outcome.warnings[:2])})" if outcome.warnings else ""
            self.say(f"{what[0].upper()}{what[1:]} sent to the printer.{extra}", "ok")
        self.reload_people()
        self.reload_log()
        self._update_batch_count()
        self.job_finished.emit(outcome)

    def _on_pending_dropped(self, _dropped: bool) -> None:
        self.reload_log()

    def _on_write_failed(self, error: BaseException) -> None:
        self.say(f"Not saved: {error}", "error")

    def _on_job_crashed(self, error: BaseException) -> None:
        self.say(f"Printing failed: {error}", "error")

    def _on_job_finished(self) -> None:
        self.jobs_running -= 1
        if self.batch_handle is not None and self.batch_handle.done:
            self.batch_handle = None
            self.batch_progress.hide()
            self.tabs.setTabText(BATCH_TAB, "Print a batch")
            self.cancel_button.hide()
            self.cancel_button.setEnabled(True)
            self._update_batch_count()
