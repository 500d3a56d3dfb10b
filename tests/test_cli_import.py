"""``eventdesk import`` as scripts use it: files made here, exit codes, stderr, JSON read back."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main
from desktop.demo_data import synthetic_attendees

HEADINGS = ["Family Name", "Given name(s)", "Economy", "Agency", "Designation", "E-mail"]
ROWS = [
    ["Nguyễn", "Văn An", "Viet Nam", "Ministry of Planning", "Director", "an@mpi.gov.vn"],
    ["Şahin", "Ayşe", "Türkiye", "KOSGEB", "=1+1", "ayse@kosgeb.gov.tr"],
    ["Dela Cruz", "Juan", "PHILIPPINES", "DAP", "Fellow", "juan@dap.edu.ph"],
]


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(HEADINGS)
        writer.writerows(rows)
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data folder holding the demo event."""
    folder = tmp_path / "data"
    assert main(["--data", str(folder), "demo"]) == 0
    return folder


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--data", str(data), *args])
    out, err = capsys.readouterr()
    return code, out, err


def attendees(capsys: pytest.CaptureFixture[str], data: Path) -> list[dict[str, Any]]:
    code, out, _ = run(capsys, data, "attendees", "--json")
    assert code == 0
    result: list[dict[str, Any]] = json.loads(out)
    return result


def in_a_process(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`eventdesk ARGS` in a process of its own (a hang fails the test after 120 s)."""
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_data_folder_named_from_where_one_stands(tmp_path: Path, data: Path) -> None:
    """`--data data`, relative: the import ends (its commit's checkpoint once hung it)."""
    path = write_csv(tmp_path / "list.csv", ROWS)
    done = in_a_process("--data", data.name, "import", path.name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 new, 0 updated, 0 unchanged, 0 refused" in done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    # The checkpoint ran: nothing of the import is left only in the write-ahead log.
    wal = data / "eventdesk.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0


def test_import_then_list_in_a_real_process(tmp_path: Path, data: Path) -> None:
    path = write_csv(tmp_path / "list.csv", ROWS, delimiter=";")
    done = in_a_process("--data", str(data), "import", str(path))
    assert done.returncode == 0, done.stderr
    assert "3 new, 0 updated, 0 unchanged, 0 refused" in done.stdout
    assert "row 3: position '=1+1' starts with '='" in done.stdout
    listed = in_a_process("--data", str(data), "attendees", "--json")
    people = {p["email"]: p for p in json.loads(listed.stdout) if p["email"]}
    assert len(json.loads(listed.stdout)) == 133
    assert people["an@mpi.gov.vn"]["country"] == "VN"
    assert people["an@mpi.gov.vn"]["family_name"] == "Nguyễn"
    assert people["ayse@kosgeb.gov.tr"]["position"] == "=1+1"
    assert people["juan@dap.edu.ph"]["country"] == "PH"


def test_dry_run_json_writes_nothing(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "list.csv", ROWS)
    code, out, err = run(capsys, data, "import", str(path), "--dry-run", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["ok"] is True and document["dry_run"] is True and document["written"] is False
    assert document["counts"] == {
        "new": 3,
        "updated": 0,
        "unchanged": 0,
        "refused": 0,
        "warnings": 1,
    }
    assert [entry["row"] for entry in document["new"]] == [2, 3, 4]
    assert document["new"][0]["fields"]["country"] == "VN"
    assert document["mapping"][2] == {
        "column": 3,
        "heading": "Economy",
        "field": "country",
        "reason": "heading 'Economy'",
    }
    assert document["source"] == "generic" and document["header_row"] == 1
    assert len(attendees(capsys, data)) == 130


def test_json_shows_what_an_update_changes_and_reimport_changes_nothing(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "list.csv", ROWS)
    code, out, _ = run(capsys, data, "import", str(path), "--json")
    assert code == 0
    created = {entry["row"]: entry["attendee"] for entry in json.loads(out)["new"]}
    assert len(created) == 3 and all(created.values())
    changed = [list(row) for row in ROWS]
    changed[0][3] = "Ministry of Planning and Investment"
    changed[2][2] = "Philippines"  # same country, other spelling: no change
    write_csv(path, changed)
    code, out, _ = run(capsys, data, "import", str(path), "--json")
    document = json.loads(out)
    assert code == 0 and document["written"] is True
    assert document["counts"]["updated"] == 1 and document["counts"]["unchanged"] == 2
    assert document["updates"] == [
        {
            "row": 2,
            "attendee": created[2],
            "matched_by": "e-mail",
            "changes": {
                "organisation": {
                    "old": "Ministry of Planning",
                    "new": "Ministry of Planning and Investment",
                }
            },
        }
    ]
    code, out, _ = run(capsys, data, "import", str(path))
    assert code == 0
    assert "0 new, 0 updated, 3 unchanged, 0 refused" in out
    people = {p["email"]: p for p in attendees(capsys, data)}
    assert people["an@mpi.gov.vn"]["organisation"] == "Ministry of Planning and Investment"


def test_problems_refuse_the_import_with_one_line_on_stderr(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [list(row) for row in ROWS]
    rows[1][5] = "ayse at kosgeb"
    rows.append(["", "", "Japan", "JPC", "", ""])
    path = write_csv(tmp_path / "bad.csv", rows)
    code, out, err = run(capsys, data, "import", str(path), "--json")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("eventdesk: nothing imported: 2 row(s)")
    document = json.loads(out)
    assert document["ok"] is False and document["written"] is False
    assert [(p["row"], p["kind"], p["field"]) for p in document["problems"]] == [
        (3, "bad_email", "email"),
        (5, "no_name", "family_name"),
    ]
    assert len(attendees(capsys, data)) == 130

    code, out, err = run(capsys, data, "import", str(path))
    assert code == 1 and "Traceback" not in err
    assert "  row 3: e-mail 'ayse at kosgeb' is not a valid address" in out
    assert "  row 5: no name" in out

    code, out, err = run(capsys, data, "import", str(path), "--skip-invalid", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["written"] is True and document["skipped_rows"] == [3, 5]
    assert [entry["row"] for entry in document["new"]] == [2, 4]
    assert len(attendees(capsys, data)) == 132


def test_a_thousand_bad_rows(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = []
    for index, person in enumerate(synthetic_attendees(1000, seed=9)):
        email = person["email"] if index % 2 else person["email"].replace("@", " at ")
        country = person["country"] if index % 2 == 0 else f"Nowhere {index}"
        rows.append([person["family_name"], person["given_name"], country, "Org", "Post", email])
    path = write_csv(tmp_path / "thousand.csv", rows)
    code, out, err = run(capsys, data, "import", str(path), "--json")
    assert code == 1 and err.count("\n") == 1
    problems = json.loads(out)["problems"]
    by_row = {p["row"]: p["kind"] for p in problems}
    assert by_row == {
        index + 2: "bad_email" if index % 2 == 0 else "unknown_country" for index in range(1000)
    }
    assert all(p["message"] for p in problems)
    assert len(attendees(capsys, data)) == 130


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.csv", b"\xff\xd8\xff\xe0" + bytes(300), "photo.csv: this is a JPEG image"),
        ("empty.csv", b"", "empty.csv: the file is empty"),
        ("blank.xlsx", b"   \n\n", "blank.xlsx: the file is empty"),
        ("prices.csv", b"Item;Price\nTea;2\n", "prices.csv: no heading row with a name column"),
        ("report.xlsx", b"%PDF-1.7\n" + bytes(100), "report.xlsx: this is a PDF document"),
    ],
)
def test_files_that_are_not_participant_lists(
    tmp_path: Path,
    data: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code, out, err = run(capsys, data, "import", str(path), "--json")
    assert code == 1
    assert out == ""
    assert err.startswith(f"eventdesk: {message}") and err.count("\n") == 1
    assert len(attendees(capsys, data)) == 130


def test_ten_megabytes_of_junk_in_a_real_process(tmp_path: Path, data: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(1, 256)) * 41_200)
    done = in_a_process("--data", str(data), "import", str(path))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("eventdesk: junk.csv: not a CSV or XLSX file")
    assert done.stderr.count("\n") == 1


def test_missing_file_and_missing_data_folder(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, data, "import", str(tmp_path / "nothing.csv"))
    assert code == 1 and out == ""
    assert err.startswith("eventdesk: nothing.csv: cannot open the file")
    path = write_csv(tmp_path / "list.csv", ROWS)
    code, out, err = run(capsys, tmp_path / "no-such-folder", "import", str(path))
    assert code == 1 and out == ""
    assert "no EventDesk database" in err and err.count("\n") == 1


def test_header_row_given_by_hand(
    tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "titled.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Participants of the workshop"])
        writer.writerow(["Family name: as in the passport"])
        writer.writerow(HEADINGS)
        writer.writerows(ROWS)
    code, out, err = run(
        capsys, data, "import", str(path), "--header-row", "3", "--dry-run", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["header_row"] == 3 and json.loads(out)["counts"]["new"] == 3
    code, out, err = run(capsys, data, "import", str(path), "--header-row", "9")
    assert code == 1 and out == ""
    assert err == "eventdesk: titled.csv: row 9 is blank or outside the file\n"
