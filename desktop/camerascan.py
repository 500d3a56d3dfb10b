"""Reading badge QR codes from camera frames and pictures with zxing-cpp (no Qt here).

A frame is 8-bit grey pixels (:class:`LumaFrame`); the camera panel converts each video
frame to one on its worker thread, ``eventdesk scan --image`` reads a picture file, and the
tests make frames from rendered badges with Pillow. :func:`read_frame` looks for QR codes
only: badges carry nothing else, and one symbology is several times faster than all (a
1280×720 frame takes a few milliseconds). Reading a frame again enlarged, sharpened or with
another binarizer was tried and read nothing more from the blurred or tiny badges the tests
make, so a frame is read once; the camera panel gets the next frame a moment later anyway.

Around the reader: :class:`Deduper` keeps a code seen again and again (a badge held up to
the camera for a few seconds) from being decided more than once, and :class:`Advisor` says
what to change (more light, less glare, closer) when nothing has been read for a while.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from desktop.scaninput import clean_scan_input

FORMATS = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
DEDUPE_SECONDS = 4.0
HINT_AFTER_SECONDS = 4.0
# Mean grey level (0-255) of the last frames below which the picture is too dark to read,
# and above which the badge is washed out by glare or a bright window behind it.
DARK_LEVEL = 55.0
BRIGHT_LEVEL = 215.0
# Sampling every 16th byte is plenty for a mean and keeps the work tiny in pure Python.
_SAMPLE_STEP = 16

HINTS: dict[str, str] = {
    "light": "More light, please: turn on a light or the torch, or face the badge to a window.",
    "glare": "Too bright: tilt the badge a little so it does not shine, or step out of the sun.",
    "closer": "Hold the badge closer, flat and still, with the QR code facing the camera.",
}


def choose_format(options: Iterable[tuple[int, int, float]]) -> int | None:
    """Which of a camera's (width, height, frames per second) formats to use: the one
    nearest 1280×720 (sharp enough for a badge at arm's length, quick to read), then the
    fastest; None when there are none."""
    best: tuple[float, float] | None = None
    chosen = None
    for index, (width, height, rate) in enumerate(options):
        key = (abs(width * height - 1280 * 720) / (1280 * 720), -min(rate, 30.0))
        if best is None or key < best:
            best, chosen = key, index
    return chosen


class PictureError(Exception):
    """A picture that gives no code to decide: not a picture, no QR code, several codes."""


@dataclass(frozen=True)
class LumaFrame:
    """One picture as 8-bit grey pixels, row after row (``stride`` bytes per row)."""

    data: bytes
    width: int
    height: int
    stride: int = 0

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError("a frame needs at least one pixel")
        stride = self.stride or self.width
        if stride < self.width or len(self.data) < stride * (self.height - 1) + self.width:
            raise ValueError(
                f"{len(self.data)} bytes are too few for a {self.width}×{self.height} frame"
            )

    @property
    def row_bytes(self) -> int:
        return self.stride or self.width

    @classmethod
    def from_image(cls, image: Image.Image) -> LumaFrame:
        """A frame from a Pillow image of any mode (made grey)."""
        grey = image if image.mode == "L" else image.convert("L")
        return cls(grey.tobytes(), grey.width, grey.height)

    def brightness(self) -> float:
        """The mean grey level, 0 (black) to 255 (white), from a sample of the pixels."""
        sample = memoryview(self.data)[: self.row_bytes * self.height : _SAMPLE_STEP]
        return sum(sample) / max(1, len(sample))


@dataclass(frozen=True)
class FoundCode:
    """A code read in a frame: its text and its four corners (x, y) in frame pixels."""

    text: str
    corners: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class FrameReading:
    """What one frame gave: the codes read, how bright it was, and whether a QR code was
    seen but could not be read (``glimpsed``: blurred, too small, partly hidden)."""

    codes: tuple[FoundCode, ...]
    brightness: float
    glimpsed: bool
    seconds: float
    width: int = 0
    height: int = 0

    @property
    def texts(self) -> list[str]:
        """The distinct texts read, in the order found."""
        return list(dict.fromkeys(c.text for c in self.codes))


def _view(frame: LumaFrame) -> Any:
    # zxing-cpp reads a buffer of the right shape without copying it (no numpy needed).
    buffer = memoryview(frame.data)[: frame.row_bytes * frame.height]
    shaped = buffer.cast("B", (frame.height, frame.row_bytes))
    return zxingcpp.ImageView(
        shaped, frame.width, frame.height, zxingcpp.ImageFormat.Lum, frame.row_bytes, 1
    )


def _corners(found: Any) -> tuple[tuple[int, int], ...]:
    where = found.position
    points = (where.top_left, where.top_right, where.bottom_right, where.bottom_left)
    return tuple((int(p.x), int(p.y)) for p in points)


def read_frame(frame: LumaFrame) -> FrameReading:
    """The QR codes in one frame, and what the frame says about the light."""
    start = time.perf_counter()
    found = list(zxingcpp.read_barcodes(_view(frame), formats=FORMATS, return_errors=True))
    codes = tuple(FoundCode(b.text, _corners(b)) for b in found if b.valid and b.text)
    return FrameReading(
        codes=codes,
        brightness=frame.brightness(),
        glimpsed=not codes and any(not b.valid for b in found),
        seconds=time.perf_counter() - start,
        width=frame.width,
        height=frame.height,
    )


def open_picture(path: Path | str) -> LumaFrame:
    """A picture file (PNG, JPEG, …) as a grey frame, turned upright as the camera took it.

    Raises :class:`PictureError` for a file that is not a picture Pillow can read;
    ``OSError`` for a file that cannot be opened at all (missing, a folder).
    """
    where = Path(path)
    try:
        with Image.open(where) as picture:
            upright = ImageOps.exif_transpose(picture)
            if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info:
                # A screenshot's transparent background would turn black, under black modules.
                paper = Image.new("RGBA", upright.size, "white")
                upright = Image.alpha_composite(paper, upright.convert("RGBA"))
            return LumaFrame.from_image(upright)
    except UnidentifiedImageError:
        raise PictureError(
            f"{where.name} is not a picture EventDesk can read (PNG, JPEG, WebP, …)"
        ) from None
    except Image.DecompressionBombError:
        raise PictureError(f"{where.name} is too large a picture; send a smaller one") from None
    except (SyntaxError, ValueError, EOFError) as exc:  # Pillow's word for a damaged file
        raise PictureError(f"{where.name} is a damaged picture ({exc})") from None
    except OSError as exc:
        if exc.filename or exc.errno is not None:
            raise  # missing, unreadable, a folder: the caller's usual one-line error
        raise PictureError(f"{where.name} is a damaged picture ({exc})") from None


def read_picture(path: Path | str) -> str:
    """The one badge code in a photo or screenshot; :class:`PictureError` if none or several."""
    frame = open_picture(path)
    reading = read_frame(frame)
    texts = list(dict.fromkeys(clean_scan_input(t) or t for t in reading.texts))
    name = Path(path).name
    if not texts:
        advice = (
            "the picture is very dark: take it again in better light"
            if reading.brightness < DARK_LEVEL
            else "take a sharper picture, closer to the badge"
        )
        raise PictureError(f"no QR code found in {name}; {advice}")
    if len(texts) > 1:
        raise PictureError(
            f"{name} shows {len(texts)} different QR codes; crop it to a single badge"
        )
    return reading.texts[0]


class Deduper:
    """Lets a code through once, then not again while it keeps being seen.

    A code is let through when it has not been seen for ``window`` seconds: a badge held in
    front of the camera is decided once however long it stays there, and again only after it
    has been out of view for the window (a second person with the same badge is a real scan).
    """

    def __init__(
        self, window: float = DEDUPE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window = window
        self.clock = clock
        self._seen: dict[str, float] = {}

    def fresh(self, texts: Iterable[str], now: float | None = None) -> list[str]:
        """The texts to decide now; every text given counts as seen at ``now``."""
        moment = self.clock() if now is None else now
        self._seen = {k: t for k, t in self._seen.items() if moment - t < self.window}
        let_through: list[str] = []
        keys: set[str] = set()
        for text in texts:
            key = clean_scan_input(text) or text
            if key in keys:
                continue
            keys.add(key)
            if key not in self._seen:
                let_through.append(text)
            self._seen[key] = moment
        return let_through

    def forget(self) -> None:
        """Let every code through again (the camera was switched, the desk changed door)."""
        self._seen.clear()


class Advisor:
    """Says what to change when no code has been read for ``after`` seconds.

    The hint is a key of :data:`HINTS` (or None): ``light`` when the recent frames are dark,
    ``glare`` when they are washed out, else ``closer``. A code read clears it.
    """

    def __init__(
        self,
        after: float = HINT_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        frames: int = 8,
    ) -> None:
        self.after = after
        self.clock = clock
        self._levels: deque[float] = deque(maxlen=max(1, frames))
        self._since: float | None = None
        self.hint: str | None = None

    def reset(self) -> None:
        """Start counting again (the camera started, a code was just decided)."""
        self._levels.clear()
        self._since = None
        self.hint = None

    def update(self, reading: FrameReading, now: float | None = None) -> str | None:
        """Take one frame's reading into account; returns the hint to show now."""
        moment = self.clock() if now is None else now
        self._levels.append(reading.brightness)
        if reading.codes:
            self._since = moment
            self.hint = None
            return None
        if self._since is None:
            self._since = moment
        if moment - self._since < self.after:
            self.hint = None
            return None
        level = sum(self._levels) / len(self._levels)
        if level < DARK_LEVEL:
            self.hint = "light"
        elif level > BRIGHT_LEVEL:
            self.hint = "glare"
        else:
            self.hint = "closer"
        return self.hint
