"""The Sync area and its background worker, driven as a person would, against a real hub."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pg
import psycopg
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from desktop import desk, digest, events, registry, sync
from desktop.hub import create_desk_login, init_hub
from desktop.store import Store, open_store
from desktop.ui import qt_sync
from desktop.ui.qt_main_window import MainWindow
from desktop.ui.qt_sync import SyncController, SyncPage
from desktop.ui.qt_worker import active_tasks, shutdown_tasks

pytestmark = pytest.mark.postgres
WAIT_MS = 20_000  # a safety net against a hang, never a timing claim


@pytest.fixture(scope="module")
def server() -> None:
    pg.require_desk_passwords()


@pytest.fixture
def hub(server: None) -> Iterator[str]:
    with pg.fresh_database() as url:
        init_hub(url)
        yield url


@pytest.fixture(autouse=True)
def no_leftover_tasks(qtbot: QtBot) -> Iterator[None]:
    yield
    assert shutdown_tasks(10_000)
    qtbot.waitUntil(lambda: not active_tasks(), timeout=WAIT_MS)


def login(hub: str, label: str) -> str:
    return create_desk_login(hub, pg.desk_name(hub, label)).url


def hub_rows(hub: str) -> int:
    with psycopg.connect(hub) as conn:
        row = conn.execute("SELECT count(*) FROM ops").fetchone()
    assert row is not None
    return int(row[0])


def window_for(qtbot: QtBot, store: Store) -> MainWindow:
    settings = QSettings(str(store.data_dir / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def open_sync_area(qtbot: QtBot, window: MainWindow) -> SyncPage:
    nav = window.navigation
    row = window.area_keys().index("sync")
    rect = nav.visualItemRect(nav.item(row))
    qtbot.mouseClick(nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    page = window.pages.currentWidget()
    assert isinstance(page, SyncPage)
    return page


def test_a_person_sets_the_hub_and_the_status_bar_follows(
    qtbot: QtBot, hub: str, demo_store: Store
) -> None:
    window = window_for(qtbot, demo_store)
    page = open_sync_area(qtbot, window)
    controller = page.controller
    qtbot.waitUntil(lambda: controller.status is not None, timeout=WAIT_MS)
    assert window.status_sync.text().startswith("Sync: no hub configured · ")
    assert not page.sync_button.isEnabled()

    url = login(hub, "door")
    assert page.hub_field.echoMode() == QLineEdit.EchoMode.Password
    qtbot.keyClicks(page.hub_field, url)
    with qtbot.waitSignal(controller.sync_finished, timeout=WAIT_MS) as finished:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    report = finished.args[0]
    assert report.ok
    assert report.pushed == hub_rows(hub) > 100
    qtbot.waitUntil(lambda: window.status_sync.text().startswith("Sync: online · 0 waiting"))
    assert "last sync " in window.status_sync.text()
    assert page.state_label.text() == "Online"
    assert page.hub_field.text() == ""  # the password does not stay on screen
    password = url.split("@")[0].split(":")[-1]
    for text in (window.status_sync.text(), page.hub_label.text(), page.message_label.text()):
        assert password not in text
    assert page.hub_label.text() == f"Syncing with the hub at {sync.hub_label(url)}"
    with demo_store.begin() as session:
        assert sync.hub_url(session) == url

    # A change made here (by another area) is noticed and sent without being asked for.
    with demo_store.begin() as session:
        ctx = desk.context(session)
        person = registry.list_attendees(session, ctx.event_id)[0]
        registry.update(session, ctx, person.id, {"organisation": "Changed in the app"})
    with qtbot.waitSignal(
        controller.sync_finished, timeout=WAIT_MS, check_params_cb=lambda r: r.pushed == 1
    ):
        pass
    assert "sent 1" in page.round_label.text()


def test_unreachable_hub_backs_off_and_never_blocks(
    qtbot: QtBot, hub: str, demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[bool] = []
    real_round = sync.sync_round

    def watched(*args: Any, **kwargs: Any) -> sync.SyncReport:
        threads.append(threading.current_thread() is threading.main_thread())
        return real_round(*args, **kwargs)

    monkeypatch.setattr(sync, "sync_round", watched)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = f"postgresql://x:y@127.0.0.1:{port}/hub"
    with demo_store.begin() as session:
        sync.set_hub_url(session, dead)
    controller = SyncController(
        demo_store, interval_s=600, poll_s=0.05, first_backoff_s=0.1, max_backoff_s=0.4
    )
    page = SyncPage(demo_store, controller=controller)
    qtbot.addWidget(page)
    waits: list[float] = []
    controller.sync_finished.connect(lambda _r: waits.append(controller.backoff_s()))
    controller.start()
    qtbot.waitUntil(lambda: len(waits) >= 5, timeout=WAIT_MS)
    assert waits[:5] == [0.1, 0.2, 0.4, 0.4, 0.4]
    assert threads and not any(threads)  # every round ran off the GUI thread
    status = controller.status
    assert status is not None and status.state == sync.OFFLINE
    assert page.state_label.text() == "Offline"
    assert f"hub not reachable at 127.0.0.1:{port} (connection refused)" in (
        page.detail_label.text()
    )
    assert status.status_line().startswith("Sync: offline · ")
    assert status.status_line().endswith(
        f" · hub not reachable at 127.0.0.1:{port} (connection refused)"
    )
    # While waiting out the backoff, a local change does not hammer the dead hub.
    due = controller._due
    controller.local_change()
    assert controller._due == due

    # The network comes back: "Sync now" tries at once and the waiting ends.
    url = login(hub, "back")
    with demo_store.begin() as session:
        sync.set_hub_url(session, url)
    controller.use_url(url)
    with qtbot.waitSignal(
        controller.sync_finished, timeout=WAIT_MS, check_params_cb=lambda r: r.ok
    ):
        qtbot.mouseClick(page.sync_button, Qt.MouseButton.LeftButton)
    assert controller.failures == 0
    assert controller.backoff_s() == 0
    qtbot.waitUntil(lambda: page.state_label.text() == "Online")
    controller.stop()


def test_a_local_change_is_sent_soon(qtbot: QtBot, hub: str, demo_store: Store) -> None:
    with demo_store.begin() as session:
        sync.set_hub_url(session, login(hub, "soon"))
    controller = SyncController(demo_store, interval_s=600, poll_s=0.05, debounce_s=0.05)
    qtbot.addWidget(page := SyncPage(demo_store, controller=controller))
    with qtbot.waitSignal(controller.sync_finished, timeout=WAIT_MS):
        controller.start()
    assert controller.seconds_to_next_round() > 60  # nothing else would come for minutes
    with demo_store.begin() as session:
        ctx = desk.context(session)
        person = registry.list_attendees(session, ctx.event_id)[1]
        registry.update(session, ctx, person.id, {"position": "Director"})
    with qtbot.waitSignal(controller.sync_finished, timeout=WAIT_MS) as sent:
        qt_sync.notify_local_change(page)
    assert sent.args[0].pushed == 1
    controller.stop()


def test_files_kits_and_fingerprint_from_the_page(
    qtbot: QtBot, demo_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picks: list[Path] = []
    monkeypatch.setattr(
        qt_sync, "choose_file", lambda _p, _t, _s, _f, on_chosen: on_chosen(picks.pop(0))
    )
    monkeypatch.setattr(
        qt_sync, "ask_passphrase", lambda _p, _t, on_given: on_given("long enough phrase")
    )
    page = SyncPage(demo_store, controller=SyncController(demo_store))
    qtbot.addWidget(page)
    page.show()

    with demo_store.begin() as session:
        expected = digest.state_digest(session)["all"]
    page.refresh_digest()
    qtbot.waitUntil(lambda: page.digest_label.text() != "—", timeout=WAIT_MS)
    assert page.digest_label.text() == " ".join(expected[i : i + 4] for i in range(0, 16, 4))
    assert expected in page.digest_label.toolTip()

    ops = tmp_path / "event.edops"
    picks.append(ops)
    qtbot.mouseClick(page.export_ops_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "written to" in page.message_label.text(), timeout=WAIT_MS)
    assert ops.exists()
    picks.append(ops)
    qtbot.mouseClick(page.import_ops_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "already here" in page.message_label.text(), timeout=WAIT_MS)
    assert ": 0 new," in page.message_label.text()

    kit = tmp_path / "door.edkit"
    picks.append(kit)
    qtbot.keyClick(page.with_key_check, Qt.Key.Key_Space)
    assert page.with_key_check.isChecked()
    qtbot.mouseClick(page.export_kit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Desk kit written" in page.message_label.text(), timeout=WAIT_MS)
    assert "with the signing key" in page.message_label.text()

    # A new desk joins from the kit on its own Sync page.
    newcomer = open_store(tmp_path / "newcomer")
    try:
        other = SyncPage(newcomer, controller=SyncController(newcomer))
        qtbot.addWidget(other)
        picks.append(kit)
        qtbot.mouseClick(other.join_kit_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Joined" in other.message_label.text(), timeout=WAIT_MS)
        assert "The signing key was saved." in other.message_label.text()
        with newcomer.begin() as session:
            event_id = desk.current_event_id(session)
            assert event_id is not None
            assert events.key_path(newcomer.data_dir, event_id, 1).exists()
        # A damaged file is refused in words, on the page.
        broken = tmp_path / "broken.edops"
        broken.write_bytes(ops.read_bytes()[:100])
        picks.append(broken)
        qtbot.mouseClick(other.import_ops_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "broken.edops" in other.message_label.text(), timeout=WAIT_MS)
        assert "incomplete" in other.message_label.text() or "damaged" in other.message_label.text()
    finally:
        qtbot.waitUntil(lambda: not active_tasks(), timeout=WAIT_MS)
        newcomer.close()


def test_a_new_desk_joins_from_the_hub_on_the_page(
    qtbot: QtBot, hub: str, demo_store: Store, tmp_path: Path
) -> None:
    assert sync.sync_once(demo_store, login(hub, "org")).ok
    newcomer = open_store(tmp_path / "newcomer")
    try:
        controller = SyncController(newcomer)
        page = SyncPage(newcomer, controller=controller)
        qtbot.addWidget(page)
        url = login(hub, "new")
        qtbot.keyClicks(page.hub_field, url)
        assert page.desk_name_field.text().startswith("Desk ")  # this desk's own, to change
        page.desk_name_field.clear()
        qtbot.keyClicks(page.desk_name_field, "Entrance 2")
        qtbot.mouseClick(page.join_hub_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Joined" in page.message_label.text(), timeout=WAIT_MS)
        assert "Conference on Open Innovation" in page.message_label.text()
        assert controller.configured
        with newcomer.begin() as session, demo_store.begin() as organiser:
            assert sync.hub_url(session) == url
            assert (
                len(registry.list_attendees(session, desk.current_event_id(session) or "")) == 130
            )
            assert desk.desk_name(session) == "Entrance 2"
            ours = digest.state_digest(session)["tables"]["attendees"]
            theirs = digest.state_digest(organiser)["tables"]["attendees"]
            assert ours == theirs
    finally:
        qtbot.waitUntil(lambda: not active_tasks(), timeout=WAIT_MS)
        newcomer.close()
