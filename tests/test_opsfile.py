"""Operations files: a faithful round trip, and whole-file refusal of anything damaged."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from desktop.opsfile import FORMAT, OpsFileError, export_ops, read_ops

EVENT = "apo-2024-manila"


def make_op(i: int, *, event_id: str = EVENT, desk: str = "desk-a") -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()),
        "event_id": event_id,
        "desk_id": desk,
        "hlc": f"{1724800000000 + i:013d}-{i % 10:04d}-{desk}",
        "kind": "attendee.put" if i % 2 else "scan",
        "payload": {"n": i, "name": "Nguyễn Thị Ánh", "tags": ["vip", None], "ok": True},
        "operator_id": None if i % 3 else f"op-{i}",
    }


def write_raw(path: Path, header: dict[str, Any], lines: list[str]) -> None:
    """Write a file by hand with a correct checksum, to test what the reader checks itself."""
    body = [json.dumps(header) + "\n", *(line + "\n" for line in lines)]
    digest = hashlib.sha256("".join(body).encode()).hexdigest()
    end = json.dumps({"end": FORMAT, "count": len(lines), "sha256": digest}) + "\n"
    path.write_bytes(gzip.compress("".join([*body, end]).encode()))


def header(count: int, **changes: Any) -> dict[str, Any]:
    h = {
        "format": FORMAT,
        "version": 1,
        "event_id": EVENT,
        "created": "2024-08-28T01:00:00Z",
        "count": count,
        "public_key": None,
    }
    h.update(changes)
    return h


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    ops = [make_op(i) for i in range(50)]
    path = tmp_path / "ops.edops"
    assert export_ops(path, ops, event_id=EVENT, public_key_hex="AB01") == 50
    return path, ops


def test_round_trip_keeps_every_operation_and_the_header(
    exported: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, ops = exported
    assert path.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    got = read_ops(path)
    assert got.ops == ops
    assert got.header["format"] == FORMAT
    assert got.header["event_id"] == EVENT
    assert got.header["count"] == 50
    assert got.header["public_key"] == "ab01"
    assert got.header["created"].endswith("Z")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_empty_export_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "none.edops"
    assert export_ops(path, [], event_id=EVENT) == 0
    got = read_ops(path)
    assert got.ops == []
    assert got.header["public_key"] is None


def test_export_replaces_an_old_file_and_refuses_another_events_operation(
    exported: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, ops = exported
    before = path.read_bytes()
    with pytest.raises(ValueError, match="belongs to event other"):
        export_ops(path, [*ops[:3], make_op(99, event_id="other")], event_id=EVENT)
    assert path.read_bytes() == before
    assert len(list(path.parent.iterdir())) == 1
    assert export_ops(path, ops[:2], event_id=EVENT) == 2
    assert read_ops(path).ops == ops[:2]


@pytest.mark.parametrize("cut", [1, 4, 8, 20, 200, 1000])
def test_truncated_file_is_refused(exported: tuple[Path, list[dict[str, Any]]], cut: int) -> None:
    path, _ = exported
    data = path.read_bytes()
    assert len(data) > cut
    path.write_bytes(data[:-cut])
    with pytest.raises(OpsFileError, match=r"incomplete|damaged"):
        read_ops(path)


def test_one_changed_compressed_byte_is_refused(
    exported: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, _ = exported
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(OpsFileError, match=r"damaged|altered|incomplete"):
        read_ops(path)


def test_changed_text_recompressed_is_caught_by_the_checksum(
    exported: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, _ = exported
    text = gzip.decompress(path.read_bytes())
    assert b'"n":7,' in text
    path.write_bytes(gzip.compress(text.replace(b'"n":7,', b'"n":8,', 1)))
    with pytest.raises(OpsFileError, match="altered"):
        read_ops(path)


def test_a_dropped_last_line_recompressed_is_refused(
    exported: tuple[Path, list[dict[str, Any]]],
) -> None:
    path, _ = exported
    lines = gzip.decompress(path.read_bytes()).splitlines(keepends=True)
    path.write_bytes(gzip.compress(b"".join(lines[:-1])))
    with pytest.raises(OpsFileError, match="end line is missing"):
        read_ops(path)


def test_gzip_of_junk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "junk.edops"
    path.write_bytes(gzip.compress(b"hello, this is a shopping list\nmilk\n"))
    with pytest.raises(OpsFileError, match="not an EventDesk operations file"):
        read_ops(path)
    path.write_bytes(gzip.compress(bytes(range(256)) * 4))
    with pytest.raises(OpsFileError, match="not an EventDesk operations file"):
        read_ops(path)


def test_empty_and_plain_and_missing_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.edops"
    empty.write_bytes(b"")
    with pytest.raises(OpsFileError, match="empty"):
        read_ops(empty)
    empty_gzip = tmp_path / "empty-gzip.edops"
    empty_gzip.write_bytes(gzip.compress(b""))
    with pytest.raises(OpsFileError, match="empty"):
        read_ops(empty_gzip)
    plain = tmp_path / "plain.edops"
    plain.write_text('{"format": "eventdesk-ops"}\n')
    with pytest.raises(OpsFileError, match="not gzip"):
        read_ops(plain)
    with pytest.raises(OpsFileError, match="does not exist"):
        read_ops(tmp_path / "nowhere.edops")


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda op: op.pop("kind"), "lacks kind"),
        (lambda op: op.update(payload=[1, 2]), "payload must be a JSON object"),
        (lambda op: op.update(op_id="not-a-uuid"), "not a UUID"),
        (lambda op: op.update(op_id=op["op_id"].upper()), "canonical"),
        (lambda op: op.update(hlc="yesterday"), "hlc"),
        (lambda op: op.update(desk_id=7), "desk_id must be a non-empty string"),
        (lambda op: op.update(operator_id=5), "operator_id"),
        (lambda op: op.update(extra="x"), "unknown keys extra"),
        (lambda op: op.update(event_id="other"), "another event"),
    ],
)
def test_one_malformed_operation_refuses_the_whole_file(
    tmp_path: Path, spoil: Any, message: str
) -> None:
    ops = [make_op(i) for i in range(3)]
    spoil(ops[1])
    path = tmp_path / "bad.edops"
    write_raw(path, header(3), [json.dumps(op) for op in ops])
    with pytest.raises(OpsFileError, match=f"line 3: .*{message}"):
        read_ops(path)


def test_a_line_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.edops"
    write_raw(path, header(2), [json.dumps(make_op(0)), "{not json"])
    with pytest.raises(OpsFileError, match="line 3 is not valid JSON"):
        read_ops(path)


def test_header_problems_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.edops"
    line = json.dumps(make_op(0))
    write_raw(path, header(1, version=2), [line])
    with pytest.raises(OpsFileError, match="newer EventDesk"):
        read_ops(path)
    write_raw(path, header(1, format="something-else"), [line])
    with pytest.raises(OpsFileError, match="not an EventDesk operations file"):
        read_ops(path)
    write_raw(path, header(2), [line])
    with pytest.raises(OpsFileError, match="should hold 2 operations but holds 1"):
        read_ops(path)
    write_raw(path, header(1), [line])
    assert len(read_ops(path).ops) == 1  # the hand-made file itself is fine
