"""The check-in benchmark runs end to end on a small event (figures are not checked here)."""

from __future__ import annotations

import shutil
from pathlib import Path

from eventdesk_bench import workloads_checkin
from eventdesk_bench.synthetic import build


def test_scan_workload_reports_ours_the_bare_baseline_and_the_raw_same_work(
    tmp_path: Path,
) -> None:
    event = build(300, root=tmp_path, batch=100)
    try:
        metrics = {m.name: m for m in workloads_checkin.scan_decision(event, samples=40)}
    finally:
        shutil.rmtree(event.folder, ignore_errors=True)
    assert set(metrics) == {
        "scan_to_decision_median",
        "scan_to_decision_p99",
        "scan_same_work_raw_sqlite3_median",
    }
    assert metrics["scan_to_decision_median"].baseline is not None
    assert all(m.value > 0 for m in metrics.values())
