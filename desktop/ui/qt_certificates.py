"""The certificates area: who is eligible and why, overrides, a preview, generate, print, verify.

Eligibility is read off the GUI thread; issuing (a short write) runs on the writer thread
and drawing the PDFs on the worker pool with progress and Cancel; printing goes through
:mod:`qt_printing` on its own thread, a few certificates per print job. The rules tab edits
the event's certificate settings; the verify tab checks a certificate's QR code (a scanner
types it into the field, or a picture is read).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QImage
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import certificatepdf, certificates, desk, pictures
from desktop.badges import PrinterSettings
from desktop.certificates import (
    CertificateBatch,
    Eligibility,
    Rules,
    Settings,
    Signatory,
    Verdict,
)
from desktop.journal import DeskContext
from desktop.models import CATEGORIES, CATEGORY_LABELS
from desktop.store import Store
from desktop.ui.qt_badges import BadgePreview, _TableModel
from desktop.ui.qt_printing import (
    PrintError,
    available_printers,
    pdf_page_image,
    print_pdf,
    print_pool,
)
from desktop.ui.qt_scancard import Look, ResultCard
from desktop.ui.qt_theme import AMBER, BLUE, GREEN, MUTED, RED, show_notice
from desktop.ui.qt_worker import CancelToken, TaskCancelled, TaskHandle, run_task, writer_pool

PREVIEW_SIZE = QSize(520, 370)
PRINTER_SETTING = "certificates.printer"
NAME_COLUMN_MAX = 280  # pixels
OUTPUT_SETTING = "certificates.output"
FILTERS = ("All", "Eligible", "Not eligible", "Overridden")
PRINT_JOB_SIZE = 10
# How a verdict shows, on this area's verify tab and on the scan station's card.
VERDICT_LOOKS: dict[str, Look] = {
    "genuine": Look(GREEN, "check", "GENUINE CERTIFICATE", "The certificate is in force."),
    "superseded": Look(AMBER, "double", "SUPERSEDED CERTIFICATE", "Ask for the newer version."),
    "revoked": Look(RED, "slash", "REVOKED CERTIFICATE", "Do not accept it."),
    "forged": Look(RED, "warning", "FORGED CERTIFICATE", "Do not accept it. Call a supervisor."),
    "wrong_event": Look(RED, "notequal", "ANOTHER EVENT'S CERTIFICATE", ""),
    "invalid": Look(RED, "question", "NOT A CERTIFICATE", "Scan the QR code on the certificate."),
}


# --- dialogs, behind functions tests can replace ------------------------------------------


def ask_reason(
    parent: QWidget, title: str, prompt: str, on_done: Callable[[str | None], None]
) -> QDialog:
    """Ask why; ``on_done`` gets the text, or None if cancelled."""
    from desktop.ui.qt_badges import ask_reason as badge_reason

    return badge_reason(parent, title, prompt, on_done)


class OverrideDialog(QDialog):
    """A supervisor's decision for one attendee: eligible, not eligible or by the rules."""

    def __init__(self, parent: QWidget, name: str, summary: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Override eligibility")
        layout = QVBoxLayout(self)
        intro = QLabel(f"{name}\nBy the rules: {summary}")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.choices = QButtonGroup(self)
        self.yes = QRadioButton("Eligible: give the certificate")
        self.no = QRadioButton("Not eligible: withhold the certificate")
        self.rules = QRadioButton("Back to the rules (withdraw the override)")
        for button in (self.yes, self.no, self.rules):
            self.choices.addButton(button)
            layout.addWidget(button)
        self.yes.setChecked(True)
        self.reason = QLineEdit(placeholderText="Reason (required), e.g. attested medical leave")
        layout.addWidget(self.reason)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def decision(self) -> bool | None:
        if self.rules.isChecked():
            return None
        return self.yes.isChecked()


def ask_override(
    parent: QWidget,
    name: str,
    summary: str,
    on_done: Callable[[tuple[bool | None, str] | None], None],
) -> QDialog:
    """Ask a supervisor for a decision and a reason; ``on_done`` gets both, or None."""
    dialog = OverrideDialog(parent, name, summary)

    def finished(code: int) -> None:
        reason = dialog.reason.text().strip()
        accepted = code == QDialog.DialogCode.Accepted and reason
        on_done((dialog.decision(), reason) if accepted else None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()
    return dialog


def choose_folder(parent: QWidget, current: str, on_done: Callable[[str | None], None]) -> None:
    """Pick the output folder; ``on_done`` gets it, or None."""
    dialog = QFileDialog(parent, "Folder for the certificates", current)
    dialog.setFileMode(QFileDialog.FileMode.Directory)
    dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)

    def finished(code: int) -> None:
        files = dialog.selectedFiles()
        on_done(files[0] if code == QDialog.DialogCode.Accepted and files else None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()


def choose_file(
    parent: QWidget, title: str, pattern: str, on_done: Callable[[str | None], None]
) -> None:
    """Pick a picture (or PDF); ``on_done`` gets its path, or None."""
    dialog = QFileDialog(parent, title, "", pattern)
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)

    def finished(code: int) -> None:
        files = dialog.selectedFiles()
        on_done(files[0] if code == QDialog.DialogCode.Accepted and files else None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()


def open_folder(path: Path) -> bool:
    """Show a folder in the system's file manager."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


# --- models ----------------------------------------------------------------------------------


class EligibilityModel(_TableModel):
    """Attendees with their standing: name, eligible, code, category, kind, serial, why.

    Eligible comes second, so it is on screen however narrow the table is.
    """

    HEADERS = ("Name", "Eligible", "Code", "Category", "Certificate", "Serial", "Why")
    ELIGIBLE = 1
    WHY = 6

    def cell(self, row: Eligibility, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            cert = row.certificate
            values = (
                row.person.name,
                ("Yes" if row.eligible else "No") + (" (override)" if row.overridden else ""),
                row.person.short_code,
                CATEGORY_LABELS.get(row.person.category, row.person.category),
                certificates.KIND_LABELS.get(row.kind or "", "—"),
                "" if cert is None else cert.serial + (" (revoked)" if cert.revoked else ""),
                row.summary,
            )
            return values[column]
        if role == Qt.ItemDataRole.ForegroundRole and column == self.ELIGIBLE:
            return QColor(GREEN if row.eligible else RED)
        if role == Qt.ItemDataRole.ToolTipRole and column == self.WHY:
            return "\n".join(row.reasons)
        return None


# --- work done off the GUI thread -----------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """What the area shows: the settings and everyone's standing."""

    event_id: str | None
    settings: Settings
    standings: list[Eligibility]
    printer: str
    output: str


def _load_job(store: Store) -> Loaded:
    with store.read() as session:
        event_id = desk.current_event_id(session)
        printer = desk.get_setting(session, PRINTER_SETTING)
        output = desk.get_setting(session, OUTPUT_SETTING) or str(
            certificates.default_output(store.data_dir)
        )
        if event_id is None:
            return Loaded(None, Settings(), [], printer, output)
        settings = certificates.load_settings(session, event_id)
        standings = certificates.eligibility(session, event_id, settings=settings)
    return Loaded(event_id, settings, standings, printer, output)


def _preview_job(store: Store, attendee_id: str, box: QSize) -> tuple[str, QImage]:
    with store.read() as session:
        event_id = desk.current_event_id(session)
        if event_id is None:
            raise certificates.CertificateError("no event is open at this desk")
        batch = certificates.preview_batch(
            session, event_id, attendee_id, store.data_dir / "layouts"
        )
    buffer = io.BytesIO()
    certificatepdf.draw(batch, buffer)
    return attendee_id, pdf_page_image(buffer.getvalue(), box)


def _issue_job(store: Store, ctx: DeskContext, ids: list[str] | None) -> CertificateBatch:
    with store.begin() as session:
        return certificates.issue(
            session, ctx, store.data_dir, ids=ids, user_layouts=store.data_dir / "layouts"
        )


@dataclass(frozen=True)
class Outcome:
    """What a generation wrote."""

    batch: CertificateBatch
    files: tuple[Path, ...]
    folder: Path
    warnings: tuple[str, ...]
    cancelled: bool


def _draw_job(
    batch: CertificateBatch,
    folder: Path,
    merged: bool,
    each: bool,
    *,
    progress: Callable[[int, int, str], None],
    cancel: CancelToken,
    stop: CancelToken,
) -> Outcome:
    """Draw the merged PDF and/or one PDF per person, reporting progress."""
    total = len(batch.records) * (int(merged) + int(each))
    done = 0
    files: list[Path] = []
    warnings: list[str] = []

    def step(what: str) -> Callable[[int, int], bool]:
        def report(count: int, _total: int) -> bool:
            progress(done + count, total, what)
            return not (cancel.cancelled or stop.cancelled)

        return report

    folder.mkdir(parents=True, exist_ok=True)
    if merged:
        target = folder / "certificates.pdf"
        partial = target.with_name(f".{target.name}.partial")
        try:
            report = certificatepdf.draw(batch, partial, progress=step("merged PDF"))
            if report.cancelled:
                return Outcome(batch, (), folder, tuple(report.warnings), True)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        files.append(target)
        warnings.extend(report.warnings)
        done += len(batch.records)
    if each:
        written, report = certificatepdf.draw_each(
            batch, folder / "each", progress=step("one PDF each")
        )
        files.extend(written)
        warnings.extend(w for w in report.warnings if w not in warnings)
        if report.cancelled:
            return Outcome(batch, tuple(files), folder, tuple(warnings), True)
    return Outcome(batch, tuple(files), folder, tuple(warnings), False)


def _override_job(
    store: Store, ctx: DeskContext, attendee_id: str, eligible: bool | None, reason: str
) -> str:
    with store.begin() as session:
        certificates.set_override(session, ctx, attendee_id, eligible, reason)
    return attendee_id


def _revoke_job(store: Store, ctx: DeskContext, serial: str, reason: str) -> str:
    with store.begin() as session:
        certificates.revoke(session, ctx, serial, reason)
    return serial


def _save_job(store: Store, ctx: DeskContext, settings: Settings) -> bool:
    with store.begin() as session:
        return certificates.save_settings(session, ctx, settings) is not None


def verify_job(store: Store, text: str) -> Verdict:
    """Check a scanned certificate code (reads only)."""
    with store.read() as session:
        event_id = desk.current_event_id(session)
        if event_id is None:
            return Verdict("invalid", ("This desk has no event open.",))
        return certificates.verify(session, event_id, text)


def _picture_job(store: Store, path: str) -> Verdict:
    from desktop import camerascan

    try:
        text = camerascan.read_picture(path)
    except camerascan.PictureError as exc:
        return Verdict("invalid", (str(exc),))
    return verify_job(store, text)


# A picture kept with the event shows as these words in its field (its value is kept aside).
_KEPT_WORDS = "picture kept · {}"
_KEPT_TIP = "Kept with the event: every desk that syncs draws this picture."


def _show_picture(field: QLineEdit, value: str) -> None:
    """Show a setting's picture: a path as it is, a kept picture in words."""
    if pictures.is_kept(value):
        words = _KEPT_WORDS.format(value.removeprefix(pictures.PREFIX)[:8])
        field.setProperty("kept", (words, value))
        field.setText(words)
        field.setToolTip(_KEPT_TIP)
    else:
        field.setProperty("kept", None)
        field.setText(value)
        field.setToolTip("")


def _picture_value(field: QLineEdit) -> str:
    """The setting's value of a picture field: the kept picture while its words are shown."""
    text = field.text().strip()
    kept = field.property("kept")
    if kept and text == kept[0]:
        return str(kept[1])
    return text


def _background_from_pdf(pdf: str, target: Path) -> str:
    """A PDF background's first page as a picture the layout engine can draw (300 dpi)."""
    data = Path(pdf).read_bytes()
    image = pdf_page_image(data, QSize(3508, 3508))
    target.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(target), "JPG", 92):
        raise OSError(f"cannot write {target}")
    return str(target)


def _print_job(
    batch: CertificateBatch,
    printer: str,
    *,
    progress: Callable[[int, int, str], None],
    cancel: CancelToken,
    stop: CancelToken,
) -> int:
    """Print the batch a few certificates per job; returns how many went to the printer."""
    if not printer:
        raise PrintError("No printer is chosen for certificates: choose one first.")
    paper = "A4" if batch.paper == "a4" else "Letter"
    match = next((p for p in available_printers() if p.name == printer), None)
    if match is not None and paper not in {key for key, _ in match.paper_sizes}:
        paper = "layout"
    settings = PrinterSettings(printer=printer, paper=paper)
    layout = certificatepdf.layout_for(batch.paper, batch.user_layouts)
    total = len(batch.records)
    sent = 0
    for start in range(0, total, PRINT_JOB_SIZE):
        if cancel.cancelled or stop.cancelled:
            raise TaskCancelled
        part = batch.part(start, start + PRINT_JOB_SIZE)
        buffer = io.BytesIO()
        certificatepdf.draw(part, buffer, layout=layout)
        print_pdf(
            buffer.getvalue(),
            settings,
            f"EventDesk certificates {start + 1}-{start + len(part.records)} of {total}",
        )
        sent += len(part.records)
        progress(sent, total, "printing")
    return sent


# --- the page --------------------------------------------------------------------------------


class CertificatesPage(QWidget):
    """Rules, eligibility with reasons and overrides, preview, generate, print, verify."""

    # Supervisors see the area (to review and override); issuing is an administrator's.
    required_action = "edit_attendance"
    loaded = Signal()
    preview_shown = Signal(str)  # attendee id
    generated = Signal(object)  # Outcome
    verified = Signal(object)  # Verdict
    printed = Signal(int)

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        self.setObjectName("certificatesPage")
        self.event_id: str | None = None
        self.settings = Settings()
        self.standings: list[Eligibility] = []
        self.selected: Eligibility | None = None
        self.allowed: frozenset[str] | None = None
        self.output = str(certificates.default_output(store.data_dir))
        self.last: Outcome | None = None
        self.handle: TaskHandle | None = None
        self.stop = CancelToken()
        self._loading = False
        self._load_again = False
        self._preview_running = False
        self._preview_wanted: str | None = None

        root = QVBoxLayout(self)
        root.setContentsMargins(22, 14, 22, 14)
        root.setSpacing(10)
        top = QHBoxLayout()
        top.addWidget(QLabel("Certificates", objectName="pageTitle"))
        top.addSpacing(18)
        self.rules_line = QLabel(objectName="rulesLine")
        self.rules_line.setWordWrap(True)
        top.addWidget(self.rules_line, 1)
        root.addLayout(top)
        self.notice = QLabel(objectName="certificateNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        root.addWidget(self.notice)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_eligibility_tab(), "Eligibility")
        self.tabs.addTab(self._build_rules_tab(), "Rules and signatories")
        self.tabs.addTab(self._build_verify_tab(), "Verify")
        root.addWidget(self.tabs, 1)
        self.setStyleSheet(
            "#rulesLine { font-size: 15px; color: " + MUTED + "; }"
            "#certificateNotice { font-size: 16px; padding: 10px 14px; border-radius: 8px; }"
            "#explanation { font-size: 15px; }"
            "#selectedName { font-size: 20px; font-weight: 600; }"
            "QPushButton#generateButton { font-size: 18px; padding: 10px 20px; font-weight: 600;"
            " background: " + BLUE + "; color: white; border: none; }"
            "QPushButton#generateButton:disabled { background: #b8c0ca; }"
        )
        self._search_timer = QTimer(self, singleShot=True, interval=150)
        self._search_timer.timeout.connect(self._apply_filter)
        # Everyone's standing is worked out when someone first looks at the area, not at
        # start-up: at 100,000 attendees that is seconds of work the desk may never need.
        self._never_loaded = True

    # --- building --------------------------------------------------------------------------

    def _build_eligibility_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(10, 10, 10, 10)
        bar = QHBoxLayout()
        self.filter_combo = QComboBox()
        self.filter_combo.addItems(FILTERS)
        self.filter_combo.currentIndexChanged.connect(self._on_filter_combo_changed)
        self.search_field = QLineEdit(placeholderText="Find a person: name or code")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.textEdited.connect(self._on_search_field_edited)
        self.count_label = QLabel()
        bar.addWidget(self.filter_combo)
        bar.addWidget(self.search_field, 1)
        bar.addWidget(self.count_label)
        layout.addLayout(bar)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.model = EligibilityModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setSectionResizeMode(
            EligibilityModel.WHY, QHeaderView.ResizeMode.Stretch
        )
        self.view.selectionModel().currentRowChanged.connect(self._on_view_row_changed)
        splitter.addWidget(self.view)
        side = QFrame(objectName="card")
        side_layout = QVBoxLayout(side)
        self.preview = BadgePreview()
        self.preview.setMinimumSize(260, 190)
        self.preview.set_message("Choose a person to see their certificate")
        side_layout.addWidget(self.preview, 2)
        self.name_label = QLabel(objectName="selectedName")
        self.name_label.setWordWrap(True)
        self.explanation = QLabel(objectName="explanation")
        self.explanation.setWordWrap(True)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        side_layout.addWidget(self.name_label)
        side_layout.addWidget(self.explanation, 1)
        row = QHBoxLayout()
        self.override_button = QPushButton("Override…")
        self.override_button.clicked.connect(self._on_override_button_clicked)
        self.revoke_button = QPushButton("Revoke certificate…")
        self.revoke_button.clicked.connect(self._on_revoke_button_clicked)
        row.addWidget(self.override_button)
        row.addWidget(self.revoke_button)
        row.addStretch(1)
        side_layout.addLayout(row)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        layout.addWidget(self._build_generate_bar())
        return page

    def _build_generate_bar(self) -> QWidget:
        bar = QFrame(objectName="card")
        grid = QGridLayout(bar)
        self.merged_box = QCheckBox("One merged PDF (for printing)")
        self.merged_box.setChecked(True)
        self.each_box = QCheckBox("One PDF per person")
        self.output_label = QLabel()
        self.output_label.setWordWrap(True)
        self.folder_button = QPushButton("Folder…")
        self.folder_button.clicked.connect(self._on_folder_button_clicked)
        self.open_button = QPushButton("Open output folder")
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        self.cancel_button.hide()
        self.generate_button = QPushButton("Generate certificates", objectName="generateButton")
        self.generate_button.clicked.connect(self._on_generate_button_clicked)
        self.printer_combo = QComboBox()
        self.printer_combo.setMinimumContentsLength(16)
        self.printer_combo.activated.connect(self._on_printer_combo_activated)
        self.print_button = QPushButton("Print")
        self.print_button.setToolTip("Print the certificates generated last, on this printer")
        self.print_button.clicked.connect(self._on_print_button_clicked)
        grid.addWidget(self.merged_box, 0, 0)
        grid.addWidget(self.each_box, 0, 1)
        grid.addWidget(self.output_label, 0, 2)
        grid.addWidget(self.folder_button, 0, 3)
        grid.addWidget(self.open_button, 0, 4)
        grid.addWidget(self.progress, 1, 0, 1, 2)
        grid.addWidget(self.cancel_button, 1, 2)
        grid.addWidget(self.printer_combo, 1, 3)
        grid.addWidget(self.print_button, 1, 4)
        grid.addWidget(self.generate_button, 0, 5, 2, 1)
        grid.setColumnStretch(2, 1)
        return bar

    def _build_rules_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        form = QFormLayout()
        self.percent_box = QCheckBox("At least")
        self.percent_spin = QSpinBox(minimum=1, maximum=100, suffix=" % of the sessions that count")
        self.day_box = QCheckBox("At least one arrival on every day of the event")
        self.sessions_box = QCheckBox("At least")
        self.sessions_spin = QSpinBox(minimum=1, maximum=200, suffix=" session(s) that count")
        percent_row = QHBoxLayout()
        percent_row.addWidget(self.percent_box)
        percent_row.addWidget(self.percent_spin)
        percent_row.addStretch(1)
        sessions_row = QHBoxLayout()
        sessions_row.addWidget(self.sessions_box)
        sessions_row.addWidget(self.sessions_spin)
        sessions_row.addStretch(1)
        form.addRow("Rules", percent_row)
        form.addRow("", self.day_box)
        form.addRow("", sessions_row)
        self.combine_combo = QComboBox()
        for key, words in certificates.COMBINES.items():
            self.combine_combo.addItem(f"Eligible when {words} hold", key)
        form.addRow("Combine", self.combine_combo)
        self.category_combos: dict[str, QComboBox] = {}
        cats = QGridLayout()
        for n, key in enumerate(CATEGORIES):
            combo = QComboBox()
            combo.addItem("No certificate", "")
            combo.addItem("Certificate of attendance", certificates.ATTENDANCE)
            combo.addItem("Certificate of appreciation", certificates.APPRECIATION)
            self.category_combos[key] = combo
            cats.addWidget(QLabel(CATEGORY_LABELS[key]), n // 2, (n % 2) * 2)
            cats.addWidget(combo, n // 2, (n % 2) * 2 + 1)
        form.addRow("Categories", cats)
        self.paper_combo = QComboBox()
        for key, words in certificates.PAPERS.items():
            self.paper_combo.addItem(words, key)
        form.addRow("Paper", self.paper_combo)
        self.partner_field = QLineEdit(placeholderText="e.g. Asian Productivity Organization")
        form.addRow("In cooperation with", self.partner_field)
        self.picture_fields: dict[str, QLineEdit] = {}
        for key, label in (
            ("logo", "Logo"),
            ("partner_logo", "Partner's logo"),
            ("background", "Background (image or PDF)"),
        ):
            form.addRow(label, self._picture_row(key))
        self.signatory_rows: list[tuple[QLineEdit, QLineEdit, QLineEdit]] = []
        for n in range(certificates.MAX_SIGNATORIES):
            name = QLineEdit(placeholderText="Name")
            title = QLineEdit(placeholderText="Title and office")
            signature = QLineEdit(placeholderText="Signature picture")
            pick = QPushButton("…")
            pick.clicked.connect(lambda _=False, f=signature: self._pick_picture(f, False))
            row = QHBoxLayout()
            row.addWidget(name, 2)
            row.addWidget(title, 3)
            row.addWidget(signature, 2)
            row.addWidget(pick)
            form.addRow(f"Signatory {n + 1}", row)
            self.signatory_rows.append((name, title, signature))
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save rules and signatories")
        self.save_button.clicked.connect(self._on_save_button_clicked)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch(1)
        return page

    def _picture_row(self, key: str) -> QHBoxLayout:
        field = QLineEdit(placeholderText="none")
        pick = QPushButton("…")
        pick.clicked.connect(lambda _=False: self._pick_picture(field, key == "background"))
        self.picture_fields[key] = field
        row = QHBoxLayout()
        row.addWidget(field, 1)
        row.addWidget(pick)
        return row

    def _build_verify_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.verify_field = QLineEdit(placeholderText="Scan or paste a certificate's QR code")
        self.verify_field.returnPressed.connect(self._on_verify_button_clicked)
        self.verify_button = QPushButton("Verify")
        self.verify_button.clicked.connect(self._on_verify_button_clicked)
        self.picture_button = QPushButton("From a picture…")
        self.picture_button.clicked.connect(self._on_picture_button_clicked)
        row.addWidget(self.verify_field, 1)
        row.addWidget(self.verify_button)
        row.addWidget(self.picture_button)
        layout.addLayout(row)
        self.verdict_card = ResultCard()
        self.verdict_card.show_ready("")
        self.verdict_card.advice.setText("Scan the QR code of a certificate to check it.")
        layout.addWidget(self.verdict_card, 1)
        self.verdict_details = QLabel(objectName="explanation")
        self.verdict_details.setWordWrap(True)
        self.verdict_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.verdict_details)
        return page

    # --- state -----------------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._never_loaded:
            # Next turn of the loop: the window's own refresh on showing an area comes first.
            QTimer.singleShot(0, self, self._first_load)

    def _first_load(self) -> None:
        if self._never_loaded:
            self.refresh()

    def refresh(self) -> None:
        """Reload the settings and everyone's standing (off the GUI thread)."""
        self._never_loaded = False
        if self._loading:
            self._load_again = True
            return
        self._loading = True
        run_task(
            _load_job,
            self.store,
            on_result=self._on_loaded,
            on_error=self._on_failed,
            on_finished=self._on_load_finished,
        )

    def _on_loaded(self, loaded: Loaded) -> None:
        self.event_id = loaded.event_id
        self.settings = loaded.settings
        self.standings = loaded.standings
        self.output = loaded.output
        self._show_settings(loaded.settings)
        self._fill_printers(loaded.printer)
        self.output_label.setText(f"Into {self.output}")
        self._apply_filter()
        self.loaded.emit()

    def _on_load_finished(self) -> None:
        self._loading = False
        if self._load_again:
            self._load_again = False
            self.refresh()

    def _fill_printers(self, current: str) -> None:
        self.printer_combo.clear()
        self.printer_combo.addItem("Choose a printer", "")
        for choice in available_printers():
            self.printer_combo.addItem(choice.name, choice.name)
        if current and self.printer_combo.findData(current) < 0:
            self.printer_combo.addItem(f"{current} — not found", current)
        self.printer_combo.setCurrentIndex(max(0, self.printer_combo.findData(current)))

    def visible_rows(self) -> list[Eligibility]:
        """The standings the filter and search keep, in the table's order."""
        which = self.filter_combo.currentText()
        words = self.search_field.text().strip().casefold()
        rows = []
        for row in self.standings:
            if which == "Eligible" and not row.eligible:
                continue
            if which == "Not eligible" and row.eligible:
                continue
            if which == "Overridden" and not row.overridden:
                continue
            if words and words not in f"{row.person.name} {row.person.short_code}".casefold():
                continue
            rows.append(row)
        return rows

    def _apply_filter(self) -> None:
        keep = self.selected.attendee_id if self.selected else None
        rows = self.visible_rows()
        self.model.set_rows(rows)
        eligible = sum(1 for r in self.standings if r.eligible)
        self.count_label.setText(
            f"{len(rows)} shown · {eligible} of {len(self.standings)} eligible"
        )
        self.view.resizeColumnsToContents()
        # A very long name is elided rather than push the Eligible column off screen.
        self.view.setColumnWidth(0, min(self.view.columnWidth(0), NAME_COLUMN_MAX))
        ids = [r.attendee_id for r in rows]
        if keep in ids:
            self.view.selectRow(ids.index(keep))
        else:
            self._show_selected(None)

    def _show_settings(self, settings: Settings) -> None:
        r = settings.rules
        self.rules_line.setText(r.describe() + ".")
        self.percent_box.setChecked(r.min_percent > 0)
        self.percent_spin.setValue(r.min_percent or 75)
        self.day_box.setChecked(r.every_day)
        self.sessions_box.setChecked(r.min_sessions > 0)
        self.sessions_spin.setValue(r.min_sessions or 1)
        self.combine_combo.setCurrentIndex(max(0, self.combine_combo.findData(r.combine)))
        for key, combo in self.category_combos.items():
            kind = ""
            if key in r.attendance_categories:
                kind = certificates.ATTENDANCE
            elif key in r.appreciation_categories:
                kind = certificates.APPRECIATION
            combo.setCurrentIndex(max(0, combo.findData(kind)))
        self.paper_combo.setCurrentIndex(max(0, self.paper_combo.findData(settings.paper)))
        self.partner_field.setText(settings.partner)
        for key, field in self.picture_fields.items():
            _show_picture(field, str(getattr(settings, key)))
        for n, (name, title, signature) in enumerate(self.signatory_rows):
            person = settings.signatories[n] if n < len(settings.signatories) else Signatory("")
            name.setText(person.name)
            title.setText(person.title)
            _show_picture(signature, person.signature)

    def edited_settings(self) -> Settings:
        """The settings as the rules tab shows them now."""
        attendance = tuple(
            k for k, c in self.category_combos.items() if c.currentData() == certificates.ATTENDANCE
        )
        appreciation = tuple(
            k
            for k, c in self.category_combos.items()
            if c.currentData() == certificates.APPRECIATION
        )
        rules = Rules(
            min_percent=self.percent_spin.value() if self.percent_box.isChecked() else 0,
            every_day=self.day_box.isChecked(),
            min_sessions=self.sessions_spin.value() if self.sessions_box.isChecked() else 0,
            combine=str(self.combine_combo.currentData()),
            attendance_categories=attendance,
            appreciation_categories=appreciation,
        )
        signatories = tuple(
            Signatory(name.text().strip(), title.text().strip(), _picture_value(signature))
            for name, title, signature in self.signatory_rows
            if name.text().strip()
        )
        return Settings(
            rules=rules,
            paper=str(self.paper_combo.currentData()),
            partner=self.partner_field.text().strip(),
            logo=_picture_value(self.picture_fields["logo"]),
            partner_logo=_picture_value(self.picture_fields["partner_logo"]),
            background=_picture_value(self.picture_fields["background"]),
            signatories=signatories,
        )

    def apply_permissions(self, allowed: frozenset[str]) -> None:
        """Enable what the signed-in role may do (the services refuse the rest anyway)."""
        self.allowed = allowed
        issuing = "issue_certificates" in allowed
        for widget in (self.generate_button, self.print_button, self.save_button):
            widget.setEnabled(issuing)
        self.revoke_button.setVisible(issuing)
        self.override_button.setVisible("edit_attendance" in allowed)

    def say(self, text: str, tone: str = "info") -> None:
        """Show a message above the tabs: info, ok, warn or error."""
        show_notice(self.notice, text, tone)

    def _context(self) -> DeskContext:
        with self.store.begin() as session:
            return desk.context(session)

    # --- selection and preview ---------------------------------------------------------------

    def _on_view_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self._show_selected(None)
            return
        self._show_selected(self.model.row_at(current.row()))

    def _show_selected(self, row: Eligibility | None) -> None:
        self.selected = row
        if row is None:
            self.name_label.setText("")
            self.explanation.setText("")
            self.override_button.setEnabled(False)
            self.revoke_button.setEnabled(False)
            return
        cert = row.certificate
        lines = list(row.reasons)
        if cert is not None:
            state = "revoked" if cert.revoked else "in force"
            lines.append(f"Certificate {cert.serial}, version {cert.version}: {state}.")
        self.name_label.setText(row.person.name)
        self.explanation.setText("\n".join(lines))
        self.override_button.setEnabled(True)
        self.revoke_button.setEnabled(cert is not None and not cert.revoked)
        self._preview_wanted = row.attendee_id
        if not self._preview_running:
            self._start_preview()

    def _start_preview(self) -> None:
        if self._preview_wanted is None:
            return
        attendee_id, self._preview_wanted = self._preview_wanted, None
        self._preview_running = True
        ratio = self.devicePixelRatioF()
        box = QSize(round(PREVIEW_SIZE.width() * ratio), round(PREVIEW_SIZE.height() * ratio))
        run_task(
            _preview_job,
            self.store,
            attendee_id,
            box,
            on_result=self._on_preview_drawn,
            on_error=self._on_preview_failed,
            on_finished=self._on_preview_finished,
        )

    def _on_preview_drawn(self, drawn: tuple[str, QImage]) -> None:
        attendee_id, image = drawn
        if self.selected is not None and self.selected.attendee_id == attendee_id:
            self.preview.set_image(image)
            self.preview_shown.emit(attendee_id)

    def _on_preview_failed(self, error: BaseException) -> None:
        self.preview.set_message(f"No preview: {error}")

    def _on_preview_finished(self) -> None:
        self._preview_running = False
        if self._preview_wanted is not None:
            self._start_preview()

    # --- generating and printing -----------------------------------------------------------------

    def generate(self, ids: list[str] | None = None) -> None:
        """Issue what the eligible have earned (writer thread), then draw the PDFs (worker)."""
        if self.handle is not None:
            return
        if not (self.merged_box.isChecked() or self.each_box.isChecked()):
            self.say("Choose a merged PDF, one PDF per person, or both.", "warn")
            return
        self.generate_button.setEnabled(False)
        self.say("Issuing the certificates…")
        run_task(
            _issue_job,
            self.store,
            self._context(),
            ids,
            pool=writer_pool(),
            on_result=self._on_issued,
            on_error=self._on_generate_failed,
        )

    def _on_issued(self, batch: CertificateBatch) -> None:
        self.stop = CancelToken()
        total = len(batch.records) * (
            int(self.merged_box.isChecked()) + int(self.each_box.isChecked())
        )
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        new = f"{batch.issued} newly issued, {batch.reissued} reissued"
        self.say(f"Drawing {len(batch.records)} certificate(s) ({new})…")
        self.handle = run_task(
            _draw_job,
            batch,
            Path(self.output),
            self.merged_box.isChecked(),
            self.each_box.isChecked(),
            stop=self.stop,
            on_progress=self._on_progress,
            on_result=self._on_drawn,
            on_error=self._on_generate_failed,
            on_cancelled=self._on_draw_cancelled,
            on_finished=self._on_job_finished,
        )
        self.refresh()

    def _on_progress(self, done: int, total: int, _what: str) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _on_drawn(self, outcome: Outcome) -> None:
        self.last = outcome
        count = len(outcome.batch.records)
        if outcome.cancelled:
            self.say(f"Cancelled: {len(outcome.files)} file(s) were written.", "warn")
        else:
            extra = f" ({'; '.join(outcome.warnings[:2])})" if outcome.warnings else ""
            self.say(f"{count} certificate(s) written to {outcome.folder}.{extra}", "ok")
        self.generated.emit(outcome)

    def _on_draw_cancelled(self) -> None:
        self.say("Cancelled.", "warn")

    def _on_generate_failed(self, error: BaseException) -> None:
        self.say(str(error), "error")
        self.generate_button.setEnabled(
            self.allowed is None or "issue_certificates" in self.allowed
        )

    def _on_job_finished(self) -> None:
        self.handle = None
        self.progress.hide()
        self.cancel_button.hide()
        self.generate_button.setEnabled(
            self.allowed is None or "issue_certificates" in self.allowed
        )

    def print_last(self) -> None:
        """Print the certificates generated last on the chosen printer."""
        if self.last is None:
            self.say("Generate the certificates first, then print them.", "warn")
            return
        printer = str(self.printer_combo.currentData() or "")
        if not printer:
            self.say("Choose a printer for the certificates first.", "error")
            return
        self.stop = CancelToken()
        self.progress.setRange(0, len(self.last.batch.records))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.handle = run_task(
            _print_job,
            self.last.batch,
            printer,
            stop=self.stop,
            pool=print_pool(),
            on_progress=self._on_progress,
            on_result=self._on_printed,
            on_error=self._on_generate_failed,
            on_cancelled=self._on_draw_cancelled,
            on_finished=self._on_job_finished,
        )

    def _on_printed(self, count: int) -> None:
        self.say(f"{count} certificate(s) sent to the printer.", "ok")
        self.printed.emit(count)

    # --- slots -----------------------------------------------------------------------------

    def _on_filter_combo_changed(self, _index: int) -> None:
        self._apply_filter()

    def _on_search_field_edited(self, _text: str) -> None:
        self._search_timer.start()

    def _on_generate_button_clicked(self) -> None:
        self.generate()

    def _on_cancel_button_clicked(self) -> None:
        self.stop.cancel()
        self.cancel_button.setEnabled(False)

    def _on_print_button_clicked(self) -> None:
        self.print_last()

    def _on_printer_combo_activated(self, _index: int) -> None:
        with self.store.begin() as session:
            desk.set_setting(session, PRINTER_SETTING, str(self.printer_combo.currentData() or ""))

    def _on_folder_button_clicked(self) -> None:
        def done(folder: str | None) -> None:
            if folder:
                self.output = folder
                with self.store.begin() as session:
                    desk.set_setting(session, OUTPUT_SETTING, folder)
                self.output_label.setText(f"Into {folder}")

        choose_folder(self, self.output, done)

    def _on_open_button_clicked(self) -> None:
        folder = Path(self.output)
        folder.mkdir(parents=True, exist_ok=True)
        if not open_folder(folder):
            self.say(f"The folder could not be opened here: {folder}", "warn")

    def _on_override_button_clicked(self) -> None:
        row = self.selected
        if row is None:
            return

        def done(answer: tuple[bool | None, str] | None) -> None:
            if answer is None:
                return
            eligible, reason = answer
            run_task(
                _override_job,
                self.store,
                self._context(),
                row.attendee_id,
                eligible,
                reason,
                pool=writer_pool(),
                on_result=self._on_changed,
                on_error=self._on_failed,
            )

        ask_override(self, row.person.name, row.summary, done)

    def _on_revoke_button_clicked(self) -> None:
        row = self.selected
        if row is None or row.certificate is None:
            return
        serial = row.certificate.serial

        def done(reason: str | None) -> None:
            if reason:
                run_task(
                    _revoke_job,
                    self.store,
                    self._context(),
                    serial,
                    reason,
                    pool=writer_pool(),
                    on_result=self._on_changed,
                    on_error=self._on_failed,
                )

        ask_reason(
            self,
            "Revoke certificate",
            f"Certificate {serial} of {row.person.name} will read as revoked wherever it is "
            "checked.\nWhy is it revoked?",
            done,
        )

    def _on_changed(self, _what: str) -> None:
        self.say("Saved.", "ok")
        self.refresh()

    def _on_failed(self, error: BaseException) -> None:
        self.say(str(error), "error")

    def _on_save_button_clicked(self) -> None:
        try:
            settings = self.edited_settings()
            certificates.check_settings(settings)
        except certificates.CertificateError as exc:
            self.say(str(exc), "error")
            return
        run_task(
            _save_job,
            self.store,
            self._context(),
            settings,
            pool=writer_pool(),
            on_result=self._on_settings_saved,
            on_error=self._on_failed,
        )

    def _on_settings_saved(self, changed: bool) -> None:
        self.say("The rules and signatories are saved." if changed else "Nothing changed.", "ok")
        self.refresh()

    def _pick_picture(self, field: QLineEdit, pdf_too: bool) -> None:
        pattern = "Pictures (*.png *.jpg *.jpeg)" + (";;PDF (*.pdf)" if pdf_too else "")

        def done(path: str | None) -> None:
            if not path:
                return
            if path.lower().endswith(".pdf"):
                # The layout engine draws pictures: the PDF's first page becomes one, once.
                target = (
                    self.store.data_dir / "certificates" / "assets" / (Path(path).stem + ".jpg")
                )
                try:
                    path = _background_from_pdf(path, target)
                except (OSError, PrintError) as exc:
                    self.say(f"That PDF cannot be used: {exc}", "error")
                    return
            field.setText(path)

        choose_file(self, "Choose a picture", pattern, done)

    def verify(self, text: str) -> None:
        """Check a certificate code and show the verdict."""
        run_task(
            verify_job, self.store, text, on_result=self._on_verified, on_error=self._on_failed
        )

    def _on_verify_button_clicked(self) -> None:
        text = self.verify_field.text()
        self.verify_field.clear()
        if text.strip():
            self.verify(text)

    def _on_picture_button_clicked(self) -> None:
        def done(path: str | None) -> None:
            if path:
                run_task(
                    _picture_job,
                    self.store,
                    path,
                    on_result=self._on_verified,
                    on_error=self._on_failed,
                )

        choose_file(self, "A picture of the certificate", "Pictures (*.png *.jpg *.jpeg)", done)

    def _on_verified(self, verdict: Verdict) -> None:
        show_verdict(self.verdict_card, verdict)
        self.verdict_details.setText("\n".join(verdict.details))
        self.verified.emit(verdict)


def show_verdict(card: ResultCard, verdict: Verdict, subline: str = "Certificate check") -> None:
    """Show a certificate verdict on a result card (this area's, or the scan station's)."""
    look = VERDICT_LOOKS.get(verdict.status, VERDICT_LOOKS["invalid"])
    where = ""
    if verdict.serial:
        kind = certificates.KIND_LABELS.get(verdict.kind or "", "")
        where = f"{verdict.serial} · version {verdict.version} · {kind}".rstrip(" ·")
    card.show_message(
        look,
        subline=subline,
        big=verdict.name or verdict.headline,
        where=where,
        detail=verdict.details[0] if verdict.details else "",
        advice=look.advice,
    )
    # The whole story (who revoked it and why, which version replaced it) in the tooltip.
    card.setToolTip("\n".join(verdict.details))
