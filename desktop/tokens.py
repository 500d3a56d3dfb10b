"""Signed badge tokens (the QR code) and short human codes.

A token is ``EVD1`` followed by unpadded RFC 4648 base32 of ``payload || signature``:

    payload   = version (1) || key id (1) || event id[:4] || attendee id (16) || badge seq (1)
    signature = Ed25519(payload), 64 bytes

Everything is upper case so a QR code can use alphanumeric mode. A desk holding only the
public key can tell a genuine badge from a forged one, with no database and no network.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

TOKEN_PREFIX = "EVD1"
TOKEN_VERSION = 1
PAYLOAD_LEN = 1 + 1 + 4 + 16 + 1
SIGNATURE_LEN = 64
RAW_LEN = PAYLOAD_LEN + SIGNATURE_LEN
# Unpadded base32 length of RAW_LEN bytes (87 bytes -> 140 characters).
BODY_LEN = (RAW_LEN * 8 + 4) // 5
TOKEN_LEN = len(TOKEN_PREFIX) + BODY_LEN

_TOKEN_RE = re.compile(rf"{TOKEN_PREFIX}[A-Z2-7]{{{BODY_LEN}}}", re.ASCII)
_PADDING = "=" * (-BODY_LEN % 8)


class TokenCheck(StrEnum):
    """Outcome of checking a token's form and signature."""

    VALID = "valid"
    INVALID = "invalid"
    FORGED = "forged"
    WRONG_EVENT = "wrong_event"


@dataclass(frozen=True)
class TokenInfo:
    """The fields carried by a token."""

    version: int
    key_id: int
    event_prefix: bytes
    attendee_id: uuid.UUID
    badge_seq: int


def event_prefix(event_id: uuid.UUID) -> bytes:
    """The 4 bytes of an event id that a token carries."""
    return event_id.bytes[:4]


def make_token(
    private_key: Ed25519PrivateKey,
    key_id: int,
    event_id: uuid.UUID,
    attendee_id: uuid.UUID,
    badge_seq: int,
) -> str:
    """Sign a badge token for one attendee of one event."""
    if not 0 <= key_id <= 255:
        raise ValueError(f"key id must be 0..255, not {key_id}")
    if not 0 <= badge_seq <= 255:
        raise ValueError(f"badge sequence must be 0..255, not {badge_seq}")
    payload = (
        bytes((TOKEN_VERSION, key_id))
        + event_prefix(event_id)
        + attendee_id.bytes
        + bytes((badge_seq,))
    )
    signature = private_key.sign(payload)
    body = base64.b32encode(payload + signature).decode("ascii").rstrip("=")
    return TOKEN_PREFIX + body


@functools.lru_cache(maxsize=256)
def _load_public_key(raw: bytes) -> Ed25519PublicKey:
    # Building the key object costs more than the verification itself; scans reuse it.
    return Ed25519PublicKey.from_public_bytes(raw)


def _decode(text: str) -> bytes | None:
    """The raw bytes of a token in canonical form, or None."""
    if len(text) != TOKEN_LEN or _TOKEN_RE.fullmatch(text) is None:
        return None
    body = text[len(TOKEN_PREFIX) :]
    try:
        raw = base64.b32decode(body + _PADDING)
    except (binascii.Error, ValueError):
        return None
    # b32decode ignores the unused low bits of the last character; demand the canonical
    # spelling so that no two different strings count as the same genuine token.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != body:
        return None
    return raw


def verify_token(
    text: str, public_keys: Mapping[int, bytes], event_id: uuid.UUID
) -> tuple[TokenCheck, TokenInfo | None]:
    """Check a token against the event's raw Ed25519 public keys (by key id).

    Expects the canonical upper-case form (run scan input through
    ``scaninput.clean_scan_input`` first). Never raises on any string. ``TokenInfo`` is
    returned only for VALID, so unverified fields cannot be used by mistake. Decisions:

    - INVALID: not a token, wrong length, bad base32, unknown version.
    - key id known: bad signature -> FORGED; good signature but another event's prefix
      -> WRONG_EVENT; otherwise VALID.
    - key id unknown: another event's prefix -> WRONG_EVENT (we cannot know the other
      event's keys, so we do not claim forgery); this event's prefix -> FORGED.

    Raises ValueError only if an entry of ``public_keys`` is not a 32-byte key.
    """
    if not isinstance(text, str):
        return TokenCheck.INVALID, None
    raw = _decode(text)
    if raw is None or raw[0] != TOKEN_VERSION:
        return TokenCheck.INVALID, None
    payload, signature = raw[:PAYLOAD_LEN], raw[PAYLOAD_LEN:]
    key_id = payload[1]
    ours = payload[2:6] == event_prefix(event_id)
    key_bytes = public_keys.get(key_id)
    if key_bytes is None:
        return (TokenCheck.FORGED if ours else TokenCheck.WRONG_EVENT), None
    try:
        key = _load_public_key(bytes(key_bytes))
    except ValueError as exc:
        raise ValueError(f"public key {key_id} is not a raw 32-byte Ed25519 key") from exc
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        return TokenCheck.FORGED, None
    if not ours:
        return TokenCheck.WRONG_EVENT, None
    info = TokenInfo(
        version=payload[0],
        key_id=key_id,
        event_prefix=payload[2:6],
        attendee_id=uuid.UUID(bytes=payload[6:22]),
        badge_seq=payload[22],
    )
    return TokenCheck.VALID, info


# --- short human codes -------------------------------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CODE_LEN = 4
_CROCKFORD_SET = frozenset(CROCKFORD)
_PREFIX_RE = re.compile(r"[A-Z0-9]{1,6}", re.ASCII)
# Hyphen-like characters and spaces people (or phone keyboards) put between the parts.
_SEPARATOR_RE = re.compile(r"[\s\-_\u2010-\u2015\u2212]+")
# Crockford's decoding rule: O reads as 0, I and L read as 1.
_CODE_CONFUSIONS = str.maketrans({"O": "0", "I": "1", "L": "1"})
# The same confusions, folded the other way, for comparing a typed prefix (mostly letters).
_PREFIX_FOLD = str.maketrans({"0": "O", "1": "I", "L": "I"})


def _check_prefix(prefix: str) -> str:
    upper = prefix.upper()
    if _PREFIX_RE.fullmatch(upper) is None:
        raise ValueError(f"short code prefix must be 1-6 letters or digits, not {prefix!r}")
    return upper


def short_code(prefix: str, attendee_id: uuid.UUID, attempt: int = 0) -> str:
    """A short code such as ``OI-4K7Q`` for typing when a QR code is damaged.

    The four characters come from a hash of the id; on a collision the caller retries with
    ``attempt + 1``.
    """
    # An import makes one per attendee: a prefix is checked once, two characters are looked
    # up at a time.
    canonical = _checked_prefixes.get(prefix)
    if canonical is None:
        canonical = _check_prefix(prefix)
        if len(_checked_prefixes) < 64:
            _checked_prefixes[prefix] = canonical
    if not 0 <= attempt < 2**32:
        raise ValueError(f"attempt must be 0..2**32-1, not {attempt}")
    digest = hashlib.blake2b(
        attendee_id.bytes + attempt.to_bytes(4, "big"), digest_size=8, person=b"EventDesk-code"
    ).digest()
    number = int.from_bytes(digest, "big") >> (64 - 5 * SHORT_CODE_LEN)
    if SHORT_CODE_LEN == 4:
        return f"{canonical}-{_CODE_PAIRS[number >> 10]}{_CODE_PAIRS[number & 1023]}"
    chars = [CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(SHORT_CODE_LEN))]
    return f"{canonical}-{''.join(chars)}"


_checked_prefixes: dict[str, str] = {}
_CODE_PAIRS = [first + second for first in CROCKFORD for second in CROCKFORD]


def split_short_code(text: str) -> tuple[str, str, bool] | None:
    """Split typed text into (typed prefix, code, had separator), upper-cased; or None."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    folded = unicodedata.normalize("NFKC", text).upper().strip()
    parts = [p for p in _SEPARATOR_RE.split(folded) if p]
    if not parts:
        return None
    separated = len(parts) > 1
    if separated:
        # Respect where the person put the dash: the code is what follows the last one.
        typed_prefix, code = "".join(parts[:-1]), parts[-1]
    else:
        typed_prefix, code = parts[0][:-SHORT_CODE_LEN], parts[0][-SHORT_CODE_LEN:]
    if len(code) != SHORT_CODE_LEN:
        return None
    for part in (typed_prefix, code):
        if part and not (part.isascii() and part.isalnum()):
            return None
    return typed_prefix, code, separated


def normalise_short_code(text: str, prefix: str | None = None) -> str | None:
    """The canonical ``PREFIX-CODE`` for typed text, or None if it cannot be one.

    Accepts lower case, a missing or odd dash, and O/0, I/L/1 confusions in the code.
    Given the event's ``prefix``, a confused prefix (``0I``) or a bare code also match.
    """
    parts = split_short_code(text)
    if parts is None:
        return None
    typed_prefix, code, _ = parts
    code = code.translate(_CODE_CONFUSIONS)
    if not set(code) <= _CROCKFORD_SET:
        return None
    if prefix is not None:
        canonical = _check_prefix(prefix)
        if typed_prefix and typed_prefix.translate(_PREFIX_FOLD) != canonical.translate(
            _PREFIX_FOLD
        ):
            return None
        return f"{canonical}-{code}"
    if _PREFIX_RE.fullmatch(typed_prefix) is None:
        return None
    return f"{typed_prefix}-{code}"
