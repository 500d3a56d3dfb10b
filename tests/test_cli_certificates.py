"""``eventdesk certificates`` as a script uses it: real processes, scans, PDFs read back."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
from conftest_cli_helpers import run
from conftest_layout_helpers import decode_qr, pdf_to_pngs

from desktop import checkin, clock, desk
from desktop.checkin import DeskMode
from desktop.demo import demo_session_id
from desktop.store import open_store

SESSIONS = [
    ("opening", "2024-08-28T09:05"),
    ("session-1", "2024-08-28T10:35"),
    ("session-2", "2024-08-28T13:35"),
    ("session-3", "2024-08-29T09:05"),
    ("session-4", "2024-08-29T10:50"),
    ("closing", "2024-08-29T16:35"),
]


def people(data: Path) -> list[dict[str, str]]:
    listed = run(data, "attendees", "--json")
    assert listed.returncode == 0, listed.stderr
    return [p for p in json.loads(listed.stdout) if p["category"] == "participant"]


def attend_by_cli(data: Path, code: str, sessions: list[str]) -> None:
    """Arrivals on both days (the first through ``eventdesk scan``) and the session doors."""
    done = run(data, "scan", code, "--at", "2024-08-28T08:30", "--json")
    assert json.loads(done.stdout)["decision"] == "ok", done.stderr
    store = open_store(data)
    try:
        with store.begin() as session:
            ctx = desk.context(session)
            zone = ZoneInfo("Asia/Manila")
            at = clock.to_naive_utc(datetime(2024, 8, 29, 8, 30), zone)
            assert checkin.scan(session, ctx, code, DeskMode("entrance"), at=at).decision == "ok"
            for key, when in SESSIONS:
                if key in sessions:
                    mode = DeskMode("session", demo_session_id(key))
                    at = clock.to_naive_utc(datetime.fromisoformat(when), zone)
                    assert checkin.scan(session, ctx, code, mode, at=at).decision == "ok"
    finally:
        store.close()


def test_dry_run_json_lists_eligibility_with_reasons(data: Path) -> None:
    first, second = people(data)[:2]
    attend_by_cli(data, first["short_code"], [k for k, _ in SESSIONS])
    attend_by_cli(data, second["short_code"], ["opening"])
    listed = run(data, "certificates", "--dry-run", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["attendee"]: row for row in json.loads(listed.stdout)}
    assert len(rows) == 130
    yes, no = rows[first["id"]], rows[second["id"]]
    assert yes["eligible"] is True and yes["reasons"][0].startswith("eligible: attended 6 of 6")
    assert no["eligible"] is False and "attended 1 of 6" in no["reasons"][0]
    assert any(r.startswith("missed: Session 1") for r in no["reasons"])
    assert sum(1 for r in rows.values() if r["eligible"]) == 1
    plain = run(data, "certificates", "--dry-run")
    assert plain.returncode == 0 and "1 of 130 eligible" in plain.stderr


def test_issue_to_merged_pdf_then_verify_each_qr(data: Path, tmp_path: Path) -> None:
    chosen = people(data)[:3]
    for person in chosen:
        attend_by_cli(data, person["short_code"], [k for k, _ in SESSIONS])
    out = tmp_path / "out" / "certificates.pdf"
    made = run(data, "certificates", "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["certificates"] == result["issued"] == 3 and result["pages"] == 3
    assert len(pypdf.PdfReader(out).pages) == 3
    again = json.loads(run(data, "certificates", "--out", str(out), "--json").stdout)
    assert again["issued"] == 0 and again["serials"] == result["serials"]
    for png in pdf_to_pngs(out, tmp_path, dpi=150):
        (code,) = decode_qr(png)
        checked = run(data, "certificates", "verify", code.text, "--json")
        assert checked.returncode == 0, checked.stdout
        assert json.loads(checked.stdout)["status"] == "genuine"
    # The picture of a page verifies too.
    by_image = run(data, "certificates", "verify", "--image", str(png))
    assert by_image.returncode == 0 and by_image.stdout.startswith("GENUINE CERTIFICATE")
    # Revoked: the same QR code now fails, with a non-zero exit.
    serial = result["serials"][0]["serial"]
    assert run(data, "certificates", "revoke", serial).returncode != 0  # no reason
    revoked = run(data, "certificates", "revoke", serial, "--reason", "issued in error")
    assert revoked.returncode == 0, revoked.stderr
    (tmp_path / "again").mkdir()
    (first,) = decode_qr(pdf_to_pngs(out, tmp_path / "again", dpi=150)[0])
    refused = run(data, "certificates", "verify", first.text, "--json")
    assert refused.returncode == 1 and json.loads(refused.stdout)["status"] == "revoked"


def test_per_person_folder_and_override(data: Path, tmp_path: Path) -> None:
    first, second = people(data)[:2]
    attend_by_cli(data, first["short_code"], [k for k, _ in SESSIONS])
    forced = run(
        data, "certificates", "override", second["short_code"], "--eligible",
        "--reason", "attended by video link, approved", "--json",
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["overridden"] is True
    folder = tmp_path / "each"
    made = run(data, "certificates", "--out", str(folder), "--json")
    assert made.returncode == 0, made.stderr
    files = sorted(folder.glob("*.pdf"))
    assert len(files) == 2 and all(" - OI24-" in f.name for f in files)
    assert [len(pypdf.PdfReader(f).pages) for f in files] == [1, 1]


def test_rules_and_mistakes_give_one_line_errors(data: Path, tmp_path: Path) -> None:
    changed = run(data, "certificates", "rules", "--min-percent", "50", "--no-every-day", "--json")
    assert changed.returncode == 0, changed.stderr
    rules = json.loads(changed.stdout)
    assert rules["min_percent"] == 50 and rules["every_day"] is False
    bad = run(data, "certificates", "rules", "--min-percent", "150")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "100 %" in bad.stderr
    none = run(data, "certificates", "--out", str(tmp_path / "x.pdf"))
    assert none.returncode == 1 and "nobody is eligible" in none.stderr
    assert "Traceback" not in none.stderr
    missing = run(data, "certificates")
    assert missing.returncode == 1 and "--out" in missing.stderr
    forged = run(data, "certificates", "verify", "EVC1" + "A" * 180)
    assert forged.returncode == 1 and forged.stdout.startswith("NOT A CERTIFICATE")
    unknown = run(data, "certificates", "override", "OI-ZZZZ", "--eligible", "--reason", "x")
    assert unknown.returncode == 1 and "OI-ZZZZ" in unknown.stderr
