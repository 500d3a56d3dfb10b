"""Camera workloads: reading one 1280×720 frame, and a badge held up to the camera to decision.

The frames hold real badges of the synthetic event: drawn as they print, rendered with QtPdf
at about 100 dpi (a badge filling two thirds of a webcam's height), turned a little and dimmed
with Pillow, on a grey, unevenly lit background.

``camera_read_frame``: what the camera thread does with each frame (``QVideoFrame`` to grey
pixels, then :func:`desktop.camerascan.read_frame`) on a frame with a badge, and on one with
nothing in it (the usual case while a camera waits); ``camera_read_luma_only`` is the reading
alone. The baseline is bare zxing-cpp as a first integration would call it, on the same frame:
every symbology, on the colour picture. A real camera's frames are YUV or MJPEG, which Qt
converts too; on this machine there is no camera to measure that with.

``camera_badge_to_decision``: in the scan station (offscreen) with the camera panel open, a
frame set on the panel's video sink, as the capture session sets each camera frame, until
the result card is painted: the frame converted and read on the camera thread, the code
decided and recorded on the writer thread, the card shown.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from eventdesk_bench.metrics import Metric, median, percentile
from eventdesk_bench.synthetic import SyntheticEvent
from eventdesk_bench.workloads_checkin import until_card_painted
from PIL import Image, ImageEnhance

from desktop import badges, camerascan
from desktop.badges import BadgeFilter
from desktop.store import open_store

MS = 1000.0
FRAME = (1280, 720)
READ_SAMPLES = 300
BADGES = 40


def _app() -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QLoggingCategory
    from PySide6.QtWidgets import QApplication

    # QtMultimedia names every optional library it did not find; not a benchmark figure.
    QLoggingCategory.setFilterRules("qt.multimedia.symbolsresolver.warning=false")
    return QApplication.instance() or QApplication([])


def _badge_pictures(event: SyntheticEvent, count: int) -> list[Image.Image]:
    """``count`` attendees' badges as grey pictures, about 100 dpi."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QImage

    from desktop.ui.qt_printing import pdf_page_image

    pdf = io.BytesIO()
    store = event.open()
    try:
        with store.begin() as session:
            ids = tuple(event.attendee_ids[:count])
            badges.render_badges(
                session, store.data_dir, event.event_id, pdf, "a6", BadgeFilter(ids=ids)
            )
    finally:
        store.close()
    pictures = []
    for page in range(count):
        image = pdf_page_image(pdf.getvalue(), QSize(413, 583), page)
        grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
        pictures.append(
            Image.frombytes(
                "L",
                (grey.width(), grey.height()),
                bytes(grey.constBits()),
                "raw",
                "L",
                grey.bytesPerLine(),
            )
        )
    return pictures


def _frame(badge: Image.Image | None, turn: float = 8.0, light: float = 0.75) -> Image.Image:
    """A 1280×720 frame: a dim room with the badge held up in it (or nothing)."""
    ramp = Image.linear_gradient("L").rotate(-35).resize(FRAME)
    frame = ramp.point(lambda v: 70 + 80 * v // 255)
    if badge is not None:
        held = badge.rotate(turn, expand=True, resample=Image.Resampling.BICUBIC)
        mask = Image.new("L", badge.size, 255).rotate(turn, expand=True)
        frame.paste(held, ((FRAME[0] - held.width) // 2, (FRAME[1] - held.height) // 2), mask)
    return ImageEnhance.Brightness(frame).enhance(light)


def _qimage(picture: Image.Image) -> Any:
    """A Pillow picture as the 32-bit image a video frame holds."""
    from PySide6.QtGui import QImage

    rgb = picture.convert("RGB")
    image = QImage(rgb.tobytes(), rgb.width, rgb.height, 3 * rgb.width, QImage.Format.Format_RGB888)
    return image.convertToFormat(QImage.Format.Format_RGB32)


def _timed(read: Any, frame: Any, samples: int) -> tuple[list[float], int]:
    timings: list[float] = []
    found = 0
    for _ in range(samples):
        start = time.perf_counter()
        reading = read(frame)
        timings.append(time.perf_counter() - start)
        found += len(reading.codes)
    return timings, found


def read_frame(event: SyntheticEvent, samples: int = READ_SAMPLES) -> list[Metric]:
    """One 1280×720 video frame made grey and read for QR codes, as the camera thread does."""
    import zxingcpp

    _app()
    from PySide6.QtMultimedia import QVideoFrame

    from desktop.ui.qt_camera import read_video_frame

    [badge] = _badge_pictures(event, 1)
    with_badge = _frame(badge)
    video = QVideoFrame(_qimage(with_badge))
    ours, found = _timed(read_video_frame, video, samples)
    if found != samples:
        raise RuntimeError(f"the badge was read in {found} of {samples} frames")
    core, _ = _timed(camerascan.read_frame, camerascan.LumaFrame.from_image(with_badge), samples)
    nothing, _ = _timed(read_video_frame, QVideoFrame(_qimage(_frame(None))), samples)
    colour = with_badge.convert("RGB")
    bare: list[float] = []
    for _ in range(samples):
        start = time.perf_counter()
        zxingcpp.read_barcodes(colour)
        bare.append(time.perf_counter() - start)
    target = "under 30 ms"
    return [
        Metric("camera_read_frame_median", median(ours) * MS, "ms", median(bare) * MS, target),
        Metric(
            "camera_read_frame_p95",
            percentile(ours, 95) * MS,
            "ms",
            percentile(bare, 95) * MS,
            target,
        ),
        Metric("camera_read_frame_empty_p95", percentile(nothing, 95) * MS, "ms", target=target),
        Metric("camera_read_luma_only_p95", percentile(core, 95) * MS, "ms"),
    ]


def badge_to_decision(event: SyntheticEvent, count: int = BADGES) -> list[Metric]:
    """A badge in a camera frame to its decision painted on the scan station's card."""
    app = _app()
    from PySide6.QtMultimedia import QVideoFrame
    from PySide6.QtTest import QTest

    from desktop.ui.qt_checkin import CheckinPage
    from desktop.ui.qt_sounds import SoundBoard
    from desktop.ui.qt_worker import shutdown_tasks

    frames = [_qimage(_frame(badge)) for badge in _badge_pictures(event, count)]
    folder = Path(tempfile.mkdtemp(prefix="eventdesk-bench-camera-")) / "data"
    shutil.copytree(event.folder, folder)
    timings: list[float] = []
    decisions: dict[str, int] = {}
    try:
        store = open_store(folder)
        try:
            page = CheckinPage(store, SoundBoard(enabled=False))
            page.resize(1400, 900)
            page.show()
            QTest.qWaitForWindowExposed(page)
            page.camera_button.click()
            sink = page.camera_panel.video.videoSink()
            for image in frames:
                show = partial(sink.setVideoFrame, QVideoFrame(image))
                timings.append(until_card_painted(page, show))
                result = page.card.result
                word = result.decision if result is not None else "none"
                decisions[word] = decisions.get(word, 0) + 1
            page.camera_button.click()
            page.close()
            shutdown_tasks()
            app.processEvents()
        finally:
            store.close()
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)
    if decisions != {"ok": count}:
        raise RuntimeError(f"unexpected decisions in the benchmark: {decisions}")
    return [
        Metric("camera_badge_to_decision_median", median(timings) * MS, "ms"),
        Metric(
            "camera_badge_to_decision_p95",
            percentile(timings, 95) * MS,
            "ms",
            target="under 300 ms",
        ),
    ]
