"""From a string to positioned glyphs: font fallback, bidi order, shaping, fitting in a box.

All measurements here are in *em* (multiples of the font size) until :meth:`TextShaper.fit`
scales them to points, so one shaping serves every size tried while shrinking to fit.
Coordinates in a :class:`TextBlock` are points from the box's top-left corner, y downward.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import uharfbuzz

from desktop.fonts import Family, FontFace, FontLibrary

# Nominal ascent and descent (em) that every line reserves, so a name without capitals or
# descenders sits where one with them would; taller ink (stacked marks, Myanmar) adds more.
NOMINAL_ASCENT = 0.74
NOMINAL_DESCENT = 0.22
LINE_GAP = 0.04
# One line is kept when it is at most this much smaller than the best wrapped option.
PREFER_FEWER_LINES = 0.9
ELLIPSIS = "\u2026"

_LATIN_LIKE = {"Latn", "Grek", "Cyrl", "Zyyy", "Zinh"}
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class GlyphRun:
    """Glyphs of one face and one direction, in visual order; positions in em."""

    face: FontFace
    rtl: bool
    text: str
    gids: tuple[int, ...]
    x_advances: tuple[float, ...]
    x_offsets: tuple[float, ...]
    y_offsets: tuple[float, ...]
    advance: float
    ink: tuple[float, float, float, float] | None  # xmin, ymin, xmax, ymax from run origin


@dataclass(frozen=True)
class ShapedLine:
    """One line of text ready to draw: runs in visual order and its measurements in em."""

    text: str
    rtl: bool
    runs: tuple[GlyphRun, ...]
    advance: float
    ink_top: float
    ink_bottom: float
    extent_left: float
    extent_right: float
    missing: tuple[int, ...] = ()

    @property
    def width(self) -> float:
        """Horizontal extent (em), the larger of advance and ink."""
        return self.extent_right - self.extent_left


@dataclass(frozen=True)
class TextStyle:
    """How a text element is set: family, weight, size range, lines and alignment."""

    family: str = "sans"
    bold: bool = False
    size: float = 12.0
    min_size: float = 6.0
    max_lines: int = 1
    leading: float = 1.15
    tracking: float = 0.0
    align: str = "center"  # left, center, right, start, end
    valign: str = "middle"  # top, middle, bottom


@dataclass(frozen=True)
class PlacedLine:
    """A shaped line and where its origin goes, in points from the box's top-left."""

    line: ShapedLine
    x: float
    baseline: float


@dataclass(frozen=True)
class TextBlock:
    """The result of fitting text in a box: size, placed lines, ink bounds, problems."""

    size: float
    lines: tuple[PlacedLine, ...]
    ink: tuple[float, float, float, float] | None  # left, top, right, bottom (points)
    truncated: bool = False
    missing: tuple[int, ...] = field(default=())


def tidy(text: str) -> str:
    """Normalise to NFC, drop control characters, collapse whitespace to single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text))
    return text.strip()


def describe_char(codepoint: int) -> str:
    """``U+1F600 GRINNING FACE``: a code point as a person can look it up."""
    name = unicodedata.name(chr(codepoint), "")
    if not name:
        category = unicodedata.category(chr(codepoint))
        name = {"Co": "private use character", "Cn": "unassigned code point"}.get(
            category, "unnamed character"
        )
    return f"U+{codepoint:04X} {name}"


def _bidi_levels(text: str) -> tuple[list[int], bool]:
    """Embedding levels per character (a simplified Unicode bidi algorithm) and base RTL.

    Handles what names and titles contain: strong letters, numbers, neutrals, marks;
    explicit embeddings and isolates are treated as neutrals.
    """
    kinds = [unicodedata.bidirectional(ch) for ch in text]
    base_rtl = False
    for kind in kinds:
        if kind == "L":
            break
        if kind in ("R", "AL"):
            base_rtl = True
            break
    resolved: list[str | None] = []
    last_strong = "R" if base_rtl else "L"
    previous: str | None = None
    for kind in kinds:
        value: str | None
        if kind in ("NSM", "BN"):
            value = previous
        elif kind == "L":
            value = last_strong = "L"
        elif kind in ("R", "AL"):
            value = last_strong = "R"
        elif kind in ("EN", "AN"):
            value = "L" if kind == "EN" and last_strong == "L" else "NUM"
        else:
            value = None
        resolved.append(value)
        previous = value
    base = "R" if base_rtl else "L"
    i = 0
    while i < len(resolved):
        if resolved[i] is not None:
            i += 1
            continue
        j = i
        while j < len(resolved) and resolved[j] is None:
            j += 1
        before = resolved[i - 1] if i > 0 else base
        after = resolved[j] if j < len(resolved) else base
        before = "R" if before == "NUM" else before
        after = "R" if after == "NUM" else after
        fill = before if before == after else base
        for k in range(i, j):
            resolved[k] = fill
        i = j
    table = {"L": 2, "R": 1, "NUM": 2} if base_rtl else {"L": 0, "R": 1, "NUM": 2}
    return [table[value or base] for value in resolved], base_rtl


def _visual_order(levels: Sequence[int]) -> list[int]:
    """Indices of items in visual order (rule L2 of the bidi algorithm)."""
    order = list(range(len(levels)))
    if not levels:
        return order
    highest = max(levels)
    lowest_odd = min((lv for lv in levels if lv % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return order


def _invisible(ch: str) -> bool:
    """Format characters and variation selectors, which draw nothing themselves."""
    cp = ord(ch)
    return unicodedata.category(ch) == "Cf" or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _sticky(category: str) -> bool:
    """Characters that stay in the current run's face when it has them."""
    return category[0] in "MPZ" or category == "Cf" or category == "Sk"


class TextShaper:
    """Shapes and fits text with one :class:`FontLibrary`; caches shaping between calls."""

    def __init__(self, library: FontLibrary, cache_size: int = 20000) -> None:
        """Shape with ``library``'s faces; keep up to ``cache_size`` shaped strings."""
        self.library = library
        self._cache_size = cache_size
        self._runs: dict[tuple[int, str, bool, float], GlyphRun] = {}
        self._lines: dict[tuple[str, str, bool, float], ShapedLine] = {}

    # -- shaping -------------------------------------------------------------------

    def _shape_run(self, face: FontFace, text: str, rtl: bool, tracking: float) -> GlyphRun:
        key = (id(face), text, rtl, tracking)
        run = self._runs.get(key)
        if run is not None:
            return run
        buf = uharfbuzz.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        buf.direction = "rtl" if rtl else "ltr"
        latin_like = buf.script in _LATIN_LIKE
        # Typographic ligatures (fi, fl) would make names unsearchable in the PDF.
        features = {"liga": False, "clig": False} if latin_like else {}
        uharfbuzz.shape(face.hb_font, buf, features)
        scale = 1.0 / face.units_per_em
        infos = buf.glyph_infos
        positions = buf.glyph_positions
        gids: list[int] = []
        advances: list[float] = []
        x_offsets: list[float] = []
        y_offsets: list[float] = []
        pen = 0.0
        ink: list[float] | None = None
        for i, (info, pos) in enumerate(zip(infos, positions, strict=True)):
            advance = pos.x_advance * scale
            if tracking and latin_like:
                last_of_cluster = i + 1 == len(infos) or infos[i + 1].cluster != info.cluster
                if last_of_cluster:
                    advance += tracking
            dx = pos.x_offset * scale
            dy = pos.y_offset * scale
            bounds = face.glyph_bounds(info.codepoint)
            if bounds is not None:
                box = [
                    pen + dx + bounds[0] * scale,
                    dy + bounds[1] * scale,
                    pen + dx + bounds[2] * scale,
                    dy + bounds[3] * scale,
                ]
                if ink is None:
                    ink = box
                else:
                    ink = [
                        min(ink[0], box[0]),
                        min(ink[1], box[1]),
                        max(ink[2], box[2]),
                        max(ink[3], box[3]),
                    ]
            gids.append(info.codepoint)
            advances.append(advance)
            x_offsets.append(dx)
            y_offsets.append(dy)
            pen += advance
        if tracking and latin_like and advances:
            # No tracking after the last letter, so centred text stays centred.
            advances[-1] -= tracking
            pen -= tracking
        run = GlyphRun(
            face=face,
            rtl=rtl,
            text=text,
            gids=tuple(gids),
            x_advances=tuple(advances),
            x_offsets=tuple(x_offsets),
            y_offsets=tuple(y_offsets),
            advance=pen,
            ink=None if ink is None else (ink[0], ink[1], ink[2], ink[3]),
        )
        if len(self._runs) >= self._cache_size:
            self._runs.clear()
        self._runs[key] = run
        return run

    def _itemize(
        self, text: str, family: Family, bold: bool
    ) -> tuple[str, list[FontFace], list[int]]:
        """Pick a face per character; returns the text to shape, faces, missing chars."""
        library = self.library
        primary = family.chain(bold)[0]
        kept: list[str] = []
        faces: list[FontFace] = []
        missing: list[int] = []
        current: FontFace | None = None
        for ch in text:
            cp = ord(ch)
            category = unicodedata.category(ch)
            if current is not None and _sticky(category) and current.covers(cp):
                face: FontFace | None = current
            else:
                face = library.face_for(cp, family, bold)
            if face is None:
                if _invisible(ch):
                    # Joiners and variation selectors are invisible: a face without them
                    # loses nothing, so they are dropped without a warning.
                    continue
                missing.append(cp)
                if category[0] not in "LMN":
                    continue  # a symbol or emoji is left out rather than shown as a box
                face = primary  # a letter stays visible as the font's "missing" box
            kept.append(ch)
            faces.append(face)
            current = face
        return "".join(kept), faces, missing

    def shape_line(
        self, text: str, family: Family, bold: bool = False, tracking: float = 0.0
    ) -> ShapedLine:
        """Shape one line of text (already tidied) with font fallback and bidi ordering."""
        key = (text, family.name, bold, tracking)
        line = self._lines.get(key)
        if line is not None:
            return line
        kept, faces, missing = self._itemize(text, family, bold)
        levels, base_rtl = _bidi_levels(kept)
        spans: list[tuple[int, int, FontFace, int]] = []
        start = 0
        for i in range(1, len(kept) + 1):
            if i == len(kept) or faces[i] is not faces[start] or levels[i] != levels[start]:
                spans.append((start, i, faces[start], levels[start]))
                start = i
        order = _visual_order([span[3] for span in spans])
        runs = tuple(
            self._shape_run(face, kept[a:b], level % 2 == 1, tracking)
            for a, b, face, level in (spans[i] for i in order)
        )
        pen = 0.0
        top = bottom = 0.0
        left = right = 0.0
        for run in runs:
            if run.ink is not None:
                left = min(left, pen + run.ink[0])
                right = max(right, pen + run.ink[2])
                bottom = min(bottom, run.ink[1])
                top = max(top, run.ink[3])
            pen += run.advance
        line = ShapedLine(
            text=text,
            rtl=base_rtl,
            runs=runs,
            advance=pen,
            ink_top=top,
            ink_bottom=bottom,
            extent_left=min(0.0, left),
            extent_right=max(pen, right),
            missing=tuple(missing),
        )
        if len(self._lines) >= self._cache_size:
            self._lines.clear()
        self._lines[key] = line
        return line

    # -- fitting ---------------------------------------------------------------------

    def _block_size(self, lines: Sequence[ShapedLine], leading: float) -> tuple[float, float]:
        """Width and height (em) of lines stacked with ``leading``."""
        width = max(line.width for line in lines)
        height = 0.0
        previous_descent = 0.0
        for i, line in enumerate(lines):
            ascent = max(NOMINAL_ASCENT, line.ink_top)
            descent = max(NOMINAL_DESCENT, -line.ink_bottom)
            if i == 0:
                height = ascent
            else:
                height += max(leading, previous_descent + ascent + LINE_GAP)
            previous_descent = descent
        return width, height + previous_descent

    def _segments(self, text: str) -> list[str]:
        """Split text into pieces between line-break opportunities (spaces kept at ends)."""
        pieces: list[str] = []
        start = 0
        for i in range(1, len(text)):
            prev, ch = text[i - 1], text[i]
            if (
                (prev == " " and ch != " ")
                or (prev in "-/\u2010\u2013" and ch.isalpha() and i - start > 2)
                or (_is_ideograph(prev) and _is_ideograph(ch))
            ):
                pieces.append(text[start:i])
                start = i
        pieces.append(text[start:])
        return pieces

    def _balanced(self, pieces: Sequence[str], widths: Sequence[float], lines: int) -> list[str]:
        """Split pieces into ``lines`` lines minimising the widest (approximate widths)."""
        n = len(pieces)
        prefix = [0.0]
        for w in widths:
            prefix.append(prefix[-1] + w)
        inf = float("inf")
        # best[k][j]: smallest possible widest line putting pieces[:j] on k lines.
        best = [[inf] * (n + 1) for _ in range(lines + 1)]
        cut = [[0] * (n + 1) for _ in range(lines + 1)]
        best[0][0] = 0.0
        for k in range(1, lines + 1):
            for j in range(k, n + 1):
                for i in range(k - 1, j):
                    value = max(best[k - 1][i], prefix[j] - prefix[i])
                    if value < best[k][j]:
                        best[k][j] = value
                        cut[k][j] = i
        bounds = []
        j = n
        for k in range(lines, 0, -1):
            i = cut[k][j]
            bounds.append((i, j))
            j = i
        return ["".join(pieces[i:j]).strip() for i, j in reversed(bounds)]

    def fit(self, text: str, width: float, height: float, style: TextStyle) -> TextBlock:
        """Set ``text`` in a ``width`` x ``height`` point box: wrap, shrink, then truncate.

        One line is preferred; up to ``style.max_lines`` lines are balanced in width; the
        size shrinks towards ``style.min_size``; below that the text is cut with an
        ellipsis at the minimum size. The ink never leaves the box.
        """
        text = tidy(text)
        if not text or width <= 0 or height <= 0:
            return TextBlock(size=0.0, lines=(), ink=None)
        family = self.library.family(style.family)
        shape = self.shape_line

        def size_for(lines: Sequence[ShapedLine]) -> float:
            w_em, h_em = self._block_size(lines, style.leading)
            return min(style.size, width / max(w_em, 1e-9), height / max(h_em, 1e-9))

        one = [shape(text, family, style.bold, style.tracking)]
        options: list[tuple[float, list[ShapedLine]]] = [(size_for(one), one)]
        pieces: list[str] = []
        if options[0][0] < style.size and style.max_lines > 1:
            pieces = self._segments(text)
            widths = [
                shape(p.strip() or p, family, style.bold, style.tracking).width
                + (shape(" ", family, style.bold).advance if p.endswith(" ") else 0.0)
                for p in pieces
            ]
            for k in range(2, min(style.max_lines, len(pieces)) + 1):
                split = self._balanced(pieces, widths, k)
                shaped = [shape(part, family, style.bold, style.tracking) for part in split]
                options.append((size_for(shaped), shaped))
                if options[-1][0] >= style.size:
                    break
        biggest = max(size for size, _ in options)
        size, chosen = next(o for o in options if o[0] >= PREFER_FEWER_LINES * biggest)
        truncated = False
        if size < style.min_size:
            chosen = self._truncated(text, pieces, family, style, width / style.min_size)
            # Lines filled at the minimum size; smaller only if even they do not fit.
            size = min(style.min_size, size_for(chosen))
            truncated = True
        return self._place(chosen, size, width, height, style, truncated)

    def _truncated(
        self,
        text: str,
        pieces: list[str],
        family: Family,
        style: TextStyle,
        width_em: float,
    ) -> list[ShapedLine]:
        """Fill lines greedily at the minimum size; cut the last one with an ellipsis."""
        shape = self.shape_line
        if not pieces:
            pieces = self._segments(text)
        lines: list[ShapedLine] = []
        start = 0
        for line_no in range(style.max_lines):
            if start >= len(pieces):
                break
            if line_no == style.max_lines - 1:
                rest = "".join(pieces[start:]).strip()
                lines.append(self._ellipsize(rest, family, style, width_em))
                break
            end = start + 1
            while end < len(pieces):
                candidate = "".join(pieces[start : end + 1]).strip()
                if shape(candidate, family, style.bold, style.tracking).width > width_em:
                    break
                end += 1
            lines.append(
                shape("".join(pieces[start:end]).strip(), family, style.bold, style.tracking)
            )
            start = end
        return lines

    def _ellipsize(
        self, text: str, family: Family, style: TextStyle, width_em: float
    ) -> ShapedLine:
        """The longest start of ``text`` that fits ``width_em`` followed by an ellipsis."""
        whole = self.shape_line(text, family, style.bold, style.tracking)
        if whole.width <= width_em:
            return whole
        cuts = [
            i
            for i in range(1, len(text))
            if unicodedata.category(text[i])[0] != "M" and text[i] not in "\u200c\u200d"
        ]
        best = self.shape_line(ELLIPSIS, family, style.bold, style.tracking)
        low, high = 0, len(cuts) - 1
        while low <= high:
            mid = (low + high) // 2
            candidate = text[: cuts[mid]].rstrip(" ,;:-") + ELLIPSIS
            shaped = self.shape_line(candidate, family, style.bold, style.tracking)
            if shaped.width <= width_em:
                best = shaped
                low = mid + 1
            else:
                high = mid - 1
        return best

    def _place(
        self,
        lines: Sequence[ShapedLine],
        size: float,
        width: float,
        height: float,
        style: TextStyle,
        truncated: bool,
    ) -> TextBlock:
        _w_em, h_em = self._block_size(lines, style.leading)
        block_height = h_em * size
        if style.valign == "top":
            top = 0.0
        elif style.valign == "bottom":
            top = height - block_height
        else:
            top = (height - block_height) / 2
        placed: list[PlacedLine] = []
        baseline = top
        previous_descent = 0.0
        ink: list[float] | None = None
        missing: list[int] = []
        for i, line in enumerate(lines):
            ascent = max(NOMINAL_ASCENT, line.ink_top)
            if i == 0:
                baseline += ascent * size
            else:
                baseline += max(style.leading, previous_descent + ascent + LINE_GAP) * size
            previous_descent = max(NOMINAL_DESCENT, -line.ink_bottom)
            align = style.align
            if align in ("start", "end"):
                align = "right" if (align == "start") == line.rtl else "left"
            if align == "left":
                x = -line.extent_left * size
            elif align == "right":
                x = width - line.extent_right * size
            else:
                x = (width - line.width * size) / 2 - line.extent_left * size
            placed.append(PlacedLine(line, x, baseline))
            for run_ink in _line_ink(line):
                box = [
                    x + run_ink[0] * size,
                    baseline - run_ink[3] * size,
                    x + run_ink[2] * size,
                    baseline - run_ink[1] * size,
                ]
                if ink is None:
                    ink = box
                else:
                    ink = [
                        min(ink[0], box[0]),
                        min(ink[1], box[1]),
                        max(ink[2], box[2]),
                        max(ink[3], box[3]),
                    ]
            missing.extend(cp for cp in line.missing if cp not in missing)
        return TextBlock(
            size=size,
            lines=tuple(placed),
            ink=None if ink is None else (ink[0], ink[1], ink[2], ink[3]),
            truncated=truncated,
            missing=tuple(missing),
        )


def _line_ink(line: ShapedLine) -> list[tuple[float, float, float, float]]:
    """Ink boxes of each run of a line, relative to the line origin (em)."""
    boxes = []
    pen = 0.0
    for run in line.runs:
        if run.ink is not None:
            boxes.append((pen + run.ink[0], run.ink[1], pen + run.ink[2], run.ink[3]))
        pen += run.advance
    return boxes


def _is_ideograph(ch: str) -> bool:
    """CJK ideographs and kana, between which a line may break without a space."""
    cp = ord(ch)
    return (
        0x3040 <= cp <= 0x30FF
        or 0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3FFFF
    )
