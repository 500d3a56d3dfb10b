"""Desk kits, operations files and joining: all checked first, applied whole or not at all."""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pg
import pytest
from sqlalchemy import func, select

from desktop import desk, deskkit, digest, events, journal, registry, sync
from desktop.demo import create_demo
from desktop.hub import create_desk_login, init_hub
from desktop.keys import load_private_key, public_bytes
from desktop.models import Event, Operation
from desktop.opsfile import export_ops
from desktop.store import Store, open_store

PASSPHRASE = "blue lantern harbour"
SHARED = ("attendees", "events", "sessions", "scans", "badge_prints", "operators")


@pytest.fixture
def organiser(demo_store: Store) -> Store:
    """The organiser's desk: the demo event, its signing key, a few scans."""
    with demo_store.begin() as session:
        ctx = desk.context(session)
        people = registry.list_attendees(session, ctx.event_id)
        for person in people[:3]:
            journal.record(session, ctx, "scan", {"attendee_id": person.id, "decision": "ok"})
    return demo_store


@pytest.fixture
def newcomer(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "newcomer")
    yield store
    store.close()


def tables(store: Store) -> dict[str, str]:
    with store.begin() as session:
        found = digest.state_digest(session)["tables"]
    return {name: found[name] for name in SHARED}


def count_ops(store: Store) -> int:
    with store.begin() as session:
        return int(session.scalar(select(func.count()).select_from(Operation)) or 0)


def event_of(store: Store) -> Event:
    with store.begin() as session:
        event_id = desk.current_event_id(session)
        assert event_id is not None
        event = session.get(Event, event_id)
        assert event is not None
        return event


# --- desk kits ------------------------------------------------------------------------------


def test_kit_without_signing_key(organiser: Store, newcomer: Store, tmp_path: Path) -> None:
    path = tmp_path / "door.edkit"
    info = deskkit.export_kit(organiser, path)
    assert not info.has_signing_key
    assert info.operations == count_ops(organiser)
    assert info.public_keys == event_of(organiser).public_keys
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["kit.json", "operations.edops"]

    result = deskkit.join_from_kit(newcomer, path)
    assert result.event_id == event_of(organiser).id
    assert result.applied == info.operations
    assert not result.signing_key_saved
    assert tables(newcomer) == tables(organiser)
    assert event_of(newcomer).id == result.event_id  # opened
    assert not (newcomer.data_dir / "keys").exists()
    with newcomer.begin() as session:
        # The newcomer named itself in the event: a change waiting for the hub.
        assert sync.waiting_count(session) == 1
    again = deskkit.join_from_kit(newcomer, path)
    assert again.applied == 0
    assert tables(newcomer) == tables(organiser)


def test_kit_with_signing_key(organiser: Store, newcomer: Store, tmp_path: Path) -> None:
    path = tmp_path / "office.edkit"
    info = deskkit.export_kit(organiser, path, passphrase=PASSPHRASE)
    assert info.has_signing_key and info.key_id == 1
    with zipfile.ZipFile(path) as archive:
        sealed = archive.read("signing-key.json")
    assert b"PRIVATE" not in sealed  # encrypted, not a PEM

    result = deskkit.join_from_kit(newcomer, path, PASSPHRASE)
    assert result.signing_key_saved
    event = event_of(newcomer)
    key = load_private_key(events.key_path(newcomer.data_dir, event.id, 1))
    assert public_bytes(key).hex() == event.public_keys["1"]
    # Joining again finds the same key already there.
    again = deskkit.join_from_kit(newcomer, path, PASSPHRASE)
    assert again.applied == 0 and again.signing_key_saved


def test_wrong_passphrase_changes_nothing(
    organiser: Store, newcomer: Store, tmp_path: Path
) -> None:
    path = tmp_path / "office.edkit"
    deskkit.export_kit(organiser, path, passphrase=PASSPHRASE)
    with pytest.raises(deskkit.KitError, match="wrong passphrase"):
        deskkit.join_from_kit(newcomer, path, "blue lantern harbor")
    assert count_ops(newcomer) == 0
    assert not (newcomer.data_dir / "keys").exists()
    # Without a passphrase the desk joins but leaves the key out, and says so.
    result = deskkit.join_from_kit(newcomer, path, None)
    assert not result.signing_key_saved
    assert any("signing key was left out" in w for w in result.warnings)


def test_kit_export_refusals(organiser: Store, newcomer: Store, tmp_path: Path) -> None:
    with pytest.raises(deskkit.KitError, match="at least 8 characters"):
        deskkit.export_kit(organiser, tmp_path / "k.edkit", passphrase="short")
    assert not (tmp_path / "k.edkit").exists()
    deskkit.export_kit(organiser, tmp_path / "plain.edkit")
    deskkit.join_from_kit(newcomer, tmp_path / "plain.edkit")
    with pytest.raises(deskkit.KitError, match="does not hold the event's signing key"):
        deskkit.export_kit(newcomer, tmp_path / "again.edkit", passphrase=PASSPHRASE)
    # Without the key it can hand the event on.
    assert deskkit.export_kit(newcomer, tmp_path / "again.edkit").operations > 0
    with pytest.raises(desk.NoEventError):
        deskkit.export_kit(open_store(tmp_path / "empty"), tmp_path / "none.edkit")


def _rewrite(path: Path, target: Path, change: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members.update(change)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_damaged_or_altered_kits_are_refused_whole(
    organiser: Store, newcomer: Store, tmp_path: Path
) -> None:
    path = tmp_path / "door.edkit"
    deskkit.export_kit(organiser, path, passphrase=PASSPHRASE)
    data = path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        ops_member = archive.read("operations.edops")
    text = gzip.decompress(ops_member).replace(b'"decision":"ok"', b'"decision":"no"', 1)
    cases = {
        "truncated": data[: len(data) // 2],
        "not a kit": b"hello",
        "ops file": ops_member,
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    _rewrite(path, tmp_path / "altered", {"operations.edops": gzip.compress(text)})
    _rewrite(path, tmp_path / "nokey", {"signing-key.json": b"{}"})
    expected = {
        "truncated": "not an EventDesk desk kit",
        "not a kit": "not an EventDesk desk kit",
        "ops file": "not an EventDesk desk kit",
        "altered": "altered or damaged",
        "nokey": "altered or damaged",
    }
    for name, words in expected.items():
        with pytest.raises(deskkit.KitError, match=words):
            deskkit.join_from_kit(newcomer, tmp_path / name, PASSPHRASE)
    with pytest.raises(deskkit.KitError, match="does not exist"):
        deskkit.join_from_kit(newcomer, tmp_path / "missing.edkit")
    assert count_ops(newcomer) == 0


# --- operations files -----------------------------------------------------------------------


def test_ops_file_import_twice_changes_nothing(
    organiser: Store, newcomer: Store, tmp_path: Path
) -> None:
    path = tmp_path / "ops.edops"
    count = deskkit.export_ops_file(organiser, path)
    assert count == count_ops(organiser)
    first = deskkit.import_ops_file(newcomer, path)
    assert (first.operations, first.applied) == (count, count)
    assert first.event_id == event_of(organiser).id
    before = tables(newcomer)
    assert before == tables(organiser)
    second = deskkit.import_ops_file(newcomer, path)
    assert (second.operations, second.applied) == (count, 0)
    assert tables(newcomer) == before
    assert count_ops(newcomer) == count
    with newcomer.begin() as session:
        # Imported operations are not this desk's to send.
        assert sync.waiting_count(session) == 0


def test_ops_files_refused_whole(organiser: Store, newcomer: Store, tmp_path: Path) -> None:
    path = tmp_path / "ops.edops"
    deskkit.export_ops_file(organiser, path)
    raw = gzip.decompress(path.read_bytes())
    (tmp_path / "cut.edops").write_bytes(path.read_bytes()[:-40])
    (tmp_path / "altered.edops").write_bytes(
        gzip.compress(raw.replace(b'"decision":"ok"', b'"decision":"no"', 1))
    )
    for name, words in (("cut.edops", "incomplete"), ("altered.edops", "altered or damaged")):
        with pytest.raises(deskkit.KitError, match=words):
            deskkit.import_ops_file(newcomer, tmp_path / name)
    deskkit.export_kit(organiser, tmp_path / "door.edkit")
    with pytest.raises(deskkit.KitError, match="is a desk kit"):
        deskkit.import_ops_file(newcomer, tmp_path / "door.edkit")
    assert count_ops(newcomer) == 0


def test_ops_file_from_a_newer_program_is_refused_whole(
    organiser: Store, newcomer: Store, tmp_path: Path
) -> None:
    with organiser.begin() as session:
        rows = session.scalars(select(Operation).order_by(Operation.hlc)).all()
        ops = [
            journal.Op(r.op_id, r.event_id, r.desk_id, r.hlc, r.kind, r.payload).to_dict()
            for r in rows
        ]
    ops[-1] = {**ops[-1], "kind": "future.thing"}
    path = tmp_path / "newer.edops"
    export_ops(path, ops, event_id=ops[0]["event_id"])
    with pytest.raises(deskkit.KitError, match="newer EventDesk"):
        deskkit.import_ops_file(newcomer, path)
    ops[-1] = {**ops[-1], "kind": "scan", "payload": {"at": "not a time"}}
    export_ops(path, ops, event_id=ops[0]["event_id"])
    with pytest.raises(deskkit.KitError, match="cannot be applied"):
        deskkit.import_ops_file(newcomer, path)
    assert count_ops(newcomer) == 0


# --- joining from the hub -------------------------------------------------------------------


def test_choose_event() -> None:
    one = deskkit.HubEvent("e1", "Congress", 10)
    two = deskkit.HubEvent("e2", "", 3)
    assert deskkit.choose_event([one], None) is one
    assert deskkit.choose_event([one, two], "e2") is two
    with pytest.raises(deskkit.KitError, match="holds no event yet"):
        deskkit.choose_event([], None)
    with pytest.raises(deskkit.KitError, match=r"holds 2 events, choose one with --event: e1 \("):
        deskkit.choose_event([one, two], None)
    with pytest.raises(deskkit.KitError, match="holds no event e3"):
        deskkit.choose_event([one, two], "e3")


@pytest.mark.postgres
def test_join_from_a_hub_with_two_events(organiser: Store, newcomer: Store, tmp_path: Path) -> None:
    pg.require_desk_passwords()
    other = open_store(tmp_path / "other")
    try:
        with other.begin() as session:
            # This desk practised on the demo first; those changes must stay here.
            create_demo(session, other.data_dir)
            other_id = events.create_event(
                session, desk.desk_id(session), other.data_dir, {"name": "Second Forum"}
            )
            desk.open_event(session, other_id)
        with pg.fresh_database() as admin:
            init_hub(admin)

            def login(label: str) -> str:
                return create_desk_login(admin, pg.desk_name(admin, label)).url

            assert sync.sync_once(organiser, login("org")).ok
            assert sync.sync_once(other, login("other")).ok
            url = login("new")
            found = {e.event_id: e for e in deskkit.hub_events(url)}
            demo_id = event_of(organiser).id
            assert found[demo_id].name == "Conference on Open Innovation in the Public Sector"
            assert found[other_id].name == "Second Forum"
            assert found[demo_id].operations == count_ops(organiser)  # no practice ops
            with pytest.raises(deskkit.KitError, match="holds 2 events"):
                deskkit.join_from_hub(newcomer, url)
            result = deskkit.join_from_hub(newcomer, url, other_id)
            assert result.event_name == "Second Forum"
            assert result.warnings == []
            assert event_of(newcomer).id == other_id
            with newcomer.begin() as session:
                assert sync.hub_url(session) == url
                assert sync.waiting_count(session) == 0  # its desk name went at once
                assert session.get(Event, demo_id) is None  # only the chosen event came
    finally:
        other.close()
