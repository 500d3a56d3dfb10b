"""Operators: hashed PINs, signing in and out, who may manage whom."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from desktop import audit, cli, desk, journal, operators, permissions
from desktop.models import Operation, Operator
from desktop.operators import OperatorError, SignInError
from desktop.store import Store


def _owner(store: Store) -> journal.DeskContext:
    with store.begin() as session:
        return desk.context(session)


def test_a_pin_is_kept_only_as_an_argon2_hash(demo_store: Store) -> None:
    ctx = _owner(demo_store)
    with demo_store.begin() as session:
        made = operators.create_operator(session, ctx, "Liza Gomez", "desk", "480213")
        row = session.get(Operator, made.id)
        assert row is not None
        assert row.secret_hash.startswith("$argon2id$")
        assert "480213" not in row.secret_hash
        payloads = [json.dumps(p) for p in session.scalars(select(Operation.payload))]
        assert not any("480213" in p for p in payloads)
        assert operators.check_secret(row.secret_hash, "480213")
        assert not operators.check_secret(row.secret_hash, "480214")
        assert not operators.check_secret("garbage", "480213")


def test_sign_in_by_pin_alone_and_by_name(demo_store: Store) -> None:
    with demo_store.begin() as session:
        ctx = desk.context(session)
        found = operators.identify(session, ctx.event_id, "2222")
        assert found.name.startswith("Marco Santos") and found.role == "supervisor"
        with pytest.raises(SignInError, match="wrong PIN"):
            operators.identify(session, ctx.event_id, "2223")
        by_name = operators.identify(
            session, ctx.event_id, "1111", operators.demo_operator_id("desk")
        )
        assert by_name.role == "desk"
        with pytest.raises(SignInError, match="wrong PIN"):
            operators.identify(session, ctx.event_id, "2222", operators.demo_operator_id("desk"))


def test_signed_in_operator_stamps_every_operation(demo_store: Store) -> None:
    with demo_store.begin() as session:
        who = operators.identify(session, desk.current_event_id(session) or "", "1111")
        operators.sign_in(session, who)
    with demo_store.begin() as session:
        assert operators.current(session) == who
        assert desk.get_setting(session, "operator_name") == who.name
        ctx = desk.context(session)
        assert ctx.operator_id == who.id
        op = journal.record(session, ctx, "scan", {"decision": "ok"})
        owner = journal.DeskContext(ctx.event_id, ctx.desk_id)
        trail = audit.query(session, owner, audit.AuditFilter())
        assert trail[0].op_id == op.op_id and trail[0].operator == who.name
        operators.sign_out(session)
    with demo_store.begin() as session:
        assert operators.current(session) is None
        assert desk.context(session).operator_id is None


def test_rules_for_new_operators(demo_store: Store) -> None:
    ctx = _owner(demo_store)
    with demo_store.begin() as session:
        with pytest.raises(OperatorError, match="at least 4"):
            operators.create_operator(session, ctx, "Short", "desk", "12")
        with pytest.raises(OperatorError, match="already uses this PIN"):
            operators.create_operator(session, ctx, "Copycat", "desk", "1111")
        with pytest.raises(OperatorError, match="unknown role"):
            operators.create_operator(session, ctx, "Boss", "king", "5555")
        with pytest.raises(OperatorError, match="needs a name"):
            operators.create_operator(session, ctx, "   ", "desk", "5555")
        with pytest.raises(OperatorError, match="already an operator called"):
            operators.create_operator(session, ctx, "ana cruz", "desk", "5555")


def test_only_an_administrator_manages_operators(demo_store: Store) -> None:
    with demo_store.begin() as session:
        supervisor = desk.context(session, operators.demo_operator_id("supervisor"))
        admin = desk.context(session, operators.demo_operator_id("admin"))
        with pytest.raises(permissions.PermissionDenied):
            operators.create_operator(session, supervisor, "New Person", "desk", "5555")
        made = operators.create_operator(session, admin, "New Person", "desk", "5555")
        with pytest.raises(permissions.PermissionDenied):
            operators.set_active(session, supervisor, made.id, False)
        # Anyone may change their own PIN; only an administrator someone else's.
        own = desk.context(session, made.id)
        operators.change_secret(session, own, made.id, "6666")
        with pytest.raises(permissions.PermissionDenied):
            operators.change_secret(session, own, operators.demo_operator_id("desk"), "7777")
        assert operators.identify(session, admin.event_id, "6666").id == made.id
        operators.set_active(session, admin, made.id, False)
        with pytest.raises(SignInError):
            operators.identify(session, admin.event_id, "6666")
        with pytest.raises(OperatorError, match="at least one active administrator"):
            operators.set_role(session, admin, operators.demo_operator_id("admin"), "desk")


def test_two_desks_giving_one_pin_twice_ask_for_the_name(demo_store: Store) -> None:
    ctx = _owner(demo_store)
    with demo_store.begin() as session:
        # Made on another desk while apart: the uniqueness check could not see it.
        journal.record(
            session,
            journal.DeskContext(ctx.event_id, "otherdesk"),
            "operator.put",
            {
                "id": "twin",
                "name": "Twin",
                "role": "desk",
                "secret_hash": operators.hash_secret("1111"),
                "active": True,
            },
        )
        with pytest.raises(SignInError, match="choose your name"):
            operators.identify(session, ctx.event_id, "1111")
        assert operators.identify(session, ctx.event_id, "1111", "twin").name == "Twin"


def test_throttle_pauses_after_repeated_failures() -> None:
    now = [100.0]
    throttle = operators.Throttle(limit=3, pause=30, clock=lambda: now[0])
    for _ in range(2):
        throttle.failed()
        assert throttle.wait_left() == 0
    throttle.failed()
    assert throttle.wait_left() == 30
    now[0] += 29
    assert throttle.wait_left() == pytest.approx(1)
    now[0] += 2
    assert throttle.wait_left() == 0
    throttle.failed()
    throttle.succeeded()
    throttle.failed()
    throttle.failed()
    assert throttle.wait_left() == 0


def test_operators_command(
    demo_store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = str(demo_store.data_dir)
    with demo_store.begin() as session:  # desk staff signed in to the app on this folder
        event_id = desk.current_event_id(session) or ""
        operators.sign_in(session, operators.identify(session, event_id, "1111"))
    monkeypatch.setenv("EVENTDESK_PIN", "314159")
    assert cli.main(["--data", data, "operators", "add", "Rosa Lim", "--role", "supervisor"]) == 0
    assert "Added Rosa Lim (Supervisor)" in capsys.readouterr().out
    assert cli.main(["--data", data, "operators", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {o["name"]: o["role"] for o in listed}["Rosa Lim"] == "supervisor"
    assert len(listed) == 4
    assert cli.main(["--data", data, "operators", "add", "Rosa Lim"]) == 1
    assert "already an operator called" in capsys.readouterr().err
    # The terminal acted as the folder's owner, not as the person signed in to the app.
    with demo_store.begin() as session:
        rosa = operators.get_operator(session, event_id, "Rosa Lim")
        assert rosa is not None
        made_by = session.scalars(
            select(Operation.operator_id)
            .where(Operation.kind == "operator.put")
            .where(func.json_extract(Operation.payload, "$.id") == rosa.id)
        ).one()
        assert made_by is None
