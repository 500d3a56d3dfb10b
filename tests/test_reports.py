"""Reports from the demo event after simulated scans, checked against counts made here."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest_demo_helpers import venue

from desktop import badges, clock, desk, journal, permissions, registry, reports
from desktop.demo import DEMO_EVENT_ID, demo_attendee_id, demo_session_id
from desktop.demo_data import demo_attendees, demo_sessions
from desktop.journal import DeskContext
from desktop.operators import demo_operator_id
from desktop.reports import ReportError, ReportOptions
from desktop.reports.figures import event_figures
from desktop.store import Store

MANILA = ZoneInfo("Asia/Manila")
PEOPLE = demo_attendees()
CANCELLED = 120
DESK_B = "desk-b-0000"


def arrival_day1(index: int) -> datetime:
    return venue(28, 8, 0) + timedelta(minutes=(index * 2) % 100)


def scan(
    store: Store,
    index: int,
    at: datetime,
    session_key: str | None = None,
    *,
    desk_id: str | None = None,
    decision: str = "ok",
    direction: str = "entry",
    forced: bool = False,
) -> str:
    with store.begin() as session:
        ctx = desk.context(session)
        if desk_id is not None:
            ctx = DeskContext(ctx.event_id, desk_id, None)
        op = journal.record(
            session,
            ctx,
            "scan",
            {
                "attendee_id": demo_attendee_id(index),
                "session_id": demo_session_id(session_key) if session_key else None,
                "decision": decision,
                "direction": direction,
                "at": at.isoformat(),
                "forced": forced,
                "reason": "paper sign-in sheet" if forced else "",
            },
        )
    return op.op_id


# What the simulation does, kept as plain data so the tests compute their own answers.
DAY1 = range(0, 100)  # entrance, 28 Aug (attendee 99's scan is voided below)
OPENING = range(0, 80)
SESSION1 = range(0, 60)
DAY2 = range(0, 50)  # entrance, 29 Aug at 08:30
VOIDED = 99
FORCED = 100  # no entrance scan; a supervisor adds them to Session 1


@pytest.fixture
def demo(demo: Store) -> Store:
    """The shared demo store (conftest), set up for this module."""
    with demo.begin() as session:
        clock.set_as_if(session, venue(29, 18, 0))
        registry.cancel(session, desk.context(session), demo_attendee_id(CANCELLED))
    return demo


@pytest.fixture
def scanned(demo: Store) -> dict[str, str]:
    """The demo after two days of scans; returns op ids worth knowing."""
    ops: dict[str, str] = {}
    for i in DAY1:
        ops[f"day1-{i}"] = scan(demo, i, arrival_day1(i))
    for i in OPENING:
        scan(demo, i, venue(28, 9, 2), "opening")
    scan(demo, 1, venue(28, 9, 3), "opening", decision="already_in")  # refused: not counted
    for i in SESSION1:
        scan(demo, i, venue(28, 10, 31), "session-1")
    scan(demo, FORCED, venue(28, 10, 40), "session-1", decision="not_open", forced=True)
    for i in DAY2:
        scan(demo, i, venue(29, 8, 30))
    # Attendee 5: admitted again at desk B an hour later, desks apart: a duplicate.
    ops["dup"] = scan(demo, 5, arrival_day1(5) + timedelta(hours=1), desk_id=DESK_B)
    # Attendee 6: left through desk A, came back through desk B: not a duplicate.
    scan(demo, 6, arrival_day1(6) + timedelta(minutes=30), direction="exit", decision="exit_ok")
    scan(demo, 6, arrival_day1(6) + timedelta(hours=2), desk_id=DESK_B)
    with demo.begin() as session:
        journal.record(
            session,
            desk.context(session),
            "scan.void",
            {"scan_op_id": ops[f"day1-{VOIDED}"], "reason": "scanned by mistake"},
        )
    return ops


def owner(store: Store) -> DeskContext:
    with store.begin() as session:
        return permissions.as_owner(desk.context(session))


def make(store: Store, name: str, **options: int) -> reports.Table:
    with store.begin() as session:
        return reports.build(
            session, owner(store), name, options=ReportOptions(**options) if options else None
        )


def registered_people() -> list[tuple[int, dict[str, str]]]:
    return [(i, p) for i, p in enumerate(PEOPLE) if i != CANCELLED]


def arrived_indexes() -> set[int]:
    return (set(DAY1) - {VOIDED}) | set(OPENING) | set(SESSION1) | set(DAY2) | {FORCED}


# --- the reports -----------------------------------------------------------------------------


def test_every_report_is_listed_once_and_found_by_name() -> None:
    names = [spec.name for spec in reports.REPORTS]
    assert len(names) == len(set(names)) == 9
    assert reports.spec("No-Shows").name == "no-shows"
    with pytest.raises(ReportError, match="did you mean participants"):
        reports.spec("partcipants")


def test_participant_list_as_international_organisations_present_it(demo: Store) -> None:
    table = make(demo, "participants")
    assert table.headers == (
        "No.", "Name", "Economy", "Organisation", "Position", "Gender", "Category"
    )  # fmt: skip
    expected = registered_people()
    assert len(table.rows) == len(expected)
    assert table.column("No.") == list(range(1, len(expected) + 1))
    economies = Counter(table.column("Economy"))
    assert economies["Philippines"] == sum(1 for _, p in expected if p["country"] == "PH")
    assert economies["Japan"] == sum(1 for _, p in expected if p["country"] == "JP")
    # Participants first, the secretariat last; within a group, by economy.
    categories = table.column("Category")
    assert categories[0] == "Participant" and categories[-1] == "Secretariat"
    first_participants = [r[2] for r in table.rows if r[6] == "Participant"]
    assert first_participants == sorted(first_participants, key=str.casefold)
    # The family name in capitals, the honorific in front.
    tanvir = next(r for r in table.rows if "AHMED" in str(r[1]) and "Tanvir" in str(r[1]))
    assert tanvir[1] == "Mr. Tanvir AHMED" and tanvir[5] == "Male"
    gone = PEOPLE[CANCELLED]
    listed = {(str(r[1]), r[3]) for r in table.rows}
    assert not any(gone["family_name"].upper() in name and org == gone["organisation"]
                   for name, org in listed)  # fmt: skip


def test_attendance_matrix_totals_per_row_and_column(demo: Store, scanned: dict[str, str]) -> None:
    table = make(demo, "attendance-matrix")
    sessions = demo_sessions()
    assert len(table.headers) == 4 + len(sessions) + 1
    assert table.headers[6].startswith("Opening Session (Wed 28 Aug 09:00")
    totals = table.rows[-1]
    assert totals[1] == "Total" and table.total_rows == 1
    by_key = {s["key"]: 4 + n for n, s in enumerate(sessions)}
    assert totals[by_key["opening"]] == len(OPENING)
    assert totals[by_key["session-1"]] == len(SESSION1) + 1  # the forced admission counts
    assert totals[by_key["session-4"]] == 0  # a session nobody attended
    assert totals[-1] == len(OPENING) + len(SESSION1) + 1
    body = table.rows[:-1]
    assert len(body) == len(registered_people())
    assert sum(r[-1] for r in body) == totals[-1]
    both = [r for r in body if r[-1] == 2]
    assert len(both) == len(set(OPENING) & set(SESSION1))
    for row in body:
        marks = row[4:-1]
        assert row[-1] == sum(1 for m in marks if m == 1)
        assert all(m in (1, None) for m in marks)


def test_no_shows_are_those_never_admitted(demo: Store, scanned: dict[str, str]) -> None:
    table = make(demo, "no-shows")
    expected = {i for i, _ in registered_people()} - arrived_indexes()
    assert len(table.rows) == len(expected)
    emails = set(table.column("E-mail"))
    assert emails == {PEOPLE[i]["email"] for i in expected}
    assert PEOPLE[VOIDED]["email"] in emails  # their only scan was undone
    assert PEOPLE[FORCED]["email"] not in emails  # a forced admission is an arrival
    assert set(table.column("Badge printed")) == {"No"}


def first_of_day1(index: int) -> datetime | None:
    """When attendee ``index`` first came in on 28 Aug, from the simulation's own lists."""
    times = []
    if index in DAY1 and index != VOIDED:
        times.append(arrival_day1(index))
    if index in OPENING:
        times.append(venue(28, 9, 2))
    if index in SESSION1:
        times.append(venue(28, 10, 31))
    if index == FORCED:
        times.append(venue(28, 10, 40))
    return min(times) if times else None


def test_late_arrivals_against_the_first_counting_session(
    demo: Store, scanned: dict[str, str]
) -> None:
    opening = venue(28, 9, 0)
    for grace in (15, 0):
        table = make(demo, "late-arrivals", late_grace_minutes=grace)
        expected = {}
        for i in range(len(PEOPLE)):
            first = first_of_day1(i)
            if first is not None and first > opening + timedelta(minutes=grace):
                expected[i] = int((first - opening).total_seconds() // 60)
        assert len(table.rows) == len(expected), grace
        assert table.column("Minutes late") == sorted(expected.values(), reverse=True)
        assert set(table.column("First session")) == {"Opening Session"}
        assert set(table.column("Day")) == {"Wed 28 Aug 2024"}  # day 2 arrivals at 08:30
        arrival = table.column("First arrival")[0]
        assert isinstance(arrival, datetime) and arrival.hour >= 9  # venue time, not UTC
    assert 100 in expected.values()  # the forced admission at 10:40 was their first arrival
    assert "15 minutes" in make(demo, "late-arrivals").notes[0]


def test_duplicate_admissions_flag_the_later_scan(demo: Store, scanned: dict[str, str]) -> None:
    table = make(demo, "duplicates")
    assert len(table.rows) == 1
    row = dict(zip(table.headers, table.rows[0], strict=True))
    assert row["Flagged scan"] == scanned["dup"]
    assert row["Door"] == "Entrance" and row["Minutes apart"] == 60
    assert row["Second desk"] == f"desk {DESK_B}"
    assert PEOPLE[5]["family_name"].upper() in str(row["Name"])


def test_badge_log_and_reprints_with_reasons(demo: Store) -> None:
    with demo.begin() as session:
        ctx = permissions.as_owner(desk.context(session))
        for i in range(10):
            badges.record_print(session, ctx, demo_attendee_id(i), "a6")
        badges.record_print(session, ctx, demo_attendee_id(3), "a6", reason="lost badge")
        badges.record_print(session, ctx, demo_attendee_id(3), "cr80", reason="ink smudged")
    log = make(demo, "badge-log")
    assert len(log.rows) == 12
    assert Counter(log.column("Print")) == {"First print": 10, "Reprint 1": 1, "Reprint 2": 1}
    assert "12 prints for 10 attendees, of which 2 reprints" in log.notes[0]
    again = make(demo, "reprints")
    assert again.column("Reason") == ["lost badge", "ink smudged"]
    assert again.column("Reprint no.") == [1, 2]
    assert len(set(again.column("Name"))) == 1


def test_certificates_issued_superseded_revoked(demo: Store) -> None:
    issued = venue(29, 17, 30).isoformat()
    with demo.begin() as session:
        ctx = desk.context(session)
        for serial, version, person in (("OI-1", 1, 0), ("OI-1", 2, 0), ("OI-2", 1, 1)):
            journal.record(
                session,
                ctx,
                "certificate.issue",
                {"attendee_id": demo_attendee_id(person), "serial": serial,
                 "version": version, "issued_at": issued, "name_printed": f"P{person}"},
            )  # fmt: skip
        journal.record(session, ctx, "certificate.revoke", {"serial": "OI-2"})
    table = make(demo, "certificates")
    statuses = {(r[0], r[1]): r[2] for r in table.rows}
    assert statuses == {
        ("OI-1", 1): "Superseded",
        ("OI-1", 2): "Issued",
        ("OI-2", 1): "Revoked",
    }
    assert "2 certificates (serials): 1 current, 1 superseded versions, 1 revoked" in table.notes[0]


def test_summary_by_economy_gender_origin_category_session_day(
    demo: Store, scanned: dict[str, str]
) -> None:
    table = make(demo, "summary")
    rows = {(r[0], r[1]): r for r in table.rows}
    people = registered_people()
    arrived = arrived_indexes()
    total = rows[("All participants", "Registered")]
    assert total[2:4] == (len(people), len(arrived))
    for gender, label in (("male", "Male"), ("female", "Female")):
        group = [i for i, p in people if p["gender"] == gender]
        assert rows[("By gender", label)][2:4] == (len(group), len(set(group) & arrived))
    local = [i for i, p in people if p["country"] == "PH"]
    overseas = [i for i, p in people if p["country"] != "PH"]
    assert rows[("Overseas and local", "Local (Philippines)")][2] == len(local)
    assert rows[("Overseas and local", "Overseas")][2:4] == (
        len(overseas),
        len(set(overseas) & arrived),
    )
    japan = [i for i, p in people if p["country"] == "JP"]
    assert rows[("By economy", "Japan")][2:4] == (len(japan), len(set(japan) & arrived))
    participants = [i for i, p in people if p["category"] == "participant"]
    assert rows[("By category", "Participant")][2] == len(participants)
    opening = rows[("Attendance per session", "Wed 28 Aug 09:00 Opening Session")]
    assert opening[2:5] == (len(people), len(OPENING), pytest.approx(len(OPENING) / len(people)))
    assert opening[6] == 150
    nobody = rows[("Attendance per session", "Thu 29 Aug 10:45 Session 4: "
                   "Best Practices and Case Studies in Open Innovation Management")]  # fmt: skip
    assert nobody[3:5] == (0, 0.0)
    briefing = rows[("Attendance per session", "Wed 28 Aug 08:00 Resource Persons' Briefing")]
    assert briefing[2] == sum(
        1 for _, p in people if p["category"] in ("resource_person", "secretariat", "vip")
    )
    day1 = rows[("Attendance per day", "Wed 28 Aug 2024")]
    day1_people = (set(DAY1) - {VOIDED}) | set(OPENING) | set(SESSION1) | {FORCED}
    assert day1[2:4] == (len(people), len(day1_people))
    assert rows[("Attendance per day", "Thu 29 Aug 2024")][3] == len(DAY2)


def test_figures_bin_first_arrivals_per_15_minutes(demo: Store, scanned: dict[str, str]) -> None:
    with demo.begin() as session:
        figures = event_figures(session, DEMO_EVENT_ID)
    bins = figures.arrivals[datetime(2024, 8, 28).date()]
    expected: Counter[datetime] = Counter()
    for i in range(len(PEOPLE)):
        first = first_of_day1(i)
        if first is not None:
            local = first + timedelta(hours=8)
            expected[local.replace(minute=local.minute // 15 * 15)] += 1
    assert expected[datetime(2024, 8, 28, 10, 30)] == 1  # the forced admission at 10:40
    assert {b.start: b.count for b in bins if b.count} == dict(expected)
    assert bins[0].start == datetime(2024, 8, 28, 8, 0)
    assert all((b.start.minute % 15) == 0 for b in bins)
    assert figures.today == datetime(2024, 8, 29).date()  # the desk runs as if 29 Aug 18:00


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["attendance-matrix", "no-shows", "late-arrivals", "duplicates"])
def test_no_scans_yet_says_so(demo: Store, name: str) -> None:
    with pytest.raises(ReportError, match="no one has been admitted yet"):
        make(demo, name)


def test_summary_with_no_scans_is_all_zero_and_says_why(demo: Store) -> None:
    table = make(demo, "summary")
    assert all(r[3] == 0 for r in table.rows)
    assert any("No scans have been recorded yet" in n for n in table.notes)


def test_nothing_printed_or_issued_yet_says_so(demo: Store) -> None:
    with pytest.raises(ReportError, match="no badge has been printed"):
        make(demo, "badge-log")
    with pytest.raises(ReportError, match="no certificate has been issued"):
        make(demo, "certificates")


def test_an_event_without_sessions_has_no_matrix(store: Store) -> None:
    from desktop import events

    with store.begin() as session:
        event_id = events.create_event(
            session, desk.desk_id(session), store.data_dir, {"name": "Bare", "code": "BR"}
        )
        desk.open_event(session, event_id)
        registry.register(session, desk.context(session), {"given_name": "Ana"})
    with pytest.raises(ReportError, match="no sessions yet"):
        make(store, "attendance-matrix")
    assert len(make(store, "participants").rows) == 1
    with store.begin() as session:
        figures = event_figures(session, event_id)
    assert figures.registered == 1 and figures.sessions == [] and figures.today is None


def test_names_need_the_export_permission_the_summary_does_not(demo: Store) -> None:
    with demo.begin() as session:
        staff = desk.context(session, operator_id=demo_operator_id("desk"))
        admin = desk.context(session, operator_id=demo_operator_id("admin"))
        with pytest.raises(permissions.PermissionDenied, match="export personal data"):
            reports.build(session, staff, "participants")
        assert not reports.may_make(session, staff, "no-shows")
        assert reports.may_make(session, staff, "summary")
        assert reports.build(session, staff, "summary").rows
        assert len(reports.build(session, admin, "participants").rows) == len(registered_people())


def test_an_erased_attendee_is_listed_without_a_name(demo: Store) -> None:
    from desktop import privacy

    with demo.begin() as session:
        privacy.erase_attendee(session, owner(demo), demo_attendee_id(0))
    table = make(demo, "participants")
    erased = [r for r in table.rows if r[1] == "(personal data erased)"]
    assert len(erased) == 1 and erased[0][2] == "Bangladesh" and erased[0][5] == "Male"


def test_reports_read_one_snapshot_without_holding_up_scans(
    demo: Store, scanned: dict[str, str]
) -> None:
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError

    from desktop.models import Scan

    count = select(func.count()).select_from(Scan)
    with demo.read() as session:
        before = session.scalar(count)
        # A scan at this desk while a long report is being read: it is written at once...
        scan(demo, 125, venue(29, 9, 0))
        # ...and the report keeps reading the state it started from.
        assert session.scalar(count) == before
        with pytest.raises(OperationalError, match=r"readonly|read-only|query_only"):
            session.connection().exec_driver_sql("DELETE FROM scans")
    with demo.begin() as session:
        assert session.scalar(count) == before + 1
