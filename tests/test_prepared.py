"""Prepared statements: the same rows and stored values as Session.execute, on the driver."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from conftest_store_helpers import write_lock_held
from pg import fresh_database
from sqlalchemy import bindparam, create_engine, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from desktop import attendance
from desktop import store as store_module
from desktop.demo import DEMO_EVENT_ID
from desktop.models import Attendee, Event, EventSession, LocalSetting, Operation, Scan
from desktop.prepared import Prepared
from desktop.store import Store, open_store

_EVENT = select(Event.__table__).where(Event.__table__.c.id == bindparam("id"))
_ATTENDEES = select(Attendee.__table__).where(Attendee.__table__.c.event_id == bindparam("e"))
_SESSIONS = select(EventSession.__table__).order_by(EventSession.__table__.c.id)
_SCAN_COLUMNS = (
    "op_id", "event_id", "attendee_id", "session_id", "desk_id", "operator_id", "at",
    "direction", "decision", "forced", "reason", "raw", "hlc",
)  # fmt: skip


def _scan_row(op_id: str, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "op_id": op_id,
        "event_id": DEMO_EVENT_ID,
        "attendee_id": "0190f0a0-0000-7000-8000-00000000a11c",
        "session_id": None,
        "desk_id": "desk-1",
        "operator_id": None,
        "at": datetime(2024, 8, 28, 0, 59, 58, 123456),
        "direction": "entry",
        "decision": "ok",
        "forced": True,
        "reason": "late list, «Ñ» kept",
        "raw": "EVD1ABC",
        "hlc": "1724806798123-0000-desk-1",
    }
    row.update(changes)
    return row


def _stored(store: Store, sql: str) -> list[tuple[object, ...]]:
    """Rows as the file holds them (a bare connection: no conversion), by op_id."""
    raw = sqlite3.connect(store.db_path)
    try:
        return raw.execute(f"{sql} ORDER BY op_id").fetchall()
    finally:
        raw.close()


def test_rows_are_those_session_execute_gives(demo: Store) -> None:
    # Dates, booleans, JSON (public keys, admitted categories) and NULLs come back converted.
    with demo.begin() as session:
        for statement, params in (
            (_EVENT, {"id": DEMO_EVENT_ID}),
            (_ATTENDEES, {"e": DEMO_EVENT_ID}),
            (_SESSIONS, {}),
        ):
            expected = [tuple(row) for row in session.execute(statement, params)]
            got = Prepared(statement).all(session, params)
            assert expected, "the demo has rows to compare"
            assert [tuple(row) for row in got] == expected
            assert got[0]._asdict() == dict(session.execute(statement, params).mappings().first())
        event = Prepared(_EVENT).first(session, {"id": DEMO_EVENT_ID})
        assert event is not None and isinstance(event.public_keys, dict)
        assert Prepared(_EVENT).first(session, {"id": "no such event"}) is None
        assert Prepared(_EVENT).scalar(session, {"id": DEMO_EVENT_ID}) == DEMO_EVENT_ID


def test_constant_in_lists_are_expanded_and_caller_values_bound(demo: Store) -> None:
    # The presence query holds IN (...) of constant decisions, next to the caller's values.
    person = str(uuid.uuid4())
    with demo.begin() as session:
        session.execute(
            insert(Scan.__table__),
            [
                _scan_row(
                    f"op-{decision}",
                    attendee_id=person,
                    decision=decision,
                    forced=False,
                    hlc=f"1724806798123-000{n}-desk-1",
                )
                for n, decision in enumerate(("ok", "not_synced", "cancelled"))
            ],
        )
        params = {"event_id": DEMO_EVENT_ID, "session_id": None, "attendee_id": person,
                  "start": datetime(2024, 8, 27), "end": datetime(2024, 8, 29)}  # fmt: skip
        statement = attendance._presence_statement(True)
        expected = [tuple(row) for row in session.execute(statement, params)]
        prepared = Prepared(statement)
        got = prepared.all(session, params)
        assert [tuple(row) for row in got] == expected
        # Both admitting decisions of the IN list count; a refusal does not.
        assert [row.op_id for row in got] == ["op-ok", "op-not_synced"]
        assert prepared.all(session, dict(params, attendee_id="nobody")) == []


def test_a_prepared_insert_stores_what_a_core_insert_stores(demo: Store) -> None:
    prepared = Prepared(insert(Scan.__table__), _SCAN_COLUMNS)
    with demo.begin() as session:
        session.execute(insert(Scan.__table__), [_scan_row("core")])
        prepared.run(session, _scan_row("prepared"))
    core, ours = _stored(demo, "SELECT * FROM scans WHERE op_id IN ('core', 'prepared')")
    # Same text for the time, same 0/1 for the flag, same everything but the key.
    assert core[1:] == ours[1:]


def test_the_journal_payload_is_stored_as_session_execute_stores_it(demo: Store) -> None:
    columns = ("op_id", "event_id", "desk_id", "hlc", "kind", "payload", "operator_id",
               "local", "pushed", "applied_at")  # fmt: skip
    row = {
        "event_id": DEMO_EVENT_ID,
        "desk_id": "d",
        "hlc": "1-0000-d",
        "kind": "scan",
        "payload": {"name": "Nguyễn Thị Minh Khai", "n": [1, None]},
        "operator_id": None,
        "local": True,
        "pushed": False,
        "applied_at": datetime(2024, 8, 28, 1, 2, 3),
    }
    with demo.begin() as session:
        session.execute(insert(Operation.__table__), [dict(row, op_id="core")])
        Prepared(insert(Operation.__table__), columns).run(session, dict(row, op_id="prepared"))
        stored = session.execute(
            select(Operation.__table__.c.payload).where(Operation.op_id.in_(["core", "prepared"]))
        ).scalars().all()  # fmt: skip
    assert stored == [row["payload"], row["payload"]]
    texts = _stored(
        demo,
        "SELECT payload, local, pushed, applied_at FROM operations"
        " WHERE op_id IN ('core', 'prepared')",
    )
    assert texts[0] == texts[1]


def test_errors_are_sqlalchemy_errors(demo: Store) -> None:
    # Sync tells a bad operation (a constraint) from a full disk by these classes.
    prepared = Prepared(insert(Scan.__table__), _SCAN_COLUMNS)
    with pytest.raises(IntegrityError), demo.begin() as session:
        prepared.run(session, _scan_row("twice"))
        prepared.run(session, _scan_row("twice"))
    with demo.begin() as session:
        assert session.get(Scan, "twice") is None  # rolled back whole


def test_pending_orm_changes_are_seen_and_transactions_follow_the_session(demo: Store) -> None:
    setting = Prepared(
        select(LocalSetting.__table__.c.value).where(LocalSetting.__table__.c.key == "probe")
    )
    session = demo.session_factory()
    try:
        session.add(LocalSetting(key="probe", value="pending"))
        assert setting.scalar(session) == "pending"  # flushed first, as autoflush would
        session.rollback()
        assert setting.scalar(session) is None  # a new transaction, on whatever connection
        session.add(LocalSetting(key="probe", value="kept"))
        session.commit()
        assert setting.scalar(session) == "kept"
        with session.no_autoflush:  # held back there, as Session.execute would
            session.add(LocalSetting(key="probe2", value="held"))
            held = Prepared(select(LocalSetting.value).where(LocalSetting.key == "probe2"))
            assert held.scalar(session) is None
        assert held.scalar(session) == "held"
        session.commit()
    finally:
        session.close()


def test_only_sqlite_sessions_are_served() -> None:
    with fresh_database("edprep") as url:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with Session(engine) as session, pytest.raises(ValueError, match="SQLite"):
                Prepared(_EVENT).first(session, {"id": "x"})
        finally:
            engine.dispose()


def test_a_write_that_waits_too_long_for_the_lock_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # BEGIN IMMEDIATE runs on the driver; a lock never released is still SQLAlchemy's error.
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 100)
    opened = open_store(tmp_path / "locked")
    try:
        with write_lock_held(opened):
            with pytest.raises(OperationalError, match="locked"), opened.begin() as session:
                session.connection()
            with opened.read() as session:  # a snapshot still reads meanwhile
                assert session.scalar(select(LocalSetting.value).limit(1)) is not None
        with opened.begin() as session:  # and writing works again once it is released
            session.add(LocalSetting(key="after", value="1"))
    finally:
        opened.close()
