"""Python's cyclic garbage collection, run on the GUI thread only.

The collector runs on whichever thread happens to allocate when a threshold is crossed; if
that is a worker and the garbage holds a widget, the widget's C++ side is destroyed off the
GUI thread and Qt crashes. So automatic collection is turned off and a timer on the GUI
thread collects instead (Anki does the same, for the same reason).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

_INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Owns the timer; create one, on the GUI thread, for the life of the application."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = _INTERVAL_MS) -> None:
        super().__init__(parent)
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start()

    def _on_timer_timeout(self) -> None:
        # Python's own rule for which generation is due, applied here instead of anywhere.
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        """Collect once more and give collection back to Python."""
        self._timer.stop()
        gc.collect()
        gc.enable()
