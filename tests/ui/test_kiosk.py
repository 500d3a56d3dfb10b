"""Kiosk mode driven as visitors and staff drive it: real key presses and clicks.

The badge printer is a real CUPS queue whose printer (cups-pdf) writes PDF files, as in
test_printing_cups; the check-ins are read back from the desk's database.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest_camera_helpers import badge_frame, render_badge_png
from eventdesk_bench.workloads_badges import QUEUE_NAME, CupsPdfQueue, pdf_title
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from desktop import badges, badgetokens, checkin, clock, desk, registry
from desktop.badges import PrinterSettings
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id
from desktop.store import Store
from desktop.tokens import TOKEN_PREFIX
from desktop.ui.qt_kiosk import KioskWindow, Message
from desktop.ui.qt_worker import active_tasks

MANILA = ZoneInfo("Asia/Manila")


@pytest.fixture(scope="module")
def cups_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CupsPdfQueue]:
    name = f"{QUEUE_NAME}-kiosk-{os.getpid()}"
    with CupsPdfQueue(tmp_path_factory.mktemp("kiosk-cups") / "out", name) as queue:
        yield queue


@pytest.fixture
def demo(demo: Store) -> Store:
    """The shared demo store (conftest), set up for this module."""
    with demo.begin() as session:
        clock.set_as_if(session, clock.to_naive_utc(datetime(2024, 8, 28, 8, 40), MANILA))
    return demo


@pytest.fixture
def printer(demo: Store, cups_queue: CupsPdfQueue) -> Iterator[CupsPdfQueue]:
    """The desk's badge printer is the test queue, taking jobs."""
    with demo.begin() as session:
        badges.save_printer_settings(session, PrinterSettings(printer=cups_queue.name))
    cups_queue.accept()
    yield cups_queue
    cups_queue.accept()
    cups_queue.drain()


def open_kiosk(qtbot: QtBot, store: Store, **options: object) -> KioskWindow:
    kiosk = KioskWindow(store, **options)  # type: ignore[arg-type]
    qtbot.addWidget(kiosk)
    kiosk.resize(1600, 900)
    with qtbot.waitActive(kiosk):
        kiosk.show()
        kiosk.activateWindow()
    assert kiosk.screen_name() == "start"
    return kiosk


@pytest.fixture
def kiosk(qtbot: QtBot, demo: Store) -> Iterator[KioskWindow]:
    window = open_kiosk(qtbot, demo)
    yield window
    qtbot.waitUntil(lambda: not active_tasks(), timeout=30_000)
    window.leave(None)  # type: ignore[arg-type]


def token(store: Store, index: int) -> str:
    with store.begin() as session:
        return badgetokens.token_for(
            session, store.data_dir, DEMO_EVENT_ID, demo_attendee_id(index)
        )


def scan_at_kiosk(qtbot: QtBot, kiosk: KioskWindow, text: str, timeout: int = 10_000) -> Message:
    """A keyboard-wedge scanner types the code on the start screen and ends it with Enter."""
    with qtbot.waitSignal(kiosk.visit_finished, timeout=timeout) as blocker:
        qtbot.keyClicks(kiosk.start_screen, text)
        qtbot.keyClick(kiosk.start_screen, Qt.Key.Key_Return)
    assert kiosk.screen_name() == "result"
    message: Message = blocker.args[0]
    assert kiosk.result_headline.text() == message.headline
    assert kiosk.result_body.text() == message.body
    return message


def recorded(store: Store, attendee_id: str) -> list[tuple[str, bool]]:
    """This desk's scans of an attendee: (decision, voided), oldest first."""
    with store.begin() as session:
        rows = checkin.recent_scans(session, DEMO_EVENT_ID, desk.desk_id(session), limit=50)
    return [(r.decision, r.voided) for r in reversed(rows) if r.attendee_id == attendee_id]


def person(store: Store, ref: str) -> registry.AttendeeInfo:
    with store.begin() as session:
        found = registry.get(session, DEMO_EVENT_ID, ref)
    assert found is not None
    return found


def test_a_scanned_badge_checks_in_and_welcomes_by_first_name(
    qtbot: QtBot, kiosk: KioskWindow, demo: Store
) -> None:
    message = scan_at_kiosk(qtbot, kiosk, token(demo, 3))
    assert message.tone == "ok" and message.headline == "Welcome, Farhana!"
    # No printer chosen at this desk: checked in, and told where the badge is.
    assert "collect your badge at the desk" in message.body
    assert recorded(demo, demo_attendee_id(3)) == [("ok", False)]
    qtbot.keyClick(kiosk.result_screen, Qt.Key.Key_Return)
    assert kiosk.screen_name() == "start"
    again = scan_at_kiosk(qtbot, kiosk, token(demo, 3))
    assert again.headline == "Welcome back, Farhana!"
    assert "already checked in" in again.body
    assert recorded(demo, demo_attendee_id(3)) == [("ok", False), ("already_in", False)]


def test_codes_that_are_not_a_good_badge_are_refused_kindly(
    qtbot: QtBot, kiosk: KioskWindow, demo: Store
) -> None:
    genuine = token(demo, 5)
    forged = genuine[:40] + ("A" if genuine[40] != "A" else "B") + genuine[41:]
    refused = scan_at_kiosk(qtbot, kiosk, forged)
    assert refused.tone == "stop" and refused.headline == "This badge does not work here"
    assert "registration desk" in refused.body
    qtbot.mouseClick(kiosk.done_button, Qt.MouseButton.LeftButton)
    unknown = scan_at_kiosk(qtbot, kiosk, "OI-ZZZZ")
    assert unknown.headline == "We could not read that code"
    assert "Find me by name" in unknown.body
    with demo.begin() as session:
        decisions = [r.decision for r in checkin.recent_scans(session, DEMO_EVENT_ID,
                                                                desk.desk_id(session))]  # fmt: skip
    assert sorted(decisions) == ["forged", "invalid"]


def test_find_by_name_confirm_and_the_badge_is_printed_once(
    qtbot: QtBot, demo: Store, printer: CupsPdfQueue
) -> None:
    kiosk = open_kiosk(qtbot, demo)
    rahul = person(demo, "OI-N0BT")  # Rahul Verma
    qtbot.mouseClick(kiosk.by_name_button, Qt.MouseButton.LeftButton)
    assert kiosk.screen_name() == "search" and kiosk.search_field.hasFocus()
    qtbot.keyClicks(kiosk.search_field, "rah")
    qtbot.waitUntil(lambda: len(kiosk.results.rows) == 3)
    names = [row.name.text() for row in kiosk.results.rows]
    assert "Rahul Verma" in names and "Nusrat Rahman" in names
    while kiosk.results.current_person() != rahul:
        qtbot.keyClick(kiosk.search_field, Qt.Key.Key_Down)
    qtbot.keyClick(kiosk.search_field, Qt.Key.Key_Return)
    assert kiosk.screen_name() == "confirm"
    assert kiosk.confirm_name.text() == "Rahul Verma"
    assert kiosk.confirm_where.text() == "NITI Aayog · India"
    assert kiosk.yes_button.text() == "Yes, print my badge"
    known = printer.pdfs()
    with qtbot.waitSignal(kiosk.visit_finished, timeout=90_000) as blocker:
        qtbot.keyClick(kiosk.confirm_screen, Qt.Key.Key_Return)
    message: Message = blocker.args[0]
    assert message.tone == "ok" and message.headline == "Welcome, Rahul!"
    assert message.body == "Your badge is printing. Please take it from the printer."
    out = printer.wait_for_pdf(known, title_has=rahul.short_code)
    assert pdf_title(out) == f"EventDesk badge {rahul.short_code} Rahul VERMA"
    with demo.begin() as session:
        status = badges.badge_status(session, DEMO_EVENT_ID, rahul.id)
        scans = checkin.recent_scans(session, DEMO_EVENT_ID, desk.desk_id(session))
    assert len(status.prints) == 1 and not status.prints[0].reprint
    assert [(s.decision, s.name) for s in scans] == [("ok", "Rahul Verma")]
    # The same visitor again, by name: checked in already, and no second badge.
    qtbot.keyClick(kiosk.result_screen, Qt.Key.Key_Return)
    kiosk.open_search("verma")
    qtbot.waitUntil(lambda: kiosk.results.current_person() == rahul)
    qtbot.keyClick(kiosk.search_field, Qt.Key.Key_Return)
    assert kiosk.yes_button.text() == "Yes, check me in"
    with qtbot.waitSignal(kiosk.visit_finished, timeout=10_000) as second:
        qtbot.mouseClick(kiosk.yes_button, Qt.MouseButton.LeftButton)
    assert second.args[0].headline == "Welcome back, Rahul!"
    assert "printed already" in second.args[0].body
    with demo.begin() as session:
        assert len(badges.badge_status(session, DEMO_EVENT_ID, rahul.id).prints) == 1
    qtbot.waitUntil(lambda: not active_tasks(), timeout=30_000)
    kiosk.leave(None)  # type: ignore[arg-type]


def test_a_printer_that_refuses_leaves_the_badge_waiting(
    qtbot: QtBot, demo: Store, printer: CupsPdfQueue
) -> None:
    kiosk = open_kiosk(qtbot, demo)
    printer.reject("out of labels")
    message = scan_at_kiosk(qtbot, kiosk, token(demo, 3), timeout=90_000)
    assert message.tone == "warn" and message.headline == "Welcome, Farhana!"
    assert "could not be printed" in message.body and "registration desk" in message.body
    with demo.begin() as session:
        waiting = badges.pending_prints(session)
        printed = badges.badge_status(session, DEMO_EVENT_ID, demo_attendee_id(3)).prints
    assert [job.attendee_ids for job in waiting] == [(demo_attendee_id(3),)]
    assert printed == ()
    assert recorded(demo, demo_attendee_id(3)) == [("ok", False)]
    qtbot.waitUntil(lambda: not active_tasks(), timeout=30_000)
    kiosk.leave(None)  # type: ignore[arg-type]


def test_typing_a_name_on_the_start_screen_opens_the_search(
    qtbot: QtBot, kiosk: KioskWindow
) -> None:
    qtbot.keyClicks(kiosk.start_screen, "Verma")
    qtbot.waitUntil(lambda: kiosk.screen_name() == "search")
    assert kiosk.search_field.text() == "Verma" and kiosk.search_field.hasFocus()
    qtbot.waitUntil(lambda: [r.name.text() for r in kiosk.results.rows] == ["Rahul Verma"])
    qtbot.keyClick(kiosk.search_field, Qt.Key.Key_Escape)
    assert kiosk.screen_name() == "start" and kiosk.search_field.text() == ""
    kiosk.open_search("rahul.verma@example.org")  # or by e-mail
    assert [r.name.text() for r in kiosk.results.rows] == ["Rahul Verma"]
    qtbot.keyClick(kiosk.search_field, Qt.Key.Key_Escape)
    # The start of a badge token is never taken for a name; what a scanner left unfinished
    # is dropped after a while rather than stuck in front of the next visitor's code.
    qtbot.keyClicks(kiosk.start_screen, TOKEN_PREFIX + "AE")
    qtbot.waitUntil(lambda: kiosk.start_screen.buffer == "", timeout=5_000)
    assert kiosk.screen_name() == "start"


def test_a_supervisor_pin_ends_kiosk_mode_and_nothing_else_does(qtbot: QtBot, demo: Store) -> None:
    kiosk = open_kiosk(qtbot, demo)
    kiosk.close()  # Alt+F4, the window manager's close button
    assert kiosk.isVisible()
    qtbot.keyClick(kiosk.start_screen, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)  # fmt: skip
    assert kiosk.screen_name() == "staff" and kiosk.pin_pad.field.hasFocus()
    qtbot.keyClicks(kiosk.pin_pad.field, "1111")  # Dina Reyes: desk staff
    qtbot.keyClick(kiosk.pin_pad.field, Qt.Key.Key_Return)
    assert kiosk.staff_message.text() == "Only a supervisor or an administrator can end kiosk mode."
    qtbot.keyClicks(kiosk.pin_pad.field, "4321")
    qtbot.keyClick(kiosk.pin_pad.field, Qt.Key.Key_Return)
    assert kiosk.staff_message.text() == "Wrong PIN."
    assert kiosk.isVisible() and kiosk.screen_name() == "staff"
    qtbot.keyClick(kiosk.pin_pad.field, Qt.Key.Key_Escape)
    assert kiosk.screen_name() == "start"
    qtbot.mouseClick(kiosk.staff_button, Qt.MouseButton.LeftButton)
    assert kiosk.staff_message.text() == ""
    with qtbot.waitSignal(kiosk.left, timeout=10_000) as blocker:
        qtbot.keyClicks(kiosk.pin_pad.field, "2222")  # Marco Santos: supervisor
        qtbot.keyClick(kiosk.pin_pad.field, Qt.Key.Key_Return)
    assert blocker.args[0].name == "Marco Santos"
    assert not kiosk.isVisible()


def test_too_many_wrong_pins_make_the_pad_wait(qtbot: QtBot, kiosk: KioskWindow) -> None:
    kiosk.throttle.limit = 3
    qtbot.mouseClick(kiosk.staff_button, Qt.MouseButton.LeftButton)
    for _ in range(3):
        qtbot.keyClicks(kiosk.pin_pad.field, "0000")
        qtbot.keyClick(kiosk.pin_pad.field, Qt.Key.Key_Return)
    assert kiosk.staff_message.text().startswith("Too many wrong tries")
    assert not kiosk.pin_pad.field.isEnabled()
    kiosk.pin_pad.submitted.emit("2222")  # even the right PIN waits
    assert kiosk.isVisible() and kiosk.screen_name() == "staff"


def test_idle_screens_go_back_to_the_start_by_themselves(qtbot: QtBot, demo: Store) -> None:
    kiosk = open_kiosk(qtbot, demo, idle_seconds=0.4, result_seconds=0.4)
    qtbot.mouseClick(kiosk.by_name_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(kiosk.search_field, "Rahul")
    qtbot.waitUntil(lambda: kiosk.results.current_person() is not None)
    qtbot.keyClick(kiosk.search_field, Qt.Key.Key_Return)
    assert kiosk.screen_name() == "confirm"
    qtbot.waitUntil(lambda: kiosk.screen_name() == "start", timeout=5_000)
    assert kiosk.search_field.text() == "" and kiosk.chosen is None
    assert kiosk.results.rows == []
    # A result screen goes back by itself too, and nobody was checked in by the idle one.
    scan_at_kiosk(qtbot, kiosk, token(demo, 3))
    qtbot.waitUntil(lambda: kiosk.screen_name() == "start", timeout=5_000)
    with demo.begin() as session:
        scans = checkin.recent_scans(session, DEMO_EVENT_ID, desk.desk_id(session))
    assert [s.attendee_id for s in scans] == [demo_attendee_id(3)]
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)
    kiosk.leave(None)  # type: ignore[arg-type]


@pytest.mark.qt_log_ignore(r"Couldn't (load|resolve)", "No RHI backend")
def test_with_no_camera_the_kiosk_asks_for_the_scanner_and_camera_frames_still_decide(
    qtbot: QtBot, demo: Store, tmp_path: Path
) -> None:
    from PySide6.QtMultimedia import QVideoFrame

    kiosk = open_kiosk(qtbot, demo, use_camera=True)
    assert kiosk.camera is not None and not kiosk.camera.has_camera
    assert not kiosk.camera.isVisible() and kiosk.scan_icon.isVisible()
    assert kiosk.start_where.text() == "Hold it under the scanner"
    drawn = render_badge_png(demo, 4, tmp_path)
    with Image.open(drawn) as picture:
        frame = badge_frame(picture.convert("L"), angle=10)
    data = io.BytesIO()
    frame.save(data, "PNG")
    with qtbot.waitSignal(kiosk.visit_finished, timeout=10_000) as blocker:
        kiosk.camera.video.videoSink().setVideoFrame(QVideoFrame(QImage.fromData(data.getvalue())))
    assert blocker.args[0].tone == "ok"
    assert recorded(demo, demo_attendee_id(4)) == [("ok", False)]
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)
    kiosk.leave(None)  # type: ignore[arg-type]


@pytest.mark.qt_log_ignore(r"Couldn't (load|resolve)", "No RHI backend")
def test_the_main_window_hands_over_the_screen_and_gets_it_back(qtbot: QtBot, demo: Store) -> None:
    from PySide6.QtCore import QSettings
    from sqlalchemy import select

    from desktop import operators
    from desktop.models import Scan
    from desktop.ui.qt_main_window import MainWindow

    with demo.begin() as session:
        dina = operators.get_operator(session, DEMO_EVENT_ID, operators.demo_operator_id("desk"))
        assert dina is not None
        operators.sign_in(session, dina)
    window = MainWindow(
        demo, QSettings(str(demo.data_dir / "settings.ini"), QSettings.Format.IniFormat)
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.kiosk_action.trigger()
    kiosk = window.kiosk
    assert kiosk is not None and kiosk.isFullScreen() and not window.isVisible()
    with qtbot.waitActive(kiosk):
        kiosk.activateWindow()
    # The desk locks itself behind the kiosk after a while (Dina is signed out): the kiosk
    # goes on checking people in, in the name of the operator who started it.
    with demo.begin() as session:
        operators.sign_out(session)
    scan_at_kiosk(qtbot, kiosk, token(demo, 6))
    with demo.begin() as session:
        stamped = session.scalars(select(Scan.operator_id)).all()
    assert stamped == [dina.id]
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)
    qtbot.keyClick(kiosk.result_screen, Qt.Key.Key_Return)
    qtbot.mouseClick(kiosk.staff_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(kiosk.pin_pad.field, "9999")  # Ana Cruz, administrator
    qtbot.keyClick(kiosk.pin_pad.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.isVisible())
    assert window.kiosk is None and not kiosk.isVisible()
