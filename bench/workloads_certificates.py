"""Certificates: 1,000 into one PDF (eligibility, issuing, drawing), time and peak memory,
against bare reportlab drawing the same page content.

Both runs happen in a child process each, so the peak memory (the child's maximum resident
set) is that of the work alone, not of the benchmark that built a 100,000-attendee event.
The work runs on a copy of the event's data folder: nothing it records reaches later
workloads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from eventdesk_bench.metrics import Metric
from eventdesk_bench.synthetic import SyntheticEvent

from desktop import certificates, desk, events, journal, permissions
from desktop.demo_data import DEMO_CERTIFICATES
from desktop.models import EventSession
from desktop.store import open_store

CERTIFICATE_COUNT = 1000
DAYS = (datetime(2024, 8, 28), datetime(2024, 8, 29))  # venue days (Asia/Manila, UTC+8)
SESSION_HOURS = (9, 11, 14)


def _utc(day: datetime, hour: float) -> datetime:
    return day + timedelta(hours=hour - 8)


def _attend_everything(folder: Path, event_id: str, ids: list[str]) -> None:
    """Make ``ids`` eligible: arrivals on both days, an entry to every session that counts."""
    store = open_store(folder)
    try:
        with store.begin() as session:
            ctx = permissions.as_owner(desk.context(session))
            counting = [(sid, at) for sid, at in session.execute(_counting(event_id))]
            if not counting:
                for day in DAYS:
                    for hour in SESSION_HOURS:
                        sid = events.put_session(
                            session,
                            ctx,
                            {
                                "title": f"Session {day:%d}-{hour}",
                                "starts_at": _utc(day, hour),
                                "ends_at": _utc(day, hour + 1.5),
                                "day": day.date().isoformat(),
                                "room": "Hall 1",
                                "counts_for_certificate": True,
                            },
                        )
                        counting.append((sid, _utc(day, hour)))
            settings = certificates.Settings.from_fields(DEMO_CERTIFICATES)
            certificates.save_settings(session, ctx, settings)
        items: list[tuple[str, dict[str, Any]]] = []
        for person in ids:
            for day in DAYS:
                at = _utc(day, 8).isoformat()
                items.append(("scan", _scan(person, None, at)))
            for sid, start in counting:
                at = (start or _utc(DAYS[0], 9)).isoformat()
                items.append(("scan", _scan(person, sid, at)))
        for start in range(0, len(items), 20_000):
            with store.begin() as session:
                ctx = permissions.as_owner(desk.context(session))
                journal.record_many(session, ctx, items[start : start + 20_000])
    finally:
        store.close()


def _certificate_takers(folder: Path, event: SyntheticEvent) -> list[str]:
    """The first 1,000 registered attendees whose category gets a certificate."""
    from sqlalchemy import select

    from desktop.models import Attendee

    rules = certificates.Settings.from_fields(DEMO_CERTIFICATES).rules
    wanted = {*rules.attendance_categories, *rules.appreciation_categories}
    store = open_store(folder)
    try:
        with store.begin() as session:
            rows = dict(
                session.execute(
                    select(Attendee.id, Attendee.category).where(Attendee.status == "registered")
                ).all()
            )
    finally:
        store.close()
    takers = [i for i in event.attendee_ids if rows.get(i) in wanted]
    return takers[:CERTIFICATE_COUNT]


def _counting(event_id: str) -> Any:
    from sqlalchemy import select

    return (
        select(EventSession.id, EventSession.starts_at)
        .where(EventSession.event_id == event_id, EventSession.counts_for_certificate)
        .where(EventSession.status != "deleted")
    )


def _scan(person: str, session_id: str | None, at: str) -> dict[str, Any]:
    return {
        "attendee_id": person,
        "session_id": session_id,
        "decision": "ok",
        "direction": "entry",
        "at": at,
    }


def certificates_to_pdf(event: SyntheticEvent) -> list[Metric]:
    """1,000 certificates of the 100,000-attendee event into one PDF, in a child process."""
    work = Path(tempfile.mkdtemp(prefix="eventdesk-bench-certificates-"))
    try:
        folder = work / "data"
        shutil.copytree(event.folder, folder)
        ids = _certificate_takers(folder, event)
        _attend_everything(folder, event.event_id, ids)
        (work / "ids.json").write_text(json.dumps(ids), encoding="utf-8")
        ours = _child("ours", work)
        if ours["certificates"] != len(ids):
            raise RuntimeError(f"drew {ours['certificates']} certificates of {len(ids)}")
        bare = _child("bare", work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [
        Metric(
            "certificates_1000_to_pdf",
            ours["seconds"],
            "s",
            baseline=bare["seconds"],
            target="< 10 s",
        ),
        Metric(
            "certificates_1000_peak_memory",
            ours["peak_mb"],
            "MB",
            baseline=bare["peak_mb"],
            target="< 300 MB",
        ),
        Metric(
            "certificates_per_second",
            ours["certificates"] / ours["seconds"],
            "/s",
            baseline=ours["certificates"] / bare["seconds"],
            target=">= 100 /s",
        ),
    ]


def _child(which: str, work: Path) -> dict[str, Any]:
    code = (
        "from eventdesk_bench import workloads_certificates as w; "
        f"w.child({which!r}, {str(work)!r})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {which} certificate run failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _peak_mb() -> float:
    # Linux: this process's own high-water mark. getrusage's ru_maxrss is not: it survives
    # fork and exec, so a child started by a bench that already holds 700 MB reports 700 MB.
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        status = ""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    try:
        import resource
    except ImportError:  # Windows: no getrusage; report nothing rather than a wrong figure
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Kilobytes on Linux, bytes on macOS.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def child(which: str, work: str) -> None:
    """Run one side in this (child) process and print its figures as one JSON line."""
    folder = Path(work)
    figures = _ours(folder) if which == "ours" else _bare(folder)
    figures["peak_mb"] = _peak_mb()
    print(json.dumps(figures))


def _ours(work: Path) -> dict[str, Any]:
    from desktop import certificatepdf

    ids = json.loads((work / "ids.json").read_text(encoding="utf-8"))
    start = time.perf_counter()
    store = open_store(work / "data")
    try:
        with store.begin() as session:
            ctx = permissions.as_owner(desk.context(session))
            batch = certificates.issue(session, ctx, store.data_dir, ids=ids)
        report = certificatepdf.draw(batch, work / "certificates.pdf")
    finally:
        store.close()
    seconds = time.perf_counter() - start
    layout = certificatepdf.layout_for(batch.paper)
    records = [certificatepdf.record_values(r, layout) for r in batch.records]
    (work / "records.json").write_text(
        json.dumps({"records": records, "context": batch.context}), encoding="utf-8"
    )
    return {"seconds": seconds, "certificates": report.documents, "pages": report.pages}


def _bare(work: Path) -> dict[str, Any]:
    """Reportlab alone: the same texts in the same faces, images and a QR code per page."""
    import qrcode
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    from desktop.paths import resources_dir

    data = json.loads((work / "records.json").read_text(encoding="utf-8"))
    records, context = data["records"], data["context"]
    fonts = resources_dir() / "fonts"
    start = time.perf_counter()
    for name, file in (
        ("BenchSerif", "NotoSerif-Regular.ttf"),
        ("BenchSerifBold", "NotoSerif-Bold.ttf"),
    ):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, fonts / file))
    mm = 72 / 25.4
    width, height = 297 * mm, 210 * mm
    images = [
        str(resources_dir() / context.get(key, ""))
        for key in ("logo", "s1_signature", "s2_signature")
        if context.get(key)
    ]
    canvas = Canvas(str(work / "bare.pdf"), pagesize=(width, height), pageCompression=1)
    for record in records:
        canvas.setStrokeColorRGB(0.07, 0.2, 0.37)
        canvas.setLineWidth(1.3 * mm)
        canvas.rect(7 * mm, 7 * mm, width - 14 * mm, height - 14 * mm)
        for n, path in enumerate(images):
            canvas.drawImage(path, (40 + 90 * n) * mm, 150 * mm, 40 * mm, 20 * mm, mask="auto")
        lines = [
            ("BenchSerifBold", 13, 160, context.get("organiser", "").upper()),
            ("BenchSerif", 10.5, 154, "in cooperation with the " + context.get("partner", "")),
            ("BenchSerifBold", 34, 138, record.get("title", "").upper()),
            ("BenchSerif", 13, 124, record.get("presented", "")),
            ("BenchSerifBold", 30, 110, record["name"]),
            ("BenchSerif", 11.5, 98, record.get("affiliation", "")),
            (
                "BenchSerif",
                13,
                88,
                f"{record.get('statement', '')} {context.get('event_name', '')}",
            ),
            ("BenchSerif", 13, 82, f"held on {context.get('event_dates', '')}"),
            (
                "BenchSerif",
                11,
                72,
                f"Given this {record['issue_day']} day of {record['issue_month_year']}.",
            ),
            ("BenchSerifBold", 11.5, 34, context.get("s1_name", "")),
            ("BenchSerifBold", 11.5, 34, context.get("s2_name", "")),
            ("BenchSerif", 9.5, 29, context.get("s1_title", "")),
            ("BenchSerif", 9.5, 29, context.get("s2_title", "")),
            ("BenchSerif", 7, 162, "No. " + record["serial"]),
        ]
        for font, size, y, text in lines:
            canvas.setFont(font, size)
            canvas.drawCentredString(width / 2, y * mm, text)
        # The same QR code (the qrcode package, error correction L), drawn module by module.
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, border=4)
        code.add_data(record["token"])
        code.make(fit=True)
        matrix = code.get_matrix()
        module = 30 * mm / len(matrix)
        left, top = width - 45.5 * mm, height - 14.5 * mm
        path = canvas.beginPath()
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    path.rect(left + c * module, top - (r + 1) * module, module, module)
        canvas.setFillColorRGB(0, 0, 0)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.showPage()
    canvas.save()
    return {"seconds": time.perf_counter() - start, "certificates": len(records)}
