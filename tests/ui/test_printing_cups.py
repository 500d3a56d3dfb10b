"""Printing badges through a real CUPS queue whose printer (cups-pdf) writes PDF files.

The badge goes the way a desk prints it: QtPdf renders each page at the printer's
resolution onto a QPrinter, on the print thread; CUPS runs the job through its filters and
cups-pdf writes what a printer would have received. The page is printed as an image (what
label printers want), so the attendee is found in the PDF that comes out three ways: the
job name CUPS carries into its title, the QR code decoded at 203 dpi and verified, and the
page compared with the badge as drawn.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from conftest_layout_helpers import decode_qr, ink_bounds, mm_to_px, pdf_to_pngs
from eventdesk_bench.workloads_badges import QUEUE_NAME, CupsPdfQueue, pdf_title
from PIL import Image, ImageChops, ImageStat
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop import badges, desk, registry
from desktop.badges import BadgeFilter, PrinterSettings
from desktop.demo import DEMO_EVENT_ID
from desktop.models import Event
from desktop.store import Store
from desktop.tokens import TokenCheck, verify_token
from desktop.ui.qt_badges import BadgesPage
from desktop.ui.qt_printing import (
    BadgeJob,
    JobOutcome,
    available_printers,
    print_pdf,
    print_pool,
    run_badge_job,
)
from desktop.ui.qt_worker import CancelToken, active_tasks, run_task

A6_POINTS = (297.6, 419.5)


@pytest.fixture(scope="session")
def cups_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CupsPdfQueue]:
    """The test printer: started once (with cupsd if none runs), removed at the end."""
    # Named per process, so two test runs on one machine do not share (or remove) a queue.
    name = f"{QUEUE_NAME}-{os.getpid()}"
    with CupsPdfQueue(tmp_path_factory.mktemp("cups-pdf") / "out", name) as queue:
        yield queue


@pytest.fixture
def queue(cups_queue: CupsPdfQueue) -> Iterator[CupsPdfQueue]:
    """The test printer, accepting jobs, with every job of the test finished afterwards."""
    cups_queue.accept()
    yield cups_queue
    cups_queue.accept()
    cups_queue.drain()


@pytest.fixture
def demo(demo: Store, cups_queue: CupsPdfQueue) -> Store:
    """The shared demo store (conftest), set up for this module."""
    with demo.begin() as session:
        badges.save_printer_settings(session, PrinterSettings(printer=cups_queue.name))
    return demo


def _person(store: Store, code: str) -> registry.AttendeeInfo:
    with store.begin() as session:
        info = registry.get(session, DEMO_EVENT_ID, code)
    assert info is not None
    return info


def _job(store: Store, *codes: str, layout: str = "a6", reason: str = "") -> BadgeJob:
    with store.begin() as session:
        ctx = desk.context(session)
    return BadgeJob(tuple(_person(store, c).id for c in codes), layout, ctx, reason)


def _gray(png: Path, size: tuple[int, int] | None = None) -> Image.Image:
    with Image.open(png) as image:
        gray = image.convert("L")
    return gray.resize(size) if size else gray


def _difference(a: Image.Image, b: Image.Image) -> float:
    return float(ImageStat.Stat(ImageChops.difference(a, b)).mean[0])


def _drawn(store: Store, code: str, folder: Path) -> Path:
    pdf = folder / f"drawn-{code}.pdf"
    with store.begin() as session:
        badges.render_badges(
            session, store.data_dir, DEMO_EVENT_ID, pdf, "a6",
            BadgeFilter(ids=(_person(store, code).id,)),
        )  # fmt: skip
    [png] = pdf_to_pngs(pdf, folder, dpi=203, gray=True)
    return png


def _tokens(store: Store, pdf: Path, folder: Path) -> list[tuple[uuid.UUID, int]]:
    with store.begin() as session:
        event = session.get(Event, DEMO_EVENT_ID)
        assert event is not None
        keys = {int(k): bytes.fromhex(v) for k, v in event.public_keys.items()}
    found = []
    for png in pdf_to_pngs(pdf, folder, dpi=203, gray=True):
        for barcode in decode_qr(png):
            check, info = verify_token(barcode.text, keys, uuid.UUID(DEMO_EVENT_ID))
            assert check is TokenCheck.VALID and info is not None
            found.append((info.attendee_id, info.badge_seq))
    return found


def test_the_test_printer_is_known_to_qt(qapp: QApplication, queue: CupsPdfQueue) -> None:
    printers = {p.name: p for p in available_printers()}
    assert queue.name in printers
    choice = printers[queue.name]
    assert choice.ready and ("A4", "A4") in choice.paper_sizes
    assert 300 in choice.resolutions
    status = subprocess.run(["lpstat", "-r"], capture_output=True, text=True, check=False)
    assert "is running" in status.stdout


@pytest.mark.parametrize(
    ("code", "name"),
    [("OI-AA88", "Siriporn BOONMEE"), ("OI-2D6Y", "Reza AHMADI"), ("OI-4X9P", "Ngọc ĐẶNG")],
)
def test_a_badge_printed_through_cups_names_the_attendee(
    qtbot: QtBot, queue: CupsPdfQueue, demo: Store, tmp_path: Path, code: str, name: str
) -> None:
    known = queue.pdfs()
    with demo.begin() as session:
        settings = badges.load_printer_settings(session)
    outcomes: list[JobOutcome] = []
    # On the print thread, as the desk prints: QtPdf and QPrinter live in that thread.
    handle = run_task(
        run_badge_job, demo, _job(demo, code), settings, pool=print_pool(),
        on_result=outcomes.append,
    )  # fmt: skip
    with qtbot.waitSignal(handle.finished, timeout=60_000):
        pass
    [outcome] = outcomes
    assert outcome.ok, outcome.error
    assert outcome.printed == (_person(demo, code).id,)
    out = queue.wait_for_pdf(known, title_has=code)
    # 1. The job's name, which CUPS carries into the PDF's title.
    assert pdf_title(out) == f"EventDesk badge {code} {name}"
    # 2. The page: A6 at true size, and its QR code decodes at 203 dpi and verifies.
    page = pypdf.PdfReader(out).pages[0]
    assert abs(float(page.mediabox.width) - A6_POINTS[0]) < 1.5
    assert abs(float(page.mediabox.height) - A6_POINTS[1]) < 1.5
    assert _tokens(demo, out, tmp_path) == [(uuid.UUID(_person(demo, code).id), 0)]
    # 3. What came out is this attendee's badge as drawn (names in their scripts included),
    #    far closer to it than to another attendee's badge on the same layout.
    [printed_png] = pdf_to_pngs(out, tmp_path, dpi=203, gray=True)
    ours = _gray(_drawn(demo, code, tmp_path))
    printed = _gray(printed_png, ours.size)
    someone_else = _gray(_drawn(demo, "OI-K9ZT", tmp_path), ours.size)
    assert _difference(ours, printed) < 12
    assert _difference(ours, printed) * 2 < _difference(someone_else, printed)


def test_the_badges_area_prints_in_one_click_and_logs_it(
    qtbot: QtBot, queue: CupsPdfQueue, demo: Store
) -> None:
    page = BadgesPage(demo)
    qtbot.addWidget(page)
    page.resize(1300, 860)
    page.show()
    qtbot.keyClicks(page.search_field, "Boonmee")
    qtbot.waitUntil(lambda: page.selected is not None and page.selected.short_code == "OI-AA88")
    known = queue.pdfs()
    with qtbot.waitSignal(page.job_finished, timeout=60_000) as finished:
        qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    outcome: JobOutcome = finished.args[0]
    assert outcome.ok and len(outcome.printed) == 1
    out = queue.wait_for_pdf(known, title_has="OI-AA88")
    assert "Siriporn BOONMEE" in pdf_title(out)
    assert page.log_model.rowCount() == 1
    assert page.log_model.data(page.log_model.index(0, 6)) == "First print"
    assert page.log_model.data(page.log_model.index(0, 2)) == "OI-AA88"
    assert "sent to the printer" in page.notice.text()
    assert page.print_button.text() == "Reprint badge…"
    with demo.begin() as session:
        status = badges.badge_status(session, DEMO_EVENT_ID, outcome.printed[0])
    assert len(status.prints) == 1 and status.prints[0].layout == "a6"
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)


def test_a_refusing_printer_keeps_the_job_until_retry_succeeds(
    qtbot: QtBot, queue: CupsPdfQueue, demo: Store
) -> None:
    page = BadgesPage(demo)
    qtbot.addWidget(page)
    page.show()
    qtbot.keyClicks(page.search_field, "Ahmadi")
    qtbot.waitUntil(lambda: page.selected is not None and page.selected.short_code == "OI-2D6Y")
    queue.reject("out of labels")
    with qtbot.waitSignal(page.job_finished, timeout=60_000) as failed:
        qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    outcome: JobOutcome = failed.args[0]
    assert not outcome.ok and outcome.retryable
    assert "refused the job" in outcome.error and "not accepting jobs" in outcome.error
    assert page.queue_model.rowCount() == 1
    assert page.tabs.tabText(1) == "Waiting to print (1)"
    assert "wait under “Waiting to print”" in page.notice.text()
    with demo.begin() as session:
        assert badges.print_log(session, DEMO_EVENT_ID) == []
        [pending] = badges.pending_prints(session)
    assert pending.attendee_ids == (_person(demo, "OI-2D6Y").id,)
    # Still refusing: the retry counts another attempt and keeps the job.
    with qtbot.waitSignal(page.job_finished, timeout=60_000):
        qtbot.mouseClick(page.retry_button, Qt.MouseButton.LeftButton)
    with demo.begin() as session:
        [pending] = badges.pending_prints(session)
    assert pending.attempts == 2
    queue.accept()
    known = queue.pdfs()
    with qtbot.waitSignal(page.job_finished, timeout=60_000) as retried:
        qtbot.mouseClick(page.retry_button, Qt.MouseButton.LeftButton)
    assert retried.args[0].ok
    queue.wait_for_pdf(known, title_has="OI-2D6Y")
    assert page.queue_model.rowCount() == 0
    assert page.tabs.tabText(1) == "Waiting to print"
    with demo.begin() as session:
        assert badges.pending_prints(session) == []
        assert [e.short_code for e in badges.print_log(session, DEMO_EVENT_ID)] == ["OI-2D6Y"]
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)


def test_a_batch_is_printed_in_jobs_and_cancel_stops_after_the_job_being_sent(
    qapp: QApplication, queue: CupsPdfQueue, demo: Store, tmp_path: Path
) -> None:
    with demo.begin() as session:
        ids = badges.select_ids(session, DEMO_EVENT_ID, BadgeFilter(countries=("PH",)))
        ctx = desk.context(session)
        settings = badges.load_printer_settings(session)
    assert len(ids) > 10
    token = CancelToken()
    seen: list[int] = []

    def progress(done: int, total: int, _message: str) -> None:
        seen.append(done)
        if done == 2:  # half way through the first job: that job still goes out whole
            token.cancel()

    known = queue.pdfs()
    outcome = run_badge_job(
        demo, BadgeJob(tuple(ids), "a6", ctx), settings, progress=progress, stop=token,
        job_size=4,
    )  # fmt: skip
    assert outcome.cancelled and not outcome.error
    assert outcome.printed == tuple(ids[:4])
    assert outcome.failed == tuple(ids[4:])
    assert seen[:4] == [1, 2, 3, 4]
    out = queue.wait_for_pdf(known, title_has=f"badges 1-4 of {len(ids)}")
    assert len(pypdf.PdfReader(out).pages) == 4
    assert [a for a, _ in _tokens(demo, out, tmp_path)] == [uuid.UUID(i) for i in ids[:4]]


def test_cancel_in_the_badges_area_records_only_what_was_printed(
    qtbot: QtBot, queue: CupsPdfQueue, demo: Store
) -> None:
    page = BadgesPage(demo)
    qtbot.addWidget(page)
    page.show()
    page.tabs.setCurrentIndex(2)  # "Print a batch"
    assert page.tabs.tabText(2) == "Print a batch"
    page.country_combo.setCurrentIndex(page.country_combo.findData("PH"))
    page.country_combo.activated.emit(page.country_combo.currentIndex())
    qtbot.waitUntil(lambda: page.batch_button.text().startswith("Print "))
    total = int(page.batch_button.text().split()[1])
    with qtbot.waitSignal(page.job_finished, timeout=120_000) as finished:
        qtbot.mouseClick(page.batch_button, Qt.MouseButton.LeftButton)
        assert page.cancel_button.isVisible() and page.batch_progress.isVisible()
        qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    outcome: JobOutcome = finished.args[0]
    assert outcome.cancelled
    assert len(outcome.printed) < total
    with demo.begin() as session:
        logged = badges.print_log(session, DEMO_EVENT_ID)
    assert sorted(e.attendee_id for e in logged) == sorted(outcome.printed)
    qtbot.waitUntil(lambda: not page.batch_progress.isVisible())
    assert page.batch_button.isEnabled() and "Cancelled" in page.notice.text()
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)


def test_office_paper_prints_the_badge_at_true_size(
    qapp: QApplication, queue: CupsPdfQueue, demo: Store, tmp_path: Path
) -> None:
    pdf = tmp_path / "card.pdf"
    with demo.begin() as session:
        badges.render_badges(
            session, demo.data_dir, DEMO_EVENT_ID, pdf, "cr80",
            BadgeFilter(ids=(_person(demo, "OI-AA88").id,)),
        )  # fmt: skip
    known = queue.pdfs()
    result = print_pdf(
        pdf.read_bytes(), PrinterSettings(printer=queue.name, paper="A4", dpi=300), "card on A4"
    )
    assert (result.pages, result.dpi, result.paper, result.scaled) == (1, 300, "A4", False)
    out = queue.wait_for_pdf(known, title_has="card on A4")
    page = pypdf.PdfReader(out).pages[0]
    assert sorted(round(float(v)) for v in (page.mediabox.width, page.mediabox.height)) == [
        595,
        842,
    ]
    # On A4 the card keeps its true size (CUPS may turn it to fit the paper's orientation).
    [png] = pdf_to_pngs(out, tmp_path, dpi=203, gray=True)
    with Image.open(png) as image:
        bounds = ink_bounds(image)
    assert bounds is not None
    sides = sorted((bounds[2] - bounds[0], bounds[3] - bounds[1]))
    assert abs(sides[0] - mm_to_px(54.0, 203)) < mm_to_px(1.5, 203)
    assert abs(sides[1] - mm_to_px(85.6, 203)) < mm_to_px(1.5, 203)
    assert _tokens(demo, out, tmp_path) == [(uuid.UUID(_person(demo, "OI-AA88").id), 0)]


def test_the_certificates_area_prints_through_cups_and_the_printed_codes_verify(
    qtbot: QtBot, queue: CupsPdfQueue, demo: Store, tmp_path: Path
) -> None:
    from desktop import certificates
    from desktop.ui.qt_certificates import CertificatesPage

    people = {"OI-2D6Y": "Reza AHMADI (رضا احمدی)", "OI-4X9P": "ĐẶNG Minh Ngọc"}
    ids = [_person(demo, code).id for code in people]
    with demo.begin() as session:
        ctx = desk.context(session)
        for attendee_id in ids:
            certificates.set_override(session, ctx, attendee_id, True, "Signed the paper sheet")
    page = CertificatesPage(demo)
    qtbot.addWidget(page)
    page.resize(1300, 860)
    page.show()
    qtbot.waitUntil(lambda: page.model.rowCount() == 130, timeout=20_000)
    page.output = str(tmp_path / "out")
    with qtbot.waitSignal(page.generated, timeout=60_000) as generated:
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    assert len(generated.args[0].batch.records) == 2
    qtbot.waitUntil(lambda: not active_tasks(), timeout=30_000)
    page.printer_combo.setCurrentIndex(page.printer_combo.findData(queue.name))
    known = queue.pdfs()
    with qtbot.waitSignal(page.printed, timeout=90_000) as printed:
        qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    assert printed.args[0] == 2
    out = queue.wait_for_pdf(known, title_has="EventDesk certificates")
    assert pdf_title(out) == "EventDesk certificates 1-2 of 2"
    pages = pypdf.PdfReader(out).pages
    assert len(pages) == 2
    # A4: the landscape certificate comes out turned onto the paper, filling it.
    size = sorted((float(pages[0].mediabox.width), float(pages[0].mediabox.height)))
    assert abs(size[0] - 595) < 2 and abs(size[1] - 842) < 2
    # The QR code on each printed certificate is read back and checked like a visitor would.
    verdicts = []
    with demo.begin() as session:
        for png in pdf_to_pngs(out, tmp_path, dpi=200, gray=True):
            [barcode] = decode_qr(png)
            verdicts.append(certificates.verify(session, DEMO_EVENT_ID, barcode.text))
    assert all(v.genuine for v in verdicts)
    assert sorted(v.name for v in verdicts) == sorted(people.values())
    assert "sent to the printer" in page.notice.text()
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)
