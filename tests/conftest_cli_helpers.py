"""Running the real command line in a subprocess, as a person at a terminal would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``eventdesk --data DATA ARGS…`` in a fresh interpreter; its output, never raising."""
    return subprocess.run(
        [sys.executable, "-m", "desktop", "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
