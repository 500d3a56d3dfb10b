"""``eventdesk scan``, ``sessions`` and ``token`` as scripts use them: real processes, JSON."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import qrcode
from conftest_cli_helpers import run
from PIL import Image

from desktop.demo import demo_session_id

DECISIONS = {
    "ok",
    "exit_ok",
    "already_in",
    "not_synced",
    "invalid",
    "forged",
    "wrong_event",
    "revoked",
    "cancelled",
    "not_open",
    "session_full",
    "not_permitted",
}


def test_token_then_scan_json(data: Path) -> None:
    made = run(data, "token", "OI-GM55")
    assert made.returncode == 0, made.stderr
    badge = made.stdout.strip()
    assert badge.startswith("EVD1") and len(badge) == 144
    first = run(data, "scan", badge, "--at", "2024-08-28T08:52", "--json")
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert result["decision"] == "ok" and result["admitted"] is True
    assert result["attendee"]["short_code"] == "OI-GM55"
    assert result["attendee"]["name"] == "Farhana Islam"
    assert result["session"] is None
    assert result["at"] == "2024-08-28T00:52:00Z"  # 08:52 in Manila
    again = json.loads(run(data, "scan", "oi-gm55", "--at", "2024-08-28T09:30", "--json").stdout)
    assert again["decision"] == "already_in"
    assert again["first_arrival"]["at"] == "2024-08-28T00:52:00Z"
    assert again["first_arrival"]["desk"]


def test_session_door_exit_and_forced_scans(data: Path) -> None:
    opening = demo_session_id("opening")
    at = ["--at", "2024-08-28T09:10"]
    entry = json.loads(run(data, "scan", "OI-GM55", "--session", opening, *at, "--json").stdout)
    assert entry["decision"] == "ok" and entry["session"] == opening
    leaving = run(data, "scan", "OI-GM55", "--session", opening, "--exit", *at, "--json")
    assert json.loads(leaving.stdout)["decision"] == "exit_ok"
    late = ["--at", "2024-08-28T13:00"]
    refused = json.loads(run(data, "scan", "OI-GM55", "--session", opening, *late, "--json").stdout)
    assert refused["decision"] == "not_open" and refused["admitted"] is False
    forced = run(
        data, "scan", "OI-GM55", "--session", opening, *late,
        "--force", "--reason", "paper sign-in sheet", "--json",
    )  # fmt: skip
    body = json.loads(forced.stdout)
    assert body["forced"] is True and body["admitted"] is True
    assert body["reason"] == "paper sign-in sheet"
    listing = json.loads(run(data, "sessions", "--json").stdout)
    assert len(listing) == 12
    row = next(s for s in listing if s["id"] == opening)
    assert {"id", "title", "starts_at", "ends_at", "room", "capacity"} <= set(row)
    assert row["arrived"] == 1 and row["inside"] == 1
    assert row["starts_at"].startswith("2024-08-28T09:00")
    text = run(data, "sessions")
    assert text.returncode == 0 and "Opening Session" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan"], "TOKEN_OR_CODE"),
        (["scan", "OI-GM55", "--force"], "--reason"),
        (["scan", "OI-GM55", "--at", "yesterday"], "not a date"),
        (["scan", "OI-GM55", "--session", "nope"], "no session"),
        (["scan", "OI-GM55", "--session", "x", "--room", "y"], "not both"),
        (["token", "OI-0000"], "no attendee"),
        (["scan", "--image", "missing.png"], "missing.png"),
    ],
)
def test_bad_input_is_one_line_on_stderr(data: Path, args: list[str], message: str) -> None:
    result = run(data, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in result.stderr


def test_anything_scanned_gets_a_decision(data: Path) -> None:
    for raw in ("not a badge", "EVD1" + "A" * 140, "\x7f\x1b[2J", "x" * 20_000):
        result = run(data, "scan", raw, "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["decision"] in DECISIONS


def test_scan_a_picture_of_the_qr_code(data: Path, tmp_path: Path) -> None:
    badge = run(data, "token", "OI-GM55").stdout.strip()
    picture = qrcode.make(badge, error_correction=qrcode.constants.ERROR_CORRECT_M)
    path = tmp_path / "badge.png"
    picture.save(path)
    result = run(data, "scan", "--image", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["decision"] == "ok"
    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    none_found = run(data, "scan", "--image", str(blank))
    assert none_found.returncode != 0 and "no QR code" in none_found.stderr


def test_no_event_yet_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path / "empty", "sessions")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --- scan --image: photos and screenshots of badges --------------------------------------------


def _photo(data: Path, folder: Path, *indexes: int, **held: float) -> Path:
    """A JPEG like a phone photo of demo attendees' printed badges, side by side."""
    from conftest_camera_helpers import badge_frame, render_badge_png

    from desktop.store import open_store

    store = open_store(data)
    try:
        drawn = [render_badge_png(store, index, folder) for index in indexes]
    finally:
        store.close()
    pictures = [Image.open(p).convert("L") for p in drawn]
    places = [((i + 1) / (len(pictures) + 1), 0.5) for i in range(len(pictures))]
    frame = badge_frame(
        pictures[0],
        centre=places[0],
        others=tuple(zip(pictures[1:], places[1:], strict=True)),
        **held,  # type: ignore[arg-type]
    )
    path = folder / f"photo-{'-'.join(map(str, indexes))}.jpg"
    frame.save(path, quality=90)
    return path


def test_scan_a_photo_of_a_printed_badge_twice(data: Path, tmp_path: Path) -> None:
    photo = _photo(data, tmp_path, 3, angle=15, blur=0.8, light=0.6)
    first = run(data, "scan", "--image", str(photo), "--at", "2024-08-28T08:50", "--json")
    assert first.returncode == 0, first.stderr
    body = json.loads(first.stdout)
    assert body["decision"] == "ok" and body["attendee"]["short_code"] == "OI-GM55"
    assert body["input"] == "token"
    again = run(data, "scan", "--image", str(photo), "--at", "2024-08-28T09:20", "--json")
    assert json.loads(again.stdout)["decision"] == "already_in"
    line = run(data, "scan", "--image", str(photo), "--at", "2024-08-28T09:21")
    assert line.returncode == 0 and line.stdout.startswith("ALREADY_IN  Farhana Islam")


def test_scan_a_photo_at_a_session_door(data: Path, tmp_path: Path) -> None:
    opening = demo_session_id("opening")
    photo = _photo(data, tmp_path, 3, scale=0.8)
    result = run(
        data, "scan", "--image", str(photo), "--session", opening,
        "--at", "2024-08-28T09:10", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["decision"] == "ok" and body["session"] == opening


def test_pictures_without_one_badge_are_one_line_errors(data: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("minutes of the meeting", encoding="utf-8")
    two = _photo(data, tmp_path, 3, 4, scale=0.8)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(two.read_bytes()[:4000])
    for path, message in (
        (notes, "not a picture"),
        (two, "2 different QR codes"),
        (cut, "damaged picture"),
        (tmp_path, "Is a directory"),
    ):
        result = run(data, "scan", "--image", str(path), "--json")
        assert result.returncode != 0, path
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    # A picture that gives no code is not a scan: nothing was recorded.
    from desktop.store import DB_NAME

    with sqlite3.connect(data / DB_NAME) as db:
        assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 0
