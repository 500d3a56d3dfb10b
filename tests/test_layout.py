"""Layouts: loading, rendering real PDFs, reading them back, decoding their QR codes."""

from __future__ import annotations

import io
import json
import math
import random
import re
import unicodedata
from pathlib import Path
from typing import Any

import pypdf
import pytest
import qrcode
from conftest_layout_helpers import (
    CONTEXT,
    decode_qr,
    demo_records,
    ink_bounds,
    mm_to_px,
    pdf_to_pngs,
    sample_token,
)
from PIL import Image
from qrcode.util import MODE_ALPHA_NUM, QRData

from desktop import qrmatrix
from desktop.fonts import FontLibrary, discover_cjk_faces
from desktop.layout import (
    CategoryStyle,
    LayoutError,
    fill,
    list_layouts,
    load_layout,
    parse_colour,
    render,
)

BUILTINS = {
    "a6": (105.0, 148.0, 1),
    "cr80": (85.6, 54.0, 1),
    "label-4x3": (102.0, 76.0, 1),
    "a4-sheet": (210.0, 297.0, 4),
}


@pytest.fixture(scope="module")
def bare_fonts() -> FontLibrary:
    return FontLibrary(system_fallbacks=[])


def _write_layout(folder: Path, name: str, data: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _page_texts(pdf: Path) -> list[str]:
    return [unicodedata.normalize("NFKC", p.extract_text()) for p in pypdf.PdfReader(pdf).pages]


# -- finding and reading layouts --------------------------------------------------------


def test_builtin_layouts_are_listed_with_their_sizes() -> None:
    infos = {info.name: info for info in list_layouts()}
    assert set(BUILTINS) <= set(infos)
    for name, (page_w, page_h, per_page) in BUILTINS.items():
        info = infos[name]
        assert info.builtin
        assert (info.page_width, info.page_height, info.per_page) == (page_w, page_h, per_page)
        assert info.title
    assert (infos["a4-sheet"].width, infos["a4-sheet"].height) == (105.0, 148.0)


def test_organisers_layouts_extend_and_shadow_builtins(tmp_path: Path) -> None:
    user = tmp_path / "layouts"
    _write_layout(user, "a6", {"extends": "a6", "title": "Our A6", "defaults": {"x": "1"}})
    _write_layout(user, "green", {"extends": "cr80", "defaults": {"brand_colour": "#1b7f3b"}})
    infos = {info.name: info for info in list_layouts(user)}
    assert infos["a6"].title == "Our A6" and not infos["a6"].builtin
    assert infos["green"].page_width == 85.6 and not infos["green"].builtin
    own = load_layout("a6", user)
    builtin = load_layout("a6")
    assert own.elements == builtin.elements
    assert own.defaults["brand_colour"] == "#12325e" and own.defaults["x"] == "1"
    assert load_layout("green", user).defaults["brand_colour"] == "#1b7f3b"
    assert load_layout(str(user / "green.json")).width == 85.6


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON (line 1"),
        ('{"page": {"width": 100}}', "'height' must be a number"),
        (
            '{"page": {"width": 90, "height": 50}, "elements": [{"type": "text", "box": [1, 2]}]}',
            "element 1 (text): 'box' must be [x, y, width, height]",
        ),
        (
            '{"page": {"width": 90, "height": 50}, "elements": [{"type": "star"}]}',
            "'type' must be one of",
        ),
        (
            '{"page": {"width": 90, "height": 50}, "elements": [{"type": "rect",'
            ' "box": [0, 0, 5, 5], "fill": "reddish"}]}',
            "'fill' is not a colour",
        ),
        (
            '{"page": {"width": 105, "height": 148}, "sheet": {"width": 210, "height": 297,'
            ' "cols": 3, "rows": 2}}',
            "do not fit on a 210 x 297 mm sheet",
        ),
    ],
)
def test_bad_layouts_say_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LayoutError, match=re.escape(message)):
        load_layout(str(path))
    # A broken file in the organiser's folder does not hide the others.
    assert {info.name for info in list_layouts(tmp_path)} >= set(BUILTINS)


def test_unknown_and_circular_layouts(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match=r"No layout called 'a5'.*a4-sheet, a6"):
        load_layout("a5")
    _write_layout(tmp_path, "one", {"extends": "two"})
    _write_layout(tmp_path, "two", {"extends": "one"})
    with pytest.raises(LayoutError, match="in a loop"):
        load_layout("one", tmp_path)


def test_placeholders_and_colours() -> None:
    values = {"given_name": "Thu Hà", "family_name": "Nguyễn", "count": "3"}
    assert fill("{family_name} {given_name}", values) == "Nguyễn Thu Hà"
    assert fill("{{literal}} {missing}!", values) == "{literal} !"
    assert parse_colour("#1f4e8c") == pytest.approx((31 / 255, 78 / 255, 140 / 255))
    assert parse_colour("#fff") == (1.0, 1.0, 1.0)
    assert parse_colour("blue") is None


# -- rendering ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_layout_renders_names_and_decodable_qr_codes(
    tmp_path: Path, name: str, bare_fonts: FontLibrary
) -> None:
    records = demo_records()
    pdf = tmp_path / f"{name}.pdf"
    layout = load_layout(name)
    report = render(layout, records, pdf, context=CONTEXT, fonts=bare_fonts)
    per_page = BUILTINS[name][2]
    assert report.pages == math.ceil(len(records) / per_page)
    assert report.documents == len(records)
    texts = _page_texts(pdf)
    assert len(texts) == report.pages
    everything = " ".join(" ".join(texts).split())  # names may wrap
    for needle in ("Nguyễn", "Thị Thu Hà", "Somchai Jaidee", "สมชาย ใจดี", "Reza Ahmadi"):
        assert needle in everything, needle
    # Persian comes out as joined presentation forms that normalise back to the letters.
    assert "رضا" in everything or "رضا"[::-1] in everything
    for record in records:
        assert record["short_code"] in everything
    # Without a CJK font the Japanese name is reported, character by character.
    assert any("U+5C71 CJK UNIFIED IDEOGRAPH-5C71" in w and "OI-0004" in w for w in report.warnings)
    decoded: list[str] = []
    for png in pdf_to_pngs(pdf, tmp_path, dpi=203, gray=True):
        found = decode_qr(png)
        for barcode in found:
            assert barcode.ec_level in ("M", "Q")
            # Module size: the symbol spans version * 4 + 17 modules.
            version = int(barcode.extra["Version"])
            corners = barcode.position
            width_px = corners.top_right.x - corners.top_left.x
            module_px = width_px / (version * 4 + 17)
            assert module_px >= mm_to_px(0.5, 203) - 0.3, (name, module_px)
        decoded.extend(b.text for b in found)
    assert sorted(decoded) == sorted(r["token"] for r in records)


def test_a6_qr_is_at_least_30_mm_with_a_quiet_zone(tmp_path: Path, bare_fonts: FontLibrary) -> None:
    pdf = tmp_path / "a6.pdf"
    render(load_layout("a6"), demo_records()[:1], pdf, context=CONTEXT, fonts=bare_fonts)
    (png,) = pdf_to_pngs(pdf, tmp_path, dpi=203, gray=True)
    (barcode,) = decode_qr(png)
    corners = barcode.position
    side_mm = (corners.top_right.x - corners.top_left.x) / 203 * 25.4
    assert side_mm >= 30
    module = side_mm / (int(barcode.extra["Version"]) * 4 + 17)
    with Image.open(png) as image:
        gray = image.convert("L")
        # Four modules of white on every side of the symbol.
        quiet = mm_to_px(4 * module, 203) - 2
        left, top = corners.top_left.x, corners.top_left.y
        right, bottom = corners.bottom_right.x, corners.bottom_right.y
        for x0, y0, x1, y1 in (
            (left - quiet, top, left - 2, bottom),
            (right + 2, top, right + quiet, bottom),
            (left, top - quiet, right, top - 2),
            (left, bottom + 2, right, bottom + quiet),
        ):
            region = gray.crop((int(x0), int(y0), int(x1), int(y1)))
            assert region.getextrema()[0] > 200


def test_sheet_puts_four_per_page_with_cut_marks(tmp_path: Path, bare_fonts: FontLibrary) -> None:
    records = [dict(r, short_code=f"OI-{i:04d}") for i, r in enumerate(demo_records() * 2)][:9]
    for i, record in enumerate(records):
        record["token"] = sample_token(100 + i)
    pdf = tmp_path / "sheet.pdf"
    report = render(load_layout("a4-sheet"), records, pdf, context=CONTEXT, fonts=bare_fonts)
    assert report.pages == 3 == math.ceil(9 / 4)
    reader = pypdf.PdfReader(pdf)
    width_mm = float(reader.pages[0].mediabox.width) / 72 * 25.4
    height_mm = float(reader.pages[0].mediabox.height) / 72 * 25.4
    assert (round(width_mm), round(height_mm)) == (210, 297)
    pngs = pdf_to_pngs(pdf, tmp_path, dpi=203, gray=True)
    assert [len(decode_qr(p)) for p in pngs] == [4, 4, 1]
    first = {b.text for b in decode_qr(pngs[0])}
    assert first == {r["token"] for r in records[:4]}
    # The cut mark on the vertical cut line shows at the bottom edge of the page: a dark
    # line with a white halo, over the category band.
    with Image.open(pngs[0]) as image:
        gray = image.convert("L")
        x = round(mm_to_px(105, 203))
        for y_mm in (290, 5):
            y = round(mm_to_px(y_mm, 203))
            row = [gray.getpixel((x + dx, y)) for dx in range(-3, 4)]
            assert min(row[2:5]) < 120
            assert max(row[:3]) > 200 and max(row[4:]) > 200
            assert gray.getpixel((x + 12, y)) < 200  # the band/header, not the mark
        # Away from the edges the cut line carries no mark.
        assert gray.getpixel((x, round(mm_to_px(60, 203)))) > 200


def _single_text_layout(box: list[float], **style: Any) -> dict[str, Any]:
    return {
        "page": {"width": 120, "height": 60},
        "elements": [{"type": "text", "box": box, "text": "{organisation}", **style}],
    }


@pytest.mark.parametrize(
    "text",
    [
        "Development Academy of the Philippines, Centre of Excellence on Public Sector"
        " Productivity and Innovation, Manila Office, Ortigas Center, Pasig City",
        "NGUYỄN THỊ THU HÀ NGUYỄN THỊ THU HÀ",
        "น้ำใจ ที่สุด ปิ่นเกล้า",
        "အောင်ကျော် ဝင်းမြင့် သန်းထွန်း",
        "سازمان اداری و استخدامی کشور جمهوری اسلامی ایران",
        "ประสิทธิภาพ प्रिया शर्मा Reza رضا",
        "Wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww",
    ],
)
@pytest.mark.parametrize(
    "style",
    [
        {"size": 30, "min_size": 12, "max_lines": 2},
        {"size": 14, "min_size": 9, "max_lines": 1, "bold": True, "align": "left"},
        {"size": 40, "min_size": 20, "max_lines": 3, "align": "right", "valign": "bottom"},
    ],
)
def test_text_never_overflows_its_box_measured_on_the_page(
    tmp_path: Path, text: str, style: dict[str, Any], bare_fonts: FontLibrary
) -> None:
    box = [20.0, 15.0, 80.0, 22.0]
    path = _write_layout(tmp_path, "one", _single_text_layout(box, **style))
    pdf = tmp_path / "one.pdf"
    render(load_layout(str(path)), [{"organisation": text}], pdf, fonts=bare_fonts)
    (png,) = pdf_to_pngs(pdf, tmp_path, dpi=300, gray=True)
    with Image.open(png) as image:
        bounds = ink_bounds(image)
    assert bounds is not None, "something was drawn"
    left, top, right, bottom = bounds
    slack = 2  # antialiasing
    assert left >= mm_to_px(box[0], 300) - slack
    assert top >= mm_to_px(box[1], 300) - slack
    assert right <= mm_to_px(box[0] + box[2], 300) + slack
    assert bottom <= mm_to_px(box[1] + box[3], 300) + slack


def test_uncovered_character_gives_a_warning_naming_it(
    tmp_path: Path, bare_fonts: FontLibrary
) -> None:
    record = dict(demo_records()[0], badge_name="Anna \U0010fffd Lee 😀", short_code="OI-TEST")
    report = render(load_layout("a6"), [record], tmp_path / "w.pdf", fonts=bare_fonts)
    assert "No font covers U+10FFFD private use character in 'badge_name' of attendee OI-TEST" in (
        report.warnings
    )
    assert any(w.startswith("No font covers U+1F600 GRINNING FACE") for w in report.warnings)
    assert "Anna" in _page_texts(tmp_path / "w.pdf")[0]


def test_japanese_name_prints_with_a_system_cjk_font(tmp_path: Path) -> None:
    faces = discover_cjk_faces()
    if not faces:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    fonts = FontLibrary(system_fallbacks=faces)
    record = demo_records()[3]
    layout = load_layout("a6")
    pdf = tmp_path / "ja.pdf"
    report = render(layout, [record], pdf, context=CONTEXT, fonts=fonts)
    assert not [w for w in report.warnings if "No font covers" in w]
    box = next(e.box for e in layout.elements if e.name == "native_name")
    (png,) = pdf_to_pngs(pdf, tmp_path, dpi=150, gray=True)
    with Image.open(png) as image:
        region = image.crop(
            tuple(round(mm_to_px(v, 150)) for v in (box.x, box.y, box.x + box.w, box.y + box.h))
        )
        bounds = ink_bounds(region)
    assert bounds is not None
    assert bounds[2] - bounds[0] > mm_to_px(15, 150)  # four ideographs at 15 pt


def test_band_colour_and_legend_follow_the_category(
    tmp_path: Path, bare_fonts: FontLibrary
) -> None:
    layout = load_layout("a6")
    records = [
        dict(demo_records()[0], category_key="vip", category="VIP"),
        dict(demo_records()[0], category_key="press", category="Press"),
        dict(demo_records()[0], category_key="participant"),
    ]
    overrides = {"participant": CategoryStyle(colour="#00ff00", legend="Delegate")}
    pdf = tmp_path / "bands.pdf"
    render(layout, records, pdf, context=CONTEXT, categories=overrides, fonts=bare_fonts)
    texts = _page_texts(pdf)
    assert "VIP" in texts[0]
    assert "PRESS" in texts[1]  # unknown key: the "*" style with the record's category
    assert "DELEGATE" in texts[2]
    colours = []
    for png in pdf_to_pngs(pdf, tmp_path, dpi=50):
        with Image.open(png) as image:
            rgb = image.convert("RGB")
            colours.append(rgb.getpixel((3, round(mm_to_px(146, 50)))))
    assert colours[0] == (0x1D, 0x23, 0x2A)
    assert colours[1] == (0x5B, 0x65, 0x70)
    assert colours[2] == (0, 255, 0)


def test_empty_fields_leave_no_dangling_separators(tmp_path: Path, bare_fonts: FontLibrary) -> None:
    record = dict(demo_records()[0])
    pdf = tmp_path / "sep.pdf"
    render(load_layout("a6"), [record], pdf, context={"event_name": "Summit"}, fonts=bare_fonts)
    text = _page_texts(pdf)[0]
    assert "Summit" in text
    assert "·" not in text  # "{event_dates} · {venue}" with neither


def test_images_from_the_layout_folder_and_a_warning_when_missing(
    tmp_path: Path, bare_fonts: FontLibrary
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    Image.new("RGB", (40, 20), (200, 0, 0)).save(folder / "logo.png")
    layout_path = _write_layout(
        folder,
        "logo",
        {
            "page": {"width": 60, "height": 40},
            "elements": [
                {"type": "image", "box": [10, 10, 40, 20], "path": "logo.png"},
                {"type": "image", "box": [0, 0, 5, 5], "path": "{event_logo}"},
            ],
        },
    )
    pdf = tmp_path / "logo.pdf"
    report = render(
        load_layout(str(layout_path)),
        [{}],
        pdf,
        context={"event_logo": "gone.png"},
        fonts=bare_fonts,
    )
    assert report.warnings == ["Image 'gone.png' of layout 'logo' cannot be read"]
    (png,) = pdf_to_pngs(pdf, tmp_path, dpi=50)
    with Image.open(png) as image:
        assert image.convert("RGB").getpixel(
            (round(mm_to_px(30, 50)), round(mm_to_px(20, 50)))
        ) == (200, 0, 0)


def test_when_skips_elements_and_missing_token_is_reported(
    tmp_path: Path, bare_fonts: FontLibrary
) -> None:
    path = _write_layout(
        tmp_path,
        "cond",
        {
            "page": {"width": 60, "height": 60},
            "elements": [
                {"type": "rect", "box": [0, 0, 60, 10], "fill": "#000000", "when": "vip"},
                {"type": "qr", "box": [10, 20, 40, 40]},
            ],
        },
    )
    pdf = tmp_path / "cond.pdf"
    report = render(load_layout(str(path)), [{"short_code": "OI-1"}], pdf, fonts=bare_fonts)
    assert report.warnings == ["Attendee OI-1 has no 'token' for the QR code"]
    (png,) = pdf_to_pngs(pdf, tmp_path, dpi=50, gray=True)
    with Image.open(png) as image:
        assert ink_bounds(image) is None


def test_progress_can_cancel_and_output_can_be_a_stream(bare_fonts: FontLibrary) -> None:
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> bool:
        seen.append((done, total))
        return done < 2

    buffer = io.BytesIO()
    report = render(
        load_layout("cr80"), demo_records(), buffer, progress=progress, fonts=bare_fonts
    )
    assert report.cancelled
    assert report.documents == 2 and report.pages == 2
    assert seen == [(1, 5), (2, 5)]
    assert len(pypdf.PdfReader(io.BytesIO(buffer.getvalue())).pages) == 2
    with pytest.raises(ValueError, match="no records"):
        render(load_layout("cr80"), [], io.BytesIO())


def test_same_input_gives_the_same_pdf(bare_fonts: FontLibrary) -> None:
    outputs = []
    for _ in range(2):
        buffer = io.BytesIO()
        render(load_layout("a6"), demo_records(), buffer, context=CONTEXT, fonts=bare_fonts)
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1]


# -- QR matrices -------------------------------------------------------------------------


@pytest.mark.parametrize("ecc", ["M", "Q"])
def test_qr_matrix_matches_the_qrcode_library_for_the_chosen_mask(ecc: str) -> None:
    for seed in range(6):
        token = sample_token(seed)
        matrix = qrmatrix.build(token, ecc)
        reference = qrcode.QRCode(
            error_correction=qrmatrix.ERROR_LEVELS[ecc], border=0, mask_pattern=matrix.mask
        )
        reference.add_data(QRData(token, mode=MODE_ALPHA_NUM), optimize=0)
        reference.make()
        expected = reference.get_matrix()
        assert matrix.size == len(expected)
        assert all(
            matrix.dark(r, c) == bool(expected[r][c])
            for r in range(matrix.size)
            for c in range(matrix.size)
        )
        # 144 alphanumeric characters fit version 6 (M) or 8 (Q); bytes would need more.
        assert matrix.version == {"M": 6, "Q": 8}[ecc]


def _naive_penalty(grid: list[list[bool]]) -> int:
    n = len(grid)
    score = 0
    lines = [list(row) for row in grid] + [[grid[r][c] for r in range(n)] for c in range(n)]
    for line in lines:
        run = 1
        for i in range(1, n + 1):
            if i < n and line[i] == line[i - 1]:
                run += 1
            else:
                if run >= 5:
                    score += 3 + run - 5
                run = 1
        padded = [False] * 4 + line + [False] * 4
        core = [True, False, True, True, True, False, True]
        for i in range(4, n + 4 - 6):
            if padded[i : i + 7] == core:
                if not any(padded[i - 4 : i]):
                    score += 40
                if not any(padded[i + 7 : i + 11]):
                    score += 40
    for r in range(n - 1):
        for c in range(n - 1):
            if grid[r][c] == grid[r][c + 1] == grid[r + 1][c] == grid[r + 1][c + 1]:
                score += 3
    dark = sum(sum(row) for row in grid)
    score += 10 * (abs(dark * 20 - 10 * n * n) // (n * n))
    return score


def test_mask_penalty_equals_the_rules_written_out() -> None:
    rng = random.Random(7)
    for n in (21, 25, 41):
        for density in (0.2, 0.5, 0.8):
            grid = [[rng.random() < density for _ in range(n)] for _ in range(n)]
            rows = [sum(1 << c for c, v in enumerate(row) if v) for row in grid]
            assert qrmatrix.penalty(rows, n) == _naive_penalty(grid)
    finder = [[False] * 21 for _ in range(21)]
    for c, v in enumerate([True, False, True, True, True, False, True]):
        finder[10][7 + c] = v
    rows = [sum(1 << c for c, v in enumerate(row) if v) for row in finder]
    assert qrmatrix.penalty(rows, 21) == _naive_penalty(finder)


def test_non_alphanumeric_data_uses_byte_mode() -> None:
    matrix = qrmatrix.build("https://example.org/a?b=c", "M")
    assert matrix.size == matrix.version * 4 + 17
    assert len(matrix.runs()) > 0


def test_name_takes_the_room_of_a_missing_native_name(
    tmp_path: Path, bare_fonts: FontLibrary
) -> None:
    base = dict(demo_records()[2])  # Reza Ahmadi, with a Persian native name
    records = [dict(base, native_name=""), base]
    pdf = tmp_path / "alt.pdf"
    render(load_layout("a6"), records, pdf, context=CONTEXT, fonts=bare_fonts)
    centres = []
    for png in pdf_to_pngs(pdf, tmp_path, dpi=100, gray=True):
        with Image.open(png) as image:
            crop = (mm_to_px(6, 100), mm_to_px(30, 100), mm_to_px(99, 100), mm_to_px(57.5, 100))
            bounds = ink_bounds(image.crop(tuple(round(v) for v in crop)))
        assert bounds is not None
        centres.append((bounds[1] + bounds[3]) / 2 / 100 * 25.4)
    without, with_native = centres
    assert without - with_native > 3  # centred in the taller box: lower on the badge
