"""QR code module matrices, built with ``qrcode`` but with a fast choice of mask.

``qrcode`` picks the mask by building the symbol eight times and scoring each in Python,
which costs several milliseconds: too slow for a hundred badges a second. Here the
symbol is built once; the other seven masks are derived by flipping the data modules,
and each is scored with the standard penalty rules on the whole matrix packed into one
integer, so a rule is a handful of big-integer operations instead of a loop per module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData, mask_func

ERROR_LEVELS = {
    "L": ERROR_CORRECT_L,
    "M": ERROR_CORRECT_M,
    "Q": ERROR_CORRECT_Q,
    "H": ERROR_CORRECT_H,
}
_ALPHANUMERIC = re.compile(r"[0-9A-Z $%*+\-./:]*\Z")
_PAD = 4  # light modules on each side of a row (the quiet zone) for penalty rule 3


@dataclass(frozen=True)
class QrMatrix:
    """A QR symbol without its quiet zone: ``rows[r]`` has bit ``c`` set if dark."""

    size: int
    rows: tuple[int, ...]
    version: int
    mask: int

    def dark(self, row: int, col: int) -> bool:
        """Whether the module at (row, col) is dark."""
        return bool((self.rows[row] >> col) & 1)

    def runs(self) -> list[tuple[int, int, int]]:
        """Horizontal runs of dark modules as (row, first column, length)."""
        found = []
        for r, bits in enumerate(self.rows):
            c = 0
            while bits:
                if bits & 1:
                    start = c
                    while bits & 1:
                        bits >>= 1
                        c += 1
                    found.append((r, start, c - start))
                else:
                    # Skip a stretch of light modules at once.
                    zeros = (bits & -bits).bit_length() - 1
                    bits >>= zeros
                    c += zeros
        return found


class _Probe(qrcode.QRCode):  # type: ignore[misc]
    """Records which modules hold data (the ones still empty when data is placed)."""

    free_rows: list[int]

    def map_data(self, data: Any, mask_pattern: int) -> None:
        self.free_rows = [
            sum(1 << c for c, value in enumerate(row) if value is None) for row in self.modules
        ]
        super().map_data(data, mask_pattern)


def _pack(rows: list[int], n: int) -> int:
    """All rows in one integer, each row padded with light modules on both sides."""
    stride = n + 2 * _PAD
    packed = 0
    for r, bits in enumerate(rows):
        packed |= bits << (r * stride + _PAD)
    return packed


def _transpose(rows: list[int], n: int) -> list[int]:
    cols = [0] * n
    for r, bits in enumerate(rows):
        c = 0
        while bits:
            if bits & 1:
                cols[c] |= 1 << r
            bits >>= 1
            c += 1
    return cols


@dataclass(frozen=True)
class _Tables:
    """Per-version constants: valid-position masks and each mask's flips of data cells."""

    n: int
    stride: int
    window5: int
    core7: int
    block2: int
    flips: tuple[tuple[int, int], ...]  # per mask: (packed rows, packed columns) vs mask 0


@cache
def _tables(n: int, free_rows: tuple[int, ...]) -> _Tables:
    stride = n + 2 * _PAD

    def positions(span: int, rows: int) -> int:
        # Bit p set where modules p .. p+span-1 all lie inside one row of the symbol.
        row_bits = ((1 << (n - span + 1)) - 1) << _PAD
        return sum(row_bits << (r * stride) for r in range(rows))

    free_cols = _transpose(list(free_rows), n)
    flips = []
    base = mask_func(0)
    for m in range(8):
        func = mask_func(m)
        rows = [
            sum(1 << c for c in range(n) if base(r, c) != func(r, c)) & free_rows[r]
            for r in range(n)
        ]
        cols = [
            sum(1 << r for r in range(n) if base(r, c) != func(r, c)) & free_cols[c]
            for c in range(n)
        ]
        flips.append((_pack(rows, n), _pack(cols, n)))
    return _Tables(
        n=n,
        stride=stride,
        window5=positions(5, n),
        core7=positions(7, n),
        block2=positions(2, n - 1),
        flips=tuple(flips),
    )


def _line_penalty(v: int, t: _Tables) -> int:
    """Rules 1 and 3 (runs of five or more, finder-like patterns) along packed lines."""
    same = ~(v ^ (v >> 1))
    windows = same & (same >> 1) & (same >> 2) & (same >> 3) & t.window5
    # A run of length L >= 5 scores 3 + (L - 5) = (L - 4 windows) + 2 per run.
    score = windows.bit_count() + 2 * (windows & ~(windows << 1)).bit_count()
    light = ~v
    core = v & (light >> 1) & (v >> 2) & (v >> 3) & (v >> 4) & (light >> 5) & (v >> 6) & t.core7
    if core:
        light4 = light & (light >> 1) & (light >> 2) & (light >> 3)
        score += 40 * ((core & (light4 >> 7)).bit_count() + (core & (light4 << 4)).bit_count())
    return score


def penalty(rows: list[int], n: int) -> int:
    """The standard QR mask penalty (rules 1-4) of a matrix given as row bit masks."""
    t = _tables(n, tuple([0] * n))
    return _score(_pack(rows, n), _pack(_transpose(rows, n), n), t)


def _score(v: int, vt: int, t: _Tables) -> int:
    score = _line_penalty(v, t) + _line_penalty(vt, t)
    below = v >> t.stride
    same_v = ~(v ^ below)
    same_h = ~(v ^ (v >> 1))
    score += 3 * (same_v & (same_v >> 1) & same_h & t.block2).bit_count()
    dark = v.bit_count()
    total = t.n * t.n
    score += 10 * (abs(dark * 20 - 10 * total) // total)
    return score


def build(data: str, ecc: str = "Q") -> QrMatrix:
    """The QR symbol for ``data``: alphanumeric mode when possible, smallest version.

    ``ecc`` is the error correction level L, M, Q or H.
    """
    level = ERROR_LEVELS[ecc.upper()]
    mode = MODE_ALPHA_NUM if _ALPHANUMERIC.match(data) else MODE_8BIT_BYTE
    payload = data if mode == MODE_ALPHA_NUM else data.encode("utf-8")
    probe = _Probe(error_correction=level, border=0)
    probe.add_data(QRData(payload, mode=mode), optimize=0)
    probe.best_fit()
    # Build once with mask 0 and format bits left light, as the penalty rules expect.
    probe.makeImpl(True, 0)
    n = probe.modules_count
    base_rows = [sum(1 << c for c, value in enumerate(row) if value) for row in probe.modules]
    t = _tables(n, tuple(probe.free_rows))
    v0 = _pack(base_rows, n)
    vt0 = _pack(_transpose(base_rows, n), n)
    best_mask = min(range(8), key=lambda m: _score(v0 ^ t.flips[m][0], vt0 ^ t.flips[m][1], t))
    # Apply the chosen mask, then write the real format (and version) information.
    rows = [bits ^ _unpack_row(t.flips[best_mask][0], r, n) for r, bits in enumerate(base_rows)]
    probe.modules = [[bool((bits >> c) & 1) for c in range(n)] for bits in rows]
    probe.setup_type_info(False, best_mask)
    if probe.version >= 7:
        probe.setup_type_number(False)
    final = tuple(sum(1 << c for c, value in enumerate(row) if value) for row in probe.modules)
    return QrMatrix(size=n, rows=final, version=probe.version, mask=best_mask)


def _unpack_row(packed: int, r: int, n: int) -> int:
    stride = n + 2 * _PAD
    return (packed >> (r * stride + _PAD)) & ((1 << n) - 1)
