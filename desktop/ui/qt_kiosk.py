"""Kiosk mode: a full-screen self-service check-in, with no way into the rest of the app.

One thing to do on each screen, in words a first-time visitor reads from two metres:

``start``    Welcome: scan your badge (a barcode scanner, and the camera when there is one),
             or one button, "Find me by name". Typing a name here starts the search too.
``search``   Type your name or e-mail; up to five matches; touch one, or ↑ ↓ and Enter.
``confirm``  Is this you? "Yes, print my badge" or "No, go back".
``working``  One moment: the check-in is recorded, then the badge prints.
``result``   A large friendly message; back to the start by itself after a few seconds.
``staff``    A supervisor's or administrator's PIN ends kiosk mode (the small Staff button,
             or Ctrl+Shift+Q).

Any screen but the start goes back to it after ``idle_seconds`` without a touch or a key.
Check-ins are decided and recorded like the desk's (``checkin.scan`` at the entrance, on the
writer thread), in the name of the operator who started the kiosk. A badge is printed the
way the badges area prints one (``qt_printing.run_badge_job`` on the print thread, then
recorded on the writer) and only the first time: a reprint needs a supervisor, at the desk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import badges, checkin, desk, operators, permissions, registry, search
from desktop.badges import PrinterSettings
from desktop.checkin import DeskMode, ScanResult
from desktop.countries import country_name
from desktop.journal import DeskContext
from desktop.models import Event
from desktop.operators import OperatorInfo
from desktop.registry import AttendeeInfo
from desktop.scaninput import classify, clean_scan_input
from desktop.store import Store
from desktop.tokens import TOKEN_PREFIX
from desktop.ui.qt_printing import BadgeJob, JobOutcome, print_pool, run_badge_job
from desktop.ui.qt_scancard import DecisionIcon, load_fonts
from desktop.ui.qt_signin import PinPad
from desktop.ui.qt_theme import AMBER, BLUE, GREEN, RED
from desktop.ui.qt_worker import run_task, writer_pool

DEFAULT_IDLE_SECONDS = 45.0
DEFAULT_RESULT_SECONDS = 10.0
# A person typing on the start screen pauses; a scanner types a whole code in one burst.
TYPING_PAUSE_MS = 700
SEARCH_LIMIT = 5
SEARCH_MIN_CHARS = 3
LEAVE_ROLES = frozenset({"supervisor", "admin"})
NAVY = "#12325e"
_ENDINGS = {"\r", "\n", "\t", "\r\n"}
_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.TouchBegin,
    QEvent.Type.Wheel,
}


# --- work done off the GUI thread ------------------------------------------------------------


@dataclass(frozen=True)
class KioskCheckin:
    """A visitor's check-in as recorded, and what to do about their badge.

    ``badge``: ``print`` (print it now), ``printed`` (printed before, never again here) or
    ``none`` (nobody to print for, or not allowed).
    """

    result: ScanResult
    badge: str
    ctx: DeskContext
    printer: PrinterSettings
    first_print: str = ""


def _checkin_job(
    store: Store, raw: str, attendee_id: str | None, operator_id: str | None
) -> KioskCheckin:
    """On the writer: decide and record the scan at the entrance; see whether to print."""
    with store.begin() as session:
        ctx = desk.context(session, operator_id)
        result = checkin.scan(session, ctx, raw, DeskMode("entrance"), attendee_id=attendee_id)
        printer = badges.load_printer_settings(session)
        person = result.attendee
        if person is None or result.decision not in ("ok", "already_in"):
            return KioskCheckin(result, "none", ctx, printer)
        status = badges.badge_status(session, ctx.event_id, person.id)
        if status.first is not None:
            when = badges.describe_print(session, ctx.event_id, status.first)
            return KioskCheckin(result, "printed", ctx, printer, when)
        try:
            badges.check_print(session, ctx, person.id)
        except (badges.BadgeError, permissions.PermissionDenied):
            return KioskCheckin(result, "none", ctx, printer)
        return KioskCheckin(result, "print", ctx, printer)


def _record_print_job(store: Store, outcome: JobOutcome) -> JobOutcome:
    """On the writer: record the badge printed, or keep it in the retry queue."""
    job = outcome.job
    with store.begin() as session:
        if outcome.printed:
            badges.record_prints(
                session, job.ctx, list(outcome.printed), job.layout, printed_seqs=outcome.seqs
            )
        if outcome.retryable and outcome.failed:
            names = [outcome.names.get(i, i) for i in outcome.failed]
            badges.queue_print(session, outcome.failed, names, job.layout, "", outcome.error)
    return outcome


def find_people(store: Store, text: str, limit: int = SEARCH_LIMIT) -> tuple[int, list[Any]]:
    """Registered attendees matching a name, e-mail or code: how many, and the first few."""
    with store.begin() as session:
        event_id = desk.current_event_id(session)
        if event_id is None:
            return 0, []
        query = search.Query(text, search.Filters(status="registered"))
        found = search.find(session, event_id, query, limit=limit)
        return found.total, registry.get_many(session, found.ids)


# --- what the visitor is told ----------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A result screen: its colour, pictogram, headline and one or two sentences."""

    tone: str  # "ok", "warn" or "stop"
    icon: str  # a DecisionIcon shape
    headline: str
    body: str


DESK = "Please ask at the registration desk."
TONES = {"ok": GREEN, "warn": AMBER, "stop": RED}


def _first_name(person: AttendeeInfo | None) -> str:
    if person is None:
        return ""
    return person.given_name or person.badge_name or person.family_name


def message_for(done: KioskCheckin, printed: JobOutcome | None = None) -> Message:
    """What to tell the visitor once their check-in (and badge print, if any) is done."""
    result = done.result
    name = _first_name(result.attendee)
    hello = f"Welcome, {name}!" if name else "Welcome!"
    decision = result.decision
    if decision in ("ok", "already_in", "not_synced"):
        back = decision == "already_in"
        if back:
            hello = f"Welcome back, {name}!" if name else "Welcome back!"
        checked = "You were already checked in today." if back else "You are checked in."
        if done.badge == "print" and printed is not None:
            if printed.ok:
                return Message(
                    "ok", "check", hello, "Your badge is printing. Please take it from the printer."
                )
            return Message(
                "warn",
                "warning",
                hello,
                f"{checked} Your badge could not be printed just now. {DESK}",
            )
        if done.badge == "printed":
            if back:
                return Message(
                    "ok",
                    "double",
                    hello,
                    f"{checked} Your badge was printed already. Lost it? {DESK}",
                )
            return Message("ok", "check", hello, f"{checked} Enjoy the event!")
        return Message("ok", "check", hello, f"{checked} Please collect your badge at the desk.")
    if decision == "invalid":
        return Message(
            "stop",
            "question",
            "We could not read that code",
            "Please try again, or touch “Find me by name”.",
        )
    if decision == "revoked":
        return Message(
            "stop", "slash", "This badge has been replaced", f"Please use your new badge. {DESK}"
        )
    if decision == "cancelled":
        return Message("stop", "cross", "We cannot check you in here", DESK)
    return Message("stop", "notequal", "This badge does not work here", DESK)


def failure_message() -> Message:
    """When the check-in itself could not be recorded."""
    return Message("stop", "warning", "Sorry, something went wrong", DESK)


# --- the screens -----------------------------------------------------------------------------


def _label(text: str = "", name: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    if name:
        label.setObjectName(name)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(wrap)
    return label


def _button(text: str, name: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName(name)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay where the screen wants them
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


class StartScreen(QWidget):
    """Welcome: scan a badge. Collects what a scanner (or a person) types here."""

    scanned = Signal(str)  # a code ended with Enter, Tab, CR or LF
    typed = Signal(str)  # a name being typed (a pause came, or Enter after words)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("kioskStart")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.buffer = ""
        self._waited = False
        self.pause = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS)
        self.pause.timeout.connect(self._on_pause_timeout)

    def event(self, event: QEvent) -> bool:
        # Tab would move the focus before keyPressEvent sees it; a scanner may end with Tab.
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
        ):
            self._end()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        text = event.text()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) or text in _ENDINGS:
            self._end()
        elif key == Qt.Key.Key_Escape:
            self.clear()
        elif key == Qt.Key.Key_Backspace:
            self.buffer = self.buffer[:-1]
        elif text and text.isprintable():
            self.buffer += text
            self._waited = False
            self.pause.start()
        else:
            super().keyPressEvent(event)

    def clear(self) -> None:
        self.buffer = ""
        self.pause.stop()

    def _end(self) -> None:
        text, self.buffer = self.buffer, ""
        self.pause.stop()
        if not text.strip():
            return
        if classify(text) == "search":
            self.typed.emit(text.strip())
        else:
            self.scanned.emit(text)

    def _on_pause_timeout(self) -> None:
        # A pause means a person typing a name, unless the text so far is the start of a
        # badge token: wait a little longer for its end, then drop what a scanner left.
        text, self.buffer = self.buffer.strip(), ""
        if not text:
            return
        if clean_scan_input(text).startswith(TOKEN_PREFIX[: len(text)]):
            if not self._waited:
                self.buffer, self._waited = text, True
                self.pause.start()
            return
        self.typed.emit(text)


class MatchRow(QFrame):
    """One person found: the name large, organisation and country below; touch to pick."""

    clicked = Signal()

    def __init__(self, person: AttendeeInfo) -> None:
        super().__init__()
        self.setObjectName("kioskMatch")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.person = person
        layout = QVBoxLayout(self)
        layout.setSpacing(2)
        self.name = _label(person.display_name, "kioskMatchName", wrap=False)
        where = " · ".join(p for p in (person.organisation, country_name(person.country)) if p)
        self.where = _label(where, "kioskMatchWhere", wrap=False)
        layout.addWidget(self.name)
        layout.addWidget(self.where)
        self.set_current(False)

    def set_current(self, current: bool) -> None:
        self.setProperty("current", current)
        for widget in (self, self.name, self.where):
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    def mousePressEvent(self, event: Any) -> None:
        self.clicked.emit()
        super().mousePressEvent(event)


class MatchList(QWidget):
    """The people found, one below the other; one of them is current (↑ ↓ move it)."""

    picked = Signal(object)  # AttendeeInfo

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[MatchRow] = []
        self.current = -1
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.setSpacing(12)
        self.column.addStretch(1)

    def set_people(self, people: list[AttendeeInfo]) -> None:
        for row in self.rows:
            self.column.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for person in people:
            row = MatchRow(person)
            row.clicked.connect(lambda r=row: self._on_row_clicked(r))
            self.column.insertWidget(self.column.count() - 1, row)
            self.rows.append(row)
        self.current = -1
        self.set_current(0)

    def set_current(self, index: int) -> None:
        if not self.rows:
            self.current = -1
            return
        self.current = index % len(self.rows)
        for number, row in enumerate(self.rows):
            row.set_current(number == self.current)

    def move(self, step: int) -> None:
        if self.rows:
            self.set_current(self.current + step)

    def current_person(self) -> AttendeeInfo | None:
        return self.rows[self.current].person if 0 <= self.current < len(self.rows) else None

    def _on_row_clicked(self, row: MatchRow) -> None:
        self.set_current(self.rows.index(row))
        self.picked.emit(row.person)


class SearchField(QLineEdit):
    """The search line: ↑ ↓ move through the matches, Enter picks, Escape goes back."""

    moved = Signal(int)
    chosen = Signal()
    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.chosen.emit()
        elif key == Qt.Key.Key_Down:
            self.moved.emit(1)
        elif key == Qt.Key.Key_Up:
            self.moved.emit(-1)
        elif key == Qt.Key.Key_Escape:
            self.escaped.emit()
        else:
            super().keyPressEvent(event)


class KioskWindow(QWidget):
    """The kiosk: full screen, its own screens only; a supervisor's PIN lets staff out."""

    left = Signal(object)  # OperatorInfo of the supervisor who ended kiosk mode
    checked_in = Signal(object)  # KioskCheckin, once recorded
    visit_finished = Signal(object)  # the Message shown at the end of a visit

    def __init__(
        self,
        store: Store,
        *,
        operator_id: str | None = None,
        use_camera: bool = False,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        result_seconds: float = DEFAULT_RESULT_SECONDS,
    ) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.store = store
        self.setObjectName("kiosk")
        self.setWindowTitle("EventDesk kiosk")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        load_fonts()
        with store.begin() as session:
            if operator_id is None:
                operator_id = desk.get_setting(session, "operator_id") or None
            self.event_id = desk.current_event_id(session) or ""
            event = session.get(Event, self.event_id) if self.event_id else None
            self.event_name = event.name if event is not None else ""
        self.operator_id = operator_id
        self.throttle = operators.Throttle()
        self.chosen: AttendeeInfo | None = None
        self.last_message: Message | None = None
        self.busy = False
        self._visit: KioskCheckin | None = None
        self._print_job: BadgeJob | None = None
        self._outcome: JobOutcome | None = None
        self._leaving = False
        self._scale = 1.0

        self.stack = QStackedWidget()
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.addWidget(self.stack)
        self.camera: Any = None
        self.start_screen = self._build_start(use_camera)
        self.search_screen = self._build_search()
        self.confirm_screen = self._build_confirm()
        self.working_screen = self._build_working()
        self.result_screen = self._build_result()
        self.staff_screen = self._build_staff()

        self.idle = QTimer(self, singleShot=True, interval=max(1, int(idle_seconds * 1000)))
        self.idle.timeout.connect(self._on_idle_timeout)
        self.result_timer = QTimer(
            self, singleShot=True, interval=max(1, int(result_seconds * 1000))
        )
        self.result_timer.timeout.connect(self.go_start)
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self._run_search)
        self.staff_shortcut = QShortcut(QKeySequence("Ctrl+Shift+Q"), self)
        self.staff_shortcut.activated.connect(self._on_staff_shortcut_activated)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._restyle()
        if self.camera is not None:
            self.camera.start()
        self.go_start()

    # --- building ----------------------------------------------------------------------------

    def _page(self, name: str) -> tuple[QWidget, QVBoxLayout]:
        page = QWidget(objectName=name)
        page.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(60, 40, 60, 40)
        layout.setSpacing(18)
        self.stack.addWidget(page)
        return page, layout

    def _build_start(self, use_camera: bool) -> StartScreen:
        page = StartScreen()
        page.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.stack.addWidget(page)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(60, 36, 60, 28)
        layout.setSpacing(14)
        layout.addWidget(_label(self.event_name, "kioskEvent"))
        layout.addStretch(1)
        layout.addWidget(_label("Welcome!", "kioskTitle"))
        self.start_prompt = _label(
            "Scan the QR code on your badge\nor on your confirmation e-mail", "kioskLead"
        )
        layout.addWidget(self.start_prompt)
        self.scan_icon = DecisionIcon()
        self.scan_icon.set_shape("scan")
        layout.addWidget(self.scan_icon, 0, Qt.AlignmentFlag.AlignHCenter)
        if use_camera:
            # Loaded only here: a kiosk with a scanner alone never loads QtMultimedia.
            from desktop.ui.qt_camera import CameraPanel

            self.camera = CameraPanel(large=True)
            self.camera.code_read.connect(self._on_camera_code_read)
            # A camera plugged in later replaces the scanner picture (and the other way).
            self.camera.devices.videoInputsChanged.connect(self._show_camera_or_scanner)
            layout.addWidget(self.camera, 4)
        self.start_where = _label("Hold it under the scanner", "kioskNote")
        layout.addWidget(self.start_where)
        layout.addStretch(1)
        self.by_name_button = _button("No QR code?  Find me by name", "kioskSecondary")
        self.by_name_button.clicked.connect(self._on_by_name_button_clicked)
        layout.addWidget(self.by_name_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        corner = QHBoxLayout()
        corner.addStretch(1)
        self.staff_button = _button("Staff", "kioskStaffButton")
        self.staff_button.clicked.connect(self._on_staff_shortcut_activated)
        corner.addWidget(self.staff_button)
        layout.addLayout(corner)
        page.scanned.connect(self._on_start_screen_scanned)
        page.typed.connect(self._on_start_screen_typed)
        self._show_camera_or_scanner()
        return page

    def _build_search(self) -> QWidget:
        page, layout = self._page("kioskSearch")
        layout.addWidget(_label("Find your registration", "kioskHeading"))
        self.search_field = SearchField()
        self.search_field.setObjectName("kioskField")
        self.search_field.setPlaceholderText("Type your name or e-mail")
        self.search_field.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.search_field.textEdited.connect(self._on_search_field_text_edited)
        self.search_field.moved.connect(self._on_search_field_moved)
        self.search_field.chosen.connect(self._on_search_field_chosen)
        self.search_field.escaped.connect(self.go_start)
        layout.addWidget(self.search_field)
        self.search_note = _label("", "kioskNote")
        layout.addWidget(self.search_note)
        self.results = MatchList()
        self.results.picked.connect(self.show_confirm)
        results_row = QHBoxLayout()
        results_row.addStretch(1)
        results_row.addWidget(self.results, 6)
        results_row.addStretch(1)
        layout.addLayout(results_row, 1)
        row = QHBoxLayout()
        self.search_back = _button("‹  Back", "kioskBack")
        self.search_back.clicked.connect(self.go_start)
        row.addWidget(self.search_back)
        row.addStretch(1)
        layout.addLayout(row)
        return page

    def _build_confirm(self) -> QWidget:
        page, layout = self._page("kioskConfirm")
        layout.addStretch(1)
        layout.addWidget(_label("Is this you?", "kioskLead"))
        self.confirm_name = _label("", "kioskTitle")
        self.confirm_native = _label("", "kioskLead")
        self.confirm_where = _label("", "kioskNote")
        for label in (self.confirm_name, self.confirm_native, self.confirm_where):
            layout.addWidget(label)
        layout.addStretch(1)
        self.yes_button = _button("Yes, print my badge", "kioskPrimary")
        self.yes_button.clicked.connect(self.confirm)
        self.no_button = _button("No, go back", "kioskBack")
        self.no_button.clicked.connect(self._on_no_button_clicked)
        layout.addWidget(self.yes_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(10)
        layout.addWidget(self.no_button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        page.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return page

    def _build_working(self) -> QWidget:
        page, layout = self._page("kioskWorking")
        layout.addStretch(1)
        layout.addWidget(_label("One moment…", "kioskTitle"))
        self.working_text = _label("", "kioskLead")
        layout.addWidget(self.working_text)
        layout.addStretch(1)
        return page

    def _build_result(self) -> QWidget:
        page, layout = self._page("kioskResult")
        layout.addStretch(1)
        self.result_icon = DecisionIcon()
        layout.addWidget(self.result_icon, 0, Qt.AlignmentFlag.AlignHCenter)
        self.result_headline = _label("", "kioskTitle")
        self.result_body = _label("", "kioskLead")
        layout.addWidget(self.result_headline)
        layout.addWidget(self.result_body)
        layout.addStretch(1)
        self.done_button = _button("Done", "kioskDone")
        self.done_button.clicked.connect(self.go_start)
        layout.addWidget(self.done_button, 0, Qt.AlignmentFlag.AlignHCenter)
        page.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return page

    def _build_staff(self) -> QWidget:
        page, layout = self._page("kioskStaff")
        layout.addStretch(1)
        layout.addWidget(_label("Staff only", "kioskHeading"))
        layout.addWidget(_label("A supervisor's PIN ends kiosk mode.", "kioskNote"))
        self.pin_pad = PinPad()
        self.pin_pad.field.setPlaceholderText("PIN")
        self.pin_pad.setFixedWidth(420)
        self.pin_pad.submitted.connect(self._on_pin_pad_submitted)
        layout.addWidget(self.pin_pad, 0, Qt.AlignmentFlag.AlignHCenter)
        self.staff_message = _label("", "kioskWarning")
        layout.addWidget(self.staff_message)
        self.staff_back = _button("Cancel", "kioskBack")
        self.staff_back.clicked.connect(self.go_start)
        layout.addWidget(self.staff_back, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(1)
        return page

    # --- look ------------------------------------------------------------------------------

    def _restyle(self) -> None:
        """Type sized to the screen: designed at 1920×1080, never below 60 % of that."""
        scale = max(0.6, min(self.width() / 1920, self.height() / 1080, 1.6))
        if abs(scale - self._scale) < 0.02 and self.styleSheet():
            return
        self._scale = scale

        def px(size: float) -> int:
            return round(size * scale)

        self.setStyleSheet(
            f"""
            #kiosk, #kioskStart, #kioskSearch, #kioskConfirm, #kioskWorking, #kioskStaff
                {{ background: {NAVY}; }}
            QLabel {{ color: white; }}
            #kioskEvent {{ font-size: {px(30)}px; color: #c9d6ea; }}
            #kioskTitle {{ font-size: {px(104)}px; font-weight: 700; }}
            #kioskHeading {{ font-size: {px(72)}px; font-weight: 700; }}
            #kioskLead {{ font-size: {px(50)}px; }}
            #kioskNote {{ font-size: {px(36)}px; color: #dbe4f1; }}
            #kioskWarning {{ font-size: {px(36)}px; color: #ffd7d3; font-weight: 600; }}
            QPushButton {{ border-radius: {px(18)}px; }}
            #kioskPrimary {{ font-size: {px(50)}px; font-weight: 700; color: white;
                background: {GREEN}; border: none; padding: {px(30)}px {px(80)}px; }}
            #kioskSecondary, #kioskDone {{ font-size: {px(44)}px; font-weight: 600;
                color: {NAVY}; background: white; border: none;
                padding: {px(26)}px {px(64)}px; }}
            #kioskBack {{ font-size: {px(36)}px; color: white; background: transparent;
                border: {px(3)}px solid #8fa6c8; padding: {px(18)}px {px(44)}px; }}
            #kioskStaffButton {{ font-size: {px(16)}px; color: #7f95b8;
                background: transparent; border: none; padding: 6px 12px; }}
            QLineEdit#kioskField {{ font-size: {px(60)}px; padding: {px(18)}px;
                border-radius: {px(16)}px; border: none; background: white; color: {NAVY}; }}
            #kioskMatch {{ background: #1d4276; border-radius: {px(16)}px;
                padding: {px(8)}px; }}
            #kioskMatch[current="true"] {{ background: white; }}
            #kioskMatchName {{ font-size: {px(46)}px; font-weight: 700; }}
            #kioskMatchWhere {{ font-size: {px(28)}px; color: #dbe4f1; }}
            #kioskMatch[current="true"] QLabel {{ color: {NAVY}; }}
            #kioskStaff QLineEdit#pinField {{ font-size: {px(44)}px; padding: 10px;
                letter-spacing: 8px; border-radius: 10px; border: none; background: white;
                color: {NAVY}; }}
            #kioskStaff QPushButton#pinKey {{ font-size: {px(36)}px; font-weight: 600;
                background: white; color: {NAVY}; border: none; }}
            #kioskStaff QPushButton#pinOk {{ font-size: {px(30)}px; font-weight: 700;
                background: {BLUE}; color: white; border: 2px solid white; }}
            """
        )
        icon = px(240)
        self.scan_icon.setFixedSize(icon, icon)
        self.result_icon.setFixedSize(icon, icon)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._restyle()

    def _show_camera_or_scanner(self) -> None:
        camera = self.camera is not None and self.camera.has_camera
        if self.camera is not None:
            self.camera.setVisible(camera)
        self.scan_icon.setVisible(not camera)
        self.start_where.setText(
            "Hold it up to the camera" if camera else "Hold it under the scanner"
        )

    # --- moving between screens --------------------------------------------------------------

    def screen_name(self) -> str:
        """The screen on show: start, search, confirm, working, result or staff."""
        return {
            self.start_screen: "start",
            self.search_screen: "search",
            self.confirm_screen: "confirm",
            self.working_screen: "working",
            self.result_screen: "result",
            self.staff_screen: "staff",
        }[self.stack.currentWidget()]

    def _show(self, page: QWidget, focus: QWidget | None = None) -> None:
        self.stack.setCurrentWidget(page)
        if self.camera is not None:
            self.camera.set_paused(page is not self.start_screen)
        target = focus or page
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        if page is self.start_screen or page is self.working_screen:
            self.idle.stop()
        else:
            self.idle.start()

    def go_start(self) -> None:
        """Back to the welcome screen, forgetting the last visitor."""
        if self.busy:
            return
        self.result_timer.stop()
        self._search_timer.stop()
        self.chosen = None
        self.search_field.clear()
        self.results.set_people([])
        self.pin_pad.field.clear()
        self.staff_message.clear()
        self.start_screen.clear()
        if self.camera is not None:
            self._show_camera_or_scanner()
        self._show(self.start_screen)

    def open_search(self, text: str = "") -> None:
        """The search screen, with what was typed so far."""
        self.search_field.setText(text)
        self._show(self.search_screen, self.search_field)
        self._run_search()

    def _on_by_name_button_clicked(self) -> None:
        self.open_search()

    def _on_start_screen_typed(self, text: str) -> None:
        self.open_search(text)

    def _on_start_screen_scanned(self, text: str) -> None:
        self.submit(text)

    def _on_camera_code_read(self, text: str) -> None:
        if self.stack.currentWidget() is self.start_screen and not self.busy:
            self.submit(text)

    # --- searching -----------------------------------------------------------------------------

    def _on_search_field_text_edited(self, _text: str) -> None:
        self._search_timer.start()

    def _run_search(self) -> None:
        text = self.search_field.text().strip()
        self.results.set_people([])
        if len(text) < SEARCH_MIN_CHARS:
            self.search_note.setText(
                "Type your name or e-mail" if not text else "Keep typing: a few more letters"
            )
            return
        total, people = find_people(self.store, text, SEARCH_LIMIT)
        self.results.set_people(people)
        if not people:
            self.search_note.setText(
                f"No one found for “{text}”. Check the spelling or try your e-mail."
            )
        elif total > len(people):
            self.search_note.setText("Many names match: type more of your name")
        else:
            self.search_note.setText("Touch your name, or use ↑ ↓ and Enter")

    def _on_search_field_moved(self, step: int) -> None:
        self.results.move(step)

    def _on_search_field_chosen(self) -> None:
        if self._search_timer.isActive():
            self._search_timer.stop()
            self._run_search()
        person = self.results.current_person()
        if person is not None:
            self.show_confirm(person)

    def show_confirm(self, person: AttendeeInfo) -> None:
        """Ask "Is this you?" about one person."""
        self.chosen = person
        self.confirm_name.setText(person.display_name)
        self.confirm_native.setText(person.native_name)
        self.confirm_native.setVisible(bool(person.native_name))
        where = " · ".join(p for p in (person.organisation, country_name(person.country)) if p)
        self.confirm_where.setText(where)
        with self.store.begin() as session:
            printer = badges.load_printer_settings(session).configured
            try:
                printed = badges.badge_status(session, self.event_id, person.id).printed
            except badges.BadgeError:
                printed = True
        # Say what pressing it will do: a badge is printed here once, and only with a printer.
        self.yes_button.setText(
            "Yes, print my badge" if printer and not printed else "Yes, check me in"
        )
        self._show(self.confirm_screen)

    def _on_no_button_clicked(self) -> None:
        self.chosen = None
        self._show(self.search_screen, self.search_field)

    def confirm(self) -> None:
        """The visitor said "Yes, this is me": check them in and print their badge."""
        person = self.chosen
        if person is None or self.stack.currentWidget() is not self.confirm_screen:
            return
        self.submit(self.search_field.text().strip() or person.short_code, person.id)

    # --- checking in and printing --------------------------------------------------------------

    def submit(self, raw: str, attendee_id: str | None = None) -> None:
        """Record a check-in like the desk does; then print the badge if it is the first."""
        if self.busy:
            return
        self.busy = True
        self.working_text.setText("Checking you in")
        self._show(self.working_screen)
        run_task(
            _checkin_job,
            self.store,
            raw,
            attendee_id,
            self.operator_id,
            pool=writer_pool(),
            on_result=self._on_checkin_recorded,
            on_error=self._on_checkin_failed,
        )

    def _on_checkin_recorded(self, done: KioskCheckin) -> None:
        self.checked_in.emit(done)
        if done.badge != "print" or not done.printer.configured:
            self._finish(message_for(done))
            return
        person = done.result.attendee
        assert person is not None
        self._visit = done
        self.working_text.setText("Printing your badge")
        self._print_job = BadgeJob((person.id,), done.printer.layout, done.ctx)
        run_task(
            run_badge_job,
            self.store,
            self._print_job,
            done.printer,
            pool=print_pool(),
            on_result=self._on_print_job_done,
            on_error=self._on_print_job_crashed,
        )

    def _on_print_job_done(self, outcome: JobOutcome) -> None:
        self._outcome = outcome
        run_task(
            _record_print_job,
            self.store,
            outcome,
            pool=writer_pool(),
            on_result=self._on_print_recorded,
            on_error=self._on_print_record_failed,
        )

    def _on_print_job_crashed(self, error: BaseException) -> None:
        job = self._print_job
        if job is None or self._visit is None:
            self._finish(failure_message())
            return
        failed = JobOutcome(job, failed=job.attendee_ids, error=str(error))
        self._finish(message_for(self._visit, failed))

    def _on_print_recorded(self, outcome: JobOutcome) -> None:
        if self._visit is not None:
            self._finish(message_for(self._visit, outcome))

    def _on_print_record_failed(self, _error: BaseException) -> None:
        # Printed (or not) but not written down: tell the visitor what happened to them.
        if self._visit is not None:
            self._finish(message_for(self._visit, self._outcome))

    def _on_checkin_failed(self, _error: BaseException) -> None:
        self._finish(failure_message())

    def _finish(self, message: Message) -> None:
        self.busy = False
        self._visit = None
        self._print_job = None
        self._outcome = None
        self.last_message = message
        colour = TONES.get(message.tone, RED)
        self.result_screen.setStyleSheet(f"#kioskResult {{ background: {colour}; }}")
        self.result_icon.set_shape(message.icon)
        self.result_headline.setText(message.headline)
        self.result_body.setText(message.body)
        self._show(self.result_screen)
        self.result_timer.start()
        self.visit_finished.emit(message)

    # --- leaving -----------------------------------------------------------------------------

    def _on_staff_shortcut_activated(self) -> None:
        if self.busy:
            return
        self.staff_message.clear()
        self._show(self.staff_screen, self.pin_pad.field)
        self._apply_throttle()

    def _on_pin_pad_submitted(self, secret: str) -> None:
        if self.throttle.wait_left() > 0:
            self._apply_throttle()
            return
        try:
            with self.store.begin() as session:
                person = operators.identify(session, self.event_id, secret)
        except operators.SignInError:
            self.throttle.failed()
            self.staff_message.setText("Wrong PIN.")
            self._apply_throttle()
            return
        if person.role not in LEAVE_ROLES:
            self.throttle.failed()
            self.staff_message.setText("Only a supervisor or an administrator can end kiosk mode.")
            self._apply_throttle()
            return
        self.throttle.succeeded()
        self.leave(person)

    def _apply_throttle(self) -> None:
        left = self.throttle.wait_left()
        self.pin_pad.set_enabled(left <= 0)
        if left > 0:
            self.staff_message.setText(f"Too many wrong tries: wait {int(left + 0.99)} seconds.")

    def leave(self, person: OperatorInfo) -> None:
        """End kiosk mode (the supervisor's PIN was right)."""
        self._leaving = True
        self.idle.stop()
        self.result_timer.stop()
        if self.camera is not None:
            self.camera.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.close()
        self.left.emit(person)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Alt+F4 and the like: only the PIN lets anyone out.
        if self._leaving:
            super().closeEvent(event)
        else:
            event.ignore()

    # --- idle and keys -------------------------------------------------------------------------

    def _on_idle_timeout(self) -> None:
        if self.stack.currentWidget() is not self.start_screen:
            self.go_start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _ACTIVITY and self.idle.isActive():
            inside = watched is self or (
                isinstance(watched, QWidget) and self.isAncestorOf(watched)
            )
            if inside:
                self.idle.start()
        if kind == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self._on_screen_key(watched, event)
        return False

    def _on_screen_key(self, watched: QObject, event: QKeyEvent) -> bool:
        key = event.key()
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if watched is self.confirm_screen:
            if enter:
                self.confirm()
                return True
            if key == Qt.Key.Key_Escape:
                self._on_no_button_clicked()
                return True
        elif watched is self.result_screen:
            if enter or key in (Qt.Key.Key_Escape, Qt.Key.Key_Space):
                self.go_start()
                return True
        elif watched is self.pin_pad.field and key == Qt.Key.Key_Escape:
            self.go_start()
            return True
        return False
