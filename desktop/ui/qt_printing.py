"""Printing badge PDFs on a real printer: QtPdf renders each page onto a QPrinter.

Pages are rendered as images at the printer's own resolution (what label and card printers
want, and crisp on office printers), composited on white and painted at their true size, so
a QR code keeps its module size. Printing is silent: the printer, its paper and resolution
are chosen once (:class:`desktop.badges.PrinterSettings`), never in a print dialog.

Everything here may run on a worker thread: Qt supports QPainter on a QPrinter and QtPdf
rendering off the GUI thread as long as the objects are created and used in that thread,
which is how :func:`print_pdf` works. Jobs run one at a time on :func:`print_pool`, never on
the GUI or the database writer thread, so a slow or stuck printer blocks no check-in.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QMarginsF,
    QRectF,
    QSize,
    QSizeF,
    QThreadPool,
)
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from desktop import badges, desk
from desktop.badges import BadgeFilter, PrinterSettings
from desktop.journal import DeskContext
from desktop.layout import load_layout
from desktop.store import Store
from desktop.ui.qt_worker import CancelToken, serial_pool

MM_PER_POINT = 25.4 / 72.0
# Resolutions tried when a printer lists none, and the highest worth rendering at: beyond
# 600 dpi a badge gains nothing visible and each page image grows fourfold.
FALLBACK_DPI = 300
MAX_AUTO_DPI = 600


class PrintError(Exception):
    """A print that did not reach the printer; the message says what to check."""


@dataclass(frozen=True)
class PrinterChoice:
    """A printer as the settings dialog lists it."""

    name: str
    description: str
    location: str
    is_default: bool
    ready: bool
    paper_sizes: tuple[tuple[str, str], ...]  # (key, human name)
    resolutions: tuple[int, ...]


@dataclass(frozen=True)
class PrintResult:
    """What :func:`print_pdf` handed to the printer."""

    printer: str
    pages: int
    dpi: int
    paper: str
    scaled: bool
    seconds: float


def available_printers() -> list[PrinterChoice]:
    """The printers this computer knows, the default one first."""
    default = QPrinterInfo.defaultPrinterName()
    found: list[PrinterChoice] = []
    for info in QPrinterInfo.availablePrinters():
        found.append(
            PrinterChoice(
                name=info.printerName(),
                description=info.description() or info.makeAndModel() or info.printerName(),
                location=info.location(),
                is_default=info.printerName() == default,
                ready=info.state() != QPrinter.PrinterState.Error,
                paper_sizes=tuple((p.key(), p.name()) for p in info.supportedPageSizes()),
                resolutions=tuple(sorted(set(info.supportedResolutions()))),
            )
        )
    found.sort(key=lambda p: (not p.is_default, p.name.lower()))
    return found


def choose_dpi(supported: list[int] | tuple[int, ...], wanted: int = 0) -> int:
    """The resolution to render at: ``wanted`` if given, else the printer's best up to 600."""
    if wanted > 0:
        return wanted
    usable = sorted(d for d in supported if d >= 100)
    if not usable:
        return FALLBACK_DPI
    below = [d for d in usable if d <= MAX_AUTO_DPI]
    return below[-1] if below else usable[0]


def describe_settings(settings: PrinterSettings) -> str:
    """'Zebra ZD421 · badge-size paper · 203 dpi' for the badges area."""
    if not settings.printer:
        return "No badge printer chosen"
    paper = "badge-size paper" if settings.paper == "layout" else f"{settings.paper} paper"
    dpi = f"{settings.dpi} dpi" if settings.dpi else "printer's resolution"
    return f"{settings.printer} · {paper} · {dpi}"


@cache
def _libcups() -> ctypes.CDLL | None:
    """libcups when this system prints through CUPS (Linux, macOS); None elsewhere."""
    name = ctypes.util.find_library("cups")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        lib.cupsLastError.restype = ctypes.c_int
        lib.cupsLastErrorString.restype = ctypes.c_char_p
    except (OSError, AttributeError):
        return None
    return lib


def _cups_refusal() -> str | None:
    """Why CUPS refused the job this thread just sent, or None if it took it.

    Qt hands the job to CUPS in ``QPainter.end()`` and ignores CUPS's answer, so a queue
    that rejects jobs (or a CUPS server that is down) would look like a success. CUPS keeps
    the status of the last request per thread: read it right after ``end()``.
    """
    lib = _libcups()
    if lib is None:
        return None
    status = int(lib.cupsLastError())
    # IPP status codes below 0x0100 are successes (0x0000 ok, 0x0001-0x0007 ok with notes).
    if status < 0x0100:
        return None
    text = lib.cupsLastErrorString()
    return text.decode("utf-8", "replace") if text else f"IPP status 0x{status:04x}"


def _printer_info(name: str) -> QPrinterInfo:
    if not name:
        raise PrintError("No badge printer is chosen at this desk: choose one in Printer settings.")
    info = QPrinterInfo.printerInfo(name)
    if info.isNull():
        # Never fall back to another printer: a badge on the office laser is a lost badge.
        raise PrintError(
            f"The printer “{name}” is not available on this computer: check that it is "
            "plugged in and switched on, or choose another in Printer settings."
        )
    if info.state() == QPrinter.PrinterState.Error:
        raise PrintError(
            f"The printer “{name}” reports a problem (stopped, out of labels or offline): "
            "check it, then press Retry."
        )
    return info


def _page_size(
    settings: PrinterSettings, info: QPrinterInfo, page_mm: QSizeF
) -> tuple[QPageSize, str]:
    if settings.paper == "layout":
        size = QPageSize(
            page_mm, QPageSize.Unit.Millimeter, "Badge", QPageSize.SizeMatchPolicy.ExactMatch
        )
        return size, f"{page_mm.width():.0f} × {page_mm.height():.0f} mm"
    for candidate in info.supportedPageSizes():
        if settings.paper in (candidate.key(), candidate.name()):
            return candidate, candidate.name()
    raise PrintError(
        f"The printer “{info.printerName()}” has no “{settings.paper}” paper: "
        "choose another paper in Printer settings."
    )


def _load(pdf: bytes) -> tuple[QPdfDocument, QBuffer]:
    document = QPdfDocument(None)
    buffer = QBuffer()
    buffer.setData(QByteArray(pdf))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document.load(buffer)
    if document.status() != QPdfDocument.Status.Ready or document.pageCount() < 1:
        raise PrintError(f"The badge PDF could not be read for printing ({document.error().name})")
    return document, buffer


def pdf_page_image(pdf: bytes, box: QSize, page: int = 0) -> QImage:
    """One page of a PDF as an image fitting ``box`` (keeping its proportions), on white."""
    document, _buffer = _load(pdf)
    size = document.pagePointSize(page)
    scale = min(box.width() / size.width(), box.height() / size.height())
    pixels = QSize(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)))
    image = _page_image(document, page, pixels)
    document.close()
    return image


def _page_image(document: QPdfDocument, page: int, pixels: QSize) -> QImage:
    """One page at ``pixels``, on white: QtPdf leaves the paper transparent."""
    rendered = document.render(page, pixels)
    image = QImage(pixels, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.drawImage(0, 0, rendered)
    painter.end()
    return image


def print_pdf(
    pdf: bytes,
    settings: PrinterSettings,
    job_name: str,
    *,
    on_page: Callable[[int, int], None] | None = None,
) -> PrintResult:
    """Print every page of ``pdf`` on the configured printer, silently; one print job.

    Raises :class:`PrintError` (printer missing, stopped, refusing jobs, wrong paper). A job
    cannot be stopped half way: Qt's print engines hand whatever was painted to the printer
    (``QPrinter.abort()`` does nothing there), so batches are cut into small jobs instead.
    """
    start = time.perf_counter()
    if not isinstance(QCoreApplication.instance(), QGuiApplication):
        # Qt aborts the whole process when a QPrinter is made without one.
        raise RuntimeError("printing needs a QGuiApplication (or QApplication) first")
    info = _printer_info(settings.printer)
    document, _buffer = _load(pdf)
    first = document.pagePointSize(0)
    page_mm = QSizeF(first.width() * MM_PER_POINT, first.height() * MM_PER_POINT)
    printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
    dpi = choose_dpi(info.supportedResolutions(), settings.dpi)
    printer.setResolution(dpi)
    size, paper_name = _page_size(settings, info, page_mm)
    paper_mm = size.size(QPageSize.Unit.Millimeter)
    landscape_badge = page_mm.width() > page_mm.height()
    orientation = (
        QPageLayout.Orientation.Landscape
        if settings.paper != "layout" and landscape_badge != (paper_mm.width() > paper_mm.height())
        else QPageLayout.Orientation.Portrait
    )
    printer.setPageLayout(QPageLayout(size, orientation, QMarginsF(0, 0, 0, 0)))
    printer.setFullPage(True)
    printer.setDocName(job_name)
    printer.setCreator("EventDesk")
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintError(f"The printer “{settings.printer}” could not start a print job.")
    pages = document.pageCount()
    scaled = False
    try:
        paper = printer.paperRect(QPrinter.Unit.DevicePixel)
        for index in range(pages):
            if index > 0 and not printer.newPage():
                raise PrintError(f"The printer “{settings.printer}” refused another page.")
            point_size = document.pagePointSize(index)
            width = point_size.width() / 72.0 * dpi
            height = point_size.height() / 72.0 * dpi
            # True size, centred; only a badge larger than the paper is shrunk to fit.
            factor = min(1.0, paper.width() / width, paper.height() / height)
            scaled = scaled or factor < 0.999
            target = QRectF(0, 0, width * factor, height * factor)
            target.moveCenter(paper.center())
            pixels = QSize(max(1, round(target.width())), max(1, round(target.height())))
            painter.drawImage(target, _page_image(document, index, pixels))
            if on_page is not None:
                on_page(index + 1, pages)
    except BaseException:
        printer.abort()  # honoured by the engines that can (not CUPS, see above)
        if painter.isActive():
            painter.end()
        raise
    if not painter.end():
        raise PrintError(f"The printer “{settings.printer}” did not accept the job.")
    refusal = _cups_refusal()
    if refusal is not None:
        raise PrintError(f"The printer “{settings.printer}” refused the job: {refusal}.")
    document.close()
    return PrintResult(
        printer=settings.printer,
        pages=pages,
        dpi=dpi,
        paper=paper_name,
        scaled=scaled,
        seconds=time.perf_counter() - start,
    )


def print_pool() -> QThreadPool:
    """The single-thread pool print jobs run on: in order, off the GUI and writer threads."""
    return serial_pool("printer")


# --- badge print jobs -----------------------------------------------------------------------

# Badges per print job in a batch: Cancel takes effect after the job being sent (a few
# seconds), a failure leaves at most one job to retry, and the printer starts on the first
# badges while later ones are still being drawn.
BATCH_JOB_SIZE = 12


@dataclass(frozen=True)
class BadgeJob:
    """Badges to print: whose, on which layout, who asked (``ctx``, taken when the print
    button was pressed), why (a reprint), and the retry-queue entry it retries."""

    attendee_ids: tuple[str, ...]
    layout: str
    ctx: DeskContext
    reason: str = ""
    retry_of: str | None = None


@dataclass(frozen=True)
class JobOutcome:
    """What became of a :class:`BadgeJob`: who was printed, who was not, and why."""

    job: BadgeJob
    printed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    names: dict[str, str] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)  # the badge sequence on each badge
    error: str = ""
    retryable: bool = False  # a printer problem: the rest waits in the retry queue
    cancelled: bool = False
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error and not self.cancelled and not self.failed


def _job_name(batch: badges.BadgeBatch, start: int, stop: int, total: int) -> str:
    if total == 1:
        record = batch.records[0]
        return f"EventDesk badge {record['short_code']} {record['badge_name']}".strip()
    return f"EventDesk badges {start + 1}-{stop} of {total}"


def run_badge_job(
    store: Store,
    job: BadgeJob,
    settings: PrinterSettings,
    *,
    progress: Callable[[int, int, str], None] | None = None,
    stop: CancelToken | None = None,
    cancel: CancelToken | None = None,
    job_size: int = BATCH_JOB_SIZE,
) -> JobOutcome:
    """Draw and print a job's badges, a few per print job; never raises for a printer problem.

    Runs on :func:`print_pool`. Reads the attendees (and signs their tokens) in one short
    transaction; records nothing: the caller records the printed badges on the writer.
    ``stop`` is the Cancel button's; ``cancel`` is the task's own (set when the app closes).
    """
    start_time = time.perf_counter()

    def is_cancelled() -> bool:
        return any(t is not None and t.cancelled for t in (stop, cancel))

    try:
        with store.begin() as session:
            event_id = desk.current_event_id(session)
            if event_id is None:
                raise badges.BadgeError("no event is open at this desk")
            batch = badges.prepare(
                session,
                store.data_dir,
                event_id,
                job.layout,
                BadgeFilter(ids=job.attendee_ids),
            )
        layout = load_layout(job.layout, batch.user_layouts)
    except Exception as exc:  # a missing layout or key: nothing was printed, say why
        return JobOutcome(
            job, failed=job.attendee_ids, error=str(exc), seconds=time.perf_counter() - start_time
        )
    names = dict(zip(batch.attendee_ids, batch.names(), strict=True))
    total = len(batch.records)
    skipped = len(set(job.attendee_ids) - set(names))
    size = layout.per_page * max(1, job_size // layout.per_page)
    printed: list[str] = []
    warnings: list[str] = []
    if skipped:
        warnings.append(f"{skipped} badge(s) left out: registration cancelled or not found")
    error = ""
    retryable = False
    was_cancelled = False
    for first in range(0, total, size):
        part = batch.part(first, first + size)
        if is_cancelled():
            was_cancelled = True
            break
        buffer = io.BytesIO()
        report = badges.draw(part, buffer, layout=layout)
        warnings.extend(w for w in report.warnings if w not in warnings)

        def on_page(
            done: int, pages: int, first: int = first, count: int = len(part.records)
        ) -> None:
            if progress is not None:
                progress(first + min(count, done * layout.per_page), total, "printing")

        try:
            print_pdf(
                buffer.getvalue(),
                settings,
                _job_name(part, first, first + len(part.records), total),
                on_page=on_page,
            )
        except PrintError as exc:
            error, retryable = str(exc), True
            break
        printed.extend(part.attendee_ids)
    done = set(printed)
    return JobOutcome(
        job,
        printed=tuple(printed),
        failed=tuple(i for i in batch.attendee_ids if i not in done),
        names=names,
        seqs=batch.seqs(),
        error=error,
        retryable=retryable,
        cancelled=was_cancelled,
        warnings=tuple(warnings),
        seconds=time.perf_counter() - start_time,
    )
