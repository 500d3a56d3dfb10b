"""``eventdesk bench``: run the workloads, print their figures (one JSON document with --json)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable

from eventdesk_bench import (
    workloads_badges,
    workloads_camera,
    workloads_certificates,
    workloads_checkin,
    workloads_core,
    workloads_import,
    workloads_reports,
    workloads_search,
    workloads_sync,
)
from eventdesk_bench.metrics import Metric
from eventdesk_bench.synthetic import SyntheticEvent, build

FULL_SIZE = 100_000
QUICK_SIZE = 10_000

Workload = Callable[[SyntheticEvent], list[Metric]]
# (name, function) in the order they run; later issues append theirs.
WORKLOADS: list[tuple[str, Workload]] = [
    ("build_event", workloads_core.build_event),
    ("lookup_by_id", workloads_core.lookup_by_id),
    ("scan_decision", workloads_checkin.scan_decision),
    ("scan_ui_enter_to_card", workloads_checkin.ui_enter_to_card),
    ("import_files", workloads_import.import_files),
    ("search_as_you_type", workloads_search.search_as_you_type),
    ("search_list_first_page", workloads_search.list_first_page),
    ("sync_a_to_b", workloads_sync.sync_a_to_b),
    ("badges_to_pdf", workloads_badges.badges_to_pdf),
    ("print_to_spooled", workloads_badges.print_to_spooled),
    ("reports_on_event", workloads_reports.reports_on_event),
    ("certificates_to_pdf", workloads_certificates.certificates_to_pdf),
    ("camera_read_frame", workloads_camera.read_frame),
    ("camera_badge_to_decision", workloads_camera.badge_to_decision),
]


def main(*, quick: bool = False, as_json: bool = False, only: str | None = None) -> int:
    """Build the synthetic event, run each workload, print the figures."""
    size = QUICK_SIZE if quick else FULL_SIZE
    print(f"building a {size:,}-attendee event…", file=sys.stderr)
    event = build(size)
    metrics: list[Metric] = []
    try:
        for name, workload in WORKLOADS:
            if only and only not in name:
                continue
            print(f"running {name}…", file=sys.stderr)
            metrics.extend(workload(event))
    finally:
        shutil.rmtree(event.folder, ignore_errors=True)
    if as_json:
        json.dump({"metrics": [m.to_json() for m in metrics]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for m in metrics:
            base = "" if m.baseline is None else f"  (baseline {m.baseline:.4g}, ×{m.ratio})"
            target = f"  target {m.target}" if m.target else ""
            print(f"{m.name:40} {m.value:10.4g} {m.unit:4}{base}{target}")
    return 0
