"""The desk's notion of "now": the real time, or "as if it were" a chosen moment.

The demo event lies in the past (28-29 August 2024), so a desk can be told to run as if it
were, say, 28 August 2024 09:05 at the venue. The chosen moment is kept with the real time
at which it was chosen, so the desk clock then runs forward like a real one. This is a local
setting of the desk, never replicated: another desk keeps its own clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from desktop.desk import get_setting, set_setting

AS_IF_KEY = "clock.as_if"
SET_AT_KEY = "clock.as_if_set_at"


class ClockError(ValueError):
    """A time that cannot be understood."""


def real_utcnow() -> datetime:
    """The real time as naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class DeskClock:
    """Real time shifted by ``offset`` (zero when the desk runs on real time)."""

    offset: timedelta = timedelta(0)

    @property
    def simulated(self) -> bool:
        """True when the desk runs "as if" at another time."""
        return self.offset != timedelta(0)

    def now(self) -> datetime:
        """The desk's now, as the naive UTC the store keeps."""
        return real_utcnow() + self.offset


def to_naive_utc(moment: datetime, zone: ZoneInfo | None = None) -> datetime:
    """An aware time as naive UTC; a naive one is read in ``zone`` (naive UTC when None)."""
    if moment.tzinfo is None:
        if zone is None:
            return moment
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_moment(text: str, zone: ZoneInfo | None = None) -> datetime:
    """ISO 8601 text as naive UTC; text without an offset is read in ``zone``."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(
            f"{text!r} is not a date and time; write it like 2024-08-28T09:05 "
            "(venue time) or 2024-08-28T01:05+00:00"
        ) from None
    return to_naive_utc(parsed, zone)


def desk_clock(session: Session) -> DeskClock:
    """This desk's clock, from its local settings."""
    as_if = get_setting(session, AS_IF_KEY)
    set_at = get_setting(session, SET_AT_KEY)
    if not as_if or not set_at:
        return DeskClock()
    try:
        offset = datetime.fromisoformat(as_if) - datetime.fromisoformat(set_at)
    except ValueError:
        # A damaged setting must not stop the desk; run on real time.
        return DeskClock()
    return DeskClock(offset)


def now(session: Session) -> datetime:
    """This desk's now, as naive UTC."""
    return desk_clock(session).now()


def set_as_if(session: Session, moment_utc: datetime) -> DeskClock:
    """Run this desk as if it were ``moment_utc`` (naive UTC) now; time keeps running."""
    real = real_utcnow()
    set_setting(session, AS_IF_KEY, to_naive_utc(moment_utc).isoformat())
    set_setting(session, SET_AT_KEY, real.isoformat())
    return DeskClock(to_naive_utc(moment_utc) - real)


def use_real_time(session: Session) -> None:
    """Go back to the real time."""
    set_setting(session, AS_IF_KEY, "")
    set_setting(session, SET_AT_KEY, "")


def event_morning(first_day: date, zone: ZoneInfo, at: time = time(9, 5)) -> datetime:
    """``at`` on an event's first day at the venue, as naive UTC: the demo's "as if" moment."""
    return to_naive_utc(datetime.combine(first_day, at), zone)
