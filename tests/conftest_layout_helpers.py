"""Shared helpers for the layout and font tests: demo records, PDF to PNG, QR decoding."""

from __future__ import annotations

import base64
import random
import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image

CONTEXT = {
    "event_name": "Conference on Open Innovation in the Public Sector",
    "event_dates": "28–29 August 2024",
    "venue": "Manila, Philippines",
}


def sample_token(seed: int) -> str:
    """A token shaped like a real one: EVD1 + base32 of 87 bytes (140 characters)."""
    rng = random.Random(seed)
    raw = bytes(rng.randrange(256) for _ in range(87))
    return "EVD1" + base64.b32encode(raw).decode("ascii").rstrip("=")


def _record(seed: int, **fields: str) -> dict[str, str]:
    record = {
        "badge_name": "",
        "given_name": "",
        "family_name": "",
        "native_name": "",
        "organisation": "",
        "position": "",
        "country_name": "",
        "category": "Participant",
        "category_key": "participant",
        "short_code": f"OI-{seed:04d}",
        "token": sample_token(seed),
    }
    record.update(fields)
    return record


def demo_records() -> list[dict[str, str]]:
    """Attendees like the demo event's: several scripts, one very long name."""
    return [
        _record(
            1,
            badge_name="Nguyễn Thị Thu Hà",
            given_name="Thu Hà",
            family_name="Nguyễn",
            organisation="Ministry of Home Affairs",
            position="Deputy Director",
            country_name="Viet Nam",
            short_code="OI-4K7Q",
        ),
        _record(
            2,
            badge_name="Somchai Jaidee",
            native_name="สมชาย ใจดี",
            organisation="Office of the Public Sector Development Commission",
            country_name="Thailand",
            category="Resource person",
            category_key="resource_person",
        ),
        _record(
            3,
            badge_name="Reza Ahmadi",
            native_name="رضا احمدی",
            organisation="Administrative and Recruitment Affairs Organization",
            country_name="Iran",
        ),
        _record(
            4,
            badge_name="Yamada Taro",
            native_name="山田 太郎",
            organisation="Japan Productivity Center",
            country_name="Japan",
            category="Observer",
            category_key="observer",
        ),
        _record(
            5,
            badge_name="Maria Clara Concepcion Santos-Villanueva de los Reyes",
            organisation=(
                "Development Academy of the Philippines, Centre of Excellence on Public"
                " Sector Productivity and Innovation"
            ),
            position="Vice President for Research and Innovation Services",
            country_name="Philippines",
            category="Secretariat",
            category_key="secretariat",
        ),
    ]


def pdf_to_pngs(pdf: Path, out_dir: Path, dpi: int = 203, gray: bool = False) -> list[Path]:
    """Rasterise every page with poppler's pdftoppm; PNG paths in page order."""
    prefix = out_dir / f"{pdf.stem}-{dpi}"
    args = ["pdftoppm", "-r", str(dpi), "-png"]
    if gray:
        args.append("-gray")
    subprocess.run([*args, str(pdf), str(prefix)], check=True, capture_output=True)
    return sorted(out_dir.glob(f"{prefix.name}-*.png"), key=lambda p: int(p.stem.rsplit("-")[-1]))


def decode_qr(png: Path) -> list[zxingcpp.Barcode]:
    """Every QR code zxing-cpp finds on a page image."""
    with Image.open(png) as image:
        return [
            b
            for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
            if b.valid
        ]


def ink_bounds(image: Image.Image, threshold: int = 200) -> tuple[int, int, int, int] | None:
    """Bounding box (left, top, right, bottom) of pixels darker than ``threshold``."""
    gray = image.convert("L").point(lambda v: 255 if v < threshold else 0)
    return gray.getbbox()


def mm_to_px(mm: float, dpi: int) -> float:
    """Millimetres to pixels at ``dpi``."""
    return mm / 25.4 * dpi
