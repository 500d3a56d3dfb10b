"""The overview: the event and its figures at a glance."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from desktop import desk
from desktop.events import list_sessions
from desktop.overview import summarise
from desktop.store import Store


def _figure(value_label: QLabel, caption: str) -> QFrame:
    card = QFrame(objectName="card")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(20, 16, 20, 16)
    value_label.setObjectName("figureValue")
    caption_label = QLabel(caption, objectName="figureLabel")
    layout.addWidget(value_label)
    layout.addWidget(caption_label)
    return card


class HomePage(QWidget):
    """Event name, dates, venue, organiser, and counts; the programme in brief."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(18)
        self.title = QLabel(objectName="pageTitle")
        self.title.setWordWrap(True)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setStyleSheet("font-size: 16px;")
        layout.addWidget(self.title)
        layout.addWidget(self.details)

        grid = QGridLayout()
        grid.setSpacing(16)
        self.attendees = QLabel()
        self.countries = QLabel()
        self.sessions = QLabel()
        self.cancelled = QLabel()
        grid.addWidget(_figure(self.attendees, "registered attendees"), 0, 0)
        grid.addWidget(_figure(self.countries, "countries and economies"), 0, 1)
        grid.addWidget(_figure(self.sessions, "sessions in the programme"), 0, 2)
        grid.addWidget(_figure(self.cancelled, "cancelled registrations"), 0, 3)
        layout.addLayout(grid)

        self.programme = QLabel()
        self.programme.setTextFormat(Qt.TextFormat.RichText)
        self.programme.setWordWrap(True)
        self.programme.setStyleSheet("font-size: 15px;")
        card = QFrame(objectName="card")
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(20, 16, 20, 16)
        card_layout.addWidget(QLabel("Programme", objectName="figureLabel"))
        card_layout.addWidget(self.programme)
        layout.addWidget(card)
        layout.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        """Reload the figures from the store."""
        with self.store.read() as session:
            event_id = desk.current_event_id(session)
            summary = summarise(session, event_id) if event_id else None
            sessions = list_sessions(session, event_id) if event_id else []
        if summary is None:
            self.title.setText("No event open")
            return
        self.title.setText("Overview")
        where = ", ".join(p for p in (summary.venue, summary.city) if p)
        self.details.setText(
            f"{summary.dates_text} · {where}<br>Organised by {summary.organiser}"
            f" · times in {summary.timezone}"
        )
        self.attendees.setText(str(summary.attendees))
        self.countries.setText(str(summary.countries))
        self.sessions.setText(str(summary.sessions))
        self.cancelled.setText(str(summary.cancelled))
        rows = []
        current_day = None
        for item in sessions:
            if item.starts_at is None:
                continue
            day = item.starts_at.date()
            if day != current_day:
                current_day = day
                rows.append(f"<p style='margin-top:8px'><b>{day:%A %d %B %Y}</b></p>")
            end = f"–{item.ends_at:%H:%M}" if item.ends_at else ""
            rows.append(
                f"<div>{item.starts_at:%H:%M}{end} &nbsp; {item.title}"
                f" <span style='color:#5b6570'>· {item.room}</span></div>"
            )
        self.programme.setText("".join(rows) or "No sessions yet.")
