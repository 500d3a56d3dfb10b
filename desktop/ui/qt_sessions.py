"""The sessions area: the programme by day with live counts, and each session's attendance.

A supervisor can add someone's attendance (a paper sign-in sheet, a broken scanner) or remove
it, always with a reason; both are operations like any scan, so every desk converges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import attendance, checkin, clock, desk, registry
from desktop.attendance import AttendanceRow, DoorCount
from desktop.events import SessionInfo, event_zone, list_sessions, utc_to_local
from desktop.models import CATEGORY_LABELS, Event
from desktop.registry import AttendeeInfo
from desktop.store import Store
from desktop.ui.qt_checkin import ask_reason
from desktop.ui.qt_theme import GREEN, MUTED
from desktop.ui.qt_worker import run_task, writer_pool

ModelIndex = QModelIndex | QPersistentModelIndex
ALL_DAYS = "all"


class ProgrammeModel(QAbstractTableModel):
    """The programme with live counts: arrived, seats, inside now."""

    HEADERS = ("Time", "Session", "Room", "Arrived", "Seats", "Inside now", "Certificate")

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[SessionInfo] = []
        self._counts: dict[str, DoorCount] = {}
        self.show_day = True

    def set_programme(self, rows: list[SessionInfo], counts: dict[str, DoorCount]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._counts = dict(counts)
        self.endResetModel()

    def set_counts(self, counts: dict[str, DoorCount]) -> None:
        """Update only the figures (the live refresh), keeping the selection."""
        self._counts = dict(counts)
        if self._rows:
            self.dataChanged.emit(self.index(0, 3), self.index(len(self._rows) - 1, 5))

    @property
    def counts(self) -> dict[str, DoorCount]:
        """The figures shown, by session id."""
        return dict(self._counts)

    def session_at(self, row: int) -> SessionInfo:
        return self._rows[row]

    def row_of(self, session_id: str) -> int:
        for row, item in enumerate(self._rows):
            if item.id == session_id:
                return row
        return -1

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
        item = self._rows[index.row()]
        column = index.column()
        figures = self._counts.get(item.id)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                if item.starts_at is None:
                    return ""
                end = f"–{item.ends_at:%H:%M}" if item.ends_at else ""
                day = f"{item.starts_at:%a %d %b}  " if self.show_day else ""
                return f"{day}{item.starts_at:%H:%M}{end}"
            if column == 1:
                return item.title
            if column == 2:
                return item.room
            if column == 3:
                return str(figures.arrived if figures else 0)
            if column == 4:
                return "" if item.capacity is None else str(item.capacity)
            if column == 5:
                return str(figures.inside if figures else 0)
            if column == 6:
                return "Counts" if item.counts_for_certificate else "—"
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (3, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and column == 5:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and column == 1 and item.categories:
            return "Open to: " + ", ".join(CATEGORY_LABELS.get(c, c) for c in item.categories)
        return None


@dataclass(frozen=True)
class AttendanceLine:
    """An attendance row with the person's details."""

    row: AttendanceRow
    person: AttendeeInfo | None


class AttendanceModel(QAbstractTableModel):
    """Who attended the selected session."""

    HEADERS = ("Name", "Country", "Organisation", "Category", "In", "Out", "Inside", "Note")

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[AttendanceLine] = []
        self.zone = ZoneInfo("UTC")

    def set_lines(self, lines: list[AttendanceLine], zone: ZoneInfo) -> None:
        self.beginResetModel()
        self._lines = list(lines)
        self.zone = zone
        self.endResetModel()

    def line_at(self, row: int) -> AttendanceLine:
        return self._lines[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

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
        if not index.isValid() or not (0 <= index.row() < len(self._lines)):
            return None
        line = self._lines[index.row()]
        person, row = line.person, line.row
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return person.display_name if person else f"(not on this desk) {row.attendee_id}"
            if column == 1:
                return person.country if person else ""
            if column == 2:
                return person.organisation if person else ""
            if column == 3:
                return CATEGORY_LABELS.get(person.category, person.category) if person else ""
            if column == 4:
                return f"{utc_to_local(row.first_in, self.zone):%H:%M}"
            if column == 5:
                return f"{utc_to_local(row.last_out, self.zone):%H:%M}" if row.last_out else ""
            if column == 6:
                return "Inside" if row.inside else "Left"
            if column == 7:
                return ("Added: " + "; ".join(row.reasons)) if row.forced else ""
        if role == Qt.ItemDataRole.ForegroundRole and column == 6:
            return QColor(GREEN if row.inside else MUTED)
        return None


# --- add attendance dialog -----------------------------------------------------------------


class AddAttendanceDialog(QDialog):
    """Find a person and give the reason their attendance is added."""

    def __init__(self, parent: QWidget, store: Store, event_id: str, session_title: str):
        super().__init__(parent)
        self.store = store
        self.event_id = event_id
        self.setWindowTitle("Add attendance")
        self.resize(620, 480)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Add someone to “{session_title}”"))
        self.search = QLineEdit(placeholderText="Name, organisation or code")
        self.results = QListWidget()
        self.reason = QLineEdit(placeholderText="Reason (e.g. signed the paper sheet)")
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.reason)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.search.textChanged.connect(self._on_search_text_changed)
        self._on_search_text_changed("")

    def _on_search_text_changed(self, text: str) -> None:
        with self.store.begin() as session:
            hits = registry.list_attendees(session, self.event_id, text or None, limit=50)
        self.results.clear()
        for person in hits:
            item = QListWidgetItem(f"{person.display_name}  ·  {person.organisation}")
            item.setData(Qt.ItemDataRole.UserRole, person.id)
            self.results.addItem(item)
        if hits:
            self.results.setCurrentRow(0)

    def chosen(self) -> tuple[str, str] | None:
        item = self.results.currentItem()
        reason = self.reason.text().strip()
        if item is None or not reason:
            return None
        return str(item.data(Qt.ItemDataRole.UserRole)), reason

    def _on_buttons_accepted(self) -> None:
        if self.chosen() is None:
            self.reason.setFocus()
            self.reason.setPlaceholderText("A person and a reason are both needed")
            return
        self.accept()


def open_add_attendance(
    parent: QWidget,
    store: Store,
    event_id: str,
    session_title: str,
    on_done: Callable[[tuple[str, str] | None], None],
) -> QDialog:
    """Open the add-attendance dialog; ``on_done((attendee_id, reason))`` or None."""
    dialog = AddAttendanceDialog(parent, store, event_id, session_title)

    def finished(code: int) -> None:
        on_done(dialog.chosen() if code == QDialog.DialogCode.Accepted else None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()
    return dialog


# --- work off the GUI thread ---------------------------------------------------------------


def _counts_job(store: Store, event_id: str) -> dict[str, DoorCount]:
    with store.read() as session:
        return attendance.session_counts(session, event_id)


def _add_job(store: Store, attendee_id: str, session_id: str, reason: str) -> None:
    with store.begin() as session:
        checkin.add_attendance(session, desk.context(session), attendee_id, session_id, reason)


def _remove_job(store: Store, attendee_id: str, session_id: str, reason: str) -> int:
    with store.begin() as session:
        return checkin.remove_attendance(
            session, desk.context(session), attendee_id, session_id, reason
        )


def load_attendance(store: Store, event_id: str, session_id: str) -> list[AttendanceLine]:
    """A session's attendance with each person's details."""
    with store.read() as session:
        rows = attendance.session_attendance(session, event_id, session_id)
        # Plain rows of the shown columns, not ORM objects: a plenary of 100,000 loads in a
        # fraction of the time.
        people = {p.id: p for p in registry.get_many(session, [r.attendee_id for r in rows])}
    return [AttendanceLine(r, people.get(r.attendee_id)) for r in rows]


# --- the page ------------------------------------------------------------------------------


class SessionsPage(QWidget):
    """The programme by day with live counts, and the selected session's attendance."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.event_id: str | None = None
        self.zone = ZoneInfo("UTC")
        self.programme: list[SessionInfo] = []
        self._counting = False
        self._count_again = False
        # Which attendance load is the latest: a slower earlier one is not shown over it.
        self._attendance_generation = 0
        self._attendance_shown: str | None = None  # the session whose list is on screen

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        top = QHBoxLayout()
        top.addWidget(QLabel("Sessions", objectName="pageTitle"))
        top.addStretch(1)
        top.addWidget(QLabel("Day"))
        self.day_combo = QComboBox()
        self.day_combo.activated.connect(self._on_day_combo_activated)
        top.addWidget(self.day_combo)
        layout.addLayout(top)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.model = ProgrammeModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        splitter.addWidget(self.table)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 10, 0, 0)
        head = QHBoxLayout()
        self.attendance_title = QLabel(objectName="figureLabel")
        self.attendance_title.setStyleSheet("font-size: 17px; font-weight: 600;")
        head.addWidget(self.attendance_title, 1)
        self.add_button = QPushButton("Add attendance…")
        self.remove_button = QPushButton("Remove attendance…")
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        head.addWidget(self.add_button)
        head.addWidget(self.remove_button)
        lower_layout.addLayout(head)
        self.attendance_model = AttendanceModel()
        self.attendance_view = QTableView()
        self.attendance_view.setModel(self.attendance_model)
        self.attendance_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.attendance_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.attendance_view.verticalHeader().setVisible(False)
        lower_layout.addWidget(self.attendance_view, 1)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

        self._live = QTimer(self, interval=5000)
        self._live.timeout.connect(self.refresh_counts)
        # Loaded when first shown, not at start-up (a plenary's list is 100,000 lines).
        self._never_loaded = True

    # --- loading -------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the programme, the counts and the selected session's attendance."""
        self._never_loaded = False
        current = self.selected_session()
        # The programme is a few rows, read here; the counts read every scan of the event, so
        # they come from a worker (refresh_counts) and fill the table when they arrive.
        with self.store.read() as session:
            event_id = desk.current_event_id(session)
            event = session.get(Event, event_id) if event_id else None
            self.zone = event_zone(event) if event is not None else ZoneInfo("UTC")
            self.programme = list_sessions(session, event_id) if event_id else []
            today = attendance.local_day(self.zone, clock.now(session))
        counts = self.model.counts if event_id == self.event_id else {}
        self.event_id = event_id
        days = sorted({s.starts_at.date() for s in self.programme if s.starts_at})
        chosen = self.day_combo.currentData()
        self.day_combo.blockSignals(True)
        self.day_combo.clear()
        self.day_combo.addItem("All days", ALL_DAYS)
        for day in days:
            # ISO text as the item data: findData cannot match Python date objects.
            self.day_combo.addItem(f"{day:%A %d %B}", day.isoformat())
        if chosen is None:
            chosen = today.isoformat() if today in days else ALL_DAYS
        self.day_combo.setCurrentIndex(max(0, self.day_combo.findData(chosen)))
        self.day_combo.blockSignals(False)
        self._show_day(counts)
        loads = self._attendance_generation
        if current is not None and self.model.row_of(current.id) >= 0:
            self.table.selectRow(self.model.row_of(current.id))
        elif self.model.rowCount():
            self.table.selectRow(0)
        if self._attendance_generation == loads:  # a new selection has already asked for it
            self._load_attendance()
        self.refresh_counts()

    def _show_day(self, counts: dict[str, DoorCount]) -> None:
        day = self.day_combo.currentData()
        rows = [
            s
            for s in self.programme
            if day in (None, ALL_DAYS)
            or (s.starts_at is not None and s.starts_at.date().isoformat() == day)
        ]
        self.model.show_day = day in (None, ALL_DAYS)
        self.model.set_programme(rows, counts)
        header = self.table.horizontalHeader()
        self.table.resizeColumnsToContents()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

    def refresh_counts(self) -> None:
        """Reload the live counts off the GUI thread."""
        if self.event_id is None:
            return
        if self._counting:
            self._count_again = True  # counted again once the one running is in
            return
        self._counting = True
        run_task(
            _counts_job,
            self.store,
            self.event_id,
            on_result=self.model.set_counts,
            on_finished=self._on_counts_finished,
        )

    def _on_counts_finished(self) -> None:
        self._counting = False
        if self._count_again:
            self._count_again = False
            self.refresh_counts()

    def selected_session(self) -> SessionInfo | None:
        """The session whose attendance is shown."""
        index = self.table.currentIndex() if hasattr(self, "table") else QModelIndex()
        if not index.isValid():
            return None
        return self.model.session_at(index.row())

    def _load_attendance(self) -> None:
        self._attendance_generation += 1
        item = self.selected_session()
        if item is None or self.event_id is None:
            self._attendance_shown = None
            self.attendance_title.setText("Choose a session to see who attended")
            self.attendance_model.set_lines([], self.zone)
            self.add_button.setEnabled(False)
            self.remove_button.setEnabled(False)
            return
        # A plenary's list is read off the GUI thread. Reloading the list on screen keeps it
        # until the new one is in; another session's list is cleared at once, so no one is
        # removed from the wrong session.
        generation = self._attendance_generation
        if item.id != self._attendance_shown:
            self._attendance_shown = None
            self.attendance_model.set_lines([], self.zone)
            self.attendance_title.setText(f"{item.title}: loading attendance…")
            self.remove_button.setEnabled(False)
        self.add_button.setEnabled(True)
        run_task(
            load_attendance,
            self.store,
            self.event_id,
            item.id,
            on_result=lambda lines: self._on_attendance_loaded(generation, item, lines),
            on_error=lambda error: self._on_attendance_failed(generation, item, error),
        )

    def _on_attendance_failed(
        self, generation: int, item: SessionInfo, error: BaseException
    ) -> None:
        if generation == self._attendance_generation:
            self.attendance_title.setText(
                f"{item.title}: the attendance could not be read ({error})"
            )

    def _on_attendance_loaded(
        self, generation: int, item: SessionInfo, lines: list[AttendanceLine]
    ) -> None:
        if generation != self._attendance_generation:
            return  # another session was chosen (or the list reloaded) meanwhile
        self._attendance_shown = item.id
        inside = sum(1 for line in lines if line.row.inside)
        self.attendance_title.setText(f"{item.title}: {len(lines)} attended, {inside} inside now")
        self.attendance_model.set_lines(lines, self.zone)
        self.attendance_view.resizeColumnsToContents()
        self.attendance_view.horizontalHeader().setSectionResizeMode(
            2, QHeaderView.ResizeMode.Stretch
        )
        self.add_button.setEnabled(True)
        self.remove_button.setEnabled(bool(lines))

    # --- slots ---------------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._live.start()
        if self._never_loaded:
            # Next turn of the loop: the window's own refresh on showing an area comes first.
            QTimer.singleShot(0, self, self._first_load)

    def _first_load(self) -> None:
        if self._never_loaded:
            self.refresh()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._live.stop()

    def _on_day_combo_activated(self, _index: int) -> None:
        self._show_day(self.model.counts)
        if self.model.rowCount():
            self.table.selectRow(0)
        self._load_attendance()

    def _on_table_current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._load_attendance()

    def _on_add_button_clicked(self) -> None:
        item = self.selected_session()
        if item is None or self.event_id is None:
            return

        def done(choice: tuple[str, str] | None) -> None:
            if choice is not None:
                attendee_id, reason = choice
                run_task(
                    _add_job,
                    self.store,
                    attendee_id,
                    item.id,
                    reason,
                    pool=writer_pool(),
                    on_result=lambda _r: self.refresh(),
                    on_error=self._on_action_failed,
                )

        open_add_attendance(self, self.store, self.event_id, item.title, done)

    def _on_remove_button_clicked(self) -> None:
        item = self.selected_session()
        rows = self.attendance_view.selectionModel().selectedRows()
        if item is None or not rows:
            self.attendance_title.setText("Choose the person to remove in the list first")
            return
        line = self.attendance_model.line_at(rows[0].row())
        name = line.person.display_name if line.person else line.row.attendee_id

        def done(reason: str | None) -> None:
            if reason:
                run_task(
                    _remove_job,
                    self.store,
                    line.row.attendee_id,
                    item.id,
                    reason,
                    pool=writer_pool(),
                    on_result=lambda _n: self.refresh(),
                    on_error=self._on_action_failed,
                )

        ask_reason(self, "Remove attendance", f"Why remove {name} from “{item.title}”?", done)

    def _on_action_failed(self, error: BaseException) -> None:
        self.attendance_title.setText(f"Not changed: {error}")
