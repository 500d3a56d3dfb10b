"""Choices a person can make about a report (few on purpose: the defaults are the answer)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LATE_GRACE_MINUTES = 15


@dataclass(frozen=True)
class ReportOptions:
    """``late_grace_minutes``: how long after the day's first counting session started an
    arrival still is on time."""

    late_grace_minutes: int = DEFAULT_LATE_GRACE_MINUTES
