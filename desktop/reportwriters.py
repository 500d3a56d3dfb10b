"""Writing a report table to a file: XLSX (openpyxl) or CSV, never half a file.

Each file is written to a temporary file in the destination folder and renamed over the
destination only once complete, so a failure (a full disk, a folder that went read-only, a
bug) leaves no empty or broken file behind, and an existing file stays as it was. Problems a
person can fix (no such folder, a read-only one, a name without a known extension) raise
:class:`ReportWriteError` with a one-line message saying what to do.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import math
import os
import re
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from desktop.reports.table import Cell, Format, Table
from desktop.sheets import safe_for_spreadsheet

TABLE_SUFFIXES = (".xlsx", ".csv")
# Characters XML 1.0 (and so XLSX) cannot hold: control characters other than tab and newlines.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
NUMBER_FORMATS: dict[Format, str] = {
    "int": "0",
    "percent": "0.0%",
    "datetime": "yyyy-mm-dd hh:mm",
    "date": "yyyy-mm-dd",
}
# Rows sampled to size the columns: enough to be representative, few enough to stay fast.
WIDTH_SAMPLE = 2000
MIN_WIDTH, MAX_WIDTH, MAX_HEADER_WIDTH, MAX_NUMBER_HEADER_WIDTH = 6, 50, 24, 12


class ReportWriteError(Exception):
    """The report could not be written where asked; the message says why and what to do."""


# --- where the file goes ---------------------------------------------------------------------


def _explain(exc: OSError, path: Path) -> ReportWriteError:
    folder = path.parent
    code = exc.errno
    if code == errno.ENOENT:
        return ReportWriteError(f"the folder {folder} does not exist: create it or choose another")
    if code == errno.ENOTDIR:
        return ReportWriteError(f"{_first_file(folder)} is a file, not a folder: choose a folder")
    if code == errno.EROFS:
        return ReportWriteError(
            f"the folder {folder} is on a read-only disk: choose another folder"
        )
    if code in (errno.EACCES, errno.EPERM):
        return ReportWriteError(
            f"{path} cannot be written (the folder is read-only, or the file is open in "
            "another program): close it or choose another folder"
        )
    if code == errno.ENOSPC:
        return ReportWriteError(
            f"the disk holding {folder} is full: free some space, then make the report again"
        )
    if code == errno.EISDIR:
        return ReportWriteError(f"{path} is a folder: give a file name inside it")
    return ReportWriteError(f"could not write {path}: {exc.strerror or exc}")


def _first_file(folder: Path) -> Path:
    """The part of ``folder`` that is a file (what makes the path impossible)."""
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():
            return part
    return folder


def check_destination(path: Path, suffixes: tuple[str, ...] = TABLE_SUFFIXES) -> None:
    """Raise ReportWriteError unless ``path`` can be written as a report file."""
    if path.suffix.lower() not in suffixes:
        wanted = " or ".join(suffixes)
        raise ReportWriteError(f"{path.name}: the file name must end in {wanted}")
    if path.is_dir():
        raise ReportWriteError(f"{path} is a folder: give a file name inside it")
    folder = path.parent
    if not folder.exists():
        blocker = _first_file(folder)
        if blocker != folder:
            raise ReportWriteError(f"{blocker} is a file, not a folder: choose a folder")
        raise ReportWriteError(f"the folder {folder} does not exist: create it or choose another")
    if not folder.is_dir():
        raise ReportWriteError(f"{folder} is a file, not a folder: choose a folder")


def atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write`` on a temporary file beside ``path``; rename it over ``path`` when done."""
    path = Path(path)
    try:
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{path.stem[:40]}.", suffix=".part", dir=path.parent
        )
    except OSError as exc:
        raise _explain(exc, path) from exc
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes the file readable by its owner only; a report is an ordinary file.
        with contextlib.suppress(OSError):
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        if isinstance(exc, OSError):
            raise _explain(exc, path) from exc
        raise
    return path


# --- CSV -------------------------------------------------------------------------------------


def csv_text(value: Cell, fmt: Format) -> str:
    """A cell as CSV text: formula-like text escaped, times as 2024-08-28 09:10."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if fmt == "percent" and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return str(value)
    return safe_for_spreadsheet(str(value))


def _write_csv_to(table: Table, out: IO[bytes]) -> None:
    # UTF-8 with a byte order mark: Excel then reads names in any script correctly.
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([safe_for_spreadsheet(h) for h in table.headers])
    formats = [table.column_format(i) for i in range(len(table.headers))]
    for row in table.rows:
        writer.writerow([csv_text(v, f) for v, f in zip(row, formats, strict=True)])
    text.flush()
    text.detach()


def write_csv(table: Table, path: Path) -> Path:
    """Write ``table`` as CSV (one heading row, then the rows) to ``path``."""
    path = Path(path)
    check_destination(path, (".csv",))
    return atomic_write(path, lambda out: _write_csv_to(table, out))


# --- XLSX ------------------------------------------------------------------------------------

_TITLE_FONT = Font(bold=True, size=14)
_SUBTITLE_FONT = Font(italic=True, color="555555")
_NOTE_FONT = Font(color="555555")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8EDF3")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="8899AA"))
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="bottom")
_TOTAL_FONT = Font(bold=True)
_TOTAL_BORDER = Border(top=Side(style="thin", color="8899AA"))


def sheet_name(title: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    cleaned = " ".join(_SHEET_NAME_BAD.sub(" ", title).split()).strip("'") or "Report"
    return cleaned[:31]


def _clean_text(value: str) -> str:
    return _ILLEGAL.sub("", value)


def _display_width(value: Cell, fmt: Format) -> int:
    if value is None:
        return 0
    if fmt == "datetime" or isinstance(value, datetime):
        return 16
    if fmt == "percent":
        return 7
    longest = max((len(line) for line in str(value).splitlines()), default=0)
    return longest


def column_widths(table: Table) -> list[float]:
    """Widths in characters: the widest sampled cell, bounded; long headings wrap instead."""
    sample = table.rows[:WIDTH_SAMPLE]
    if table.total_rows:
        sample = sample + table.rows[-table.total_rows :]
    widths: list[float] = []
    for index, header in enumerate(table.headers):
        fmt = table.column_format(index)
        data = max((_display_width(row[index], fmt) for row in sample), default=0)
        # A heading is allowed a few lines: narrow figures under it stay narrow.
        cap = MAX_NUMBER_HEADER_WIDTH if fmt in ("int", "percent") else MAX_HEADER_WIDTH
        longest_word = max((len(word) for word in header.split()), default=0)
        heading = max(min(len(header), cap), min(longest_word, cap))
        widths.append(float(min(MAX_WIDTH, max(MIN_WIDTH, data, heading) + 2)))
    return widths


def _header_height(table: Table, widths: list[float]) -> float:
    lines = max(
        (math.ceil(len(h) / max(1.0, w - 2)) for h, w in zip(table.headers, widths, strict=True)),
        default=1,
    )
    return 15.0 * max(1, min(lines, 6))


def _text_cell(ws: WriteOnlyWorksheet, value: str, font: Font | None = None) -> Any:
    cell = WriteOnlyCell(ws, value=_clean_text(value))
    # openpyxl would store text starting with "=" as a formula: keep it text.
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _data_row(ws: WriteOnlyWorksheet, row: tuple[Cell, ...], formats: list[Format]) -> list[Any]:
    out: list[Any] = []
    for value, fmt in zip(row, formats, strict=True):
        if isinstance(value, str):
            if value[:1] in ("=", "+", "-", "@") or _ILLEGAL.search(value):
                out.append(_text_cell(ws, value))
            else:
                out.append(value)
        elif value is None or (fmt in ("text", "int") and not isinstance(value, float)):
            out.append(value)
        else:
            cell = WriteOnlyCell(ws, value=value)
            cell.number_format = NUMBER_FORMATS.get(fmt, "General")
            out.append(cell)
    return out


def _write_xlsx_to(table: Table, out: IO[bytes]) -> None:
    workbook = Workbook(write_only=True)
    workbook.properties.title = table.title
    workbook.properties.creator = "EventDesk"
    ws = workbook.create_sheet(sheet_name(table.title))
    widths = column_widths(table)
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    top = [(table.title, _TITLE_FONT)]
    if table.subtitle:
        top.append((table.subtitle, _SUBTITLE_FONT))
    top.extend((note, _NOTE_FONT) for note in table.notes)
    header_row = len(top) + 2  # a blank row between the notes and the headings
    last_column = get_column_letter(len(table.headers))
    # Many columns (the attendance matrix): keep the names in view while scrolling right.
    frozen_columns = "C" if len(table.headers) > 10 else "A"
    ws.freeze_panes = f"{frozen_columns}{header_row + 1}"
    data_end = header_row + len(table.rows) - table.total_rows
    ws.auto_filter.ref = f"A{header_row}:{last_column}{max(header_row, data_end)}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if len(table.headers) > 6 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = f"{_clean_text(table.title)} · page &P of &N"
    ws.row_dimensions[header_row].height = _header_height(table, widths)

    for text, font in top:
        ws.append([_text_cell(ws, text, font)])
    ws.append([])
    headers = []
    for heading in table.headers:
        cell = _text_cell(ws, heading, _HEADER_FONT)
        cell.fill = _HEADER_FILL
        cell.border = _HEADER_BORDER
        cell.alignment = _HEADER_ALIGN
        headers.append(cell)
    ws.append(headers)
    formats = [table.column_format(i) for i in range(len(table.headers))]
    body = len(table.rows) - table.total_rows
    for row in table.rows[:body]:
        ws.append(_data_row(ws, row, formats))
    for row in table.rows[body:]:
        cells = []
        for value in _data_row(ws, row, formats):
            cell = value if isinstance(value, SheetCell) else WriteOnlyCell(ws, value=value)
            cell.font = _TOTAL_FONT
            cell.border = _TOTAL_BORDER
            cells.append(cell)
        ws.append(cells)
    workbook.save(out)


def write_xlsx(table: Table, path: Path) -> Path:
    """Write ``table`` as an Excel workbook: title and notes, then a frozen, filtered table."""
    path = Path(path)
    check_destination(path, (".xlsx",))
    return atomic_write(path, lambda out: _write_xlsx_to(table, out))


def header_row(table: Table) -> int:
    """The worksheet row (1-based) holding the headings in :func:`write_xlsx`'s layout."""
    return 1 + (1 if table.subtitle else 0) + len(table.notes) + 2


def write_table(table: Table, path: Path) -> Path:
    """Write ``table`` as XLSX or CSV, as the file name's extension says."""
    path = Path(path)
    check_destination(path)
    if path.suffix.lower() == ".csv":
        return write_csv(table, path)
    return write_xlsx(table, path)
