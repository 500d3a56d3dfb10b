"""The import wizard: choose a file, check its columns, see every problem, import in a worker.

Steps: file -> columns (the guessed mapping, correctable with a combo box per column) ->
check (new / updated / unchanged counts, problems by row, the changes each update makes) ->
import (a worker on the writer thread, with progress and a cancel button) -> result.
Reading, checking and importing all run off the GUI thread, so the window stays responsive.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import desk, permissions
from desktop.columns import ALL_FIELDS, ColumnMapping
from desktop.desk import NoEventError
from desktop.importing import (
    ImportFileError,
    ImportPlan,
    ParseResult,
    Table,
    guess_mapping,
    parse_rows,
    plan_import,
    read_table,
)
from desktop.permissions import PermissionDenied
from desktop.registry import RegistryError
from desktop.registry_import import (
    ImportRefused,
    ImportResult,
    existing_attendees,
    import_parsed,
    refused_rows,
)
from desktop.store import Store
from desktop.ui.qt_theme import AMBER, BLUE, GREEN, MUTED, RED
from desktop.ui.qt_worker import CancelToken, ProgressReporter, TaskHandle, run_task, writer_pool

ModelIndex = QModelIndex | QPersistentModelIndex

FIELD_LABELS: dict[str, str] = {
    "given_name": "Given name",
    "family_name": "Family name",
    "full_name": "Full name (split into given and family)",
    "badge_name": "Name on badge",
    "native_name": "Name in native script",
    "honorific": "Honorific (Mr, Ms, Dr…)",
    "gender": "Gender",
    "country": "Country or economy",
    "organisation": "Organisation",
    "position": "Position",
    "category": "Category",
    "email": "E-mail",
    "phone": "Phone",
    "notes": "Notes",
    "external_id": "Registration id",
    "registration_state": "Registration state (withdrawn rows skipped)",
    "order_code": "pretix order code",
    "position_id": "pretix position id",
    "order_email": "pretix order e-mail",
}
NOT_IMPORTED = "— not imported —"
SOURCE_LABELS = {
    "indico": "Indico registrant export",
    "pretix": "pretix order export",
    "generic": "a participant list (columns recognised by their headings)",
}
STEPS = ("File", "Columns", "Check", "Import")
SAMPLE_ROWS = 50
FILE_FILTER = "Spreadsheets (*.csv *.xlsx *.txt *.tsv);;All files (*)"


# --- the file dialog, behind a function tests replace ----------------------------------------


def choose_file(parent: QWidget, on_done: Callable[[Path | None], None]) -> QDialog:
    """Ask for a participant list; ``on_done`` gets the path, or None if cancelled."""
    dialog = QFileDialog(parent, "Choose a participant list", str(Path.home()), FILE_FILTER)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)

    def finished(code: int) -> None:
        files = dialog.selectedFiles()
        accepted = code == QDialog.DialogCode.Accepted and bool(files)
        on_done(Path(files[0]) if accepted else None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()
    return dialog


# --- work done off the GUI thread (copies in, plain data out) -------------------------------
# A mistake in the file or a refusal comes back as a message (a str), not as an exception:
# it is the person's to fix, not a failure of the program worth a logged traceback.

PERSON_ERRORS = (ImportFileError, ImportRefused, RegistryError, PermissionDenied, NoEventError)


def _read_job(path: Path) -> tuple[Table, ColumnMapping] | str:
    try:
        table = read_table(path)
    except ImportFileError as error:
        return str(error)
    return table, guess_mapping(table.headers, table.samples())


@dataclass(frozen=True)
class CheckOutcome:
    """A checked file: the parsed rows, the plan, names of the people it updates.

    `refusal` says why nothing can be imported whatever the rows (the operator's role, no
    row usable); the plan still lists every row's problem.
    """

    parsed: ParseResult | None
    plan: ImportPlan
    names: dict[str, str]
    refusal: str | None


def _check_job(store: Store, table: Table, mapping: ColumnMapping) -> CheckOutcome | str:
    refusal: str | None = None
    parsed: ParseResult | None = None
    try:
        parsed = parse_rows(table, mapping)
    except ImportFileError as error:
        if not error.problems:
            return str(error)  # no name column: the mapping must change
        refusal = str(error)
        problems = error.problems
    session = store.session_factory()
    try:
        ctx = desk.context(session)
        existing = existing_attendees(session, ctx.event_id)
        permissions.require(session, ctx, "import_attendees")
    except PermissionDenied as denied:
        refusal = str(denied)
    except NoEventError as error:
        return str(error)
    finally:
        session.rollback()
        session.close()
    if parsed is None:
        return CheckOutcome(None, ImportPlan([], [], [], problems), {}, refusal)
    plan = plan_import(parsed, existing)
    wanted = {u.attendee_id for u in plan.updates}
    names = {
        str(p["id"]): " ".join(x for x in (p.get("given_name"), p.get("family_name")) if x)
        for p in existing
        if p["id"] in wanted
    }
    return CheckOutcome(parsed, plan, names, refusal)


def _import_job(
    store: Store,
    parsed: ParseResult,
    expected: ImportPlan,
    skip_invalid: bool,
    progress: ProgressReporter,
    cancel: CancelToken,
) -> ImportResult | str:
    # Leaving the block by an exception (TaskCancelled too) rolls the whole transaction back.
    try:
        with store.begin() as session:
            _plan, result = import_parsed(
                session,
                desk.context(session),
                parsed,
                skip_invalid=skip_invalid,
                expected=expected,
                progress=progress,
                check_cancel=cancel.raise_if_cancelled,
            )
            cancel.raise_if_cancelled()
    except PERSON_ERRORS as error:
        return str(error)
    return result


# --- a read-only table of text rows ----------------------------------------------------------


class RowsModel(QAbstractTableModel):
    """Rows of text under fixed headings (problems, changes, warnings)."""

    def __init__(self, headings: Sequence[str], colour: str | None = None) -> None:
        super().__init__()
        self._headings = list(headings)
        self._rows: list[tuple[str, ...]] = []
        self._colour = QColor(colour) if colour else None

    def set_rows(self, rows: Sequence[tuple[str, ...]]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_texts(self, row: int) -> tuple[str, ...]:
        return self._rows[row]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headings)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self._headings)
        ):
            return self._headings[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 0 and self._colour:
            return self._colour
        return None


def _table_view(model: QAbstractTableModel, stretch: int) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def _figure(caption: str, colour: str) -> tuple[QFrame, QLabel]:
    card = QFrame(objectName="card")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(18, 10, 18, 10)
    value = QLabel("0", objectName="figureValue")
    value.setStyleSheet(f"color: {colour};")
    layout.addWidget(value)
    layout.addWidget(QLabel(caption, objectName="figureLabel"))
    return card, value


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number:,} {one if number == 1 else (many or one + 's')}"


# --- the wizard ------------------------------------------------------------------------------


class ImportWizard(QDialog):
    """Import a participant list into the open event, step by step."""

    imported = Signal(object)  # ImportResult, once an import has been written

    FILE, COLUMNS, CHECK, IMPORTING, DONE = range(5)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Import participants")
        # The theme colours primary buttons whatever their state; a disabled one must look it.
        self.setStyleSheet(
            "QPushButton:disabled { color: #8a939d; background: #e4e7eb; border-color: #d3d8de; }"
        )
        self.resize(1080, 720)
        self.path: Path | None = None
        self.table: Table | None = None
        self.mapping: ColumnMapping | None = None
        self.check: CheckOutcome | None = None
        self.result: ImportResult | None = None
        # The task whose outcome the wizard waits for; the outcome of any other (a read or
        # check the person walked away from) is dropped.
        self.task: TaskHandle | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 18, 24, 18)
        self.steps = QLabel()
        self.steps.setStyleSheet("font-size: 16px;")
        outer.addWidget(self.steps)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_file_page())
        self.pages.addWidget(self._build_columns_page())
        self.pages.addWidget(self._build_check_page())
        self.pages.addWidget(self._build_importing_page())
        self.pages.addWidget(self._build_done_page())
        outer.addWidget(self.pages, 1)

        buttons = QHBoxLayout()
        self.back_button = QPushButton("← Back")
        self.back_button.clicked.connect(self._on_back_button_clicked)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.next_button = QPushButton()
        self.next_button.setObjectName("primary")
        self.next_button.clicked.connect(self._on_next_button_clicked)
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.next_button)
        outer.addLayout(buttons)
        self._show_page(self.FILE)

    # --- pages ------------------------------------------------------------------------------

    def _build_file_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Import participants", objectName="pageTitle"))
        intro = QLabel(
            "Choose the participant list as a CSV or Excel (.xlsx) file: the organiser's "
            "nomination list, an Indico or pretix export, or a list typed by hand. The "
            "headings may be on any of the first rows and the columns in any order. "
            "Nothing is written until you have seen every row's problem and the changes."
        )
        intro.setWordWrap(True)
        intro.setStyleSheet("font-size: 16px;")
        layout.addWidget(intro)
        self.choose_button = QPushButton("Choose a file…")
        self.choose_button.setObjectName("primary")
        self.choose_button.setMinimumHeight(56)
        self.choose_button.setStyleSheet("font-size: 18px;")
        self.choose_button.clicked.connect(self._on_choose_button_clicked)
        layout.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.file_status = QLabel()
        self.file_status.setWordWrap(True)
        self.file_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.file_status)
        self.read_busy = QProgressBar()
        self.read_busy.setRange(0, 0)
        self.read_busy.hide()
        layout.addWidget(self.read_busy)
        self.stop_read_button = QPushButton("Stop reading")
        self.stop_read_button.clicked.connect(self._on_stop_read_button_clicked)
        self.stop_read_button.hide()
        layout.addWidget(self.stop_read_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        return page

    def _build_columns_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Check the columns", objectName="pageTitle"))
        self.file_summary = QLabel()
        self.file_summary.setWordWrap(True)
        self.file_summary.setStyleSheet("font-size: 16px;")
        layout.addWidget(self.file_summary)
        self.mapping_table = QTableWidget(0, 4)
        self.mapping_table.setHorizontalHeaderLabels(
            ["Column in the file", "Imported as", "First values", "Why"]
        )
        self.mapping_table.verticalHeader().setVisible(False)
        self.mapping_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.mapping_table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.mapping_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.mapping_table, 1)
        self.mapping_note = QLabel()
        self.mapping_note.setWordWrap(True)
        self.mapping_note.setStyleSheet("font-size: 16px;")
        layout.addWidget(self.mapping_note)
        self.check_busy = QProgressBar()
        self.check_busy.setRange(0, 0)
        self.check_busy.setFormat("Checking every row…")
        self.check_busy.hide()
        layout.addWidget(self.check_busy)
        self.combos: list[QComboBox] = []
        return page

    def _build_check_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.check_title = QLabel(objectName="pageTitle")
        layout.addWidget(self.check_title)
        figures = QGridLayout()
        figures.setSpacing(12)
        card, self.new_count = _figure("new attendees", GREEN)
        figures.addWidget(card, 0, 0)
        card, self.update_count = _figure("updated", BLUE)
        figures.addWidget(card, 0, 1)
        card, self.unchanged_count = _figure("already registered, unchanged", MUTED)
        figures.addWidget(card, 0, 2)
        card, self.problem_count = _figure("rows with problems", RED)
        figures.addWidget(card, 0, 3)
        layout.addLayout(figures)
        self.check_message = QLabel()
        self.check_message.setWordWrap(True)
        self.check_message.setStyleSheet("font-size: 16px;")
        layout.addWidget(self.check_message)
        self.problems_model = RowsModel(["Row", "Column", "Problem"], RED)
        self.changes_model = RowsModel(["Row", "Attendee", "Field", "Now", "After the import"])
        self.warnings_model = RowsModel(["Row", "Column", "Note"], AMBER)
        self.tabs = QTabWidget()
        self.problems_view = _table_view(self.problems_model, 2)
        self.changes_view = _table_view(self.changes_model, 4)
        self.warnings_view = _table_view(self.warnings_model, 2)
        self.tabs.addTab(self.problems_view, "Problems")
        self.tabs.addTab(self.changes_view, "Changes")
        self.tabs.addTab(self.warnings_view, "Notes")
        layout.addWidget(self.tabs, 1)
        self.skip_box = QCheckBox()
        self.skip_box.setStyleSheet("font-size: 16px;")
        self.skip_box.toggled.connect(self._on_skip_box_toggled)
        layout.addWidget(self.skip_box)
        return page

    def _build_importing_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Importing…", objectName="pageTitle"))
        self.progress_label = QLabel("Starting")
        self.progress_label.setStyleSheet("font-size: 18px;")
        layout.addWidget(self.progress_label)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setMinimumHeight(32)
        layout.addWidget(self.progress_bar)
        note = QLabel(
            "The import is one transaction: if you cancel, nothing is written. "
            "The rest of the desk keeps working meanwhile."
        )
        note.setWordWrap(True)
        note.setStyleSheet(f"color: {MUTED}; font-size: 15px;")
        layout.addWidget(note)
        self.cancel_import_button = QPushButton("Cancel the import")
        self.cancel_import_button.setMinimumHeight(48)
        self.cancel_import_button.clicked.connect(self._on_cancel_import_button_clicked)
        layout.addWidget(self.cancel_import_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        return page

    def _build_done_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.done_title = QLabel(objectName="pageTitle")
        layout.addWidget(self.done_title)
        self.done_text = QLabel()
        self.done_text.setWordWrap(True)
        self.done_text.setStyleSheet("font-size: 18px;")
        self.done_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.done_text)
        layout.addStretch(1)
        return page

    # --- navigation -------------------------------------------------------------------------

    def current_page(self) -> int:
        """The step on screen (FILE, COLUMNS, CHECK, IMPORTING or DONE)."""
        return self.pages.currentIndex()

    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        step = min(index, self.IMPORTING)
        parts = []
        for number, name in enumerate(STEPS):
            text = f"{number + 1}  {name}"
            if number == step:
                parts.append(f"<b style='color:{BLUE}'>{text}</b>")
            else:
                parts.append(f"<span style='color:{MUTED}'>{text}</span>")
        self.steps.setText("  ›  ".join(parts))
        back = index in (self.COLUMNS, self.CHECK) or (index == self.DONE and self.result is None)
        self.back_button.setVisible(back)
        self.close_button.setEnabled(index != self.IMPORTING)
        self.close_button.setText("Close")
        self.next_button.setVisible(index != self.IMPORTING and index != self.FILE)
        if index == self.COLUMNS:
            self.next_button.setText("Check every row →")
        elif index == self.CHECK:
            self._update_import_button()
        elif index == self.DONE:
            self.next_button.setText("Import another file")
            self.next_button.setEnabled(True)
        self._update_next_enabled()
        self.next_button.setDefault(self.next_button.isVisible() and self.next_button.isEnabled())

    def _update_next_enabled(self) -> None:
        index = self.current_page()
        if index == self.COLUMNS:
            ok = self.mapping is not None and self.mapping.has_name and self.task is None
            self.next_button.setEnabled(ok)
        elif index == self.CHECK:
            self._update_import_button()

    def _start(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        pool: Any = None,
    ) -> TaskHandle:
        # Connected to the handle's signals, so a wizard that was closed and deleted is
        # simply not called; the slots compare sender() with self.task to drop stale work.
        handle = run_task(fn, *args, pool=pool)
        handle.succeeded.connect(on_result)
        handle.failed.connect(on_error)
        self.task = handle
        return handle

    def _is_current(self) -> bool:
        return self.task is not None and self.sender() is self.task

    def _on_back_button_clicked(self) -> None:
        index = self.current_page()
        if index == self.COLUMNS:
            self.task = None
            self._set_checking(False)
            self._show_page(self.FILE)
        elif index == self.CHECK:
            self._show_page(self.COLUMNS)
        elif index == self.DONE:
            self._show_page(self.CHECK if self.result is None else self.FILE)

    def _on_next_button_clicked(self) -> None:
        index = self.current_page()
        if index == self.COLUMNS:
            self.start_check()
        elif index == self.CHECK:
            self.start_import()
        elif index == self.DONE:
            self._show_page(self.FILE)
            self._on_choose_button_clicked()

    def reject(self) -> None:
        # Closing while the import runs would leave it half-way in the window's eyes: cancel
        # it and stay until the worker has rolled back.
        if self.current_page() == self.IMPORTING:
            self._on_cancel_import_button_clicked()
            return
        self.task = None
        super().reject()

    # --- step 1: the file -------------------------------------------------------------------

    def _on_choose_button_clicked(self) -> None:
        choose_file(self, self.open_file)

    def open_file(self, path: Path | None) -> None:
        """Read `path` in a worker and show its columns (None: the person cancelled)."""
        if path is None:
            return
        self.path = path
        self.file_status.setStyleSheet("font-size: 16px;")
        self.file_status.setText(f"Reading {path.name}…")
        self.read_busy.show()
        self.stop_read_button.show()
        self.choose_button.setEnabled(False)
        self._start(
            _read_job, path, on_result=self._on_read_finished, on_error=self._on_read_failed
        )

    def _reading_ended(self) -> None:
        self.task = None
        self.read_busy.hide()
        self.stop_read_button.hide()
        self.choose_button.setEnabled(True)

    def _on_stop_read_button_clicked(self) -> None:
        self._reading_ended()
        self.file_status.setText("Stopped. Choose a file to import.")

    @Slot(object)
    def _on_read_finished(self, result: tuple[Table, ColumnMapping] | str) -> None:
        if not self._is_current():
            return
        self._reading_ended()
        if isinstance(result, str):
            self._show_file_error(result)
            return
        self.file_status.setText("")
        self.table, self.mapping = result
        self._fill_mapping_table()
        self._show_page(self.COLUMNS)

    @Slot(object)
    def _on_read_failed(self, error: BaseException) -> None:
        if not self._is_current():
            return
        self._reading_ended()
        self._show_file_error(f"The file could not be read ({type(error).__name__}: {error}).")

    def _show_file_error(self, text: str) -> None:
        self.file_status.setStyleSheet(f"color: {RED}; font-size: 17px; font-weight: 600;")
        self.file_status.setText(
            f"{text}\n\nChoose another file, or fix this one and choose it again."
        )

    # --- step 2: the columns ----------------------------------------------------------------

    def _fill_mapping_table(self) -> None:
        assert self.table is not None and self.mapping is not None
        table, mapping = self.table, self.mapping
        kind = "Excel workbook" if table.source_format == "xlsx" else "CSV file"
        where = f"sheet “{table.sheet}”" if table.sheet else f"{table.encoding}"
        self.file_summary.setText(
            f"<b>{table.name}</b> — {kind} ({where}), headings on row {table.header_row}, "
            f"{_count(len(table.rows), 'data row')}.<br>Recognised as "
            f"<b>{SOURCE_LABELS[mapping.source]}</b>. Correct any column below: "
            "choose what it holds, or “not imported”."
        )
        samples = table.samples(SAMPLE_ROWS)
        self.mapping_table.setRowCount(len(mapping.columns))
        self.combos = []
        for row, guess in enumerate(mapping.columns):
            heading = guess.heading or f"(column {guess.index + 1}, no heading)"
            self.mapping_table.setItem(row, 0, QTableWidgetItem(heading))
            combo = QComboBox()
            combo.addItem(NOT_IMPORTED, None)
            for name in ALL_FIELDS:
                combo.addItem(FIELD_LABELS.get(name, name), name)
            combo.setCurrentIndex(max(combo.findData(guess.field), 0))
            combo.setObjectName(f"mapping_{guess.index}")
            combo.activated.connect(lambda _i, column=guess.index: self._on_mapping_changed(column))
            self.mapping_table.setCellWidget(row, 1, combo)
            self.combos.append(combo)
            values: list[str] = []
            for cells in samples:
                value = cells[guess.index].strip() if guess.index < len(cells) else ""
                if value and value not in values:
                    values.append(value)
                if len(values) == 3:
                    break
            shown = QTableWidgetItem("  ·  ".join(v[:40] for v in values))
            shown.setForeground(QColor(MUTED))
            self.mapping_table.setItem(row, 2, shown)
            self.mapping_table.setItem(row, 3, QTableWidgetItem(guess.reason))
            self.mapping_table.setRowHeight(row, 40)
        self._update_mapping_note()

    def combo_for(self, heading: str) -> QComboBox:
        """The combo box of the column with this heading (for tests and keyboard users)."""
        assert self.mapping is not None
        for guess, combo in zip(self.mapping.columns, self.combos, strict=True):
            if guess.heading == heading:
                return combo
        raise KeyError(heading)

    def _on_mapping_changed(self, column: int) -> None:
        assert self.mapping is not None
        combo = self.combos[column]
        field = combo.currentData()
        self.mapping = self.mapping.assign(column, field)
        reason = self.mapping.columns[column].reason
        self.mapping_table.setItem(column, 3, QTableWidgetItem(reason))
        self._update_mapping_note()
        self._update_next_enabled()

    def _update_mapping_note(self) -> None:
        assert self.mapping is not None
        if not self.mapping.has_name:
            self.mapping_note.setStyleSheet(f"color: {RED}; font-size: 16px; font-weight: 600;")
            self.mapping_note.setText(
                "No column gives names. Choose the column that holds the family name, the "
                "given name or the full name."
            )
            return
        doubled = [
            FIELD_LABELS.get(name, name)
            for name, columns in self.mapping.fields().items()
            if len(columns) > 1
        ]
        self.mapping_note.setStyleSheet(f"color: {MUTED}; font-size: 15px;")
        note = f"{_count(len(self.mapping.ignored), 'column')} not imported."
        if doubled:
            note += (
                f" Several columns give {', '.join(doubled)}: the first one with a value "
                "in a row is used."
            )
        self.mapping_note.setText(note)

    # --- step 3: the check ------------------------------------------------------------------

    def start_check(self) -> None:
        """Check every row against the mapping and the attendees registered, in a worker."""
        assert self.table is not None and self.mapping is not None
        self._start(
            _check_job,
            self.store,
            self.table,
            self.mapping,
            on_result=self._on_check_finished,
            on_error=self._on_check_failed,
        )
        self._set_checking(True)

    def _set_checking(self, busy: bool) -> None:
        self.check_busy.setVisible(busy)
        self.mapping_table.setEnabled(not busy)
        self._update_next_enabled()

    @Slot(object)
    def _on_check_finished(self, outcome: CheckOutcome | str) -> None:
        if not self._is_current():
            return
        self.task = None
        self._set_checking(False)
        if isinstance(outcome, str):
            self._show_mapping_error(outcome)
            return
        self.check = outcome
        self._fill_check_page()
        self._show_page(self.CHECK)

    @Slot(object)
    def _on_check_failed(self, error: BaseException) -> None:
        if not self._is_current():
            return
        self.task = None
        self._set_checking(False)
        self._show_mapping_error(
            f"The rows could not be checked ({type(error).__name__}: {error})."
        )

    def _show_mapping_error(self, text: str) -> None:
        self.mapping_note.setStyleSheet(f"color: {RED}; font-size: 16px; font-weight: 600;")
        self.mapping_note.setText(text)

    def _fill_check_page(self) -> None:
        assert self.check is not None and self.table is not None
        plan = self.check.plan
        refused = refused_rows(plan)
        self.check_title.setText(f"Check {self.table.name}")
        self.new_count.setText(f"{len(plan.new):,}")
        self.update_count.setText(f"{len(plan.updates):,}")
        self.unchanged_count.setText(f"{len(plan.unchanged):,}")
        self.problem_count.setText(f"{len(refused):,}")
        self.problem_count.setStyleSheet(f"color: {RED if refused else MUTED};")
        self.problems_model.set_rows(
            [
                (str(p.row_number or ""), FIELD_LABELS.get(p.field or "", ""), p.message)
                for p in plan.problems
            ]
        )
        changes: list[tuple[str, ...]] = []
        for update in plan.updates:
            name = self.check.names.get(update.attendee_id, update.attendee_id)
            for field, (old, new) in update.changes.items():
                changes.append(
                    (str(update.row_number), name, FIELD_LABELS.get(field, field), old, new)
                )
        self.changes_model.set_rows(changes)
        self.warnings_model.set_rows(
            [
                (str(w.row_number or ""), FIELD_LABELS.get(w.field or "", ""), w.message)
                for w in plan.warnings
            ]
        )
        self.tabs.setTabText(0, f"Problems ({len(plan.problems):,})")
        self.tabs.setTabText(1, f"Changes ({_count(len(plan.updates), 'attendee')})")
        self.tabs.setTabText(2, f"Notes ({len(plan.warnings):,})")
        first = 0 if plan.problems else (1 if plan.updates else 2)
        self.tabs.setCurrentIndex(first)
        valid = len(plan.new) + len(plan.updates)
        self.skip_box.setChecked(False)
        self.skip_box.setVisible(bool(plan.problems) and valid > 0)
        self.skip_box.setText(
            f"Import the {_count(valid, 'valid row')} and skip the "
            f"{_count(len(refused), 'row')} with problems"
        )
        if self.check.refusal:
            message, colour = self.check.refusal, RED
        elif plan.problems:
            message, colour = (
                f"{_count(len(refused), 'row has', 'rows have')} problems, listed below with "
                "their row numbers. Fix the file and check it again, or import the valid rows "
                "and skip those.",
                RED,
            )
        elif valid == 0:
            message = "Nothing to import: everyone in the file is already registered as it says."
            colour = MUTED
        else:
            message, colour = "Every row can be imported.", GREEN
        self.check_message.setStyleSheet(f"color: {colour}; font-size: 16px; font-weight: 600;")
        self.check_message.setText(message)

    def _on_skip_box_toggled(self, _checked: bool) -> None:
        self._update_import_button()

    def _update_import_button(self) -> None:
        if self.check is None:
            self.next_button.setEnabled(False)
            return
        plan = self.check.plan
        count = len(plan.new) + len(plan.updates)
        self.next_button.setText(f"Import {_count(count, 'attendee')}")
        allowed = self.check.refusal is None and count > 0
        if plan.problems and not self.skip_box.isChecked():
            allowed = False
        self.next_button.setEnabled(allowed)
        self.next_button.setDefault(allowed)

    # --- step 4: the import -----------------------------------------------------------------

    def start_import(self) -> None:
        """Write the checked plan in one transaction on the writer thread."""
        assert self.check is not None
        self.result = None
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText("Starting")
        self.cancel_import_button.setEnabled(True)
        self.cancel_import_button.setText("Cancel the import")
        self._show_page(self.IMPORTING)
        handle = self._start(
            _import_job,
            self.store,
            self.check.parsed,
            self.check.plan,
            self.skip_box.isChecked(),
            pool=writer_pool(),
            on_result=self._on_import_finished,
            on_error=self._on_import_failed,
        )
        handle.progressed.connect(self._on_import_progressed)
        handle.cancelled.connect(self._on_import_cancelled)
        self.cancel_import_button.setFocus()

    @Slot(int, int, str)
    def _on_import_progressed(self, done: int, total: int, message: str) -> None:
        if not self._is_current():
            return
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
        self.progress_label.setText(message)

    def _on_cancel_import_button_clicked(self) -> None:
        if self.task is None:
            return
        self.task.cancel()
        self.cancel_import_button.setEnabled(False)
        self.cancel_import_button.setText("Cancelling…")
        self.progress_label.setText("Cancelling: undoing what was written so far…")

    @Slot(object)
    def _on_import_finished(self, result: ImportResult | str) -> None:
        if not self._is_current():
            return
        self.task = None
        if isinstance(result, str):
            self._show_stopped("Nothing was imported", result)
            return
        self.result = result
        parts = [
            _count(len(result.created), "new attendee"),
            f"{len(result.updated):,} updated",
            f"{result.unchanged:,} unchanged",
        ]
        if result.skipped_rows:
            parts.append(f"{_count(len(result.skipped_rows), 'row')} with problems skipped")
        self.done_title.setText("Import finished")
        self.done_title.setStyleSheet(f"color: {GREEN};")
        self.done_text.setText(
            f"{', '.join(parts)}.\n\nThe attendees are on this desk now and reach the other "
            "desks with the next sync."
        )
        self._show_page(self.DONE)
        self.imported.emit(result)

    @Slot(object)
    def _on_import_failed(self, error: BaseException) -> None:
        if not self._is_current():
            return
        self.task = None
        self._show_stopped(
            "Nothing was imported", f"The import failed ({type(error).__name__}: {error})."
        )

    @Slot()
    def _on_import_cancelled(self) -> None:
        if not self._is_current():
            return
        self.task = None
        self._show_stopped("Import cancelled", "Nothing was written: the attendees are as before.")

    def _show_stopped(self, title: str, text: str) -> None:
        self.done_title.setText(title)
        self.done_title.setStyleSheet(f"color: {RED};")
        self.done_text.setText(text)
        self._show_page(self.DONE)


def open_import_wizard(parent: QWidget | None, store: Store) -> ImportWizard:
    """Open the import wizard over `parent`; it deletes itself when closed."""
    wizard = ImportWizard(store, parent)
    wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    wizard.open()
    return wizard
