"""The badges area driven as desk staff use it: search, preview, print, reprint, queue.

Printing that succeeds needs a real printer and is in test_printing_cups.py; here the
printer is missing (as when it is unplugged), which is what the retry queue is for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop import badges, desk, registry
from desktop.badges import BadgeFilter, PrinterSettings
from desktop.demo import DEMO_EVENT_ID
from desktop.models import Attendee, Operation
from desktop.operators import demo_operator_id
from desktop.store import Store
from desktop.ui import qt_badges
from desktop.ui.qt_badges import BadgesPage, PrinterSettingsDialog
from desktop.ui.qt_main_window import MainWindow
from desktop.ui.qt_printing import JobOutcome, PrinterChoice, choose_dpi
from desktop.ui.qt_worker import active_tasks

MISSING = "Badge printer that is not there"


@pytest.fixture
def page(qtbot: QtBot, demo: Store) -> Iterator[BadgesPage]:
    widget = BadgesPage(demo)
    qtbot.addWidget(widget)
    widget.resize(1300, 860)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    qtbot.waitUntil(lambda: not active_tasks(), timeout=20_000)


class Reasons:
    """Stands in for the reason dialog: records the prompts, answers with ``answer``."""

    def __init__(self, answer: str | None) -> None:
        self.answer = answer
        self.prompts: list[str] = []

    def __call__(
        self, parent: QWidget, title: str, prompt: str, on_done: Callable[[str | None], None]
    ) -> None:
        self.prompts.append(f"{title}: {prompt}")
        on_done(self.answer)


def _use_printer(page: BadgesPage, name: str) -> None:
    with page.store.begin() as session:
        badges.save_printer_settings(session, PrinterSettings(printer=name))
    page.refresh()


def _find(qtbot: QtBot, page: BadgesPage, typed: str, code: str) -> None:
    page.search_field.clear()
    qtbot.keyClicks(page.search_field, typed)
    qtbot.waitUntil(lambda: page.selected is not None and page.selected.short_code == code)


def _record(store: Store, code: str, reason: str = "") -> str:
    with store.begin() as session:
        info = registry.get(session, DEMO_EVENT_ID, code)
        assert info is not None
        badges.record_print(session, desk.context(session), info.id, "a6", reason)
        return info.id


def test_search_by_keys_shows_the_badge_preview(qtbot: QtBot, page: BadgesPage) -> None:
    assert page.people_model.rowCount() == 130
    shown: list[str] = []
    page.preview_shown.connect(shown.append)
    _find(qtbot, page, "Siriporn", "OI-AA88")
    chosen = page.selected.id  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: chosen in shown, timeout=20_000)
    image = page.preview.image()
    assert image is not None and not image.isNull()
    assert 1.35 < image.height() / image.width() < 1.45  # A6 is 148 / 105
    # The participant band (#1f4e8c) across the foot of the badge, the header above.
    band = image.pixelColor(image.width() // 2, image.height() - 4)
    assert (band.red(), band.green(), band.blue()) == pytest.approx((0x1F, 0x4E, 0x8C), abs=12)
    assert "Siriporn Boonmee" in page.name_label.text()
    assert "OI-AA88" in page.status_label.text() and "not printed yet" in page.status_label.text()
    assert page.print_button.text() == "Print badge" and not page.lost_button.isEnabled()
    # Another layout: the card is landscape.
    with qtbot.waitSignal(page.preview_shown, timeout=20_000):
        page.layout_combo.setCurrentIndex(page.layout_combo.findData("cr80"))
        page.layout_combo.activated.emit(page.layout_combo.currentIndex())
    card = page.preview.image()
    assert card is not None and card.width() > card.height()
    with page.store.begin() as session:
        assert badges.load_printer_settings(session).layout == "cr80"  # remembered
    # Back to A6: drawn from the cache, at once.
    cached = len(page._preview_cache)
    with qtbot.waitSignal(page.preview_shown, timeout=1_000):
        page.layout_combo.setCurrentIndex(page.layout_combo.findData("a6"))
        page.layout_combo.activated.emit(page.layout_combo.currentIndex())
    assert len(page._preview_cache) == cached


def test_no_printer_chosen_says_what_to_do(qtbot: QtBot, page: BadgesPage) -> None:
    _find(qtbot, page, "Ahmadi", "OI-2D6Y")
    assert "No badge printer chosen" in page.printer_line.text()
    qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    assert "No badge printer is chosen" in page.notice.text()
    assert page.jobs_running == 0
    with page.store.begin() as session:
        assert badges.pending_prints(session) == []


def test_missing_printer_keeps_the_job_in_the_retry_queue(
    qtbot: QtBot, qtmodeltester: Any, page: BadgesPage
) -> None:
    _use_printer(page, MISSING)
    _find(qtbot, page, "Ahmadi", "OI-2D6Y")
    with qtbot.waitSignal(page.job_finished, timeout=20_000) as finished:
        qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    outcome: JobOutcome = finished.args[0]
    assert outcome.retryable and outcome.printed == ()
    assert f"“{MISSING}” is not available" in outcome.error
    assert "plugged in" in page.notice.text() and "Waiting to print" in page.notice.text()
    assert page.tabs.tabText(1) == "Waiting to print (1)"
    qtmodeltester.check(page.queue_model)
    assert page.queue_model.data(page.queue_model.index(0, 1)) == "Reza AHMADI"
    assert page.queue_model.data(page.queue_model.index(0, 3)) == "1"
    with page.store.begin() as session:
        assert badges.print_log(session, DEMO_EVENT_ID) == []
    # Nothing printed, so the check-in desk and the list still say "not printed".
    assert "not printed yet" in page.status_label.text()
    page.tabs.setCurrentIndex(1)
    page.queue_view.selectRow(0)
    qtbot.mouseClick(page.drop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.queue_model.rowCount() == 0)
    assert page.tabs.tabText(1) == "Waiting to print"


def test_reprint_asks_why_and_says_when_first_printed(
    qtbot: QtBot, page: BadgesPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    attendee_id = _record(page.store, "OI-AA88")
    _use_printer(page, MISSING)
    _find(qtbot, page, "Boonmee", "OI-AA88")
    assert page.print_button.text() == "Reprint badge…" and page.lost_button.isEnabled()
    assert "First printed" in page.status_label.text()
    declined = Reasons(None)
    monkeypatch.setattr(qt_badges, "ask_reason", declined)
    qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    assert len(declined.prompts) == 1
    assert "first printed" in declined.prompts[0] and "Why print it again?" in declined.prompts[0]
    assert page.jobs_running == 0  # no reason, no print
    answered = Reasons("ink smudged")
    monkeypatch.setattr(qt_badges, "ask_reason", answered)
    with qtbot.waitSignal(page.job_finished, timeout=20_000):
        qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    with page.store.begin() as session:
        [pending] = badges.pending_prints(session)
    assert pending.reason == "ink smudged" and pending.attendee_ids == (attendee_id,)


def test_desk_staff_may_not_reprint(
    qtbot: QtBot, page: BadgesPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(page.store, "OI-AA88")
    with page.store.begin() as session:
        desk.set_setting(session, "operator_id", demo_operator_id("desk"))
    _use_printer(page, MISSING)
    asked = Reasons("because")
    monkeypatch.setattr(qt_badges, "ask_reason", asked)
    _find(qtbot, page, "Boonmee", "OI-AA88")
    qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    assert asked.prompts == []
    assert "Only a supervisor" in page.notice.text()
    assert page.jobs_running == 0


def test_lost_badge_is_revoked_then_reprinted(
    qtbot: QtBot, page: BadgesPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    attendee_id = _record(page.store, "OI-AA88")
    _use_printer(page, MISSING)
    _find(qtbot, page, "Boonmee", "OI-AA88")
    lost = Reasons("lost at the welcome dinner")
    monkeypatch.setattr(qt_badges, "ask_reason", lost)
    with qtbot.waitSignal(page.job_finished, timeout=20_000):
        qtbot.mouseClick(page.lost_button, Qt.MouseButton.LeftButton)
    assert "stop working" in lost.prompts[0]
    with page.store.begin() as session:
        person = session.get(Attendee, attendee_id)
        revokes = session.scalars(select(Operation).where(Operation.kind == "badge.revoke")).all()
        [pending] = badges.pending_prints(session)
    assert person is not None and person.badge_seq == 1
    assert [r.payload["reason"] for r in revokes] == ["lost at the welcome dinner"]
    assert pending.reason == "lost at the welcome dinner"
    assert "replaced" in page.status_label.text()


def test_batch_count_follows_the_filters(qtbot: QtBot, page: BadgesPage) -> None:
    assert page.batch_button.text() == "Print 130 badge(s)"
    page.country_combo.setCurrentIndex(page.country_combo.findData("TH"))
    page.country_combo.activated.emit(page.country_combo.currentIndex())
    with page.store.begin() as session:
        thai = badges.count_attendees(
            session, DEMO_EVENT_ID, BadgeFilter(countries=("TH",), not_printed=True)
        )
    qtbot.waitUntil(lambda: page.batch_button.text() == f"Print {thai} badge(s)")
    assert "Thailand · not yet printed" in page.batch_count.text()
    _record(page.store, "OI-AA88")
    page.not_printed_box.setFocus()
    qtbot.keyClick(page.not_printed_box, Qt.Key.Key_Space)  # off: printed ones count again
    assert not page.not_printed_box.isChecked()
    qtbot.waitUntil(lambda: page.batch_button.text() == f"Print {thai} badge(s)")
    qtbot.keyClick(page.not_printed_box, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: page.batch_button.text() == f"Print {thai - 1} badge(s)")


def test_batch_reprints_ask_once_for_a_reason(
    qtbot: QtBot, page: BadgesPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(page.store, "OI-AA88")
    _use_printer(page, MISSING)
    page.not_printed_box.setChecked(False)
    page.country_combo.setCurrentIndex(page.country_combo.findData("TH"))
    page.country_combo.activated.emit(page.country_combo.currentIndex())
    asked = Reasons("new lanyards")
    monkeypatch.setattr(qt_badges, "ask_reason", asked)
    with qtbot.waitSignal(page.job_finished, timeout=20_000) as finished:
        page.print_batch()
    assert len(asked.prompts) == 1 and "1 of these" in asked.prompts[0]
    outcome: JobOutcome = finished.args[0]
    assert outcome.job.reason == "new lanyards" and outcome.retryable
    qtbot.waitUntil(lambda: not page.batch_progress.isVisible())
    assert page.batch_button.isEnabled()


def test_print_log_model_and_people_model(
    qtbot: QtBot, qtmodeltester: Any, page: BadgesPage
) -> None:
    _record(page.store, "OI-AA88")
    _record(page.store, "OI-AA88", "torn")
    _record(page.store, "OI-2D6Y")
    page.refresh()
    qtmodeltester.check(page.log_model)
    qtmodeltester.check(page.people_model)
    model = page.log_model
    assert model.rowCount() == 3
    rows = [[model.data(model.index(r, c)) for c in range(7)] for r in range(3)]
    assert rows[0][2] == "OI-2D6Y" and rows[0][6] == "First print"
    assert rows[1][2] == "OI-AA88" and rows[1][6] == "Reprint: torn"
    assert all(row[3] and row[5] == "a6" for row in rows)
    assert model.headerData(0, Qt.Orientation.Horizontal) == "When"
    people = page.people_model
    printed = {
        people.data(people.index(r, 0)): people.data(people.index(r, 3))
        for r in range(people.rowCount())
    }
    assert printed["OI-AA88"] == "printed ×2" and printed["OI-2D6Y"] == "printed"
    assert printed["OI-K9ZT"] == "not printed"


def test_printer_settings_are_chosen_once(
    qtbot: QtBot, page: BadgesPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    choices = [
        PrinterChoice("Office laser", "HP", "Room 2", True, True, (("A4", "A4"),), (300, 600)),
        PrinterChoice(
            "Zebra ZD421", "Zebra", "Desk 1", False, True, (("w288h432", "4x6"),), (203,)
        ),
    ]
    monkeypatch.setattr(qt_badges, "available_printers", lambda: choices)
    qtbot.mouseClick(page.settings_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(PrinterSettingsDialog)
    assert isinstance(dialog, PrinterSettingsDialog)
    assert dialog.printer_combo.itemText(0) == "Office laser (default)"
    dialog.printer_combo.setFocus()
    qtbot.keyClick(dialog.printer_combo, Qt.Key.Key_Down)
    assert dialog.printer_combo.currentData() == "Zebra ZD421"
    assert [dialog.dpi_combo.itemText(i) for i in range(dialog.dpi_combo.count())] == [
        "The printer's own",
        "203 dpi",
    ]
    assert dialog.paper_combo.currentData() == "layout"
    dialog.dpi_combo.setCurrentIndex(1)
    dialog.accept()
    qtbot.waitUntil(lambda: "Zebra ZD421" in page.printer_line.text())
    assert "203 dpi" in page.printer_line.text()
    with page.store.begin() as session:
        saved = badges.load_printer_settings(session)
    assert (saved.printer, saved.paper, saved.dpi) == ("Zebra ZD421", "layout", 203)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_resolution_is_the_printers_own_up_to_600() -> None:
    assert choose_dpi([203]) == 203
    assert choose_dpi([300, 600, 1200]) == 600
    assert choose_dpi([1200, 2400]) == 1200
    assert choose_dpi([]) == 300
    assert choose_dpi([203, 300], wanted=203) == 203


def test_the_main_window_has_the_badges_area(qtbot: QtBot, demo: Store) -> None:
    window = MainWindow(
        demo, QSettings(str(demo.data_dir / "settings.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(window)
    window.show()
    assert "badges" in window.area_keys()
    window.show_area("badges")
    assert isinstance(window.pages.currentWidget(), BadgesPage)
    qtbot.waitUntil(lambda: not active_tasks(), timeout=20_000)
