"""The result card of the scan station: colour, icon and words, readable from two metres."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.checkin import ScanResult
from desktop.events import utc_to_local
from desktop.models import CATEGORY_LABELS
from desktop.paths import resources_dir
from desktop.ui.qt_theme import AMBER, BLUE, GREEN, RED

try:
    from desktop.countries import country_name
except ImportError:  # pragma: no cover - the countries module arrives with the import issue

    def country_name(code: str) -> str:
        return code


GREY = "#4a5561"


@dataclass(frozen=True)
class Look:
    """How a decision shows: colour, icon, headline, and what the desk should do."""

    colour: str
    icon: str
    headline: str
    advice: str


LOOKS: dict[str, Look] = {
    "ok": Look(GREEN, "check", "WELCOME", ""),
    "exit_ok": Look(BLUE, "exit", "GOODBYE", "Exit recorded."),
    "already_in": Look(AMBER, "double", "ALREADY CHECKED IN", "Check the face matches the badge."),
    "not_synced": Look(AMBER, "sync", "LET IN · NOT SYNCED", ""),
    "invalid": Look(
        RED, "question", "NOT A BADGE", "Scan again, or type the code printed under the QR code."
    ),
    "forged": Look(RED, "warning", "FORGED BADGE", "Do not admit. Call a supervisor."),
    "wrong_event": Look(RED, "notequal", "OTHER EVENT'S BADGE", "Send them to registration."),
    "revoked": Look(RED, "slash", "BADGE REPLACED", "Send them to registration."),
    "cancelled": Look(RED, "cross", "REGISTRATION CANCELLED", "Send them to registration."),
    "not_open": Look(RED, "clock", "SESSION NOT OPEN", ""),
    "session_full": Look(RED, "full", "SESSION FULL", ""),
    "not_permitted": Look(RED, "noentry", "NOT FOR THIS CATEGORY", "Send them to registration."),
}
FORCED_LOOK = Look(GREEN, "check", "LET IN BY SUPERVISOR", "")
READY_LOOK = Look(GREY, "scan", "READY", "Scan a badge, type a code, or type a name.")
ERROR_LOOK = Look(RED, "warning", "NOT RECORDED", "Scan again. If it keeps failing, call IT.")

_fonts_loaded = False


def load_fonts(folder: Path | None = None) -> int:
    """Register the bundled Noto fonts with Qt (once) so native-script names show."""
    global _fonts_loaded
    if _fonts_loaded:
        return 0
    _fonts_loaded = True
    count = 0
    for path in sorted((folder or resources_dir() / "fonts").glob("*.ttf")):
        if QFontDatabase.addApplicationFont(str(path)) >= 0:
            count += 1
    return count


class DecisionIcon(QWidget):
    """A white pictogram on a darker disc; one shape per decision, never colour alone."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shape = "scan"
        self.setFixedSize(QSize(150, 150))

    def set_shape(self, shape: str) -> None:
        self.shape = shape
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height())
        painter.translate((self.width() - side) / 2, (self.height() - side) / 2)
        painter.scale(side / 100, side / 100)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 48))
        painter.drawEllipse(QRectF(2, 2, 96, 96))
        pen = QPen(QColor("white"), 9)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        draw = getattr(self, f"_draw_{self.shape}", self._draw_question)
        draw(painter, pen)
        painter.end()

    def _draw_check(self, p: QPainter, _pen: QPen) -> None:
        path = QPainterPath(QPointF(27, 52))
        path.lineTo(44, 69)
        path.lineTo(74, 33)
        p.drawPath(path)

    def _draw_double(self, p: QPainter, pen: QPen) -> None:
        pen.setWidthF(7)
        p.setPen(pen)
        for dx in (-9, 9):
            path = QPainterPath(QPointF(22 + dx, 52))
            path.lineTo(36 + dx, 66)
            path.lineTo(62 + dx, 34)
            p.drawPath(path)

    def _draw_sync(self, p: QPainter, pen: QPen) -> None:
        self._draw_check(p, pen)
        pen.setWidthF(5)
        p.setPen(pen)
        p.setBrush(QColor(AMBER))
        p.drawEllipse(QRectF(62, 62, 28, 28))
        font = QFont()
        font.setPixelSize(22)
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRectF(62, 61, 28, 28), Qt.AlignmentFlag.AlignCenter, "?")

    def _draw_exit(self, p: QPainter, _pen: QPen) -> None:
        p.drawLine(QPointF(24, 50), QPointF(72, 50))
        path = QPainterPath(QPointF(56, 32))
        path.lineTo(74, 50)
        path.lineTo(56, 68)
        p.drawPath(path)
        p.drawLine(QPointF(28, 26), QPointF(28, 74))

    def _draw_cross(self, p: QPainter, _pen: QPen) -> None:
        p.drawLine(QPointF(32, 32), QPointF(68, 68))
        p.drawLine(QPointF(68, 32), QPointF(32, 68))

    def _draw_slash(self, p: QPainter, pen: QPen) -> None:
        pen.setWidthF(8)
        p.setPen(pen)
        p.drawEllipse(QRectF(24, 24, 52, 52))
        p.drawLine(QPointF(33, 67), QPointF(67, 33))

    def _draw_noentry(self, p: QPainter, pen: QPen) -> None:
        pen.setWidthF(8)
        p.setPen(pen)
        p.drawEllipse(QRectF(22, 22, 56, 56))
        p.drawLine(QPointF(34, 50), QPointF(66, 50))

    def _draw_clock(self, p: QPainter, pen: QPen) -> None:
        pen.setWidthF(7)
        p.setPen(pen)
        p.drawEllipse(QRectF(24, 24, 52, 52))
        p.drawLine(QPointF(50, 50), QPointF(50, 33))
        p.drawLine(QPointF(50, 50), QPointF(62, 58))

    def _draw_full(self, p: QPainter, pen: QPen) -> None:
        # Three people shoulder to shoulder, and a bar: no room left.
        pen.setWidthF(5)
        p.setPen(pen)
        p.setBrush(QColor("white"))
        for x in (30, 50, 70):
            p.drawEllipse(QPointF(x, 40), 7, 7)
            p.drawChord(QRectF(x - 11, 51, 22, 22), 0, 180 * 16)
        pen.setWidthF(7)
        p.setPen(pen)
        p.drawLine(QPointF(20, 78), QPointF(80, 78))

    def _draw_warning(self, p: QPainter, pen: QPen) -> None:
        pen.setWidthF(7)
        p.setPen(pen)
        path = QPainterPath(QPointF(50, 20))
        path.lineTo(80, 74)
        path.lineTo(20, 74)
        path.closeSubpath()
        p.drawPath(path)
        p.drawLine(QPointF(50, 40), QPointF(50, 55))
        p.drawPoint(QPointF(50, 65))

    def _draw_notequal(self, p: QPainter, _pen: QPen) -> None:
        p.drawLine(QPointF(28, 42), QPointF(72, 42))
        p.drawLine(QPointF(28, 60), QPointF(72, 60))
        p.drawLine(QPointF(60, 26), QPointF(40, 76))

    def _draw_question(self, p: QPainter, _pen: QPen) -> None:
        font = QFont()
        font.setPixelSize(64)
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRectF(0, 0, 100, 100), Qt.AlignmentFlag.AlignCenter, "?")

    def _draw_scan(self, p: QPainter, pen: QPen) -> None:
        # The corners of a QR code's viewfinder.
        pen.setWidthF(6)
        p.setPen(pen)
        for x, y, dx, dy in ((26, 26, 1, 1), (74, 26, -1, 1), (26, 74, 1, -1), (74, 74, -1, -1)):
            p.drawLine(QPointF(x, y), QPointF(x + 14 * dx, y))
            p.drawLine(QPointF(x, y), QPointF(x, y + 14 * dy))
        p.drawLine(QPointF(30, 50), QPointF(70, 50))


def _fit(label: QLabel, text: str, largest: int, smallest: int, width: int, lines: int) -> None:
    """Set ``text`` at the largest pixel size that fits ``width`` in ``lines`` lines."""
    font = QFont(label.font())
    size = largest
    flags = int(Qt.TextFlag.TextWordWrap)
    while size > smallest:
        font.setPixelSize(size)
        metrics = QFontMetrics(font)
        # One unwrapped line measures the line height of whatever fonts the text falls
        # back to (Thai, CJK and others are taller than the Latin face).
        one_line = metrics.boundingRect(0, 0, 1_000_000, 10_000, 0, text).height()
        wrapped = metrics.boundingRect(0, 0, width, 10_000, flags, text)
        if wrapped.height() <= one_line * lines + 2 and wrapped.width() <= width:
            break
        size -= 4
    font.setPixelSize(size)
    label.setFont(font)
    label.setText(text)


class ResultCard(QFrame):
    """The big card: stays until the next scan. ``painted`` fires once per shown result."""

    painted = Signal(int)
    undo_requested = Signal()
    override_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        load_fonts()
        self.setObjectName("resultCard")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.result: ScanResult | None = None
        self.look = READY_LOOK
        self.generation = 0
        self._painted_generation = -1
        self.zone = ZoneInfo("UTC")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 26, 32, 24)
        outer.setSpacing(6)
        top = QHBoxLayout()
        top.setSpacing(26)
        self.icon = DecisionIcon()
        top.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        heading = QVBoxLayout()
        heading.setSpacing(2)
        self.headline = self._label(52, bold=True)
        self.subline = self._label(22)
        heading.addWidget(self.headline)
        heading.addWidget(self.subline)
        heading.addStretch(1)
        top.addLayout(heading, 1)
        outer.addLayout(top)

        self.name = self._label(72, bold=True)
        self.native = self._label(50)
        self.where = self._label(28)
        self.category = QLabel()
        self.category.setObjectName("categoryChip")
        self.detail = self._label(28, bold=True)
        self.advice = self._label(22)
        outer.addSpacing(10)
        outer.addWidget(self.name)
        outer.addWidget(self.native)
        outer.addWidget(self.where)
        outer.addWidget(self.category, 0, Qt.AlignmentFlag.AlignLeft)
        outer.addSpacing(8)
        outer.addWidget(self.detail)
        outer.addWidget(self.advice)
        outer.addStretch(1)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.undo_button = QPushButton("Undo this check-in…")
        self.override_button = QPushButton("Let in anyway…")
        for button in (self.undo_button, self.override_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setObjectName("cardButton")
            buttons.addWidget(button)
        self.undo_button.clicked.connect(self.undo_requested)
        self.override_button.clicked.connect(self.override_requested)
        outer.addLayout(buttons)
        tones = "".join(
            f'#resultCard[tone="{colour}"] {{ background: {colour}; }}'
            for colour in {look.colour for look in (*LOOKS.values(), READY_LOOK, ERROR_LOOK)}
        )
        self.setStyleSheet(
            "#resultCard { border-radius: 14px; }"
            + tones
            + "#resultCard QLabel { color: white; background: transparent; }"
            "#resultCard QLabel#categoryChip { background: rgba(255,255,255,0.22);"
            " border-radius: 8px; padding: 4px 14px; font-size: 24px; font-weight: 600; }"
            "#resultCard QPushButton#cardButton { font-size: 17px; padding: 10px 18px;"
            " background: white; color: #1d232a; border: none; border-radius: 8px; }"
        )
        self.show_ready()

    def _label(self, pixels: int, bold: bool = False) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        font = QFont(self.font())
        font.setPixelSize(pixels)
        font.setBold(bold)
        label.setFont(font)
        label.setProperty("basePixels", pixels)
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        return label

    def _text_width(self) -> int:
        margins = self.contentsMargins().left() + self.contentsMargins().right() + 64
        return max(300, self.width() - margins)

    def _paint_look(self, look: Look) -> None:
        self.look = look
        self.icon.set_shape(look.icon)
        # One style sheet for every look; the colour is picked by a property, which restyles
        # far faster than replacing the sheet on each scan.
        self.setProperty("tone", look.colour)
        self.style().unpolish(self)
        self.style().polish(self)

    def _next_generation(self) -> None:
        self.generation += 1
        self.update()

    def show_ready(self, door_text: str = "") -> None:
        """The card before the first scan."""
        self.result = None
        self._paint_look(READY_LOOK)
        self.headline.setText(READY_LOOK.headline)
        self.subline.setText(door_text)
        for label in (self.name, self.native, self.where, self.detail):
            label.clear()
        self.category.hide()
        self.advice.setText(READY_LOOK.advice)
        self.undo_button.hide()
        self.override_button.hide()
        self._next_generation()

    def show_error(self, message: str) -> None:
        """A scan that could not be recorded (the database was busy or broken)."""
        self.result = None
        self._paint_look(ERROR_LOOK)
        self.headline.setText(ERROR_LOOK.headline)
        self.subline.setText("")
        for label in (self.name, self.native, self.where):
            label.clear()
        self.category.hide()
        self.detail.setText(message)
        self.advice.setText(ERROR_LOOK.advice)
        self.undo_button.hide()
        self.override_button.hide()
        self._next_generation()

    def show_message(
        self,
        look: Look,
        *,
        subline: str = "",
        big: str = "",
        where: str = "",
        detail: str = "",
        advice: str = "",
    ) -> None:
        """Show something that is not a door decision (a certificate checked at the desk)."""
        self.result = None
        self._paint_look(look)
        width = self._text_width()
        _fit(self.headline, look.headline, 52, 32, width - 180, 1)
        self.subline.setText(subline)
        _fit(self.name, big, 52, 22, width, 1)
        self.native.clear()
        self.where.setText(where)
        self.category.hide()
        # One line each: the labels keep the height of the look before (no relayout).
        _fit(self.detail, detail, 26, 14, width, 1)
        _fit(self.advice, advice, 22, 14, width, 1)
        self.undo_button.hide()
        self.override_button.hide()
        self._next_generation()

    def show_result(self, result: ScanResult, door_text: str = "") -> None:
        """Show one decision; it stays until the next."""
        self.result = result
        look = FORCED_LOOK if result.forced else LOOKS.get(result.decision, LOOKS["invalid"])
        self._paint_look(look)
        when = f"{utc_to_local(result.at, self.zone):%H:%M}"
        place = result.session.title if result.session is not None else door_text
        self.subline.setText(" · ".join(p for p in (when, place) if p))
        width = self._text_width()
        _fit(self.headline, look.headline, 52, 32, width - 180, 1)
        person = result.attendee
        detail = result.detail
        if result.forced:
            detail = f"Overrode “{result.decision.replace('_', ' ')}”: {result.reason}"
        if person is not None:
            _fit(self.name, person.badge_name or person.display_name, 72, 32, width, 2)
            if person.native_name:
                _fit(self.native, person.native_name, 50, 26, width, 1)
            else:
                self.native.clear()
            country = country_name(person.country) if person.country else ""
            self.where.setText(" · ".join(p for p in (country, person.organisation) if p))
            self.category.setText(CATEGORY_LABELS.get(person.category, person.category))
            self.category.show()
            self.detail.setText(detail)
        else:
            # No one to name: the reason itself is the big line.
            _fit(self.name, detail, 48, 28, width, 3)
            self.native.clear()
            self.where.setText(
                "The registration will arrive with the next sync."
                if result.attendee_id is not None
                else ""
            )
            self.category.hide()
            self.detail.clear()
        self.advice.setText(look.advice)
        self.undo_button.setText(
            "Undo this exit…" if result.direction == "exit" else "Undo this check-in…"
        )
        self.undo_button.setVisible(result.admitted and result.op_id is not None)
        self.override_button.setVisible(result.forceable and result.op_id is not None)
        self._next_generation()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._painted_generation != self.generation:
            self._painted_generation = self.generation
            self.painted.emit(self.generation)

    @property
    def painted_generation(self) -> int:
        """The generation of the last result actually painted."""
        return self._painted_generation


def local_time_text(moment: datetime, zone: ZoneInfo) -> str:
    """A naive UTC time as the venue's clock shows it."""
    return f"{utc_to_local(moment, zone):%a %d %b %H:%M}"
