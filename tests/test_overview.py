"""The overview's figures: registered, cancelled, countries, sessions, changes waiting."""

from __future__ import annotations

from sqlalchemy import update

from desktop import desk, overview, permissions, registry
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id
from desktop.models import Attendee, Operation
from desktop.store import Store


def _figures(store: Store) -> tuple[int, int, int, int, int]:
    with store.read() as session:
        summary = overview.summarise(session, DEMO_EVENT_ID)
    assert summary is not None
    return (
        summary.attendees,
        summary.cancelled,
        summary.countries,
        summary.sessions,
        summary.operations_waiting,
    )


def test_the_demo_event_in_figures(demo: Store) -> None:
    attendees, cancelled, countries, sessions, waiting = _figures(demo)
    assert (attendees, cancelled, countries, sessions) == (130, 0, 20, 12)
    assert waiting > 130  # every change of the demo is kept here until a hub confirms it


def test_figures_follow_cancellations_countries_and_the_hub(demo: Store) -> None:
    with demo.begin() as session:
        ctx = permissions.as_owner(desk.context(session))
        country = session.get(Attendee, demo_attendee_id(5)).country  # type: ignore[union-attr]
        everyone_from_there = [
            a.id for a in session.query(Attendee).filter(Attendee.country == country)
        ]
        for attendee_id in everyone_from_there:
            registry.cancel(session, ctx, attendee_id, "did not travel")
        # Moved to the hub and confirmed: nothing waits any more.
        session.execute(update(Operation).values(pushed=True))
    attendees, cancelled, countries, _sessions, waiting = _figures(demo)
    gone = len(everyone_from_there)
    # A country whose people all cancelled is no longer counted.
    assert (attendees, cancelled, countries, waiting) == (130 - gone, gone, 19, 0)
    with demo.begin() as session:
        registry.update(session, permissions.as_owner(desk.context(session)),
                        demo_attendee_id(0), {"position": "Director"})  # fmt: skip
    assert _figures(demo)[4] == 1
