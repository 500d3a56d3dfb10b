"""Importing into the store: files made here, the store read back row by row, all or nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from desktop import desk, journal, registry, search
from desktop.demo_data import synthetic_attendees
from desktop.digest import state_digest
from desktop.importing import ImportFileError, safe_for_spreadsheet
from desktop.models import Attendee, Operation
from desktop.permissions import PermissionDenied
from desktop.registry_import import (
    ImportRefused,
    apply_plan,
    existing_attendees,
    import_file,
    import_parsed,
    read_and_parse,
)
from desktop.store import Store

HEADINGS = ["No.", "SURNAME", "Given name(s)", "Economy", "Agency", "Designation", "E-mail"]
HEADINGS += ["Type", "Remarks"]
PEOPLE = [
    ["1", "Nguyễn", "Văn An", "Viet Nam", "Ministry of Planning", "Director", "an@mpi.gov.vn"],
    ["2", "Şahin", "Ayşe", "Türkiye", "KOSGEB", "Expert", "ayse@kosgeb.gov.tr", "Speaker"],
    ["3", "Dela Cruz", "Juan", "PHILIPPINES", "DAP", "Fellow", "juan@dap.edu.ph", "Local"],
    ["4", "Byun", "Ha-eun", "Korea, Republic of", "KPC", "-Manager", "", "Observer"],
    [
        "5",
        "Tanaka",
        "Hiroshi",
        "Japan",
        '=HYPERLINK("x")',
        "+Chief",
        "tanaka@jpc.or.jp",
        "",
        "@veg",
    ],
]


def write_csv(path: Path, rows: list[list[str]], headings: list[str] = HEADINGS) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(headings)
        writer.writerows(rows)
    return path


def people(store: Store) -> dict[str, Attendee]:
    """The open event's attendees by e-mail (or family name when there is none)."""
    with store.begin() as session:
        event_id = desk.current_event_id(session)
        rows = session.scalars(select(Attendee).where(Attendee.event_id == event_id)).all()
        session.expunge_all()
    return {row.email or row.family_name: row for row in rows}


def operation_count(store: Store) -> int:
    with store.begin() as session:
        return int(session.scalar(select(func.count()).select_from(Operation)) or 0)


def digest(store: Store) -> str:
    with store.begin() as session:
        return str(state_digest(session)["all"])


def test_import_writes_every_row_as_read(tmp_path: Path, demo_store: Store) -> None:
    before = operation_count(demo_store)
    outcome = import_file(demo_store, write_csv(tmp_path / "list.csv", PEOPLE[:4]))
    assert outcome.error is None and outcome.result is not None
    assert [row for row, _ in outcome.result.created] == [2, 3, 4, 5]
    found = people(demo_store)
    an = found["an@mpi.gov.vn"]
    assert (an.given_name, an.family_name, an.country) == ("Văn An", "Nguyễn", "VN")
    assert (an.organisation, an.position, an.category) == (
        "Ministry of Planning",
        "Director",
        "participant",
    )
    assert an.badge_name == "Văn An Nguyễn" and an.status == "registered"
    assert an.short_code.startswith("OI-") and len(an.short_code) == 7
    ayse = found["ayse@kosgeb.gov.tr"]
    assert (ayse.country, ayse.category) == ("TR", "resource_person")
    assert (found["juan@dap.edu.ph"].country, found["juan@dap.edu.ph"].category) == (
        "PH",
        "local_participant",
    )
    byun = found["Byun"]
    assert (byun.given_name, byun.country, byun.category) == ("Ha-eun", "KR", "observer")
    # One journal operation per attendee, each naming the fields it set.
    assert operation_count(demo_store) == before + 4
    with demo_store.begin() as session:
        ops = session.scalars(
            select(Operation).where(Operation.kind == "attendee.put").order_by(Operation.hlc)
        ).all()
        last = ops[-4:]
        assert [op.payload["email"] for op in last[:3]] == [
            "an@mpi.gov.vn",
            "ayse@kosgeb.gov.tr",
            "juan@dap.edu.ph",
        ]
        assert len({op.hlc for op in last}) == 4
        stored = session.scalar(select(Attendee.field_hlc).where(Attendee.id == an.id))
    assert set(stored) >= {"given_name", "family_name", "country", "email", "short_code"}


def test_formula_cells_are_kept_as_text(tmp_path: Path, demo_store: Store) -> None:
    outcome = import_file(demo_store, write_csv(tmp_path / "f.csv", PEOPLE[4:]))
    assert outcome.error is None
    kinds = {(w.row_number, w.field, w.kind) for w in outcome.plan.warnings}
    assert {
        (2, "organisation", "formula"),
        (2, "position", "formula"),
        (2, "notes", "formula"),
    } <= kinds
    tanaka = people(demo_store)["tanaka@jpc.or.jp"]
    assert (tanaka.organisation, tanaka.position, tanaka.notes) == (
        '=HYPERLINK("x")',
        "+Chief",
        "@veg",
    )
    assert [
        safe_for_spreadsheet(v) for v in (tanaka.organisation, tanaka.position, tanaka.notes)
    ] == [
        '\'=HYPERLINK("x")',
        "'+Chief",
        "'@veg",
    ]
    import_file(demo_store, write_csv(tmp_path / "g.csv", PEOPLE[3:4]))
    assert people(demo_store)["Byun"].position == "-Manager"


def test_reimporting_the_same_file_changes_nothing(tmp_path: Path, demo_store: Store) -> None:
    path = write_csv(tmp_path / "list.csv", PEOPLE)
    first = import_file(demo_store, path)
    assert first.result is not None and len(first.result.created) == 5
    state, ops = digest(demo_store), operation_count(demo_store)
    again = import_file(demo_store, path)
    assert again.result is not None
    assert (len(again.plan.new), len(again.plan.updates), len(again.plan.unchanged)) == (0, 0, 5)
    assert not again.result.written
    assert digest(demo_store) == state
    assert operation_count(demo_store) == ops


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_reimporting_titles_reports_no_change(
    tmp_path: Path, demo_store: Store, suffix: str
) -> None:
    # Titles are stored in their usual spelling ("mr." -> "Mr", "atty" -> "Atty."); reading
    # the same cells again must give the same spelling, not a change to report.
    headings = ["Title", "Given name", "Family name", "Country", "E-mail", "Full name"]
    rows = [
        ["Mr", "Ramon", "Reyes", "Philippines", "ramon@dap.edu.ph", ""],
        ["Dr", "Lina", "Tan", "Singapore", "lina@psd.gov.sg", ""],
        ["Atty.", "Jose", "Santos", "Philippines", "jose@dap.edu.ph", ""],
        ["mr.", "Anan", "Chai", "Thailand", "anan@ftpi.or.th", ""],
        ["atty", "Rosa", "Lim", "Philippines", "rosa@dap.edu.ph", ""],
        ["", "", "", "Malaysia", "aziz@mpc.gov.my", "Mr. Aziz Hamid"],
        ["", "", "", "Japan", "ken@jpc.or.jp", "Prof Ken Sato"],
    ]
    path = write_csv(tmp_path / "titles.csv", rows, headings)
    if suffix == "xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        assert sheet is not None
        for cells in [headings, *rows]:
            sheet.append(cells)
        path = tmp_path / "titles.xlsx"
        workbook.save(path)
    first = import_file(demo_store, path)
    assert first.result is not None and len(first.result.created) == len(rows)
    stored = people(demo_store)
    titles = [stored[row[4]].honorific for row in rows]
    assert titles == ["Mr", "Dr", "Atty.", "Mr", "Atty.", "Mr", "Prof."]
    state, ops = digest(demo_store), operation_count(demo_store)
    again = import_file(demo_store, path)
    assert again.result is not None
    assert [u.changes for u in again.plan.updates] == []
    assert (len(again.plan.new), len(again.plan.unchanged)) == (0, len(rows))
    assert again.result.updated == [] and not again.result.written
    assert digest(demo_store) == state
    assert operation_count(demo_store) == ops


def test_updates_write_only_the_changed_fields(tmp_path: Path, demo_store: Store) -> None:
    path = write_csv(tmp_path / "list.csv", PEOPLE[:3])
    import_file(demo_store, path)
    before = people(demo_store)["ayse@kosgeb.gov.tr"]
    changed = [list(row) for row in PEOPLE[:3]]
    changed[1][4] = "KOSGEB Ankara"  # organisation
    changed[1][5] = ""  # an empty cell never erases the stored position
    changed[2][2] = "Juan Miguel"
    write_csv(path, changed)
    outcome = import_file(demo_store, path, dry_run=True)
    assert outcome.result is not None and outcome.result.dry_run and not outcome.result.written
    diffs = {u.row_number: u.changes for u in outcome.plan.updates}
    assert diffs == {
        3: {"organisation": ("KOSGEB", "KOSGEB Ankara")},
        4: {"given_name": ("Juan", "Juan Miguel")},
    }
    assert people(demo_store)["ayse@kosgeb.gov.tr"].organisation == "KOSGEB"  # dry run
    ops = operation_count(demo_store)
    outcome = import_file(demo_store, path)
    assert outcome.result is not None and outcome.result.updated == [
        (3, before.id),
        (4, people(demo_store)["juan@dap.edu.ph"].id),
    ]
    assert operation_count(demo_store) == ops + 2
    after = people(demo_store)["ayse@kosgeb.gov.tr"]
    assert (after.organisation, after.position, after.family_name) == (
        "KOSGEB Ankara",
        "Expert",
        "Şahin",
    )
    assert after.field_hlc["organisation"] > before.field_hlc["organisation"]
    assert after.field_hlc["position"] == before.field_hlc["position"]
    with demo_store.begin() as session:
        latest = session.scalars(select(Operation).order_by(Operation.hlc.desc()).limit(2)).all()
    payloads = sorted((op.payload for op in latest), key=lambda p: sorted(p))
    assert payloads == [
        {"id": people(demo_store)["juan@dap.edu.ph"].id, "given_name": "Juan Miguel"},
        {"id": before.id, "organisation": "KOSGEB Ankara"},
    ]
    document = outcome.as_dict()
    json.dumps(document)
    assert document["updates"][0]["changes"] == {
        "organisation": {"old": "KOSGEB", "new": "KOSGEB Ankara"}
    }


def test_problems_block_the_whole_import_unless_skipped(tmp_path: Path, demo_store: Store) -> None:
    rows = [list(row) for row in PEOPLE]
    rows[1][6] = "ayse(at)kosgeb"  # row 3: bad e-mail
    rows[3][3] = "Atlantis"  # row 5: unknown country
    rows.append(["6", "", "", "Japan", "JPC"])  # row 7: no name
    rows.append(list(PEOPLE[0]))  # row 8: the same person as row 2
    path = write_csv(tmp_path / "bad.csv", rows)
    state, ops = digest(demo_store), operation_count(demo_store)
    outcome = import_file(demo_store, path)
    assert outcome.result is None and outcome.error is not None
    assert outcome.error.startswith("nothing imported: 4 row(s) have problems")
    problems = {(p.row_number, p.kind) for p in outcome.plan.problems}
    assert problems == {(3, "bad_email"), (5, "unknown_country"), (7, "no_name"), (8, "duplicate")}
    assert digest(demo_store) == state and operation_count(demo_store) == ops
    with demo_store.begin() as session, pytest.raises(ImportRefused, match="4 row"):
        apply_plan(session, desk.context(session), outcome.plan)

    skipped = import_file(demo_store, path, skip_invalid=True)
    assert skipped.error is None and skipped.result is not None
    assert [row for row, _ in skipped.result.created] == [2, 4, 6]
    assert skipped.result.skipped_rows == [3, 5, 7, 8]
    assert {"an@mpi.gov.vn", "juan@dap.edu.ph", "tanaka@jpc.or.jp"} <= set(people(demo_store))
    assert not {"Ayşe", "Ha-eun"} & {p.given_name for p in people(demo_store).values()}
    assert operation_count(demo_store) == ops + 3


def test_a_thousand_bad_rows_each_named_and_nothing_written(
    tmp_path: Path, demo_store: Store
) -> None:
    good = list(synthetic_attendees(1000, seed=5))
    rows: list[list[str]] = []
    expected: dict[int, str] = {}
    kinds = ["no_name", "bad_email", "unknown_country", "unknown_category", "duplicate"]
    for index in range(2000):
        person = good[index // 2]
        row = [str(index), person["family_name"], person["given_name"], person["country"]]
        row += [person["organisation"], person["position"], person["email"], "participant"]
        number = index + 2
        if index % 2:
            kind = kinds[(index // 2) % len(kinds)]
            if kind == "no_name":
                row[1] = row[2] = ""
            elif kind == "bad_email":
                row[6] = f"person{index}.example.net"
            elif kind == "unknown_country":
                row[3] = f"Republic of Nowhere {index}"
            elif kind == "unknown_category":
                row[7] = "Astronaut"
            # "duplicate": the row repeats the one above it (same e-mail)
            expected[number] = kind
        rows.append(row)
    path = write_csv(tmp_path / "thousand.csv", rows)
    state = digest(demo_store)
    outcome = import_file(demo_store, path)
    assert outcome.result is None and outcome.error is not None
    found = {p.row_number: p.kind for p in outcome.plan.problems}
    assert found == expected
    assert all(str(p).startswith(f"row {p.row_number}: ") for p in outcome.plan.problems)
    assert len(outcome.plan.new) == 1000
    assert digest(demo_store) == state


def test_xlsx_with_titles_blank_rows_numbers_and_dates(tmp_path: Path, store: Store) -> None:
    from desktop import events

    with store.begin() as session:
        event_id = events.create_event(
            session, desk.desk_id(session), store.data_dir, {"name": "Workshop", "code": "WS"}
        )
        desk.open_event(session, event_id)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["APO Workshop — list of participants"])
    sheet.merge_cells("A1:F1")
    sheet.append([])
    sheet.append(["Last name", "First name", "Country", "Mobile", "Registered", "Email"])
    sheet.append(["Rizal", "José", "PH", 639171234567, dt.date(2024, 8, 1), "jose@example.ph"])
    sheet.append([])
    sheet.append(["Tan", "Wei Ling", "Singapore", 6591234567.0, dt.datetime(2024, 8, 2), ""])
    path = tmp_path / "list.xlsx"
    workbook.save(path)
    outcome = import_file(store, path)
    assert outcome.error is None and outcome.result is not None
    assert [row for row, _ in outcome.result.created] == [4, 6]
    found = people(store)
    assert (found["jose@example.ph"].phone, found["jose@example.ph"].short_code[:3]) == (
        "639171234567",
        "WS-",
    )
    assert (found["Tan"].given_name, found["Tan"].country, found["Tan"].phone) == (
        "Wei Ling",
        "SG",
        "6591234567",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "a PNG image, not a CSV or XLSX"),
        (b"PK\x03\x04" + bytes(100), "not a readable workbook"),
        (b"Colour,Size,Price\nred,L,12\n", "no heading row with a name column"),
    ],
)
def test_files_that_cannot_be_imported_write_nothing(
    tmp_path: Path, demo_store: Store, content: bytes, message: str
) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(content)
    state = digest(demo_store)
    with pytest.raises(ImportFileError, match=message) as raised:
        import_file(demo_store, path)
    assert str(raised.value).startswith("people.csv: ") and "\n" not in str(raised.value)
    assert digest(demo_store) == state


def test_ten_megabytes_of_junk(tmp_path: Path, demo_store: Store) -> None:
    path = tmp_path / "junk.xlsx"
    path.write_bytes(bytes(range(256)) * 40_960)
    state = digest(demo_store)
    with pytest.raises(ImportFileError, match=r"junk\.xlsx: not a CSV or XLSX file"):
        import_file(demo_store, path)
    assert digest(demo_store) == state


def _big_event(tmp_path: Path, store: Store, count: int, seed: int = 5) -> tuple[str, Any]:
    """A new event opened at the desk, and a file of `count` synthetic people parsed."""
    from desktop import events

    with store.begin() as session:
        event_id = events.create_event(
            session, desk.desk_id(session), store.data_dir, {"name": "Big", "code": "BG"}
        )
        desk.open_event(session, event_id)
    rows = [
        ["", p["family_name"], p["given_name"], p["country"], p["organisation"], "", p["email"], ""]
        for p in synthetic_attendees(count, seed=seed)
    ]
    return event_id, read_and_parse(write_csv(tmp_path / "big.csv", rows))[2]


def test_cancelling_between_steps_rolls_everything_back(tmp_path: Path, store: Store) -> None:
    event_id, parsed = _big_event(tmp_path, store, 6000, seed=2)
    state = digest(store)
    calls: list[tuple[int, int, str]] = []

    class Stop(Exception):
        pass

    def check_cancel() -> None:
        if len(calls) >= 3:
            raise Stop

    with pytest.raises(Stop), store.begin() as session:
        import_parsed(
            session,
            desk.context(session),
            parsed,
            progress=lambda done, total, message: calls.append((done, total, message)),
            check_cancel=check_cancel,
        )
    assert [call[:2] for call in calls] == [(0, 0), (0, 6000), (2000, 6000)]
    assert digest(store) == state
    with store.begin() as session:
        assert existing_attendees(session, event_id) == []
        # The page cache was put back for the next user of the connection.
        assert session.connection().exec_driver_sql("PRAGMA cache_size").scalar() == -2000


def test_a_plan_checked_earlier_is_refused_when_the_store_changed(
    tmp_path: Path, demo_store: Store
) -> None:
    _, _, parsed = read_and_parse(write_csv(tmp_path / "list.csv", PEOPLE[:2]))
    with demo_store.begin() as session:
        ctx = desk.context(session)
        checked, _ = import_parsed(session, ctx, parsed)
        session.rollback()
    # Meanwhile another desk registers one of the people in the file.
    with demo_store.begin() as session:
        registry.register(
            session,
            desk.context(session),
            {"given_name": "Ayşe", "family_name": "Şahin", "email": "ayse@kosgeb.gov.tr"},
        )
    state = digest(demo_store)
    with (
        pytest.raises(ImportRefused, match="changed since the file was checked"),
        demo_store.begin() as session,
    ):
        import_parsed(session, desk.context(session), parsed, expected=checked)
    assert digest(demo_store) == state


def test_only_an_administrator_may_import(tmp_path: Path, demo_store: Store) -> None:
    operator_id = str(uuid.uuid4())
    with demo_store.begin() as session:
        ctx = desk.context(session)
        journal.record(
            session,
            ctx,
            "operator.put",
            {"id": operator_id, "name": "Dana", "role": "desk", "active": True},
        )
    _, _, parsed = read_and_parse(write_csv(tmp_path / "list.csv", PEOPLE[:2]))
    state = digest(demo_store)
    with (
        pytest.raises(PermissionDenied, match="Only an administrator may import"),
        demo_store.begin() as session,
    ):
        import_parsed(session, desk.context(session, operator_id=operator_id), parsed)
    assert digest(demo_store) == state


def test_update_many_checks_ids_and_skips_equal_values(demo_store: Store) -> None:
    with demo_store.begin() as session:
        ctx = desk.context(session)
        someone = registry.list_attendees(session, ctx.event_id, limit=2)
        first, second = someone
        changed = registry.update_many(
            session,
            ctx,
            [
                (first.id, {"organisation": first.organisation, "position": "Chair"}),
                (second.id, {"country": second.country.lower()}),
            ],
        )
        assert changed == 1
        assert registry.get(session, ctx.event_id, first.id).position == "Chair"  # type: ignore[union-attr]
        with pytest.raises(registry.RegistryError, match="no attendee"):
            registry.update_many(session, ctx, [(str(uuid.uuid4()), {"position": "X"})])


def test_batch_op_ids_are_unique_uuid7(store: Store) -> None:
    ids = journal.new_op_ids(20_000)
    assert len(set(ids)) == 20_000
    for text in ids[:200]:
        value = uuid.UUID(text)
        assert value.version == 7 and value.variant == uuid.RFC_4122 and str(value) == text
    wall = int(ids[0].replace("-", "")[:12], 16)
    assert abs(wall - dt.datetime.now(dt.UTC).timestamp() * 1000) < 60_000


def test_bulk_rows_store_the_same_clock_text_as_one_by_one(tmp_path: Path, store: Store) -> None:
    from desktop import events

    with store.begin() as session:
        event_id = events.create_event(
            session, desk.desk_id(session), store.data_dir, {"name": "E", "code": "EE"}
        )
        desk.open_event(session, event_id)
        ctx = desk.context(session)
        bulk_id = registry.register_many(session, ctx, [{"given_name": "A", "family_name": "B"}])[0]
        single_id = registry.register(session, ctx, {"given_name": "A", "family_name": "B"})
        raw = session.connection().exec_driver_sql(
            "SELECT id, field_hlc FROM attendees WHERE id IN (?, ?)", (bulk_id, single_id)
        )
        texts: dict[str, Any] = dict(raw.fetchall())
    bulk, single = json.loads(texts[bulk_id]), json.loads(texts[single_id])
    assert list(bulk) == list(single)
    assert texts[bulk_id] == json.dumps(bulk)


@pytest.mark.parametrize(
    "hlc",
    ["1732800000000-0001-abcdef123456", '0000000000001-0000-desk"quote', "0000000000001-0000-dé"],
)
def test_clock_text_is_what_json_dumps_writes(hlc: str) -> None:
    for names in (["given_name"], ["given_name", "email", "country"], []):
        clocks = dict.fromkeys(names, hlc)
        assert journal._clocks_json(clocks, hlc) == json.dumps(clocks)


def test_a_large_import_is_indexed_step_by_step_with_rising_clocks(
    tmp_path: Path, store: Store
) -> None:
    event_id, parsed = _big_event(tmp_path, store, 6000)
    indexed: list[int] = []
    with store.begin() as session:

        def check_cancel() -> None:
            count = "SELECT count(*) FROM attendee_search"
            indexed.append(session.connection().exec_driver_sql(count).scalar())

        _, result = import_parsed(session, desk.context(session), parsed, check_cancel=check_cancel)
    # Each step's rows were searchable before the next step was written.
    assert indexed == [0, 2000, 4000, 6000]
    with store.begin() as session:
        in_order = "SELECT hlc FROM operations WHERE kind = 'attendee.put' ORDER BY rowid"
        clocks = [row[0] for row in session.connection().exec_driver_sql(in_order)]
        assert len(clocks) == 6000 and clocks == sorted(set(clocks))
        codes = session.scalars(select(Attendee.short_code)).all()
        assert len(set(codes)) == 6000
        # Found by name, from the first step and the last.
        for row_number, attendee_id in (result.created[0], result.created[-1]):
            person = session.get(Attendee, attendee_id)
            assert person is not None
            source = next(row for row in parsed.accepted if row.row_number == row_number)
            assert person.family_name == source.fields["family_name"]
            found = search.find(session, event_id, search.Query(text=person.family_name), None)
            assert attendee_id in found.ids
        assert not search.ensure_index(session)  # nothing to rebuild


def test_a_step_refused_while_being_prepared_writes_nothing(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_id, parsed = _big_event(tmp_path, store, 6000)
    state = digest(store)
    prepare = registry.Registrations.prepare
    calls: list[int] = []

    def second_refused(self: registry.Registrations, people: Any, **kw: Any) -> Any:
        calls.append(len(people))
        if len(calls) == 2:
            raise registry.RegistryError("row 2001: refused")
        return prepare(self, people, **kw)

    monkeypatch.setattr(registry.Registrations, "prepare", second_refused)
    with pytest.raises(registry.RegistryError, match="row 2001"), store.begin() as session:
        import_parsed(session, desk.context(session), parsed)
    assert calls == [2000, 2000]
    assert digest(store) == state
    with store.begin() as session:
        assert existing_attendees(session, event_id) == []
        assert (
            session.connection().exec_driver_sql("SELECT count(*) FROM attendee_search").scalar()
            == 0
        )
