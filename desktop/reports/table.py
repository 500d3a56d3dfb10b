"""The plain table every report returns: what the file writers and the reports area share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Cell = str | int | float | datetime | date | None
# How a column is shown: text, a whole number, a share (0.25 shows as 25 %), a venue time.
Format = Literal["text", "int", "percent", "datetime", "date"]


class ReportError(Exception):
    """A report that cannot be made as asked (unknown name, nothing recorded yet)."""


@dataclass(frozen=True)
class Table:
    """A report: a title, column headings, rows of cells, and notes that define its terms.

    Datetimes are venue time (naive); ``formats`` has one entry per column.
    """

    name: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    formats: tuple[Format, ...] = ()
    subtitle: str = ""
    notes: tuple[str, ...] = ()
    # Rows at the end that sum the others (the writers set them in bold).
    total_rows: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.formats and len(self.formats) != len(self.headers):
            raise ValueError("one format per column")
        for number, row in enumerate(self.rows[:1]):
            if len(row) != len(self.headers):
                raise ValueError(f"row {number + 1} has {len(row)} cells for {len(self.headers)}")

    def column_format(self, index: int) -> Format:
        """How column ``index`` is shown (text when not said)."""
        return self.formats[index] if self.formats else "text"

    def column(self, header: str) -> list[Cell]:
        """The cells under one heading (tests and the UI read columns by name)."""
        index = self.headers.index(header)
        return [row[index] for row in self.rows]


def table(
    name: str,
    title: str,
    columns: Sequence[tuple[str, Format]],
    rows: list[tuple[Cell, ...]],
    *,
    subtitle: str = "",
    notes: Sequence[str] = (),
    total_rows: int = 0,
) -> Table:
    """Build a :class:`Table` from (heading, format) pairs."""
    return Table(
        name=name,
        title=title,
        headers=tuple(h for h, _ in columns),
        rows=rows,
        formats=tuple(f for _, f in columns),
        subtitle=subtitle,
        notes=tuple(notes),
        total_rows=total_rows,
    )
