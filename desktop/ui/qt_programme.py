"""The sessions area: the programme by day."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from desktop import desk
from desktop.events import SessionInfo, list_sessions
from desktop.store import Store

ModelIndex = QModelIndex | QPersistentModelIndex


class SessionTableModel(QAbstractTableModel):
    """The programme as rows: day, time, title, room, capacity, certificate."""

    HEADERS = ("Day", "Time", "Session", "Room", "Capacity", "Counts for certificate")

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[SessionInfo] = []

    def set_sessions(self, rows: list[SessionInfo]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def session_at(self, row: int) -> SessionInfo:
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
        item = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            column = index.column()
            if column == 0:
                return f"{item.starts_at:%a %d %b}" if item.starts_at else ""
            if column == 1:
                if item.starts_at is None:
                    return ""
                end = f"–{item.ends_at:%H:%M}" if item.ends_at else ""
                return f"{item.starts_at:%H:%M}{end}"
            if column == 2:
                return item.title
            if column == 3:
                return item.room
            if column == 4:
                return "" if item.capacity is None else str(item.capacity)
            if column == 5:
                return "Yes" if item.counts_for_certificate else "No"
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 2 and item.categories:
            return "Open to: " + ", ".join(item.categories)
        return None


class ProgrammePage(QWidget):
    """The programme of the open event."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(QLabel("Sessions", objectName="pageTitle"))
        self.model = SessionTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.refresh()

    def refresh(self) -> None:
        """Reload the programme."""
        with self.store.begin() as session:
            event_id = desk.current_event_id(session)
            rows = list_sessions(session, event_id) if event_id else []
        self.model.set_sessions(rows)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
