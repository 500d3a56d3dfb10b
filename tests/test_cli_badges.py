"""``eventdesk badges`` as a script uses it: real processes, real PDFs read back."""

from __future__ import annotations

import json
from pathlib import Path

import pypdf
import pytest
from conftest_cli_helpers import run


def _text(pdf: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())


def test_list_layouts_as_text_and_json(data: Path) -> None:
    listed = run(data, "badges", "--list-layouts", "--json")
    assert listed.returncode == 0, listed.stderr
    layouts = {item["name"]: item for item in json.loads(listed.stdout)}
    assert {"a6", "cr80", "label-4x3", "a4-sheet"} <= set(layouts)
    assert (layouts["cr80"]["width_mm"], layouts["cr80"]["height_mm"]) == (85.6, 54.0)
    assert layouts["a4-sheet"]["per_page"] == 4
    plain = run(data, "badges", "--list-layouts")
    assert plain.returncode == 0 and "label-4x3" in plain.stdout and "built-in" in plain.stdout


def test_badges_by_country_and_category_to_a_pdf(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "thai.pdf"
    made = run(data, "badges", "--out", str(out), "--country", "TH", "--json")
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["badges"] == result["pages"] == len(result["attendees"]) > 0
    assert result["marked_printed"] == 0 and result["warnings"] == []
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == result["badges"]
    assert "Siriporn BOONMEE" in _text(out) and "ศิริพร บุญมี" in _text(out)
    both = run(
        data, "badges", "--out", str(tmp_path / "both.pdf"), "--country", "Thailand,IR",
        "--category", "Participant", "--layout", "label-4x3", "--json",
    )  # fmt: skip
    assert both.returncode == 0, both.stderr
    assert json.loads(both.stdout)["badges"] > result["badges"]
    page = pypdf.PdfReader(tmp_path / "both.pdf").pages[0]
    assert round(float(page.mediabox.width) * 25.4 / 72) == 102  # the label, landscape


def test_ids_keep_their_order_and_mark_printed_then_not_printed(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "two.pdf"
    made = run(data, "badges", "--out", str(out), "--ids", "oi-2d6y", "OI-AA88", "--mark-printed")
    assert made.returncode == 0, made.stderr
    assert "2 badge(s) on 2 page(s)" in made.stdout and "2 recorded as printed" in made.stdout
    text = _text(out)
    assert text.index("OI-2D6Y") < text.index("OI-AA88")
    log = run(data, "badges", "--log", "--json")
    assert log.returncode == 0, log.stderr
    entries = json.loads(log.stdout)
    assert sorted(e["short_code"] for e in entries) == ["OI-2D6Y", "OI-AA88"]
    assert all(not e["reprint"] and e["layout"] == "a6" for e in entries)
    rest = run(
        data, "badges", "--out", str(tmp_path / "rest.pdf"), "--country", "TH,IR",
        "--not-printed", "--json",
    )  # fmt: skip
    assert rest.returncode == 0, rest.stderr
    assert "OI-AA88" not in _text(tmp_path / "rest.pdf")
    # Printing them again is a reprint: refused without a reason, before any file is written.
    again = tmp_path / "again.pdf"
    refused = run(data, "badges", "--out", str(again), "--ids", "OI-AA88", "--mark-printed")
    assert refused.returncode == 1
    assert "first printed" in refused.stderr and "reason" in refused.stderr
    assert "Traceback" not in refused.stderr and not again.exists()
    ok = run(
        data, "badges", "--out", str(again), "--ids", "OI-AA88", "--mark-printed",
        "--reason", "coffee on it",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    entries = json.loads(run(data, "badges", "--log", "--json").stdout)
    assert entries[0]["reprint"] is True and entries[0]["reason"] == "coffee on it"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["badges"], "give --out PDF"),
        (["badges", "--out", "x.txt"], "does not end in .pdf"),
        (["badges", "--out", "{tmp}/x.pdf", "--country", "Atlantis"], "unknown country"),
        (["badges", "--out", "{tmp}/x.pdf", "--category", "speaker"], "unknown category"),
        (["badges", "--out", "{tmp}/x.pdf", "--ids", "OI-ZZZZ"], "no attendee with code"),
        (["badges", "--out", "{tmp}/x.pdf", "--layout", "poster"], "No layout called"),
        (["badges", "--out", "{tmp}/x.pdf", "--country", "FR"], "no registered attendee"),
    ],
)
def test_mistakes_get_one_line_and_no_file(
    data: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run(data, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert result.returncode != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.pdf").exists()
    assert not list(tmp_path.glob(".x.pdf*"))
