"""Font faces for printed documents: the bundled Noto set, a system CJK face, fallback chains.

A *family* (``"sans"``) is an ordered chain of faces, one per script, in a regular and a
bold weight; text picks, character by character, the first face of the chain whose cmap
covers it (see :mod:`desktop.textshaping`). The bundled faces live in ``resources/fonts``;
CJK faces are too large to bundle, so the first CJK face installed on the system is
appended to every chain (``EVENTDESK_CJK_FONT`` may name one, or ``none`` to use none).

Faces with TrueType outlines are embedded as subset fonts, so the PDF keeps real text;
faces with CFF outlines (Noto Sans CJK is one) cannot be embedded by reportlab and are
drawn as vector glyph outlines instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

import uharfbuzz
from fontTools.pens.basePen import BasePen
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont as ToolsFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as PdfFont

from desktop.paths import resources_dir

CJK_FONT_ENV = "EVENTDESK_CJK_FONT"

# (what it covers, regular file, bold file), in fallback order: Latin first so digits,
# punctuation and spaces come from Noto Sans unless a run in another script continues.
BUNDLED_SANS: tuple[tuple[str, str, str], ...] = (
    ("Latin (with Vietnamese), Greek, Cyrillic", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    (
        "Arabic script (Arabic, Persian, Urdu)",
        "NotoSansArabic-Regular.ttf",
        "NotoSansArabic-Bold.ttf",
    ),
    ("Thai", "NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"),
    ("Devanagari (Hindi, Nepali)", "NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
    ("Bengali", "NotoSansBengali-Regular.ttf", "NotoSansBengali-Bold.ttf"),
    ("Tamil", "NotoSansTamil-Regular.ttf", "NotoSansTamil-Bold.ttf"),
    ("Sinhala", "NotoSansSinhala-Regular.ttf", "NotoSansSinhala-Bold.ttf"),
    ("Khmer", "NotoSansKhmer-Regular.ttf", "NotoSansKhmer-Bold.ttf"),
    ("Lao", "NotoSansLao-Regular.ttf", "NotoSansLao-Bold.ttf"),
    ("Myanmar", "NotoSansMyanmar-Regular.ttf", "NotoSansMyanmar-Bold.ttf"),
)

# The serif set (certificates): Latin, Greek and Cyrillic; other scripts fall back to the
# sans chain, which follows it in the "serif" family.
BUNDLED_SERIF: tuple[tuple[str, str, str], ...] = (
    (
        "Latin (with Vietnamese), Greek, Cyrillic; serif",
        "NotoSerif-Regular.ttf",
        "NotoSerif-Bold.ttf",
    ),
)

# Well-known CJK faces by operating system, tried when fontconfig has nothing to say.
_KNOWN_CJK: tuple[tuple[str, str, int], ...] = (
    # (regular path, bold path or "", collection index)
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        0,
    ),
    (
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        0,
    ),
    (
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
        0,
    ),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", "", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "", 0),
    ("/System/Library/Fonts/Supplemental/Arial Unicode.ttf", "", 0),
    ("/Library/Fonts/Arial Unicode.ttf", "", 0),
    ("C:/Windows/Fonts/YuGothM.ttc", "C:/Windows/Fonts/YuGothB.ttc", 0),
    ("C:/Windows/Fonts/msgothic.ttc", "", 0),
    ("C:/Windows/Fonts/malgun.ttf", "C:/Windows/Fonts/malgunbd.ttf", 0),
    ("C:/Windows/Fonts/msyh.ttc", "C:/Windows/Fonts/msyhbd.ttc", 0),
)
# A character a CJK face must have: 日 (Han), 가 (Hangul).
_CJK_PROBES = (0x65E5, 0xAC00)

# Guards the parts of reportlab that are global: font registration and the glyph maps
# that reportlab's subsetter reads.
_PDF_LOCK = threading.RLock()


class FontError(Exception):
    """A font file is missing or cannot be read."""


@dataclass(eq=False)
class FontFace:
    """One face of one font file (a collection index for .ttc files), loaded lazily."""

    path: Path
    index: int = 0
    label: str = ""
    _bounds: dict[int, tuple[float, float, float, float] | None] = field(
        default_factory=dict, repr=False
    )
    _outline_ops: dict[int, str] = field(default_factory=dict, repr=False)
    _codes: dict[int, tuple[str, float]] = field(default_factory=dict, repr=False)
    _state: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        """A stable name for this face (file stem plus collection index)."""
        return f"{self.path.stem}#{self.index}" if self.index else self.path.stem

    def _tools(self) -> ToolsFont:
        font = self._state.get("tools")
        if font is None:
            try:
                data = self.path.read_bytes()
                font = ToolsFont(BytesIO(data), fontNumber=self.index, lazy=True)
            except (OSError, Exception) as exc:
                raise FontError(f"Cannot read font {self.path}: {exc}") from exc
            self._state["data"] = data
            self._state["tools"] = font
        return font

    @property
    def cmap(self) -> frozenset[int]:
        """The code points this face maps to a glyph."""
        cmap = self._state.get("cmap")
        if cmap is None:
            best = self._tools().getBestCmap() or {}
            cmap = self._state["cmap"] = frozenset(best)
        return cmap  # type: ignore[no-any-return]

    def covers(self, codepoint: int) -> bool:
        """Whether the face has a glyph for ``codepoint``."""
        return codepoint in self.cmap

    @property
    def units_per_em(self) -> int:
        """Design units per em."""
        return int(self._tools()["head"].unitsPerEm)

    @property
    def embeddable(self) -> bool:
        """True for TrueType outlines (embedded as text); False for CFF (drawn as outlines)."""
        return "glyf" in self._tools()

    @property
    def hb_font(self) -> uharfbuzz.Font:
        """A HarfBuzz font at the design scale (positions in font units)."""
        font = self._state.get("hb")
        if font is None:
            self._tools()
            blob = uharfbuzz.Blob(self._state["data"])
            font = self._state["hb"] = uharfbuzz.Font(uharfbuzz.Face(blob, self.index))
        return font

    def glyph_bounds(self, gid: int) -> tuple[float, float, float, float] | None:
        """The ink box (xmin, ymin, xmax, ymax) of a glyph in font units; None if blank."""
        try:
            return self._bounds[gid]
        except KeyError:
            pass
        tools = self._tools()
        pen = BoundsPen(tools.getGlyphSet())
        with contextlib.suppress(KeyError, IndexError):
            tools.getGlyphSet()[tools.getGlyphName(gid)].draw(pen)
        found = pen.bounds
        bounds = (
            None
            if found is None
            else (float(found[0]), float(found[1]), float(found[2]), float(found[3]))
        )
        self._bounds[gid] = bounds
        return bounds

    def outline_ops(self, gid: int) -> str:
        """PDF path operators drawing a glyph in font units (for faces drawn as outlines)."""
        ops = self._outline_ops.get(gid)
        if ops is None:
            tools = self._tools()
            glyph_set = tools.getGlyphSet()
            pen = _PdfPathPen(glyph_set)
            with contextlib.suppress(KeyError, IndexError):
                glyph_set[tools.getGlyphName(gid)].draw(pen)
            ops = self._outline_ops[gid] = " ".join(pen.ops)
        return ops

    @property
    def pdf_font(self) -> PdfFont:
        """The reportlab font for this face, registered once per process."""
        font = self._state.get("pdf")
        if font is None:
            with _PDF_LOCK:
                font = self._state.get("pdf")
                if font is None:
                    name = "EvD-" + self.key.replace("#", "-")
                    # Asked for a name it does not know, getFont first parses every Type 1
                    # metrics file on the system (a second or more): look before asking.
                    if name in pdfmetrics.getRegisteredFontNames():
                        font = pdfmetrics.getFont(name)
                    else:
                        font = PdfFont(name, str(self.path), subfontIndex=self.index)
                        pdfmetrics.registerFont(font)
                    self._state["pdf"] = font
        return font

    def glyph_code(self, gid: int) -> tuple[str, float]:
        """The character reportlab uses to emit glyph ``gid``, and its PDF width (1/1000 em).

        Glyphs that no character maps to (ligatures, positional forms, conjuncts) get a
        private-use code point so that reportlab's subsetter embeds them (in the BMP:
        reportlab writes ToUnicode entries as four hex digits).
        """
        code = self._codes.get(gid)
        if code is not None:
            return code
        with _PDF_LOCK:
            font = self.pdf_font
            face = font.face
            chars = face.glyphToChar.get(gid)
            if chars:
                uchar = chars[0]
            else:
                uchar = self._state.get("next_private", 0xE000)
                while uchar in face.charToGlyph:
                    uchar += 1
                self._state["next_private"] = uchar + 1
                face.charToGlyph[uchar] = gid
                face.glyphToChar.setdefault(gid, []).append(uchar)
                advance = self.hb_font.get_glyph_h_advance(gid)
                face.charWidths[uchar] = advance * 1000.0 / self.units_per_em
            code = self._codes[gid] = (chr(uchar), float(face.charWidths.get(uchar, 0.0)))
        return code


class _PdfPathPen(BasePen):  # type: ignore[misc]
    """Collects a glyph outline as PDF path operators (cubic curves only)."""

    def __init__(self, glyph_set: Any) -> None:
        super().__init__(glyph_set)
        self.ops: list[str] = []
        self._last = (0.0, 0.0)

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{pt[0]:g} {pt[1]:g} m")
        self._last = pt

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(f"{pt[0]:g} {pt[1]:g} l")
        self._last = pt

    def _curveToOne(
        self, p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float]
    ) -> None:
        self.ops.append(f"{p1[0]:g} {p1[1]:g} {p2[0]:g} {p2[1]:g} {p3[0]:g} {p3[1]:g} c")
        self._last = p3

    def _qCurveToOne(self, p1: tuple[float, float], p2: tuple[float, float]) -> None:
        # A quadratic segment is the cubic whose control points sit 2/3 towards p1.
        p0 = self._last
        c1 = (p0[0] + 2 * (p1[0] - p0[0]) / 3, p0[1] + 2 * (p1[1] - p0[1]) / 3)
        c2 = (p2[0] + 2 * (p1[0] - p2[0]) / 3, p2[1] + 2 * (p1[1] - p2[1]) / 3)
        self._curveToOne(c1, c2, p2)

    def _closePath(self) -> None:
        self.ops.append("h")


@dataclass(frozen=True)
class Family:
    """A named fallback chain in a regular and a bold weight."""

    name: str
    regular: tuple[FontFace, ...]
    bold: tuple[FontFace, ...]

    def chain(self, bold: bool) -> tuple[FontFace, ...]:
        """The faces to try, in order, for one weight."""
        return self.bold if bold else self.regular


class FontLibrary:
    """The families a layout can name, with per-character face lookup cached."""

    def __init__(
        self,
        font_dir: Path | None = None,
        system_fallbacks: Sequence[tuple[FontFace, FontFace]] | None = None,
    ) -> None:
        """Load the bundled faces from ``font_dir``; ``system_fallbacks`` None = discover.

        Each fallback is a (regular, bold) pair appended to every chain.
        """
        folder = font_dir or resources_dir() / "fonts"
        regular: list[FontFace] = []
        bold: list[FontFace] = []
        for label, regular_file, bold_file in BUNDLED_SANS:
            regular_face = FontFace(folder / regular_file, label=label)
            bold_path = folder / bold_file
            bold_face = FontFace(bold_path, label=label) if bold_path.is_file() else regular_face
            if not regular_face.path.is_file():
                raise FontError(f"Bundled font {regular_face.path} is missing")
            regular.append(regular_face)
            bold.append(bold_face)
        self._bundled = (tuple(regular), tuple(bold))
        serif_regular: list[FontFace] = []
        serif_bold: list[FontFace] = []
        for label, regular_file, bold_file in BUNDLED_SERIF:
            # Optional: without the serif files, "serif" stays the sans chain.
            if (folder / regular_file).is_file():
                face = FontFace(folder / regular_file, label=label)
                serif_regular.append(face)
                bold_path = folder / bold_file
                serif_bold.append(FontFace(bold_path, label=label) if bold_path.is_file() else face)
        self._serif = (tuple(serif_regular), tuple(serif_bold))
        self._system = None if system_fallbacks is None else tuple(system_fallbacks)
        self._families: dict[str, Family] = {}
        self._lookup: dict[tuple[int, bool, int], FontFace | None] = {}
        self._lock = threading.Lock()

    @property
    def family_names(self) -> tuple[str, ...]:
        """The family names layouts may use."""
        return ("sans", "serif")

    def system_fallbacks(self) -> tuple[tuple[FontFace, FontFace], ...]:
        """The system faces appended to every chain (discovered on first use)."""
        if self._system is None:
            self._system = tuple(discover_cjk_faces())
        return self._system

    def family(self, name: str) -> Family:
        """The family called ``name``; "serif" is the serif set, then the sans chain."""
        found = self._families.get(name)
        if found is None:
            if name not in self.family_names:
                raise KeyError(f"Unknown font family {name!r}")
            regular, bold = self._bundled
            if name == "serif":
                # Scripts the serif faces lack are set in the sans face of their script.
                regular = self._serif[0] + regular
                bold = self._serif[1] + bold
            found = self._families[name] = Family(name, regular, bold)
        return found

    def face_for(self, codepoint: int, family: Family, bold: bool) -> FontFace | None:
        """The first face of the chain covering ``codepoint``, system fallbacks last."""
        key = (id(family), bold, codepoint)
        try:
            return self._lookup[key]
        except KeyError:
            pass
        found: FontFace | None = None
        for face in family.chain(bold):
            if face.covers(codepoint):
                found = face
                break
        else:
            for regular_face, bold_face in self.system_fallbacks():
                candidate = bold_face if bold else regular_face
                try:
                    if candidate.covers(codepoint):
                        found = candidate
                        break
                except FontError:
                    continue
        with self._lock:
            self._lookup[key] = found
        return found


def _fc_match(pattern: str) -> tuple[Path, int] | None:
    """Ask fontconfig for the best file for ``pattern``; None without fontconfig."""
    exe = shutil.which("fc-match")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "--format", "%{file}|%{index}", pattern],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    file, _, index = done.stdout.strip().partition("|")
    if done.returncode != 0 or not file:
        return None
    return Path(file), int(index or 0)


def _is_cjk(face: FontFace) -> bool:
    try:
        return face.path.is_file() and any(face.covers(cp) for cp in _CJK_PROBES)
    except FontError:
        return False


def discover_cjk_faces() -> list[tuple[FontFace, FontFace]]:
    """Installed CJK faces as (regular, bold) pairs, best first; empty when none."""
    env = os.environ.get(CJK_FONT_ENV, "").strip()
    if env.lower() == "none":
        return []
    candidates: list[tuple[Path, Path | None, int]] = []
    if env:
        for part in env.split(os.pathsep):
            if part:
                candidates.append((Path(part), None, 0))
    if sys.platform.startswith("linux") or sys.platform.startswith("freebsd"):
        for lang in ("ja", "ko", "zh-cn"):
            regular = _fc_match(f"sans-serif:lang={lang}")
            if regular is None:
                continue
            bold = _fc_match(f"sans-serif:lang={lang}:weight=bold")
            bold_path = bold[0] if bold and bold[1] == regular[1] else None
            candidates.append((regular[0], bold_path, regular[1]))
    for regular_name, bold_name, index in _KNOWN_CJK:
        candidates.append((Path(regular_name), Path(bold_name) if bold_name else None, index))

    pairs: list[tuple[FontFace, FontFace]] = []
    seen: set[Path] = set()
    for regular_path, bold_path, index in candidates:
        if regular_path in seen:
            continue
        seen.add(regular_path)
        regular_face = FontFace(regular_path, index, label="CJK (system)")
        if not _is_cjk(regular_face):
            continue
        bold_face = regular_face
        if bold_path is not None and bold_path != regular_path and bold_path.is_file():
            bold_face = FontFace(bold_path, index, label="CJK (system, bold)")
        pairs.append((regular_face, bold_face))
        if len(pairs) == 2:
            break
    return pairs


@cache
def default_library() -> FontLibrary:
    """The process-wide font library (bundled faces plus discovered CJK faces)."""
    return FontLibrary()


def bundled_files(font_dir: Path | None = None) -> Iterable[Path]:
    """Every bundled font file, regular and bold."""
    folder = font_dir or resources_dir() / "fonts"
    for _label, regular_file, bold_file in BUNDLED_SANS:
        yield folder / regular_file
        yield folder / bold_file
