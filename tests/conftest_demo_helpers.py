"""Times at the demo event's venue (Manila), as the store keeps them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from desktop import clock

MANILA = ZoneInfo("Asia/Manila")


def venue(day: int, hour: int, minute: int = 0) -> datetime:
    """A venue time in August 2024 (the demo's month) as naive UTC."""
    return clock.to_naive_utc(datetime(2024, 8, day, hour, minute), MANILA)
