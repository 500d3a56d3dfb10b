"""Bundled fonts, per-character fallback, bidi order, shaping and fitting text in a box."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.fonts import (
    BUNDLED_SANS,
    FontFace,
    FontLibrary,
    bundled_files,
    default_library,
    discover_cjk_faces,
)
from desktop.paths import resources_dir
from desktop.textshaping import (
    ELLIPSIS,
    TextShaper,
    TextStyle,
    _bidi_levels,
    _visual_order,
    describe_char,
    tidy,
)

SAMPLES = {
    "NotoSans-Regular.ttf": "Nguyễn Thị Thu Hà Trần Quốc Việt",
    "NotoSansArabic-Regular.ttf": "رضا احمدی",
    "NotoSansThai-Regular.ttf": "สมชาย ใจดี",
    "NotoSansDevanagari-Regular.ttf": "प्रिया शर्मा",
    "NotoSansBengali-Regular.ttf": "রহিম উদ্দিন",
    "NotoSansTamil-Regular.ttf": "முருகன் செல்வம்",
    "NotoSansSinhala-Regular.ttf": "සුනිල් පෙරේරා",
    "NotoSansKhmer-Regular.ttf": "សុខ ចាន់",
    "NotoSansLao-Regular.ttf": "ສົມພອນ ແກ້ວມະນີ",
    "NotoSansMyanmar-Regular.ttf": "အောင်ကျော်",
}


@pytest.fixture(scope="module")
def bare() -> FontLibrary:
    """Bundled fonts only: no system CJK font, whatever this machine has."""
    return FontLibrary(system_fallbacks=[])


@pytest.fixture(scope="module")
def shaper(bare: FontLibrary) -> TextShaper:
    return TextShaper(bare)


def test_bundle_has_licence_readme_and_static_regular_and_bold_faces() -> None:
    folder = resources_dir() / "fonts"
    licence = (folder / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    readme = (folder / "README.md").read_text(encoding="utf-8")
    files = list(bundled_files())
    assert len(files) == 2 * len(BUNDLED_SANS)
    for path in files:
        assert path.is_file(), path
        font = TTFont(path, lazy=True)
        assert "glyf" in font, f"{path.name} must have TrueType outlines to embed as text"
        assert "fvar" not in font, f"{path.name} must be a static face"
    for _label, regular, bold in BUNDLED_SANS:
        assert regular in readme or regular.split("-")[0] in readme
        assert TTFont(folder / bold, lazy=True)["OS/2"].usWeightClass >= 700
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total < 6_000_000


@pytest.mark.parametrize(("font_file", "text"), sorted(SAMPLES.items()))
def test_each_script_is_covered_by_its_bundled_face(
    shaper: TextShaper, bare: FontLibrary, font_file: str, text: str
) -> None:
    family = bare.family("sans")
    line = shaper.shape_line(tidy(text), family)
    assert line.missing == ()
    letters = [run for run in line.runs if run.text.strip()]
    assert letters and all(run.face.path.name == font_file for run in letters)
    assert all(0 not in run.gids for run in line.runs), "no .notdef boxes"
    bold = shaper.shape_line(tidy(text), family, bold=True)
    assert bold.missing == ()
    assert {r.face.path.name for r in bold.runs if r.text.strip()} == {
        font_file.replace("Regular", "Bold")
    }


def _nominal_gids(face: FontFace, text: str) -> list[int]:
    font = face._tools()
    cmap = font.getBestCmap()
    return [font.getGlyphID(cmap[ord(ch)]) for ch in text if ord(ch) in cmap]


def test_persian_is_joined_and_right_to_left(shaper: TextShaper, bare: FontLibrary) -> None:
    line = shaper.shape_line("احمدی", bare.family("sans"))
    assert line.rtl
    (run,) = line.runs
    assert run.rtl
    nominal = _nominal_gids(run.face, "احمدی")
    # Joined letters use initial/medial/final forms, not the isolated glyphs of the cmap.
    assert sum(1 for g in run.gids if g not in nominal) >= 3
    # Visual order: the last letter is drawn first, at the left. Alef and the yeh after
    # dal do not join forwards, so they keep their isolated glyphs; heh, meem and dal
    # between them take joining forms.
    yeh = run.face.hb_font.get_nominal_glyph(ord("ی"))
    alef = run.face.hb_font.get_nominal_glyph(ord("ا"))
    assert run.gids[0] == yeh
    assert run.gids[-1] == alef


def test_devanagari_and_khmer_form_clusters(shaper: TextShaper, bare: FontLibrary) -> None:
    family = bare.family("sans")
    for text in ("प्रिया शर्मा", "ខ្មែរ"):
        (run,) = [r for r in shaper.shape_line(text, family).runs if r.text.strip()]
        nominal = _nominal_gids(run.face, text)
        # Conjuncts, reph and subscript consonants are glyphs no single character maps to.
        assert any(g not in nominal for g in run.gids), text
        assert len(run.gids) < len(text), text


def test_thai_marks_are_positioned_on_their_base(shaper: TextShaper, bare: FontLibrary) -> None:
    line = shaper.shape_line("น้ำใจ ที่สุด", bare.family("sans"))
    assert line.missing == ()
    (run,) = [r for r in line.runs if r.face.path.name.startswith("NotoSansThai")]
    # Tone marks and above vowels take no advance of their own.
    assert sum(1 for a in run.x_advances if a == 0) >= 3


def test_fallback_runs_per_character_and_bidi_order(shaper: TextShaper, bare: FontLibrary) -> None:
    family = bare.family("sans")
    ltr = shaper.shape_line("Reza رضا Ahmadi", family)
    assert not ltr.rtl
    assert "".join(r.text for r in ltr.runs) == "Reza رضا Ahmadi"
    words = [(r.text.strip(), r.face.path.stem) for r in ltr.runs if r.text.strip()]
    assert words == [
        ("Reza", "NotoSans-Regular"),
        ("رضا", "NotoSansArabic-Regular"),
        ("Ahmadi", "NotoSans-Regular"),
    ]
    rtl = shaper.shape_line("رضا Reza", family)
    assert rtl.rtl
    # In a right-to-left line the Latin word comes first from the left.
    assert [r.text for r in rtl.runs] == ["Reza", "رضا "]
    assert rtl.runs[1].rtl and not rtl.runs[0].rtl
    mixed = shaper.shape_line("Somchai สมชาย प्रिया", family)
    assert [r.face.path.stem for r in mixed.runs if r.text.strip()] == [
        "NotoSans-Regular",
        "NotoSansThai-Regular",
        "NotoSansDevanagari-Regular",
    ]


def test_bidi_levels_keep_numbers_left_to_right() -> None:
    levels, rtl = _bidi_levels("رضا 123")
    assert rtl
    assert levels == [1, 1, 1, 1, 2, 2, 2]
    visual = [ch for ch, _ in sorted(zip("رضا 123", _visual_order(levels), strict=True))]
    order = _visual_order(levels)
    assert "".join("رضا 123"[i] for i in order) == "123 اضر"
    assert len(visual) == 7
    levels, rtl = _bidi_levels("Room 12 (A)")
    assert not rtl and set(levels) == {0}


def test_missing_characters_are_named_and_never_silent(
    shaper: TextShaper, bare: FontLibrary
) -> None:
    family = bare.family("sans")
    line = shaper.shape_line("Anna \U0010fffd 山田 🙂", family)
    assert line.missing == (0x10FFFD, 0x5C71, 0x7530, 0x1F642)
    assert describe_char(0x10FFFD) == "U+10FFFD private use character"
    assert describe_char(0x1F642) == "U+1F642 SLIGHTLY SMILING FACE"
    assert describe_char(0x5C71) == "U+5C71 CJK UNIFIED IDEOGRAPH-5C71"
    drawn = "".join(r.text for r in line.runs)
    assert "🙂" not in drawn  # a symbol is left out
    assert "山" in drawn  # a letter stays, visibly, as the font's box
    # Invisible joiners and variation selectors are never reported.
    assert shaper.shape_line("Ann\u200da\ufe0f", family).missing == ()


def test_tidy_composes_vietnamese_and_collapses_space() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn  Thị\tHà\n")
    assert tidy(decomposed) == "Nguyễn Thị Hà"
    assert tidy("\x00 A \x07") == "A"


def test_cjk_discovery_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTDESK_CJK_FONT", "none")
    assert discover_cjk_faces() == []


def test_cjk_from_the_system_when_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("EVENTDESK_CJK_FONT", raising=False)
    found = discover_cjk_faces()
    if not found:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    regular, bold = found[0]
    assert regular.covers(ord("日")) and bold.covers(ord("日"))
    shaper = TextShaper(FontLibrary(system_fallbacks=found))
    line = shaper.shape_line("山田 太郎", shaper.library.family("sans"))
    assert line.missing == ()
    assert {r.face.path for r in line.runs if r.text.strip()} == {regular.path}
    # A named file wins over discovery; a file that is not a CJK font is ignored.
    monkeypatch.setenv("EVENTDESK_CJK_FONT", str(regular.path))
    assert discover_cjk_faces()[0][0].path == regular.path
    not_cjk = resources_dir() / "fonts" / "NotoSans-Regular.ttf"
    monkeypatch.setenv("EVENTDESK_CJK_FONT", str(not_cjk))
    assert all(pair[0].path != not_cjk for pair in discover_cjk_faces())


def test_default_library_is_shared() -> None:
    assert default_library() is default_library()


# -- fitting ---------------------------------------------------------------------------


def _within(block_ink: tuple[float, float, float, float] | None, w: float, h: float) -> bool:
    assert block_ink is not None
    left, top, right, bottom = block_ink
    eps = 1e-6
    return left >= -eps and top >= -eps and right <= w + eps and bottom <= h + eps


def test_short_text_keeps_its_size_on_one_line(shaper: TextShaper) -> None:
    block = shaper.fit("Reza Ahmadi", 260, 70, TextStyle(size=32, min_size=14, max_lines=2))
    assert block.size == 32
    assert len(block.lines) == 1
    assert _within(block.ink, 260, 70)


def test_long_name_wraps_to_balanced_lines_then_shrinks(shaper: TextShaper) -> None:
    style = TextStyle(size=32, min_size=14, max_lines=2, bold=True)
    name = "Maria Clara Concepcion Santos-Villanueva de los Reyes"
    block = shaper.fit(name, 263, 74, style)
    assert len(block.lines) == 2
    assert 14 <= block.size < 32
    first, second = (p.line for p in block.lines)
    assert first.text + " " + second.text == name
    assert abs(first.width - second.width) < 0.5 * max(first.width, second.width)
    assert _within(block.ink, 263, 74)
    assert not block.truncated


def test_one_line_preferred_when_it_costs_little(shaper: TextShaper) -> None:
    style = TextStyle(size=12, min_size=6, max_lines=2)
    wide = shaper.shape_line(
        "Development Academy of the Philippines", shaper.library.family("sans")
    )
    width = wide.width * 12 * 0.95  # one line would need 95 % of the size
    block = shaper.fit("Development Academy of the Philippines", width, 40, style)
    assert len(block.lines) == 1
    assert block.size == pytest.approx(12 * 0.95, rel=0.01)


def test_text_too_long_for_the_minimum_is_cut_with_an_ellipsis(shaper: TextShaper) -> None:
    style = TextStyle(size=9, min_size=7, max_lines=2)
    text = " ".join(["Productivity"] * 40)
    block = shaper.fit(text, 120, 22, style)
    assert block.truncated
    assert len(block.lines) == 2
    assert block.lines[-1].line.text.endswith(ELLIPSIS)
    assert block.size == pytest.approx(7, abs=0.01)
    assert _within(block.ink, 120, 22)


def test_empty_text_or_box_draws_nothing(shaper: TextShaper) -> None:
    assert shaper.fit("   ", 100, 20, TextStyle()).lines == ()
    assert shaper.fit("Anna", 0, 20, TextStyle()).lines == ()


WORDS = st.sampled_from(
    [
        "Nguyễn",
        "THỊ",
        "Ễ",
        "สมชาย",
        "น้ำใจ",
        "رضا",
        "احمدی",
        "प्रिया",
        "শর্মা",
        "အောင်ကျော်",
        "ខ្មែរ",
        "ສົມພອນ",
        "Development",
        "of",
        "the",
        "Philippines-Villanueva",
        "W",
        "(2024)",
        "ÅÇÊ",
        "gjpqy",
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(WORDS, min_size=1, max_size=14),
    width=st.floats(min_value=8, max_value=300),
    height=st.floats(min_value=4, max_value=120),
    size=st.floats(min_value=4, max_value=40),
    max_lines=st.integers(min_value=1, max_value=3),
    align=st.sampled_from(["left", "center", "right", "start", "end"]),
    valign=st.sampled_from(["top", "middle", "bottom"]),
    bold=st.booleans(),
    tracking=st.sampled_from([0.0, 0.12]),
)
def test_fitted_ink_never_leaves_the_box(
    words: list[str],
    width: float,
    height: float,
    size: float,
    max_lines: int,
    align: str,
    valign: str,
    bold: bool,
    tracking: float,
) -> None:
    shaper = _SHARED_SHAPER
    style = TextStyle(
        size=size,
        min_size=min(size, 6),
        max_lines=max_lines,
        align=align,
        valign=valign,
        bold=bold,
        tracking=tracking,
    )
    block = shaper.fit(" ".join(words), width, height, style)
    assert block.lines
    assert block.size <= size + 1e-9
    assert _within(block.ink, width, height)
    assert len(block.lines) <= max_lines


_SHARED_SHAPER = TextShaper(FontLibrary(system_fallbacks=[]))
