"""Normalising what a keyboard-wedge scanner or a person types into the scan field."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from desktop.tokens import TOKEN_PREFIX, normalise_short_code, split_short_code

ScanKind = Literal["token", "short_code", "search", "empty"]

# AIM / ISO 15424 symbology identifier that scanners may put first: "]" + symbology
# letter + modifier, e.g. "]Q1" (QR code), "]C1" (Code 128), "]d2" (Data Matrix).
_AIM_RE = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_SPACE_RE = re.compile(r"\s+")
# Invisible characters that only get in the way: C0/C1 controls (whitespace was mapped to
# spaces before), lone surrogates, soft hyphen, zero-width space, bidi marks and
# embeddings, word joiner, byte order mark. ZWJ/ZWNJ stay: some scripts spell names with them.
_INVISIBLE_RE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u00ad\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
# Up to four characters of junk before a token: a symbology identifier typed through another
# keyboard layout ("+Q1" on German layouts), or an unrecognised scanner prefix.
_JUNK_BEFORE_TOKEN_RE = re.compile(rf"^[^ ]{{1,4}}?(?={TOKEN_PREFIX}[A-Z2-7]+\Z)", re.ASCII)
# A scanned code that is not ours is still a scan (recorded as `invalid`), not a name search.
_MACHINE_MIN_LEN = 64
_DIGITS = frozenset("0123456789")


def _clean(raw: str, max_len: int) -> tuple[str, bool]:
    """The cleaned text, and whether a scanner's symbology identifier was seen."""
    # Bound the work on absurd input (a pasted document) before normalising.
    text = unicodedata.normalize("NFKC", raw[: max_len * 4 + 64])
    text = _SPACE_RE.sub(" ", text)
    text = _INVISIBLE_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text).strip()
    scanned = False
    if _AIM_RE.match(text):
        text = text[3:].lstrip()
        scanned = True
    # Caps Lock inverts the case a scanner types; base32 is case-insensitive here.
    text = text.upper()
    if not text.startswith(TOKEN_PREFIX):
        text = _JUNK_BEFORE_TOKEN_RE.sub("", text, count=1)
    return text[:max_len].rstrip(), scanned


def clean_scan_input(raw: str, max_len: int = 512) -> str:
    """Scan-field text as the rest of the program wants it: trimmed, visible, upper case.

    Drops CR/LF/Tab endings, control and invisible characters, a leading AIM symbology
    identifier (``]Q1``) or a short junk prefix before a token; folds full-width forms.
    """
    return _clean(raw, max_len)[0]


def truncate_raw(raw: str, limit: int = 256) -> str:
    """Raw input made printable for the journal: controls escaped, at most ``limit`` chars."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    pieces: list[str] = []
    used = 0
    for ch in raw:
        piece = _escape(ch)
        if used + len(piece) > limit:
            # Make room for the ellipsis without cutting an escape in half.
            while pieces and used + 1 > limit:
                used -= len(pieces.pop())
            pieces.append("…")
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces)


_NAMED_ESCAPES = {"\\": "\\\\", "\r": "\\r", "\n": "\\n", "\t": "\\t"}


def _escape(ch: str) -> str:
    named = _NAMED_ESCAPES.get(ch)
    if named is not None:
        return named
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def classify(raw: str, prefix: str | None = None) -> ScanKind:
    """What the scan field holds: a token, a short code, a name search, or nothing.

    "token" also covers scanned codes that are not ours (a URL, another system's badge):
    they go to verification and end as an `invalid` scan rather than a name search.
    A dash-less code with no digit (``OIKAWA`` could be a name) counts as a search; pass
    the event's ``prefix`` for a stricter match (without it a hyphenated name such as
    ``Al-Amin`` reads as a code), and let a search that finds nobody retry as a code.
    """
    text, scanned = _clean(raw, 512)
    if not text:
        return "empty"
    if text.startswith(TOKEN_PREFIX) or scanned or "://" in text:
        return "token"
    if len(text) >= _MACHINE_MIN_LEN and " " not in text:
        return "token"
    parts = split_short_code(text)
    if parts is not None and normalise_short_code(text, prefix) is not None:
        typed_prefix, code, separated = parts
        if separated or not _DIGITS.isdisjoint(typed_prefix + code):
            return "short_code"
    return "search"
