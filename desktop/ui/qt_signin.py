"""Signing in at the desk: the lock screen, the PIN pad, switching operator, the idle lock.

The desk opens locked. The lock screen covers the whole window (no attendee's data shows
through) and is also where people sign in: type a PIN or password and press Enter. Ctrl+L
locks at once, so switching operator is two keystrokes: Ctrl+L, then the next person's PIN.
After a few idle minutes (``desk/lock_after_minutes`` in the desk's settings; 0 turns it off)
the desk locks by itself. On a new event with no administrator yet, the same screen asks
for the administrator's name and PIN first.

While someone is signed in, areas their role may not use are hidden from the navigation
(see :data:`AREA_ACTIONS` and a page's ``required_action``), and pages that define
``apply_permissions(actions)`` are told which actions the role allows; the services refuse
the rest anyway.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import desk, operators, permissions
from desktop.demo import DEMO_EVENT_ID
from desktop.journal import DeskContext
from desktop.models import Event
from desktop.operators import OperatorInfo
from desktop.store import Store

DEFAULT_LOCK_MINUTES = 5
# Areas that need more than the desk role; a page may also say so with ``required_action``.
AREA_ACTIONS: dict[str, str] = {
    "audit": "view_audit",
    "import": "import_attendees",
    "certificates": "issue_certificates",
    "settings": "change_event_settings",
    "keys": "manage_keys",
    "operators": "manage_operators",
    "backups": "restore_backup",
    "privacy": "export_personal_data",
}
# Menu actions of the main window (attribute name) and what they need; any QAction may also
# carry a ``required_action`` dynamic property.
WINDOW_ACTIONS: dict[str, str] = {"import_action": "import_attendees"}
_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}

LOCK_STYLE = """
#lockScreen { background: #12325e; }
#lockScreen QLabel#lockTitle { color: white; font-size: 34px; font-weight: 700; }
#lockScreen QLabel#lockWhere { color: #c9d6ea; font-size: 18px; }
#lockCard { background: white; border-radius: 14px; }
#lockCard QLabel#lockPrompt { font-size: 20px; font-weight: 600; }
#lockCard QLabel#lockMessage { font-size: 16px; color: #b3261e; min-height: 22px; }
#lockCard QLabel#lockHint { font-size: 14px; color: #5b6570; }
#lockCard QLineEdit#pinField { font-size: 26px; padding: 10px; letter-spacing: 6px; }
#lockCard QLineEdit { font-size: 17px; padding: 8px; }
#lockCard QPushButton#pinKey { font-size: 26px; font-weight: 600; padding: 4px; }
#lockCard QPushButton#pinOk { font-size: 22px; font-weight: 600; padding: 4px; color: white;
    background: #1f4e8c; border: none; }
"""


def _sentence(text: str) -> str:
    """A message as a sentence: capital first letter, full stop."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


class PinPad(QWidget):
    """A PIN or password field with a large digit pad; Enter or OK submits."""

    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.field = QLineEdit(objectName="pinField")
        self.field.setEchoMode(QLineEdit.EchoMode.Password)
        self.field.setPlaceholderText("PIN or password")
        self.field.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.field.returnPressed.connect(self._on_ok_clicked)
        layout.addWidget(self.field)
        grid = QGridLayout()
        grid.setSpacing(8)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]
        self.buttons: dict[str, QPushButton] = {}
        for index, key in enumerate(keys):
            button = QPushButton(key, objectName="pinKey")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the field
            # Sized in code, not in the style sheet, so the layout knows how tall the pad is.
            button.setMinimumSize(80, 64)
            if key == "OK":
                button.setObjectName("pinOk")
                button.clicked.connect(self._on_ok_clicked)
            elif key == "⌫":
                button.setAccessibleName("Erase")
                button.clicked.connect(self.field.backspace)
            else:
                button.clicked.connect(lambda _=False, k=key: self.field.insert(k))
            self.buttons[key] = button
            grid.addWidget(button, index // 3, index % 3)
        layout.addLayout(grid)

    def _on_ok_clicked(self) -> None:
        text = self.field.text()
        self.field.clear()
        if text:
            self.submitted.emit(text)

    def set_enabled(self, enabled: bool) -> None:
        self.field.setEnabled(enabled)
        for button in self.buttons.values():
            button.setEnabled(enabled)
        if enabled:
            self.field.setFocus()


class LockScreen(QWidget):
    """Covers the window; signs a person in (or creates the first administrator)."""

    unlocked = Signal(object)  # OperatorInfo

    def __init__(self, store: Store, parent: QWidget) -> None:
        super().__init__(parent)
        self.store = store
        self.setObjectName("lockScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(LOCK_STYLE)
        self.throttle = operators.Throttle()
        self._wait_timer = QTimer(self, interval=1000)
        self._wait_timer.timeout.connect(self._on_wait_timer_timeout)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        self.title = QLabel("Desk locked", objectName="lockTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.where = QLabel(objectName="lockWhere")
        self.where.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.title)
        outer.addWidget(self.where)
        outer.addSpacing(18)

        self.card = QWidget(objectName="lockCard")
        self.card.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.card.setFixedWidth(420)
        card = QVBoxLayout(self.card)
        card.setContentsMargins(28, 24, 28, 24)
        card.setSpacing(10)
        # Prompts carry their own line breaks: wrapped labels made Qt squeeze the pad.
        self.prompt = QLabel(objectName="lockPrompt")
        card.addWidget(self.prompt)

        # Unlock: who (optional, for two people sharing a PIN) and the pad.
        self.unlock_box = QWidget()
        unlock = QVBoxLayout(self.unlock_box)
        unlock.setContentsMargins(0, 0, 0, 0)
        self.who = QComboBox()
        self.who.setAccessibleName("Operator")
        unlock.addWidget(self.who)
        self.pad = PinPad()
        self.pad.submitted.connect(self._on_pad_submitted)
        unlock.addWidget(self.pad)
        card.addWidget(self.unlock_box)

        # First run of a new event: make the administrator.
        self.setup_box = QWidget()
        setup = QFormLayout(self.setup_box)
        setup.setContentsMargins(0, 0, 0, 0)
        self.admin_name = QLineEdit(placeholderText="Your full name")
        self.admin_secret = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.admin_again = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        setup.addRow("Name", self.admin_name)
        setup.addRow("PIN or password", self.admin_secret)
        setup.addRow("Once more", self.admin_again)
        self.create_button = QPushButton("Create administrator and sign in", objectName="primary")
        self.create_button.clicked.connect(self._on_create_button_clicked)
        self.admin_again.returnPressed.connect(self._on_create_button_clicked)
        setup.addRow(self.create_button)
        card.addWidget(self.setup_box)

        self.message = QLabel(objectName="lockMessage")
        self.message.setWordWrap(True)
        card.addWidget(self.message)
        self.hint = QLabel(objectName="lockHint")
        card.addWidget(self.hint)

        row = QVBoxLayout()
        row.addWidget(self.card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addLayout(row)
        outer.addStretch(2)
        self.hide()

    # --- showing -----------------------------------------------------------------------------

    def _event(self) -> tuple[str, str, str]:
        with self.store.begin() as session:
            event_id = desk.current_event_id(session) or ""
            event = session.get(Event, event_id) if event_id else None
            return event_id, (event.name if event else ""), desk.desk_name(session)

    def show_locked(self, reason: str) -> None:
        """Cover the window and wait for a PIN (or for the first administrator)."""
        event_id, event_name, desk_name = self._event()
        self.where.setText(f"{event_name}  ·  {desk_name}" if event_name else desk_name)
        with self.store.begin() as session:
            needs_admin = bool(event_id) and not operators.has_admin(session, event_id)
            people = operators.list_operators(session, event_id) if event_id else []
        self.message.clear()
        self.unlock_box.setVisible(not needs_admin)
        self.setup_box.setVisible(needs_admin)
        if needs_admin:
            self.title.setText("Welcome")
            self.prompt.setText(
                "First, create the administrator.\n"
                "They add the other operators\nand may do everything."
            )
            self.hint.setText("Choose a PIN of at least 4 digits, or a password.")
        else:
            self.title.setText("Desk locked")
            self.prompt.setText(reason or "Type your PIN, then press Enter")
            self.who.clear()
            self.who.addItem("Just type your PIN (or pick your name)", None)
            for person in people:
                self.who.addItem(f"{person.name} ({person.role_label})", person.id)
            self.who.setVisible(len(people) > 1)
            self.hint.setText(
                "Demo PINs: desk staff 1111 · supervisor 2222\nadministrator 9999"
                if event_id == DEMO_EVENT_ID
                else "Ctrl+L locks the desk or switches operator."
            )
        self.resize_to_parent()
        self.show()
        self.raise_()
        self._apply_throttle()
        self.fit_card()
        if needs_admin:
            self.admin_name.setFocus()
        else:
            self.pad.field.setFocus()

    def fit_card(self) -> None:
        """Keep the card at its natural height (wrapped text made Qt squeeze the PIN pad)."""
        layout = self.card.layout()
        layout.invalidate()
        layout.activate()
        width = self.card.width()
        needed = self.card.sizeHint().height()
        if layout.hasHeightForWidth():
            needed = max(needed, layout.totalHeightForWidth(width))
        self.card.setMinimumHeight(needed)

    def resize_to_parent(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())

    # --- signing in --------------------------------------------------------------------------

    def _on_pad_submitted(self, secret: str) -> None:
        if self.throttle.wait_left() > 0:
            return
        event_id, _, _ = self._event()
        chosen = self.who.currentData()
        try:
            with self.store.begin() as session:
                person = operators.identify(session, event_id, secret, chosen)
                operators.sign_in(session, person)
        except operators.SignInError as exc:
            self.throttle.failed()
            self.message.setText(_sentence(str(exc)))
            self._apply_throttle()
            self.fit_card()
            return
        self.throttle.succeeded()
        self.message.clear()
        self.unlocked.emit(person)

    def _apply_throttle(self) -> None:
        left = self.throttle.wait_left()
        self.pad.set_enabled(left <= 0)
        if left > 0:
            self.message.setText(f"Too many wrong tries: wait {int(left + 0.99)} seconds.")
            self._wait_timer.start()
        else:
            self._wait_timer.stop()

    def _on_wait_timer_timeout(self) -> None:
        if self.throttle.wait_left() <= 0:
            self.message.clear()
        self._apply_throttle()

    def _on_create_button_clicked(self) -> None:
        name = self.admin_name.text()
        secret = self.admin_secret.text()
        if secret != self.admin_again.text():
            self.message.setText("The two entries differ: type the same PIN twice.")
            return
        try:
            with self.store.begin() as session:
                here = desk.context(session)
                # Nobody is signed in yet: the first administrator is made as the folder's owner.
                owner = DeskContext(here.event_id, here.desk_id, None)
                person = operators.create_operator(session, owner, name, "admin", secret)
                operators.sign_in(session, person)
        except (operators.OperatorError, permissions.PermissionDenied) as exc:
            self.message.setText(_sentence(str(exc)))
            return
        for field in (self.admin_name, self.admin_secret, self.admin_again):
            field.clear()
        self.unlocked.emit(person)


class DeskGuard(QObject):
    """Keeps a window behind the lock screen until someone signs in; locks when idle."""

    operator_changed = Signal(object)  # OperatorInfo, or None when locked

    def __init__(
        self,
        window: QMainWindow,
        store: Store,
        settings: QSettings,
        *,
        lock_minutes: float | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.store = store
        if lock_minutes is None:
            value = settings.value("desk/lock_after_minutes", DEFAULT_LOCK_MINUTES)
            try:
                lock_minutes = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                lock_minutes = DEFAULT_LOCK_MINUTES
        self.lock_minutes = lock_minutes
        self.operator: OperatorInfo | None = None
        self.lock_screen = LockScreen(store, window)
        self.lock_screen.unlocked.connect(self._on_lock_screen_unlocked)
        self.idle = QTimer(self, singleShot=True)
        self.idle.setInterval(max(int(lock_minutes * 60_000), 1))
        self.idle.timeout.connect(self._on_idle_timeout)
        self.shortcut = QShortcut(QKeySequence("Ctrl+L"), window)
        self.shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        self.shortcut.activated.connect(self._on_shortcut_activated)
        window.installEventFilter(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
            app.aboutToQuit.connect(self._on_app_about_to_quit)
        self.lock("Sign in to start")

    @property
    def is_locked(self) -> bool:
        return self.lock_screen.isVisible()

    def lock(self, reason: str = "") -> None:
        """Sign the operator out and cover the window."""
        with self.store.begin() as session:
            operators.sign_out(session)
        self.operator = None
        self.idle.stop()
        central = self.window.centralWidget()
        if central is not None:
            central.setEnabled(False)  # no key reaches a page under the lock
        self.lock_screen.show_locked(reason)
        self._refresh_window()
        self.operator_changed.emit(None)

    def _on_lock_screen_unlocked(self, person: OperatorInfo) -> None:
        self.operator = person
        central = self.window.centralWidget()
        if central is not None:
            central.setEnabled(True)
        self.lock_screen.hide()
        self.apply_role(person.role)
        self._refresh_window()
        self._focus_page()
        self._restart_idle()
        self.operator_changed.emit(person)

    def apply_role(self, role: str) -> None:
        """Hide the areas ``role`` may not use; tell pages which actions it allows."""
        allowed = permissions.actions_for(role)
        navigation = getattr(self.window, "navigation", None)
        pages = getattr(self.window, "pages", None)
        if navigation is None or pages is None:
            return
        first_visible = -1
        for row in range(navigation.count()):
            item = navigation.item(row)
            page = pages.widget(row)
            action = getattr(page, "required_action", None) or AREA_ACTIONS.get(
                str(item.data(Qt.ItemDataRole.UserRole))
            )
            hidden = bool(action) and action not in allowed
            item.setHidden(hidden)
            if not hidden and first_visible < 0:
                first_visible = row
            apply = getattr(page, "apply_permissions", None)
            if callable(apply):
                apply(allowed)
        current = navigation.currentRow()
        if current < 0 or navigation.item(current).isHidden():
            navigation.setCurrentRow(max(first_visible, 0))
        for name, needed in WINDOW_ACTIONS.items():
            menu_action = getattr(self.window, name, None)
            if isinstance(menu_action, QAction):
                menu_action.setProperty("required_action", needed)
        for menu_action in self.window.findChildren(QAction):
            needed = menu_action.property("required_action")
            if isinstance(needed, str) and needed:
                menu_action.setVisible(needed in allowed)

    def _focus_page(self) -> None:
        """Give the keyboard to the page on screen (the scan field, a search box)."""
        pages = getattr(self.window, "pages", None)
        page = pages.currentWidget() if pages is not None else None
        if page is None:
            return
        candidates = [page, *page.findChildren(QWidget)]
        for widget in candidates:
            takes = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
            if takes and widget.isVisible() and widget.isEnabled():
                widget.setFocus(Qt.FocusReason.OtherFocusReason)
                return
        # A page with nothing to type into: keys go to the window (its shortcuts), not the pad.
        self.window.setFocus(Qt.FocusReason.OtherFocusReason)

    def _refresh_window(self) -> None:
        refresh = getattr(self.window, "refresh", None)
        if callable(refresh):
            refresh()

    def _restart_idle(self) -> None:
        if self.lock_minutes > 0 and not self.is_locked:
            self.idle.start()

    def _on_idle_timeout(self) -> None:
        if not self.is_locked:
            minutes = self.lock_minutes
            shown = f"{minutes:g} minute" + ("" if minutes == 1 else "s")
            self.lock(f"Locked after {shown} without use.\nType your PIN, then press Enter")

    def _on_shortcut_activated(self) -> None:
        if not self.is_locked:
            self.lock("Switch operator:\ntype your PIN, then press Enter")

    def _on_app_about_to_quit(self) -> None:
        # The command line must not act as whoever last sat at this desk.
        with self.store.begin() as session:
            operators.sign_out(session)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _ACTIVITY and self.idle.isActive():
            self.idle.start()  # restarts the countdown
        elif watched is self.window and kind == QEvent.Type.Resize:
            self.lock_screen.resize_to_parent()
        return False


def install(window: QMainWindow, store: Store, settings: QSettings, **kwargs: Any) -> DeskGuard:
    """Put ``window`` behind the lock screen; returns the guard (keep it)."""
    return DeskGuard(window, store, settings, **kwargs)
