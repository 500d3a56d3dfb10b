"""The one-page PDF summary: its text read back against counts made in the test."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest
from conftest_demo_helpers import venue

from desktop import desk, journal, summarypdf
from desktop.countries import country_name
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id, demo_session_id
from desktop.demo_data import demo_attendees
from desktop.reportwriters import ReportWriteError
from desktop.store import Store

MANILA = ZoneInfo("Asia/Manila")
PEOPLE = demo_attendees()


def simulate(store: Store) -> dict[str, int]:
    """Japan and India all arrive on day 1, a third of them come to the opening."""
    arrivals = [i for i, p in enumerate(PEOPLE) if p["country"] in ("JP", "IN")]
    with store.begin() as session:
        ctx = desk.context(session)
        for n, i in enumerate(arrivals):
            for session_id, at in (
                (None, venue(28, 8, 0) + timedelta(minutes=7 * n)),
                (demo_session_id("opening") if n % 3 == 0 else None, venue(28, 9, 5)),
            ):
                journal.record(
                    session,
                    ctx,
                    "scan",
                    {"attendee_id": demo_attendee_id(i), "session_id": session_id,
                     "decision": "ok", "direction": "entry", "at": at.isoformat()},
                )  # fmt: skip
    return {"arrived": len(arrivals), "opening": len(arrivals[::3])}


def text_of(pdf: Path) -> tuple[int, str]:
    reader = pypdf.PdfReader(pdf)
    return len(reader.pages), " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_one_page_with_the_figures_and_charts(demo: Store, tmp_path: Path) -> None:
    counts = simulate(demo)
    out = tmp_path / "summary.pdf"
    with demo.begin() as session:
        summarypdf.make_summary_pdf(session, DEMO_EVENT_ID, out, now=venue(28, 12, 0))
    pages, text = text_of(out)
    assert pages == 1
    assert "Conference on Open Innovation in the Public Sector" in text
    assert "28–29 August 2024" in text
    assert f"{len(PEOPLE)} registered" in text
    rate = round(counts["arrived"] / len(PEOPLE) * 100)
    assert f"{counts['arrived']} arrived ({rate} %)" in text
    overseas = sum(1 for p in PEOPLE if p["country"] != "PH")
    assert f"{overseas} / {len(PEOPLE) - overseas} overseas / local" in text
    economies = len({p["country"] for p in PEOPLE})
    assert f"{economies} economies" in text
    # Chart labels: the economies, the sessions, the days.
    assert country_name("JP") in text and country_name("PH") in text
    assert "Opening Session" in text
    assert "Wed 28 Aug: " + str(counts["arrived"]) in text  # arrivals legend: first arrivals
    assert "Summary as of 28 Aug 2024 12:00 (Asia/Manila time)" in text
    males = sum(1 for p in PEOPLE if p["gender"] == "male")
    assert f"Male {males}" in text
    assert out.stat().st_size > 5000


def test_before_any_scan_the_page_says_so(demo: Store, tmp_path: Path) -> None:
    out = tmp_path / "empty.pdf"
    with demo.begin() as session:
        summarypdf.make_summary_pdf(session, DEMO_EVENT_ID, out)
    pages, text = text_of(out)
    assert pages == 1
    assert "No arrivals recorded yet" in text
    assert f"{len(PEOPLE)} registered" in text and "0 arrived (0 %)" in text


def test_a_bad_folder_leaves_no_pdf(demo: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with demo.begin() as session:
        for target, message in (
            (tmp_path / "nowhere" / "s.pdf", "does not exist"),
            (blocker / "s.pdf", "is a file, not a folder"),
            (tmp_path / "s.xlsx", r"must end in \.pdf"),
        ):
            with pytest.raises(ReportWriteError, match=message):
                summarypdf.make_summary_pdf(session, DEMO_EVENT_ID, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "file"]


def test_an_event_with_many_economies_and_sessions_stays_on_one_page(
    store: Store, tmp_path: Path
) -> None:
    from desktop import events, registry

    with store.begin() as session:
        event_id = events.create_event(
            session, desk.desk_id(session), store.data_dir,
            {"name": "Big Congress", "code": "BC", "country": "DE", "timezone": "Europe/Berlin",
             "starts_on": "2024-09-02", "ends_on": "2024-09-06"},
        )  # fmt: skip
        desk.open_event(session, event_id)
        ctx = desk.context(session)
        codes = ["DE", "FR", "IT", "ES", "PT", "NL", "BE", "AT", "CH", "PL", "CZ", "SK",
                 "HU", "SE", "NO", "DK", "FI", "IE", "GR", "RO", "BG", "HR"]  # fmt: skip
        registry.register_many(
            session, ctx, [{"given_name": f"P{n}", "country": codes[n % len(codes)]}
                           for n in range(300)],
        )  # fmt: skip
        for n in range(30):
            events.put_session(
                session, ctx,
                {"title": f"Track talk {n}", "starts_at": datetime(2024, 9, 2 + n % 5, 8 + n % 9),
                 "ends_at": datetime(2024, 9, 2 + n % 5, 9 + n % 9), "capacity": 100},
            )  # fmt: skip
    out = tmp_path / "big.pdf"
    with store.begin() as session:
        summarypdf.make_summary_pdf(session, event_id, out)
    pages, text = text_of(out)
    assert pages == 1
    assert "300 registered" in text and "22 economies" in text
    assert "Other (7)" in text  # economies past the sixteenth are summed
    assert "(first 14)" in text
