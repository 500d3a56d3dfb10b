"""Reports on the 100,000-attendee event: each report built, written to XLSX and CSV, the
summary PDF and the dashboard's figures; against a bare sqlite3 GROUP BY of the same counts."""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from eventdesk_bench.metrics import Metric
from eventdesk_bench.synthetic import SyntheticEvent

from desktop import clock, desk, events, journal, permissions, reports, summarypdf
from desktop.journal import DeskContext
from desktop.reports.figures import event_figures
from desktop.reportwriters import write_csv, write_xlsx
from desktop.store import Store, open_store

DAY1, DAY2 = datetime(2024, 8, 28), datetime(2024, 8, 29)  # venue days (Asia/Manila, UTC+8)
# (title, day, venue start hour, capacity): three sessions a day in three halls.
SESSIONS = [
    ("Opening plenary", DAY1, 9, 80_000),
    ("Track A", DAY1, 11, 30_000),
    ("Track B", DAY1, 14, 30_000),
    ("Morning plenary", DAY2, 9, 80_000),
    ("Track C", DAY2, 11, 30_000),
    ("Closing plenary", DAY2, 16, 80_000),
]
BATCH = 20_000


def _utc(day: datetime, hour: float) -> datetime:
    return day + timedelta(hours=hour - 8)


def simulate(store: Store, event: SyntheticEvent, seed: int = 3) -> dict[str, int]:
    """Sessions, scans (70 % arrive on day 1, 60 % on day 2, about half of them at each
    session), 1 % admitted again at a desk that was apart, badge prints with 3 % reprints,
    and 10,000 certificates; all through the journal, in batches."""
    rng = random.Random(seed)
    with store.begin() as session:
        ctx = desk.context(session)
        journal.record(session, ctx, "event.put", {"id": ctx.event_id, "country": "PH"})
        session_ids = [
            events.put_session(
                session,
                ctx,
                {
                    "title": title,
                    "starts_at": _utc(day, hour),
                    "ends_at": _utc(day, hour + 1.5),
                    "day": day.date().isoformat(),
                    "room": f"Hall {n % 3 + 1}",
                    "capacity": capacity,
                    "counts_for_certificate": True,
                },
            )
            for n, (title, day, hour, capacity) in enumerate(SESSIONS)
        ]
        main = ctx
    other = DeskContext(main.event_id, "bench-desk-b", None)
    items: list[tuple[DeskContext, str, dict[str, Any]]] = []
    for person in event.attendee_ids:
        for day, share, sessions in ((DAY1, 0.7, range(3)), (DAY2, 0.6, range(3, 6))):
            if rng.random() > share:
                continue
            at = _utc(day, 7.5) + timedelta(minutes=rng.gauss(60, 30))
            scan = {"attendee_id": person, "session_id": None, "decision": "ok",
                    "direction": "entry", "at": at.isoformat()}  # fmt: skip
            items.append((main, "scan", scan))
            if rng.random() < 0.01:
                again = dict(scan, at=(at + timedelta(minutes=40)).isoformat())
                items.append((other, "scan", again))
            for index in sessions:
                if rng.random() < 0.5:
                    start = _utc(SESSIONS[index][1], SESSIONS[index][2])
                    items.append(
                        (main, "scan",
                         {"attendee_id": person, "session_id": session_ids[index],
                          "decision": "ok", "direction": "entry",
                          "at": (start + timedelta(minutes=rng.uniform(-10, 20))).isoformat()}),
                    )  # fmt: skip
    printed = rng.sample(event.attendee_ids, len(event.attendee_ids) // 3)
    stamp = _utc(DAY1, 7).isoformat()
    for person in printed:
        badge = {"attendee_id": person, "layout": "a6", "badge_seq": 0, "at": stamp}
        items.append((main, "badge.print", badge))
    for person in printed[: len(printed) * 3 // 100]:
        reason = rng.choice(["lost badge", "name corrected", "damaged"])
        badge = {"attendee_id": person, "layout": "a6", "badge_seq": 0, "at": stamp}
        items.append((main, "badge.print", dict(badge, reason=reason)))
    for n, person in enumerate(event.attendee_ids[: min(10_000, len(event.attendee_ids))]):
        items.append((main, "certificate.issue",
                      {"attendee_id": person, "serial": f"SY-{n:06d}", "version": 1,
                       "issued_at": _utc(DAY2, 18).isoformat(), "name_printed": "x"}))  # fmt: skip
    for start in range(0, len(items), BATCH):
        chunk = items[start : start + BATCH]
        with store.begin() as session:
            for ctx in (main, other):
                mine = [(kind, payload) for c, kind, payload in chunk if c is ctx]
                if mine:
                    journal.record_many(session, ctx, mine)
    with store.begin() as session:
        clock.set_as_if(session, _utc(DAY2, 17))
    return {"operations": len(items)}


# A bare GROUP BY giving the same counts as each report, for the baseline.
BARE: dict[str, list[str]] = {
    "participants": [
        "SELECT category, country, count(*) FROM attendees WHERE status = 'registered' "
        "GROUP BY category, country"
    ],
    "attendance-matrix": [
        "SELECT attendee_id, count(DISTINCT session_id) FROM scans "
        "WHERE session_id IS NOT NULL AND decision = 'ok' GROUP BY attendee_id"
    ],
    "no-shows": [
        "SELECT count(*) FROM attendees WHERE status = 'registered' AND id NOT IN "
        "(SELECT attendee_id FROM scans WHERE decision = 'ok')"
    ],
    "late-arrivals": [
        "SELECT attendee_id, min(at) FROM scans WHERE decision = 'ok' "
        "AND at >= '2024-08-27 16:00' AND at < '2024-08-28 16:00' GROUP BY attendee_id"
    ],
    "duplicates": [
        "SELECT attendee_id, session_id, count(DISTINCT desk_id) FROM scans "
        "WHERE decision = 'ok' GROUP BY attendee_id, session_id HAVING count(DISTINCT desk_id) > 1"
    ],
    "badge-log": ["SELECT attendee_id, count(*) FROM badge_prints GROUP BY attendee_id"],
    "reprints": [
        "SELECT attendee_id, count(*) FROM badge_prints GROUP BY attendee_id HAVING count(*) > 1"
    ],
    "certificates": ["SELECT serial, max(version) FROM certificates GROUP BY serial"],
    "summary": [
        "SELECT country, count(*) FROM attendees WHERE status = 'registered' GROUP BY country",
        "SELECT session_id, count(DISTINCT attendee_id) FROM scans WHERE decision = 'ok' "
        "GROUP BY session_id",
    ],
}


def _bare(db: Path, statements: list[str]) -> float:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        start = time.perf_counter()
        for statement in statements:
            conn.execute(statement).fetchall()
        return time.perf_counter() - start
    finally:
        conn.close()


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def reports_on_event(event: SyntheticEvent) -> list[Metric]:
    """Seconds per report on the synthetic event after two days of simulated scans."""
    root = Path(tempfile.mkdtemp(prefix="eventdesk-bench-reports-"))
    folder = root / "data"
    shutil.copytree(event.folder, folder)
    metrics: list[Metric] = []
    try:
        store = open_store(folder)
        try:
            seconds, made = _timed(lambda: simulate(store, event))
            metrics.append(Metric("reports_setup_operations", made["operations"], "ops"))
            metrics.append(Metric("reports_setup_seconds", seconds, "s"))
            for spec in reports.REPORTS:
                with store.read() as session:
                    ctx = permissions.as_owner(desk.context(session))
                    build, table = _timed(lambda s=session, c=ctx, n=spec.name:
                                          reports.build(s, c, n))  # fmt: skip
                bare = min(_bare(store.db_path, BARE[spec.name]) for _ in range(3))
                rows = len(table.rows)
                label = f"report_{spec.name.replace('-', '_')}"
                metrics.append(
                    Metric(
                        f"{label}_build_{rows}_rows",
                        build,
                        "s",
                        baseline=bare,
                        target="a person waits seconds, not minutes",
                    )
                )
                xlsx, _ = _timed(lambda t=table: write_xlsx(t, root / f"{t.name}.xlsx"))
                csv, _ = _timed(lambda t=table: write_csv(t, root / f"{t.name}.csv"))
                metrics.append(Metric(f"{label}_xlsx", xlsx, "s"))
                metrics.append(Metric(f"{label}_csv", csv, "s"))
            with store.read() as session:
                event_id = desk.current_event_id(session)
                assert event_id is not None
                figures_s, _ = _timed(lambda: event_figures(session, event_id))
                pdf_s, _ = _timed(
                    lambda: summarypdf.make_summary_pdf(session, event_id, root / "summary.pdf")
                )
            bare = min(_bare(store.db_path, BARE["summary"]) for _ in range(3))
            metrics.append(
                Metric(
                    "dashboard_figures",
                    figures_s,
                    "s",
                    baseline=bare,
                    target="well under the 20 s refresh",
                )
            )
            metrics.append(Metric("summary_pdf_one_page", pdf_s, "s", baseline=bare))
        finally:
            store.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return metrics
