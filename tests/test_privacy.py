"""Personal data: export one person's, erase everyone's on every desk, keep anonymous counts."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop import certificates, cli, desk, journal, operators, privacy, registry
from desktop.demo import demo_attendee_id
from desktop.digest import state_digest
from desktop.journal import PERSONAL_FIELDS, DeskContext, Op
from desktop.models import Attendee, Certificate, CertificateOverride, Operation, Scan, ScanVoid
from desktop.permissions import PermissionDenied
from desktop.store import DB_NAME, Store, open_store


def _owner(store: Store) -> DeskContext:
    with store.begin() as session:
        ctx = desk.context(session)
    return DeskContext(ctx.event_id, ctx.desk_id)


def _scan(session: object, ctx: DeskContext, person: str) -> Op:
    return journal.record(session, ctx, "scan", {"attendee_id": person, "decision": "ok"})  # type: ignore[arg-type]


def test_export_holds_everything_about_one_person(demo_store: Store, tmp_path: Path) -> None:
    ctx = _owner(demo_store)
    person = demo_attendee_id(3)
    with demo_store.begin() as session:
        registry.update(session, ctx, person, {"organisation": "Renamed Agency"})
        _scan(session, ctx, person)
        _scan(session, ctx, demo_attendee_id(4))  # someone else's: not in the export
        info = registry.get(session, ctx.event_id, person)
        assert info is not None
        out = tmp_path / "request.json"
        privacy.export_to_file(session, ctx, info.short_code, out)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert document["attendee"]["id"] == person
    assert document["attendee"]["given_name"] == info.given_name
    assert document["attendee"]["organisation"] == "Renamed Agency"
    assert len(document["scans"]) == 1 and document["scans"][0]["decision"] == "ok"
    kinds = [op["kind"] for op in document["operations"]]
    assert kinds == ["attendee.put", "attendee.put", "scan"]
    assert document["controller"]["organiser"] == "Development Academy of the Philippines"
    assert document["erased"] is False


def test_only_an_administrator_exports_or_erases(demo_store: Store) -> None:
    with demo_store.begin() as session:
        supervisor = desk.context(session, operators.demo_operator_id("supervisor"))
        with pytest.raises(PermissionDenied):
            privacy.export_attendee(session, supervisor, demo_attendee_id(0))
        with pytest.raises(PermissionDenied):
            privacy.erase_event(session, supervisor, before_end=True)
        admin = desk.context(session, operators.demo_operator_id("admin"))
        assert privacy.export_attendee(session, admin, demo_attendee_id(0))["attendee"]


def _personal_text(session: object, person: str) -> list[str]:
    row = session.get(Attendee, person)  # type: ignore[attr-defined]
    return [getattr(row, f) for f in PERSONAL_FIELDS if getattr(row, f)]


def test_erase_after_the_event_keeps_anonymous_counts(demo_store: Store) -> None:
    ctx = _owner(demo_store)
    with demo_store.begin() as session:
        for i in range(0, 40, 3):
            _scan(session, ctx, demo_attendee_id(i))
        journal.record(
            session,
            ctx,
            "certificate.issue",
            {"attendee_id": demo_attendee_id(0), "serial": "C-1", "name_printed": "Printed Name"},
        )
        certificates.set_override(
            session, ctx, demo_attendee_id(3), True, "Ms Reyes was in hospital on day 2"
        )
        forced = {"decision": "not_open", "forced": True, "reason": "Dr Cruz, the minister's aide"}
        journal.record(session, ctx, "scan", {"attendee_id": demo_attendee_id(3), **forced})
        counts = privacy.anonymous_counts(session, ctx.event_id)
        assert counts["attendance"]["attended"] == 14
        # The demo ends on 29 August 2024.
        with pytest.raises(privacy.PrivacyError, match="not ended"):
            privacy.erase_event(session, ctx, today=date(2024, 8, 29))
        assert privacy.erase_event(session, ctx, today=date(2024, 8, 30)) == 130
    with demo_store.begin() as session:
        assert privacy.anonymous_counts(session, ctx.event_id) == counts
        rows = session.scalars(select(Attendee)).all()
        assert all(privacy.is_erased(r) for r in rows)
        assert all(not _personal_text(session, r.id) for r in rows)
        assert all(r.country and r.category for r in rows)
        for kind, payload in session.execute(select(Operation.kind, Operation.payload)):
            assert not set(payload) & {*PERSONAL_FIELDS, "name_printed"}
            assert kind not in ("certificate.override", "scan") or "reason" not in payload
        cert = session.scalars(select(Certificate)).one()
        assert cert.name_printed == "" and cert.serial == "C-1"
        # The supervisor's word stays (the certificate still follows it), its text does not.
        override = session.scalars(select(CertificateOverride)).one()
        assert override.eligible is True and override.reason == ""
        assert session.scalars(select(Scan.reason).where(Scan.forced)).all() == [""]
        # A later correction cannot bring a name back.
        registry.update(session, ctx, demo_attendee_id(5), {"given_name": "Back Again"})
    with demo_store.begin() as session:
        assert not _personal_text(session, demo_attendee_id(5))


def _ops(store: Store) -> list[Op]:
    with store.begin() as session:
        rows = session.scalars(select(Operation).order_by(Operation.hlc)).all()
        return [
            Op(r.op_id, r.event_id, r.desk_id, r.hlc, r.kind, dict(r.payload), r.operator_id)
            for r in rows
        ]


def test_every_desk_erases_even_what_arrives_after(demo_template: Path, tmp_path: Path) -> None:
    import shutil

    desks = []
    for name in ("a", "b"):
        folder = tmp_path / name
        shutil.copytree(demo_template, folder)
        store = open_store(folder)
        with store.begin() as session:
            desk.set_setting(session, "desk_id", f"desk-{name}")
        desks.append(store)
    a, b = desks
    person = demo_attendee_id(7)
    try:
        ctx_b = _owner(b)
        with b.begin() as session:  # desk B, offline, corrects a name and registers a walk-in
            registry.update(session, ctx_b, person, {"given_name": "Corrected"})
            certificates.set_override(session, ctx_b, person, False, "Corrected left early, ill")
            journal.record(
                session,
                ctx_b,
                "scan",
                {"attendee_id": person, "decision": "ok", "forced": True, "reason": "Corrected"},
            )
            # A name typed at the door that matched nobody: erased with the event too.
            journal.record(
                session,
                ctx_b,
                "scan",
                {"attendee_id": None, "decision": "invalid", "raw": "Ana Lim"},
            )
            walk_in = registry.register(session, ctx_b, {"given_name": "Late", "family_name": "X"})
        ctx_a = _owner(a)
        with a.begin() as session:  # desk A erases one person, then the whole event
            privacy.erase_attendee(session, ctx_a, person)
            privacy.erase_event(session, ctx_a, before_end=True)
        ops_a, ops_b = _ops(a), _ops(b)
        with a.begin() as session:
            journal.apply_many(session, ops_b)
        with b.begin() as session:
            for op in ops_a:  # one by one, the other path
                journal.apply(session, op)
        with a.begin() as session:
            digest_a = state_digest(session)
            assert not _personal_text(session, person)
            assert not _personal_text(session, walk_in)
            assert session.scalars(select(CertificateOverride.reason)).all() == [""]
            assert set(session.scalars(select(Scan.reason).where(Scan.forced))) == {""}
            assert set(session.scalars(select(Scan.raw))) == {""}
        with b.begin() as session:
            assert session.scalars(select(CertificateOverride.reason)).all() == [""]
            assert set(session.scalars(select(Scan.reason).where(Scan.forced))) == {""}
            assert set(session.scalars(select(Scan.raw))) == {""}
            digest_b = state_digest(session)
            assert not _personal_text(session, walk_in)
        assert digest_a == digest_b
    finally:
        for store in desks:
            store.close()


def test_privacy_commands(
    demo_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = demo_store.data_dir
    with demo_store.begin() as session:
        info = registry.get(session, desk.context(session).event_id, demo_attendee_id(1))
    assert info is not None
    demo_store.close()
    out = tmp_path / "one.json"
    assert (
        cli.main(["--data", str(data), "privacy", "export", info.short_code, "--out", str(out)])
        == 0
    )
    assert json.loads(out.read_text())["attendee"]["family_name"] == info.family_name
    capsys.readouterr()
    assert cli.main(["--data", str(data), "backup"]) == 0
    assert cli.main(["--data", str(data), "privacy", "erase"]) == 1
    assert "--confirm" in capsys.readouterr().err
    assert cli.main(["--data", str(data), "privacy", "erase", "--confirm"]) == 0
    said = capsys.readouterr().out
    assert "130 attendee(s)" in said and "Deleted 1 older backup" in said
    # Not in the database, its log, or any backup: not even in free pages.
    needle = info.family_name.encode("utf-8")
    assert len(needle) >= 4
    files = [data / DB_NAME, *data.glob(f"{DB_NAME}-*"), *(data / "backups").iterdir()]
    assert files and all(needle not in f.read_bytes() for f in files)


# --- the signing key leaves the desk only encrypted -----------------------------------------


def test_keys_travel_encrypted_with_a_passphrase(
    demo_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import shutil

    from desktop.demo import DEMO_EVENT_ID
    from desktop.events import key_path

    here, there = tmp_path / "here", tmp_path / "there"
    shutil.copytree(demo_template, here)
    shutil.copytree(demo_template, there)
    key_file = key_path(here, DEMO_EVENT_ID, 1)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_bytes()
    key_path(there, DEMO_EVENT_ID, 1).unlink()  # the other desk has no key yet

    carried = tmp_path / "stick" / "key.json"
    carried.parent.mkdir()
    monkeypatch.setenv("EVENTDESK_PASSPHRASE", "short")
    assert cli.main(["--data", str(here), "keys", "export", str(carried)]) == 1
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.setenv("EVENTDESK_PASSPHRASE", "mabuhay manila 2024")
    assert cli.main(["--data", str(here), "keys", "export", str(carried)]) == 0
    assert stat.S_IMODE(carried.stat().st_mode) == 0o600
    text = carried.read_text()
    body = b"".join(pem.splitlines()[1:-1]).decode()
    assert "PRIVATE KEY" not in text and body[:40] not in text
    assert json.loads(text)["kdf"]["name"] == "scrypt"

    monkeypatch.setenv("EVENTDESK_PASSPHRASE", "wrong passphrase")
    assert cli.main(["--data", str(there), "keys", "import", str(carried)]) == 1
    assert "wrong passphrase" in capsys.readouterr().err
    assert not key_path(there, DEMO_EVENT_ID, 1).exists()
    monkeypatch.setenv("EVENTDESK_PASSPHRASE", "mabuhay manila 2024")
    assert cli.main(["--data", str(there), "keys", "import", str(carried)]) == 0
    installed = key_path(there, DEMO_EVENT_ID, 1)
    assert installed.read_bytes() == pem
    assert stat.S_IMODE(installed.stat().st_mode) == 0o600
    assert cli.main(["--data", str(there), "keys", "import", str(carried)]) == 0
    assert "already installed" in capsys.readouterr().out


def test_a_backup_never_holds_the_signing_key(demo_store: Store) -> None:
    from desktop import backup
    from desktop.events import key_path

    with demo_store.begin() as session:
        event_id = desk.context(session).event_id
    pem = key_path(demo_store.data_dir, event_id, 1).read_bytes()
    body = b"".join(pem.splitlines()[1:-1])
    made = backup.make_backup(demo_store.data_dir)
    assert body[:32] not in made.path.read_bytes()


@pytest.mark.parametrize("scope", ["person", "event"])
def test_the_reason_for_undoing_a_scan_is_erased_in_every_order(
    demo_template: Path, tmp_path: Path, scope: str
) -> None:
    """Scan, its undo (with a reason naming the person) and the erasure, arriving in every
    order: every desk blanks the reason, in its table and in its journal, and agrees."""
    import itertools
    import shutil

    person = demo_attendee_id(9)

    def opened(name: str) -> Store:
        folder = tmp_path / name
        shutil.copytree(demo_template, folder)
        store = open_store(folder)
        with store.begin() as session:
            desk.set_setting(session, "desk_id", f"desk-{name}")
        return store

    source = opened("source")
    try:
        ctx = _owner(source)
        with source.begin() as session:
            scan = _scan(session, ctx, person)
            undo = journal.record(
                session,
                ctx,
                "scan.void",
                {"scan_op_id": scan.op_id, "reason": "scanned Ana Lim's badge for her"},
            )
            if scope == "person":
                privacy.erase_attendee(session, ctx, person)
            else:
                privacy.erase_event(session, ctx, before_end=True)
        erase = next(op for op in _ops(source) if op.kind == "attendee.erase")
    finally:
        source.close()
    digests = set()
    for n, order in enumerate(itertools.permutations([scan, undo, erase])):
        store = opened(f"desk-{n}")
        try:
            with store.begin() as session:
                for op in order:
                    journal.apply(session, op)
            with store.begin() as session:
                assert session.scalars(select(ScanVoid.reason)).all() == [""], order
                copy = session.get(Operation, undo.op_id)
                assert copy is not None and "reason" not in copy.payload, order
                assert copy.payload["scan_op_id"] == scan.op_id
                digests.add(state_digest(session)["all"])
        finally:
            store.close()
    assert len(digests) == 1
