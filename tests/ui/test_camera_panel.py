"""The scan station's camera: frames go through the video sink the camera would feed.

This machine has no camera, so the frames are real badges rendered, rasterised and held up
with Pillow (see conftest_camera_helpers), handed to the panel's video sink as
``QVideoFrame``s: from there on it is the same path a camera's frames take (sink, camera
thread, deduper, the page's decision and card). Only opening the device itself is untested.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest_camera_helpers import badge_frame, render_badge_png, room
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QVideoFrame
from pytestqt.qtbot import QtBot

from desktop import checkin, clock
from desktop.checkin import ScanResult
from desktop.demo import demo_attendee_id
from desktop.store import Store, open_store
from desktop.ui.qt_camera import NO_CAMERA, CameraPanel
from desktop.ui.qt_checkin import CheckinPage
from desktop.ui.qt_sounds import SoundBoard
from desktop.ui.qt_worker import active_tasks

# QtMultimedia, loaded for the first time, names the optional libraries it did not find
# (PipeWire, VA-API), and converts frames on the CPU with no GPU: not our concern.
pytestmark = pytest.mark.qt_log_ignore(r"Couldn't (load|resolve)", "No RHI backend")


class FakeClock:
    """Seconds that move only when the test says: the deduper's and advisor's clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def badge_png(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("camera-panel")
    folder = root / "demo"
    shutil.copytree(demo_template, folder)
    store = open_store(folder)
    try:
        return render_badge_png(store, 3, root)
    finally:
        store.close()


@pytest.fixture
def demo(demo: Store) -> Store:
    """The shared demo store (conftest), set up for this module."""
    with demo.begin() as session:
        moment = datetime(2024, 8, 28, 9, 5)
        clock.set_as_if(session, clock.to_naive_utc(moment, checkin_zone()))
    return demo


def checkin_zone():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Manila")


@pytest.fixture
def page(qtbot: QtBot, demo: Store) -> Iterator[CheckinPage]:
    widget = CheckinPage(demo, SoundBoard(enabled=False))
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.mouseClick(widget.camera_button, Qt.MouseButton.LeftButton)
    assert isinstance(widget.camera_panel, CameraPanel)
    yield widget
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)


def picture(source: Image.Image) -> QImage:
    """A Pillow picture as a QImage, what a camera frame holds."""
    data = io.BytesIO()
    source.convert("RGB").save(data, "PNG")
    image = QImage.fromData(data.getvalue())
    assert not image.isNull()
    return image


def badge(badge_png: Path, **held: float) -> QImage:
    with Image.open(badge_png) as drawn:
        return picture(badge_frame(drawn.convert("L"), **held))  # type: ignore[arg-type]


def show_to_camera(panel: CameraPanel, image: QImage) -> None:
    """What the capture session does with each new frame: set it on the view's video sink."""
    panel.video.videoSink().setVideoFrame(QVideoFrame(image))


def wait_read(qtbot: QtBot, panel: CameraPanel, frame: QImage) -> None:
    with qtbot.waitSignal(panel.frame_read, timeout=10_000):
        show_to_camera(panel, frame)


def test_no_camera_is_said_plainly_and_the_scan_field_still_works(
    qtbot: QtBot, page: CheckinPage, demo: Store
) -> None:
    panel = page.camera_panel
    assert panel.isVisible() and not panel.has_camera
    assert panel.message.text() == NO_CAMERA
    assert not panel.screen.isVisible()  # no black box where a picture would be
    assert page.camera_button.isChecked()
    qtbot.waitUntil(lambda: page.scan_field.hasFocus())
    with qtbot.waitSignal(page.scanned, timeout=10_000) as blocker:
        qtbot.keyClicks(page.scan_field, "OI-GM55")
        qtbot.keyClick(page.scan_field, Qt.Key.Key_Return)
    assert blocker.args[0].decision == "ok"
    qtbot.mouseClick(page.camera_button, Qt.MouseButton.LeftButton)
    assert not panel.isVisible() and not page.camera_button.isChecked()


def test_a_badge_shown_to_the_camera_is_decided_on_the_card_once(
    qtbot: QtBot, page: CheckinPage, badge_png: Path
) -> None:
    panel = page.camera_panel
    fake = FakeClock()
    panel.deduper.clock = fake
    frame = badge(badge_png, angle=20, blur=0.7, light=0.6)
    with qtbot.waitSignal(page.scanned, timeout=10_000) as blocker:
        show_to_camera(panel, frame)
    result: ScanResult = blocker.args[0]
    assert result.decision == "ok" and result.attendee_id == demo_attendee_id(3)
    assert result.input_kind == "token"
    qtbot.waitUntil(lambda: page.card.painted_generation == page.card.generation)
    assert page.card.headline.text() == "WELCOME"
    assert page.card.name.text() == "Farhana ISLAM"
    assert panel.message.text() == "Badge read."
    # Still in view a second later, and again: no second decision.
    with qtbot.assertNotEmitted(page.scanned, wait=300):
        for _ in range(3):
            fake.now += 1
            wait_read(qtbot, panel, frame)
    assert panel.frames_read == 4
    # Taken away for longer than the window, then shown again: a real second scan.
    fake.now += 10
    with qtbot.waitSignal(page.scanned, timeout=10_000) as again:
        show_to_camera(panel, frame)
    assert again.args[0].decision == "already_in"
    qtbot.waitUntil(lambda: page.card.headline.text() == "ALREADY CHECKED IN")


def test_frames_arriving_while_one_is_read_are_dropped(
    qtbot: QtBot, page: CheckinPage, badge_png: Path
) -> None:
    panel = page.camera_panel
    frame = badge(badge_png, scale=0.8)
    decided: list[ScanResult] = []
    page.scanned.connect(decided.append)
    # Five frames in a row with no chance for the camera thread to report back: the first
    # is read, the four behind it are dropped, not queued.
    with qtbot.waitSignal(panel.frame_read, timeout=10_000):
        for _ in range(5):
            show_to_camera(panel, frame)
    assert (panel.frames_seen, panel.frames_dropped) == (5, 4)
    qtbot.waitUntil(lambda: len(decided) == 1, timeout=10_000)
    assert panel.frames_read == 1 and decided[0].decision == "ok"


def test_advice_when_nothing_is_read_then_a_badge(
    qtbot: QtBot, page: CheckinPage, badge_png: Path
) -> None:
    panel = page.camera_panel
    fake = FakeClock()
    panel.advisor.clock = fake
    hints: list[str] = []
    panel.hint_changed.connect(hints.append)
    dark = picture(room(dark=4, light=25))
    for _ in range(3):
        wait_read(qtbot, panel, dark)
    assert hints == []  # nobody is told off in the first seconds
    for _ in range(3):
        fake.now += 2
        wait_read(qtbot, panel, dark)
    assert hints == ["light"]
    assert panel.message.text().startswith("More light")
    grey = picture(room())
    for _ in range(8):  # the advisor judges the light over its last eight frames
        fake.now += 1
        wait_read(qtbot, panel, grey)
    assert hints == ["light", "closer"]
    assert "closer" in panel.message.text()
    with qtbot.waitSignal(page.scanned, timeout=10_000) as blocker:
        show_to_camera(panel, badge(badge_png))
    assert blocker.args[0].decision == "ok"
    assert panel.message.text() == "Badge read."
    qtbot.waitUntil(lambda: hints[-1] == "", timeout=5_000)
    assert panel.advisor.hint is None


def test_a_refused_badge_from_the_camera_shows_the_refusal(
    qtbot: QtBot, page: CheckinPage, badge_png: Path, demo: Store
) -> None:
    with demo.begin() as session:
        checkin.save_mode(session, checkin.DeskMode("session", "no-such-session"))
    page.refresh()
    with qtbot.waitSignal(page.scanned, timeout=10_000) as blocker:
        show_to_camera(page.camera_panel, badge(badge_png, angle=-30))
    assert blocker.args[0].decision == "not_open"
    qtbot.waitUntil(lambda: page.card.headline.text() == "SESSION NOT OPEN")
