"""The main window: the event header, the areas on the left, the status bar."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import desk
from desktop.overview import summarise
from desktop.store import Store
from desktop.ui.qt_attendees import AttendeesPage
from desktop.ui.qt_audit import AuditPage
from desktop.ui.qt_badges import BadgesPage
from desktop.ui.qt_certificates import CertificatesPage
from desktop.ui.qt_checkin import CheckinPage
from desktop.ui.qt_dashboard import DashboardPage
from desktop.ui.qt_home import HomePage
from desktop.ui.qt_import import open_import_wizard
from desktop.ui.qt_kiosk import KioskWindow
from desktop.ui.qt_operators import OperatorsPage
from desktop.ui.qt_reports import ReportsPage
from desktop.ui.qt_sessions import SessionsPage
from desktop.ui.qt_sync import SyncPage


@dataclass(frozen=True)
class Area:
    """One area of the app: a name in the navigation and the page that fills it."""

    key: str
    title: str
    make: Callable[[Store], QWidget]


# An area appears here once it works; later areas (check-in, badges, certificates, reports,
# sync, settings) are added to this list as they land.
AREAS: list[Area] = [
    Area("home", "Overview", HomePage),
    Area("attendees", "Attendees", AttendeesPage),
    Area("sessions", "Sessions", SessionsPage),
    Area("checkin", "Check-in", CheckinPage),
    Area("badges", "Badges", BadgesPage),
    Area("certificates", "Certificates", CertificatesPage),
    Area("dashboard", "Dashboard", DashboardPage),
    Area("reports", "Reports", ReportsPage),
    Area("audit", "Audit trail", AuditPage),
    Area("operators", "Operators", OperatorsPage),
    Area("sync", "Sync", SyncPage),
]


class MainWindow(QMainWindow):
    """The desk application's window."""

    def __init__(self, store: Store, settings: QSettings) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self.setWindowTitle("EventDesk")
        self.setMinimumSize(1000, 680)

        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        header = QWidget(objectName="eventHeader")
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(20, 12, 20, 12)
        self.event_title = QLabel(objectName="eventTitle")
        self.event_subtitle = QLabel(objectName="eventSubtitle")
        header_layout.addWidget(self.event_title)
        header_layout.addWidget(self.event_subtitle)
        outer.addWidget(header)

        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        self.navigation = QListWidget(objectName="navigation")
        self.navigation.setFixedWidth(210)
        self.navigation.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pages = QStackedWidget()
        for area in AREAS:
            item = QListWidgetItem(area.title)
            item.setData(Qt.ItemDataRole.UserRole, area.key)
            # Tall rows: the areas are touched and read from a standing position.
            item.setSizeHint(QSize(190, 50))
            self.navigation.addItem(item)
            self.pages.addWidget(area.make(store))
        self._connect_pages()
        self.navigation.currentRowChanged.connect(self._on_navigation_changed)
        body.addWidget(self.navigation)
        body.addWidget(self.pages, 1)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)

        self.status_event = QLabel()
        self.status_desk = QLabel()
        self.status_operator = QLabel()
        self.status_sync = QLabel()
        for label in (self.status_event, self.status_desk, self.status_operator):
            self.statusBar().addWidget(label)
        self.statusBar().addPermanentWidget(self.status_sync)

        for index in range(min(len(AREAS), 9)):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{index + 1}"), self)
            shortcut.activated.connect(lambda i=index: self.navigation.setCurrentRow(i))
        file_menu = self.menuBar().addMenu("&File")
        self.import_action = file_menu.addAction("&Import participants…")
        self.import_action.setShortcut(QKeySequence("Ctrl+I"))
        self.import_action.triggered.connect(self._on_import_action_triggered)
        self.kiosk_action = file_menu.addAction("Start &kiosk mode (self-service check-in)")
        self.kiosk_action.triggered.connect(self._on_kiosk_action_triggered)
        self.kiosk: KioskWindow | None = None

        self.refresh()
        self._restore_state()
        if self.navigation.currentRow() < 0:
            self.navigation.setCurrentRow(0)

    def page(self, key: str) -> QWidget | None:
        """The page of the area named ``key``, if that area is shown."""
        keys = self.area_keys()
        return self.pages.widget(keys.index(key)) if key in keys else None

    def _connect_pages(self) -> None:
        # The dashboard follows every scan made here and every change a sync brings in.
        dashboard = self.page("dashboard")
        checkin_page = self.page("checkin")
        sync_page = self.page("sync")
        if isinstance(dashboard, DashboardPage):
            if isinstance(checkin_page, CheckinPage):
                checkin_page.scanned.connect(dashboard.refresh)
            if isinstance(sync_page, SyncPage):
                sync_page.controller.sync_finished.connect(dashboard.refresh)

    def area_keys(self) -> list[str]:
        """The keys of the areas shown, in order."""
        return [area.key for area in AREAS]

    def show_area(self, key: str) -> None:
        """Switch to the area named ``key``."""
        self.navigation.setCurrentRow(self.area_keys().index(key))

    def current_area(self) -> str:
        """The key of the area on screen."""
        return AREAS[self.pages.currentIndex()].key

    def refresh(self) -> None:
        """Reload the header and status bar from the store."""
        with self.store.read() as session:
            event_id = desk.current_event_id(session)
            summary = summarise(session, event_id) if event_id else None
            desk_name = desk.desk_name(session)
            operator = desk.get_setting(session, "operator_name")
        if summary is None:
            self.event_title.setText("No event open")
            self.event_subtitle.setText("")
            self.status_event.setText("Event: none")
        else:
            self.event_title.setText(summary.name)
            where = ", ".join(p for p in (summary.venue, summary.city) if p)
            self.event_subtitle.setText(f"{summary.dates_text}  ·  {where}")
            name = summary.name if len(summary.name) <= 48 else summary.name[:47].rstrip() + "…"
            self.status_event.setText(f"Event: {name}")
            self.status_event.setToolTip(summary.name)
        self.status_desk.setText(f"Desk: {desk_name}")
        self.status_operator.setText(f"Operator: {operator or 'not signed in'}")
        if self.page("sync") is None or not self.status_sync.text():
            # Until the sync area's controller has looked (it owns this label from then on).
            waiting = summary.operations_waiting if summary else 0
            self.status_sync.setText(
                f"Sync: no hub configured · {waiting} change(s) kept on this desk"
            )

    def _on_navigation_changed(self, row: int) -> None:
        if row < 0:
            return
        self.pages.setCurrentIndex(row)
        page = self.pages.currentWidget()
        refresh = getattr(page, "refresh", None)
        if callable(refresh):
            refresh()

    def _on_kiosk_action_triggered(self) -> None:
        # The kiosk takes the whole screen; only a supervisor's PIN brings this window back.
        self.kiosk = KioskWindow(self.store, use_camera=True)
        self.kiosk.left.connect(self._on_kiosk_left)
        self.hide()
        self.kiosk.showFullScreen()

    def _on_kiosk_left(self, _person: object) -> None:
        kiosk, self.kiosk = self.kiosk, None
        self.show()
        self.refresh()
        if kiosk is not None:
            kiosk.deleteLater()

    def _on_import_action_triggered(self) -> None:
        wizard = open_import_wizard(self, self.store)
        wizard.imported.connect(self._on_wizard_imported)

    def _on_wizard_imported(self, _result: object) -> None:
        self.refresh()
        self._on_navigation_changed(self.pages.currentIndex())

    def _restore_state(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        area = self.settings.value("window/area")
        if isinstance(area, str) and area in self.area_keys():
            self.show_area(area)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/area", self.current_area())
        self.settings.sync()
        super().closeEvent(event)
