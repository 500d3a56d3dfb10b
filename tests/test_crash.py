"""Crash safety: a desk process killed mid-scan never loses a scan it reported as saved."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from desktop.demo import demo_attendee_id
from desktop.store import DB_NAME, Store

KILLS = 24

# The child: the real store and journal, one transaction per scan, and the scan's op_id
# printed only once its transaction has committed (what the desk shows as "saved").
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    from desktop import desk, journal
    from desktop.store import open_store

    store = open_store(Path(sys.argv[1]))
    people = sys.argv[2:]
    print("ready", flush=True)
    n = 0
    while True:
        with store.begin() as session:
            op = journal.record(
                session,
                desk.context(session),
                "scan",
                {"attendee_id": people[n % len(people)], "decision": "ok", "raw": f"crash-{n}"},
            )
        print(op.op_id, flush=True)
        n += 1
    """
)


def _run_and_kill(script: Path, data_dir: Path, people: list[str], rng: random.Random) -> list[str]:
    """Start the child, kill it with SIGKILL at a random moment, return what it reported."""
    child = subprocess.Popen(
        [sys.executable, str(script), str(data_dir), *people],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert child.stdout is not None
    first = child.stdout.readline().strip()
    if first != "ready":
        child.kill()
        _, err = child.communicate()
        raise AssertionError(f"the child did not start: {first!r} {err}")
    # Some kills land within the first transaction, most in the middle of a run of scans.
    time.sleep(rng.choice([0.0, 0.001, rng.uniform(0.01, 0.25)]))
    os.kill(child.pid, signal.SIGKILL)
    out, _ = child.communicate()
    assert child.returncode == -signal.SIGKILL
    # A line cut by the kill is not a report: only whole op ids count.
    return [line for line in out.splitlines() if len(line) == 36]


def test_killed_desk_keeps_every_reported_scan(demo_store: Store, tmp_path: Path) -> None:
    data_dir = demo_store.data_dir
    demo_store.close()
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    people = [demo_attendee_id(i) for i in range(5)]
    rng = random.Random(20240828)
    reported: list[str] = []
    for _ in range(KILLS):
        reported.extend(_run_and_kill(script, data_dir, people, rng))
    assert len(reported) > KILLS  # the children did scan between kills

    with sqlite3.connect(data_dir / DB_NAME) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        saved_ops = {row[0] for row in db.execute("SELECT op_id FROM operations")}
        saved_scans = {row[0] for row in db.execute("SELECT op_id FROM scans")}
    missing = [op for op in reported if op not in saved_ops or op not in saved_scans]
    assert missing == []
    # Every operation has its scan row and back: no half-applied transaction survived.
    with sqlite3.connect(data_dir / DB_NAME) as db:
        scan_ops = {r[0] for r in db.execute("SELECT op_id FROM operations WHERE kind = 'scan'")}
    assert scan_ops == saved_scans
