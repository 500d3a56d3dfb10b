"""Foundation workloads: building the large event, looking attendees up by id."""

from __future__ import annotations

import random
import sqlite3
import time

from eventdesk_bench.metrics import Metric, median, percentile
from eventdesk_bench.synthetic import SyntheticEvent

from desktop import registry
from desktop.store import DB_NAME


def build_event(event: SyntheticEvent) -> list[Metric]:
    """How long creating the synthetic event took, against bare sqlite3 inserting the rows."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE a (id TEXT PRIMARY KEY, given TEXT, family TEXT, org TEXT)")
    rows = [(i, f"G{i}", f"F{i}", "Org") for i in event.attendee_ids]
    start = time.perf_counter()
    with db:
        db.executemany("INSERT INTO a VALUES (?, ?, ?, ?)", rows)
    bare = time.perf_counter() - start
    db.close()
    return [
        Metric(
            f"build_event_{event.size}_attendees",
            event.build_seconds,
            "s",
            baseline=bare,
            target=None,
        )
    ]


def lookup_by_id(event: SyntheticEvent, samples: int = 2000) -> list[Metric]:
    """Attendee lookup by id through the registry, against a bare indexed sqlite3 select."""
    rng = random.Random(3)
    picks = [rng.choice(event.attendee_ids) for _ in range(samples)]
    store = event.open()
    ours: list[float] = []
    try:
        with store.begin() as session:
            for attendee_id in picks:
                start = time.perf_counter()
                found = registry.get(session, event.event_id, attendee_id)
                ours.append(time.perf_counter() - start)
                assert found is not None
    finally:
        store.close()
    conn = sqlite3.connect(event.folder / DB_NAME)
    bare: list[float] = []
    for attendee_id in picks:
        start = time.perf_counter()
        row = conn.execute("SELECT * FROM attendees WHERE id = ?", (attendee_id,)).fetchone()
        bare.append(time.perf_counter() - start)
        assert row is not None
    conn.close()
    ms = 1000.0
    return [
        Metric("lookup_by_id_median", median(ours) * ms, "ms", baseline=median(bare) * ms),
        Metric(
            "lookup_by_id_p99", percentile(ours, 99) * ms, "ms", baseline=percentile(bare, 99) * ms
        ),
    ]
