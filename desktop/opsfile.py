"""Operations files: an event's operations carried between desks on a USB stick.

The file is gzip-compressed JSON lines: a header line, one line per operation, and an end line
with the count and a SHA-256 over every line before it. A file that is truncated, altered or
malformed in any way is refused whole, so an import never applies half a file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.opwire import OpShapeError, check_op, op_line

FORMAT = "eventdesk-ops"
VERSION = 1
"""The newest file version this program writes and reads."""

_HEX = re.compile(r"\A(?:[0-9a-f]{2})+\Z")
_SHA256 = re.compile(r"\A[0-9a-f]{64}\Z")


class OpsFileError(Exception):
    """The file cannot be used; str() says why in plain words. Nothing in it was applied."""


@dataclass(frozen=True)
class OpsFile:
    """A read operations file: its header (format, version, event_id, created, count,
    public_key) and its operations in file order."""

    header: dict[str, Any]
    ops: list[dict[str, Any]]


def export_ops(
    path: Path,
    ops: Iterable[Mapping[str, Any]],
    *,
    event_id: str,
    public_key_hex: str | None = None,
) -> int:
    """Write the operations of one event to `path` (replacing it at once); return the count."""
    if public_key_hex is not None:
        public_key_hex = public_key_hex.lower()
        if not _HEX.match(public_key_hex):
            raise ValueError("public key must be hexadecimal text")
    lines: list[bytes] = []
    for op in ops:
        clean = check_op(op)
        if clean["event_id"] != event_id:
            raise ValueError(
                f"operation {clean['op_id']} belongs to event {clean['event_id']}, not {event_id}"
            )
        lines.append(op_line(clean).encode("utf-8") + b"\n")
    header = {
        "format": FORMAT,
        "version": VERSION,
        "event_id": event_id,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "count": len(lines),
        "public_key": public_key_hex,
    }
    lines.insert(0, _json_line(header))
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line)
    lines.append(_json_line({"end": FORMAT, "count": len(lines) - 1, "sha256": digest.hexdigest()}))
    _write_replacing(path, lines)
    return len(lines) - 2


def _json_line(obj: Mapping[str, Any]) -> bytes:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8") + b"\n"


def _write_replacing(path: Path, lines: list[bytes]) -> None:
    # Written beside the target and renamed over it: a full stick or a pulled-out stick leaves
    # the old file (or none), never a half-written one with the right name.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(filename=path.name, mode="wb", fileobj=raw, compresslevel=6) as gz:
                gz.writelines(lines)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def read_ops(path: Path) -> OpsFile:
    """Read and check a whole operations file; raise `OpsFileError` if any part is wrong."""
    data = _decompress(path)
    name = path.name
    if not data:
        raise OpsFileError(f"{name} is empty")
    header = _header(name, data.split(b"\n", 1)[0])
    if not data.endswith(b"\n"):
        raise OpsFileError(f"{name} is incomplete: it stops in the middle of a line")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise OpsFileError(f"{name} is damaged (not UTF-8 text)") from None
    lines = text.split("\n")[:-1]
    if len(lines) < 2:
        raise OpsFileError(f"{name} is incomplete: its end line is missing")
    trailer = _trailer(name, lines[-1])
    body_end = len(data) - len(lines[-1].encode("utf-8")) - 1
    if hashlib.sha256(data[:body_end]).hexdigest() != trailer["sha256"]:
        raise OpsFileError(f"{name} has been altered or damaged (checksum does not match)")
    op_lines = lines[1:-1]
    if not (header["count"] == trailer["count"] == len(op_lines)):
        raise OpsFileError(
            f"{name} should hold {header['count']} operations but holds {len(op_lines)}"
        )
    ops = [_op(name, number, line, header["event_id"]) for number, line in enumerate(op_lines, 2)]
    return OpsFile(header=header, ops=ops)


def _decompress(path: Path) -> bytes:
    name = path.name
    try:
        if path.stat().st_size == 0:
            raise OpsFileError(f"{name} is empty")
        with gzip.open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise OpsFileError(f"{name} does not exist") from None
    except gzip.BadGzipFile as exc:
        if "not a gzipped file" in str(exc).lower():
            raise OpsFileError(f"{name} is not an EventDesk operations file (not gzip)") from None
        raise OpsFileError(f"{name} is damaged ({exc})") from None
    except EOFError:
        raise OpsFileError(f"{name} is incomplete (cut off; copy it again)") from None
    except zlib.error as exc:
        raise OpsFileError(f"{name} is damaged ({exc})") from None
    except OSError as exc:
        raise OpsFileError(f"{name} could not be read: {exc.strerror or exc}") from None


def _loads(name: str, line: str, what: str) -> Any:
    try:
        return json.loads(line, parse_constant=_reject_constant)
    except ValueError:
        raise OpsFileError(f"{name}: {what} is not valid JSON") from None


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")


def _header(name: str, line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line.decode("utf-8"))
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise OpsFileError(f"{name} is not an EventDesk operations file")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise OpsFileError(f"{name} has a malformed header (version)")
    if version > VERSION:
        raise OpsFileError(f"{name} was written by a newer EventDesk (file version {version})")
    if not isinstance(header.get("event_id"), str) or not header["event_id"]:
        raise OpsFileError(f"{name} has a malformed header (event_id)")
    if not isinstance(header.get("created"), str):
        raise OpsFileError(f"{name} has a malformed header (created)")
    count = header.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise OpsFileError(f"{name} has a malformed header (count)")
    key = header.get("public_key")
    if key is not None and not (isinstance(key, str) and _HEX.match(key)):
        raise OpsFileError(f"{name} has a malformed header (public_key)")
    return header


def _trailer(name: str, line: str) -> dict[str, Any]:
    try:
        trailer = json.loads(line)
    except ValueError:
        trailer = None
    if not isinstance(trailer, dict) or trailer.get("end") != FORMAT:
        raise OpsFileError(f"{name} is incomplete: its end line is missing")
    count = trailer.get("count")
    if not isinstance(count, int) or isinstance(count, bool):
        raise OpsFileError(f"{name} has a malformed end line (count)")
    if not isinstance(trailer.get("sha256"), str) or not _SHA256.match(trailer["sha256"]):
        raise OpsFileError(f"{name} has a malformed end line (sha256)")
    return trailer


def _op(name: str, number: int, line: str, event_id: str) -> dict[str, Any]:
    obj = _loads(name, line, f"line {number}")
    try:
        op = check_op(obj)
    except OpShapeError as exc:
        raise OpsFileError(f"{name}, line {number}: {exc}") from None
    if op["event_id"] != event_id:
        raise OpsFileError(f"{name}, line {number}: operation of another event ({op['event_id']})")
    return op
