"""The audit trail area: every change, by whom, at which desk and when, with filters.

Supervisors and administrators only (the area is hidden from desk staff and the service
refuses them too). Times are shown in the event's time zone; attendees by their short code.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QDateTime,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import audit, desk, events
from desktop.audit import AuditChoices, AuditEntry, AuditFilter
from desktop.models import Event
from desktop.permissions import PermissionDenied
from desktop.store import Store
from desktop.ui.qt_worker import run_task

ModelIndex = QModelIndex | QPersistentModelIndex
LIMIT = 1000

KIND_LABELS = {
    "scan": "Scan",
    "scan.void": "Scan undone",
    "attendee.put": "Attendee registered or changed",
    "attendee.cancel": "Registration cancelled",
    "attendee.restore": "Cancellation undone",
    "attendee.erase": "Personal data erased",
    "badge.print": "Badge printed",
    "badge.revoke": "Badge revoked",
    "certificate.issue": "Certificate issued",
    "certificate.revoke": "Certificate revoked",
    "certificate.override": "Certificate eligibility overridden",
    "certificate.settings.put": "Certificate rules or signatories changed",
    "operator.put": "Operator added or changed",
    "event.put": "Event settings changed",
    "session.put": "Session added or changed",
    "desk.put": "Desk named",
}
PERIODS = ("Any time", "Last hour", "Today", "Yesterday", "Chosen dates")


def kind_label(kind: str) -> str:
    """How a kind of change reads for desk staff."""
    return KIND_LABELS.get(kind, kind)


class AuditTableModel(QAbstractTableModel):
    """Audit entries as rows: time, desk, operator, change, details."""

    HEADERS = ("Time", "Desk", "Operator", "Change", "Details")

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[AuditEntry] = []
        self._zone = ZoneInfo("UTC")

    def set_entries(self, rows: list[AuditEntry], zone: ZoneInfo) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._zone = zone
        self.endResetModel()

    def entry_at(self, row: int) -> AuditEntry:
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
        entry = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                local = events.utc_to_local(entry.at, self._zone)
                return local.strftime("%d %b %H:%M:%S")
            if column == 1:
                return entry.desk
            if column == 2:
                return entry.operator
            if column == 3:
                return kind_label(entry.kind)
            if column == 4:
                return entry.summary
        if role == Qt.ItemDataRole.ToolTipRole and column == 3:
            return entry.kind
        if role == Qt.ItemDataRole.UserRole:
            return entry.op_id
        return None


def _load(store: Store, flt: AuditFilter) -> tuple[list[AuditEntry], int, AuditChoices, ZoneInfo]:
    """Read one page of the trail, the total, the filter choices (runs in a worker)."""
    with store.read() as session:
        ctx = desk.context(session)
        rows = audit.query(session, ctx, flt, limit=LIMIT)
        total = audit.count(session, ctx, flt)
        picks = audit.choices(session, ctx.event_id)
        event = session.get(Event, ctx.event_id)
        zone = events.event_zone(event) if event else ZoneInfo("UTC")
    return rows, total, picks, zone


class AuditPage(QWidget):
    """Filters above a table of the event's changes, newest first."""

    required_action = "view_audit"
    loaded = Signal(int)  # rows shown

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.zone = ZoneInfo("UTC")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        title = QLabel("Audit trail", objectName="pageTitle")
        layout.addWidget(title)
        self.explain = QLabel("Every change made at any desk: who made it, where and when.")
        self.explain.setStyleSheet("color: #5b6570; font-size: 15px;")
        layout.addWidget(self.explain)

        filters = QHBoxLayout()
        self.operator = QComboBox()
        self.operator.setAccessibleName("Operator")
        self.desk = QComboBox()
        self.desk.setAccessibleName("Desk")
        self.kind = QComboBox()
        self.kind.setAccessibleName("Change")
        self.period = QComboBox()
        self.period.setAccessibleName("Period")
        self.period.addItems(PERIODS)
        now = QDateTime.currentDateTime()
        self.since = QDateTimeEdit(now.addDays(-1), calendarPopup=True)
        self.until = QDateTimeEdit(now, calendarPopup=True)
        for edit in (self.since, self.until):
            edit.setDisplayFormat("dd MMM yyyy HH:mm")
            edit.setVisible(False)
        for label, widget in (
            ("Operator", self.operator),
            ("Desk", self.desk),
            ("Change", self.kind),
            ("When", self.period),
        ):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget, 1)
        filters.addWidget(self.since)
        filters.addWidget(self.until)
        self.reload_button = QPushButton("Refresh")
        filters.addWidget(self.reload_button)
        layout.addLayout(filters)

        self.model = AuditTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        self.status = QLabel()
        self.status.setStyleSheet("font-size: 15px;")
        layout.addWidget(self.status)

        self._filling = False
        for combo in (self.operator, self.desk, self.kind):
            combo.currentIndexChanged.connect(self._on_filter_changed)
        self.period.currentIndexChanged.connect(self._on_period_changed)
        self.since.dateTimeChanged.connect(self._on_filter_changed)
        self.until.dateTimeChanged.connect(self._on_filter_changed)
        self.reload_button.clicked.connect(self.refresh)

    # --- filters -----------------------------------------------------------------------------

    def current_filter(self) -> AuditFilter:
        """The filter the controls describe (times as naive UTC)."""
        since, until = self._period_bounds()
        kind = self.kind.currentData()
        return AuditFilter(
            operator_id=self.operator.currentData(),
            desk_id=self.desk.currentData(),
            kinds=(kind,) if kind else (),
            since=since,
            until=until,
        )

    def _period_bounds(self) -> tuple[datetime | None, datetime | None]:
        choice = self.period.currentText()
        now_local = datetime.now(self.zone).replace(tzinfo=None)
        midnight = now_local.replace(hour=0, minute=0, second=0, microsecond=0)
        if choice == "Last hour":
            start, end = now_local - timedelta(hours=1), None
        elif choice == "Today":
            start, end = midnight, None
        elif choice == "Yesterday":
            start, end = midnight - timedelta(days=1), midnight
        elif choice == "Chosen dates":
            start = self.since.dateTime().toPython()
            end = self.until.dateTime().toPython()
        else:
            return None, None
        return (
            events.local_to_utc(start, self.zone) if start else None,
            events.local_to_utc(end, self.zone) if end else None,
        )

    def _on_period_changed(self, _index: int) -> None:
        custom = self.period.currentText() == "Chosen dates"
        if custom and not self.since.isVisible():
            # Start from the last day at the venue, in the venue's own time.
            now = datetime.now(self.zone).replace(tzinfo=None, second=0, microsecond=0)
            self._filling = True
            try:
                self.since.setDateTime(now - timedelta(days=1))
                self.until.setDateTime(now + timedelta(minutes=1))
            finally:
                self._filling = False
        self.since.setVisible(custom)
        self.until.setVisible(custom)
        self._on_filter_changed()

    def _on_filter_changed(self, *_args: object) -> None:
        if not self._filling:
            self.refresh()

    # --- loading -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the trail with the current filters, off the GUI thread."""
        self.status.setText("Loading…")
        run_task(
            _load,
            self.store,
            self.current_filter(),
            on_result=self._on_load_result,
            on_error=self._on_load_error,
        )

    def _on_load_result(self, result: tuple[list[AuditEntry], int, AuditChoices, ZoneInfo]) -> None:
        rows, total, picks, zone = result
        self.zone = zone
        self.explain.setText(
            "Every change made at any desk: who made it, where and when "
            f"(times at the venue, {zone.key})."
        )
        self._fill_choices(picks)
        self.model.set_entries(rows, zone)
        if total > len(rows):
            self.status.setText(f"Showing the newest {len(rows)} of {total} changes")
        else:
            self.status.setText(f"{total} change" + ("" if total == 1 else "s"))
        self.loaded.emit(len(rows))

    def _on_load_error(self, exc: BaseException) -> None:
        self.model.set_entries([], self.zone)
        if isinstance(exc, PermissionDenied):
            self.status.setText(str(exc))
        else:
            self.status.setText(f"The audit trail could not be read: {exc}")
        self.loaded.emit(0)

    def _fill_choices(self, picks: AuditChoices) -> None:
        self._filling = True
        try:
            _refill(self.operator, "Anyone", picks.operators)
            _refill(self.desk, "Any desk", picks.desks)
            _refill(self.kind, "Any change", [(k, kind_label(k)) for k in picks.kinds])
        finally:
            self._filling = False


def _refill(combo: QComboBox, anything: str, pairs: list[tuple[str, str]]) -> None:
    """Replace a combo's items, keeping the chosen value when it is still there."""
    chosen = combo.currentData()
    combo.clear()
    combo.addItem(anything, None)
    for value, label in pairs:
        combo.addItem(label, value)
    index = combo.findData(chosen) if chosen is not None else 0
    combo.setCurrentIndex(max(index, 0))
