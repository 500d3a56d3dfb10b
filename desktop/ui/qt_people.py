"""The attendees area: everyone registered, searchable."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtWidgets import QHeaderView, QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget

from desktop import desk, registry
from desktop.models import CATEGORY_LABELS
from desktop.registry import AttendeeInfo
from desktop.store import Store

ModelIndex = QModelIndex | QPersistentModelIndex


class AttendeeTableModel(QAbstractTableModel):
    """Attendees as rows for a table view."""

    COLUMNS = (
        ("short_code", "Code"),
        ("name", "Name"),
        ("native_name", "Native name"),
        ("country", "Country"),
        ("organisation", "Organisation"),
        ("category", "Category"),
        ("status", "Status"),
    )

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[AttendeeInfo] = []

    def set_attendees(self, rows: list[AttendeeInfo]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def attendee_at(self, row: int) -> AttendeeInfo:
        return self._rows[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section][1]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        person = self._rows[index.row()]
        key = self.COLUMNS[index.column()][0]
        if key == "name":
            return person.display_name
        if key == "category":
            return CATEGORY_LABELS.get(person.category, person.category)
        if key == "status":
            return person.status.capitalize()
        return str(getattr(person, key))


class PeoplePage(QWidget):
    """Search box and the attendee table."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(QLabel("Attendees", objectName="pageTitle"))
        self.search = QLineEdit(placeholderText="Search name, organisation, e-mail or code")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        self.count = QLabel(objectName="figureLabel")
        layout.addWidget(self.count)
        self.model = AttendeeTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self._debounce = QTimer(self, singleShot=True, interval=120)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.refresh()

    def _on_search_text_changed(self, _text: str) -> None:
        self._debounce.start()

    def refresh(self) -> None:
        """Reload the table for the current search."""
        with self.store.begin() as session:
            event_id = desk.current_event_id(session)
            rows = (
                registry.list_attendees(session, event_id, self.search.text() or None)
                if event_id
                else []
            )
        self.model.set_attendees(rows)
        self.count.setText(f"{len(rows)} attendee(s)")
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
