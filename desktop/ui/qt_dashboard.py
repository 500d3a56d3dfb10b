"""The live dashboard: how the event is going, readable on a projector across a room.

Four figures across the top (arrived today, still expected, in session rooms now, arrived
over the event), then charts: arrivals of the day in 15-minute bins, who is inside each room
now, arrived against registered by economy and by category, and today's sessions against
their seats. The figures come from :func:`desktop.reports.figures.event_figures`, computed
off the GUI thread on a read-only snapshot; :meth:`DashboardPage.refresh` asks for new ones
(the scan station and sync call it) and a timer does so while the page is on screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from PySide6.QtCharts import (
    QAreaSeries,
    QBarCategoryAxis,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QHorizontalStackedBarSeries,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, QPointF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QKeySequence,
    QPainter,
    QPen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop import desk
from desktop.reports.figures import EventFigures, GroupFigure, event_figures, top_groups
from desktop.store import Store
from desktop.ui.qt_theme import BLUE, INK, MUTED
from desktop.ui.qt_worker import run_task

REFRESH_MS = 20_000
# A burst of scans asks for many refreshes; they are gathered into one after this pause.
SETTLE_MS = 400
DONE_COLOUR = BLUE
REST_COLOUR = "#c9d3e0"
MAX_ECONOMIES = 8
MAX_SESSIONS = 8


def _font(pixels: int, bold: bool = False, scale: float = 1.0) -> QFont:
    font = QFont()
    font.setPixelSize(max(9, round(pixels * scale)))
    font.setBold(bold)
    return font


def _count(value: int) -> str:
    """A count short enough for a bar's label: 20.3k rather than 20343."""
    return f"{value / 1000:.1f}k" if value >= 10_000 else str(value)


def _pct(part: int, whole: int) -> str:
    return f"{round(part / whole * 100)} %" if whole else "—"


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: done (dark) out of a total (pale remainder), named on the axis."""

    name: str
    done: int
    total: int | None


class Tile(QFrame):
    """A big number with a caption under it."""

    def __init__(self, caption: str) -> None:
        super().__init__(objectName="card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(22, 14, 22, 14)
        layout.setSpacing(2)
        self.value = QLabel("—")
        self.value.setStyleSheet(f"color: {BLUE};")
        self.caption = QLabel(caption)
        self.caption.setStyleSheet(f"color: {MUTED};")
        self.caption.setWordWrap(True)
        layout.addWidget(self.value)
        layout.addWidget(self.caption)
        self.set_scale(1.0)

    def set_scale(self, scale: float) -> None:
        self.value.setFont(_font(52, bold=True, scale=scale))
        self.caption.setFont(_font(19, scale=scale))
        margin = round(16 * scale)
        self.layout().setContentsMargins(margin + 6, margin, margin + 6, margin)

    def show_value(self, value: str, caption: str | None = None) -> None:
        self.value.setText(value)
        if caption is not None:
            self.caption.setText(caption)


class ChartPanel(QChartView):
    """A chart with projector-sized type; rebuilt from plain figures on every refresh."""

    def __init__(self) -> None:
        chart = QChart()
        chart.setBackgroundRoundness(10)
        # Room on the right for the last time label, which sits on the axis end.
        chart.setMargins(QMargins(6, 6, 26, 6))
        chart.setTitleBrush(QBrush(QColor(INK)))
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        super().__init__(chart)
        self.scale = 1.0
        self.set_scale(1.0)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_scale(self, scale: float) -> None:
        """Type sizes for the space there is (1.0 fills a 1920 x 1080 projector)."""
        self.scale = scale
        self.chart().setTitleFont(_font(22, bold=True, scale=scale))
        self.chart().legend().setFont(_font(16, scale=scale))

    def clear(self) -> None:
        chart = self.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)

    def _value_axis(self, top: float, fmt: str = "%d") -> QValueAxis:
        axis = QValueAxis()
        axis.setRange(0, max(4.0, top * 1.08))
        axis.setTickCount(6)
        axis.applyNiceNumbers()
        axis.setLabelFormat(fmt)
        axis.setLabelsFont(_font(15, scale=self.scale))
        axis.setGridLineColor(QColor("#e3e6ea"))
        return axis

    def show_bars(self, title: str, bars: Sequence[Bar], names: tuple[str, str]) -> None:
        """Horizontal bars, the first at the top: dark for done, pale for the rest."""
        self.clear()
        chart = self.chart()
        chart.setTitle(title)
        if not bars:
            chart.legend().setVisible(False)
            return
        chart.legend().setVisible(True)
        done = QBarSet(names[0])
        rest = QBarSet(names[1])
        done.setColor(QColor(DONE_COLOUR))
        rest.setColor(QColor(REST_COLOUR))
        done.setBorderColor(QColor(DONE_COLOUR))
        rest.setBorderColor(QColor(REST_COLOUR))
        # Qt draws the first category at the bottom: reversed, the list reads downwards.
        ordered = list(reversed(bars))
        for bar in ordered:
            done.append(bar.done)
            rest.append(max(0, (bar.total or 0) - bar.done))
        series = QHorizontalStackedBarSeries()
        series.append(done)
        series.append(rest)
        series.setBarWidth(0.72)
        chart.addSeries(series)
        categories = QBarCategoryAxis()
        font, labels = self._fitted_labels(ordered)
        categories.append(labels)
        # Qt's own shortening cuts whole labels to "..." when unsure; ours keeps the counts.
        categories.setTruncateLabels(False)
        categories.setLabelsFont(font)
        categories.setGridLineVisible(False)
        chart.addAxis(categories, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(categories)
        top = max(max(bar.done, bar.total or 0) for bar in bars)
        values = self._value_axis(top)
        chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(values)

    def plot_height(self) -> float:
        """The height bars share: the chart less its title, legend and value axis."""
        area = self.chart().plotArea().height()
        return area if area > 40 else self.height() * 0.6

    def _fitted_labels(self, bars: Sequence[Bar]) -> tuple[QFont, list[str]]:
        """Type and labels that fit: one line per bar, names shortened, counts kept.

        Qt gives the axis at most 40 % of the chart's width; the type is the largest whose
        line fits the height of one bar.
        """
        inner_width = max(100.0, self.width() - 40.0)
        band = max(10.0, self.plot_height() / len(bars) - 4.0)
        pixels = round(17 * self.scale)
        font = _font(pixels)
        while pixels > 10 and QFontMetrics(font).height() > band:
            pixels -= 1
            font = _font(pixels)
        metrics = QFontMetrics(font)
        room = int(0.4 * inner_width) - 18
        labels = []
        for bar in bars:
            done = _count(bar.done)
            counts = f"{done}/{_count(bar.total)}" if bar.total else done
            space = max(0, room - metrics.horizontalAdvance(" " + counts))
            name = metrics.elidedText(bar.name, Qt.TextElideMode.ElideRight, space)
            labels.append(f"{name} {counts}" if name else counts)
        return font, labels

    def show_arrivals(
        self, title: str, bins: Sequence[tuple[int, int]], width: int, now: int | None
    ) -> None:
        """A histogram of arrivals: (minute of the day a bin starts, count) per bin."""
        self.clear()
        chart = self.chart()
        chart.setTitle(title)
        chart.legend().setVisible(False)
        if bins:
            first, last = bins[0][0], bins[-1][0] + width
        else:
            first = last = now if now is not None else 8 * 60
        if now is not None:
            last = max(last, now)
        start = max(0, (first // 60) * 60)
        end = min(24 * 60, max(start + 120, math.ceil(last / 60) * 60))
        upper = QLineSeries()
        upper.append(QPointF(start, 0))
        for minute, count in bins:
            upper.append(QPointF(minute, 0))
            upper.append(QPointF(minute, count))
            upper.append(QPointF(minute + width, count))
            upper.append(QPointF(minute + width, 0))
        upper.append(QPointF(end, 0))
        area = QAreaSeries(upper)
        # The area does not own its line: parented, it cannot be collected from under it.
        upper.setParent(area)
        area.setColor(QColor(DONE_COLOUR))
        area.setBorderColor(QColor(DONE_COLOUR))
        pen = QPen(QColor(DONE_COLOUR))
        pen.setWidth(1)
        area.setPen(pen)
        chart.addSeries(area)
        axis = QCategoryAxis()
        axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        axis.setRange(start, end)
        hours = (end - start) // 60
        every = 1 if hours <= 8 else 2
        for minute in range(start, end + 1, 60 * every):
            axis.append(f"{minute // 60:02d}:00", minute)
        axis.setLabelsFont(_font(16, scale=self.scale))
        axis.setGridLineColor(QColor("#e3e6ea"))
        chart.addAxis(axis, Qt.AlignmentFlag.AlignBottom)
        area.attachAxis(axis)
        values = self._value_axis(max((c for _, c in bins), default=0))
        chart.addAxis(values, Qt.AlignmentFlag.AlignLeft)
        area.attachAxis(values)


def load_figures(store: Store) -> EventFigures | None:
    """The open event's figures, or None when the desk has no event (runs in a worker)."""
    with store.read() as session:
        event_id = desk.current_event_id(session)
        if event_id is None:
            return None
        return event_figures(session, event_id)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _group_bars(groups: list[GroupFigure], limit: int) -> list[Bar]:
    return [
        Bar(g.label, g.arrived, g.registered)
        for g in top_groups([g for g in groups if g.registered], limit)
    ]


class DashboardPage(QWidget):
    """The dashboard area (and, full screen, the projector view)."""

    refreshed = Signal()  # new figures are on screen
    refresh_failed = Signal(str)

    def __init__(self, store: Store, *, interval_ms: int = REFRESH_MS) -> None:
        super().__init__()
        self.store = store
        self.figures: EventFigures | None = None
        self._busy = False
        self._again = False
        self._stale = True

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(14)

        top = QHBoxLayout()
        titles = QVBoxLayout()
        self.title = QLabel("How the event is going")

        self.subtitle = QLabel("")

        self.subtitle.setStyleSheet(f"color: {MUTED};")
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        top.addLayout(titles, 1)
        self.projector_button = QPushButton("Projector view")
        self.projector_button.setToolTip("Show the dashboard full screen (Esc closes it)")
        self.projector_button.clicked.connect(self._on_projector_button_clicked)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Update the figures now (F5)")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.projector_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)

        tiles = QHBoxLayout()
        tiles.setSpacing(14)
        self.arrived_today = Tile("arrived today")
        self.expected_today = Tile("still expected today")
        self.in_rooms = Tile("in session rooms now")
        self.arrived_overall = Tile("arrived at the event")
        for tile in (self.arrived_today, self.expected_today, self.in_rooms, self.arrived_overall):
            tiles.addWidget(tile)
        layout.addLayout(tiles)

        grid = QGridLayout()
        grid.setSpacing(14)
        self.arrivals_chart = ChartPanel()
        self.rooms_chart = ChartPanel()
        self.country_chart = ChartPanel()
        self.category_chart = ChartPanel()
        self.sessions_chart = ChartPanel()
        grid.addWidget(self.arrivals_chart, 0, 0, 1, 2)
        grid.addWidget(self.rooms_chart, 0, 2)
        grid.addWidget(self.country_chart, 1, 0)
        grid.addWidget(self.category_chart, 1, 1)
        grid.addWidget(self.sessions_chart, 1, 2)
        for column in range(3):
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(0, 4)
        grid.setRowStretch(1, 5)
        layout.addLayout(grid, 1)

        self.message = QLabel("")

        self.message.setStyleSheet(f"color: {MUTED};")
        layout.addWidget(self.message)

        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._settle = QTimer(self, interval=SETTLE_MS, singleShot=True)
        self._settle.timeout.connect(self._start_refresh)
        QShortcut(QKeySequence(Qt.Key.Key_F5), self, activated=self.refresh)
        self._projector: DashboardPage | None = None
        # Resizing redraws once it pauses: labels are fitted to the size the charts end up.
        self._relayout = QTimer(self, interval=60, singleShot=True)
        self._relayout.timeout.connect(self._on_relayout_timeout)
        self.scale = 0.0
        self._apply_scale(1.0)

    def _apply_scale(self, scale: float) -> None:
        """Type sized for the space: large on a projector, still legible in the window."""
        if abs(scale - self.scale) < 0.03:
            return
        self.scale = scale
        self.title.setFont(_font(30, bold=True, scale=scale))
        self.subtitle.setFont(_font(18, scale=scale))
        self.message.setFont(_font(16, scale=scale))
        for tile in self._tiles():
            tile.set_scale(scale)
        for chart in self._charts():
            chart.set_scale(scale)

    def resizeEvent(self, event: object) -> None:  # type: ignore[override]
        super().resizeEvent(event)  # type: ignore[arg-type]
        size = self.size()
        self._apply_scale(max(0.75, min(1.6, size.width() / 1500, size.height() / 900)))
        self._relayout.start()

    def _on_relayout_timeout(self) -> None:
        if self.figures is not None:
            self.show_figures(self.figures)

    # --- refreshing ------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Ask for new figures (gathered with other requests made in the next moment)."""
        if not self.isVisible():
            # Nothing to show them on: work once the page is shown again.
            self._stale = True
            return
        if not self._settle.isActive():
            self._settle.start()

    def _on_timer_timeout(self) -> None:
        self.refresh()

    def _start_refresh(self) -> None:
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._stale = False
        run_task(
            load_figures,
            self.store,
            on_result=self._on_figures_loaded,
            on_error=self._on_figures_failed,
            on_finished=self._on_figures_finished,
        )

    def _on_figures_loaded(self, figures: EventFigures | None) -> None:
        self.show_figures(figures)
        self.refreshed.emit()

    def _on_figures_failed(self, error: BaseException) -> None:
        text = f"The figures could not be updated: {error}"
        self.message.setText(text)
        self.refresh_failed.emit(text)

    def _on_figures_finished(self) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self._start_refresh()

    def showEvent(self, event: object) -> None:  # type: ignore[override]
        super().showEvent(event)  # type: ignore[arg-type]
        self._timer.start()
        if self._stale:
            self.refresh()

    def hideEvent(self, event: object) -> None:  # type: ignore[override]
        super().hideEvent(event)  # type: ignore[arg-type]
        self._timer.stop()

    # --- showing ---------------------------------------------------------------------------

    def show_figures(self, figures: EventFigures | None) -> None:
        """Put ``figures`` on screen (None: no event open)."""
        self.figures = figures
        if figures is None:
            self.subtitle.setText("No event open on this desk")
            for tile in self._tiles():
                tile.show_value("—")
            for chart in self._charts():
                chart.clear()
                chart.chart().setTitle("")
            return
        event = figures.event
        today = figures.today
        day_text = f"{today:%A %d %B}" if today else "before the event"
        self.title.setText(event.name or "How the event is going")
        self.subtitle.setText(
            f"{day_text}  ·  updated {figures.generated_at:%H:%M}  ·  "
            f"{figures.registered:,} registered"
        )
        day = next((d for d in figures.days if d.day == today), None)
        arrived_today = day.arrived if day else 0
        self.arrived_today.show_value(
            f"{arrived_today:,}", f"arrived today ({_pct(arrived_today, figures.registered)})"
        )
        self.expected_today.show_value(
            f"{max(0, figures.registered - arrived_today):,}", "registered, not yet arrived today"
        )
        inside = sum(room.inside for room in figures.rooms)
        self.in_rooms.show_value(f"{inside:,}", "in session rooms now")
        self.arrived_overall.show_value(
            f"{figures.arrived:,}",
            f"arrived at the event ({_pct(figures.arrived, figures.registered)})",
        )
        self._show_arrivals(figures, today)
        self._show_rooms(figures)
        self.country_chart.show_bars(
            "Arrived by economy",
            _group_bars(figures.by_country, MAX_ECONOMIES),
            ("Arrived", "Not yet"),
        )
        self.category_chart.show_bars(
            "Arrived by category",
            _group_bars(figures.by_category, 8),
            ("Arrived", "Not yet"),
        )
        self._show_sessions(figures, today)
        self.message.setText(
            "" if figures.scans else "No scans yet: the charts fill in as badges are scanned."
        )

    def _tiles(self) -> list[Tile]:
        return [self.arrived_today, self.expected_today, self.in_rooms, self.arrived_overall]

    def _charts(self) -> list[ChartPanel]:
        return [
            self.arrivals_chart,
            self.rooms_chart,
            self.country_chart,
            self.category_chart,
            self.sessions_chart,
        ]

    def _show_arrivals(self, figures: EventFigures, today: date | None) -> None:
        bins = figures.arrivals.get(today, []) if today else []
        width = figures.bin_minutes
        points = [(b.start.hour * 60 + b.start.minute, b.count) for b in bins]
        total = sum(c for _, c in points)
        now = figures.generated_at
        minute_now = now.hour * 60 + now.minute if today == now.date() else None
        if points:
            peak_minute, peak = max(points, key=lambda p: p[1])
            title = (
                f"Arrivals per {width} minutes: {total:,} so far, "
                f"busiest {peak_minute // 60:02d}:{peak_minute % 60:02d} ({peak})"
            )
        else:
            title = "Arrivals per 15 minutes: none yet today"
        self.arrivals_chart.show_arrivals(title, points, width, minute_now)

    def _show_rooms(self, figures: EventFigures) -> None:
        bars = [
            Bar(room.room, room.inside, room.capacity)
            for room in figures.rooms
            if room.session_title
        ]
        title = "Inside each room now" if bars else "Inside each room now: no session on"
        self.rooms_chart.show_bars(title, bars, ("Inside", "Free seats"))

    def _show_sessions(self, figures: EventFigures, today: date | None) -> None:
        todays = [s for s in figures.sessions if s.day == today] or figures.sessions
        # A programme item nobody is scanned into (registration in the lobby) is not a
        # session that failed: leave it out rather than show an alarming empty bar.
        shown = [s for s in todays if s.arrived or s.counts_for_certificate]
        # In time order, so the names alone say which is which (the time would crowd them).
        bars = [Bar(s.title, s.arrived, s.capacity) for s in shown[:MAX_SESSIONS]]
        self.sessions_chart.show_bars(
            "Sessions today: attended of seats", bars, ("Attended", "Free seats")
        )

    # --- the projector view ----------------------------------------------------------------

    def _on_projector_button_clicked(self) -> None:
        self._projector = open_projector_view(self.store)

    def keyPressEvent(self, event: object) -> None:  # type: ignore[override]
        if self.isWindow() and getattr(event, "key", lambda: None)() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)  # type: ignore[arg-type]


def _show_full_screen(page: DashboardPage) -> None:
    page.setWindowTitle("EventDesk dashboard")
    page.projector_button.hide()
    page.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    page.showFullScreen()


# Tests replace this: a full-screen window is not wanted in a test run.
show_projector: Callable[[DashboardPage], None] = _show_full_screen


def open_projector_view(store: Store) -> DashboardPage:
    """A second dashboard as its own window, full screen, for the projector."""
    page = DashboardPage(store)
    show_projector(page)
    return page
