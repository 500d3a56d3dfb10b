"""The scan station: the scan field, the result card, the door mode and live counts.

Everything a keyboard-wedge scanner or a person types goes into one field, which has the
focus whenever no dialog is open. Enter, Tab, CR or LF ends a scan; letters that are not a
code search names instead, and the arrow keys and Enter pick from the list. Scans are
decided and recorded on the single writer thread; the card shows the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QDateTime,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import attendance, checkin, clock, desk, registry
from desktop.certificates import Verdict
from desktop.certtokens import looks_like_certificate
from desktop.checkin import DeskMode, DoorRules, RecentScan, ScanResult
from desktop.events import SessionInfo, event_zone, list_sessions, utc_to_local
from desktop.models import Event
from desktop.registry import AttendeeInfo
from desktop.scaninput import classify
from desktop.store import Store
from desktop.ui.qt_certificates import show_verdict, verify_job
from desktop.ui.qt_scancard import LOOKS, ResultCard
from desktop.ui.qt_sounds import SoundBoard
from desktop.ui.qt_worker import run_task, writer_pool

ModelIndex = QModelIndex | QPersistentModelIndex
SOUND_KEY = "checkin.sound"
SEARCH_LIMIT = 8
SEARCH_ROW_HEIGHT = 48
_ENDINGS = {"\r", "\n", "\t", "\r\n"}


# --- dialogs, behind functions tests can replace ------------------------------------------


def ask_reason(
    parent: QWidget, title: str, prompt: str, on_done: Callable[[str | None], None]
) -> QDialog:
    """Ask a supervisor for a reason; ``on_done`` gets the text, or None if cancelled."""
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


class ClockDialog(QDialog):
    """Choose the desk's time: the real time, or as if it were a moment at the venue."""

    def __init__(self, parent: QWidget, current_local: datetime, suggestion: datetime | None):
        super().__init__(parent)
        self.setWindowTitle("Desk clock")
        self.use_real = False
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Run this desk as if it were another time (for a rehearsal or the demo),\n"
                "or on the real time. Scans are recorded at the desk's time."
            )
        )
        self.editor = QDateTimeEdit()
        self.editor.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        self.editor.setCalendarPopup(True)
        self.editor.setDateTime(QDateTime(current_local.date(), current_local.time()))
        layout.addWidget(self.editor)
        row = QHBoxLayout()
        if suggestion is not None:
            demo = QPushButton(f"As if {suggestion:%d %b %Y %H:%M}")
            demo.clicked.connect(
                lambda: self.editor.setDateTime(QDateTime(suggestion.date(), suggestion.time()))
            )
            row.addWidget(demo)
        real = QPushButton("Use the real time")
        real.clicked.connect(self._on_real_clicked)
        row.addWidget(real)
        layout.addLayout(row)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _on_real_clicked(self) -> None:
        self.use_real = True
        self.accept()

    def chosen(self) -> datetime:
        value = self.editor.dateTime()
        return datetime.combine(value.date().toPython(), value.time().toPython())


def open_clock_dialog(
    parent: QWidget,
    current_local: datetime,
    suggestion: datetime | None,
    on_done: Callable[[datetime | None, bool], None],
) -> QDialog:
    """Open the clock dialog; ``on_done(local time or None, use_real)`` when it closes."""
    dialog = ClockDialog(parent, current_local, suggestion)

    def finished(code: int) -> None:
        if code == QDialog.DialogCode.Accepted:
            on_done(None if dialog.use_real else dialog.chosen(), dialog.use_real)
        else:
            on_done(None, False)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()
    return dialog


# --- the scan field ------------------------------------------------------------------------


class ScanField(QLineEdit):
    """A line edit that treats Enter, Tab, CR and LF as the end of a scan."""

    submitted = Signal(str)
    moved = Signal(int)
    escaped = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("scanField")
        self.setPlaceholderText("Scan a badge · type a code · type a name")
        self.setClearButtonEnabled(False)
        # A 100 kB paste is cut here; the decision looks at far less anyway.
        self.setMaxLength(4096)

    def event(self, event: QEvent) -> bool:
        # Tab would move the focus before keyPressEvent sees it; a scanner ends with Tab.
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
        ):
            self._submit()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) or event.text() in _ENDINGS:
            self._submit()
            return
        if key == Qt.Key.Key_Down:
            self.moved.emit(1)
            return
        if key == Qt.Key.Key_Up:
            self.moved.emit(-1)
            return
        if key == Qt.Key.Key_Escape:
            self.clear()
            self.escaped.emit()
            return
        super().keyPressEvent(event)

    def _submit(self) -> None:
        text = self.text()
        self.clear()
        # An empty ending is the LF of a CRLF pair, or a stray Enter: nothing to decide.
        if text.strip():
            self.submitted.emit(text)


# --- recent scans --------------------------------------------------------------------------


class RecentScanModel(QAbstractTableModel):
    """This desk's latest scans: time, decision, name."""

    HEADERS = ("Time", "Decision", "Name")

    def __init__(self) -> None:
        super().__init__()
        self._rows: list[RecentScan] = []
        self.zone = ZoneInfo("UTC")

    def set_rows(self, rows: list[RecentScan], zone: ZoneInfo) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.zone = zone
        self.endResetModel()

    def scan_at(self, row: int) -> RecentScan:
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
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return f"{utc_to_local(item.at, self.zone):%H:%M}"
            if column == 1:
                words = item.decision.replace("_", " ")
                if item.forced:
                    words += " (let in)"
                if item.voided:
                    words += " — undone"
                return words
            if column == 2:
                return item.name or ("—" if item.attendee_id is None else "not on this desk")
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            from PySide6.QtGui import QColor

            look = LOOKS.get(item.decision)
            return QColor(look.colour) if look and not item.voided else QColor("#5b6570")
        return None


# --- work done on the writer thread --------------------------------------------------------


def _scan_job(
    store: Store,
    raw: str,
    mode: DeskMode,
    rules: DoorRules,
    attendee_id: str | None,
    at: datetime | None,
) -> ScanResult:
    with store.begin() as session:
        ctx = desk.context(session)
        return checkin.scan(session, ctx, raw, mode, at=at, rules=rules, attendee_id=attendee_id)


def _override_job(store: Store, refused: ScanResult, reason: str) -> ScanResult:
    with store.begin() as session:
        return checkin.admit_anyway(session, desk.context(session), refused, reason)


def _void_job(store: Store, op_id: str, reason: str) -> str:
    with store.begin() as session:
        return checkin.void_scan(session, desk.context(session), op_id, reason)


@dataclass(frozen=True)
class DoorFigures:
    """What the side panel shows about the door this desk serves."""

    title: str
    subtitle: str
    arrived: int
    inside: int
    capacity: int | None
    recent: list[RecentScan]


def _figures_job(store: Store, mode: DeskMode, rules: DoorRules) -> DoorFigures:
    with store.read() as session:
        event_id = desk.current_event_id(session)
        if event_id is None:
            return DoorFigures("No event", "", 0, 0, None, [])
        event = session.get(Event, event_id)
        assert event is not None
        zone = event_zone(event)
        now = clock.now(session)
        recent = checkin.recent_scans(session, event_id, desk.desk_id(session))
        if mode.door == "entrance":
            today = attendance.local_day(zone, now)
            count = attendance.entrance_count(session, event_id, today)
            return DoorFigures(
                "Entrance", f"{today:%A %d %B}", count.arrived, count.inside, None, recent
            )
        if mode.door == "room":
            row, open_now = checkin.session_in_room(session, event_id, mode.room, now, rules)
            sid = row.id if row is not None else None
            state = "" if open_now else " (not open)"
        else:
            sid, state = mode.session_id, ""
        info = next((s for s in list_sessions(session, event_id) if s.id == sid), None)
        if info is None:
            return DoorFigures(mode.room or "No session chosen", "", 0, 0, None, recent)
        count = attendance.door_count(session, event_id, info.id)
        when = (
            f"{info.starts_at:%a %H:%M}–{info.ends_at:%H:%M}"
            if info.starts_at and info.ends_at
            else ""
        )
        return DoorFigures(
            info.title,
            f"{when} · {info.room}{state}",
            count.arrived,
            count.inside,
            info.capacity,
            recent,
        )


# --- the page ------------------------------------------------------------------------------


class CheckinPage(QWidget):
    """The scan station."""

    scanned = Signal(object)  # ScanResult, once recorded

    def __init__(self, store: Store, sounds: SoundBoard | None = None) -> None:
        super().__init__()
        self.store = store
        self.setObjectName("checkinPage")
        self.sounds = sounds or SoundBoard(self)
        self.zone = ZoneInfo("UTC")
        self.event_id: str | None = None
        self.clock = clock.DeskClock()
        self.event_days: tuple[date, date] | None = None
        self.sessions: list[SessionInfo] = []
        self.rules = DoorRules()
        self.mode = DeskMode()
        self.pending = 0
        self._figures_running = False
        self._figures_again = False
        self._search_hits: list[AttendeeInfo] = []
        self._search_text = ""
        self.camera_panel: Any = None  # a qt_camera.CameraPanel once the camera is first used

        root = QHBoxLayout(self)
        root.setContentsMargins(22, 16, 22, 16)
        root.setSpacing(18)
        main = QVBoxLayout()
        main.setSpacing(10)
        root.addLayout(main, 1)

        main.addLayout(self._build_mode_bar())
        self.banner = QFrame(objectName="clockBanner")
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(14, 8, 14, 8)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.banner_button = QPushButton()
        self.banner_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.banner_button.clicked.connect(self._on_banner_button_clicked)
        banner_row.addWidget(self.banner_text, 1)
        banner_row.addWidget(self.banner_button)
        main.addWidget(self.banner)

        self.scan_field = ScanField()
        self.scan_field.submitted.connect(self._on_scan_field_submitted)
        self.scan_field.moved.connect(self._on_scan_field_moved)
        self.scan_field.escaped.connect(self._hide_search)
        self.scan_field.textEdited.connect(self._on_scan_field_text_edited)
        main.addWidget(self.scan_field)

        self.card = ResultCard()
        self.card.undo_requested.connect(self._on_card_undo_requested)
        self.card.override_requested.connect(self._on_card_override_requested)
        main.addWidget(self.card, 1)
        self._main_column = main

        # The search list floats over the card so nothing jumps; it never takes the focus.
        self.search_list = QListWidget(self)
        self.search_list.setObjectName("searchList")
        self.search_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.search_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.search_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.search_list.itemClicked.connect(self._on_search_list_item_clicked)
        self.search_list.hide()

        root.addWidget(self._build_side_panel())

        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self._run_search)
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._on_tick_timeout)
        self._figures_timer = QTimer(self, interval=5000)
        self._figures_timer.timeout.connect(self.refresh_figures)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_app_focus_changed)
        self.setStyleSheet(
            "#scanField { font-size: 30px; padding: 12px 16px; border: 3px solid #1f4e8c;"
            " border-radius: 10px; }"
            "#searchList { font-size: 22px; border: 2px solid #1f4e8c; background: white; }"
            "#searchList::item { padding: 8px; }"
            "#searchList::item:selected { background: #cfe0f7; color: #1d232a; }"
            "#clockBanner { background: #fff4e0; border: 1px solid #e0b25c;"
            " border-radius: 8px; }"
            "#clockBanner QLabel { font-size: 15px; }"
            "#insideValue { font-size: 72px; font-weight: 700; color: #1f4e8c; }"
            "#sideValue { font-size: 30px; font-weight: 700; }"
            "#sideCaption { font-size: 15px; color: #5b6570; }"
            "#doorTitle { font-size: 19px; font-weight: 600; }"
            "#clockLabel { font-size: 19px; font-weight: 600; }"
            "QPushButton#directionButton { font-size: 17px; padding: 8px 20px; }"
            "QPushButton#directionButton:checked { background: #1f4e8c; color: white;"
            " border: none; font-weight: 600; }"
        )
        self.refresh()

    # --- building --------------------------------------------------------------------------

    def _build_mode_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.door_combo = QComboBox()
        self.door_combo.addItem("Entrance desk", "entrance")
        self.door_combo.addItem("Session door", "session")
        self.door_combo.addItem("Room: what is on now", "room")
        self.door_combo.setToolTip(
            "Entrance desk: arrivals of the day. Session door: one session. "
            "Room: whatever session is on in that room by the desk's clock."
        )
        self.session_combo = QComboBox()
        self.room_combo = QComboBox()
        for combo in (self.session_combo, self.room_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(14)
        for combo in (self.door_combo, self.session_combo, self.room_combo):
            combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            combo.activated.connect(self._on_mode_combo_activated)
        self.entry_button = QPushButton("Entry")
        self.exit_button = QPushButton("Exit")
        self.direction_group = QButtonGroup(self)
        for button in (self.entry_button, self.exit_button):
            button.setCheckable(True)
            button.setObjectName("directionButton")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.direction_group.addButton(button)
        self.entry_button.setChecked(True)
        self.direction_group.buttonClicked.connect(self._on_direction_group_clicked)
        bar.addWidget(self.door_combo)
        bar.addWidget(self.session_combo, 3)
        bar.addWidget(self.room_combo, 3)
        bar.addWidget(self.entry_button)
        bar.addWidget(self.exit_button)
        bar.addStretch(1)
        self.camera_button = QPushButton("Camera")
        self.camera_button.setCheckable(True)
        self.camera_button.setObjectName("directionButton")  # the same checked look
        self.camera_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.camera_button.setToolTip("Read badges with this computer's camera")
        self.camera_button.toggled.connect(self._on_camera_button_toggled)
        bar.addWidget(self.camera_button)
        return bar

    def _build_side_panel(self) -> QWidget:
        panel = QFrame(objectName="card")
        panel.setFixedWidth(330)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.addWidget(QLabel("DESK TIME", objectName="sideCaption"))
        clock_row = QHBoxLayout()
        self.clock_label = QLabel(objectName="clockLabel")
        self.clock_button = QPushButton("Clock…")
        self.clock_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.clock_button.clicked.connect(self._on_clock_button_clicked)
        clock_row.addWidget(self.clock_label, 1)
        clock_row.addWidget(self.clock_button)
        layout.addLayout(clock_row)
        self.clock_note = QLabel(objectName="sideCaption")
        layout.addWidget(self.clock_note)
        layout.addSpacing(10)
        self.door_title = QLabel(objectName="doorTitle")
        self.door_title.setWordWrap(True)
        self.door_subtitle = QLabel(objectName="sideCaption")
        self.door_subtitle.setWordWrap(True)
        layout.addWidget(self.door_title)
        layout.addWidget(self.door_subtitle)
        layout.addSpacing(8)
        layout.addWidget(QLabel("INSIDE NOW", objectName="sideCaption"))
        self.inside_value = QLabel("0", objectName="insideValue")
        layout.addWidget(self.inside_value)
        grid = QGridLayout()
        self.arrived_value = QLabel("0", objectName="sideValue")
        self.capacity_value = QLabel("—", objectName="sideValue")
        grid.addWidget(self.arrived_value, 0, 0)
        grid.addWidget(self.capacity_value, 0, 1)
        grid.addWidget(QLabel("arrived", objectName="sideCaption"), 1, 0)
        grid.addWidget(QLabel("seats", objectName="sideCaption"), 1, 1)
        layout.addLayout(grid)
        layout.addSpacing(12)
        layout.addWidget(QLabel("Recent scans at this desk", objectName="sideCaption"))
        self.recent_model = RecentScanModel()
        self.recent_view = QTableView()
        self.recent_view.setModel(self.recent_model)
        self.recent_view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.recent_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.recent_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.recent_view.verticalHeader().setVisible(False)
        self.recent_view.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.recent_view, 1)
        self.undo_selected = QPushButton("Undo selected check-in…")
        self.undo_selected.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo_selected.clicked.connect(self._on_undo_selected_clicked)
        layout.addWidget(self.undo_selected)
        self.sound_box = QCheckBox("Sound for each decision")
        self.sound_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.sound_box.toggled.connect(self._on_sound_box_toggled)
        layout.addWidget(self.sound_box)
        return panel

    # --- state ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the event, the programme, the desk mode and the figures."""
        with self.store.begin() as session:
            self.event_id = desk.current_event_id(session)
            event = session.get(Event, self.event_id) if self.event_id else None
            self.zone = event_zone(event) if event is not None else ZoneInfo("UTC")
            if event is not None and event.starts_on and event.ends_on:
                self.event_days = (event.starts_on, event.ends_on)
            else:
                self.event_days = None
            self.sessions = list_sessions(session, self.event_id) if self.event_id else []
            rooms = checkin.rooms(session, self.event_id) if self.event_id else []
            self.mode = checkin.load_mode(session)
            self.rules = checkin.load_rules(session)
            self.clock = clock.desk_clock(session)
            self.sounds.enabled = desk.get_setting(session, SOUND_KEY, "on") != "off"
        self.card.zone = self.zone
        self._fill_combos(rooms)
        self._show_mode()
        self.sound_box.blockSignals(True)
        self.sound_box.setChecked(self.sounds.enabled)
        self.sound_box.blockSignals(False)
        self._on_tick_timeout()
        if self.card.result is None:
            self.card.show_ready(self.door_text())
        self.refresh_figures()

    def _fill_combos(self, rooms: list[str]) -> None:
        self.session_combo.blockSignals(True)
        self.session_combo.clear()
        for item in self.sessions:
            when = f"{item.starts_at:%a %H:%M}" if item.starts_at else ""
            self.session_combo.addItem(f"{when}  {item.title} — {item.room}".strip(), item.id)
        self.session_combo.blockSignals(False)
        self.room_combo.blockSignals(True)
        self.room_combo.clear()
        for room in rooms:
            self.room_combo.addItem(room, room)
        self.room_combo.blockSignals(False)

    def _show_mode(self) -> None:
        mode = self.mode
        self.door_combo.setCurrentIndex(max(0, self.door_combo.findData(mode.door)))
        if mode.session_id:
            self.session_combo.setCurrentIndex(max(0, self.session_combo.findData(mode.session_id)))
        if mode.room:
            self.room_combo.setCurrentIndex(max(0, self.room_combo.findData(mode.room)))
        self.session_combo.setVisible(mode.door == "session")
        self.room_combo.setVisible(mode.door == "room")
        (self.exit_button if mode.direction == "exit" else self.entry_button).setChecked(True)

    def set_mode(self, mode: DeskMode) -> None:
        """Change what this desk scans for, and keep it."""
        if mode.door == "session" and not mode.session_id and self.sessions:
            mode = DeskMode("session", self.session_combo.currentData(), "", mode.direction)
        if mode.door == "room" and not mode.room and self.room_combo.count():
            mode = DeskMode("room", None, self.room_combo.currentData(), mode.direction)
        self.mode = mode
        with self.store.begin() as session:
            checkin.save_mode(session, mode)
        self._show_mode()
        if self.card.result is None:
            self.card.show_ready(self.door_text())
        self.refresh_figures()
        self.focus_scan_field()

    def door_text(self) -> str:
        """The door this desk serves, in words."""
        way = "exit" if self.mode.direction == "exit" else "entry"
        if self.mode.door == "entrance":
            return f"Entrance desk · {way}"
        if self.mode.door == "room":
            return f"Door of {self.mode.room or '?'} · {way}"
        title = next((s.title for s in self.sessions if s.id == self.mode.session_id), "?")
        return f"{title} · {way}"

    def desk_now(self) -> datetime:
        """The desk's time as naive UTC."""
        return self.clock.now()

    def focus_scan_field(self) -> None:
        """Give the scan field the keyboard focus (unless a dialog is open)."""
        if QApplication.activeModalWidget() is None and self.isVisible():
            self.scan_field.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- slots ---------------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._tick.start()
        self._figures_timer.start()
        QTimer.singleShot(0, self.focus_scan_field)

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._tick.stop()
        self._figures_timer.stop()

    def _on_app_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        # Whatever took the focus on this page (a click on the card, a closed dialog giving
        # it back to the window), the next scan must still land in the field.
        if not self.isVisible() or new is self.scan_field:
            return
        if QApplication.activeModalWidget() is not None or QApplication.activePopupWidget():
            return
        if new is None or new is self.window() or self.isAncestorOf(new):
            QTimer.singleShot(0, self.focus_scan_field)

    def _on_mode_combo_activated(self, _index: int) -> None:
        door = self.door_combo.currentData()
        self.set_mode(
            DeskMode(
                door,
                self.session_combo.currentData() if door == "session" else None,
                self.room_combo.currentData() or "" if door == "room" else "",
                self.mode.direction,
            )
        )

    def _on_direction_group_clicked(self, button: QPushButton) -> None:
        direction = "exit" if button is self.exit_button else "entry"
        self.set_mode(DeskMode(self.mode.door, self.mode.session_id, self.mode.room, direction))

    def _on_sound_box_toggled(self, checked: bool) -> None:
        self.sounds.enabled = checked
        with self.store.begin() as session:
            desk.set_setting(session, SOUND_KEY, "on" if checked else "off")
        self.focus_scan_field()

    def _on_tick_timeout(self) -> None:
        now_local = utc_to_local(self.desk_now(), self.zone)
        self.clock_label.setText(f"{now_local:%a %d %b %H:%M}")
        self.clock_note.setText(
            "as if: a rehearsal clock, not the real time" if self.clock.simulated else ""
        )
        self.clock_note.setVisible(self.clock.simulated)
        self._update_banner(now_local.date())

    def _update_banner(self, today: date) -> None:
        if self.event_days is None:
            self.banner.hide()
            return
        first, last = self.event_days
        if first <= today <= last:
            self.banner.hide()
            return
        suggestion = self._suggested_moment()
        self.banner_text.setText(
            f"Today ({today:%d %b %Y}) is not an event day: the event runs "
            f"{first:%d %b}–{last:%d %b %Y}. Scans are recorded at the desk's time, so "
            "session doors will say “not open”."
        )
        if suggestion is not None:
            self.banner_button.setText(f"Run as if {suggestion:%d %b %Y %H:%M}")
            self.banner_button.show()
        self.banner.show()

    def _suggested_moment(self) -> datetime | None:
        """The first event morning at 09:05, venue time: what the demo runs "as if"."""
        if self.event_days is None:
            return None
        return datetime.combine(self.event_days[0], datetime.min.time()) + timedelta(
            hours=9, minutes=5
        )

    def _on_banner_button_clicked(self) -> None:
        moment = self._suggested_moment()
        if moment is not None:
            self.set_clock_local(moment)

    def set_clock_local(self, moment_local: datetime | None) -> None:
        """Run the desk as if it were ``moment_local`` at the venue; None for real time."""
        with self.store.begin() as session:
            if moment_local is None:
                clock.use_real_time(session)
            else:
                clock.set_as_if(session, clock.to_naive_utc(moment_local, self.zone))
            self.clock = clock.desk_clock(session)
        self._on_tick_timeout()
        self.refresh_figures()
        self.focus_scan_field()

    def _on_clock_button_clicked(self) -> None:
        now_local = utc_to_local(self.desk_now(), self.zone).replace(tzinfo=None)

        def done(moment: datetime | None, use_real: bool) -> None:
            if use_real:
                self.set_clock_local(None)
            elif moment is not None:
                self.set_clock_local(moment)
            else:
                self.focus_scan_field()

        open_clock_dialog(self, now_local, self._suggested_moment(), done)

    # --- scanning ------------------------------------------------------------------------

    def _on_scan_field_text_edited(self, text: str) -> None:
        if len(text.strip()) >= 2 and classify(text) == "search":
            self._search_timer.start()
        else:
            self._search_timer.stop()
            self._hide_search()

    def _run_search(self, text: str | None = None) -> list[AttendeeInfo]:
        query = (text if text is not None else self.scan_field.text()).strip()
        if not query or self.event_id is None:
            self._hide_search()
            return []
        with self.store.begin() as session:
            hits = registry.list_attendees(session, self.event_id, query, limit=SEARCH_LIMIT)
        self._search_hits = hits
        self._search_text = query
        self.search_list.clear()
        for person in hits:
            parts = [person.display_name]
            if person.native_name:
                parts.append(person.native_name)
            parts.append(" · ".join(p for p in (person.country, person.organisation) if p))
            item = QListWidgetItem("   ".join(parts))
            item.setData(Qt.ItemDataRole.UserRole, person.id)
            # Native scripts have taller lines; equal rows keep the list calm to read.
            item.setSizeHint(QSize(0, SEARCH_ROW_HEIGHT))
            self.search_list.addItem(item)
        if hits:
            self.search_list.setCurrentRow(0)
            self._place_search_list()
            self.search_list.show()
            self.search_list.raise_()
        else:
            self.search_list.hide()
        return hits

    def _place_search_list(self) -> None:
        field = self.scan_field.geometry()
        rows = max(1, self.search_list.count())
        height = min(rows, SEARCH_LIMIT) * SEARCH_ROW_HEIGHT + 8
        self.search_list.setGeometry(field.left(), field.bottom() + 2, field.width(), height)

    def _hide_search(self) -> None:
        self.search_list.hide()
        self.search_list.clear()
        self._search_hits = []

    def _on_scan_field_moved(self, step: int) -> None:
        if not self.search_list.isVisible() or self.search_list.count() == 0:
            return
        row = (self.search_list.currentRow() + step) % self.search_list.count()
        self.search_list.setCurrentRow(row)

    def _on_search_list_item_clicked(self, item: QListWidgetItem) -> None:
        text = self._search_text
        self._hide_search()
        self.scan_field.clear()
        self.submit(text, attendee_id=str(item.data(Qt.ItemDataRole.UserRole)))

    def _on_camera_button_toggled(self, on: bool) -> None:
        # Loaded on first use, so a desk that never opens the camera never loads QtMultimedia.
        from desktop.ui.qt_camera import CameraPanel

        if self.camera_panel is None:
            self.camera_panel = CameraPanel(self)
            self.camera_panel.code_read.connect(self.submit)
            self._main_column.insertWidget(self._main_column.indexOf(self.card), self.camera_panel)
        self.camera_panel.setVisible(on)
        if on:
            self.camera_panel.start()
        else:
            self.camera_panel.stop()
        self.focus_scan_field()

    def _on_scan_field_submitted(self, text: str) -> None:
        self._search_timer.stop()
        kind = classify(text)
        if kind == "search":
            visible = self.search_list.isVisible() and self._search_text == text.strip()
            hits = self._search_hits if visible else self._run_search(text)
            if hits:
                row = self.search_list.currentRow() if visible else 0
                chosen = hits[max(0, min(row, len(hits) - 1))]
                self._hide_search()
                self.submit(text, attendee_id=chosen.id)
                return
        self._hide_search()
        self.submit(text)

    def submit(self, raw: str, attendee_id: str | None = None) -> None:
        """Decide and record one scan on the writer thread; the card shows the result."""
        self.pending += 1
        if attendee_id is None and looks_like_certificate(raw):
            # A certificate's QR code: check it (nothing is recorded), not a door decision.
            run_task(
                verify_job,
                self.store,
                raw,
                on_result=self._on_certificate_checked,
                on_error=self._on_scan_failed,
            )
            return
        run_task(
            _scan_job,
            self.store,
            raw,
            self.mode,
            self.rules,
            attendee_id,
            self.desk_now(),
            pool=writer_pool(),
            on_result=self._on_scan_recorded,
            on_error=self._on_scan_failed,
        )

    def _on_certificate_checked(self, verdict: Verdict) -> None:
        self.pending -= 1
        show_verdict(self.card, verdict)
        self.sounds.play("ok" if verdict.genuine else "forged")

    def _on_scan_recorded(self, result: ScanResult) -> None:
        self.pending -= 1
        self._show_recorded(result)

    def _show_recorded(self, result: ScanResult) -> None:
        self.card.show_result(result, self.door_text())
        self.sounds.play(result.decision, result.forced)
        self.scanned.emit(result)
        self.refresh_figures()

    def _on_scan_failed(self, error: BaseException) -> None:
        self.pending -= 1
        self.card.show_error(f"The scan was not saved: {error}")
        self.sounds.play("invalid")

    # --- supervisor actions ----------------------------------------------------------------

    def _on_card_override_requested(self) -> None:
        refused = self.card.result
        if refused is None or not refused.forceable:
            return

        def done(reason: str | None) -> None:
            if reason:
                run_task(
                    _override_job,
                    self.store,
                    refused,
                    reason,
                    pool=writer_pool(),
                    on_result=self._show_recorded,
                    on_error=self._on_action_failed,
                )
            self.focus_scan_field()

        name = refused.attendee.display_name if refused.attendee else "this person"
        ask_reason(
            self,
            "Let in anyway",
            f"Why is {name} let in despite “{refused.decision.replace('_', ' ')}”?",
            done,
        )

    def _on_card_undo_requested(self) -> None:
        result = self.card.result
        if result is not None and result.op_id is not None and result.admitted:
            self._ask_undo(result.op_id, result.attendee.display_name if result.attendee else "")

    def _on_undo_selected_clicked(self) -> None:
        rows = self.recent_view.selectionModel().selectedRows()
        if not rows:
            self.focus_scan_field()
            return
        item = self.recent_model.scan_at(rows[0].row())
        if item.voided:
            self.focus_scan_field()
            return
        self._ask_undo(item.op_id, item.name)

    def _ask_undo(self, op_id: str, name: str) -> None:
        def done(reason: str | None) -> None:
            if reason:
                run_task(
                    _void_job,
                    self.store,
                    op_id,
                    reason,
                    pool=writer_pool(),
                    on_result=self._on_voided,
                    on_error=self._on_action_failed,
                )
            self.focus_scan_field()

        ask_reason(self, "Undo check-in", f"Why undo the check-in of {name or 'this scan'}?", done)

    def _on_voided(self, _void_op_id: str) -> None:
        self.card.show_ready(self.door_text())
        self.card.advice.setText("The check-in was undone.")
        self.refresh_figures()

    def _on_action_failed(self, error: BaseException) -> None:
        self.card.show_error(str(error))

    # --- figures -------------------------------------------------------------------------

    def refresh_figures(self) -> None:
        """Reload the side panel's counts and recent scans off the GUI thread."""
        if self._figures_running:
            self._figures_again = True
            return
        self._figures_running = True
        run_task(
            _figures_job,
            self.store,
            self.mode,
            self.rules,
            on_result=self._on_figures_loaded,
            on_finished=self._on_figures_finished,
        )

    def _on_figures_loaded(self, figures: DoorFigures) -> None:
        self.door_title.setText(figures.title)
        self.door_subtitle.setText(figures.subtitle)
        self.inside_value.setText(str(figures.inside))
        self.arrived_value.setText(str(figures.arrived))
        self.capacity_value.setText("—" if figures.capacity is None else str(figures.capacity))
        self.recent_model.set_rows(figures.recent, self.zone)
        self.recent_view.resizeColumnToContents(0)
        self.recent_view.resizeColumnToContents(1)

    def _on_figures_finished(self) -> None:
        self._figures_running = False
        if self._figures_again:
            self._figures_again = False
            self.refresh_figures()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.search_list.isVisible():
            self._place_search_list()
