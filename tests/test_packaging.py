"""The frozen application: build the Linux one-folder bundle once, then use it as a desk would.

The bundle is built from the current sources into build/package (about 30 s on two cores) and
run with a clean environment (no virtualenv, no source tree on the path, HOME in tmp_path).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the smoke test builds the Linux bundle"
)

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "package"
RUN_TIMEOUT = 180
# Qt modules and plugins the spec leaves out; any of these in the bundle means it grew back.
UNWANTED_NAMES = ("WebEngine", "Qt63D", "Qt6Designer", "virtualkeyboard", "qgtk3", "qeglfs")


def _environment(home: Path) -> dict[str, str]:
    # Only what a desktop session has: nothing from the virtualenv or the source tree.
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


class Frozen:
    """The built bundle and a way to run its program."""

    def __init__(self, folder: Path, home: Path) -> None:
        self.folder = folder
        self.exe = folder / "eventdesk"
        self.home = home
        self.before = _files(folder)

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run the frozen program with ``args``; returns the finished process."""
        return subprocess.run(
            [str(self.exe), *args],
            cwd=cwd or self.home,
            env=_environment(self.home),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run and insist on exit code 0 and no traceback."""
        done = self.run(*args)
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stderr[-3000:]}"
        assert "Traceback" not in done.stderr
        return done


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Frozen]:
    """Build the bundle with PyInstaller from the spec, once for this module."""
    shutil.rmtree(BUILD, ignore_errors=True)
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
        "--distpath", str(BUILD / "dist"), "--workpath", str(BUILD / "work"),
        str(ROOT / "packaging" / "eventdesk.spec"),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "EVENTDESK_DATA"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"PyInstaller failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
    home = tmp_path_factory.mktemp("home")
    yield Frozen(BUILD / "dist" / "eventdesk", home)


@pytest.fixture(scope="module")
def demo_data(frozen: Frozen) -> Path:
    """A data folder where the frozen program created the demo event."""
    data = frozen.home / "demo-data"
    done = frozen.ok("--data", str(data), "demo")
    assert "130 attendees" in done.stdout
    return data


def test_bundle_holds_every_resource_and_migration(frozen: Frozen) -> None:
    internal = frozen.folder / "_internal"
    assert os.access(frozen.exe, os.X_OK)
    for source, dest in ((ROOT / "resources", "resources"), (ROOT / "db", "db")):
        wanted = {
            p.relative_to(source)
            for p in source.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.name != "__init__.py"
        }
        bundled = {p.relative_to(internal / dest) for p in (internal / dest).rglob("*")}
        assert wanted <= bundled, f"missing from the bundle: {sorted(wanted - bundled)[:5]}"
    assert (frozen.folder / "install.sh").is_file()
    assert (frozen.folder / "eventdesk.desktop").is_file()


def test_bundle_leaves_out_unused_qt(frozen: Frozen) -> None:
    names = [p.name for p in frozen.folder.rglob("*")]
    unwanted = [n for n in names if any(word in n for word in UNWANTED_NAMES)]
    assert unwanted == []
    internal = frozen.folder / "_internal"
    assert not (internal / "PySide6" / "Qt" / "translations").exists()
    assert not (internal / "pycountry" / "locales").exists()
    # Kept on purpose: printing and sounds need these.
    qt_libs = {p.name.split(".so")[0] for p in (internal / "PySide6" / "Qt" / "lib").iterdir()}
    assert {"libQt6Pdf", "libQt6Multimedia", "libQt6Widgets"} <= qt_libs


def test_self_test_passes_on_a_new_data_folder(frozen: Frozen) -> None:
    from desktop.store import head_revision

    done = frozen.ok("--data", str(frozen.home / "fresh"), "self-test", "--json")
    report = json.loads(done.stdout)
    assert report["ok"] is True
    checks = {c["name"]: c for c in report["checks"]}
    # Every migration of the source tree is in the bundle: the frozen head is the same.
    assert checks["migrations"]["detail"] == head_revision()
    assert checks["database"]["ok"] is True


def test_data_goes_to_the_users_data_folder_by_default(frozen: Frozen) -> None:
    done = frozen.ok("self-test", "--json")
    database = {c["name"]: c for c in json.loads(done.stdout)["checks"]}["database"]
    expected = frozen.home / ".local" / "share" / "EventDesk" / "eventdesk.sqlite3"
    assert str(expected) in database["detail"]
    assert expected.is_file()


def test_attendees_of_the_demo(frozen: Frozen, demo_data: Path) -> None:
    done = frozen.ok("--data", str(demo_data), "attendees", "--json")
    people = json.loads(done.stdout)
    assert len(people) == 130
    assert all(p["short_code"] and len(p["country"]) == 2 for p in people)


def test_window_screenshot(frozen: Frozen, demo_data: Path) -> None:
    out = frozen.home / "shots" / "window.png"
    frozen.ok("--data", str(demo_data), "gui", "--demo", "--screenshot", str(out))
    assert out.stat().st_size > 20_000
    with Image.open(out) as image:
        assert image.size == (1400, 900)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 100, "the window rendered as a flat image"


def test_badges_pdf(frozen: Frozen, demo_data: Path) -> None:
    if frozen.run("badges", "--help").returncode != 0:
        pytest.skip("this build has no `badges` command yet (the badges issue is in progress)")
    out = frozen.home / "badges.pdf"
    frozen.ok("--data", str(demo_data), "badges", "--out", str(out))
    from pypdf import PdfReader

    assert len(PdfReader(out).pages) >= 1
    if shutil.which("pdftoppm"):
        import zxingcpp

        prefix = str(out.with_suffix(""))
        subprocess.run(["pdftoppm", "-r", "150", "-l", "1", "-png", str(out), prefix], check=True)
        page = next(frozen.home.glob("badges-*1.png"))
        with Image.open(page) as image:
            texts = [r.text for r in zxingcpp.read_barcodes(image)]
        assert any(t.startswith("EVD1") for t in texts), texts


def test_benchmarks_are_bundled(frozen: Frozen) -> None:
    done = frozen.ok("bench", "--quick", "--only", "lookup_by_id", "--json")
    assert json.loads(done.stdout)["metrics"]


@pytest.mark.postgres
def test_sync_with_a_real_hub(frozen: Frozen, demo_data: Path, tmp_path: Path) -> None:
    # The PostgreSQL driver (psycopg with its bundled libpq) works inside the bundle.
    import pg

    desk = tmp_path / "desk"
    shutil.copytree(demo_data, desk)
    with pg.fresh_database() as url:
        frozen.ok("hub", "init", url)
        report = json.loads(frozen.ok("--data", str(desk), "sync", "--hub", url, "--json").stdout)
    assert report["ok"] is True
    assert report["pushed"] > 0 and report["waiting"] == 0


def test_a_mistake_is_one_line(frozen: Frozen) -> None:
    not_a_folder = frozen.home / "notes.txt"
    not_a_folder.write_text("not a data folder\n")
    done = frozen.run("--data", str(not_a_folder), "attendees")
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("eventdesk: ")


def test_linux_per_user_install(frozen: Frozen, tmp_path: Path) -> None:
    env = _environment(tmp_path)
    installer = frozen.folder / "install.sh"
    subprocess.run(["sh", str(installer)], env=env, check=True, capture_output=True, timeout=120)
    app = tmp_path / ".local" / "lib" / "eventdesk"
    command = tmp_path / ".local" / "bin" / "eventdesk"
    entry = tmp_path / ".local" / "share" / "applications" / "eventdesk.desktop"
    assert command.is_symlink() and entry.is_file()
    assert f'Exec="{app}/eventdesk" gui' in entry.read_text().splitlines()
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(entry)], check=True)
    icons = tmp_path / ".local" / "share" / "icons" / "hicolor"
    assert (icons / "48x48" / "apps" / "eventdesk.png").is_file()
    assert (icons / "scalable" / "apps" / "eventdesk.svg").is_file()

    # The command on PATH (a symlink) finds its bundle and keeps data in the user's folder.
    done = subprocess.run(
        [str(command), "self-test"], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    data = tmp_path / ".local" / "share" / "EventDesk"
    assert (data / "eventdesk.sqlite3").is_file()

    subprocess.run(["sh", str(app / "install.sh"), "--uninstall"], env=env, check=True, timeout=60)
    assert not app.exists() and not command.exists() and not entry.exists()
    assert (data / "eventdesk.sqlite3").is_file(), "uninstalling must keep the data"


def test_icons_are_generated_deterministically(tmp_path: Path) -> None:
    script = ROOT / "packaging" / "make_icons.py"
    for name in ("a", "b"):
        subprocess.run([sys.executable, str(script), "--out", str(tmp_path / name)], check=True)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first.keys() == second.keys()
    for name in first:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    # The committed icons are the script's output (pixels compared: zlib may differ by version).
    committed = ROOT / "resources" / "icons"
    assert (committed / "eventdesk.svg").read_text() == (
        tmp_path / "a" / "eventdesk.svg"
    ).read_text()
    for size in (16, 48, 256):
        with (
            Image.open(committed / f"eventdesk-{size}.png") as old,
            Image.open(tmp_path / "a" / f"eventdesk-{size}.png") as new,
        ):
            assert old.size == new.size == (size, size)
            old_bytes, new_bytes = old.convert("RGBA").tobytes(), new.convert("RGBA").tobytes()
        assert max(abs(a - b) for a, b in zip(old_bytes, new_bytes, strict=True)) <= 8
    with Image.open(ROOT / "packaging" / "eventdesk.ico") as ico:
        assert {(16, 16), (32, 32), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(ROOT / "packaging" / "eventdesk.icns") as icns:
        assert icns.size == (1024, 1024)


def test_running_never_writes_into_the_bundle(frozen: Frozen) -> None:
    # Runs last in this module: an install folder may be read-only for the person at the desk.
    assert _files(frozen.folder) == frozen.before
