"""The desk's look: large, high-contrast type that reads from two metres."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel

# Decision colours are always paired with an icon and words, never used alone.
GREEN = "#1b7f3b"
AMBER = "#b26a00"
RED = "#b3261e"
BLUE = "#1f4e8c"
INK = "#1d232a"
MUTED = "#5b6570"
PAPER = "#f6f7f9"

# A notice's background and ink by tone: info, ok, warn, error.
NOTICE_TONES = {
    "info": ("#e8f0fb", BLUE),
    "ok": ("#e6f4ea", GREEN),
    "warn": ("#fff4e0", AMBER),
    "error": ("#fdeceb", RED),
}


def show_notice(label: QLabel, text: str, tone: str = "info") -> None:
    """Show ``text`` in a page's notice label, coloured by ``tone`` (an unknown tone: info)."""
    background, ink = NOTICE_TONES.get(tone, NOTICE_TONES["info"])
    label.setStyleSheet(f"background: {background}; color: {ink}; border: 1px solid {ink};")
    label.setText(text)
    label.show()


STYLE_SHEET = f"""
QWidget {{ color: {INK}; }}
QMainWindow, QDialog {{ background: {PAPER}; }}
QListWidget#navigation {{ background: #12325e; border: none; padding-top: 8px; }}
QListWidget#navigation::item {{ color: white; padding: 14px 18px; font-size: 17px;
    border-radius: 6px; margin: 2px 8px; }}
QListWidget#navigation::item:selected {{ background: #2d5ea8; }}
QListWidget#navigation::item:hover:!selected {{ background: #1d4276; }}
#eventHeader {{ background: white; border-bottom: 1px solid #d9dde3; }}
#eventTitle {{ font-size: 22px; font-weight: 600; }}
#eventSubtitle {{ color: {MUTED}; font-size: 15px; }}
#pageTitle {{ font-size: 26px; font-weight: 600; }}
#figureValue {{ font-size: 40px; font-weight: 700; color: {BLUE}; }}
#figureLabel {{ font-size: 15px; color: {MUTED}; }}
#card {{ background: white; border: 1px solid #d9dde3; border-radius: 10px; }}
QStatusBar {{ background: white; border-top: 1px solid #d9dde3; font-size: 14px; }}
QStatusBar QLabel {{ padding: 2px 10px; }}
QTableView {{ background: white; font-size: 15px; gridline-color: #e3e6ea;
    selection-background-color: #cfe0f7; selection-color: {INK}; }}
QHeaderView::section {{ background: #eef1f5; padding: 6px; border: none;
    border-bottom: 1px solid #d9dde3; font-weight: 600; font-size: 14px; }}
QPushButton {{ padding: 8px 16px; font-size: 15px; border-radius: 6px;
    border: 1px solid #b8c0ca; background: white; }}
QPushButton:default, QPushButton#primary {{ background: {BLUE}; color: white; border: none; }}
QLineEdit, QComboBox, QDateEdit, QSpinBox {{ padding: 6px; font-size: 15px; border-radius: 5px;
    border: 1px solid #b8c0ca; background: white; }}
"""


def apply_theme(app: QApplication) -> None:
    """Apply the desk's font and style sheet to the whole application."""
    font = QFont(app.font())
    font.setPointSize(max(font.pointSize(), 11))
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)
