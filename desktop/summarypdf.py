"""The one-page PDF summary of an event, with charts, for the organiser's project report.

Drawn with reportlab: the key figures across the top, arrivals over time in 15-minute bins
(one colour per day), arrived against registered by economy, attendance per session against
its seats, then small tables by gender, category, origin and day. Everything comes from
:func:`desktop.reports.figures.event_figures`, so it agrees with the summary table and the
dashboard.
"""

from __future__ import annotations

import io
from datetime import datetime, time
from pathlib import Path
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Table as GridTable
from reportlab.platypus import TableStyle
from sqlalchemy.orm import Session

from desktop.fonts import FontError, FontFace
from desktop.paths import resources_dir
from desktop.reports.figures import EventFigures, GroupFigure, event_figures, top_groups
from desktop.reportwriters import atomic_write, check_destination

PAGE_W, PAGE_H = A4
MARGIN = 34.0
WIDTH = PAGE_W - 2 * MARGIN
INK = colors.HexColor("#1d232a")
MUTED = colors.HexColor("#5b6570")
BLUE = colors.HexColor("#1f4e8c")
PALE = colors.HexColor("#c9d3e0")
GRID = colors.HexColor("#d9dde3")
DAY_COLOURS = ("#1f4e8c", "#d9822b", "#1b7f3b", "#8e44ad", "#b3261e")
MAX_ECONOMIES = 16
MAX_SESSIONS = 14


def _fonts() -> tuple[str, str]:
    """Noto Sans (regular, bold) as reportlab font names; Helvetica if the files are missing."""
    folder = resources_dir() / "fonts"
    try:
        regular = FontFace(folder / "NotoSans-Regular.ttf").pdf_font.fontName
        bold = FontFace(folder / "NotoSans-Bold.ttf").pdf_font.fontName
    except (FontError, OSError):
        return "Helvetica", "Helvetica-Bold"
    return str(regular), str(bold)


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _axis_step(top: float, most: int = 6) -> int:
    """A round step giving at most ``most`` gridlines up to ``top``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if top / (step * factor) <= most:
                return step * factor
        step *= 10


def _empty(drawing: Drawing, message: str, font: str) -> None:
    drawing.add(
        String(drawing.width / 2, drawing.height / 2 - 10, message, fontName=font,
               fontSize=10, fillColor=MUTED, textAnchor="middle")
    )  # fmt: skip


def _title(drawing: Drawing, text: str, bold: str) -> None:
    drawing.add(String(0, drawing.height - 12, text, fontName=bold, fontSize=11, fillColor=INK))


def arrivals_chart(
    figures: EventFigures, width: float, height: float, fonts: tuple[str, str]
) -> Drawing:
    """First arrivals per 15 minutes of venue time, one bar colour per day."""
    regular, bold = fonts
    drawing = Drawing(width, height)
    minutes = figures.bin_minutes
    _title(drawing, f"Arrivals over time (first arrival of the day, per {minutes} minutes)", bold)
    days = [d for d, bins in figures.arrivals.items() if bins][: len(DAY_COLOURS)]
    if not days:
        _empty(drawing, "No arrivals recorded yet", regular)
        return drawing
    counts: dict[tuple[Any, time], int] = {}
    slots: set[time] = set()
    for day in days:
        for b in figures.arrivals[day]:
            counts[(day, b.start.time())] = b.count
            slots.add(b.start.time())
    ordered = sorted(slots)
    chart = VerticalBarChart()
    chart.x, chart.y = 34, 30
    chart.width, chart.height = width - 44, height - 62
    chart.data = [[counts.get((day, slot), 0) for slot in ordered] for day in days]
    chart.categoryAxis.categoryNames = [
        f"{slot:%H:%M}" if slot.minute == 0 or len(ordered) <= 12 else "" for slot in ordered
    ]
    chart.categoryAxis.labels.fontName = regular
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 0
    chart.categoryAxis.tickDown = 2
    chart.categoryAxis.strokeColor = MUTED
    top = max(max(series) for series in chart.data)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueStep = _axis_step(top)
    chart.valueAxis.valueMax = max(chart.valueAxis.valueStep, top * 1.08)
    chart.valueAxis.labels.fontName = regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.strokeColor = MUTED
    chart.groupSpacing = 1
    chart.barSpacing = 0
    for index in range(len(days)):
        chart.bars[index].fillColor = colors.HexColor(DAY_COLOURS[index])
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 10, height - 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 80
    legend.dx = legend.dy = 7
    legend.fontName = regular
    legend.fontSize = 8
    legend.boxAnchor = "ne"
    legend.colorNamePairs = [
        (
            colors.HexColor(DAY_COLOURS[i]),
            f"{d:%a %d %b}: {sum(b.count for b in figures.arrivals[d])}",
        )
        for i, d in enumerate(days)
    ]
    drawing.add(legend)
    return drawing


def _paired_bars(
    title: str,
    labels: list[str],
    back: list[float],
    front: list[float],
    names: tuple[str, str],
    width: float,
    height: float,
    fonts: tuple[str, str],
    label_width: float,
) -> Drawing:
    """Horizontal bars: a pale bar (registered, seats) behind a dark one (arrived)."""
    regular, bold = fonts
    drawing = Drawing(width, height)
    _title(drawing, title, bold)
    chart = HorizontalBarChart()
    chart.x, chart.y = label_width, 38
    chart.width, chart.height = width - label_width - 34, height - 64
    # reportlab draws the first category at the bottom: reverse, so the list reads downwards.
    chart.data = [list(reversed(back)), list(reversed(front))]
    chart.categoryAxis.categoryNames = list(reversed(labels))
    chart.categoryAxis.labels.fontName = regular
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -3
    chart.categoryAxis.strokeColor = MUTED
    chart.categoryAxis.tickLeft = 0
    top = max([*back, *front, 1])
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueStep = _axis_step(top, 4)
    chart.valueAxis.valueMax = max(chart.valueAxis.valueStep, top * 1.15)
    chart.valueAxis.labels.fontName = regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.strokeColor = MUTED
    chart.bars[0].fillColor = PALE
    chart.bars[1].fillColor = BLUE
    chart.bars[0].strokeColor = chart.bars[1].strokeColor = None
    chart.barSpacing = 0
    chart.groupSpacing = 2
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = regular
    chart.barLabels.fontSize = 6.5
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 2
    chart.barLabels.fillColor = MUTED
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 4, 2
    legend.boxAnchor = "se"
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 70
    legend.dx = legend.dy = 7
    legend.fontName = regular
    legend.fontSize = 8
    legend.colorNamePairs = [(PALE, names[0]), (BLUE, names[1])]
    drawing.add(legend)
    return drawing


def economy_chart(
    figures: EventFigures, width: float, height: float, fonts: tuple[str, str]
) -> Drawing:
    """Arrived against registered, per economy (the largest; the rest as Other)."""
    groups = top_groups(figures.by_country, MAX_ECONOMIES)
    return _paired_bars(
        "By economy: arrived of registered",
        [_clip(g.label, 22) for g in groups],
        [g.registered for g in groups],
        [g.arrived for g in groups],
        ("Registered", "Arrived"),
        width,
        height,
        fonts,
        label_width=92,
    )


def session_chart(
    figures: EventFigures, width: float, height: float, fonts: tuple[str, str]
) -> Drawing:
    """Attendance per session against its seats (the first sessions of the programme)."""
    # A programme item nobody is scanned into (registration in the lobby) is left out
    # rather than shown as an empty session; the summary table still lists it.
    held = [s for s in figures.sessions if s.arrived or s.counts_for_certificate]
    shown = held[:MAX_SESSIONS]
    more = len(held) - len(shown)
    title = "Per session: attended and seats" + (f" (first {len(shown)})" if more else "")
    if not shown:
        drawing = Drawing(width, height)
        _title(drawing, title, fonts[1])
        _empty(drawing, "No sessions in the programme", fonts[0])
        return drawing
    labels = [
        _clip((f"{s.starts_at:%a %H:%M} " if s.starts_at else "") + s.title, 30) for s in shown
    ]
    return _paired_bars(
        title,
        labels,
        [s.capacity or 0 for s in shown],
        [s.arrived for s in shown],
        ("Seats", "Attended"),
        width,
        height,
        fonts,
        label_width=118,
    )


def _grid(rows: list[list[str]], widths: list[float], fonts: tuple[str, str]) -> GridTable:
    grid = GridTable(rows, colWidths=widths)
    grid.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), fonts[0], 7.5),
                ("FONT", (0, 0), (-1, 0), fonts[1], 7.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, MUTED),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, GRID),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return grid


def _group_rows(title: str, groups: list[GroupFigure]) -> list[list[str]]:
    rows = [[title, "Reg.", "Arr.", "Rate"]]
    rows += [[_clip(g.label, 20), str(g.registered), str(g.arrived), _pct(g.rate)] for g in groups]
    return rows


def _tiles(canvas: Canvas, figures: EventFigures, y: float, fonts: tuple[str, str]) -> None:
    regular, bold = fonts
    held = [s for s in figures.sessions if s.arrived]
    mean_rate = sum(s.rate for s in held) / len(held) if held else 0.0
    origin = {g.key: g for g in figures.by_origin}
    overseas, local = origin.get("overseas"), origin.get("local")
    tiles = [
        (f"{figures.registered:,}", "registered"),
        (f"{figures.arrived:,}", f"arrived ({_pct(figures.rate)})"),
        (f"{figures.economies}", "economies"),
        (
            f"{overseas.registered if overseas else 0} / {local.registered if local else 0}",
            "overseas / local",
        ),
        (f"{len(held)} of {len(figures.sessions)}", "sessions held"),
        (_pct(mean_rate), "average per session"),
    ]
    gap = 6.0
    tile_w = (WIDTH - gap * (len(tiles) - 1)) / len(tiles)
    for index, (value, caption) in enumerate(tiles):
        x = MARGIN + index * (tile_w + gap)
        canvas.setFillColor(colors.HexColor("#eef2f7"))
        canvas.roundRect(x, y, tile_w, 46, 5, stroke=0, fill=1)
        canvas.setFillColor(BLUE)
        canvas.setFont(bold, 17 if len(value) < 9 else 13)
        canvas.drawCentredString(x + tile_w / 2, y + 22, value)
        canvas.setFillColor(MUTED)
        canvas.setFont(regular, 7.5 if len(caption) <= 20 else 6.5)
        canvas.drawCentredString(x + tile_w / 2, y + 8, caption)


def summary_pdf_bytes(figures: EventFigures) -> bytes:
    """The one-page summary as PDF bytes."""
    fonts = _fonts()
    regular, bold = fonts
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    event = figures.event
    canvas.setTitle(f"{event.name} — summary")
    canvas.setAuthor(event.organiser or "EventDesk")
    canvas.setCreator("EventDesk")

    y = PAGE_H - MARGIN - 14
    canvas.setFillColor(INK)
    canvas.setFont(bold, 15 if len(event.name) < 60 else 12)
    canvas.drawString(MARGIN, y, _clip(event.name, 90))
    y -= 15
    canvas.setFont(regular, 9)
    canvas.setFillColor(MUTED)
    where = ", ".join(p for p in (event.venue, event.city) if p)
    canvas.drawString(MARGIN, y, _clip(" · ".join(p for p in (event.dates_text, where) if p), 120))
    y -= 12
    stamp = f"Summary as of {figures.generated_at:%d %b %Y %H:%M} ({event.zone.key} time)"
    canvas.drawString(MARGIN, y, _clip(" · ".join(p for p in (event.organiser, stamp) if p), 120))
    y -= 56
    _tiles(canvas, figures, y, fonts)

    y -= 206
    arrivals_chart(figures, WIDTH, 194, fonts).drawOn(canvas, MARGIN, y)
    y -= 326
    half = (WIDTH - 14) / 2
    economy_chart(figures, half, 318, fonts).drawOn(canvas, MARGIN, y)
    session_chart(figures, half, 318, fonts).drawOn(canvas, MARGIN + half + 14, y)

    # The small tables along the bottom.
    column = (WIDTH - 3 * 10) / 4
    cells = [column * 0.46, column * 0.16, column * 0.16, column * 0.22]
    day_rows = [["Day", "Reg.", "Arr.", "Rate"]] + [
        [f"{d.day:%a %d %b}", str(d.registered), str(d.arrived), _pct(d.rate)] for d in figures.days
    ]
    blocks = [
        _group_rows("Gender", figures.by_gender),
        _group_rows("Origin", figures.by_origin),
        _group_rows("Category", figures.by_category),
        day_rows,
    ]
    top = y - 8
    for index, rows in enumerate(blocks):
        grid = _grid(rows[:9], cells, fonts)
        _, h = grid.wrapOn(canvas, column, top - MARGIN)
        grid.drawOn(canvas, MARGIN + index * (column + 10), top - h)

    canvas.setFont(regular, 6.5)
    canvas.setFillColor(MUTED)
    canvas.drawString(
        MARGIN,
        MARGIN - 14,
        "Arrived: admitted at least once at any door (a voided scan does not count). "
        "Rates are of registered attendees. Made with EventDesk.",
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def write_summary_pdf(figures: EventFigures, path: Path) -> Path:
    """Write the one-page summary to ``path`` (a temporary file renamed when complete)."""
    path = Path(path)
    check_destination(path, (".pdf",))
    data = summary_pdf_bytes(figures)
    return atomic_write(path, lambda out: out.write(data))


def make_summary_pdf(
    session: Session, event_id: str, path: Path, *, now: datetime | None = None
) -> Path:
    """Compute the event's figures and write the one-page summary PDF."""
    return write_summary_pdf(event_figures(session, event_id, now=now), path)
