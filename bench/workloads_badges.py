"""Badge workloads: badges per second into one PDF, and print to spooled on a real CUPS queue.

The print workload (and the CUPS printing tests) use :class:`CupsPdfQueue`: a CUPS queue
whose printer is Debian's cups-pdf, writing each job as a PDF into a folder of our choice.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from eventdesk_bench.metrics import Metric, median, percentile
from eventdesk_bench.synthetic import SyntheticEvent

from desktop import badges, desk
from desktop.badges import BadgeFilter

BADGE_COUNT = 1000
PRINT_JOBS = 30
QUEUE_NAME = "EventDeskTestPDF"
CUPS_CONFIG = Path("/etc/cups")


class CupsError(RuntimeError):
    """The CUPS test printer could not be set up; the message says what is missing."""


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=check)


class CupsPdfQueue:
    """A CUPS queue printing to PDF files in ``out_dir``, removed again on exit.

    Starts ``cupsd`` when no scheduler is running, and stops only the one it started.
    The queue has its own cups-pdf configuration file, so the system's stays untouched.
    """

    def __init__(self, out_dir: Path, name: str = QUEUE_NAME) -> None:
        self.out_dir = out_dir
        self.name = name
        self.config = CUPS_CONFIG / f"cups-pdf-{name}.conf"
        self.cupsd: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> CupsPdfQueue:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    @staticmethod
    def scheduler_running() -> bool:
        found = shutil.which("lpstat")
        if found is None:
            return False
        return "is running" in _run(found, "-r", check=False).stdout

    def start(self) -> None:
        """Start cupsd if needed and create the queue."""
        missing = [t for t in ("cupsd", "lpadmin", "lpstat", "lpinfo") if not shutil.which(t)]
        if missing or not Path("/usr/lib/cups/backend/cups-pdf").exists():
            raise CupsError(
                "CUPS with cups-pdf is needed (missing: "
                f"{', '.join(missing) or 'the cups-pdf backend'}); run `make system-deps`"
            )
        if not self.scheduler_running():
            cupsd = shutil.which("cupsd")
            assert cupsd is not None
            self.cupsd = subprocess.Popen(
                [cupsd, "-f"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            self._wait(self.scheduler_running, 20, "cupsd did not start")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.out_dir, 0o777)  # cups-pdf hands the files to the job's owner
        self.config.write_text(
            f"Out {self.out_dir}\nAnonDirName {self.out_dir}\nLabel 1\n", encoding="utf-8"
        )
        _run(
            "lpadmin",
            "-p",
            self.name,
            "-E",
            "-v",
            f"cups-pdf:/{self.name}",
            "-m",
            self._ppd(),
            "-o",
            "printer-error-policy=abort-job",
        )
        self._wait(self._ready, 20, f"the CUPS queue {self.name} did not become ready")

    def _ready(self) -> bool:
        result = _run("lpstat", "-p", self.name, check=False)
        return result.returncode == 0 and "enabled" in result.stdout

    @staticmethod
    def _ppd() -> str:
        listing = _run("lpinfo", "-m").stdout.splitlines()
        for wanted in ("CUPS-PDF_opt.ppd", "CUPS-PDF_noopt.ppd", "CUPS-PDF.ppd"):
            for line in listing:
                if line.split(" ", 1)[0].endswith(wanted):
                    return line.split(" ", 1)[0]
        raise CupsError("no cups-pdf driver found by `lpinfo -m`; install printer-driver-cups-pdf")

    @staticmethod
    def _wait(condition: object, seconds: float, message: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if callable(condition) and condition():
                return
            time.sleep(0.1)
        raise CupsError(message)

    def pdfs(self) -> set[Path]:
        """The PDFs written so far."""
        return set(self.out_dir.glob("*.pdf"))

    def wait_for_pdf(self, known: set[Path], title_has: str = "", timeout: float = 60.0) -> Path:
        """The next finished PDF not in ``known`` whose title (the job's name) has ``title_has``.

        cups-pdf writes it in the background, once CUPS has run the job.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in sorted(self.pdfs() - known):
                if self._complete(path) and title_has in pdf_title(path):
                    return path
            time.sleep(0.1)
        raise CupsError(f"no PDF titled {title_has!r} came out of {self.name} in {timeout:.0f} s")

    @staticmethod
    def _complete(path: Path) -> bool:
        try:
            data = path.read_bytes()
        except OSError:
            return False
        return len(data) > 100 and b"%%EOF" in data[-1024:]

    def drain(self, timeout: float = 120.0) -> None:
        """Wait until the queue has no job left."""
        self._wait(
            lambda: not _run("lpstat", "-o", self.name, check=False).stdout.strip(),
            timeout,
            f"jobs are still waiting in {self.name}",
        )

    def _other_test_queues(self) -> list[str]:
        names = _run("lpstat", "-e", check=False).stdout.split()
        return [n for n in names if n.startswith(QUEUE_NAME) and n != self.name]

    def reject(self, reason: str = "out of labels") -> None:
        """Make the queue refuse new jobs (a printer that fails)."""
        _run("cupsreject", "-r", reason, self.name)

    def accept(self) -> None:
        """Make the queue take jobs again."""
        _run("cupsaccept", self.name)

    def stop(self) -> None:
        """Remove the queue and its configuration; stop cupsd if it was started here.

        A cupsd started here is left running while another run's test queue is still on
        it (two test runs at once on one machine): stopping it would break that run.
        """
        try:
            _run("lpadmin", "-x", self.name, check=False)
            self.config.unlink(missing_ok=True)
            if self.cupsd is not None and self._other_test_queues():
                self.cupsd = None
        finally:
            if self.cupsd is not None:
                self.cupsd.terminate()
                try:
                    self.cupsd.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.cupsd.kill()
                    self.cupsd.wait(timeout=20)
                self.cupsd = None


def pdf_title(path: Path) -> str:
    """The document title cups-pdf gave a PDF: the print job's name.

    cups-pdf writes the job name's UTF-8 bytes as they are (in parentheses), so they are
    read back as bytes rather than as PDF text.
    """
    import pypdf

    try:
        info = pypdf.PdfReader(path).trailer.get("/Info")
        title = info.get_object().get("/Title") if info is not None else None
    except (pypdf.errors.PyPdfError, OSError, ValueError):
        return ""
    if title is None:
        return ""
    raw = getattr(title, "original_bytes", None)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(title)
    return text.strip().removeprefix("(").removesuffix(")")


# --- badges per second -----------------------------------------------------------------------


def badges_to_pdf(event: SyntheticEvent) -> list[Metric]:
    """1,000 A6 badges into one PDF, against bare reportlab drawing the same text and a QR."""
    ids = tuple(event.attendee_ids[:BADGE_COUNT])
    store = event.open()
    try:
        start = time.perf_counter()
        with store.begin() as session:
            batch = badges.prepare(
                session, store.data_dir, event.event_id, "a6", BadgeFilter(ids=ids)
            )
        out = io.BytesIO()
        report = badges.draw(batch, out)
        ours = time.perf_counter() - start
    finally:
        store.close()
    if report.documents != len(ids):
        raise RuntimeError(f"drew {report.documents} badges of {len(ids)}")
    bare = _bare_reportlab(list(batch.records))
    return [
        Metric(
            "badges_per_second_a6",
            len(ids) / ours,
            "/s",
            baseline=len(ids) / bare,
            target=">= 100 badges/s",
        )
    ]


def _bare_reportlab(records: list[dict[str, str]]) -> float:
    """Seconds for reportlab alone: the same text in one font and one pre-rendered QR image."""
    import qrcode
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    from desktop.paths import resources_dir

    mm = 72 / 25.4
    if "BenchNoto" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("BenchNoto", resources_dir() / "fonts/NotoSans-Regular.ttf"))
    picture = io.BytesIO()
    qrcode.make(records[0]["token"], box_size=4, border=4).save(picture)
    picture.seek(0)
    qr = ImageReader(picture)
    start = time.perf_counter()
    canvas = Canvas(io.BytesIO(), pagesize=(105 * mm, 148 * mm), pageCompression=1)
    for record in records:
        canvas.setFont("BenchNoto", 30)
        canvas.drawCentredString(52.5 * mm, 100 * mm, record["badge_name"])
        canvas.setFont("BenchNoto", 12)
        canvas.drawCentredString(52.5 * mm, 80 * mm, record["organisation"])
        canvas.drawCentredString(52.5 * mm, 72 * mm, record["country_name"])
        canvas.drawCentredString(52.5 * mm, 8 * mm, record["category"])
        canvas.drawImage(qr, 33.5 * mm, 16 * mm, 38 * mm, 38 * mm)
        canvas.showPage()
    canvas.save()
    return time.perf_counter() - start


# --- print to spooled ------------------------------------------------------------------------


def print_to_spooled(event: SyntheticEvent, jobs: int = PRINT_JOBS) -> list[Metric]:
    """One-badge jobs to a cups-pdf queue: "print" to the job handed to CUPS (p95, median)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from desktop.ui.qt_printing import BadgeJob, run_badge_job

    QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="eventdesk-bench-print-"))
    store = event.open()
    timings: list[float] = []
    try:
        with CupsPdfQueue(folder / "out") as queue:
            settings = badges.PrinterSettings(printer=queue.name)
            with store.begin() as session:
                ctx = desk.context(session)
            for attendee_id in event.attendee_ids[:jobs]:
                job = BadgeJob((attendee_id,), "a6", ctx)
                start = time.perf_counter()
                outcome = run_badge_job(store, job, settings)
                timings.append(time.perf_counter() - start)
                if not outcome.ok:
                    raise RuntimeError(f"a bench print failed: {outcome.error}")
            queue.drain()
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    return [
        Metric("print_to_spooled_p95", percentile(timings, 95) * 1000, "ms", target="< 1000 ms"),
        Metric("print_to_spooled_median", median(timings) * 1000, "ms", target="< 1000 ms"),
    ]
