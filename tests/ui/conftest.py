"""Qt test set-up: garbage is collected on the GUI thread, as the app does (see qt_gc)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _collect_on_gui_thread() -> Iterator[None]:
    # A widget left in a reference cycle by one test must not be freed by a worker thread
    # of the next one, which crashes Qt; the app runs the same rule with GuiThreadCollector.
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()
