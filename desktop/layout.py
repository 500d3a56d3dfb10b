"""Document layouts (badges, certificates): JSON files read into a model, rendered to PDF.

A layout is a JSON object; lengths are millimetres from the top-left corner of the page::

    {
      "title": "A6 badge (105 x 148 mm)",
      "kind": "badge",                      # or "certificate": only shown to people
      "extends": "a6",                      # optional: start from another layout
      "page": {"width": 105, "height": 148},
      "sheet": {"width": 210, "height": 297, "cols": 2, "rows": 2,
                "gutter": [0, 0], "cut_marks": true},   # optional: N documents per page
      "defaults": {"brand_colour": "#12325e"},          # placeholder values of last resort
      "categories": {"vip": {"colour": "#1d232a", "legend": "VIP",
                             "text_colour": "#e8c252"},
                     "*": {"colour": "#5b6570", "legend": "{category}"}},
      "elements": [
        {"type": "rect", "box": [0, 0, 105, 26], "fill": "{brand_colour}", "radius": 0},
        {"type": "text", "name": "badge_name", "box": [6, 30, 93, 26],
         "text": "{badge_name}", "font": "sans", "size": 34, "min_size": 14,
         "bold": true, "colour": "#1d232a", "align": "center", "valign": "middle",
         "max_lines": 2, "leading": 1.1, "tracking": 0, "uppercase": false,
         "alt_box": {"when_empty": "native_name", "box": [6, 30, 93, 36]}},
        {"type": "qr", "box": [34, 90, 37, 37], "field": "token", "ecc": "Q", "dpi": 203},
        {"type": "image", "box": [6, 4, 18, 18], "path": "{event_logo}"},
        {"type": "band", "box": [0, 134, 105, 14], "field": "category_key",
         "legend": {"size": 16, "bold": true, "tracking": 0.12, "uppercase": true}}
      ]
    }

Text, colours and image paths may hold ``{field}`` placeholders, filled from the record,
then the ``context`` given to :func:`render`, then the layout's ``defaults``; a missing
field is empty, and an element whose text is empty is not drawn. Any element may carry
``"when": "field"`` to be drawn only when that field is not empty; a text element's
``alt_box`` is used instead of ``box`` when its ``when_empty`` field is empty (a name that
takes the room of a missing native-script name). Images are looked for
beside the layout file, then in the resources folder. A ``band`` takes its colour and
legend from ``categories`` by the record's ``category_key`` (``"*"`` for any other).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from desktop import qrmatrix
from desktop.fonts import FontLibrary, default_library
from desktop.paths import resources_dir
from desktop.textshaping import GlyphRun, TextBlock, TextShaper, TextStyle, describe_char

MM = 72.0 / 25.4
MIN_MODULE_MM = 0.5
QUIET_MODULES = 4
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\Z")
_DANGLING = re.compile(r"^[\s,;·|/\-–—]+|[\s,;·|/\-–—]+$")


class LayoutError(Exception):
    """A layout cannot be found or read; the message says which and why."""


@dataclass(frozen=True)
class Box:
    """A rectangle in millimetres from the top-left of the page."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class CategoryStyle:
    """The band colour and legend for one category."""

    colour: str
    legend: str
    text_colour: str = ""


@dataclass(frozen=True)
class TextElement:
    """Text from a template, fitted in its box."""

    name: str
    box: Box
    text: str
    style: TextStyle
    colour: str = "#000000"
    uppercase: bool = False
    when: str = ""
    # (field, box): use the larger box when that field is empty, e.g. a name taking the
    # room of a missing native-script name.
    alt_box: tuple[str, Box] | None = None


@dataclass(frozen=True)
class QrElement:
    """A QR code of one field, with its quiet zone, centred in its box."""

    name: str
    box: Box
    field: str = "token"
    ecc: str = "Q"
    dpi: float = 203.0
    colour: str = "#000000"
    when: str = ""


@dataclass(frozen=True)
class ImageElement:
    """A picture scaled to fit its box, keeping its proportions."""

    name: str
    box: Box
    path: str
    when: str = ""


@dataclass(frozen=True)
class RectElement:
    """A filled (optionally stroked, optionally rounded) rectangle."""

    name: str
    box: Box
    fill: str = ""
    stroke: str = ""
    stroke_width: float = 0.3
    radius: float = 0.0
    when: str = ""


@dataclass(frozen=True)
class BandElement:
    """A rectangle coloured by category, with the category's legend in it."""

    name: str
    box: Box
    field: str
    legend: TextStyle
    uppercase: bool = True
    padding: float = 2.0
    radius: float = 0.0
    when: str = ""


Element = TextElement | QrElement | ImageElement | RectElement | BandElement


@dataclass(frozen=True)
class Sheet:
    """Several documents per page: a grid centred on a larger page."""

    width: float
    height: float
    cols: int
    rows: int
    gutter_x: float = 0.0
    gutter_y: float = 0.0
    cut_marks: bool = True

    @property
    def per_page(self) -> int:
        """Documents on one page."""
        return self.cols * self.rows


@dataclass(frozen=True)
class Layout:
    """A parsed layout; ``width`` and ``height`` are one document's size in mm."""

    name: str
    title: str
    kind: str
    width: float
    height: float
    elements: tuple[Element, ...]
    sheet: Sheet | None = None
    categories: Mapping[str, CategoryStyle] = field(default_factory=dict)
    defaults: Mapping[str, str] = field(default_factory=dict)
    folder: Path | None = None

    @property
    def per_page(self) -> int:
        """Documents on one page (1 unless it is a sheet)."""
        return self.sheet.per_page if self.sheet else 1

    @property
    def page_size(self) -> tuple[float, float]:
        """The printed page in mm (the sheet's when there is one)."""
        if self.sheet:
            return self.sheet.width, self.sheet.height
        return self.width, self.height


@dataclass(frozen=True)
class LayoutInfo:
    """What a layout picker shows: name, title, sizes."""

    name: str
    title: str
    kind: str
    width: float
    height: float
    page_width: float
    page_height: float
    per_page: int
    builtin: bool
    path: Path


@dataclass
class RenderReport:
    """What :func:`render` did: pages written, documents drawn, and what went wrong."""

    pages: int = 0
    documents: int = 0
    warnings: list[str] = field(default_factory=list)
    cancelled: bool = False

    def warn(self, message: str) -> None:
        """Add a warning once."""
        if message not in self.warnings:
            self.warnings.append(message)


# -- reading layouts ----------------------------------------------------------------------


def builtin_dir() -> Path:
    """The folder of the layouts that ship with the program."""
    return resources_dir() / "layouts"


def _candidates(user_dir: Path | None) -> dict[str, tuple[Path, bool]]:
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted(builtin_dir().glob("*.json")):
        found[path.stem] = (path, True)
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.json")):
            found[path.stem] = (path, False)  # the organiser's own shadows a built-in
    return found


def list_layouts(user_dir: Path | None = None) -> list[LayoutInfo]:
    """Built-in layouts, then the organiser's own from ``user_dir``; unreadable ones skipped."""
    infos = []
    for name, (path, builtin) in _candidates(user_dir).items():
        try:
            layout = load_layout(str(path), user_dir)
        except LayoutError:
            continue
        page_w, page_h = layout.page_size
        infos.append(
            LayoutInfo(
                name=name,
                title=layout.title,
                kind=layout.kind,
                width=layout.width,
                height=layout.height,
                page_width=page_w,
                page_height=page_h,
                per_page=layout.per_page,
                builtin=builtin,
                path=path,
            )
        )
    infos.sort(key=lambda info: (not info.builtin, info.name))
    return infos


def load_layout(name_or_path: str, user_dir: Path | None = None) -> Layout:
    """A layout by name (the organiser's folder first, then built-ins) or by file path."""
    path = _resolve(name_or_path, user_dir)
    raw = _read_merged(path, user_dir, [])
    return _parse(path.stem, raw, path.parent)


def _resolve(name_or_path: str, user_dir: Path | None, exclude: Path | None = None) -> Path:
    as_path = Path(name_or_path)
    if as_path.suffix.lower() == ".json" and as_path.is_file():
        return as_path
    candidates = _candidates(user_dir)
    found = candidates.get(name_or_path)
    if found is not None and found[0] != exclude:
        return found[0]
    builtin = builtin_dir() / f"{name_or_path}.json"
    if builtin.is_file() and builtin != exclude:
        return builtin
    names = ", ".join(sorted(candidates)) or "none"
    raise LayoutError(f"No layout called {name_or_path!r}. Available layouts: {names}.")


def _read_merged(path: Path, user_dir: Path | None, seen: list[Path]) -> dict[str, Any]:
    if path in seen:
        chain = " -> ".join(p.name for p in [*seen, path])
        raise LayoutError(f"Layout {path.name} extends itself in a loop ({chain}).")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LayoutError(f"Cannot read layout {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise LayoutError(
            f"Layout {path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}):"
            f" {exc.msg}. Fix the file or remove it from the layouts folder."
        ) from exc
    if not isinstance(raw, dict):
        raise LayoutError(f"Layout {path.name} must be a JSON object.")
    parent_name = raw.get("extends")
    if not parent_name:
        return raw
    if not isinstance(parent_name, str):
        raise LayoutError(f"Layout {path.name}: 'extends' must be a layout name.")
    # A file called a6.json that extends "a6" means the built-in one, not itself.
    parent_path = _resolve(parent_name, user_dir, exclude=path)
    parent = _read_merged(parent_path, user_dir, [*seen, path])
    merged = {**parent, **raw}
    for key in ("categories", "defaults", "page"):
        if isinstance(parent.get(key), dict) and isinstance(raw.get(key), dict):
            merged[key] = {**parent[key], **raw[key]}
    if "images_from" not in raw and "images_from" not in parent:
        merged["images_from"] = str(parent_path.parent)
    merged.pop("extends", None)
    return merged


class _Reader:
    """Typed access to a JSON object with messages that say where a value is wrong."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise LayoutError(f"{where} must be a JSON object.")
        self.data: dict[str, Any] = data
        self.where = where

    def number(self, key: str, default: float | None = None, minimum: float = 0.0) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise LayoutError(f"{self.where}: '{key}' must be a number.")
        if value < minimum:
            raise LayoutError(f"{self.where}: '{key}' must be at least {minimum:g}.")
        return float(value)

    def integer(self, key: str, default: int, minimum: int = 1) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise LayoutError(f"{self.where}: '{key}' must be a whole number >= {minimum}.")
        return value

    def text(self, key: str, default: str = "") -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str):
            raise LayoutError(f"{self.where}: '{key}' must be text.")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise LayoutError(f"{self.where}: '{key}' must be true or false.")
        return value

    def choice(self, key: str, default: str, choices: Sequence[str]) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise LayoutError(f"{self.where}: '{key}' must be one of {', '.join(choices)}.")
        return value

    def colour(self, key: str, default: str = "") -> str:
        value = self.text(key, default)
        if value and "{" not in value and parse_colour(value) is None and value != "none":
            raise LayoutError(f"{self.where}: '{key}' is not a colour like #1f4e8c.")
        return value

    def box(self, key: str = "box") -> Box:
        value = self.data.get(key)
        if (
            not isinstance(value, list)
            or len(value) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise LayoutError(f"{self.where}: '{key}' must be [x, y, width, height] in mm.")
        if value[2] <= 0 or value[3] <= 0:
            raise LayoutError(f"{self.where}: '{key}' must have a positive width and height.")
        return Box(float(value[0]), float(value[1]), float(value[2]), float(value[3]))


def _text_style(r: _Reader, size: float = 12.0) -> TextStyle:
    font = r.choice("font", "sans", ("sans", "serif"))
    max_size = r.number("size", size, minimum=1.0)
    return TextStyle(
        family=font,
        bold=r.flag("bold"),
        size=max_size,
        min_size=min(max_size, r.number("min_size", min(6.0, max_size), minimum=1.0)),
        max_lines=r.integer("max_lines", 1),
        leading=r.number("leading", 1.15, minimum=0.5),
        tracking=r.number("tracking", 0.0, minimum=-0.2),
        align=r.choice("align", "center", ("left", "center", "right", "start", "end")),
        valign=r.choice("valign", "middle", ("top", "middle", "bottom")),
    )


def _parse_element(raw: Any, index: int, layout_name: str) -> Element:
    where = f"Layout {layout_name!r}, element {index + 1}"
    r = _Reader(raw, where)
    kind = r.choice("type", "", ("text", "qr", "image", "rect", "band"))
    where = f"{where} ({kind})"
    r.where = where
    name = r.text("name")
    when = r.text("when")
    if kind == "text":
        template = r.text("text")
        if not name:
            first = _PLACEHOLDER.search(template)
            name = first.group(1) if first and first.group(1) else f"text {index + 1}"
        alt_box = None
        if "alt_box" in r.data:
            alt = _Reader(r.data["alt_box"], f"{where}, alt_box")
            field_name = alt.text("when_empty")
            if not field_name:
                raise LayoutError(f"{where}, alt_box: 'when_empty' must name a field.")
            alt_box = (field_name, alt.box())
        return TextElement(
            alt_box=alt_box,
            name=name,
            box=r.box(),
            text=template,
            style=_text_style(r),
            colour=r.colour("colour", "#000000"),
            uppercase=r.flag("uppercase"),
            when=when,
        )
    if kind == "qr":
        return QrElement(
            name=name or "qr",
            box=r.box(),
            field=r.text("field", "token"),
            ecc=r.choice("ecc", "Q", ("L", "M", "Q", "H")),
            dpi=r.number("dpi", 203.0, minimum=72.0),
            colour=r.colour("colour", "#000000"),
            when=when,
        )
    if kind == "image":
        return ImageElement(name=name or "image", box=r.box(), path=r.text("path"), when=when)
    if kind == "rect":
        return RectElement(
            name=name or "rect",
            box=r.box(),
            fill=r.colour("fill"),
            stroke=r.colour("stroke"),
            stroke_width=r.number("stroke_width", 0.3),
            radius=r.number("radius", 0.0),
            when=when,
        )
    legend = _Reader(raw.get("legend", {}), f"{where}, legend")
    return BandElement(
        name=name or "band",
        box=r.box(),
        field=r.text("field", "category_key"),
        legend=_text_style(legend, size=14.0),
        uppercase=legend.flag("uppercase", True),
        padding=r.number("padding", 2.0),
        radius=r.number("radius", 0.0),
        when=when,
    )


def _parse(name: str, raw: dict[str, Any], folder: Path) -> Layout:
    top = _Reader(raw, f"Layout {name!r}")
    page = _Reader(raw.get("page"), f"Layout {name!r}, page")
    width = page.number("width", minimum=10.0)
    height = page.number("height", minimum=10.0)
    sheet = None
    if raw.get("sheet") is not None:
        s = _Reader(raw["sheet"], f"Layout {name!r}, sheet")
        gutter = s.data.get("gutter", [0, 0])
        if (
            not isinstance(gutter, list)
            or len(gutter) != 2
            or not all(isinstance(g, int | float) and g >= 0 for g in gutter)
        ):
            raise LayoutError(f"Layout {name!r}, sheet: 'gutter' must be [x, y] in mm.")
        sheet = Sheet(
            width=s.number("width", minimum=10.0),
            height=s.number("height", minimum=10.0),
            cols=s.integer("cols", 1),
            rows=s.integer("rows", 1),
            gutter_x=float(gutter[0]),
            gutter_y=float(gutter[1]),
            cut_marks=s.flag("cut_marks", True),
        )
        need_w = sheet.cols * width + (sheet.cols - 1) * sheet.gutter_x
        need_h = sheet.rows * height + (sheet.rows - 1) * sheet.gutter_y
        if need_w > sheet.width + 0.01 or need_h > sheet.height + 0.01:
            raise LayoutError(
                f"Layout {name!r}: {sheet.cols} x {sheet.rows} documents of {width:g} x"
                f" {height:g} mm do not fit on a {sheet.width:g} x {sheet.height:g} mm sheet."
            )
    elements_raw = raw.get("elements", [])
    if not isinstance(elements_raw, list):
        raise LayoutError(f"Layout {name!r}: 'elements' must be a list.")
    elements = tuple(_parse_element(e, i, name) for i, e in enumerate(elements_raw))
    categories: dict[str, CategoryStyle] = {}
    cats = raw.get("categories", {})
    if not isinstance(cats, dict):
        raise LayoutError(f"Layout {name!r}: 'categories' must be an object.")
    for key, value in cats.items():
        c = _Reader(value, f"Layout {name!r}, category {key!r}")
        categories[key] = CategoryStyle(
            colour=c.colour("colour", "#5b6570"),
            legend=c.text("legend", "{category}"),
            text_colour=c.colour("text_colour"),
        )
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict) or not all(isinstance(v, str) for v in defaults.values()):
        raise LayoutError(f"Layout {name!r}: 'defaults' must map names to text.")
    images_from = raw.get("images_from")
    return Layout(
        name=name,
        title=top.text("title", name),
        kind=top.text("kind", "badge"),
        width=width,
        height=height,
        elements=elements,
        sheet=sheet,
        categories=categories,
        defaults=dict(defaults),
        folder=Path(images_from) if isinstance(images_from, str) else folder,
    )


# -- values ---------------------------------------------------------------------------


def fill(template: str, values: Mapping[str, str]) -> str:
    """Replace ``{field}`` placeholders (``{{`` and ``}}`` for braces); missing = empty."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        value = values.get(match.group(1), "")
        return "" if value is None else str(value)

    return _PLACEHOLDER.sub(replace, template)


def _fill_text(template: str, values: Mapping[str, str]) -> str:
    text = fill(template, values)
    if text != template:
        # "{position}, {organisation}" without a position must not start with a comma.
        text = _DANGLING.sub("", " ".join(text.split()))
    return text


def parse_colour(value: str) -> tuple[float, float, float] | None:
    """``#1f4e8c`` (or ``#fff``) as RGB fractions; None if it is not a colour."""
    match = _HEX.match(value.strip())
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return tuple(int(digits[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# -- rendering ------------------------------------------------------------------------


@dataclass
class _Page:
    """Where one document goes: its top-left corner on the PDF page, in points (y up)."""

    left: float
    top: float


class _Renderer:
    def __init__(
        self,
        layout: Layout,
        canvas: Canvas,
        shaper: TextShaper,
        report: RenderReport,
        categories: Mapping[str, CategoryStyle],
    ) -> None:
        self.layout = layout
        self.canvas = canvas
        self.doc = canvas._doc  # reportlab's documented dynamic-font API needs the document
        self.shaper = shaper
        self.report = report
        self.categories = categories
        self.images: dict[Path, ImageReader | None] = {}

    # ---- geometry helpers

    def rect_pt(self, page: _Page, box: Box) -> tuple[float, float, float, float]:
        """A box as (x, y-bottom, width, height) in PDF points."""
        return (
            page.left + box.x * MM,
            page.top - (box.y + box.h) * MM,
            box.w * MM,
            box.h * MM,
        )

    # ---- elements

    def draw(self, record: Mapping[str, str], values: Mapping[str, str], page: _Page) -> None:
        ref = record.get("short_code") or record.get("ref") or f"#{self.report.documents + 1}"
        for element in self.layout.elements:
            if element.when and not str(values.get(element.when, "") or "").strip():
                continue
            if isinstance(element, TextElement):
                self.text(element, values, page, ref)
            elif isinstance(element, QrElement):
                self.qr(element, values, page, ref)
            elif isinstance(element, RectElement):
                self.rect(element, values, page)
            elif isinstance(element, BandElement):
                self.band(element, values, page, ref)
            else:
                self.image(element, values, page)

    def colour_op(self, value: str, values: Mapping[str, str], stroke: bool = False) -> str:
        resolved = fill(value, values).strip()
        rgb = parse_colour(resolved) if resolved and resolved != "none" else None
        if rgb is None:
            return ""
        return f"{_num(rgb[0])} {_num(rgb[1])} {_num(rgb[2])} {'RG' if stroke else 'rg'}"

    def text(self, element: TextElement, values: Mapping[str, str], page: _Page, ref: str) -> None:
        content = _fill_text(element.text, values)
        if element.uppercase:
            content = content.upper()
        if not content:
            return
        box = element.box
        if element.alt_box and not str(values.get(element.alt_box[0], "") or "").strip():
            box = element.alt_box[1]
        x, y, w, h = self.rect_pt(page, box)
        block = self.shaper.fit(content, w, h, element.style)
        self.emit_block(block, x, y + h, self.colour_op(element.colour, values) or "0 0 0 rg")
        self.check_block(block, element.name, ref)

    def check_block(self, block: TextBlock, name: str, ref: str) -> None:
        for cp in block.missing:
            self.report.warn(f"No font covers {describe_char(cp)} in '{name}' of attendee {ref}")
        if block.truncated:
            self.report.warn(f"'{name}' of attendee {ref} was shortened to fit its box")

    def emit_block(self, block: TextBlock, left: float, top: float, colour: str) -> None:
        if not block.lines:
            return
        ops = ["q", colour]
        size = block.size
        for placed in block.lines:
            pen = left + placed.x
            baseline = top - placed.baseline
            for run in placed.line.runs:
                if run.gids:
                    if run.face.embeddable:
                        self.text_ops(ops, run, pen, baseline, size)
                    else:
                        self.outline_ops(ops, run, pen, baseline, size)
                pen += run.advance * size
        ops.append("Q")
        self.canvas.addLiteral("\n".join(ops))

    def text_ops(
        self, ops: list[str], run: GlyphRun, x: float, baseline: float, size: float
    ) -> None:
        """Glyphs as PDF text (subset TrueType) positioned exactly as HarfBuzz said."""
        face = run.face
        font = face.pdf_font
        codes = [face.glyph_code(gid) for gid in run.gids]
        per_glyph: list[tuple[int, int]] = []
        for subset, chunk in font.splitString("".join(c for c, _ in codes), self.doc):
            per_glyph.extend((subset, byte) for byte in chunk)
        ops.append("BT")
        # Conjuncts and other glyphs without a character of their own are emitted through
        # private codes; ActualText tells text extraction and search what the run says.
        # (Arabic positional forms are real characters that extractors already understand.)
        emitted = unicodedata.normalize("NFKC", "".join(c for c, _ in codes))
        actual = emitted != unicodedata.normalize("NFKC", run.text[::-1] if run.rtl else run.text)
        if actual:
            ops.append(f"/Span <</ActualText <FEFF{run.text.encode('utf-16-be').hex()}>>> BDC")
        current_subset = -1
        pen = 0.0
        i = 0
        n = len(run.gids)
        while i < n:
            subset = per_glyph[i][0]
            rise = run.y_offsets[i]
            if subset != current_subset:
                ops.append(f"{font.getSubsetInternalName(subset, self.doc)} {_num(size)} Tf")
                current_subset = subset
            ops.append(f"1 0 0 1 {_num(x + pen * size)} {_num(baseline + rise * size)} Tm")
            parts: list[str] = []
            adjust = 0.0
            hexes: list[str] = []
            while i < n and per_glyph[i][0] == subset and run.y_offsets[i] == rise:
                # TJ numbers are thousandths of an em, subtracted from the pen position.
                adjust -= run.x_offsets[i] * 1000
                if abs(adjust) > 0.05:
                    if hexes:
                        parts.append(f"<{''.join(hexes)}>")
                        hexes = []
                    parts.append(_num(adjust))
                hexes.append(f"{per_glyph[i][1]:02X}")
                adjust = codes[i][1] - run.x_advances[i] * 1000 + run.x_offsets[i] * 1000
                if abs(adjust) <= 0.05:
                    adjust = 0.0
                pen += run.x_advances[i]
                i += 1
            if hexes:
                parts.append(f"<{''.join(hexes)}>")
            ops.append(f"[{' '.join(parts)}] TJ")
        if actual:
            ops.append("EMC")
        ops.append("ET")

    def outline_ops(
        self, ops: list[str], run: GlyphRun, x: float, baseline: float, size: float
    ) -> None:
        """Glyphs as filled vector outlines (faces reportlab cannot embed, e.g. CFF CJK)."""
        scale = size / run.face.units_per_em
        pen = 0.0
        for gid, advance, dx, dy in zip(
            run.gids, run.x_advances, run.x_offsets, run.y_offsets, strict=True
        ):
            path = run.face.outline_ops(gid)
            if path:
                gx = x + (pen + dx) * size
                gy = baseline + dy * size
                ops.append(f"q {_num(scale)} 0 0 {_num(scale)} {_num(gx)} {_num(gy)} cm {path} f Q")
            pen += advance

    def qr(self, element: QrElement, values: Mapping[str, str], page: _Page, ref: str) -> None:
        data = str(values.get(element.field, "") or "").strip()
        if not data:
            self.report.warn(f"Attendee {ref} has no '{element.field}' for the QR code")
            return
        try:
            matrix = qrmatrix.build(data, element.ecc)
        except Exception as exc:  # qrcode raises DataOverflowError and friends
            self.report.warn(f"QR code of attendee {ref} cannot be made: {exc}")
            return
        x, y, w, h = self.rect_pt(page, element.box)
        modules = matrix.size + 2 * QUIET_MODULES
        dot = 72.0 / element.dpi
        # Whole printer dots per module keep every module the same width on the printer.
        dots = math.floor(min(w, h) / modules / dot + 1e-6)
        module = dots * dot if dots >= 1 else min(w, h) / modules
        if module < MIN_MODULE_MM * MM - 1e-6:
            need = modules * MIN_MODULE_MM
            self.report.warn(
                f"QR code of '{element.name}' has {module / MM:.2f} mm modules: make its box"
                f" at least {need:.0f} mm square for reliable scanning"
            )
        side = modules * module
        left = x + (w - side) / 2
        bottom = y + (h - side) / 2
        if dots >= 1:
            left = round(left / dot) * dot
            bottom = round(bottom / dot) * dot
        top = bottom + side
        ink = self.colour_op(element.colour, values) or "0 0 0 rg"
        ops = [
            "q 1 1 1 rg",
            f"{_num(left)} {_num(bottom)} {_num(side)} {_num(side)} re f",
            ink,
            # Module coordinates: one unit per module, rows counted downwards.
            f"{_num(module)} 0 0 {_num(-module)} {_num(left + QUIET_MODULES * module)}"
            f" {_num(top - QUIET_MODULES * module)} cm",
        ]
        ops.extend(f"{c} {r} {length} 1 re" for r, c, length in matrix.runs())
        ops.append("f Q")
        self.canvas.addLiteral("\n".join(ops))

    def rect(self, element: RectElement, values: Mapping[str, str], page: _Page) -> None:
        fill_op = self.colour_op(element.fill, values)
        stroke_op = self.colour_op(element.stroke, values, stroke=True)
        if not fill_op and not stroke_op:
            return
        x, y, w, h = self.rect_pt(page, element.box)
        paint = "B" if fill_op and stroke_op else ("f" if fill_op else "S")
        ops = ["q", fill_op, stroke_op]
        if stroke_op:
            ops.append(f"{_num(element.stroke_width * MM)} w")
        ops.append(_rect_path(x, y, w, h, element.radius * MM))
        ops.append(f"{paint} Q")
        self.canvas.addLiteral("\n".join(op for op in ops if op))

    def band(self, element: BandElement, values: Mapping[str, str], page: _Page, ref: str) -> None:
        key = str(values.get(element.field, "") or "")
        style = self.categories.get(key) or self.categories.get("*")
        if style is None:
            style = CategoryStyle(colour="#5b6570", legend="{category}")
        x, y, w, h = self.rect_pt(page, element.box)
        fill_op = self.colour_op(style.colour, values) or "0.357 0.396 0.439 rg"
        self.canvas.addLiteral(f"q {fill_op}\n{_rect_path(x, y, w, h, element.radius * MM)} f Q")
        legend = _fill_text(style.legend, values)
        if element.uppercase:
            legend = legend.upper()
        if not legend:
            return
        text_colour = self.colour_op(style.text_colour, values)
        if not text_colour:
            rgb = parse_colour(fill(style.colour, values)) or (0.0, 0.0, 0.0)
            text_colour = "1 1 1 rg" if _luminance(rgb) < 0.45 else "0.114 0.137 0.165 rg"
        pad = element.padding * MM
        block = self.shaper.fit(legend, w - 2 * pad, h - 2 * pad, element.legend)
        self.emit_block(block, x + pad, y + h - pad, text_colour)
        self.check_block(block, element.name, ref)

    def image(self, element: ImageElement, values: Mapping[str, str], page: _Page) -> None:
        spec = fill(element.path, values).strip()
        if not spec:
            return
        path = Path(spec)
        if not path.is_absolute():
            for folder in (self.layout.folder, resources_dir()):
                if folder is not None and (folder / path).is_file():
                    path = folder / path
                    break
        reader = self.images.get(path, False)
        if reader is False:
            try:
                reader = ImageReader(str(path)) if path.is_file() else None
            except Exception:  # Pillow raises many kinds for a broken picture
                reader = None
            self.images[path] = reader
        if reader is None:
            self.report.warn(f"Image {spec!r} of layout {self.layout.name!r} cannot be read")
            return
        x, y, w, h = self.rect_pt(page, element.box)
        # By file name: reportlab then embeds the picture once and keys it by the name. Given
        # the reader, it hashes every pixel again on each page (seconds for a background).
        self.canvas.drawImage(
            str(path), x, y, w, h, preserveAspectRatio=True, anchor="c", mask="auto"
        )


def _rect_path(x: float, y: float, w: float, h: float, radius: float) -> str:
    """A rectangle path, with rounded corners when ``radius`` > 0."""
    r = min(radius, w / 2, h / 2)
    if r <= 0:
        return f"{_num(x)} {_num(y)} {_num(w)} {_num(h)} re"
    k = r * 0.5523  # control-point distance for a quarter circle
    x1, y1 = x + w, y + h
    parts = [
        f"{_num(x + r)} {_num(y)} m",
        f"{_num(x1 - r)} {_num(y)} l",
        f"{_num(x1 - r + k)} {_num(y)} {_num(x1)} {_num(y + r - k)} {_num(x1)} {_num(y + r)} c",
        f"{_num(x1)} {_num(y1 - r)} l",
        f"{_num(x1)} {_num(y1 - r + k)} {_num(x1 - r + k)} {_num(y1)} {_num(x1 - r)} {_num(y1)} c",
        f"{_num(x + r)} {_num(y1)} l",
        f"{_num(x + r - k)} {_num(y1)} {_num(x)} {_num(y1 - r + k)} {_num(x)} {_num(y1 - r)} c",
        f"{_num(x)} {_num(y + r)} l",
        f"{_num(x)} {_num(y + r - k)} {_num(x + r - k)} {_num(y)} {_num(x + r)} {_num(y)} c",
        "h",
    ]
    return " ".join(parts)


def _slots(layout: Layout) -> list[_Page]:
    """Top-left corners (points, y up) of the documents on one page, row by row."""
    if layout.sheet is None:
        return [_Page(0.0, layout.height * MM)]
    s = layout.sheet
    grid_w = s.cols * layout.width + (s.cols - 1) * s.gutter_x
    grid_h = s.rows * layout.height + (s.rows - 1) * s.gutter_y
    left0 = (s.width - grid_w) / 2
    top0 = (s.height - grid_h) / 2
    return [
        _Page(
            (left0 + col * (layout.width + s.gutter_x)) * MM,
            (s.height - top0 - row * (layout.height + s.gutter_y)) * MM,
        )
        for row in range(s.rows)
        for col in range(s.cols)
    ]


def _cut_marks(layout: Layout) -> str:
    """Trim marks on every cut line, outside the grid, plus crosses where cuts meet."""
    assert layout.sheet is not None
    s = layout.sheet
    slots = _slots(layout)
    page_h = s.height * MM
    xs = sorted(
        {round(p.left, 3) for p in slots} | {round(p.left + layout.width * MM, 3) for p in slots}
    )
    ys = sorted(
        {round(p.top, 3) for p in slots} | {round(p.top - layout.height * MM, 3) for p in slots}
    )
    page_w = s.width * MM
    grid_left, grid_right = xs[0], xs[-1]
    grid_bottom, grid_top = ys[0], ys[-1]
    length = 8 * MM
    gap = 1 * MM
    segments: list[tuple[float, float, float, float]] = []

    def along(start: float, end: float, limit: float) -> tuple[float, float]:
        # In a margin wide enough, the mark stays outside the grid; otherwise it runs
        # from the paper's edge inwards along the cut, where the guillotine will pass.
        if abs(end - start) >= 3 * MM:
            direction = 1 if end > start else -1
            return start + direction * gap, start + direction * min(length, abs(end - start) - gap)
        return limit, limit + (length if limit == 0 else -length)

    for x in xs:
        if x <= 0.5 or x >= page_w - 0.5:
            continue
        a, b = along(grid_top, page_h, page_h)
        segments.append((x, a, x, b))
        a, b = along(grid_bottom, 0.0, 0.0)
        segments.append((x, a, x, b))
    for y in ys:
        if y <= 0.5 or y >= page_h - 0.5:
            continue
        a, b = along(grid_left, 0.0, 0.0)
        segments.append((a, y, b, y))
        a, b = along(grid_right, page_w, page_w)
        segments.append((a, y, b, y))
    arm = 3 * MM
    if s.gutter_x == 0 and s.gutter_y == 0:
        for x in xs[1:-1]:
            for y in ys[1:-1]:
                segments.append((x - arm, y, x + arm, y))
                segments.append((x, y - arm, x, y + arm))
    if not segments:
        return ""
    path = " ".join(f"{_num(a)} {_num(b)} m {_num(c)} {_num(d)} l" for a, b, c, d in segments)
    # A white halo keeps the mark visible on dark backgrounds.
    return f"q 1 1 1 RG 1.4 w {path} S 0.2 0.2 0.2 RG 0.4 w {path} S Q"


def render(
    layout: Layout,
    records: Sequence[Mapping[str, str]],
    out: Path | BinaryIO,
    *,
    context: Mapping[str, str] | None = None,
    categories: Mapping[str, CategoryStyle] | None = None,
    fonts: FontLibrary | None = None,
    progress: Callable[[int, int], bool | None] | None = None,
) -> RenderReport:
    """Draw one document per record into a PDF at ``out`` (a path or a binary file).

    ``context`` fills placeholders the records do not (event name, dates); ``categories``
    overrides the layout's band colours and legends. ``progress(done, total)`` is called
    after each document; returning False stops early (``report.cancelled``).
    """
    if not records:
        raise ValueError("Nothing to render: no records were given.")
    with _binary_streams():
        return _render(layout, records, out, context, categories, fonts, progress)


def _render(
    layout: Layout,
    records: Sequence[Mapping[str, str]],
    out: Path | BinaryIO,
    context: Mapping[str, str] | None,
    categories: Mapping[str, CategoryStyle] | None,
    fonts: FontLibrary | None,
    progress: Callable[[int, int], bool | None] | None,
) -> RenderReport:
    shaper = _shaper_for(fonts or default_library())
    report = RenderReport()
    page_w, page_h = layout.page_size
    target: str | BinaryIO = str(out) if isinstance(out, Path) else out
    canvas = Canvas(target, pagesize=(page_w * MM, page_h * MM), invariant=True, pageCompression=1)
    canvas.setCreator("EventDesk")
    title = (context or {}).get("event_name", "") or layout.title
    canvas.setTitle(f"{layout.title} - {title}" if title != layout.title else title)
    merged_categories = {**layout.categories, **(categories or {})}
    renderer = _Renderer(layout, canvas, shaper, report, merged_categories)
    slots = _slots(layout)
    marks = _cut_marks(layout) if layout.sheet and layout.sheet.cut_marks else ""
    base_values: Mapping[str, str] = ChainMap(dict(context or {}), dict(layout.defaults))
    total = len(records)
    for index, record in enumerate(records):
        slot = index % len(slots)
        if slot == 0 and index > 0:
            if marks:
                canvas.addLiteral(marks)
            canvas.showPage()
        page = slots[slot]
        values = ChainMap(dict(record), base_values)  # type: ignore[arg-type]
        if layout.sheet is not None:
            x, y = page.left, page.top - layout.height * MM
            canvas.addLiteral(
                f"q {_num(x)} {_num(y)} {_num(layout.width * MM)} {_num(layout.height * MM)} re W n"
            )
        renderer.draw(record, values, page)
        if layout.sheet is not None:
            canvas.addLiteral("Q")
        report.documents += 1
        if progress is not None and progress(index + 1, total) is False:
            report.cancelled = True
            break
    if marks:
        canvas.addLiteral(marks)
    canvas.showPage()
    canvas.save()
    report.pages = canvas.getPageNumber() - 1
    return report


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Write compressed page streams without ASCII85: smaller, and much faster to write."""
    saved = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = saved


_SHAPERS: dict[int, TextShaper] = {}


def _shaper_for(library: FontLibrary) -> TextShaper:
    """One shaper (and so one shaping cache) per font library, kept between renders."""
    shaper = _SHAPERS.get(id(library))
    if shaper is None or shaper.library is not library:
        shaper = _SHAPERS[id(library)] = TextShaper(library)
    return shaper
