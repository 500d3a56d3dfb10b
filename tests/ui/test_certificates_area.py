"""The certificates area driven as staff use it: rules, eligibility, preview, generate, verify;
and a certificate's QR code scanned at the scan station."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest
from conftest_demo_helpers import venue
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from desktop import badgetokens, certificates, checkin, desk, permissions, registry
from desktop.checkin import DeskMode
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id, demo_session_id
from desktop.models import Operation, Scan
from desktop.operators import demo_operator_id
from desktop.store import Store
from desktop.ui import qt_certificates
from desktop.ui.qt_certificates import CertificatesPage
from desktop.ui.qt_checkin import CheckinPage
from desktop.ui.qt_main_window import MainWindow
from desktop.ui.qt_signin import DeskGuard
from desktop.ui.qt_worker import active_tasks

MANILA = ZoneInfo("Asia/Manila")
COUNTING = [
    ("opening", 28, 9, 5),
    ("session-1", 28, 10, 35),
    ("session-2", 28, 13, 35),
    ("session-3", 29, 9, 5),
    ("session-4", 29, 10, 50),
    ("closing", 29, 16, 35),
]


def attend(store: Store, index: int, every: bool = True) -> str:
    attendee_id = demo_attendee_id(index)
    with store.begin() as session:
        token = badgetokens.token_for(session, store.data_dir, DEMO_EVENT_ID, attendee_id)
        ctx = desk.context(session)
        for day in (28, 29) if every else (28,):
            checkin.scan(session, ctx, token, DeskMode("entrance"), at=venue(day, 8, 30))
        for key, day, hour, minute in COUNTING if every else COUNTING[:2]:
            mode = DeskMode("session", demo_session_id(key))
            assert checkin.scan(session, ctx, token, mode, at=venue(day, hour, minute)).admitted
    return attendee_id


@pytest.fixture
def demo(demo: Store) -> Store:
    """The shared demo store (conftest), set up for this module."""
    with demo.begin() as session:
        found = [
            n
            for n in range(40)
            if registry.get(session, DEMO_EVENT_ID, demo_attendee_id(n)).category  # type: ignore[union-attr]
            == "participant"
        ]
    demo.participants = found  # type: ignore[attr-defined]
    for n in found[:3]:
        attend(demo, n)
    attend(demo, found[3], every=False)
    return demo


@pytest.fixture
def page(qtbot: QtBot, demo: Store) -> Iterator[CertificatesPage]:
    widget = CertificatesPage(demo)
    qtbot.addWidget(widget)
    widget.resize(1300, 860)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.model.rowCount() == 130, timeout=20_000)
    yield widget
    qtbot.waitUntil(lambda: not active_tasks(), timeout=30_000)


def test_filter_search_explain_and_preview(
    qtbot: QtBot, qtmodeltester: object, page: CertificatesPage, demo: Store
) -> None:
    qtmodeltester.check(page.model)  # type: ignore[attr-defined]
    assert "75 %" in page.rules_line.text() and "every day" in page.rules_line.text()
    page.filter_combo.setCurrentText("Eligible")
    assert page.model.rowCount() == 3
    # Eligibility sits next to the name, in words and colour, on screen whatever the width.
    header = page.model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
    assert header == "Eligible"
    assert {page.model.index(r, 1).data() for r in range(3)} == {"Yes"}
    assert page.view.columnViewportPosition(1) < page.view.viewport().width()
    assert "3 of 130 eligible" in page.count_label.text()
    page.filter_combo.setCurrentText("Not eligible")
    assert page.model.rowCount() == 127
    page.filter_combo.setCurrentText("All")
    partial = demo_attendee_id(demo.participants[3])  # type: ignore[attr-defined]
    with demo.begin() as session:
        code = registry.get(session, DEMO_EVENT_ID, partial).short_code  # type: ignore[union-attr]
    shown: list[str] = []
    page.preview_shown.connect(shown.append)
    qtbot.keyClicks(page.search_field, code)
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)
    page.view.selectRow(0)
    assert page.selected is not None and page.selected.attendee_id == partial
    assert "not eligible: attended 2 of 6" in page.explanation.text()
    assert "missed: Session 2" in page.explanation.text()
    qtbot.waitUntil(lambda: partial in shown, timeout=20_000)
    image = page.preview.image()
    assert image is not None and image.width() > image.height()  # A4 landscape


def test_generate_merged_and_per_person_then_again_same_serials(
    qtbot: QtBot, page: CertificatesPage, demo: Store, tmp_path: Path
) -> None:
    page.output = str(tmp_path / "out")
    page.each_box.setChecked(True)
    with qtbot.waitSignal(page.generated, timeout=60_000) as first:
        qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    outcome = first.args[0]
    assert not outcome.cancelled and len(outcome.batch.records) == 3
    merged = tmp_path / "out" / "certificates.pdf"
    assert len(pypdf.PdfReader(merged).pages) == 3
    assert len(list((tmp_path / "out" / "each").glob("*.pdf"))) == 3
    serials = [r.serial for r in outcome.batch.records]
    qtbot.waitUntil(lambda: not active_tasks(), timeout=30_000)
    with qtbot.waitSignal(page.generated, timeout=60_000) as second:
        page.generate()
    assert [r.serial for r in second.args[0].batch.records] == serials
    assert (second.args[0].batch.issued, second.args[0].batch.reissued) == (0, 0)
    qtbot.waitUntil(lambda: page.model.rowCount() == 130 and not active_tasks(), timeout=30_000)
    page.filter_combo.setCurrentText("Eligible")
    assert {page.model.row_at(r).certificate.serial for r in range(3)} == set(serials)


def test_supervisor_overrides_but_may_not_issue(
    qtbot: QtBot, page: CertificatesPage, demo: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo.begin() as session:
        desk.set_setting(session, "operator_id", demo_operator_id("supervisor"))
    page.apply_permissions(permissions.actions_for("supervisor"))
    assert not page.generate_button.isEnabled() and not page.save_button.isEnabled()
    assert page.override_button.isVisibleTo(page) and not page.revoke_button.isVisibleTo(page)
    answers: list[str] = []

    def decide(
        parent: QWidget,
        name: str,
        summary: str,
        on_done: Callable[[tuple[bool | None, str] | None], None],
    ) -> None:
        answers.append(f"{name}: {summary}")
        on_done((True, "followed the sessions online, approved by the director"))

    monkeypatch.setattr(qt_certificates, "ask_override", decide)
    partial = demo_attendee_id(demo.participants[3])  # type: ignore[attr-defined]
    ids = [page.model.row_at(r).attendee_id for r in range(page.model.rowCount())]
    page.view.selectRow(ids.index(partial))
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        qtbot.mouseClick(page.override_button, Qt.MouseButton.LeftButton)
    assert answers and "not eligible" in answers[0]
    page.filter_combo.setCurrentText("Overridden")
    assert page.model.rowCount() == 1
    row = page.model.row_at(0)
    assert row.eligible and row.override is not None and row.override.operator == "Marco Santos"
    # The services refuse issuing to a supervisor even if the button were pressed.
    page.generate_button.setEnabled(True)
    page.generate()
    qtbot.waitUntil(lambda: "administrator" in page.notice.text(), timeout=20_000)


def test_rules_tab_saves_and_eligibility_follows(qtbot: QtBot, page: CertificatesPage) -> None:
    page.tabs.setCurrentIndex(1)
    page.day_box.setChecked(False)
    page.percent_spin.setValue(30)
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert "30 %" in page.rules_line.text()
    page.filter_combo.setCurrentText("Eligible")
    assert page.model.rowCount() == 4  # the one who came on the first day only now counts
    # Four signatories cannot be entered; a fourth row does not exist.
    assert len(page.signatory_rows) == certificates.MAX_SIGNATORIES == 3


def test_verify_tab_tells_genuine_from_forged(
    qtbot: QtBot, page: CertificatesPage, demo: Store
) -> None:
    with demo.begin() as session:
        batch = certificates.issue(
            session, permissions.as_owner(desk.context(session)), demo.data_dir
        )
    token = batch.records[0].token
    page.tabs.setCurrentIndex(2)
    with qtbot.waitSignal(page.verified, timeout=10_000) as checked:
        qtbot.keyClicks(page.verify_field, token)
        qtbot.keyClick(page.verify_field, Qt.Key.Key_Return)
    assert checked.args[0].genuine
    assert page.verdict_card.headline.text() == "GENUINE CERTIFICATE"
    assert batch.records[0].name in page.verdict_card.name.text()
    assert "in force, not revoked" in page.verdict_details.text()
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    with qtbot.waitSignal(page.verified, timeout=10_000) as refused:
        qtbot.keyClicks(page.verify_field, forged)
        qtbot.keyClick(page.verify_field, Qt.Key.Key_Return)
    assert refused.args[0].status in ("forged", "invalid")
    assert page.verdict_card.headline.text() in ("FORGED CERTIFICATE", "NOT A CERTIFICATE")


def test_scan_station_shows_a_certificate_check_and_records_no_scan(
    qtbot: QtBot, demo: Store
) -> None:
    with demo.begin() as session:
        batch = certificates.issue(
            session, permissions.as_owner(desk.context(session)), demo.data_dir
        )
        scans = session.scalar(select(func.count()).select_from(Scan))
    station = CheckinPage(demo)
    qtbot.addWidget(station)
    station.resize(1200, 800)
    station.show()
    qtbot.waitExposed(station)
    qtbot.keyClicks(station.scan_field, batch.records[0].token)
    qtbot.keyClick(station.scan_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: station.card.headline.text() == "GENUINE CERTIFICATE", timeout=10_000)
    assert batch.records[0].name in station.card.name.text()
    assert station.pending == 0
    qtbot.waitUntil(lambda: not active_tasks(), timeout=20_000)
    with demo.begin() as session:
        assert session.scalar(select(func.count()).select_from(Scan)) == scans


def test_area_in_the_window_follows_the_role(qtbot: QtBot, demo: Store) -> None:
    settings = QSettings(str(demo.data_dir / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(demo, settings)
    qtbot.addWidget(window)
    guard = DeskGuard(window, demo, settings)
    window.show()
    qtbot.waitExposed(window)
    row = window.area_keys().index("certificates")
    for pin, hidden in (("1111", True), ("2222", False), ("9999", False)):
        qtbot.keyClicks(guard.lock_screen.pad.field, pin)
        qtbot.keyClick(guard.lock_screen.pad.field, Qt.Key.Key_Return)
        assert window.navigation.item(row).isHidden() is hidden
        guard.lock()
    qtbot.waitUntil(lambda: not active_tasks(), timeout=30_000)


def test_standings_are_worked_out_when_the_area_is_first_shown_and_once(
    qtbot: QtBot, demo: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[int] = []
    real_load = qt_certificates._load_job

    def counting_load(store: Store) -> qt_certificates.Loaded:
        loads.append(1)
        return real_load(store)

    monkeypatch.setattr(qt_certificates, "_load_job", counting_load)
    settings = QSettings(str(demo.data_dir / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(demo, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not active_tasks(), timeout=30_000)
    page = window.page("certificates")
    assert isinstance(page, CertificatesPage)
    assert loads == [] and page.model.rowCount() == 0  # the desk started on another area
    window.show_area("certificates")
    qtbot.waitUntil(lambda: page.model.rowCount() == 130, timeout=20_000)
    qtbot.waitUntil(lambda: not active_tasks(), timeout=30_000)
    assert loads == [1]  # the window's refresh and the first showing made one load


def test_a_chosen_signature_is_kept_with_the_event_and_shown_so(
    qtbot: QtBot, page: CertificatesPage, demo: Store, tmp_path: Path
) -> None:
    from PIL import Image

    picture = tmp_path / "signature.png"
    Image.new("RGB", (200, 60), "white").save(picture)
    page.tabs.setCurrentIndex(1)
    _name, _title, signature = page.signatory_rows[0]
    signature.clear()
    qtbot.keyClicks(signature, str(picture))
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    with demo.begin() as session:
        kept = certificates.load_settings(session, DEMO_EVENT_ID).signatories[0].signature
        operations = session.scalar(select(func.count()).select_from(Operation))
    assert kept.startswith("picture:")
    assert signature.text() == f"picture kept · {kept[8:16]}"
    # Saved again as shown: the same picture, nothing recorded.
    page.percent_spin.setValue(page.percent_spin.value())
    with qtbot.waitSignal(page.loaded, timeout=20_000):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    with demo.begin() as session:
        assert certificates.load_settings(session, DEMO_EVENT_ID).signatories[0].signature == kept
        assert session.scalar(select(func.count()).select_from(Operation)) == operations
