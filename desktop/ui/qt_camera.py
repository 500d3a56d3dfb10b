"""Scanning badges with a camera: choose it, see it live, read QR codes off the GUI thread.

QtMultimedia sends the camera's frames to the live view (a ``QVideoWidget``); its video sink
also hands each frame to :meth:`CameraPanel._on_sink_video_frame_changed`. When no frame is
being read, the frame (a cheap shared copy) goes to the camera thread, which converts it to
grey and reads it with :mod:`desktop.camerascan`; frames that arrive meanwhile are dropped,
so a slow laptop reads fewer frames rather than falling behind. A code read goes out once by
``code_read`` (the deduper holds back a badge that stays in view), and the scan station or
kiosk decides it exactly as if it had been typed. When nothing has been read for a few
seconds the panel says what to change: more light, less glare, or closer.

QtMultimedia is imported by this module only, and this module only when a camera panel is
first opened, so a desk that never uses a camera never loads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import (
    QCamera,
    QCameraDevice,
    QMediaCaptureSession,
    QMediaDevices,
    QVideoFrame,
)
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop import camerascan
from desktop.camerascan import HINTS, Advisor, Deduper, FrameReading, LumaFrame
from desktop.ui.qt_theme import GREEN, MUTED, RED
from desktop.ui.qt_worker import run_task, serial_pool

NO_CAMERA = (
    "No camera found on this computer. Plug one in (it is picked up at once), or scan "
    "with a barcode scanner or type the code."
)
READY = "Hold a badge up to the camera, QR code towards it."
STARTING = "Starting the camera…"
DENIED = (
    "EventDesk may not use the camera. Allow it in the system's privacy settings, then "
    "press Start camera."
)
STOPPED = "Camera off."
READ = "Badge read."


# --- the camera thread -----------------------------------------------------------------------


def camera_pool() -> QThreadPool:
    """The single thread frames are read on: never the GUI thread, never the writer."""
    return serial_pool("camera")


def frame_to_luma(frame: QVideoFrame | QImage) -> LumaFrame | None:
    """A video frame (or image) as grey pixels for the reader; None for an empty frame."""
    image = frame.toImage() if isinstance(frame, QVideoFrame) else frame
    if image.isNull():
        return None
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    return LumaFrame(bytes(grey.constBits()), grey.width(), grey.height(), grey.bytesPerLine())


def read_video_frame(frame: QVideoFrame | QImage) -> FrameReading:
    """On the camera thread: convert one frame and read the QR codes in it."""
    start = time.perf_counter()
    luma = frame_to_luma(frame)
    if luma is None:
        return FrameReading((), 0.0, False, time.perf_counter() - start)
    reading = camerascan.read_frame(luma)
    return FrameReading(
        reading.codes,
        reading.brightness,
        reading.glimpsed,
        time.perf_counter() - start,
        reading.width,
        reading.height,
    )


# --- the panel -------------------------------------------------------------------------------


def available_cameras() -> list[QCameraDevice]:
    """The cameras this computer has, the system's default first."""
    found = list(QMediaDevices.videoInputs())
    found.sort(key=lambda d: not d.isDefault())
    return found


class CameraPanel(QFrame):
    """A camera chooser, the live view and a line of advice; emits the codes it reads."""

    code_read = Signal(str)
    hint_changed = Signal(str)  # a key of camerascan.HINTS, "" when the advice went away
    frame_read = Signal(object)  # FrameReading, for each frame read

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        large: bool = False,
        dedupe_seconds: float = camerascan.DEDUPE_SECONDS,
        hint_seconds: float = camerascan.HINT_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("cameraPanel")
        self.large = large
        self.deduper = Deduper(dedupe_seconds, clock)
        self.advisor = Advisor(hint_seconds, clock)
        self.camera: QCamera | None = None
        self.session = QMediaCaptureSession(self)
        self.devices = QMediaDevices(self)
        self.devices.videoInputsChanged.connect(self._on_devices_video_inputs_changed)
        self.paused = False
        self.busy = False
        self.frames_seen = 0
        self.frames_read = 0
        self.frames_dropped = 0
        self.last_reading: FrameReading | None = None
        self._want_running = False
        self._dark_boosted = False
        self._hint_shown = ""

        self.video = QVideoWidget()
        self.video.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.video.setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
        self.video.videoSink().videoFrameChanged.connect(self._on_sink_video_frame_changed)
        self.session.setVideoOutput(self.video)
        self.placeholder = QLabel(objectName="cameraPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.screen = QStackedWidget()
        self.screen.addWidget(self.placeholder)
        self.screen.addWidget(self.video)
        self.screen.setMinimumSize(QSize(480, 270) if large else QSize(320, 180))
        self.screen.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.chooser = QComboBox()
        self.chooser.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.chooser.setAccessibleName("Camera")
        self.chooser.activated.connect(self._on_chooser_activated)
        self.start_button = QPushButton("Stop camera")
        self.start_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.start_button.clicked.connect(self._on_start_button_clicked)
        self.torch_button = QPushButton("Torch")
        self.torch_button.setCheckable(True)
        self.torch_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.torch_button.toggled.connect(self._on_torch_button_toggled)
        self.torch_button.hide()
        self.message = QLabel(objectName="cameraMessage")
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(200)

        if large:
            layout = QVBoxLayout(self)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(self.screen, 1)
            layout.addWidget(self.message)
            for widget in (self.chooser, self.start_button, self.torch_button):
                widget.hide()
        else:
            layout = QHBoxLayout(self)
            layout.setContentsMargins(12, 10, 12, 10)
            layout.addWidget(self.screen, 3)
            side = QVBoxLayout()
            side.addWidget(self.chooser)
            side.addWidget(self.message, 1)
            buttons = QHBoxLayout()
            buttons.addWidget(self.torch_button)
            buttons.addWidget(self.start_button)
            buttons.addStretch(1)
            side.addLayout(buttons)
            layout.addLayout(side, 2)
            self.setMaximumHeight(280)
        size = 30 if large else 17
        self.setStyleSheet(
            f"#cameraPanel {{ background: white; border: 1px solid #d9dde3; border-radius: 10px; }}"
            f"#cameraMessage {{ font-size: {size}px; }}"
            f"#cameraPlaceholder {{ font-size: {size}px; color: {MUTED}; background: #eef1f5;"
            " border-radius: 8px; padding: 16px; }"
        )
        self._flash = QTimer(self, singleShot=True, interval=900)
        self._flash.timeout.connect(self._show_advice)
        self.refresh_devices()

    # --- cameras -----------------------------------------------------------------------------

    def refresh_devices(self) -> None:
        """List the cameras again; with none, say so."""
        current = self.chooser.currentData()
        cameras = available_cameras()
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for device in cameras:
            self.chooser.addItem(device.description(), _device_key(device))
        if current is not None and self.chooser.findData(current) >= 0:
            self.chooser.setCurrentIndex(self.chooser.findData(current))
        self.chooser.blockSignals(False)
        has_camera = bool(cameras)
        if not self.large:
            self.chooser.setVisible(len(cameras) > 1)
            self.start_button.setVisible(has_camera)
        # With no camera there is nothing to look at: the panel shrinks to its message.
        self.screen.setVisible(has_camera)
        if not has_camera:
            self._drop_camera()
            self._say(NO_CAMERA, RED)

    @property
    def has_camera(self) -> bool:
        return self.chooser.count() > 0

    @property
    def running(self) -> bool:
        return self.camera is not None and self.camera.isActive()

    def _device(self) -> QCameraDevice | None:
        wanted = self.chooser.currentData()
        return next((d for d in available_cameras() if _device_key(d) == wanted), None)

    def start(self) -> None:
        """Start the chosen camera (asking the system for permission where it must)."""
        self._want_running = True
        if not self.has_camera:
            self.refresh_devices()
            return
        app = QCoreApplication.instance()
        permission = _camera_permission()
        if app is not None and permission is not None:
            status = app.checkPermission(permission)
            if status == Qt.PermissionStatus.Undetermined:
                app.requestPermission(permission, self, self._on_permission_answered)
                return
            if status == Qt.PermissionStatus.Denied:
                self._show_placeholder(DENIED)
                self._say(DENIED, RED)
                return
        self._open_camera()

    def _on_permission_answered(self, _permission: Any) -> None:
        if self._want_running:
            self.start()

    def _open_camera(self) -> None:
        device = self._device()
        if device is None:
            self.refresh_devices()
            return
        self._drop_camera()
        camera = QCamera(device, self)
        formats = list(device.videoFormats())
        choice = camerascan.choose_format(
            (f.resolution().width(), f.resolution().height(), f.maxFrameRate()) for f in formats
        )
        if choice is not None:
            camera.setCameraFormat(formats[choice])
        camera.errorOccurred.connect(self._on_camera_error_occurred)
        camera.activeChanged.connect(self._on_camera_active_changed)
        self.camera = camera
        self.session.setCamera(camera)
        self.deduper.forget()
        self.advisor.reset()
        self._dark_boosted = False
        self._say(STARTING)
        camera.start()

    def stop(self) -> None:
        """Stop the camera (its light goes off) and keep the panel."""
        self._want_running = False
        self._drop_camera()
        if self.has_camera:
            self._show_placeholder(STOPPED)
            self._say(STOPPED)
        self.start_button.setText("Start camera")

    def _drop_camera(self) -> None:
        camera, self.camera = self.camera, None
        if camera is not None:
            self.session.setCamera(None)
            camera.stop()
            camera.deleteLater()
        self.torch_button.hide()

    def _show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.screen.setCurrentWidget(self.placeholder)

    def _on_devices_video_inputs_changed(self) -> None:
        self.refresh_devices()
        if self._want_running and self.has_camera and self.camera is None:
            self.start()

    def _on_chooser_activated(self, _index: int) -> None:
        if self._want_running:
            self._open_camera()

    def _on_start_button_clicked(self) -> None:
        if self._want_running:
            self.stop()
        else:
            self.start()

    def _on_camera_active_changed(self, active: bool) -> None:
        camera = self.camera
        if camera is None:
            return
        if active:
            self.screen.setCurrentWidget(self.video)
            self.start_button.setText("Stop camera")
            torch = camera.isTorchModeSupported(QCamera.TorchMode.TorchOn)
            self.torch_button.setVisible(torch and not self.large)
            self._say(READY)

    def _on_camera_error_occurred(self, _error: Any, text: str) -> None:
        message = (
            f"The camera stopped: {text or 'no picture'}. Close other programs that use it, "
            "or choose another camera."
        )
        self._drop_camera()
        self._show_placeholder(message)
        self._say(message, RED)
        self.start_button.setText("Start camera")
        self._want_running = False

    def _on_torch_button_toggled(self, on: bool) -> None:
        if self.camera is not None:
            mode = QCamera.TorchMode.TorchOn if on else QCamera.TorchMode.TorchOff
            self.camera.setTorchMode(mode)

    # --- frames ------------------------------------------------------------------------------

    def _on_sink_video_frame_changed(self, frame: QVideoFrame) -> None:
        """Every frame the view shows: read it on the camera thread unless one is being read."""
        self.frames_seen += 1
        if self.busy:
            self.frames_dropped += 1
            return
        if not frame.isValid():
            return
        self.busy = True
        run_task(
            read_video_frame,
            QVideoFrame(frame),
            pool=camera_pool(),
            on_result=self._on_frame_read,
            on_finished=self._on_read_finished,
        )

    def _on_read_finished(self) -> None:
        self.busy = False

    def _on_frame_read(self, reading: FrameReading) -> None:
        self.frames_read += 1
        self.last_reading = reading
        self.frame_read.emit(reading)
        if self.paused:
            return
        fresh = self.deduper.fresh(reading.texts)
        self.advisor.update(reading)
        if reading.codes:
            self._dark_boosted = False
        elif self.advisor.hint == "light":
            self._boost_exposure()
        if fresh or reading.codes:
            # Decided now, or still in view since it was: say so rather than "hold up a badge".
            self.advisor.reset()
            self._say(READ, GREEN)
            self._flash.start()
            for text in fresh:
                self.code_read.emit(text)
            return
        if not self._flash.isActive():
            self._show_advice()

    def _boost_exposure(self) -> None:
        camera = self.camera
        if camera is None or self._dark_boosted:
            return
        self._dark_boosted = True
        if camera.supportedFeatures() & QCamera.Feature.ExposureCompensation:
            camera.setExposureCompensation(min(2.0, camera.exposureCompensation() + 1.0))

    def _show_advice(self) -> None:
        hint = self.advisor.hint or ""
        if hint:
            text = HINTS[hint]
            if hint == "light" and self.torch_button.isVisible():
                text += " The Torch button lights the badge."
            self._say(text, RED)
        else:
            self._say(READY)
        if hint != self._hint_shown:
            self._hint_shown = hint
            self.hint_changed.emit(hint)

    def _say(self, text: str, colour: str | None = None) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {colour};" if colour else "")

    # --- showing -----------------------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        """While paused, frames are still shown but no code goes out (the kiosk is busy)."""
        self.paused = paused
        if not paused:
            self.deduper.forget()
            self.advisor.reset()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._want_running and self.camera is None and self.has_camera:
            self.start()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        # A hidden panel lets the camera go: its light goes off and another program may use it.
        if self.camera is not None:
            self._drop_camera()
            self._show_placeholder(STOPPED)


def _device_key(device: QCameraDevice) -> str:
    """A camera's id as plain text (Qt's is a QByteArray), to keep in the chooser."""
    return bytes(device.id().data()).decode("utf-8", "replace")


def _camera_permission() -> Any:
    try:
        from PySide6.QtCore import QCameraPermission
    except ImportError:  # Qt before 6.5 asks no permission
        return None
    return QCameraPermission()
