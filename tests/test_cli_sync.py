"""The sync commands as a person types them: hub set-up, join, sync, files, kits, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pg
import pytest

from desktop import desk, registry
from desktop.cli import main
from desktop.store import open_store

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server() -> None:
    pg.require_desk_passwords()


@pytest.fixture
def hub(server: None) -> Iterator[str]:
    """The superuser URL of a fresh database (no hub schema yet)."""
    with pg.fresh_database() as url:
        yield url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def desk_url(capsys: pytest.CaptureFixture[str], hub: str, label: str) -> str:
    code, out, _ = run(capsys, "hub", "desk", hub, pg.desk_name(hub, label))
    assert code == 0
    return out.strip()


def test_hub_init_and_desk_logins(capsys: pytest.CaptureFixture[str], hub: str) -> None:
    code, out, err = run(capsys, "hub", "desk", hub, "door")
    assert code == 1
    assert err == "eventdesk: hub is not initialised (run eventdesk hub init)\n"
    for _ in range(2):  # safe to repeat
        code, out, _ = run(capsys, "hub", "init", hub)
        assert code == 0
        assert out.startswith(f"Hub ready at 127.0.0.1:5432/{hub.rsplit('/', 1)[1]}.")
    name = pg.desk_name(hub, "Door 1")
    code, out, err = run(capsys, "hub", "desk", hub, name)
    assert code == 0
    assert len(out.splitlines()) == 1  # only the URL on stdout, for scripts
    assert out.startswith("postgresql://eventdesk_desk_door_1_")
    assert "created" in err and "renewed" not in err
    code, again, err = run(capsys, "hub", "desk", hub, name, "--json")
    assert code == 0
    login = json.loads(again)
    assert login["renewed"] is True
    assert login["url"] != out.strip()
    assert "password was renewed" in err
    assert "old connection URL no longer works" in err
    code, _, err = run(capsys, "hub", "desk", hub, "!!!")
    assert code == 2
    assert "letter or digit" in err
    code, _, err = run(capsys, "hub", "init", "http://example.org/db")
    assert code == 1
    assert err.startswith("eventdesk: a hub address starts with postgresql://")


def test_join_sync_and_see_the_other_desks_change(
    capsys: pytest.CaptureFixture[str], hub: str, tmp_path: Path
) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert run(capsys, "hub", "init", hub)[0] == 0
    a_url, b_url = desk_url(capsys, hub, "a"), desk_url(capsys, hub, "b")
    assert run(capsys, "--data", a, "demo")[0] == 0

    code, out, err = run(capsys, "--data", a, "sync")
    assert code == 1
    assert err == "eventdesk: no hub configured for this desk: give --hub URL\n"
    code, out, _ = run(capsys, "--data", a, "sync", "--hub", a_url)
    assert code == 0
    assert out.startswith(f"Hub 127.0.0.1:5432/{hub.rsplit('/', 1)[1]}: sent ")
    assert out.rstrip().endswith("0 waiting")

    code, out, _ = run(capsys, "--data", b, "join", "--hub", b_url)
    assert code == 0
    assert out.startswith("Joined 'Conference on Open Innovation in the Public Sector' (")

    store = open_store(Path(a))
    with store.begin() as session:
        ctx = desk.context(session)
        person = registry.list_attendees(session, ctx.event_id)[0]
        registry.update(session, ctx, person.id, {"organisation": "Changed at desk A"})
    store.close()
    code, out, _ = run(capsys, "--data", a, "sync", "--json")  # the URL was remembered
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    assert report["pushed"] == 1
    assert report["applied"] == 1  # B's desk name
    assert report["waiting"] == 0
    code, out, _ = run(capsys, "--data", b, "sync", "--json")
    assert json.loads(out)["applied"] == 1
    code, out, _ = run(capsys, "--data", b, "attendees", "--json")
    changed = next(p for p in json.loads(out) if p["id"] == person.id)
    assert changed["organisation"] == "Changed at desk A"
    digests = [json.loads(run(capsys, "--data", d, "digest", "--json")[1]) for d in (a, b)]
    assert digests[0] == digests[1]

    code, out, _ = run(capsys, "--data", b, "sync", "--status")
    assert code == 0
    assert out.startswith("Sync: online · 0 waiting · last sync ")
    code, out, _ = run(capsys, "--data", b, "sync", "--status", "--json")
    status = json.loads(out)
    assert status["state"] == "online"
    assert status["hub"] == f"127.0.0.1:5432/{hub.rsplit('/', 1)[1]}"
    assert "password" not in out and b_url.split("@")[0] not in out

    wrong = b_url.replace(b_url.split("@")[0].split(":")[-1], "wrong-password")
    code, out, err = run(capsys, "--data", b, "sync", "--hub", wrong)
    assert code == 1
    assert err == "eventdesk: sync stopped: hub refused the password\n"
    assert "stopped: hub refused the password" in out
    code, out, _ = run(capsys, "--data", b, "sync", "--status")
    assert out.startswith("Sync: hub refused this desk · 0 waiting · last sync ")
    assert out.splitlines()[0].endswith(" · hub refused the password")
    assert "last problem at " in out


def test_ops_files_and_kits_on_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = (str(tmp_path / n) for n in "abc")
    assert run(capsys, "--data", a, "demo")[0] == 0
    ops = tmp_path / "event.edops"
    code, out, _ = run(capsys, "--data", a, "ops", "export", str(ops))
    assert code == 0
    count = int(out.split()[0])
    assert count > 100
    code, out, _ = run(capsys, "--data", b, "ops", "import", str(ops))
    assert code == 0
    assert out == f"{count} operation(s) read from event.edops, {count} new (0 already here)\n"
    code, out, _ = run(capsys, "--data", b, "ops", "import", str(ops), "--json")
    assert json.loads(out)["applied"] == 0
    cut = tmp_path / "cut.edops"
    cut.write_bytes(ops.read_bytes()[:-30])
    code, out, err = run(capsys, "--data", c, "ops", "import", str(cut))
    assert code == 1
    assert err.startswith("eventdesk: cut.edops is incomplete")
    assert len(err.splitlines()) == 1 and "Traceback" not in err

    kit = tmp_path / "door.edkit"
    monkeypatch.delenv("EVENTDESK_PASSPHRASE", raising=False)
    code, _, err = run(capsys, "--data", a, "kit", "export", str(kit), "--with-signing-key")
    assert code == 1
    assert "set EVENTDESK_PASSPHRASE" in err
    assert not kit.exists()
    monkeypatch.setenv("EVENTDESK_PASSPHRASE", "sturdy passphrase")
    code, out, _ = run(capsys, "--data", a, "kit", "export", str(kit), "--with-signing-key")
    assert code == 0
    assert "with the signing key" in out
    code, out, _ = run(capsys, "--data", c, "join", "--kit", str(kit))
    assert code == 0
    assert out.rstrip().endswith("; signing key saved.")
    monkeypatch.setenv("EVENTDESK_PASSPHRASE", "not the passphrase")
    code, _, err = run(capsys, "--data", str(tmp_path / "d"), "join", "--kit", str(kit))
    assert code == 1
    assert err.startswith("eventdesk: wrong passphrase")
    code, out, err = run(
        capsys, "--data", str(tmp_path / "d"), "join", "--kit", str(kit), "--no-signing-key"
    )
    assert code == 0
    assert "signing key saved" not in out
    assert "left out" in err
    code, _, err = run(capsys, "--data", c, "ops", "import", str(kit))
    assert code == 1
    assert "is a desk kit" in err


def test_the_installed_command_runs_without_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "desktop", "--data", str(tmp_path / "x"), "sync", "--status"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("eventdesk: no EventDesk database in")
    assert "Traceback" not in done.stderr
