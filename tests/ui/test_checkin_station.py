"""The scan station driven by real key presses, as a keyboard-wedge scanner types."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest_demo_helpers import venue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from desktop import attendance, badgetokens, checkin, clock, desk, events, journal, registry
from desktop.checkin import DECISIONS, DeskMode, ScanResult
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id, demo_session_id
from desktop.keys import generate_signing_key, load_private_key
from desktop.store import Store
from desktop.tokens import TOKEN_PREFIX, make_token
from desktop.ui import qt_checkin
from desktop.ui.qt_checkin import CheckinPage
from desktop.ui.qt_scancard import FORCED_LOOK, LOOKS
from desktop.ui.qt_sounds import DECISION_SOUNDS, SOUNDS, SoundBoard, sounds_dir, write_sounds
from desktop.ui.qt_worker import active_tasks

MANILA = ZoneInfo("Asia/Manila")


@pytest.fixture
def demo(demo: Store) -> Store:
    """The shared demo store (conftest), set up for this module."""
    with demo.begin() as session:
        clock.set_as_if(session, venue(28, 9, 5))
    return demo


@pytest.fixture
def page(qtbot: QtBot, demo: Store) -> Iterator[CheckinPage]:
    widget = CheckinPage(demo, SoundBoard(enabled=True))
    qtbot.addWidget(widget)
    widget.resize(1400, 860)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.scan_field.hasFocus())
    yield widget
    # No task may still be using the store when the test closes it.
    qtbot.waitUntil(lambda: not active_tasks(), timeout=10_000)


def token(store: Store, index: int) -> str:
    with store.begin() as session:
        return badgetokens.token_for(
            session, store.data_dir, DEMO_EVENT_ID, demo_attendee_id(index)
        )


def flip_bit(text: str, bit: int) -> str:
    body = text[len(TOKEN_PREFIX) :]
    raw = bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))
    raw[bit // 8] ^= 1 << (bit % 8)
    return TOKEN_PREFIX + base64.b32encode(bytes(raw)).decode().rstrip("=")


def type_scan(qtbot: QtBot, page: CheckinPage, text: str, ending: str = "enter") -> ScanResult:
    """Type ``text`` one character a millisecond apart, end it, wait for the card."""
    with qtbot.waitSignal(page.scanned, timeout=10_000) as blocker:
        qtbot.keyClicks(page.scan_field, text, delay=1)
        if ending == "enter":
            qtbot.keyClick(page.scan_field, Qt.Key.Key_Return)
        elif ending == "tab":
            qtbot.keyClick(page.scan_field, Qt.Key.Key_Tab)
        else:
            for char in ending:
                send_control(page.scan_field, char)
    result = blocker.args[0]
    assert isinstance(result, ScanResult)
    qtbot.waitUntil(lambda: page.card.painted_generation == page.card.generation)
    return result


def send_control(widget: QWidget, char: str) -> None:
    """A control character as a scanner's keyboard sends it (CR is Ctrl+M, LF Ctrl+J)."""
    key = {"\r": Qt.Key.Key_M, "\n": Qt.Key.Key_J, "\t": Qt.Key.Key_I}[char]
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        event = QKeyEvent(kind, key, Qt.KeyboardModifier.ControlModifier, char)
        QApplication.sendEvent(widget, event)


def card_colour(page: CheckinPage) -> QColor:
    image = page.card.grab().toImage()
    return image.pixelColor(image.width() // 2, image.height() - 6)


def test_done_when_ok_already_in_forged_wrong_event_not_open_full(
    qtbot: QtBot, page: CheckinPage, demo: Store
) -> None:
    badge = token(demo, 3)
    ok = type_scan(qtbot, page, badge)
    assert ok.decision == "ok"
    assert page.card.headline.text() == "WELCOME"
    assert page.card.name.text() == "Farhana ISLAM"
    assert page.card.native.text() == "ফারহানা ইসলাম"
    assert "Bangladesh" in page.card.where.text()
    assert page.card.category.text() == "Participant"
    assert page.card.icon.shape == "check"
    assert card_colour(page) == QColor(LOOKS["ok"].colour)
    assert page.scan_field.text() == "" and page.scan_field.hasFocus()
    assert page.sounds.last_played == "welcome"

    again = type_scan(qtbot, page, badge)
    assert again.decision == "already_in"
    assert page.card.headline.text() == "ALREADY CHECKED IN"
    assert "09:05" in page.card.detail.text()
    with demo.begin() as session:
        assert desk.desk_name(session) in page.card.detail.text()
    assert page.card.icon.shape == "double"
    assert page.sounds.last_played == "again"

    forged = type_scan(qtbot, page, flip_bit(badge, 300))
    assert forged.decision == "forged" and page.card.headline.text() == "FORGED BADGE"
    assert card_colour(page) == QColor(LOOKS["forged"].colour)
    assert page.card.icon.shape == "warning"
    assert page.sounds.last_played == "refused"

    foreign = make_token(generate_signing_key(), 1, uuid.uuid4(), uuid.uuid4(), 0)
    assert type_scan(qtbot, page, foreign).decision == "wrong_event"
    assert page.card.headline.text() == "OTHER EVENT'S BADGE"

    page.set_mode(DeskMode("session", demo_session_id("session-3")))  # tomorrow
    not_open = type_scan(qtbot, page, token(demo, 4))
    assert not_open.decision == "not_open" and page.card.headline.text() == "SESSION NOT OPEN"
    assert "08:30" in page.card.detail.text() and page.card.icon.shape == "clock"
    assert page.card.override_button.isVisible()

    with demo.begin() as session:
        tiny = events.put_session(
            session,
            desk.context(session),
            {
                "title": "Study visit briefing",
                "room": "Room 4",
                "starts_at": venue(28, 9),
                "ends_at": venue(28, 10),
                "capacity": 1,
            },
        )
    page.refresh()
    page.set_mode(DeskMode("session", tiny))
    assert type_scan(qtbot, page, token(demo, 5)).decision == "ok"
    full = type_scan(qtbot, page, token(demo, 6))
    assert full.decision == "session_full" and page.card.headline.text() == "SESSION FULL"
    assert page.card.icon.shape == "full" and page.sounds.last_played == "door"
    qtbot.waitUntil(lambda: page.inside_value.text() == "1")
    assert page.capacity_value.text() == "1"


@pytest.mark.parametrize("ending", ["enter", "tab", "\r", "\n", "\r\n"])
def test_scanner_endings_case_and_prefixes(
    qtbot: QtBot, page: CheckinPage, demo: Store, ending: str
) -> None:
    badge = token(demo, 10)
    result = type_scan(qtbot, page, "]Q1" + badge.lower(), ending)
    assert result.decision == "ok" and result.input_kind == "token"
    assert page.scan_field.text() == "" and page.scan_field.hasFocus()
    qtbot.wait(30)  # the LF of a CRLF pair must not make a second scan
    with demo.begin() as session:
        assert attendance.checked_in(session, DEMO_EVENT_ID, demo_attendee_id(10))
        assert len(checkin.recent_scans(session, DEMO_EVENT_ID, desk.desk_id(session))) == 1


def test_short_code_typed_by_hand(qtbot: QtBot, page: CheckinPage, demo: Store) -> None:
    with demo.begin() as session:
        person = registry.get(session, DEMO_EVENT_ID, demo_attendee_id(11))
    assert person is not None
    result = type_scan(qtbot, page, person.short_code.lower())
    assert result.decision == "ok" and result.attendee is not None
    assert result.attendee.id == person.id


def test_name_search_in_the_same_field(qtbot: QtBot, page: CheckinPage, demo: Store) -> None:
    with demo.begin() as session:
        people = registry.list_attendees(session, DEMO_EVENT_ID, "Chen")
    assert len(people) >= 2
    qtbot.keyClicks(page.scan_field, "Chen", delay=1)
    qtbot.waitUntil(lambda: page.search_list.isVisible())
    assert page.search_list.count() == len(people)
    assert page.scan_field.hasFocus()  # the list never takes the focus
    qtbot.keyClick(page.scan_field, Qt.Key.Key_Down)
    assert page.search_list.currentRow() == 1
    with qtbot.waitSignal(page.scanned) as blocker:
        qtbot.keyClick(page.scan_field, Qt.Key.Key_Return)
    result = blocker.args[0]
    assert result.decision == "ok" and result.input_kind == "manual"
    assert result.attendee.id == people[1].id
    assert not page.search_list.isVisible()
    # Escape closes the list and clears the field.
    qtbot.keyClicks(page.scan_field, "Chen", delay=1)
    qtbot.waitUntil(lambda: page.search_list.isVisible())
    qtbot.keyClick(page.scan_field, Qt.Key.Key_Escape)
    assert not page.search_list.isVisible() and page.scan_field.text() == ""
    # A name nobody has is a recorded, readable refusal.
    nobody = type_scan(qtbot, page, "Zzyzx")
    assert nobody.decision == "invalid" and "Zzyzx".upper() in page.card.name.text()


def test_session_door_flow_records_attendance(qtbot: QtBot, page: CheckinPage, demo: Store) -> None:
    page.door_combo.setCurrentIndex(page.door_combo.findData("room"))
    page.door_combo.activated.emit(page.door_combo.currentIndex())
    page.room_combo.setCurrentIndex(page.room_combo.findData("Plenary Hall"))
    page.room_combo.activated.emit(page.room_combo.currentIndex())
    assert page.mode == DeskMode("room", None, "Plenary Hall", "entry")
    qtbot.waitUntil(lambda: page.door_title.text() == "Opening Session")
    for index in (20, 21, 22):
        assert type_scan(qtbot, page, token(demo, index)).decision == "ok"
    qtbot.waitUntil(lambda: page.inside_value.text() == "3")
    qtbot.mouseClick(page.exit_button, Qt.MouseButton.LeftButton)
    assert page.mode.direction == "exit" and page.scan_field.hasFocus()
    assert type_scan(qtbot, page, token(demo, 21)).decision == "exit_ok"
    assert page.card.headline.text() == "GOODBYE"
    qtbot.waitUntil(lambda: page.inside_value.text() == "2")
    assert page.arrived_value.text() == "3"
    with demo.begin() as session:
        attended = attendance.sessions_attended(session, DEMO_EVENT_ID)
        assert checkin.load_mode(session).door == "room"  # kept for the next start
    assert set(attended) == {demo_attendee_id(i) for i in (20, 21, 22)}
    assert all(v == {demo_session_id("opening")} for v in attended.values())


def test_supervisor_override_and_undo_bring_focus_back(
    qtbot: QtBot, page: CheckinPage, demo: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    reasons: list[str] = []

    def fake_ask(
        parent: QWidget, title: str, prompt: str, on_done: Callable[[str | None], None]
    ) -> None:
        reasons.append(prompt)
        on_done("Speaker's assistant" if "let in" in prompt.lower() else "wrong badge")

    monkeypatch.setattr(qt_checkin, "ask_reason", fake_ask)
    with demo.begin() as session:
        registry.cancel(session, desk.context(session), demo_attendee_id(30), "withdrew")
    refused = type_scan(qtbot, page, token(demo, 30))
    assert refused.decision == "cancelled" and page.card.override_button.isVisible()
    with qtbot.waitSignal(page.scanned) as blocker:
        qtbot.mouseClick(page.card.override_button, Qt.MouseButton.LeftButton)
    forced = blocker.args[0]
    assert forced.forced and forced.admitted
    assert page.card.headline.text() == FORCED_LOOK.headline
    assert "Speaker's assistant" in page.card.detail.text()
    qtbot.waitUntil(lambda: page.scan_field.hasFocus())

    done = type_scan(qtbot, page, token(demo, 31))
    assert page.card.undo_button.isVisible()
    qtbot.mouseClick(page.card.undo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.card.result is None)
    assert "undone" in page.card.advice.text()
    qtbot.waitUntil(lambda: page.scan_field.hasFocus())
    with demo.begin() as session:
        assert not attendance.checked_in(session, DEMO_EVENT_ID, demo_attendee_id(31))
    qtbot.waitUntil(
        lambda: (
            page.recent_model.rowCount() > 0
            and page.recent_model.scan_at(0).op_id == done.op_id
            and page.recent_model.scan_at(0).voided
        )
    )
    assert len(reasons) == 2


def test_focus_returns_after_a_dialog_and_a_click(
    qtbot: QtBot, page: CheckinPage, demo: Store
) -> None:
    page.window().activateWindow()
    page.recent_view.setFocus()  # something else took the focus
    qtbot.waitUntil(lambda: page.scan_field.hasFocus())
    dialog = qt_checkin.ask_reason(page, "Why", "Reason?", lambda _text: None)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is dialog)
    dialog.reject()
    qtbot.waitUntil(lambda: page.scan_field.hasFocus())


def test_clock_banner_runs_the_demo_as_if(qtbot: QtBot, demo: Store) -> None:
    with demo.begin() as session:
        clock.use_real_time(session)
    widget = CheckinPage(demo, SoundBoard(enabled=False))
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    assert widget.banner.isVisible()
    assert "28 Aug 2024 09:05" in widget.banner_button.text()
    qtbot.mouseClick(widget.banner_button, Qt.MouseButton.LeftButton)
    assert not widget.banner.isVisible()
    assert widget.clock_label.text().startswith("Wed 28 Aug 09:0")
    assert widget.clock_note.isVisible() and "as if" in widget.clock_note.text()
    with demo.begin() as session:
        assert clock.desk_clock(session).simulated


def test_sound_can_be_turned_off(qtbot: QtBot, page: CheckinPage, demo: Store) -> None:
    qtbot.mouseClick(page.sound_box, Qt.MouseButton.LeftButton)
    assert not page.sounds.enabled
    page.sounds.last_played = None
    type_scan(qtbot, page, "not a badge")
    assert page.sounds.last_played is None
    with demo.begin() as session:
        assert desk.get_setting(session, qt_checkin.SOUND_KEY) == "off"


def test_recent_scans_model(qtbot: QtBot, qtmodeltester, page: CheckinPage, demo: Store) -> None:
    type_scan(qtbot, page, token(demo, 40))
    type_scan(qtbot, page, "garbage")
    qtbot.waitUntil(lambda: page.recent_model.rowCount() == 2)
    qtmodeltester.check(page.recent_model)
    with demo.begin() as session:
        person = registry.get(session, DEMO_EVENT_ID, demo_attendee_id(40))
    assert person is not None
    assert page.recent_model.data(page.recent_model.index(0, 1)) == "invalid"
    assert page.recent_model.data(page.recent_model.index(1, 1)) == "ok"
    assert page.recent_model.data(page.recent_model.index(1, 2)) == person.display_name


def test_every_card_kind_on_screen(qtbot: QtBot, page: CheckinPage, demo: Store) -> None:
    """Render each decision's card; save them for a person to look at."""
    out = Path(os.environ.get("EVENTDESK_SHOTS", "")) if os.environ.get("EVENTDESK_SHOTS") else None
    key = load_private_key(events.key_path(demo.data_dir, DEMO_EVENT_ID, 1))
    with demo.begin() as session:
        ctx = desk.context(session)
        registry.cancel(session, ctx, demo_attendee_id(50), "withdrew")
        journal.record(session, ctx, "badge.revoke", {"id": demo_attendee_id(51), "badge_seq": 1})
        tiny = events.put_session(
            session,
            ctx,
            {"title": "Study visit briefing", "room": "Room 4", "capacity": 0,
             "starts_at": venue(28, 9), "ends_at": venue(28, 10)},
        )  # fmt: skip
    page.refresh()
    briefing = DeskMode("session", demo_session_id("resource-persons-briefing"))
    plan: list[tuple[str, DeskMode, str]] = [
        ("ok", DeskMode(), token(demo, 37)),
        ("already_in", DeskMode(), token(demo, 37)),
        ("exit_ok", DeskMode(direction="exit"), token(demo, 37)),
        ("not_synced", DeskMode(), make_token(key, 1, uuid.UUID(DEMO_EVENT_ID), uuid.uuid4(), 0)),
        ("invalid", DeskMode(), "https://example.org/not-a-badge"),
        ("forged", DeskMode(), flip_bit(token(demo, 52), 400)),
        (
            "wrong_event",
            DeskMode(),
            make_token(generate_signing_key(), 1, uuid.uuid4(), uuid.uuid4(), 0),
        ),
        ("revoked", DeskMode(), _badge_before_revoke(demo, 51)),
        ("cancelled", DeskMode(), token(demo, 50)),
        ("not_open", DeskMode("session", demo_session_id("session-3")), token(demo, 53)),
        ("session_full", DeskMode("session", tiny), token(demo, 54)),
        ("not_permitted", briefing, token(demo, 39)),
    ]
    seen: set[str] = set()
    for decision, mode, text in plan:
        page.set_mode(mode)
        if decision == "not_permitted":
            with demo.begin() as session:
                clock.set_as_if(session, venue(28, 8, 10))
            page.refresh()
        result = type_scan(qtbot, page, text)
        assert result.decision == decision
        look = LOOKS[decision]
        assert page.card.headline.text() == look.headline
        assert page.card.icon.shape == look.icon
        assert card_colour(page) == QColor(look.colour)
        seen.add(decision)
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            page.grab().save(str(out / f"card-{decision}.png"))
    assert seen == set(DECISIONS)
    assert len({LOOKS[d].icon for d in DECISIONS}) >= 11  # icons tell kinds apart


def _badge_before_revoke(store: Store, index: int) -> str:
    """A token signed with the attendee's old badge sequence (0)."""
    key = load_private_key(events.key_path(store.data_dir, DEMO_EVENT_ID, 1))
    return make_token(key, 1, uuid.UUID(DEMO_EVENT_ID), uuid.UUID(demo_attendee_id(index)), 0)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.one_of(
        st.text(min_size=1, max_size=120),
        st.from_regex(r"(EVD1)?[A-Za-z2-7]{0,150}", fullmatch=True),
        st.binary(min_size=1, max_size=80).map(lambda b: b.decode("latin-1")),
    )
)
def test_anything_in_the_scan_field_gets_a_card(qtbot: QtBot, page: CheckinPage, text: str) -> None:
    page.scan_field.clear()
    page.scan_field.insert(text)
    typed = page.scan_field.text()
    if not typed.strip():
        qtbot.keyClick(page.scan_field, Qt.Key.Key_Return)
        assert page.scan_field.text() == ""
        return
    with qtbot.waitSignal(page.scanned, timeout=10_000) as blocker:
        qtbot.keyClick(page.scan_field, Qt.Key.Key_Return)
    result = blocker.args[0]
    assert result.decision in DECISIONS
    assert page.card.headline.text() in {
        *(look.headline for look in LOOKS.values()),
        FORCED_LOOK.headline,
    }
    assert page.scan_field.text() == "" and page.scan_field.hasFocus()


def test_sounds_are_distinct_reproducible_files(tmp_path: Path) -> None:
    written = write_sounds(tmp_path)
    assert {p.stem for p in written} == set(SOUNDS)
    for path in written:
        shipped = sounds_dir() / path.name
        assert shipped.read_bytes() == path.read_bytes()  # made by write_sounds, unchanged
    assert len({p.read_bytes() for p in written}) == len(written)
    assert set(DECISION_SOUNDS) == set(DECISIONS)
    board = SoundBoard(enabled=True)
    assert board.play("ok") == "welcome"
    assert board.play("session_full", forced=True) == "welcome"
    assert board.play("forged") == "refused"
    board.enabled = False
    assert board.play("ok") is None
