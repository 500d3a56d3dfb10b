"""Signed certificate tokens (the QR code on a certificate), apart from badge tokens.

A token is ``EVC1`` followed by unpadded RFC 4648 base32 of ``payload || signature``:

    payload   = format (1) || key id (1) || event id[:4] || attendee id (16)
                || certificate version (1) || issue date (2, days since 2000-01-01)
                || kind (1) || serial length (1) || serial (ASCII)
    signature = Ed25519(payload), 64 bytes, with the event's badge signing key

Upper case throughout so the QR code uses alphanumeric mode. Anyone holding the event's
public key tells a genuine certificate from a forged one with no database; the register
(revoked? superseded by a newer version?) is the desk's to add.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

CERT_PREFIX = "EVC1"
CERT_FORMAT = 1
SIGNATURE_LEN = 64
MAX_SERIAL_LEN = 40
EPOCH = date(2000, 1, 1)
KINDS = ("attendance", "appreciation")
_FIXED = 1 + 1 + 4 + 16 + 1 + 2 + 1 + 1
_SERIAL_RE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,39}", re.ASCII)
_BODY_RE = re.compile(r"[A-Z2-7]+", re.ASCII)
# Up to four characters a scanner may put first (a symbology identifier such as "]Q1").
_FIND_RE = re.compile(rf"^\S{{0,4}}?({CERT_PREFIX}[A-Z2-7]{{40,}})\s*$", re.ASCII)


class CertCheck(StrEnum):
    """Outcome of checking a certificate token's form and signature."""

    VALID = "valid"
    INVALID = "invalid"
    FORGED = "forged"
    WRONG_EVENT = "wrong_event"


@dataclass(frozen=True)
class CertPayload:
    """What a certificate token carries."""

    key_id: int
    event_prefix: bytes
    attendee_id: uuid.UUID
    version: int
    issued_on: date
    kind: str
    serial: str


def _encode_payload(payload: CertPayload) -> bytes:
    serial = payload.serial.encode("ascii")
    days = (payload.issued_on - EPOCH).days
    return (
        bytes((CERT_FORMAT, payload.key_id))
        + payload.event_prefix
        + payload.attendee_id.bytes
        + bytes((payload.version,))
        + days.to_bytes(2, "big")
        + bytes((KINDS.index(payload.kind), len(serial)))
        + serial
    )


def make_certificate_token(
    private_key: Ed25519PrivateKey,
    key_id: int,
    event_id: uuid.UUID,
    attendee_id: uuid.UUID,
    *,
    serial: str,
    version: int,
    issued_on: date,
    kind: str = "attendance",
) -> str:
    """Sign the token printed as a certificate's QR code (deterministic: same input, same token)."""
    if not 0 <= key_id <= 255:
        raise ValueError(f"key id must be 0..255, not {key_id}")
    if not 1 <= version <= 255:
        raise ValueError(f"certificate version must be 1..255, not {version}")
    if _SERIAL_RE.fullmatch(serial) is None:
        raise ValueError(f"serial must be 1-40 capitals, digits and dashes, not {serial!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    days = (issued_on - EPOCH).days
    if not 0 <= days < 2**16:
        raise ValueError(f"issue date {issued_on} is out of range")
    payload = _encode_payload(
        CertPayload(key_id, event_id.bytes[:4], attendee_id, version, issued_on, kind, serial)
    )
    body = base64.b32encode(payload + private_key.sign(payload)).decode("ascii").rstrip("=")
    return CERT_PREFIX + body


def find_certificate_token(text: str) -> str | None:
    """The certificate token in scanned or typed text (trimmed, any case), or None."""
    if not isinstance(text, str) or len(text) > 1024:
        return None
    found = _FIND_RE.match(text.strip().upper())
    return found.group(1) if found else None


def looks_like_certificate(text: str) -> bool:
    """Whether scanned text is a certificate token (to verify) rather than a badge."""
    return find_certificate_token(text) is not None


def _decode(text: str) -> bytes | None:
    if not text.startswith(CERT_PREFIX):
        return None
    body = text[len(CERT_PREFIX) :]
    if _BODY_RE.fullmatch(body) is None:
        return None
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        return None
    # Only the canonical spelling: no two strings may count as the same certificate.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != body:
        return None
    return raw


def _parse_payload(payload: bytes) -> CertPayload | None:
    if len(payload) < _FIXED or payload[0] != CERT_FORMAT:
        return None
    length = payload[_FIXED - 1]
    if len(payload) != _FIXED + length or not 1 <= length <= MAX_SERIAL_LEN:
        return None
    kind_index = payload[_FIXED - 2]
    if kind_index >= len(KINDS) or payload[22] < 1:
        return None
    try:
        serial = payload[_FIXED:].decode("ascii")
    except UnicodeDecodeError:
        return None
    if _SERIAL_RE.fullmatch(serial) is None:
        return None
    return CertPayload(
        key_id=payload[1],
        event_prefix=payload[2:6],
        attendee_id=uuid.UUID(bytes=payload[6:22]),
        version=payload[22],
        issued_on=EPOCH + timedelta(days=int.from_bytes(payload[23:25], "big")),
        kind=KINDS[kind_index],
        serial=serial,
    )


def verify_certificate_token(
    text: str, public_keys: Mapping[int, bytes], event_id: uuid.UUID
) -> tuple[CertCheck, CertPayload | None]:
    """Check a token against the event's raw Ed25519 public keys; never raises on any text.

    INVALID: not a certificate token. FORGED: this event's, but the signature fails (or the
    key id is unknown). WRONG_EVENT: another event's certificate. The payload comes back
    only with VALID, so unverified fields cannot be used by mistake.
    """
    if not isinstance(text, str):
        return CertCheck.INVALID, None
    raw = _decode(text)
    if raw is None or len(raw) <= SIGNATURE_LEN:
        return CertCheck.INVALID, None
    payload_bytes, signature = raw[:-SIGNATURE_LEN], raw[-SIGNATURE_LEN:]
    payload = _parse_payload(payload_bytes)
    if payload is None:
        return CertCheck.INVALID, None
    ours = payload.event_prefix == event_id.bytes[:4]
    key_bytes = public_keys.get(payload.key_id)
    if key_bytes is None:
        return (CertCheck.FORGED if ours else CertCheck.WRONG_EVENT), None
    try:
        Ed25519PublicKey.from_public_bytes(bytes(key_bytes)).verify(signature, payload_bytes)
    except InvalidSignature:
        return (CertCheck.FORGED if ours else CertCheck.WRONG_EVENT), None
    except ValueError as exc:
        raise ValueError(f"public key {payload.key_id} is not a raw 32-byte Ed25519 key") from exc
    if not ours:
        return CertCheck.WRONG_EVENT, None
    return CertCheck.VALID, payload
