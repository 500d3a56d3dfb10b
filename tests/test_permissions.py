"""Roles at the service level: what each may do, and the refusal's words."""

from __future__ import annotations

import pytest

from desktop import desk, events, operators, permissions
from desktop.journal import DeskContext
from desktop.models import EventSession
from desktop.permissions import PermissionDenied
from desktop.store import Store

DESK_ONLY = {"scan", "search", "register_walk_in", "print_first_badge"}
SUPERVISOR_MORE = {
    "reprint_badge",
    "undo_checkin",
    "override_refusal",
    "cancel_registration",
    "edit_attendance",
    "edit_attendee",
    "view_audit",
}
ADMIN_MORE = {
    "change_event_settings",
    "manage_keys",
    "import_attendees",
    "issue_certificates",
    "export_personal_data",
    "manage_operators",
    "erase_personal_data",
    "restore_backup",
}


def test_the_table_matches_the_issue() -> None:
    assert permissions.actions_for("desk") == DESK_ONLY
    assert permissions.actions_for("supervisor") == DESK_ONLY | SUPERVISOR_MORE
    assert permissions.actions_for("admin") == DESK_ONLY | SUPERVISOR_MORE | ADMIN_MORE
    assert permissions.actions_for(permissions.OWNER) == set(permissions.ACTIONS)
    assert permissions.actions_for("nobody") == frozenset()
    assert set(permissions.ACTION_PHRASES) == set(permissions.ACTIONS)


def test_a_misspelt_action_is_a_bug_not_a_yes() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        permissions.allowed("admin", "cancel_registraton")


def _ctx(store: Store, role: str) -> DeskContext:
    with store.begin() as session:
        return desk.context(session, operator_id=operators.demo_operator_id(role))


@pytest.mark.parametrize("role", ["desk", "supervisor", "admin"])
def test_require_follows_the_role_of_the_signed_in_operator(demo_store: Store, role: str) -> None:
    ctx = _ctx(demo_store, role)
    with demo_store.begin() as session:
        for action in permissions.ACTIONS:
            if permissions.allowed(role, action):
                permissions.require(session, ctx, action)
                assert permissions.can(session, ctx, action)
            else:
                with pytest.raises(PermissionDenied):
                    permissions.require(session, ctx, action)
                assert not permissions.can(session, ctx, action)


def test_the_refusal_says_who_may_and_how(demo_store: Store) -> None:
    ctx = _ctx(demo_store, "desk")
    with demo_store.begin() as session, pytest.raises(PermissionDenied) as caught:
        permissions.require(session, ctx, "cancel_registration")
    message = str(caught.value)
    assert "supervisor or an administrator may cancel a registration" in message
    assert "Dina Reyes" in message
    assert "Ctrl+L" in message


def test_no_operator_is_the_folder_owner(demo_store: Store) -> None:
    with demo_store.begin() as session:
        ctx = desk.context(session)
        assert ctx.operator_id is None
        assert permissions.actor(session, ctx).is_owner
        permissions.require(session, ctx, "erase_personal_data")


def test_unknown_deactivated_or_foreign_operators_may_do_nothing(demo_store: Store) -> None:
    with demo_store.begin() as session:
        base = desk.context(session)
        ghost = DeskContext(base.event_id, base.desk_id, operator_id="no-such-operator")
        with pytest.raises(PermissionDenied, match="not an active operator"):
            permissions.require(session, ghost, "scan")
        foreign = DeskContext("another-event", base.desk_id, operators.demo_operator_id("admin"))
        assert not permissions.can(session, foreign, "scan")
        operators.set_active(session, base, operators.demo_operator_id("supervisor"), False)
    with demo_store.begin() as session:
        ctx = desk.context(session, operator_id=operators.demo_operator_id("supervisor"))
        with pytest.raises(PermissionDenied):
            permissions.require(session, ctx, "scan")


def test_the_registry_refuses_what_the_role_may_not_do(demo_store: Store) -> None:
    from desktop import registry
    from desktop.demo import demo_attendee_id

    person = demo_attendee_id(0)
    desk_staff = _ctx(demo_store, "desk")
    supervisor = _ctx(demo_store, "supervisor")
    with demo_store.begin() as session:
        walk_in = registry.register(
            session, desk_staff, {"given_name": "Walk", "family_name": "In"}
        )
        with pytest.raises(PermissionDenied):
            registry.cancel(session, desk_staff, person)
        with pytest.raises(PermissionDenied):
            registry.update(session, desk_staff, person, {"organisation": "Changed"})
    with demo_store.begin() as session:
        info = registry.get(session, desk_staff.event_id, person)
        assert info is not None and info.status == "registered"
        assert info.organisation != "Changed"
        registry.update(session, supervisor, walk_in, {"organisation": "Fixed"})
        registry.cancel(session, supervisor, person, "duplicate")
        registry.restore(session, supervisor, person)
        registry.cancel(session, supervisor, person, "duplicate")
    with demo_store.begin() as session:
        info = registry.get(session, desk_staff.event_id, person)
        assert info is not None and info.status == "cancelled"
        walked = registry.get(session, desk_staff.event_id, walk_in)
        assert walked is not None and walked.organisation == "Fixed"


def test_as_owner_drops_the_app_operator(demo_store: Store) -> None:
    ctx = _ctx(demo_store, "desk")
    owner = permissions.as_owner(ctx)
    assert (owner.event_id, owner.desk_id, owner.operator_id) == (ctx.event_id, ctx.desk_id, None)
    with demo_store.begin() as session:
        assert not permissions.can(session, ctx, "manage_keys")
        assert permissions.can(session, owner, "manage_keys")


def test_only_an_administrator_changes_the_programme(demo_store: Store) -> None:
    fields = {"title": "Extra briefing", "room": "Room 9", "capacity": 10}
    for role in ("desk", "supervisor"):
        with demo_store.begin() as session:
            desk.set_setting(session, "operator_id", operators.demo_operator_id(role))
        with pytest.raises(PermissionDenied, match="administrator"), demo_store.begin() as session:
            events.put_session(session, desk.context(session), fields)
    with demo_store.begin() as session:
        desk.set_setting(session, "operator_id", operators.demo_operator_id("admin"))
    with demo_store.begin() as session:
        session_id = events.put_session(session, desk.context(session), fields)
        assert session.get(EventSession, session_id) is not None
