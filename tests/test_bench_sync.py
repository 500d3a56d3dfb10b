"""The sync benchmark runs end to end on a small event (figures are not checked here)."""

from __future__ import annotations

import shutil
from pathlib import Path

from eventdesk_bench import workloads_sync
from eventdesk_bench.synthetic import build
from pg import require_server


def test_sync_workload_reports_ours_the_bare_baseline_and_the_floor(tmp_path: Path) -> None:
    require_server()
    event = build(300, root=tmp_path, batch=100)
    try:
        metrics = {m.name: m for m in workloads_sync.sync_a_to_b(event)}
    finally:
        shutil.rmtree(event.folder, ignore_errors=True)
    assert set(metrics) == {
        "sync_300_ops_a_hub_b",
        "sync_push_share",
        "sync_pull_apply_share",
        "sync_apply_same_work_raw_sqlite3",
        "sync_floor_bare_psycopg_plus_raw_sqlite3",
    }
    bare = metrics["sync_300_ops_a_hub_b"].baseline
    assert bare is not None and bare > 0
    assert metrics["sync_floor_bare_psycopg_plus_raw_sqlite3"].baseline == bare
    floor = metrics["sync_floor_bare_psycopg_plus_raw_sqlite3"].value
    assert floor == bare + metrics["sync_apply_same_work_raw_sqlite3"].value
    assert all(m.value > 0 for m in metrics.values())
