"""Draw the EventDesk application icon: SVG, PNGs, Windows ICO and macOS ICNS.

The icon is a white name badge on a lanyard, with a QR code, on the app's blue. Every shape is
listed once in a 256-unit square and both the SVG and the PNGs are drawn from that list, so the
output depends only on this file (and Pillow). Small sizes (48 px and below) use a simpler
drawing whose parts stay at least two pixels wide.

    python packaging/make_icons.py            # writes resources/icons/ and packaging/
    python packaging/make_icons.py --out DIR  # writes everything into DIR (tests)
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

BLUE = "#1f4e8c"
STRAP = "#8fb3e3"
LINE = "#a9bcd6"
WHITE = "#ffffff"
UNITS = 256
SUPERSAMPLE = 4
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # the app and Linux menus use these
ICNS_SIZES = (32, 64, 128, 256, 512, 1024)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
SMALL_UP_TO = 48
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Box:
    """A filled, optionally rounded rectangle in icon units."""

    x0: float
    y0: float
    x1: float
    y1: float
    fill: str
    radius: float = 0.0


def _qr(x: float, y: float, cell: float) -> list[Box]:
    """A stylised QR code on an 8x8 grid: three finder patterns and a fixed scatter of modules."""
    boxes: list[Box] = []
    ring = cell * 7 / 11
    for col, row in ((0, 0), (5, 0), (0, 5)):
        fx, fy = x + col * cell, y + row * cell
        side = 3 * cell
        boxes.append(Box(fx, fy, fx + side, fy + side, BLUE, ring * 0.6))
        boxes.append(Box(fx + ring, fy + ring, fx + side - ring, fy + side - ring, WHITE))
        core = fx + cell, fy + cell
        boxes.append(Box(core[0], core[1], core[0] + cell, core[1] + cell, BLUE, cell * 0.15))
    modules = (
        (4, 0), (3, 1), (4, 2), (0, 3), (2, 3), (3, 3), (5, 3), (7, 3), (1, 4), (4, 4),
        (6, 4), (3, 5), (5, 5), (7, 5), (4, 6), (6, 6), (3, 7), (5, 7), (6, 7), (7, 7),
    )  # fmt: skip
    for col, row in modules:
        mx, my = x + col * cell, y + row * cell
        boxes.append(Box(mx, my, mx + cell, my + cell, BLUE, cell * 0.15))
    return boxes


def full_icon() -> list[Box]:
    """The detailed drawing, for 64 px and up and for the SVG."""
    return [
        Box(12, 12, 244, 244, BLUE, 52),
        Box(117, 12, 139, 70, STRAP),
        Box(58, 48, 198, 230, WHITE, 18),
        Box(108, 60, 148, 72, BLUE, 6),
        Box(82, 86, 174, 99, BLUE, 6.5),
        Box(100, 106, 156, 114, LINE, 4),
        *_qr(84, 124, 11),
    ]


def small_icon() -> list[Box]:
    """The simple drawing for 16-48 px: badge, slot and three QR finder squares."""
    return [
        Box(8, 8, 248, 248, BLUE, 48),
        Box(52, 36, 204, 236, WHITE, 24),
        Box(104, 54, 152, 74, BLUE, 10),
        Box(76, 96, 122, 142, BLUE, 8),
        Box(134, 96, 180, 142, BLUE, 8),
        Box(76, 154, 122, 200, BLUE, 8),
        Box(146, 166, 168, 188, BLUE, 4),
    ]


def _num(value: float) -> str:
    return f"{value:g}"


def to_svg(boxes: list[Box]) -> str:
    """The drawing as a standalone SVG document."""
    lines = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">',
        "  <title>EventDesk</title>",
    ]
    for b in boxes:
        rounding = f' rx="{_num(b.radius)}"' if b.radius else ""
        lines.append(
            f'  <rect x="{_num(b.x0)}" y="{_num(b.y0)}" width="{_num(b.x1 - b.x0)}" '
            f'height="{_num(b.y1 - b.y0)}"{rounding} fill="{b.fill}"/>'
        )
    lines.append("</svg>")
    return "\n".join(lines) + "\n"


def render(size: int) -> Image.Image:
    """The icon at ``size`` pixels, drawn large and scaled down for smooth edges."""
    boxes = small_icon() if size <= SMALL_UP_TO else full_icon()
    big = size * SUPERSAMPLE
    scale = big / UNITS
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for b in boxes:
        # Pillow's x1/y1 are inclusive; subtract one pixel so edges match the SVG's.
        xy = (b.x0 * scale, b.y0 * scale, b.x1 * scale - 1, b.y1 * scale - 1)
        if b.radius:
            draw.rounded_rectangle(xy, radius=b.radius * scale, fill=b.fill)
        else:
            draw.rectangle(xy, fill=b.fill)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def write_icons(icons_dir: Path, packaging_dir: Path) -> list[Path]:
    """Write the SVG and PNGs to ``icons_dir`` and the ICO and ICNS to ``packaging_dir``."""
    icons_dir.mkdir(parents=True, exist_ok=True)
    packaging_dir.mkdir(parents=True, exist_ok=True)
    images = {size: render(size) for size in sorted({*PNG_SIZES, *ICO_SIZES, *ICNS_SIZES})}
    written: list[Path] = []

    svg = icons_dir / "eventdesk.svg"
    svg.write_text(to_svg(full_icon()), encoding="utf-8")
    written.append(svg)
    for size in PNG_SIZES:
        path = icons_dir / f"eventdesk-{size}.png"
        images[size].save(path, "PNG", optimize=True)
        written.append(path)

    ico = packaging_dir / "eventdesk.ico"
    largest = images[max(ICO_SIZES)]
    others = [images[s] for s in ICO_SIZES if s != max(ICO_SIZES)]
    largest.save(ico, "ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=others)
    written.append(ico)

    icns = packaging_dir / "eventdesk.icns"
    largest = images[max(ICNS_SIZES)]
    largest.save(icns, "ICNS", append_images=[images[s] for s in ICNS_SIZES[:-1]])
    written.append(icns)
    return written


def main() -> None:
    """Command-line entry: regenerate the icon files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write every file into this folder instead")
    args = parser.parse_args()
    if args.out:
        paths = write_icons(args.out, args.out)
    else:
        paths = write_icons(ROOT / "resources" / "icons", ROOT / "packaging")
    for path in paths:
        print(path)


if __name__ == "__main__":
    main()
