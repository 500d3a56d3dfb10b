"""The shape of an operation as it travels between desks: to the hub and in operations files.

An operation is a plain dict with exactly the keys of `OP_KEYS`. Both the hub client and the
operations file check it here, so a malformed operation is refused at the edge, never stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

OP_KEYS: tuple[str, ...] = (
    "op_id",
    "event_id",
    "desk_id",
    "hlc",
    "kind",
    "payload",
    "operator_id",
)

# "<wall-ms:013d>-<counter:04d>-<desk_id>": fixed widths keep the text order equal to the clock
# order, so anything wider would silently break last-writer-wins.
_HLC = re.compile(r"\A\d{13}-\d{4}-(.+)\Z", re.DOTALL)
_UUID = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_KEY_SET = frozenset(OP_KEYS)
# An escaped NUL: \u0000 after an even number of backslashes (an odd one would be literal text).
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
_TEXT_KEYS = ("op_id", "event_id", "desk_id", "hlc", "kind")


class OpShapeError(ValueError):
    """An operation does not have the agreed shape."""


class StoredJson(str):
    """A payload still in the JSON text a desk database holds, passed along without decoding.

    A desk's own operations go to the hub as this text: decoding and encoding 100,000 payloads
    again cost more than the rest of a push. Only text a desk stored from a dict belongs here.
    """

    __slots__ = ()


# What plain ASCII JSON text of a stored payload might hold that the hub cannot take: an escaped
# NUL or surrogate, NaN or an infinity. Text with none of these goes as it is; the rest (rare,
# and any text with other characters) is decoded and checked like a dict.
_SUSPECT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|NaN|Infinity")


def check_op(obj: object) -> dict[str, Any]:
    """Return `obj` as a clean operation dict, or raise `OpShapeError` saying what is wrong."""
    return checked_op(obj)[0]


def checked_op(obj: object, *, trust_stored: bool = False) -> tuple[dict[str, Any], str]:
    """Like `check_op`, also giving the payload as JSON text for the hub (it is made anyway).

    The text is canonical, except that with `trust_stored` a `StoredJson` payload that plainly
    holds nothing the hub would refuse goes as it is (the hub parses it all the same: a caller
    that trusts stored text must be ready for the hub to refuse it, and check strictly then).
    Otherwise a `StoredJson` payload is decoded and checked like a dict.
    """
    if not isinstance(obj, Mapping):
        raise OpShapeError(f"an operation must be an object, not {type(obj).__name__}")
    if obj.keys() != _KEY_SET:
        missing = [k for k in OP_KEYS if k not in obj]
        if missing:
            raise OpShapeError(f"operation lacks {', '.join(missing)}")
        extra = sorted(str(k) for k in obj if k not in _KEY_SET)
        raise OpShapeError(f"operation has unknown keys {', '.join(extra)}")
    for key in _TEXT_KEYS:
        _check_text(key, obj[key])
    op_id: str = obj["op_id"]
    # The hub stores a uuid and gives back its canonical text; any other spelling would come
    # back different and defeat de-duplication by op_id on the desks.
    if _UUID.match(op_id) is None:
        raise OpShapeError(f"operation op_id {op_id!r} is not a UUID in canonical lower-case form")
    match = _HLC.match(obj["hlc"])
    if match is None or match.group(1) != obj["desk_id"]:
        raise OpShapeError(f"operation hlc {obj['hlc']!r} is not <ms>-<counter>-<desk_id>")
    operator_id = obj["operator_id"]
    if operator_id is not None:
        _check_text("operator_id", operator_id)
    payload = obj["payload"]
    if isinstance(payload, StoredJson):
        if (
            trust_stored
            and payload.isascii()
            and payload[:1] == "{"
            and _SUSPECT.search(payload) is None
        ):
            return {k: obj[k] for k in OP_KEYS}, str(payload)
        payload = _decoded(payload)
    if not isinstance(payload, dict):
        raise OpShapeError("operation payload must be a JSON object")
    text = payload_json(payload)
    return {k: obj[k] for k in OP_KEYS}, text


def _decoded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise OpShapeError(f"operation payload is not JSON: {exc}") from None


def _check_text(key: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise OpShapeError(f"operation {key} must be a non-empty string")
    if "\x00" in value:
        raise OpShapeError(f"operation {key} contains a NUL character")
    if value.isascii():
        return  # ASCII always encodes (the usual case: ids, clocks, kinds)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise OpShapeError(f"operation {key} is not valid Unicode text") from None


def payload_json(payload: Mapping[str, Any]) -> str:
    """Serialise a payload canonically; raise `OpShapeError` if JSON (or the hub) cannot hold it."""
    try:
        text = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise OpShapeError(f"operation payload is not plain JSON: {exc}") from None
    # PostgreSQL's jsonb cannot store U+0000 in a string (json escapes it even without ASCII).
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise OpShapeError("operation payload contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise OpShapeError("operation payload is not valid Unicode text") from None
    return text


def op_line(op: Mapping[str, Any]) -> str:
    """One operation as a canonical single-line JSON text (keys sorted, no spaces)."""
    return json.dumps(
        dict(op), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
