"""The journal: clocks, idempotent apply, and order-independent merging."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from desktop import journal
from desktop.digest import state_digest
from desktop.journal import DeskContext, Op, format_hlc, parse_hlc
from desktop.models import Attendee, BadgePrint, Operation, Scan
from desktop.store import Store, open_store

EVENT = "11111111-1111-4111-8111-111111111111"
PEOPLE = [str(uuid.UUID(int=i + 1)) for i in range(3)]


def test_hlc_text_orders_like_the_clock() -> None:
    a = format_hlc(1_700_000_000_000, 5, "deskA")
    b = format_hlc(1_700_000_000_000, 12, "deskA")
    c = format_hlc(1_700_000_000_001, 0, "deskA")
    assert a < b < c
    assert parse_hlc(b) == (1_700_000_000_000, 12, "deskA")
    with pytest.raises(journal.JournalError):
        parse_hlc("yesterday")


def test_next_hlc_never_goes_back_even_when_the_wall_clock_does(store: Store) -> None:
    ctx = DeskContext(EVENT, "deskA")
    with store.begin() as session:
        journal.record(session, ctx, "event.put", {"id": EVENT, "name": "E"})
        future = format_hlc(9_999_999_999_999, 3, "deskB")
        journal.apply(
            session,
            Op(
                str(uuid.uuid4()),
                EVENT,
                "deskB",
                future,
                "event.put",
                {"id": EVENT, "city": "Manila"},
            ),
        )
        later = journal.next_hlc(session, "deskA")
    assert later > future
    assert parse_hlc(later)[:2] == (9_999_999_999_999, 4)


def test_counter_overflow_moves_the_clock_on(store: Store) -> None:
    with store.begin() as session:
        journal.apply(
            session,
            Op(str(uuid.uuid4()), EVENT, "d", format_hlc(5, 9999, "d"), "event.put", {"id": EVENT}),
        )
        assert journal.next_hlc(session, "d", now_ms=1) == format_hlc(6, 0, "d")


def test_apply_twice_changes_nothing(store: Store) -> None:
    op = Op(
        str(uuid.uuid4()),
        EVENT,
        "deskA",
        format_hlc(1, 0, "deskA"),
        "scan",
        {"attendee_id": PEOPLE[0], "decision": "ok", "at": "2024-08-28T01:00:00"},
    )
    with store.begin() as session:
        journal.apply(
            session,
            Op(
                str(uuid.uuid4()),
                EVENT,
                "deskA",
                format_hlc(0, 0, "deskA"),
                "event.put",
                {"id": EVENT, "name": "E"},
            ),
        )
        assert journal.apply(session, op) is True
        assert journal.apply(session, op) is False
        assert session.scalar(select(func.count()).select_from(Scan)) == 1


def test_field_level_merge_keeps_both_desks_corrections(store: Store) -> None:
    base = Op(
        str(uuid.uuid4()),
        EVENT,
        "a",
        format_hlc(10, 0, "a"),
        "attendee.put",
        {"id": PEOPLE[0], "given_name": "Nguyen", "organisation": "Old Ministry"},
    )
    name_fix = Op(
        str(uuid.uuid4()),
        EVENT,
        "a",
        format_hlc(20, 0, "a"),
        "attendee.put",
        {"id": PEOPLE[0], "given_name": "Nguyễn"},
    )
    org_fix = Op(
        str(uuid.uuid4()),
        EVENT,
        "b",
        format_hlc(15, 0, "b"),
        "attendee.put",
        {"id": PEOPLE[0], "organisation": "New Agency"},
    )
    stale = Op(
        str(uuid.uuid4()),
        EVENT,
        "b",
        format_hlc(12, 0, "b"),
        "attendee.put",
        {"id": PEOPLE[0], "given_name": "Nguyen (old)"},
    )
    with store.begin() as session:
        journal.apply(
            session,
            Op(str(uuid.uuid4()), EVENT, "a", format_hlc(1, 0, "a"), "event.put", {"id": EVENT}),
        )
        for op in (name_fix, org_fix, stale, base):
            journal.apply(session, op)
        person = session.get(Attendee, PEOPLE[0])
        assert person is not None
        assert person.given_name == "Nguyễn"
        assert person.organisation == "New Agency"


def test_unknown_kind_is_refused(store: Store) -> None:
    with store.begin() as session, pytest.raises(journal.JournalError):
        journal.apply(
            session,
            Op(
                str(uuid.uuid4()),
                EVENT,
                "a",
                format_hlc(1, 0, "a"),
                "attendee.explode",
                {"id": PEOPLE[0]},
            ),
        )


def test_op_from_dict_refuses_malformed_input() -> None:
    with pytest.raises(journal.JournalError):
        Op.from_dict({"op_id": "x", "kind": "scan"})
    with pytest.raises(journal.JournalError):
        Op.from_dict(
            {
                "op_id": "x",
                "event_id": EVENT,
                "desk_id": "a",
                "hlc": "bad",
                "kind": "scan",
                "payload": {},
            }
        )


# --- order independence --------------------------------------------------------------------

FIELDS = ("given_name", "family_name", "organisation", "country", "category", "status")
VALUES = {
    "given_name": ["Lan", "Lân", "Aroha"],
    "family_name": ["Nguyễn", "Şahin", ""],
    "organisation": ["DAP", "Ministry of Finance", "NEDA"],
    "country": ["VN", "TR", "PH"],
    "category": ["participant", "vip", "observer"],
    "status": ["registered", "cancelled"],
}


@st.composite
def operations(draw: st.DrawFn) -> list[Op]:
    desks = ["deskA", "deskB", "deskC"]
    ops: list[Op] = [
        Op(
            "00000000-0000-7000-8000-000000000000",
            EVENT,
            "deskA",
            format_hlc(1, 0, "deskA"),
            "event.put",
            {"id": EVENT, "name": "E"},
        )
    ]
    count = draw(st.integers(min_value=1, max_value=25))
    for i in range(count):
        desk = draw(st.sampled_from(desks))
        hlc = format_hlc(draw(st.integers(2, 40)), i, desk)
        person = draw(st.sampled_from(PEOPLE))
        kind = draw(
            st.sampled_from(
                [
                    "attendee.put",
                    "attendee.cancel",
                    "attendee.restore",
                    "scan",
                    "badge.print",
                    "badge.revoke",
                    "attendee.erase",
                    "certificate.issue",
                ]
            )
        )
        payload: dict[str, object]
        if kind == "attendee.put":
            chosen = draw(st.sets(st.sampled_from(FIELDS), min_size=1, max_size=3))
            payload = {"id": person, **{f: draw(st.sampled_from(VALUES[f])) for f in chosen}}
        elif kind in ("attendee.cancel", "attendee.restore"):
            payload = {"id": person, "reason": draw(st.sampled_from(["", "visa refused"]))}
        elif kind == "attendee.erase":
            # One person's erasure, or the whole event's after it ends: both absorb any put.
            payload = draw(st.sampled_from([{"id": person}, {"scope": "event"}]))
        elif kind == "certificate.issue":
            payload = {"attendee_id": person, "serial": f"S-{i}", "name_printed": "Lan Nguyễn"}
        elif kind == "badge.revoke":
            payload = {"id": person, "badge_seq": draw(st.integers(0, 4))}
        else:
            payload = {"attendee_id": person, "decision": "ok", "at": "2024-08-28T01:00:00"}
        ops.append(Op(str(uuid.UUID(int=10_000 + i)), EVENT, desk, hlc, kind, payload))
    return ops


def _digest_after(folder: Path, ops: list[Op], batch: bool) -> dict[str, object]:
    store = open_store(folder)
    try:
        with store.begin() as session:
            if batch:
                journal.apply_many(session, ops)
            else:
                for op in ops:
                    journal.apply(session, op)
            return state_digest(session)
    finally:
        store.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations(), data=st.data())
def test_any_order_with_duplicates_gives_the_same_state(
    tmp_path_factory: pytest.TempPathFactory, ops: list[Op], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(ops))
    duplicates = data.draw(st.lists(st.sampled_from(ops), max_size=6))
    reference = _digest_after(tmp_path_factory.mktemp("ref"), ops, batch=False)
    replay = _digest_after(
        tmp_path_factory.mktemp("shuffled"), [*shuffled, *duplicates], batch=False
    )
    bulk = _digest_after(tmp_path_factory.mktemp("bulk"), [*duplicates, *shuffled], batch=True)
    assert replay == reference
    assert bulk == reference


def test_record_many_writes_one_operation_per_change(store: Store) -> None:
    ctx = DeskContext(EVENT, "deskA")
    with store.begin() as session:
        journal.record(session, ctx, "event.put", {"id": EVENT, "name": "E"})
        ops = journal.record_many(
            session,
            ctx,
            [("attendee.put", {"id": pid, "given_name": f"P{i}"}) for i, pid in enumerate(PEOPLE)]
            + [("badge.print", {"attendee_id": PEOPLE[0], "layout": "a6"})],
        )
        assert [op.hlc for op in ops] == sorted(op.hlc for op in ops)
        assert len({op.hlc for op in ops}) == len(ops)
        assert session.scalar(select(func.count()).select_from(Attendee)) == 3
        assert session.scalar(select(func.count()).select_from(BadgePrint)) == 1
        local = session.scalar(select(func.count()).where(Operation.local))
        assert local == 5
