"""The operators area (administrators): who may sign in at the desks, in which role.

Adding an operator hashes the PIN (deliberately slow) and checks it against every other
operator's, so the work runs in the writer worker, never on the GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import desk, operators, permissions
from desktop.operators import OperatorInfo
from desktop.store import Store
from desktop.ui.qt_worker import run_task, writer_pool

ModelIndex = QModelIndex | QPersistentModelIndex


class OperatorTableModel(QAbstractTableModel):
    """Operators as rows: name, role, whether they may sign in."""

    HEADERS = ("Name", "Role", "May sign in")

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[OperatorInfo] = []

    def set_operators(self, rows: list[OperatorInfo]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def operator_at(self, row: int) -> OperatorInfo:
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
        person = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (person.name, person.role_label, "yes" if person.active else "no")[
                index.column()
            ]
        if role == Qt.ItemDataRole.UserRole:
            return person.id
        return None


def _add(store: Store, name: str, role: str, secret: str) -> OperatorInfo:
    with store.begin() as session:
        return operators.create_operator(session, desk.context(session), name, role, secret)


def _set_active(store: Store, operator_id: str, active: bool) -> None:
    with store.begin() as session:
        operators.set_active(session, desk.context(session), operator_id, active)


class OperatorsPage(QWidget):
    """The event's operators, and a form to add one."""

    required_action = "manage_operators"
    changed = Signal()  # after a write succeeded or failed and the list was reloaded

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(QLabel("Operators", objectName="pageTitle"))
        layout.addWidget(
            QLabel("The people who may sign in at this event's desks, and what each may do.")
        )
        body = QHBoxLayout()
        self.model = OperatorTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        body.addWidget(self.table, 3)

        side = QVBoxLayout()
        side.addWidget(QLabel("<b>Add an operator</b>"))
        form = QFormLayout()
        self.name = QLineEdit(placeholderText="Full name")
        self.role = QComboBox()
        for role in permissions.ROLES:
            self.role.addItem(permissions.ROLE_LABELS[role], role)
        self.secret = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.again = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        form.addRow("Name", self.name)
        form.addRow("Role", self.role)
        form.addRow("PIN or password", self.secret)
        form.addRow("Once more", self.again)
        side.addLayout(form)
        self.add_button = QPushButton("Add operator", objectName="primary")
        self.add_button.clicked.connect(self._on_add_button_clicked)
        self.again.returnPressed.connect(self._on_add_button_clicked)
        side.addWidget(self.add_button)
        self.toggle_button = QPushButton("Stop this operator signing in")
        self.toggle_button.setEnabled(False)
        self.toggle_button.clicked.connect(self._on_toggle_button_clicked)
        side.addSpacing(16)
        side.addWidget(self.toggle_button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        side.addWidget(self.message)
        side.addStretch(1)
        body.addLayout(side, 2)
        layout.addLayout(body, 1)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)

    def refresh(self) -> None:
        """Reload the list from the store."""
        with self.store.begin() as session:
            event_id = desk.current_event_id(session) or ""
            rows = operators.list_operators(session, event_id, include_inactive=True)
        self.model.set_operators(rows)
        self._on_selection_changed()

    def _selected(self) -> OperatorInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.operator_at(rows[0].row()) if rows else None

    def _on_selection_changed(self, *_args: object) -> None:
        person = self._selected()
        self.toggle_button.setEnabled(person is not None)
        self.toggle_button.setVisible(person is not None)  # the theme draws disabled as enabled
        if person is not None and not person.active:
            self.toggle_button.setText("Let this operator sign in again")
        else:
            self.toggle_button.setText("Stop this operator signing in")

    def _on_add_button_clicked(self) -> None:
        if self.secret.text() != self.again.text():
            self.message.setText("The two PINs differ: type the same one twice.")
            return
        self.add_button.setEnabled(False)
        self.message.setText("Adding…")
        run_task(
            _add,
            self.store,
            self.name.text(),
            str(self.role.currentData()),
            self.secret.text(),
            on_result=self._on_add_result,
            on_error=self._on_write_error,
            pool=writer_pool(),
        )

    def _on_add_result(self, person: OperatorInfo) -> None:
        for field in (self.name, self.secret, self.again):
            field.clear()
        self.add_button.setEnabled(True)
        self.message.setText(f"{person.name} may now sign in as {person.role_label.lower()}.")
        self.refresh()
        self.changed.emit()

    def _on_toggle_button_clicked(self) -> None:
        person = self._selected()
        if person is None:
            return
        run_task(
            _set_active,
            self.store,
            person.id,
            not person.active,
            on_result=lambda _none: self._on_toggle_result(person),
            on_error=self._on_write_error,
            pool=writer_pool(),
        )

    def _on_toggle_result(self, person: OperatorInfo) -> None:
        state = "may no longer sign in" if person.active else "may sign in again"
        self.message.setText(f"{person.name} {state}.")
        self.refresh()
        self.changed.emit()

    def _on_write_error(self, exc: BaseException) -> None:
        self.add_button.setEnabled(True)
        text = str(exc)
        self.message.setText(text[:1].upper() + text[1:])
        self.refresh()
        self.changed.emit()
