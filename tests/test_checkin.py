"""Check-in decisions, their recording, supervisor actions and derived attendance."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from conftest_demo_helpers import venue
from conftest_store_helpers import load_migration, query_plans
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from desktop import (
    attendance,
    badgetokens,
    checkin,
    clock,
    desk,
    events,
    journal,
    operators,
    registry,
)
from desktop.checkin import DECISIONS, DeskMode, DoorRules
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id, demo_session_id
from desktop.digest import state_digest
from desktop.journal import DeskContext, Op, format_hlc
from desktop.keys import generate_signing_key, load_private_key
from desktop.models import Scan, ScanVoid, SessionEntryTally, SessionPresence
from desktop.permissions import PermissionDenied
from desktop.store import DB_NAME, Store, alembic_config, open_store
from desktop.tokens import TOKEN_PREFIX, make_token, verify_token

MANILA = ZoneInfo("Asia/Manila")
ENTRANCE = DeskMode("entrance")


def token(store: Store, index: int) -> str:
    with store.begin() as session:
        return badgetokens.token_for(
            session, store.data_dir, DEMO_EVENT_ID, demo_attendee_id(index)
        )


def scan(
    store: Store, raw: str, mode: DeskMode = ENTRANCE, at: datetime | None = None, **kw: object
) -> checkin.ScanResult:
    with store.begin() as session:
        return checkin.scan(
            session, desk.context(session), raw, mode, at=at or venue(28, 9, 5), **kw
        )


def flip_bit(text: str, bit: int) -> str:
    """The same token with one bit of its signed bytes flipped, re-encoded canonically."""
    body = text[len(TOKEN_PREFIX) :]
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[bit // 8] ^= 1 << (bit % 8)
    return TOKEN_PREFIX + base64.b32encode(bytes(raw)).decode().rstrip("=")


def small_session(store: Store, capacity: int | None = 2, **fields: object) -> str:
    with store.begin() as session:
        return events.put_session(
            session,
            desk.context(session),
            {
                "title": "Study visit briefing",
                "room": "Room 4",
                "starts_at": venue(28, 9, 0),
                "ends_at": venue(28, 10, 0),
                "capacity": capacity,
                "categories": [],
                **fields,
            },
        )


# --- the badge -----------------------------------------------------------------------------


def test_first_entry_ok_then_already_in_with_time_and_desk(demo: Store) -> None:
    badge = token(demo, 3)
    first = scan(demo, badge, at=venue(28, 8, 52))
    assert first.decision == "ok" and first.admitted
    assert first.attendee is not None and first.attendee.id == demo_attendee_id(3)
    again = scan(demo, badge, at=venue(28, 9, 30))
    assert again.decision == "already_in" and not again.forceable
    assert again.first_arrival is not None
    assert again.first_arrival.at == venue(28, 8, 52)
    with demo.begin() as session:
        name = desk.desk_name(session)
    assert again.first_arrival.desk_name == name
    assert "08:52" in again.detail and name in again.detail
    # A new venue day is a new first entry.
    assert scan(demo, badge, at=venue(29, 8, 0)).decision == "ok"


def test_exit_frees_the_entrance_and_reentry_is_ok(demo: Store) -> None:
    badge = token(demo, 4)
    assert scan(demo, badge, at=venue(28, 9)).decision == "ok"
    leaving = scan(demo, badge, DeskMode("entrance", direction="exit"), at=venue(28, 12))
    assert leaving.decision == "exit_ok" and leaving.admitted
    assert scan(demo, badge, at=venue(28, 13)).decision == "ok"


@pytest.mark.parametrize(
    "dress",
    [
        lambda t: t.lower() + "\r\n",
        lambda t: t + "\t",
        lambda t: "]Q1" + t + "\n",
        lambda t: "\x02" + t + "\r",
        lambda t: "  " + t.swapcase() + "  ",
    ],
)
def test_wedge_scanner_variants_read_as_the_token(demo: Store, dress: object) -> None:
    badge = token(demo, 5)
    result = scan(demo, dress(badge))  # type: ignore[operator]
    assert result.decision == "ok"
    assert result.input_kind == "token"


def test_short_code_typed_by_hand_works_the_same(demo: Store) -> None:
    with demo.begin() as session:
        person = registry.get(session, DEMO_EVENT_ID, demo_attendee_id(6))
    assert person is not None
    typed = person.short_code.replace("-", "").lower()
    result = scan(demo, typed)
    assert result.decision == "ok" and result.input_kind == "short_code"
    assert scan(demo, person.short_code).decision == "already_in"


def test_every_flipped_bit_of_a_token_is_refused(demo: Store) -> None:
    badge = token(demo, 7)
    decisions = {scan(demo, flip_bit(badge, bit)).decision for bit in range(0, 87 * 8, 37)}
    # A flip in the version byte makes it no token at all; in the event prefix it reads as
    # another event's; anywhere else the signature fails.
    assert decisions <= {"forged", "invalid", "wrong_event"}
    assert "forged" in decisions
    assert scan(demo, flip_bit(badge, 200)).decision == "forged"


def test_a_genuine_badge_of_another_event_is_wrong_event(demo: Store) -> None:
    other_event, other_person = uuid.uuid4(), uuid.uuid4()
    foreign = make_token(generate_signing_key(), 1, other_event, other_person, 0)
    assert scan(demo, foreign).decision == "wrong_event"
    foreign_k7 = make_token(generate_signing_key(), 7, other_event, other_person, 0)
    assert scan(demo, foreign_k7).decision == "wrong_event"


@pytest.mark.parametrize(
    "text",
    ["hello", "https://example.org/ticket/123", "OI-ZZZZ", "\x00\x01\x02", "x" * 100_000],
)
def test_not_a_badge_is_invalid_and_still_recorded(demo: Store, text: str) -> None:
    result = scan(demo, text)
    assert result.decision == "invalid" and not result.admitted
    with demo.begin() as session:
        row = session.get(Scan, result.op_id)
        assert row is not None and row.decision == "invalid"
        assert len(row.raw) <= 256 and "\x00" not in row.raw


def test_revoked_badge_and_the_new_one(demo: Store) -> None:
    old = token(demo, 8)
    with demo.begin() as session:
        journal.record(
            session,
            desk.context(session),
            "badge.revoke",
            {"id": demo_attendee_id(8), "badge_seq": 1},
        )
    refused = scan(demo, old)
    assert refused.decision == "revoked" and refused.forceable
    assert scan(demo, token(demo, 8)).decision == "ok"


def test_cancelled_registration(demo: Store) -> None:
    with demo.begin() as session:
        registry.cancel(session, desk.context(session), demo_attendee_id(9), "withdrew")
    assert scan(demo, token(demo, 9)).decision == "cancelled"


def test_not_synced_is_admitted_and_attaches_when_the_person_arrives(demo: Store) -> None:
    key = load_private_key(events.key_path(demo.data_dir, DEMO_EVENT_ID, 1))
    newcomer = uuid.uuid4()
    badge = make_token(key, 1, uuid.UUID(DEMO_EVENT_ID), newcomer, 0)
    opening = DeskMode("session", demo_session_id("opening"))
    result = scan(demo, badge, opening, at=venue(28, 9, 10))
    assert result.decision == "not_synced" and result.admitted
    assert result.attendee is None and result.attendee_id == str(newcomer)
    assert scan(demo, badge, opening, at=venue(28, 9, 12)).decision == "already_in"
    with demo.begin() as session:
        registry.register(
            session,
            desk.context(session),
            {"given_name": "Ana", "family_name": "Cruz"},
            attendee_id=str(newcomer),
        )
        attended = attendance.sessions_attended(session, DEMO_EVENT_ID, str(newcomer))
    assert attended == {str(newcomer): frozenset({demo_session_id("opening")})}


# --- session doors -------------------------------------------------------------------------


def test_session_window_with_grace(demo: Store) -> None:
    session_3 = DeskMode("session", demo_session_id("session-3"))  # 29 Aug 09:00-10:30
    early = scan(demo, token(demo, 10), session_3, at=venue(29, 8, 0))
    assert early.decision == "not_open" and "08:30" in early.detail
    assert early.session is not None and early.session.id == demo_session_id("session-3")
    assert scan(demo, token(demo, 10), session_3, at=venue(29, 8, 40)).decision == "ok"
    late = scan(demo, token(demo, 11), session_3, at=venue(29, 10, 50))
    assert late.decision == "not_open" and "ended" in late.detail
    wide = DoorRules(grace_before=timedelta(hours=2), grace_after=timedelta(hours=1))
    assert scan(demo, token(demo, 11), session_3, at=venue(29, 10, 50), rules=wide).decision == "ok"


def test_categories_admitted(demo: Store) -> None:
    briefing = DeskMode("session", demo_session_id("resource-persons-briefing"))
    with demo.begin() as session:
        people = registry.list_attendees(session, DEMO_EVENT_ID)
    participant = next(i for i, p in enumerate(people) if p.category == "participant")
    speaker = next(i for i, p in enumerate(people) if p.category == "resource_person")
    at = venue(28, 8, 10)

    def index_of(person_id: str) -> int:
        return next(i for i in range(130) if demo_attendee_id(i) == person_id)

    refused = scan(demo, token(demo, index_of(people[participant].id)), briefing, at=at)
    assert refused.decision == "not_permitted" and refused.forceable
    admitted = scan(demo, token(demo, index_of(people[speaker].id)), briefing, at=at)
    assert admitted.decision == "ok"


def test_capacity_counts_people_inside_and_exits_free_seats(demo: Store) -> None:
    sid = small_session(demo, capacity=2)
    door = DeskMode("session", sid)
    out = DeskMode("session", sid, direction="exit")
    assert scan(demo, token(demo, 20), door).decision == "ok"
    assert scan(demo, token(demo, 21), door).decision == "ok"
    full = scan(demo, token(demo, 22), door)
    assert full.decision == "session_full" and "2 seats" in full.detail
    assert scan(demo, token(demo, 20), door).decision == "already_in"
    assert scan(demo, token(demo, 20), out).decision == "exit_ok"
    assert scan(demo, token(demo, 22), door).decision == "ok"
    with demo.begin() as session:
        figures = attendance.door_count(session, DEMO_EVENT_ID, sid)
        listing = attendance.session_attendance(session, DEMO_EVENT_ID, sid)
    assert (figures.arrived, figures.inside, figures.capacity) == (3, 2, 2)
    left = next(r for r in listing if r.attendee_id == demo_attendee_id(20))
    assert not left.inside and left.last_out is not None


def _scans_plans(store: Store, action: Callable[[], object]) -> list[str]:
    """The query plan lines, on ``scans``, of every statement ``action`` runs."""
    return [line for line in query_plans(store, action) if " scans " in f" {line} "]


def test_a_scan_reads_its_own_person_and_door_not_the_whole_room(demo: Store) -> None:
    # The room fills over a day; a scan must not get slower as it does. With seats to spare,
    # a scan reads the person's own scans at this door and one tally row, never the room.
    sid = small_session(demo, capacity=150)
    door = DeskMode("session", sid)
    for index in range(20, 30):
        assert scan(demo, token(demo, index), door).decision == "ok"
    for mode in (door, ENTRANCE):
        plans = _scans_plans(demo, lambda m=mode: scan(demo, token(demo, 31), m))  # type: ignore[misc]
        assert plans, "the scan looked at no earlier scans"
        assert all("ix_scans_attendee_session_at" in line for line in plans), plans


def test_a_returning_person_takes_a_seat_only_once(demo: Store) -> None:
    sid = small_session(demo, capacity=3)
    door = DeskMode("session", sid)
    out = DeskMode("session", sid, direction="exit")
    for index in (20, 21, 20):
        scan(demo, token(demo, index), door)  # ok, ok, already_in (not an admitted entry)
    scan(demo, token(demo, 21), out)
    scan(demo, token(demo, 21), door)  # back in: a second admitted entry, the same seat
    scan(demo, "not a badge", door)
    with demo.begin() as session:
        tally = session.get(SessionEntryTally, sid)
        assert tally is not None and (tally.inside, tally.arrived) == (2, 2)
    assert scan(demo, token(demo, 22), door).decision == "ok"  # the last seat
    assert scan(demo, token(demo, 23), door).decision == "session_full"


def test_migrations_hold_the_same_triggers_as_the_service() -> None:
    assert load_migration("0008_exact_tallies_only.py").statements() == attendance.presence_ddl()


def test_presence_figures_follow_entries_exits_and_undos(demo: Store) -> None:
    sid = small_session(demo, capacity=2)
    door = DeskMode("session", sid)
    out = DeskMode("session", sid, direction="exit")
    first = scan(demo, token(demo, 20), door)
    scan(demo, token(demo, 21), door)
    scan(demo, token(demo, 21), out)

    def figures() -> tuple[int, int]:
        with demo.begin() as session:
            count = attendance.door_count(session, DEMO_EVENT_ID, sid)
            _check_presence_against_the_scans(session, DEMO_EVENT_ID)
            return count.inside, count.arrived

    assert figures() == (1, 2)
    with demo.begin() as session:
        checkin.void_scan(session, desk.context(session), str(first.op_id), "wrong person")
    assert figures() == (0, 1)  # undone: never came in
    assert scan(demo, token(demo, 22), door).decision == "ok"
    assert scan(demo, token(demo, 23), door).decision == "ok"
    assert figures() == (2, 3)
    # Full by the exact figure, which the triggers keep: no scan of the room is read.
    plans = _scans_plans(demo, lambda: scan(demo, token(demo, 24), door))
    assert all("ix_scans_attendee_session_at" in line for line in plans), plans
    assert scan(demo, token(demo, 25), door).decision == "session_full"


def test_an_older_database_gets_its_tallies_when_migrated(demo: Store) -> None:
    sid = small_session(demo, capacity=2)
    door = DeskMode("session", sid)
    assert scan(demo, token(demo, 20), door).decision == "ok"
    assert scan(demo, token(demo, 21), door).decision == "ok"
    demo.close()
    url = f"sqlite:///{demo.data_dir / DB_NAME}"
    command.downgrade(alembic_config(url=url), "0004")
    again = open_store(demo.data_dir)
    try:
        with again.begin() as session:
            tally = session.get(SessionEntryTally, sid)
            assert tally is not None and (tally.inside, tally.arrived) == (2, 2)
            _check_presence_against_the_scans(session, DEMO_EVENT_ID)
        assert scan(again, token(again, 22), door).decision == "session_full"
    finally:
        again.close()


def test_room_door_follows_whatever_is_on(demo: Store) -> None:
    plenary = DeskMode("room", room="Plenary Hall")
    opening = scan(demo, token(demo, 30), plenary, at=venue(28, 9, 5))
    assert opening.decision == "ok"
    assert opening.session is not None and opening.session.id == demo_session_id("opening")
    later = scan(demo, token(demo, 30), plenary, at=venue(28, 10, 40))
    assert later.session is not None and later.session.id == demo_session_id("session-1")
    assert later.decision == "ok"
    closed = scan(demo, token(demo, 30), plenary, at=venue(28, 7, 0))
    assert closed.decision == "not_open"
    assert closed.session is not None and closed.session.id == demo_session_id("opening")
    nowhere = scan(demo, token(demo, 30), DeskMode("room", room="Broom cupboard"))
    assert nowhere.decision == "not_open" and nowhere.session is None
    with demo.begin() as session:
        assert "Plenary Hall" in checkin.rooms(session, DEMO_EVENT_ID)


def test_every_scan_is_recorded_with_desk_operator_session_direction(demo: Store) -> None:
    sid = small_session(demo)
    operator_id = operators.demo_operator_id("desk")
    with demo.begin() as session:
        desk.set_setting(session, "operator_id", operator_id)
    results = [
        scan(demo, token(demo, 40), DeskMode("session", sid)),
        scan(demo, "garbage"),
        scan(demo, token(demo, 40), DeskMode("session", sid, direction="exit")),
    ]
    with demo.begin() as session:
        rows = {r.op_id: r for r in session.scalars(select(Scan))}
        desk_id = desk.desk_id(session)
    assert len(rows) == 3
    for result in results:
        row = rows[result.op_id or ""]
        assert row.decision == result.decision
        assert row.desk_id == desk_id and row.operator_id == operator_id
    assert rows[results[0].op_id or ""].session_id == sid
    assert rows[results[2].op_id or ""].direction == "exit"
    assert rows[results[1].op_id or ""].raw == "garbage"


# --- supervisor actions --------------------------------------------------------------------


def test_force_needs_a_reason_and_counts_as_admitted(demo: Store) -> None:
    sid = small_session(demo, capacity=1)
    door = DeskMode("session", sid)
    scan(demo, token(demo, 50), door)
    with pytest.raises(checkin.CheckinError):
        scan(demo, token(demo, 51), door, force=True, reason="  ")
    forced = scan(demo, token(demo, 51), door, force=True, reason="Speaker's assistant")
    assert forced.decision == "session_full" and forced.forced and forced.admitted
    with demo.begin() as session:
        row = session.get(Scan, forced.op_id)
        assert row is not None and row.forced and row.reason == "Speaker's assistant"
        assert attendance.inside_now(session, DEMO_EVENT_ID, sid) == 2
    # Nothing to override: a forged badge stays refused, an ok stays unforced.
    forged = scan(demo, flip_bit(token(demo, 52), 300), force=True, reason="VIP")
    assert forged.decision == "forged" and not forged.forced and not forged.admitted


def test_admit_anyway_after_a_refusal(demo: Store) -> None:
    sid = small_session(demo, capacity=0)
    refused = scan(demo, token(demo, 53), DeskMode("session", sid))
    assert refused.decision == "session_full"
    with demo.begin() as session:
        ctx = desk.context(session)
        with pytest.raises(checkin.CheckinError):
            checkin.admit_anyway(session, ctx, refused, "")
        let_in = checkin.admit_anyway(session, ctx, refused, "Fire marshal agreed")
        assert let_in.forced and let_in.op_id != refused.op_id
        assert attendance.inside_now(session, DEMO_EVENT_ID, sid) == 1
        # Both scans are kept: the refusal and the override.
        assert session.scalar(select(func.count()).select_from(Scan)) == 2


def test_undo_a_check_in_is_a_compensating_operation(demo: Store) -> None:
    badge = token(demo, 60)
    first = scan(demo, badge)
    with demo.begin() as session:
        ctx = desk.context(session)
        with pytest.raises(checkin.CheckinError):
            checkin.void_scan(session, ctx, first.op_id or "", "")
        checkin.void_scan(session, ctx, first.op_id or "", "scanned the wrong badge")
        with pytest.raises(checkin.CheckinError):
            checkin.void_scan(session, ctx, first.op_id or "", "again")
        with pytest.raises(checkin.CheckinError):
            checkin.void_scan(session, ctx, "no-such-scan", "typo")
        assert session.get(Scan, first.op_id) is not None  # nothing deleted
        assert not attendance.checked_in(session, DEMO_EVENT_ID, demo_attendee_id(60))
        recent = checkin.recent_scans(session, DEMO_EVENT_ID, ctx.desk_id)
    assert recent[0].op_id == first.op_id and recent[0].voided
    assert scan(demo, badge).decision == "ok"  # not already_in any more


def test_add_and_remove_attendance(demo: Store) -> None:
    opening = demo_session_id("opening")
    person = demo_attendee_id(70)
    with demo.begin() as session:
        ctx = desk.context(session)
        with pytest.raises(checkin.CheckinError):
            checkin.add_attendance(session, ctx, person, opening, "")
        added = checkin.add_attendance(session, ctx, person, opening, "paper sign-in sheet")
        assert added.forced and added.at == venue(28, 9, 0)
        rows = attendance.session_attendance(session, DEMO_EVENT_ID, opening)
        assert [r.attendee_id for r in rows] == [person]
        assert rows[0].forced and rows[0].reasons == ("paper sign-in sheet",)
        removed = checkin.remove_attendance(session, ctx, person, opening, "added by mistake")
        assert removed == 1
        assert attendance.session_attendance(session, DEMO_EVENT_ID, opening) == []
        assert attendance.sessions_attended(session, DEMO_EVENT_ID) == {}


def test_derived_facts_for_certificates_and_reports(demo: Store) -> None:
    opening, session_1 = demo_session_id("opening"), demo_session_id("session-1")
    scan(demo, token(demo, 80), at=venue(28, 8, 40))
    scan(demo, token(demo, 80), DeskMode("session", opening), at=venue(28, 9, 1))
    scan(demo, token(demo, 80), DeskMode("session", session_1), at=venue(28, 10, 31))
    scan(demo, token(demo, 81), DeskMode("session", session_1), at=venue(28, 10, 35))
    with demo.begin() as session:
        attended = attendance.sessions_attended(session, DEMO_EVENT_ID)
        assert attended[demo_attendee_id(80)] == frozenset({opening, session_1})
        assert attended[demo_attendee_id(81)] == frozenset({session_1})
        first = attendance.first_arrival(session, DEMO_EVENT_ID, demo_attendee_id(80))
        assert first is not None and first.at == venue(28, 8, 40) and first.session_id is None
        assert attendance.checked_in(session, DEMO_EVENT_ID, demo_attendee_id(81))
        assert not attendance.checked_in(
            session, DEMO_EVENT_ID, demo_attendee_id(81), venue(29, 12).date()
        )
        assert attendance.checked_in_ids(session, DEMO_EVENT_ID) == {
            demo_attendee_id(80),
            demo_attendee_id(81),
        }
        entrance = attendance.entrance_count(session, DEMO_EVENT_ID, venue(28, 12).date())
        assert (entrance.arrived, entrance.inside) == (1, 1)
        counts = attendance.session_counts(session, DEMO_EVENT_ID)
        assert counts[session_1].arrived == 2 and counts[session_1].capacity == 150
        assert counts[demo_session_id("closing")].arrived == 0


def test_mode_and_rules_are_local_settings(demo: Store) -> None:
    with demo.begin() as session:
        assert checkin.load_mode(session) == DeskMode()
        mode = DeskMode("room", None, "Plenary Hall", "exit")
        checkin.save_mode(session, mode)
        checkin.save_rules(session, DoorRules(timedelta(minutes=10), timedelta(minutes=5)))
    with demo.begin() as session:
        assert checkin.load_mode(session) == mode
        assert checkin.load_rules(session) == DoorRules(timedelta(minutes=10), timedelta(minutes=5))
        desk.set_setting(session, checkin.BEFORE_KEY, "soon")
        assert checkin.load_rules(session).grace_before == timedelta(minutes=30)


# --- the clock and tokens ------------------------------------------------------------------


def test_desk_clock_runs_as_if_and_back(demo: Store) -> None:
    with demo.begin() as session:
        assert not clock.desk_clock(session).simulated
        morning = clock.event_morning(datetime(2024, 8, 28).date(), MANILA)
        assert morning == venue(28, 9, 5)
        clock.set_as_if(session, morning)
        now = clock.now(session)
        assert timedelta(0) <= now - morning < timedelta(minutes=1)
        assert clock.desk_clock(session).simulated
    # A scan with no explicit time uses the desk clock: the opening session is on.
    badge = token(demo, 90)
    with demo.begin() as session:
        result = checkin.scan(
            session,
            desk.context(session),
            badge,
            DeskMode("session", demo_session_id("opening")),
        )
        assert result.decision == "ok"
        clock.use_real_time(session)
        assert not clock.desk_clock(session).simulated
    assert clock.parse_moment("2024-08-28T09:05", MANILA) == venue(28, 9, 5)
    assert clock.parse_moment("2024-08-28T01:05+00:00") == venue(28, 9, 5)
    with pytest.raises(clock.ClockError):
        clock.parse_moment("next tuesday")


def test_token_for_signs_the_current_badge(demo: Store) -> None:
    badge = token(demo, 95)
    with demo.begin() as session:
        from desktop.models import Event

        event = session.get(Event, DEMO_EVENT_ID)
        assert event is not None
        keys = {int(k): bytes.fromhex(v) for k, v in event.public_keys.items()}
        check, info = verify_token(badge, keys, uuid.UUID(DEMO_EVENT_ID))
        assert check.value == "valid" and info is not None
        assert str(info.attendee_id) == demo_attendee_id(95) and info.badge_seq == 0
        with pytest.raises(badgetokens.BadgeTokenError):
            badgetokens.token_for(session, demo.data_dir, DEMO_EVENT_ID, str(uuid.uuid4()))


# --- never raises, always a word of the vocabulary -----------------------------------------

_MODES = st.sampled_from(
    [
        ENTRANCE,
        DeskMode("entrance", direction="exit"),
        DeskMode("session", "00000000-0000-0000-0000-000000000000"),
        DeskMode("room", room="Plenary Hall"),
        DeskMode("room", room=""),
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        st.from_regex(r"(EVD1)?[A-Za-z2-7=\-\s]{0,160}", fullmatch=True),
        st.sampled_from(["OI-", "oi 4k7q", "]Q1", "EVD1", "\r\n\t"]),
    ),
    mode=_MODES,
    minutes=st.integers(-3000, 3000),
)
def test_decide_never_raises_and_answers_in_the_vocabulary(
    demo_template: Path, text: str, mode: DeskMode, minutes: int
) -> None:
    store = open_store(demo_template)
    try:
        with store.begin() as session:
            result = checkin.decide(
                session, DEMO_EVENT_ID, text, mode, venue(28, 9) + timedelta(minutes=minutes)
            )
            session.rollback()
    finally:
        store.close()
    assert result.decision in DECISIONS
    assert len(result.raw) <= 256
    assert result.to_json()["decision"] == result.decision


# --- order independence with voids ---------------------------------------------------------

EVENT = "22222222-2222-4222-8222-222222222222"
SESSION = "33333333-3333-4333-8333-333333333333"
PEOPLE = [str(uuid.UUID(int=i + 1)) for i in range(3)]
SCAN_IDS = [str(uuid.UUID(int=5000 + i)) for i in range(12)]


@st.composite
def scan_histories(draw: st.DrawFn) -> list[Op]:
    ops = [
        Op(str(uuid.UUID(int=1)), EVENT, "a", format_hlc(1, 0, "a"), "event.put", {"id": EVENT}),
        Op(
            str(uuid.UUID(int=2)),
            EVENT,
            "a",
            format_hlc(1, 1, "a"),
            "session.put",
            {"id": SESSION, "title": "S", "capacity": 5},
        ),
    ]
    count = draw(st.integers(1, len(SCAN_IDS)))
    for i in range(count):
        desk_id = draw(st.sampled_from(["a", "b"]))
        ops.append(
            Op(
                SCAN_IDS[i],
                EVENT,
                desk_id,
                format_hlc(draw(st.integers(2, 30)), i, desk_id),
                "scan",
                {
                    "attendee_id": draw(st.sampled_from(PEOPLE)),
                    "session_id": draw(st.sampled_from([SESSION, None])),
                    "decision": draw(st.sampled_from(["ok", "exit_ok", "session_full"])),
                    "direction": draw(st.sampled_from(["entry", "exit"])),
                    "forced": draw(st.booleans()),
                    "at": f"2024-08-28T01:{draw(st.integers(0, 5)):02d}:00",
                },
            )
        )
    for j, target in enumerate(draw(st.lists(st.sampled_from(SCAN_IDS[:count]), max_size=4))):
        ops.append(
            Op(
                str(uuid.UUID(int=9000 + j)),
                EVENT,
                "b",
                format_hlc(draw(st.integers(2, 30)), 100 + j, "b"),
                "scan.void",
                {"scan_op_id": target, "reason": "mistake", "at": "2024-08-28T02:00:00"},
            )
        )
    return ops


def _check_presence_against_the_scans(session: Session, event_id: str = EVENT) -> None:
    """The triggers' figures equal those worked out from every scan (window functions)."""
    doors = session.scalars(select(Scan.session_id).where(Scan.session_id.is_not(None)).distinct())
    for sid in doors:
        params = {"event_id": event_id, "session_id": sid, "start": datetime(1900, 1, 1),
                  "end": datetime(9999, 1, 1)}  # fmt: skip
        inside = session.scalar(attendance._INSIDE[False], params)
        arrived = session.scalar(
            select(func.count(func.distinct(Scan.attendee_id))).where(
                Scan.session_id == sid, attendance.counted(), attendance.admitted_entry()
            )
        )
        tally = session.get(SessionEntryTally, sid)
        assert tally is not None
        assert (tally.inside, tally.arrived) == (inside, arrived)
        people = session.scalars(
            select(SessionPresence).where(SessionPresence.session_id == sid)
        ).all()  # fmt: skip
        for row in people:
            here = attendance.presence(session, event_id, row.attendee_id, sid)
            assert (bool(row.inside), bool(row.arrived)) == (here.inside, here.entries > 0)


def _derived(session: Session) -> tuple[object, ...]:
    _check_presence_against_the_scans(session)
    return (
        state_digest(session)["all"],
        attendance.session_counts(session, EVENT),
        attendance.sessions_attended(session, EVENT),
        attendance.inside_now(session, EVENT, None),
        [attendance.presence(session, EVENT, p, SESSION) for p in PEOPLE],
    )


def _apply(folder: Path, ops: list[Op], bulk: bool) -> tuple[object, ...]:
    store = open_store(folder)
    try:
        with store.begin() as session:
            if bulk:
                journal.apply_many(session, ops)
            else:
                for op in ops:
                    journal.apply(session, op)
            return _derived(session)
    finally:
        store.close()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=scan_histories(), data=st.data())
def test_scans_and_voids_converge_in_any_order(
    tmp_path_factory: pytest.TempPathFactory, ops: list[Op], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(ops))
    duplicates = data.draw(st.lists(st.sampled_from(ops), max_size=4))
    reference = _apply(tmp_path_factory.mktemp("ref"), ops, bulk=False)
    assert _apply(tmp_path_factory.mktemp("mix"), [*shuffled, *duplicates], bulk=False) == reference
    assert _apply(tmp_path_factory.mktemp("bulk"), [*duplicates, *shuffled], bulk=True) == reference


def test_a_void_that_arrives_before_its_scan_still_holds(store: Store) -> None:
    scan_op = Op(
        SCAN_IDS[0],
        EVENT,
        "a",
        format_hlc(5, 0, "a"),
        "scan",
        {"attendee_id": PEOPLE[0], "session_id": SESSION, "decision": "ok", "at": "2024-08-28"},
    )
    void_op = Op(
        str(uuid.UUID(int=9999)),
        EVENT,
        "b",
        format_hlc(6, 0, "b"),
        "scan.void",
        {"scan_op_id": SCAN_IDS[0], "reason": "wrong person"},
    )
    with store.begin() as session:
        journal.apply(session, void_op)
        journal.apply(session, scan_op)
        assert session.scalar(select(func.count()).select_from(ScanVoid)) == 1
        assert attendance.sessions_attended(session, EVENT) == {}
        ctx = DeskContext(EVENT, "a")
        assert attendance.inside_now(session, ctx.event_id, SESSION) == 0


@given(st.text(max_size=400))
def test_raw_kept_with_a_scan_is_what_truncate_raw_makes(text: str) -> None:
    from desktop.scaninput import truncate_raw

    assert checkin._journal_raw(text) == truncate_raw(text, checkin.RAW_LIMIT)


def test_a_desk_operator_scans_but_only_a_supervisor_overrides_or_undoes(demo: Store) -> None:
    sid = small_session(demo, capacity=1)
    with demo.begin() as session:
        desk.set_setting(session, "operator_id", operators.demo_operator_id("desk"))
    first = scan(demo, token(demo, 41), DeskMode("session", sid))
    refused = scan(demo, token(demo, 42), DeskMode("session", sid))
    assert (first.decision, refused.decision) == ("ok", "session_full")
    with pytest.raises(PermissionDenied, match="supervisor"), demo.begin() as session:
        checkin.admit_anyway(session, desk.context(session), refused, "speaker's aide")
    with pytest.raises(PermissionDenied, match="supervisor"), demo.begin() as session:
        checkin.void_scan(session, desk.context(session), first.op_id or "", "wrong person")
    with demo.begin() as session:
        desk.set_setting(session, "operator_id", operators.demo_operator_id("supervisor"))
    with demo.begin() as session:
        forced = checkin.admit_anyway(session, desk.context(session), refused, "speaker's aide")
    assert forced.forced and forced.decision == "session_full"


def test_a_deactivated_operator_cannot_scan(demo: Store) -> None:
    with demo.begin() as session:
        desk.set_setting(session, "operator_id", "no-such-operator")
    with pytest.raises(PermissionDenied, match="not an active operator"):
        scan(demo, token(demo, 43))
    with demo.begin() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == 0
