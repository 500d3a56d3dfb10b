"""Read a participant list from CSV or XLSX into rows of text, and find its heading row.

Every cell comes back as text: numbers without a spurious ".0", dates as ISO dates, formulas
as their text (never evaluated). Anything that cannot be read raises `ImportFileError` with a
one-line message that names the file and the problem.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gc
import io
import re
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import openpyxl

from desktop.columns import header_score

HEADER_SEARCH_ROWS: Final = 20
MAX_ROWS: Final = 1_000_000
_DELIMITERS: Final = (",", ";", "\t")
_SNIFF_CHARS: Final = 65_536

# The first bytes of files that people rename to .csv or .xlsx by mistake.
_SIGNATURES: Final = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"{\\rtf", "an RTF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
)
_OLE: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP: Final = b"PK\x03\x04"

_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one row (or with the file, when `row_number` is None).

    `kind` is a stable word for grouping and tests. Refused rows: no_name, bad_email,
    unknown_country, unknown_category, too_long, duplicate, ambiguous, same_attendee,
    id_conflict. Warnings: formula, country_guess, several_emails, shared_email, skipped.
    """

    row_number: int | None
    field: str | None
    message: str
    kind: str

    def __str__(self) -> str:
        return self.message if self.row_number is None else f"row {self.row_number}: {self.message}"


class ImportFileError(Exception):
    """A file that cannot be imported at all; str() is a one-line message for a person."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row: its number as the spreadsheet shows it and one text per heading."""

    row_number: int
    cells: list[str]


@dataclass(frozen=True, slots=True)
class Table:
    """A list read from a file: headings, the row they are on, and the data rows below."""

    name: str
    headers: list[str]
    header_row: int
    rows: list[SourceRow]
    source_format: Literal["csv", "xlsx"]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def samples(self, count: int = 200) -> list[list[str]]:
        """The cells of the first data rows, for guessing columns by their values."""
        return [row.cells for row in self.rows[:count]]


def safe_for_spreadsheet(value: str) -> str:
    """Prefix a value a spreadsheet would run as a formula with ' so it stays text."""
    if value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a list is read, checked and written.

    An import makes millions of small objects that live until it ends, and the collector
    kept scanning them: about 1 s of a 50,000-row import. They form no cycles; reference
    counting still frees everything as usual. Nestable and safe across threads: the
    collector runs again (if it ran before) when the last pause ends.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


def read_table(
    path: Path,
    *,
    max_bytes: int = 50_000_000,
    header_row: int | None = None,
    sheet: str | None = None,
    max_rows: int = MAX_ROWS,
) -> Table:
    """Read a CSV or XLSX file and locate its heading row (or use `header_row`, 1-based)."""
    with gc_paused():
        return _read_table(path, max_bytes, header_row, sheet, max_rows)


def _read_table(
    path: Path, max_bytes: int, header_row: int | None, sheet: str | None, max_rows: int
) -> Table:
    name = path.name
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ImportFileError(f"{name}: is a folder, not a file")
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise ImportFileError(f"{name}: cannot open the file ({error.strerror})") from None
    if size == 0 or (size < 8 and not head.strip()):
        raise ImportFileError(f"{name}: the file is empty")
    if size > max_bytes:
        raise ImportFileError(f"{name}: the file is {_size(size)}; the limit is {_size(max_bytes)}")
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            raise ImportFileError(f"{name}: this is {kind}, not a CSV or XLSX spreadsheet")
    if head.startswith(_OLE):
        raise ImportFileError(
            f"{name}: an old Excel .xls file or a password-protected workbook; "
            "save it as .xlsx (without a password) or as CSV"
        )
    if head.startswith(_ZIP):
        return _read_xlsx(path, header_row, sheet, max_rows, max_bytes)
    return _read_csv(path, header_row, max_rows)


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1e6:.1f} MB"
    if count >= 1000:
        return f"{count / 1e3:.0f} kB"
    return f"{count} bytes"


# --- locating the heading row ----------------------------------------------------------------


def _locate(
    name: str, raw: list[tuple[int, list[str]]], header_row: int | None
) -> tuple[int, list[str]] | None:
    """Pick the heading row: the best-scoring of the first non-blank rows that names people."""
    candidates = [(n, cells) for n, cells in raw if any(cells)]
    if header_row is not None:
        for number, cells in candidates:
            if number == header_row:
                return number, cells
        raise ImportFileError(f"{name}: row {header_row} is blank or outside the file")
    best: tuple[float, int, list[str]] | None = None
    for number, cells in candidates[:HEADER_SEARCH_ROWS]:
        score, has_name = header_score(cells)
        # A lone cell that only mentions a name ("Participant list") is a title, not headings.
        lone = sum(1 for c in cells if c) == 1
        if lone and score < 1:
            continue
        if has_name and (best is None or score > best[0]):
            best = (score, number, cells)
    return None if best is None else (best[1], best[2])


def _no_header(name: str, raw: list[tuple[int, list[str]]], where: str = "") -> ImportFileError:
    first = next((cells for _, cells in raw if any(cells)), None)
    if first is None:
        return ImportFileError(f"{name}: the file has no data (only blank rows){where}")
    preview = " | ".join(c for c in first[:8] if c)[:120]
    return ImportFileError(
        f"{name}: no heading row with a name column in the first {HEADER_SEARCH_ROWS} rows"
        f"{where} (looked for headings such as 'Family name', 'Given name', 'Name', "
        f"'Country', 'E-mail'); the first row reads: {preview!r}"
    )


def _build(
    name: str,
    raw: list[tuple[int, list[str]]],
    header_row: int | None,
    source_format: Literal["csv", "xlsx"],
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table | None:
    located = _locate(name, raw, header_row)
    if located is None:
        return None
    number, header_cells = located
    width = len(header_cells)
    while width and not header_cells[width - 1]:
        width -= 1
    headers = header_cells[:width]
    rows: list[SourceRow] = []
    for row_number, cells in raw:
        if row_number <= number:
            continue
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        elif len(cells) > width:
            cells = cells[:width]
        # Blank rows and headings repeated on every printed page are not data.
        if not any(cells) or cells == headers:
            continue
        rows.append(SourceRow(row_number, cells))
    if not rows:
        raise ImportFileError(f"{name}: the heading row (row {number}) has no data rows below it")
    return Table(name, headers, number, rows, source_format, encoding, delimiter, sheet)


# --- CSV -------------------------------------------------------------------------------------


def _decode(name: str, data: bytes) -> tuple[str, str]:
    """Decode UTF-8 (with or without BOM), UTF-16 (BOM or evident) or Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        sample = data[:4096]
        even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
        if odd_nuls > len(sample) // 4 and even_nuls == 0:
            encoding = "utf-16-le"
        elif even_nuls > len(sample) // 4 and odd_nuls == 0:
            encoding = "utf-16-be"
        elif b"\x00" in data[:_SNIFF_CHARS]:
            raise ImportFileError(
                f"{name}: not a CSV or XLSX file (it contains binary data, not text)"
            )
        else:
            encoding = "utf-8"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError:
        if encoding != "utf-8":
            raise ImportFileError(f"{name}: the text is not valid {encoding.upper()}") from None
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise ImportFileError(
            f"{name}: not a CSV or XLSX file (the bytes are not text in UTF-8, UTF-16 "
            "or Windows-1252)"
        ) from None


def _looks_binary(text: str) -> bool:
    sample = text[:_SNIFF_CHARS]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n")
    return controls > len(sample) // 100


def _guess_delimiter(sample: str) -> str:
    """The delimiter that splits the most rows into the same number (>1) of cells."""
    scores: dict[str, int] = {}
    for delimiter in _DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        counts: Counter[int] = Counter()
        try:
            for index, record in enumerate(reader):
                if index >= 60:
                    break
                if len(record) > 1:
                    counts[len(record)] += 1
        except csv.Error:
            pass
        scores[delimiter] = counts.most_common(1)[0][1] if counts else 0
    best = max(scores.values())
    tied = [d for d in _DELIMITERS if scores[d] == best]
    if len(tied) > 1 and best > 0:
        try:
            sniffed = csv.Sniffer().sniff(sample, delimiters="".join(tied)).delimiter
        except csv.Error:
            sniffed = tied[0]
        return sniffed if sniffed in tied else tied[0]
    return tied[0]


def _read_csv(path: Path, header_row: int | None, max_rows: int) -> Table:
    name = path.name
    data = path.read_bytes()
    text, encoding = _decode(name, data)
    if _looks_binary(text):
        raise ImportFileError(f"{name}: not a CSV or XLSX file (it contains binary data)")
    if not text.strip():
        raise ImportFileError(f"{name}: the file is empty")
    # Excel writes "sep=;" as a first line to name the delimiter; it is not a row.
    first_line, _, rest = text.partition("\n")
    hint = first_line.strip().lower()
    if hint.startswith("sep=") and len(hint) in (4, 5):
        delimiter = first_line.strip()[4:] or ","
        text = rest
    else:
        sample = text[:_SNIFF_CHARS]
        if len(text) > _SNIFF_CHARS and "\n" in sample:
            sample = sample[: sample.rfind("\n")]
        delimiter = _guess_delimiter(sample)
    raw: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if number > max_rows:
                raise ImportFileError(f"{name}: more than {max_rows:,} rows")
            raw.append((number, list(map(str.strip, record))))
    except csv.Error as error:
        raise ImportFileError(f"{name}: row {number + 1} cannot be read as CSV ({error})") from None
    table = _build(name, raw, header_row, "csv", encoding=encoding, delimiter=delimiter)
    if table is None:
        raise _no_header(name, raw)
    return table


# --- XLSX ------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    """One cell as text; whole numbers without ".0", dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # A phone number or an id typed into Excel arrives as a float.
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        # 15 significant digits is what a spreadsheet shows: 0.1 + 0.2 reads "0.3".
        return f"{value:.15g}"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _column_number(letters: bytes) -> int:
    number = 0
    for byte in letters:
        number = number * 26 + (byte - 64)
    return number


def _vertical_merges(archive: zipfile.ZipFile, member: str) -> list[tuple[int, int, int, int]]:
    """Merged ranges spanning several rows, as (min_col, min_row, max_col, max_row), 1-based.

    openpyxl's read-only mode does not expose merged cells; they are listed after the cell
    data in the sheet's XML, so the XML is streamed once and only its end is searched.
    """
    end_tag = b"</sheetData>"
    after: list[bytes] = []
    carry = b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(1 << 20):
                if after:
                    after.append(chunk)
                    continue
                buffer = carry + chunk
                position = buffer.find(end_tag)
                if position >= 0:
                    after.append(buffer[position:])
                else:
                    carry = buffer[-len(end_tag) :]
    except (KeyError, zipfile.BadZipFile, OSError, NotImplementedError, EOFError):
        # The cell data read fine; without merge information nothing is filled in.
        return []
    found: list[tuple[int, int, int, int]] = []
    for match in _MERGE_REF.finditer(b"".join(after)):
        first_col, first_row, last_col, last_row = match.groups()
        if int(last_row) > int(first_row):
            found.append(
                (_column_number(first_col), int(first_row), _column_number(last_col), int(last_row))
            )
    return found


def _fill_merges(raw: list[tuple[int, list[str]]], merges: list[tuple[int, int, int, int]]) -> None:
    """Give every cell of a vertically merged range the value of its top-left cell."""
    by_number = {number: cells for number, cells in raw}
    for min_col, min_row, max_col, max_row in merges:
        top = by_number.get(min_row)
        if top is None or len(top) < min_col:
            continue
        value = top[min_col - 1]
        for number in range(min_row, max_row + 1):
            cells = by_number.get(number)
            if cells is None:
                continue
            if len(cells) < max_col:
                cells.extend([""] * (max_col - len(cells)))
            for col in range(min_col - 1, max_col):
                cells[col] = value


def _sheet_rows(worksheet: Any, name: str, max_rows: int) -> Iterator[tuple[int, list[str]]]:
    for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
        if number > max_rows:
            raise ImportFileError(f"{name}: more than {max_rows:,} rows")
        cells = [_cell_text(v) for v in values]
        while cells and not cells[-1]:
            cells.pop()
        yield number, cells


def _read_xlsx(
    path: Path, header_row: int | None, sheet: str | None, max_rows: int, max_bytes: int
) -> Table:
    try:
        return _read_workbook(path, header_row, sheet, max_rows, max_bytes)
    except ImportFileError:
        raise
    except Exception as error:
        # zipfile, zlib, lxml and openpyxl raise many kinds of errors on a damaged workbook;
        # they all mean the same to the person importing: this file cannot be read.
        detail = " ".join(str(error).split())[:200]
        raise ImportFileError(
            f"{path.name}: cannot read the workbook ({type(error).__name__}: {detail})"
        ) from None


def _read_workbook(
    path: Path, header_row: int | None, sheet: str | None, max_rows: int, max_bytes: int
) -> Table:
    name = path.name
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ImportFileError(f"{name}: a damaged ZIP file, not a readable workbook") from None
    with archive:
        members = set(archive.namelist())
        if "xl/workbook.xml" not in members:
            if "content.xml" in members:
                raise ImportFileError(
                    f"{name}: an OpenDocument spreadsheet (.ods); save it as .xlsx or CSV"
                )
            if "word/document.xml" in members:
                raise ImportFileError(f"{name}: a Word document, not a spreadsheet")
            raise ImportFileError(f"{name}: a ZIP archive, not an XLSX workbook")
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > 20 * max_bytes:
            raise ImportFileError(
                f"{name}: the workbook unpacks to {_size(unpacked)}, too large to import"
            )
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
        try:
            if sheet is not None:
                if sheet not in workbook.sheetnames:
                    raise ImportFileError(f"{name}: no sheet named {sheet!r}")
                worksheets = [workbook[sheet]]
            else:
                active = workbook.active
                worksheets = [active] + [w for w in workbook.worksheets if w is not active]
            first_raw: list[tuple[int, list[str]]] = []
            for worksheet in worksheets:
                if not hasattr(worksheet, "iter_rows"):
                    continue  # a chart sheet, or no sheet at all
                # Some writers store a wrong sheet size; read what is really there.
                worksheet.reset_dimensions()
                raw = list(_sheet_rows(worksheet, name, max_rows))
                member = getattr(worksheet, "_worksheet_path", None)
                if isinstance(member, str):
                    _fill_merges(raw, _vertical_merges(archive, member.lstrip("/")))
                first_raw = first_raw or raw
                table = _build(name, raw, header_row, "xlsx", sheet=worksheet.title)
                if table is not None:
                    return table
        finally:
            workbook.close()
    where = "" if len(worksheets) < 2 else " of any sheet"
    raise _no_header(name, first_raw, where)
