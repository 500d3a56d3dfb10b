"""The audit trail area: filters by operator, desk, kind and time; refused to desk staff."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDateTime, QSettings, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from desktop import desk, journal, operators
from desktop.demo import demo_attendee_id
from desktop.journal import DeskContext, Op, format_hlc, new_op_id
from desktop.models import Operation
from desktop.store import Store
from desktop.ui.qt_audit import AuditPage
from desktop.ui.qt_main_window import MainWindow
from desktop.ui.qt_signin import DeskGuard


def _sign_in(store: Store, role: str) -> None:
    with store.begin() as session:
        who = operators.get_operator(
            session, desk.current_event_id(session) or "", operators.demo_operator_id(role)
        )
        assert who is not None
        operators.sign_in(session, who)


def _activity(store: Store) -> None:
    """Scans by two operators here, and a scan from another desk that arrived by sync."""
    with store.begin() as session:
        here = desk.context(session)
        for role, person in (("desk", 0), ("desk", 1), ("supervisor", 2)):
            ctx = DeskContext(here.event_id, here.desk_id, operators.demo_operator_id(role))
            journal.record(
                session, ctx, "scan", {"attendee_id": demo_attendee_id(person), "decision": "ok"}
            )
        now_ms = int(QDateTime.currentDateTime().toMSecsSinceEpoch())
        journal.apply(
            session,
            Op(
                new_op_id(),
                here.event_id,
                "deskB",
                format_hlc(now_ms - 5000, 0, "deskB"),
                "scan",
                {"attendee_id": demo_attendee_id(3), "decision": "already_in"},
            ),
        )


def _page(qtbot: QtBot, store: Store) -> AuditPage:
    page = AuditPage(store)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.refresh()
    return page


def _reload_after(qtbot: QtBot, page: AuditPage, action: object) -> None:
    with qtbot.waitSignal(page.loaded, timeout=10000):
        action()  # type: ignore[operator]


def test_the_trail_lists_every_change_and_filters(
    qtbot: QtBot, qtmodeltester: object, demo_store: Store
) -> None:
    _activity(demo_store)
    _sign_in(demo_store, "supervisor")
    page = _page(qtbot, demo_store)
    with demo_store.begin() as session:
        total = session.scalar(select(func.count()).select_from(Operation))
    assert page.model.rowCount() == total
    qtmodeltester.check(page.model)  # type: ignore[attr-defined]
    newest = page.model.index(0, 3).data()
    assert newest == "Scan"
    assert "changes" in page.status.text()

    # Kind: type into the combo as a person would.
    _reload_after(qtbot, page, lambda: page.kind.setCurrentIndex(page.kind.findData("scan")))
    assert page.model.rowCount() == 4
    # Operator: the desk staff member made two of them.
    dina = operators.demo_operator_id("desk")
    _reload_after(qtbot, page, lambda: page.operator.setCurrentIndex(page.operator.findData(dina)))
    assert page.model.rowCount() == 2
    assert {page.model.index(r, 2).data() for r in range(2)} == {"Dina Reyes"}
    details = page.model.index(0, 4).data()
    assert details.startswith("OI-") and details.endswith(": admitted")
    _reload_after(qtbot, page, lambda: page.operator.setCurrentIndex(0))
    # Desk: the one scan that came from desk B.
    _reload_after(qtbot, page, lambda: page.desk.setCurrentIndex(page.desk.findData("deskB")))
    assert page.model.rowCount() == 1
    assert "already inside" in page.model.index(0, 4).data()
    _reload_after(qtbot, page, lambda: page.desk.setCurrentIndex(0))
    # Time: nothing happened yesterday; everything in a window around now.
    _reload_after(qtbot, page, lambda: page.period.setCurrentIndex(3))
    assert page.period.currentText() == "Yesterday"
    assert page.model.rowCount() == 0
    _reload_after(qtbot, page, lambda: page.period.setCurrentIndex(4))
    assert page.since.isVisible() and page.until.isVisible()
    assert page.model.rowCount() == 4  # the last day, at the venue
    venue_now = datetime.now(ZoneInfo("Asia/Manila")).replace(tzinfo=None)
    later = QDateTime(venue_now + timedelta(hours=1))
    _reload_after(qtbot, page, lambda: page.since.setDateTime(later))
    _reload_after(qtbot, page, lambda: page.until.setDateTime(later.addSecs(3600)))
    assert page.model.rowCount() == 0
    _reload_after(qtbot, page, lambda: page.since.setDateTime(later.addSecs(-7200)))
    assert page.model.rowCount() == 4
    qtmodeltester.check(page.model)  # type: ignore[attr-defined]


def test_desk_staff_are_refused_even_if_they_reach_the_page(
    qtbot: QtBot, demo_store: Store
) -> None:
    _sign_in(demo_store, "desk")
    page = _page(qtbot, demo_store)
    assert page.model.rowCount() == 0
    assert "Only a supervisor or an administrator may see the audit trail" in page.status.text()


def test_the_area_shows_for_supervisors_only(qtbot: QtBot, demo_store: Store) -> None:
    window = MainWindow(
        demo_store, QSettings(str(demo_store.data_dir / "s.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(window)
    guard = DeskGuard(
        window,
        demo_store,
        QSettings(str(demo_store.data_dir / "s.ini"), QSettings.Format.IniFormat),
    )
    window.show()
    qtbot.waitExposed(window)
    row = window.area_keys().index("audit")
    field = guard.lock_screen.pad.field
    qtbot.keyClicks(field, "1111")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert window.navigation.item(row).isHidden()
    guard.lock()
    qtbot.keyClicks(field, "9999")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert not window.navigation.item(row).isHidden()
    page = window.pages.widget(row)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        window.show_area("audit")
    assert page.model.rowCount() > 100
    assert QApplication.instance() is not None
