"""The attendees area: find anyone as you type, narrow the list, correct a person, walk-ins.

The table reads a page of 200 people at a time (``canFetchMore``/``fetchMore``) from the
search service, so 100,000 attendees cost one page per keystroke, never the whole list.
Every change (a correction, a walk-in, a cancellation) is one journal operation, written on
the single writer thread; the area reloads when it is done.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop import desk, permissions, registry, search
from desktop.countries import country_name
from desktop.models import CATEGORY_LABELS
from desktop.registry import AttendeeInfo
from desktop.search import Filters, Query
from desktop.store import Store
from desktop.ui.qt_checkin import ask_reason
from desktop.ui.qt_theme import GREEN, MUTED, RED
from desktop.ui.qt_walkin import CountryCombo, WalkIn, category_combo, open_walk_in
from desktop.ui.qt_worker import run_task, writer_pool

ModelIndex = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 200
SEARCH_DELAY_MS = 150


@dataclass(frozen=True)
class Column:
    """A column of the table: what it shows, its heading, the sort key it sorts by."""

    key: str
    title: str
    sort: str


# The facts a desk looks at first come first: on a laptop screen the rest scroll into view.
COLUMNS = (
    Column("short_code", "Code", "code"),
    Column("name", "Name", "name"),
    Column("country", "Country", "country"),
    Column("arrived", "Arrived", "arrived"),
    Column("badge", "Badge", "badge"),
    Column("status", "Status", "status"),
    Column("organisation", "Organisation", "organisation"),
    Column("category", "Category", "category"),
    Column("native_name", "Native name", "native_name"),
)
COLUMN_WIDTHS = (80, 190, 110, 76, 66, 100, 260, 140, 150)


@dataclass(frozen=True)
class _Page:
    rows: list[AttendeeInfo]
    arrived: frozenset[str]
    printed: frozenset[str]


def _read_page(store: Store, event_id: str, query: Query, offset: int) -> _Page:
    with store.begin() as session:
        ids = search.page(session, event_id, query, offset=offset, limit=PAGE_SIZE)
        rows = registry.get_many(session, ids)
        marks = search.page_marks(session, event_id, ids)
    return _Page(rows, marks.arrived, marks.badge_printed)


class AttendeeTableModel(QAbstractTableModel):
    """The attendees a query finds, read page by page as the view scrolls."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.event_id: str | None = None
        self.query = Query()
        self.total = 0
        self._rows: list[AttendeeInfo] = []
        self._arrived: set[str] = set()
        self._printed: set[str] = set()

    # --- loading ---

    def load(self, event_id: str | None, query: Query) -> None:
        """Show what ``query`` finds in the event: its count and first page."""
        self.beginResetModel()
        self.event_id = event_id
        self.query = query
        self._rows = []
        self._arrived = set()
        self._printed = set()
        self.total = 0
        if event_id is not None:
            with self.store.begin() as session:
                found = search.find(session, event_id, query, PAGE_SIZE)
                rows = registry.get_many(session, found.ids)
                marks = search.page_marks(session, event_id, found.ids)
            self.total = found.total
            self._add(_Page(rows, marks.arrived, marks.badge_printed))
        self.endResetModel()

    def reload(self) -> None:
        """Read the same query again (after a change), as many rows as were shown."""
        shown = len(self._rows)
        self.load(self.event_id, self.query)
        while len(self._rows) < shown and self.canFetchMore(QModelIndex()):
            self.fetchMore(QModelIndex())

    def _add(self, page: _Page) -> None:
        self._rows.extend(page.rows)
        self._arrived |= page.arrived
        self._printed |= page.printed

    def canFetchMore(self, parent: ModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self.event_id is not None and len(self._rows) < self.total

    def fetchMore(self, parent: ModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent) or self.event_id is None:
            return
        page = _read_page(self.store, self.event_id, self.query, len(self._rows))
        if not page.rows:
            # The list shrank since it was counted (a change at another desk): stop here.
            self.total = len(self._rows)
            return
        start = len(self._rows)
        self.beginInsertRows(QModelIndex(), start, start + len(page.rows) - 1)
        self._add(page)
        self.endInsertRows()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column].sort if 0 <= column < len(COLUMNS) else None
        descending = order == Qt.SortOrder.DescendingOrder and key is not None
        wanted = replace(self.query, sort=key, descending=descending)
        if wanted != self.query:
            self.load(self.event_id, wanted)

    # --- reading ---

    def attendee_at(self, row: int) -> AttendeeInfo:
        return self._rows[row]

    def row_of(self, attendee_id: str) -> int:
        """The row showing ``attendee_id`` among those loaded, or -1."""
        for row, person in enumerate(self._rows):
            if person.id == attendee_id:
                return row
        return -1

    def arrived(self, attendee_id: str) -> bool:
        return attendee_id in self._arrived

    def badge_printed(self, attendee_id: str) -> bool:
        return attendee_id in self._printed

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(COLUMNS):
            return COLUMNS[section].title
        return None

    def _text(self, person: AttendeeInfo, key: str) -> str:
        if key == "name":
            # Family name first: the order the list is in, and how desk lists are read.
            if person.family_name and person.given_name:
                return f"{person.family_name}, {person.given_name}"
            return person.display_name
        if key == "country":
            return country_name(person.country) if person.country else ""
        if key == "category":
            return CATEGORY_LABELS.get(person.category, person.category)
        if key == "arrived":
            return "✓ Yes" if person.id in self._arrived else "–"
        if key == "badge":
            return "✓ Yes" if person.id in self._printed else "–"
        if key == "status":
            return person.status.capitalize()
        return str(getattr(person, key))

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        if not 0 <= index.column() < len(COLUMNS):
            return None
        person = self._rows[index.row()]
        key = COLUMNS[index.column()].key
        cancelled = person.status == "cancelled"
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(person, key)
        if role == Qt.ItemDataRole.ToolTipRole and key == "country":
            return person.country
        if role == Qt.ItemDataRole.ForegroundRole:
            if key == "status" and cancelled:
                return QColor(RED)
            if cancelled:
                return QColor(MUTED)
            if key == "arrived" and person.id in self._arrived:
                return QColor(GREEN)
        if role == Qt.ItemDataRole.FontRole and cancelled and key == "name":
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.UserRole:
            return person.id
        return None


# --- the detail panel --------------------------------------------------------------------------

# (field, label) in the order the panel shows them.
# (field, label) in the order the panel shows them: what is corrected most, first.
DETAIL_FIELDS = (
    ("given_name", "Given name"),
    ("family_name", "Family name"),
    ("badge_name", "Name on badge"),
    ("native_name", "Native name"),
    ("country", "Country"),
    ("organisation", "Organisation"),
    ("category", "Category"),
    ("email", "E-mail"),
    ("position", "Position"),
    ("honorific", "Honorific"),
    ("gender", "Gender"),
    ("phone", "Phone"),
    ("external_id", "External id"),
    ("notes", "Notes"),
)


class AttendeeDetail(QFrame):
    """One attendee, every field editable; Save sends only what changed."""

    save_requested = Signal(str, dict)
    cancel_requested = Signal(str)
    restore_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__(objectName="card")
        self.person: AttendeeInfo | None = None
        self.arrived = False
        self.printed = False
        self.can_edit = True
        self.can_cancel = True
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 14, 18, 14)
        self.heading = QLabel("Choose someone in the list", objectName="detailName")
        self.heading.setStyleSheet("font-size: 22px; font-weight: 600;")
        self.heading.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setStyleSheet(f"font-size: 15px; color: {MUTED};")
        self.facts.setWordWrap(True)
        outer.addWidget(self.heading)
        outer.addWidget(self.facts)

        self.inputs: dict[str, QWidget] = {}
        form = QFormLayout()
        form.setVerticalSpacing(6)
        for name, label in DETAIL_FIELDS:
            widget: QWidget
            if name == "country":
                widget = CountryCombo()
            elif name == "category":
                widget = category_combo()
            elif name == "notes":
                widget = QPlainTextEdit()
                widget.setFixedHeight(70)
                widget.setTabChangesFocus(True)
            else:
                widget = QLineEdit()
                widget.returnPressed.connect(self._on_save_clicked)
            if isinstance(widget, QComboBox):
                # Long country names must not widen the panel: show what fits.
                widget.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
                )
                widget.setMinimumContentsLength(12)
            widget.setObjectName(name)
            self.inputs[name] = widget
            form.addRow(label, widget)
        fields = QWidget()
        fields.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(fields)
        outer.addWidget(scroll, 1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-size: 15px;")
        outer.addWidget(self.message)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save changes", objectName="primary")
        self.save_button.setToolTip("Enter or Ctrl+S")
        self.revert_button = QPushButton("Undo edits")
        self.cancel_button = QPushButton("Cancel registration…")
        self.restore_button = QPushButton("Restore registration…")
        for button in (self.save_button, self.revert_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.restore_button)
        outer.addLayout(buttons)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.revert_button.clicked.connect(self._on_revert_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.restore_button.clicked.connect(self._on_restore_clicked)
        save = QShortcut(QKeySequence("Ctrl+S"), self)
        save.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save.activated.connect(self._on_save_clicked)
        self.show_person(None)

    def show_person(
        self, person: AttendeeInfo | None, arrived: bool = False, printed: bool = False
    ) -> None:
        """Fill the panel with ``person`` (None: empty), dropping unsaved edits."""
        self.person = person
        self.arrived = arrived
        self.printed = printed
        for name, widget in self.inputs.items():
            value = "" if person is None else str(getattr(person, name))
            if isinstance(widget, CountryCombo):
                widget.set_code(value)
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(0, widget.findData(value or "participant")))
            elif isinstance(widget, QPlainTextEdit):
                widget.setPlainText(value)
            elif isinstance(widget, QLineEdit):
                widget.setText(value)
                widget.setCursorPosition(0)
        if person is None:
            self.heading.setText("Choose someone in the list")
            self.facts.setText("or register a walk-in (Ctrl+N)")
        else:
            self.heading.setText(person.display_name)
            status = "CANCELLED" if person.status == "cancelled" else "Registered"
            facts = [person.short_code, status]
            facts.append("arrived" if arrived else "not arrived yet")
            facts.append("badge printed" if printed else "no badge printed")
            self.facts.setText("  ·  ".join(facts))
        self.message.setText("")
        self._update_enabled()

    def set_permissions(self, can_edit: bool, can_cancel: bool) -> None:
        """What the signed-in operator may do here; the rest is hidden or read-only."""
        self.can_edit = can_edit
        self.can_cancel = can_cancel
        self._update_enabled()

    def _update_enabled(self) -> None:
        present = self.person is not None
        editable = present and self.can_edit
        for widget in self.inputs.values():
            if isinstance(widget, QLineEdit | QPlainTextEdit):
                widget.setReadOnly(not editable)
            else:
                widget.setEnabled(editable)
        self.save_button.setVisible(self.can_edit)
        self.revert_button.setVisible(self.can_edit)
        self.save_button.setEnabled(editable)
        self.revert_button.setEnabled(editable)
        cancelled = present and self.person is not None and self.person.status == "cancelled"
        self.cancel_button.setVisible(self.can_cancel and present and not cancelled)
        self.restore_button.setVisible(self.can_cancel and cancelled)
        if present and not self.can_edit:
            self.message.setText("Only a supervisor may change an attendee's details.")

    def value(self, name: str) -> str | None:
        """The field's value as typed; None for a country that is not one."""
        widget = self.inputs[name]
        if isinstance(widget, CountryCombo):
            return widget.code()
        if isinstance(widget, QComboBox):
            return str(widget.currentData())
        if isinstance(widget, QPlainTextEdit):
            return widget.toPlainText().strip()
        if isinstance(widget, QLineEdit):
            return widget.text().strip()
        return None

    def changes(self) -> dict[str, str]:
        """The fields whose value differs from the stored one."""
        if self.person is None:
            return {}
        found: dict[str, str] = {}
        for name, _label in DETAIL_FIELDS:
            value = self.value(name)
            if value is not None and value != str(getattr(self.person, name)):
                found[name] = value
        return found

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(f"font-size: 15px; color: {RED if error else GREEN};")
        self.message.setText(text)

    def _on_save_clicked(self) -> None:
        if self.person is None or not self.can_edit:
            return
        if self.value("country") is None:
            country = self.inputs["country"]
            assert isinstance(country, CountryCombo)
            self.show_message(f"“{country.currentText().strip()}” is not a country.", True)
            country.setFocus()
            return
        changed = self.changes()
        if not changed:
            self.show_message("Nothing to save: no field was changed.")
            return
        self.save_requested.emit(self.person.id, changed)

    def _on_revert_clicked(self) -> None:
        self.show_person(self.person, self.arrived, self.printed)

    def _on_cancel_clicked(self) -> None:
        if self.person is not None:
            self.cancel_requested.emit(self.person.id)

    def _on_restore_clicked(self) -> None:
        if self.person is not None:
            self.restore_requested.emit(self.person.id)


# --- jobs on the writer thread ------------------------------------------------------------------


def _save_job(store: Store, attendee_id: str, changes: dict[str, str]) -> str:
    with store.begin() as session:
        registry.update(session, desk.context(session), attendee_id, changes)
    return attendee_id


def _register_job(store: Store, fields: dict[str, str]) -> str:
    with store.begin() as session:
        return registry.register(session, desk.context(session), fields)


def _cancel_job(store: Store, attendee_id: str, reason: str) -> str:
    with store.begin() as session:
        registry.cancel(session, desk.context(session), attendee_id, reason)
    return attendee_id


def _restore_job(store: Store, attendee_id: str, reason: str) -> str:
    with store.begin() as session:
        registry.restore(session, desk.context(session), attendee_id, reason)
    return attendee_id


# --- the page ------------------------------------------------------------------------------------

ANY = "any"


class AttendeesPage(QWidget):
    """Search box, filters, the attendee table and the detail panel."""

    attendee_saved = Signal(str)
    walk_in_registered = Signal(str)
    registration_cancelled = Signal(str)
    registration_restored = Signal(str)
    action_failed = Signal(str)

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.event_id: str | None = None
        self.walk_in_dialog: QWidget | None = None
        self._index_checked = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 20, 28, 20)
        top = QHBoxLayout()
        top.addWidget(QLabel("Attendees", objectName="pageTitle"))
        top.addStretch(1)
        self.walk_in_button = QPushButton("New walk-in  (Ctrl+N)", objectName="primary")
        top.addWidget(self.walk_in_button)
        layout.addLayout(top)

        self.search = QLineEdit(placeholderText="Search name, organisation, e-mail or code")
        self.search.setClearButtonEnabled(True)
        self.search.setStyleSheet("font-size: 18px; padding: 8px;")
        layout.addWidget(self.search)

        filters = QHBoxLayout()
        self.country_filter = QComboBox()
        self.category_filter = QComboBox()
        self.category_filter.addItem("All categories", ANY)
        for key, label in CATEGORY_LABELS.items():
            self.category_filter.addItem(label, key)
        self.arrived_filter = QComboBox()
        for label, value in (("Arrived or not", ANY), ("Arrived", True), ("Not arrived", False)):
            self.arrived_filter.addItem(label, value)
        self.badge_filter = QComboBox()
        for label, value in (("Badge or not", ANY), ("Badge printed", True), ("No badge", False)):
            self.badge_filter.addItem(label, value)
        self.status_filter = QComboBox()
        for label, value in (
            ("Registered and cancelled", ANY),
            ("Registered", "registered"),
            ("Cancelled", "cancelled"),
        ):
            self.status_filter.addItem(label, value)
        for combo in (
            self.country_filter,
            self.category_filter,
            self.arrived_filter,
            self.badge_filter,
            self.status_filter,
        ):
            filters.addWidget(combo)
            combo.currentIndexChanged.connect(self._on_filter_changed)
        filters.addStretch(1)
        self.count = QLabel(objectName="figureLabel")
        self.count.setStyleSheet("font-size: 16px;")
        filters.addWidget(self.count)
        layout.addLayout(filters)

        self.model = AttendeeTableModel(store)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(34)
        header = self.table.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorShown(True)
        self.table.setSortingEnabled(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for column, width in enumerate(COLUMN_WIDTHS):
            self.table.setColumnWidth(column, width)
        self.detail = AttendeeDetail()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([640, 420])
        layout.addWidget(splitter, 1)

        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.installEventFilter(self)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_changed)
        self.walk_in_button.clicked.connect(self.open_walk_in)
        self.detail.save_requested.connect(self._on_detail_save_requested)
        self.detail.cancel_requested.connect(self._on_detail_cancel_requested)
        self.detail.restore_requested.connect(self._on_detail_restore_requested)
        for keys, slot in (
            ("Ctrl+F", self.focus_search),
            ("Ctrl+N", self.open_walk_in),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.refresh()

    # --- loading ---

    def query(self) -> Query:
        """The search the controls describe, in the table's current order."""

        def pick(combo: QComboBox) -> Any:
            value = combo.currentData()
            return None if value == ANY or value is None else value

        filters = Filters(
            country=pick(self.country_filter),
            category=pick(self.category_filter),
            status=pick(self.status_filter),
            arrived=pick(self.arrived_filter),
            badge_printed=pick(self.badge_filter),
        )
        return replace(self.model.query, text=self.search.text(), filters=filters)

    def refresh(self) -> None:
        """Reload the filters' choices, the operator's rights and the table."""
        with self.store.begin() as session:
            self.event_id = desk.current_event_id(session)
            if not self._index_checked:
                search.ensure_index(session)
                self._index_checked = True
            countries: list[str] = []
            rights: frozenset[str] = frozenset()
            if self.event_id is not None:
                countries = search.countries(session, self.event_id)
                ctx = desk.context(session)
                rights = permissions.actions_for(permissions.actor(session, ctx).role)
        self.walk_in_button.setEnabled("register_walk_in" in rights)
        self.detail.set_permissions("edit_attendee" in rights, "cancel_registration" in rights)
        self._fill_countries(countries)
        self._reload(keep=self.detail.person.id if self.detail.person else None)

    def _fill_countries(self, codes: list[str]) -> None:
        chosen = self.country_filter.currentData()
        self.country_filter.blockSignals(True)
        self.country_filter.clear()
        self.country_filter.addItem("All countries", ANY)
        for name, code in sorted((country_name(c), c) for c in codes):
            self.country_filter.addItem(name, code)
        index = self.country_filter.findData(chosen) if chosen else 0
        self.country_filter.setCurrentIndex(max(0, index))
        self.country_filter.blockSignals(False)

    def _reload(self, keep: str | None = None) -> None:
        self.model.load(self.event_id, self.query())
        self._show_count()
        row = self.model.row_of(keep) if keep else -1
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        if keep:
            self._show_attendee(keep)

    def _show_count(self) -> None:
        total = self.model.total
        if self.query().text.strip() or self.query().filters != Filters():
            self.count.setText(f"{total:,} found")
        else:
            self.count.setText(f"{total:,} attendee{'s' if total != 1 else ''}")

    def _show_attendee(self, attendee_id: str) -> None:
        if self.event_id is None:
            return
        with self.store.begin() as session:
            person = registry.get(session, self.event_id, attendee_id)
            marks = search.page_marks(session, self.event_id, [attendee_id])
        self.detail.show_person(
            person, attendee_id in marks.arrived, attendee_id in marks.badge_printed
        )

    # --- slots ---

    def focus_search(self) -> None:
        """Put the cursor in the search box, its text selected (Ctrl+F)."""
        self.search.setFocus()
        self.search.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Down and self.model.rowCount() > 0:
                # Down from the search box goes to the list, on the first person.
                self.table.setFocus()
                if not self.table.currentIndex().isValid():
                    self.table.selectRow(0)
                return True
            if event.key() == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)

    def _on_search_text_changed(self, _text: str) -> None:
        self._debounce.start()

    def _on_debounce_timeout(self) -> None:
        # A new search shows the best matches first, whatever column was sorted before.
        if self.search.text().strip() and self.model.query.sort is not None:
            self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            self.model.query = replace(self.model.query, sort=None, descending=False)
        self._reload()

    def _on_filter_changed(self, _index: int) -> None:
        self._reload()

    def _on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        person = self.model.attendee_at(current.row())
        self.detail.show_person(
            person, self.model.arrived(person.id), self.model.badge_printed(person.id)
        )

    def _on_detail_save_requested(self, attendee_id: str, changes: dict[str, str]) -> None:
        self.detail.save_button.setEnabled(False)
        run_task(
            _save_job,
            self.store,
            attendee_id,
            dict(changes),
            pool=writer_pool(),
            on_result=self._on_saved,
            on_error=self._on_failed,
        )

    def _on_saved(self, attendee_id: str) -> None:
        self._reload(keep=attendee_id)
        self.detail.show_message("Saved. Other desks get the change when they sync.")
        self.attendee_saved.emit(attendee_id)

    def open_walk_in(self) -> None:
        """Open the walk-in form (Ctrl+N)."""
        if not self.walk_in_button.isEnabled() or self.event_id is None:
            return
        self.walk_in_dialog = open_walk_in(self, self._on_walk_in_done)

    def _on_walk_in_done(self, walk_in: WalkIn | None) -> None:
        self.walk_in_dialog = None
        if walk_in is None:
            return
        run_task(
            _register_job,
            self.store,
            walk_in.fields(),
            pool=writer_pool(),
            on_result=self._on_registered,
            on_error=self._on_failed,
        )

    def _on_registered(self, attendee_id: str) -> None:
        self._reload(keep=attendee_id)
        person = self.detail.person
        if person is not None:
            self.detail.show_message(f"Registered {person.display_name}: {person.short_code}.")
        self.walk_in_registered.emit(attendee_id)

    def _on_detail_cancel_requested(self, attendee_id: str) -> None:
        def done(reason: str | None) -> None:
            if reason is None:
                return
            run_task(
                _cancel_job,
                self.store,
                attendee_id,
                reason,
                pool=writer_pool(),
                on_result=self._on_cancelled,
                on_error=self._on_failed,
            )

        ask_reason(
            self,
            "Cancel registration",
            "Why is this registration cancelled? (the badge stops admitting)",
            done,
        )

    def _on_cancelled(self, attendee_id: str) -> None:
        self._reload(keep=attendee_id)
        self.detail.show_message("Registration cancelled; the badge no longer admits.")
        self.registration_cancelled.emit(attendee_id)

    def _on_detail_restore_requested(self, attendee_id: str) -> None:
        def done(reason: str | None) -> None:
            if reason is None:
                return
            run_task(
                _restore_job,
                self.store,
                attendee_id,
                reason,
                pool=writer_pool(),
                on_result=self._on_restored,
                on_error=self._on_failed,
            )

        ask_reason(self, "Restore registration", "Why is this registration restored?", done)

    def _on_restored(self, attendee_id: str) -> None:
        self._reload(keep=attendee_id)
        self.detail.show_message("Registration restored; the badge admits again.")
        self.registration_restored.emit(attendee_id)

    def _on_failed(self, error: BaseException) -> None:
        self.detail.save_button.setEnabled(self.detail.can_edit and self.detail.person is not None)
        self.detail.show_message(str(error), error=True)
        self.action_failed.emit(str(error))
