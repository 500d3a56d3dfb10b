"""The first run: open the demo event or create a new one."""

from __future__ import annotations

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from desktop import desk
from desktop.demo import create_demo
from desktop.events import create_event, put_desk
from desktop.store import Store

COMMON_ZONES = (
    "Asia/Manila",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Singapore",
    "Europe/London",
    "Europe/Paris",
    "America/New_York",
    "UTC",
)


class FirstRunDialog(QDialog):
    """Offers the demo event or a new event; accepted once an event exists."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.setWindowTitle("Welcome to EventDesk")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "<h2>Welcome to EventDesk</h2>"
            "<p>Open the demo event to try the desk, or create your own event.</p>"
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.demo_button = QPushButton("Open the demo event (APO conference, Manila 2024)")
        self.demo_button.setObjectName("primary")
        self.demo_button.clicked.connect(self._on_demo_button_clicked)
        layout.addWidget(self.demo_button)

        layout.addWidget(QLabel("<h3>Or create a new event</h3>"))
        form = QFormLayout()
        self.name = QLineEdit()
        self.code = QLineEdit(maxLength=8, placeholderText="e.g. OI24")
        self.organiser = QLineEdit()
        self.venue = QLineEdit()
        self.city = QLineEdit()
        self.starts = QDateEdit(QDate.currentDate(), calendarPopup=True)
        self.ends = QDateEdit(QDate.currentDate(), calendarPopup=True)
        self.zone = QComboBox(editable=True)
        self.zone.addItems(COMMON_ZONES)
        form.addRow("Event name", self.name)
        form.addRow("Short code", self.code)
        form.addRow("Organiser", self.organiser)
        form.addRow("Venue", self.venue)
        form.addRow("City", self.city)
        form.addRow("First day", self.starts)
        form.addRow("Last day", self.ends)
        form.addRow("Time zone", self.zone)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create event")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _on_demo_button_clicked(self) -> None:
        with self.store.begin() as session:
            create_demo(session, self.store.data_dir)
        self.accept()

    def _on_buttons_accepted(self) -> None:
        name = self.name.text().strip()
        if not name:
            QMessageBox.warning(self, "Event name needed", "Give the event a name first.")
            return
        if self.ends.date() < self.starts.date():
            QMessageBox.warning(self, "Check the dates", "The last day is before the first day.")
            return
        fields = {
            "name": name,
            "code": self.code.text().strip().upper() or "EV",
            "organiser": self.organiser.text().strip(),
            "venue": self.venue.text().strip(),
            "city": self.city.text().strip(),
            "starts_on": self.starts.date().toString("yyyy-MM-dd"),
            "ends_on": self.ends.date().toString("yyyy-MM-dd"),
            "timezone": self.zone.currentText().strip() or "UTC",
        }
        with self.store.begin() as session:
            desk_id = desk.desk_id(session)
            event_id = create_event(session, desk_id, self.store.data_dir, fields)
            desk.open_event(session, event_id)
            put_desk(session, desk.context(session), desk.desk_name(session))
        self.accept()
