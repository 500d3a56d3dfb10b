"""Camera frames made from real badges: render the PDF, rasterise it, then hold it up badly.

A frame is what a 1280×720 webcam would see: a dim, uneven room, and the badge somewhere in
it, shrunk, turned, out of focus or in poor light, as Pillow makes it.
"""

from __future__ import annotations

from pathlib import Path

from conftest_layout_helpers import pdf_to_pngs
from PIL import Image, ImageEnhance, ImageFilter

from desktop import badges
from desktop.badges import BadgeFilter
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id
from desktop.store import Store

FRAME_SIZE = (1280, 720)


def render_badge_png(store: Store, index: int, out_dir: Path, dpi: int = 100) -> Path:
    """Demo attendee ``index``'s A6 badge, drawn as it prints, as a PNG at ``dpi``."""
    pdf = out_dir / f"badge-{index}.pdf"
    with store.begin() as session:
        badges.render_badges(
            session,
            store.data_dir,
            DEMO_EVENT_ID,
            pdf,
            "a6",
            BadgeFilter(ids=(demo_attendee_id(index),)),
        )
    [png] = pdf_to_pngs(pdf, out_dir, dpi=dpi)
    return png


def room(size: tuple[int, int] = FRAME_SIZE, dark: int = 70, light: int = 150) -> Image.Image:
    """A grey, unevenly lit background: brighter towards one corner, like a room."""
    ramp = Image.linear_gradient("L").rotate(-35, expand=False).resize(size)
    return ramp.point(lambda v: dark + (light - dark) * v // 255)


def badge_frame(
    badge: Image.Image,
    *,
    scale: float = 1.0,
    angle: float = 0.0,
    blur: float = 0.0,
    light: float = 1.0,
    centre: tuple[float, float] = (0.45, 0.5),
    background: Image.Image | None = None,
    others: tuple[tuple[Image.Image, tuple[float, float]], ...] = (),
) -> Image.Image:
    """A grey frame with ``badge`` held up in it: scaled, turned ``angle`` degrees, blurred
    by a Gaussian of radius ``blur`` and lit at ``light`` times the normal brightness."""
    frame = (background or room()).copy()
    for picture, where in ((badge, centre), *others):
        held = picture.convert("L").resize(
            (max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
            Image.Resampling.LANCZOS,
        )
        mask = Image.new("L", held.size, 255)
        if angle:
            held = held.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
            mask = mask.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
        x = round(where[0] * frame.width - held.width / 2)
        y = round(where[1] * frame.height - held.height / 2)
        frame.paste(held, (x, y), mask)
    if blur:
        frame = frame.filter(ImageFilter.GaussianBlur(blur))
    if light != 1.0:
        frame = ImageEnhance.Brightness(frame).enhance(light)
    return frame
