"""The live dashboard: figures after simulated scans, refreshing when told, projector view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest_demo_helpers import venue
from PySide6.QtCharts import QAreaSeries, QBarCategoryAxis, QHorizontalStackedBarSeries
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from desktop import clock, desk, journal
from desktop.demo import demo_attendee_id, demo_session_id
from desktop.demo_data import demo_attendees
from desktop.store import Store
from desktop.ui import qt_dashboard
from desktop.ui.qt_dashboard import ChartPanel, DashboardPage
from desktop.ui.qt_main_window import AREAS
from desktop.ui.qt_worker import active_tasks

MANILA = ZoneInfo("Asia/Manila")
PEOPLE = demo_attendees()
DAY1 = range(0, 90)
SESSION1 = range(0, 70)
EXITED = range(60, 70)  # left Session 1 again


def scan(store: Store, index: int, at: datetime, session_key: str | None = None,
         direction: str = "entry") -> None:  # fmt: skip
    with store.begin() as session:
        journal.record(
            session,
            desk.context(session),
            "scan",
            {"attendee_id": demo_attendee_id(index),
             "session_id": demo_session_id(session_key) if session_key else None,
             "decision": "ok" if direction == "entry" else "exit_ok",
             "direction": direction, "at": at.isoformat()},
        )  # fmt: skip


@pytest.fixture
def demo(demo: Store) -> Store:
    """The shared demo store (conftest), set up for this module."""
    with demo.begin() as session:
        # Session 1 (10:30-12:00, Plenary Hall) is on.
        clock.set_as_if(session, venue(28, 10, 50))
    return demo


@pytest.fixture
def scanned(demo: Store) -> Store:
    for i in DAY1:
        scan(demo, i, venue(28, 8, 0) + timedelta(minutes=i))  # 08:00 to 09:29
    for i in SESSION1:
        scan(demo, i, venue(28, 10, 31), "session-1")
    for i in EXITED:
        scan(demo, i, venue(28, 10, 45), "session-1", direction="exit")
    return demo


@pytest.fixture
def page(qtbot: QtBot, scanned: Store) -> Iterator[DashboardPage]:
    widget = DashboardPage(scanned)
    qtbot.addWidget(widget)
    widget.resize(1600, 900)
    with qtbot.waitSignal(widget.refreshed, timeout=20_000):
        widget.show()  # shown: the first figures are asked for
    yield widget
    qtbot.waitUntil(lambda: not active_tasks(), timeout=20_000)


def bars(panel: ChartPanel) -> dict[str, tuple[float, float]]:
    """Category label -> (dark, pale) values of a bar chart."""
    series = [s for s in panel.chart().series() if isinstance(s, QHorizontalStackedBarSeries)]
    if not series:
        return {}
    done, rest = series[0].barSets()
    axis = next(a for a in panel.chart().axes() if isinstance(a, QBarCategoryAxis))
    labels = axis.categories()
    return {labels[n]: (done.at(n), rest.at(n)) for n in range(len(labels))}


def test_the_areas_are_in_the_app() -> None:
    keys = [area.key for area in AREAS]
    assert "dashboard" in keys and "reports" in keys


def test_tiles_say_how_the_day_is_going(page: DashboardPage) -> None:
    registered = len(PEOPLE)
    assert page.arrived_today.value.text() == str(len(DAY1))
    assert f"({round(len(DAY1) / registered * 100)} %)" in page.arrived_today.caption.text()
    assert page.expected_today.value.text() == str(registered - len(DAY1))
    assert page.in_rooms.value.text() == str(len(SESSION1) - len(EXITED))
    assert page.arrived_overall.value.text() == str(len(DAY1))
    assert "Wednesday 28 August" in page.subtitle.text()
    assert page.message.text() == ""


def test_arrivals_histogram_in_15_minute_bins(page: DashboardPage) -> None:
    area = next(s for s in page.arrivals_chart.chart().series() if isinstance(s, QAreaSeries))
    points = [(p.x(), p.y()) for p in area.upperSeries().points()]
    heights = {x: y for x, y in points if y > 0}
    # One person a minute from 08:00 to 09:29: six full bins of 15.
    assert sorted(set(heights)) == [480 + 15 * n for n in range(7)]
    assert set(heights.values()) == {15}
    assert "90 so far" in page.arrivals_chart.chart().title()


def test_economies_categories_rooms_and_sessions(page: DashboardPage) -> None:
    by_economy = bars(page.country_chart)
    philippines = sum(1 for p in PEOPLE if p["country"] == "PH")
    ph_arrived = sum(1 for i in DAY1 if PEOPLE[i]["country"] == "PH")
    label = next(k for k in by_economy if k.startswith("Philippines"))
    assert label.endswith(f"{ph_arrived}/{philippines}")
    assert by_economy[label] == (ph_arrived, philippines - ph_arrived)
    assert sum(d + r for d, r in by_economy.values()) == len(PEOPLE)
    assert sum(d for d, _ in by_economy.values()) == len(DAY1)
    assert len(by_economy) <= qt_dashboard.MAX_ECONOMIES

    by_category = bars(page.category_chart)
    participants = sum(1 for p in PEOPLE if p["category"] == "participant")
    label = next(k for k in by_category if k.startswith("Participant"))
    assert sum(by_category[label]) == participants

    rooms = bars(page.rooms_chart)
    assert list(rooms) == [f"Plenary Hall {len(SESSION1) - len(EXITED)}/150"]

    sessions = bars(page.sessions_chart)
    first = next(k for k in sessions if k.startswith("Session 1"))
    assert sessions[first] == (len(SESSION1), 150 - len(SESSION1))
    assert not any(k.startswith("Registration") for k in sessions)  # nobody scans into it


def test_refresh_after_new_scans_and_bursts_gather(qtbot: QtBot, page: DashboardPage) -> None:
    for i in range(100, 110):
        scan(page.store, i, venue(28, 10, 48))
    with qtbot.waitSignal(page.refreshed, timeout=20_000):
        for _ in range(10):
            page.refresh()  # as the scan station does after every scan
    assert page.arrived_today.value.text() == str(len(DAY1) + 10)
    with qtbot.assertNotEmitted(page.refreshed, wait=1500):
        pass  # ten requests in a burst made one refresh


def test_f5_refreshes(qtbot: QtBot, page: DashboardPage) -> None:
    page.activateWindow()
    page.setFocus()
    with qtbot.waitSignal(page.refreshed, timeout=20_000):
        qtbot.keyClick(page, Qt.Key.Key_F5)


def test_a_hidden_dashboard_waits_until_shown(qtbot: QtBot, page: DashboardPage) -> None:
    page.hide()
    scan(page.store, 120, venue(28, 10, 49))
    with qtbot.assertNotEmitted(page.refreshed, wait=800):
        page.refresh()
    with qtbot.waitSignal(page.refreshed, timeout=20_000):
        page.show()
    assert page.arrived_today.value.text() == str(len(DAY1) + 1)


def test_before_any_scan(qtbot: QtBot, demo: Store) -> None:
    widget = DashboardPage(demo)
    qtbot.addWidget(widget)
    widget.resize(1600, 900)
    with qtbot.waitSignal(widget.refreshed, timeout=20_000):
        widget.show()
    assert widget.arrived_today.value.text() == "0"
    assert "No scans yet" in widget.message.text()
    assert "none yet today" in widget.arrivals_chart.chart().title()
    assert bars(widget.rooms_chart) == {"Plenary Hall 0/150": (0, 150)}
    assert widget.figures is not None and widget.figures.arrived == 0
    qtbot.waitUntil(lambda: not active_tasks(), timeout=20_000)


def test_no_event_open(qtbot: QtBot, store: Store) -> None:
    widget = DashboardPage(store)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.refreshed, timeout=20_000):
        widget.show()
    assert widget.figures is None
    assert widget.subtitle.text() == "No event open on this desk"
    assert widget.arrived_today.value.text() == "—"
    qtbot.waitUntil(lambda: not active_tasks(), timeout=20_000)


def test_projector_view_opens_a_second_dashboard(
    qtbot: QtBot, page: DashboardPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[DashboardPage] = []

    def show(view: DashboardPage) -> None:
        qtbot.addWidget(view)
        view.projector_button.hide()
        view.resize(1920, 1080)
        shown.append(view)
        view.show()

    monkeypatch.setattr(qt_dashboard, "show_projector", show)
    qtbot.mouseClick(page.projector_button, Qt.MouseButton.LeftButton)
    assert len(shown) == 1
    view = shown[0]
    with qtbot.waitSignal(view.refreshed, timeout=20_000):
        pass
    assert view.arrived_today.value.text() == str(len(DAY1))
    assert view.scale > page.scale  # bigger type on the bigger screen


def test_a_narrow_dashboard_shortens_names_but_keeps_the_counts(
    qtbot: QtBot, page: DashboardPage
) -> None:
    page.resize(900, 640)
    qtbot.waitUntil(lambda: not page._relayout.isActive(), timeout=5000)
    labels = list(bars(page.sessions_chart))
    assert labels and all(label.split()[-1].count("/") == 1 for label in labels)
    assert any("…" in label for label in labels)  # "Session 1: Understanding…" is too long
    assert page.scale == pytest.approx(0.75)
