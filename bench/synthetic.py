"""The large synthetic event the benchmarks run on (built once per run, shared by workloads)."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from desktop import desk, events, registry
from desktop.demo_data import synthetic_attendees
from desktop.store import Store, open_store

SYNTHETIC_EVENT = {
    "name": "Synthetic Benchmark Congress",
    "code": "SY",
    "organiser": "EventDesk benchmarks",
    "venue": "Hall A",
    "city": "Manila",
    "starts_on": "2024-08-28",
    "ends_on": "2024-08-29",
    "timezone": "Asia/Manila",
}


@dataclass
class SyntheticEvent:
    """A data folder with ``size`` attendees; ``attendee_ids`` in creation order."""

    folder: Path
    size: int
    event_id: str
    build_seconds: float
    attendee_ids: list[str] = field(default_factory=list)

    def open(self) -> Store:
        return open_store(self.folder)


def build(size: int, root: Path | None = None, batch: int = 10_000) -> SyntheticEvent:
    """Create the event through the journal, in batches as an import would."""
    import time

    folder = Path(tempfile.mkdtemp(prefix="eventdesk-bench-", dir=root))
    store = open_store(folder)
    start = time.perf_counter()
    ids: list[str] = []
    try:
        with store.begin() as session:
            desk_id = desk.desk_id(session)
            event_id = events.create_event(session, desk_id, folder, dict(SYNTHETIC_EVENT))
            desk.open_event(session, event_id)
        people = list(synthetic_attendees(size, seed=7))
        for start_row in range(0, size, batch):
            chunk = people[start_row : start_row + batch]
            chunk_ids = [str(uuid.uuid4()) for _ in chunk]
            with store.begin() as session:
                ctx = desk.context(session)
                registry.register_many(session, ctx, chunk, ids=chunk_ids)
            ids.extend(chunk_ids)
        seconds = time.perf_counter() - start
    finally:
        store.close()
    return SyntheticEvent(folder, size, event_id, seconds, ids)
