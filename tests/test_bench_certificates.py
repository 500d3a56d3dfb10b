"""The certificates benchmark's memory figure is the child's own, not its parent's."""

from __future__ import annotations

import subprocess
import sys

import pytest

PEAK = "from eventdesk_bench.workloads_certificates import _peak_mb; print(_peak_mb())"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the inheritance is Linux's")
def test_a_child_of_a_large_process_reports_its_own_peak() -> None:
    # A full bench run holds hundreds of MB by the time it starts the certificate child;
    # getrusage's peak would pass that on through fork and exec.
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])
    done = subprocess.run(
        [sys.executable, "-c", PEAK], capture_output=True, text=True, check=True, timeout=60
    )
    del ballast
    assert 5 < float(done.stdout) < 200
