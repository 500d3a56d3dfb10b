"""The walk-in form: only what a desk needs to register someone who just turned up.

Given name, family name, country, organisation, category and e-mail, in that Tab order;
Enter registers. The country box is searchable: typing "viet", "Korea" or "Türkiye" offers
the country, and a usual variant typed in full is resolved when the form is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import pycountry
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.countries import country_name, resolve_country
from desktop.models import CATEGORIES, CATEGORY_LABELS
from desktop.ui.qt_theme import MUTED, RED

# Enough to catch a slip (a missing @, a space); the real check is the person's confirmation.
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@cache
def country_choices() -> list[tuple[str, str]]:
    """(name, ISO code) of every country, by name, as the desk prints them."""
    codes = {str(c.alpha_2) for c in pycountry.countries}
    return sorted(((country_name(code), code) for code in codes), key=lambda p: p[0].casefold())


class CountryCombo(QComboBox):
    """A country chooser one can type into: any part of the name, or a usual variant."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(16)
        self.addItem("", "")
        for name, code in country_choices():
            self.addItem(f"{name} ({code})", code)
        completer = QCompleter(self.model(), self)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompleter(completer)
        self.lineEdit().setPlaceholderText("Type a country")

    def code(self) -> str | None:
        """The ISO code chosen or typed; "" for none; None for text that is no country."""
        typed = self.currentText().strip()
        if not typed:
            return ""
        index = self.findText(typed, Qt.MatchFlag.MatchFixedString)
        if index >= 0:
            return str(self.itemData(index))
        return resolve_country(typed)

    def set_code(self, code: str) -> None:
        """Show the country with this ISO code (or nothing for "")."""
        index = self.findData(code.upper()) if code else 0
        if index < 0:
            self.setEditText(code)
        else:
            self.setCurrentIndex(index)


def category_combo(parent: QWidget | None = None) -> QComboBox:
    """A combo box of the categories, labelled as people read them, keyed by category."""
    combo = QComboBox(parent)
    for key in CATEGORIES:
        combo.addItem(CATEGORY_LABELS[key], key)
    return combo


@dataclass(frozen=True)
class WalkIn:
    """What the form collected, ready for ``registry.register``."""

    given_name: str
    family_name: str
    country: str
    organisation: str
    category: str
    email: str

    def fields(self) -> dict[str, str]:
        return {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "country": self.country,
            "organisation": self.organisation,
            "category": self.category,
            "email": self.email,
        }


class WalkInDialog(QDialog):
    """The form; ``walk_in()`` gives what was typed once it is accepted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Register a walk-in")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        title = QLabel("New walk-in", objectName="pageTitle")
        layout.addWidget(title)
        hint = QLabel("Tab moves to the next field; Enter registers.")
        hint.setStyleSheet(f"color: {MUTED}; font-size: 14px;")
        layout.addWidget(hint)
        form = QFormLayout()
        form.setVerticalSpacing(10)
        self.given_name = QLineEdit(placeholderText="as on the passport")
        self.family_name = QLineEdit(placeholderText="surname")
        self.country = CountryCombo()
        self.organisation = QLineEdit(placeholderText="ministry, agency or company")
        self.category = category_combo()
        self.email = QLineEdit(placeholderText="for the certificate")
        form.addRow("&Given name", self.given_name)
        form.addRow("&Family name", self.family_name)
        form.addRow("&Country", self.country)
        form.addRow("&Organisation", self.organisation)
        form.addRow("Ca&tegory", self.category)
        form.addRow("&E-mail", self.email)
        layout.addLayout(form)
        self.message = QLabel()
        self.message.setStyleSheet(f"color: {RED}; font-size: 15px;")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.register_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.register_button.setText("Register")
        self.register_button.setDefault(True)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        # Tab walks the form top to bottom, then to Register and Cancel.
        chain: list[QWidget] = [
            self.given_name,
            self.family_name,
            self.country,
            self.organisation,
            self.category,
            self.email,
            self.register_button,
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel),
        ]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)
        # Enter anywhere presses Register, the dialog's default button.
        self.given_name.setFocus()
        self._result: WalkIn | None = None

    def problem(self) -> tuple[str, QWidget] | None:
        """What stops the form being sent, and the field to fix; None if nothing."""
        if not (self.given_name.text().strip() or self.family_name.text().strip()):
            return "Type a given name or a family name.", self.given_name
        if self.country.code() is None:
            return f"“{self.country.currentText().strip()}” is not a country.", self.country
        email = self.email.text().strip()
        if email and EMAIL_RE.fullmatch(email) is None:
            return f"“{email}” does not look like an e-mail address.", self.email
        return None

    def _on_buttons_accepted(self) -> None:
        trouble = self.problem()
        if trouble is not None:
            message, field = trouble
            self.message.setText(message)
            field.setFocus()
            return
        self._result = WalkIn(
            given_name=self.given_name.text().strip(),
            family_name=self.family_name.text().strip(),
            country=self.country.code() or "",
            organisation=self.organisation.text().strip(),
            category=str(self.category.currentData()),
            email=self.email.text().strip(),
        )
        self.accept()

    def walk_in(self) -> WalkIn | None:
        """What was typed, once the form was accepted."""
        return self._result


def open_walk_in(parent: QWidget, on_done: Callable[[WalkIn | None], None]) -> WalkInDialog:
    """Open the walk-in form; ``on_done`` gets the walk-in, or None if it was cancelled."""
    dialog = WalkInDialog(parent)

    def finished(code: int) -> None:
        on_done(dialog.walk_in() if code == QDialog.DialogCode.Accepted else None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()
    return dialog
