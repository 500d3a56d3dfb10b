"""The command line as scripts use it: real processes, real data folders, JSON read back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_then_attendees_json(tmp_path: Path) -> None:
    data = tmp_path / "d"
    created = run_cli("--data", str(data), "demo")
    assert created.returncode == 0, created.stderr
    assert "130 attendees" in created.stdout
    listed = run_cli("--data", str(data), "attendees", "--json")
    assert listed.returncode == 0, listed.stderr
    people = json.loads(listed.stdout)
    assert len(people) == 130
    assert len({p["country"] for p in people}) >= 15
    required = {
        "id",
        "short_code",
        "given_name",
        "family_name",
        "badge_name",
        "native_name",
        "country",
        "organisation",
        "category",
        "status",
    }
    assert all(required <= set(p) for p in people)
    assert all(len(p["country"]) == 2 and p["country"].isupper() for p in people)
    assert sum(1 for p in people if p["country"] == "PH") == 30


def test_demo_is_deterministic_and_idempotent(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        assert main(["--data", str(folder), "demo"]) == 0
    assert main(["--data", str(first), "demo"]) == 0  # again: nothing changes

    def people(folder: Path) -> list[dict[str, object]]:
        out = run_cli("--data", str(folder), "attendees", "--json")
        return json.loads(out.stdout)

    assert people(first) == people(second)


def test_search(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "d")
    assert main(["--data", data, "demo"]) == 0
    capsys.readouterr()
    assert main(["--data", data, "attendees", "--search", "Development Academy", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found and all("Development Academy" in p["organisation"] for p in found)


def test_self_test_on_a_demo_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "d")
    assert main(["--data", data, "demo"]) == 0
    capsys.readouterr()
    code = main(["--data", data, "self-test", "--json"])
    report = json.loads(capsys.readouterr().out)
    names = {c["name"]: c["ok"] for c in report["checks"]}
    assert names["database"] is True
    assert names["signing key"] is True
    assert code == (0 if report["ok"] else 1)


def test_data_pointing_at_a_file_is_one_line_error(tmp_path: Path) -> None:
    target = tmp_path / "report.docx"
    target.write_bytes(b"PK\x03\x04 not ours")
    result = run_cli("--data", str(target), "attendees")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert target.read_bytes() == b"PK\x03\x04 not ours"


def test_foreign_folder_is_refused_and_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("x")
    result = run_cli("--data", str(folder), "demo")
    assert result.returncode != 0
    assert "not an EventDesk data folder" in result.stderr
    assert [p.name for p in folder.iterdir()] == ["chapter1.tex"]


def test_attendees_without_event_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli("--data", str(tmp_path / "fresh"), "attendees")
    assert result.returncode != 0
    assert "eventdesk demo" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_command_is_usage_error(tmp_path: Path) -> None:
    result = run_cli("--data", str(tmp_path / "d"), "frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_digest_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "d")
    assert main(["--data", data, "demo"]) == 0
    capsys.readouterr()
    assert main(["--data", data, "digest", "--json"]) == 0
    digest = json.loads(capsys.readouterr().out)
    assert set(digest) == {"tables", "all"}
    assert "attendees" in digest["tables"]
    assert all(len(v) == 64 for v in digest["tables"].values())
