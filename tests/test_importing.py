"""Import of participant lists: messy CSV and XLSX files made here, checked row by row."""

from __future__ import annotations

import datetime as dt
import json
import random
import zipfile
from pathlib import Path

import openpyxl
import pytest

from desktop.columns import guess_mapping, match_heading
from desktop.importing import (
    ImportFileError,
    ParseResult,
    parse_rows,
    plan_file,
    plan_import,
    read_table,
    safe_for_spreadsheet,
    split_full_name,
    valid_email,
)

HEADINGS = ["No.", "Family Name", "Given name(s)", "Economy", "Agency", "Designation", "E-mail"]
PEOPLE = [
    ["1", "Nguyễn", "Văn An", "Viet Nam", "Ministry of Planning", "Director", "an@mpi.gov.vn"],
    ["2", "Şahin", "Ayşe", "Türkiye", "KOSGEB", "Expert", "ayse@kosgeb.gov.tr"],
    ["3", "Dela Cruz", "Juan", "PHILIPPINES", "DAP", "Fellow, Research", "juan@dap.edu.ph"],
    ["4", "Lee", "Min-jun", "Korea, Republic of", "KPC", "Manager", ""],
]
EXPECTED = [
    {
        "family_name": "Nguyễn",
        "given_name": "Văn An",
        "country": "VN",
        "organisation": "Ministry of Planning",
        "position": "Director",
        "email": "an@mpi.gov.vn",
    },
    {
        "family_name": "Şahin",
        "given_name": "Ayşe",
        "country": "TR",
        "organisation": "KOSGEB",
        "position": "Expert",
        "email": "ayse@kosgeb.gov.tr",
    },
    {
        "family_name": "Dela Cruz",
        "given_name": "Juan",
        "country": "PH",
        "organisation": "DAP",
        "position": "Fellow, Research",
        "email": "juan@dap.edu.ph",
    },
    {
        "family_name": "Lee",
        "given_name": "Min-jun",
        "country": "KR",
        "organisation": "KPC",
        "position": "Manager",
    },
]


def csv_text(rows: list[list[str]], delimiter: str) -> str:
    """CSV the way spreadsheet programs write it: quotes only where needed, CRLF."""

    def cell(value: str) -> str:
        if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(delimiter.join(cell(v) for v in row) + "\r\n" for row in rows)


def write_xlsx(path: Path, rows: list[list[object]], title: str = "Participants") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def cells(text: str) -> list[str]:
    """A row written as "a|b|c", which keeps wide test rows on one line."""
    return text.split("|")


def fields_by_row(parsed: ParseResult) -> dict[int, dict[str, str]]:
    return {row.row_number: row.fields for row in parsed.accepted}


def parse(path: Path) -> ParseResult:
    table = read_table(path)
    return parse_rows(table, guess_mapping(table.headers, table.samples()))


# --- CSV encodings and delimiters ------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize(
    ("codec", "prefix", "reported"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("utf-16-le", b"\xff\xfe", "utf-16"),
        ("utf-16-be", b"\xfe\xff", "utf-16"),
        ("utf-16-le", b"", "utf-16-le"),
    ],
)
def test_csv_in_every_encoding_and_delimiter(
    tmp_path: Path, delimiter: str, codec: str, prefix: bytes, reported: str
) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(prefix + csv_text([HEADINGS, *PEOPLE], delimiter).encode(codec))
    table = read_table(path)
    assert (table.encoding, table.delimiter, table.source_format) == (reported, delimiter, "csv")
    assert table.header_row == 1
    assert table.headers == HEADINGS
    parsed = parse(path)
    assert parsed.problems == []
    assert fields_by_row(parsed) == {2: EXPECTED[0], 3: EXPECTED[1], 4: EXPECTED[2], 5: EXPECTED[3]}


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_in_windows_1252(tmp_path: Path, delimiter: str) -> None:
    rows = [HEADINGS, ["1", "Müller", "José", "Germany", "Zoll", "Chef", "jose@zoll.de"]]
    path = tmp_path / "list.csv"
    path.write_bytes(csv_text(rows, delimiter).encode("cp1252"))
    table = read_table(path)
    assert (table.encoding, table.delimiter) == ("cp1252", delimiter)
    assert fields_by_row(parse(path))[2] == {
        "family_name": "Müller",
        "given_name": "José",
        "country": "DE",
        "organisation": "Zoll",
        "position": "Chef",
        "email": "jose@zoll.de",
    }


def test_csv_title_rows_blank_rows_and_quoted_newlines(tmp_path: Path) -> None:
    text = (
        "APO Conference on Open Innovation in the Public Sector,,,\r\n"
        "Manila, 28-29 August 2024,,,\r\n"
        ",,,\r\n"
        "Surname,First name,Country,Remarks\r\n"
        'Santos,Maria,Philippines,"vegetarian,\nno nuts"\r\n'
        ",,,\r\n"
        "Tan,Wei Ling,Singapore,\r\n"
    )
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    table = read_table(path)
    assert table.header_row == 4
    assert table.delimiter == ","
    # Row numbers count records as a spreadsheet shows them, not text lines.
    assert fields_by_row(parse(path)) == {
        5: {
            "family_name": "Santos",
            "given_name": "Maria",
            "country": "PH",
            "notes": "vegetarian, no nuts",
        },
        7: {"family_name": "Tan", "given_name": "Wei Ling", "country": "SG"},
    }


def test_excel_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("sep=;\nName;Country\nAna Reyes;PH\n", encoding="utf-8")
    table = read_table(path)
    assert table.delimiter == ";"
    assert table.header_row == 1
    assert fields_by_row(parse(path)) == {
        2: {"given_name": "Ana", "family_name": "Reyes", "country": "PH"}
    }


def test_header_found_below_many_title_rows_but_not_past_the_search_window(
    tmp_path: Path,
) -> None:
    titles = [[f"Line {i} of the cover note"] for i in range(15)]
    path = tmp_path / "list.csv"
    path.write_text(csv_text([*titles, ["Surname", "Given name"], ["Ito", "Ken"]], ","), "utf-8")
    assert read_table(path).header_row == 16
    deep = [[f"Line {i}"] for i in range(30)]
    path.write_text(csv_text([*deep, ["Surname", "Given name"], ["Ito", "Ken"]], ","), "utf-8")
    with pytest.raises(ImportFileError, match="no heading row"):
        read_table(path)
    # The wizard can name the heading row when it is further down.
    table = read_table(path, header_row=31)
    assert table.headers == ["Surname", "Given name"]
    assert fields_by_row(parse_rows(table, guess_mapping(table.headers))) == {
        32: {"family_name": "Ito", "given_name": "Ken"}
    }


def test_title_mentioning_participants_is_not_the_heading_row(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(csv_text([["Participant list"], ["Col A", "Col B"], ["x", "y"]], ","), "utf-8")
    with pytest.raises(ImportFileError, match="no heading row with a name column"):
        read_table(path)


def test_repeated_heading_rows_are_skipped(tmp_path: Path) -> None:
    rows = [["Surname", "Given name"], ["Ito", "Ken"], ["Surname", "Given name"], ["Abe", "Yui"]]
    path = tmp_path / "list.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    assert sorted(fields_by_row(parse(path))) == [2, 4]


# --- XLSX ------------------------------------------------------------------------------------


def messy_workbook(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    notes = workbook.active
    assert notes is not None
    notes.title = "Read me"
    notes["A1"] = "Please fill in the list on the next sheet."
    sheet = workbook.create_sheet("List")
    sheet["A1"] = "APO Conference on Open Innovation in the Public Sector"
    sheet.merge_cells("A1:I1")
    sheet["A2"] = "List of participants"
    sheet.merge_cells("A2:I2")
    headings = ["No.", "LAST NAME", "First Name", "Country", "Ministry", "Title", "Mobile"]
    headings += ["Arrival", "Participant type"]
    for column, heading in enumerate(headings, start=1):
        sheet.cell(row=4, column=column, value=heading)
    data: list[list[object]] = [
        [1, "Rahman", "Abdul", "Bangladesh", "Cabinet Division", "Mr", 8801711000000, None, "RP"],
        [2, "Perera", "Nimal", None, "Ministry of Finance", "Dr.", 94771234567.0, None, "Observer"],
        [3, "=1+1", "Eve", "Sri Lanka", "@SUM(A1)", "Ms", "+94 11 234 5678", None, "VIP"],
        [4, "Chen", "Mei", "ROC", "NDC", "Prof.", None, dt.datetime(2024, 8, 27), "Staff"],
    ]
    data[1][7] = dt.datetime(2024, 8, 27, 14, 30)
    rows_at = [5, 6, 8, 9]  # row 7 stays blank
    for row_number, values in zip(rows_at, data, strict=True):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=row_number, column=column, value=value)
    # One country cell merged down over the delegation's two rows.
    sheet["D5"] = "Sri Lanka"
    sheet.merge_cells("D5:D6")
    workbook.active = 0
    workbook.save(path)
    return path


def test_xlsx_with_titles_merges_blank_rows_numbers_dates_and_formulas(tmp_path: Path) -> None:
    path = messy_workbook(tmp_path / "list.xlsx")
    table = read_table(path)
    assert (table.source_format, table.sheet, table.header_row) == ("xlsx", "List", 4)
    assert [row.row_number for row in table.rows] == [5, 6, 8, 9]
    cells = {row.row_number: row.cells for row in table.rows}
    assert cells[5][6] == "8801711000000"  # a phone typed as a number keeps no ".0"
    assert cells[6][6] == "94771234567"
    assert cells[6][7] == "2024-08-27 14:30:00"
    assert cells[9][7] == "2024-08-27"
    assert cells[8][1] == "=1+1"  # the formula's text, never its result
    assert cells[6][3] == "Sri Lanka"  # filled from the merged cell above

    parsed = parse(path)
    assert parsed.problems == []
    assert fields_by_row(parsed) == {
        5: {
            "family_name": "Rahman",
            "given_name": "Abdul",
            "country": "LK",
            "organisation": "Cabinet Division",
            "honorific": "Mr",
            "phone": "8801711000000",
            "category": "resource_person",
        },
        6: {
            "family_name": "Perera",
            "given_name": "Nimal",
            "country": "LK",
            "organisation": "Ministry of Finance",
            "honorific": "Dr",
            "phone": "94771234567",
            "category": "observer",
        },
        8: {
            "family_name": "=1+1",
            "given_name": "Eve",
            "country": "LK",
            "organisation": "@SUM(A1)",
            "honorific": "Ms",
            "phone": "+94 11 234 5678",
            "category": "vip",
        },
        9: {
            "family_name": "Chen",
            "given_name": "Mei",
            "country": "TW",
            "organisation": "NDC",
            "honorific": "Prof.",
            "category": "secretariat",
        },
    }
    formulas = {(w.row_number, w.field) for w in parsed.warnings if w.kind == "formula"}
    assert formulas == {(8, "family_name"), (8, "organisation")}
    assert "Arrival" in parsed.ignored_columns
    assert "No." in parsed.ignored_columns


def test_xlsx_cell_types_become_the_text_a_spreadsheet_shows(tmp_path: Path) -> None:
    values: list[object] = [0.1 + 0.2, 12.5, 639171234567.0, True, dt.time(9, 30), -7]
    path = write_xlsx(tmp_path / "types.xlsx", [["Surname", "A", "B", "C", "D", "E", "F"]])
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Ito", *values])
    workbook.save(path)
    assert read_table(path).rows[0].cells == [
        "Ito",
        "0.3",
        "12.5",
        "639171234567",
        "TRUE",
        "09:30:00",
        "-7",
    ]


def test_xlsx_wrong_stored_dimension_still_reads_every_column(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "list.xlsx", [["Surname", "Given name", "Country"]])
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Kim", "Ji-woo", "KR"])
    workbook.save(path)
    # Rewrite the sheet's <dimension> to claim only A1, as some exporters do.
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    sheet_xml = parts["xl/worksheets/sheet1.xml"].decode()
    assert 'ref="A1:C2"' in sheet_xml
    parts["xl/worksheets/sheet1.xml"] = sheet_xml.replace('ref="A1:C2"', 'ref="A1"').encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    assert fields_by_row(parse(path)) == {
        2: {"family_name": "Kim", "given_name": "Ji-woo", "country": "KR"}
    }


# --- Indico and pretix -----------------------------------------------------------------------


def test_indico_registrant_export(tmp_path: Path) -> None:
    rows = [
        cells(
            "ID|Name|Title|First Name|Last Name|Email Address|Affiliation|Position|Country|Phone"
            "|Registration date|Registration state"
        ),
        cells("17|Siti Aminah|Ms|Siti|Aminah|siti@lan.go.id|LAN|Analyst|ID|+62 21 123")
        + cells("2024-05-01|Complete"),
        cells("18|Arjun Mehta|Dr|||ARJUN@NPC.GOV.IN|NPC India|Director|IN||2024-05-02|Complete"),
        cells("19|Bo Zhang|Mr|Bo|Zhang|bo@example.org|X|Y|CN||2024-05-03|Withdrawn"),
    ]
    path = tmp_path / "indico.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    table = read_table(path)
    mapping = guess_mapping(table.headers, table.samples())
    assert mapping.source == "indico"
    by_heading = {c.heading: c.field for c in mapping.columns}
    assert by_heading["ID"] == "external_id"
    assert by_heading["Name"] == "full_name"
    assert by_heading["Title"] == "honorific"
    assert by_heading["Affiliation"] == "organisation"
    assert by_heading["Registration date"] is None
    parsed = parse_rows(table, mapping)
    assert fields_by_row(parsed) == {
        2: {
            "external_id": "indico:17",
            "honorific": "Ms",
            "given_name": "Siti",
            "family_name": "Aminah",
            "email": "siti@lan.go.id",
            "organisation": "LAN",
            "position": "Analyst",
            "country": "ID",
            "phone": "+62 21 123",
        },
        3: {
            "external_id": "indico:18",
            "honorific": "Dr",
            "given_name": "Arjun",
            "family_name": "Mehta",
            "email": "ARJUN@npc.gov.in",
            "organisation": "NPC India",
            "position": "Director",
            "country": "IN",
        },
    }
    assert [(w.row_number, w.kind) for w in parsed.warnings] == [(4, "skipped")]


def test_pretix_order_export(tmp_path: Path) -> None:
    headings = cells(
        "Order code|Position ID|Status|Email|Order date|Product|Price|Attendee name"
        "|Attendee name: Title|Attendee name: Given name|Attendee name: Family name"
        "|Attendee email|Company|Country|Invoice address name|Invoice address country"
    )
    text_rows = [
        headings,
        cells("K7Q2M|1|Paid|buyer@apo.org||Participant|0|Kim Ji-woo||Ji-woo|Kim|jiwoo@kpc.or.kr")
        + cells("KPC|KR|APO|JP"),
        cells("K7Q2M|2|Paid|buyer@apo.org||Speaker|0|Dr Park Soo|Dr|Soo|Park||KPC|KR|APO|JP"),
        cells("ZZ9X1|1|Canceled|c@x.org||Participant|0|Gone Person||Gone|Person|||FR||"),
        cells("M3N4P|1|Pending|solo@dap.edu.ph||Participant|0|Lito Ramos||Lito|Ramos||DAP")
        + cells("Philippines||"),
    ]
    # As pretix writes them: position numbers and prices as numbers, order dates as dates.
    rows: list[list[object]] = [[*row] for row in text_rows]
    for row in rows[1:]:
        row[1], row[4], row[6] = int(str(row[1])), dt.date(2024, 6, 1), 0
    path = write_xlsx(tmp_path / "pretix.xlsx", rows)
    table = read_table(path)
    mapping = guess_mapping(table.headers, table.samples())
    assert mapping.source == "pretix"
    fields = mapping.fields()
    assert fields["email"] == [11]
    assert fields["order_email"] == [3]
    assert fields["category"] == [5]  # "Product" holds categories here
    assert fields["country"] == [13]  # the invoice address is not the attendee's
    parsed = parse_rows(table, mapping)
    assert fields_by_row(parsed) == {
        2: {
            "external_id": "pretix:K7Q2M-1",
            "given_name": "Ji-woo",
            "family_name": "Kim",
            "email": "jiwoo@kpc.or.kr",
            "organisation": "KPC",
            "country": "KR",
            "category": "participant",
        },
        3: {
            "external_id": "pretix:K7Q2M-2",
            "honorific": "Dr",
            "given_name": "Soo",
            "family_name": "Park",
            "organisation": "KPC",
            "country": "KR",
            "category": "resource_person",
        },
        # The buyer's e-mail stands in only for the one attendee of an order.
        5: {
            "external_id": "pretix:M3N4P-1",
            "given_name": "Lito",
            "family_name": "Ramos",
            "email": "solo@dap.edu.ph",
            "organisation": "DAP",
            "country": "PH",
            "category": "participant",
        },
    }
    assert [(w.row_number, w.kind) for w in parsed.warnings] == [(4, "skipped")]


def test_pretix_product_names_that_are_not_categories_are_not_mapped(tmp_path: Path) -> None:
    rows = [
        ["Order code", "Product", "Attendee name", "Attendee email"],
        ["AAAA1", "Early bird ticket", "Ana Reyes", "ana@example.com"],
        ["BBBB2", "Regular ticket", "Ben Cruz", "ben@example.com"],
        ["BBBB2", "Workshop add-on", "Ben Cruz", "ben@example.com"],
    ]
    path = tmp_path / "pretix.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    parsed = parse(path)
    assert parsed.problems == []
    # An order code alone identifies a row only when the order has one position.
    assert fields_by_row(parsed)[2] == {
        "external_id": "pretix:AAAA1",
        "given_name": "Ana",
        "family_name": "Reyes",
        "email": "ana@example.com",
    }
    assert "external_id" not in fields_by_row(parsed)[3]
    assert "Product" in parsed.ignored_columns


# --- headings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "field"),
    [
        ("Family Name", "family_name"),
        ("Surname", "family_name"),
        ("LAST NAME", "family_name"),
        ("Last name*", "family_name"),
        ("Surname (as in passport)", "family_name"),
        ("Given name(s)", "given_name"),
        ("First name", "given_name"),
        ("Prénom", "given_name"),
        ("Full name", "full_name"),
        ("Name", "full_name"),
        ("Name on badge", "badge_name"),
        ("Name in native script", "native_name"),
        ("Salutation", "honorific"),
        ("Economy", "country"),
        ("Country", "country"),
        ("Member Economy", "country"),
        ("Nationality", "country"),
        ("Agency", "organisation"),
        ("Organization", "organisation"),
        ("Organisation", "organisation"),
        ("Ministry", "organisation"),
        ("Name of Ministry/Agency", "organisation"),
        ("Organization / Agency", "organisation"),
        ("Designation", "position"),
        ("Position", "position"),
        ("Job title", "position"),
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("E-MAIL ADDRESS (official)", "email"),
        ("Mobile", "phone"),
        ("Mobile No. (with country code)", "phone"),
        ("Tel.", "phone"),
        ("Sex", "gender"),
        ("Gender", "gender"),
        ("Category", "category"),
        ("Participant type", "category"),
        ("Remarks", "notes"),
        ("3. Family name", "family_name"),
    ],
)
def test_usual_headings(heading: str, field: str) -> None:
    found = match_heading(heading)
    assert found is not None
    assert found[0] == field


@pytest.mark.parametrize(
    "heading",
    [
        "No.",
        "#",
        "Date of birth",
        "Emergency contact phone",
        "Name of spouse",
        "Office address",
        "",
    ],
)
def test_headings_that_are_not_attendee_fields(heading: str) -> None:
    assert match_heading(heading) is None


def test_title_is_decided_by_its_values() -> None:
    headers = ["Surname", "Given name", "Title"]
    honorifics = guess_mapping(headers, [["A", "B", "Mr."], ["C", "D", "Dr"], ["E", "F", "ms"]])
    jobs = guess_mapping(headers, [["A", "B", "Director"], ["C", "D", "Chief Economist"]])
    assert honorifics.columns[2].field == "honorific"
    assert jobs.columns[2].field == "position"


def test_role_is_a_category_only_when_its_values_are() -> None:
    headers = ["Surname", "Given name", "Role"]
    categories = guess_mapping(headers, [["A", "B", "Speaker"], ["C", "D", "Participant"]])
    jobs = guess_mapping(headers, [["A", "B", "Planner"], ["C", "D", "Head of unit"]])
    assert categories.columns[2].field == "category"
    assert jobs.columns[2].field == "position"


def test_name_beside_surname_is_the_given_name() -> None:
    mapping = guess_mapping(["Name", "Surname", "Country"])
    assert [c.field for c in mapping.columns] == ["given_name", "family_name", "country"]
    assert mapping.source == "generic"


def test_mapping_corrected_by_hand(tmp_path: Path) -> None:
    rows = [["Surname", "Given name", "Org code"], ["Ito", "Ken", "JPC"]]
    path = tmp_path / "list.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    table = read_table(path)
    mapping = guess_mapping(table.headers)
    assert mapping.ignored == ["Org code"]
    corrected = mapping.assign(2, "organisation").assign(1, None)
    assert corrected.columns[2].reason == "set by hand"
    assert fields_by_row(parse_rows(table, corrected)) == {
        2: {"family_name": "Ito", "organisation": "JPC"}
    }
    with pytest.raises(ValueError, match="unknown field"):
        mapping.assign(0, "shoe_size")


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hiroshi Tanaka", ("", "Hiroshi", "Tanaka")),
        ("TANAKA Hiroshi", ("", "Hiroshi", "TANAKA")),
        ("Maria Clara SANTOS", ("", "Maria Clara", "SANTOS")),
        ("NGUYEN Van An", ("", "Van An", "NGUYEN")),
        ("Santos, Maria Clara", ("", "Maria Clara", "Santos")),
        ("Juan dela Cruz", ("", "Juan", "dela Cruz")),
        ("Ahmad bin Ismail", ("", "Ahmad", "bin Ismail")),
        ("Dr. Jose Rizal", ("Dr", "Jose", "Rizal")),
        ("Sukarno", ("", "", "Sukarno")),
        ("Jose Rizal Jr.", ("", "Jose", "Rizal Jr.")),
        ("Rizal, Jose, Jr.", ("", "Jose", "Rizal Jr.")),
        ("Engr. Juan DELA CRUZ III", ("Engr.", "Juan", "DELA CRUZ III")),
    ],
)
def test_split_full_name(text: str, expected: tuple[str, str, str]) -> None:
    assert split_full_name(text) == expected


@pytest.mark.parametrize(
    "address",
    [
        "a@b.co",
        "first.last+tag@dap.edu.ph",
        "o'neil@example.ie",
        "ana@xn--80ak6aa92e.com",
        "josé@correo.es",
        "x@sub.domain.gov.ph",
    ],
)
def test_valid_email(address: str) -> None:
    assert valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "plain",
        "a@b",
        "a@@b.com",
        "a@b..com",
        ".a@b.com",
        "a.@b.com",
        "a b@c.com",
        "a@-b.com",
        "a@b.c",
        "a@b.123",
        "@b.com",
        "a@",
        "x" * 65 + "@b.com",
    ],
)
def test_invalid_email(address: str) -> None:
    assert not valid_email(address)


def test_cell_values_are_normalised(tmp_path: Path) -> None:
    rows = [
        ["Participant name", "Sex", "Email", "Country", "Category", "Phone"],
        ["Ana Reyes", "F", "mailto:Ana.Reyes@DAP.EDU.PH", "phl", "Resource Speaker", "N/A"],
        ["Ben Cruz", "male", "ben@a.ph; ben@b.ph", "-", "Local participant", "—"],
        ["Chit Uy", "Non-binary", "", "Phillipines", "Secretariat", ""],
    ]
    path = tmp_path / "list.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    parsed = parse(path)
    assert fields_by_row(parsed) == {
        2: {
            "given_name": "Ana",
            "family_name": "Reyes",
            "gender": "female",
            "email": "Ana.Reyes@dap.edu.ph",
            "country": "PH",
            "category": "resource_person",
        },
        3: {
            "given_name": "Ben",
            "family_name": "Cruz",
            "gender": "male",
            "email": "ben@a.ph",
            "category": "local_participant",
        },
        4: {
            "given_name": "Chit",
            "family_name": "Uy",
            "gender": "Non-binary",
            "country": "PH",
            "category": "secretariat",
        },
    }
    assert sorted((w.row_number, w.kind) for w in parsed.warnings) == [
        (3, "several_emails"),
        (4, "country_guess"),
    ]


# --- problems --------------------------------------------------------------------------------


def test_every_problem_has_its_row_number(tmp_path: Path) -> None:
    rows = [
        ["Surname", "Given name", "Full name", "Email", "Country", "Category"],
        ["Ito", "Ken", "", "ken@jpc.or.jp", "Japan", "Participant"],
        ["", "", "", "nobody@x.org", "Japan", "Participant"],
        ["Abe", "Yui", "", "yui@", "Japan", "Participant"],
        ["Oda", "Rin", "", "rin@x.jp", "Atlantis", "Participant"],
        ["Mori", "Sho", "", "sho@x.jp", "Japan", "Sponsor"],
        ["", "", "Kato Mai", "", "Japan", "Observer"],
        ["X" * 400, "Long", "", "", "Japan", ""],
    ]
    path = tmp_path / "list.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    parsed = parse(path)
    assert sorted(fields_by_row(parsed)) == [2, 7]
    assert fields_by_row(parsed)[7]["family_name"] == "Mai"
    assert [(p.row_number, p.field, p.kind) for p in parsed.problems] == [
        (3, "family_name", "no_name"),
        (4, "email", "bad_email"),
        (5, "country", "unknown_country"),
        (6, "category", "unknown_category"),
        (8, "family_name", "too_long"),
    ]
    assert str(parsed.problems[1]) == "row 4: e-mail 'yui@' is not a valid address"
    assert "'Atlantis'" in parsed.problems[2].message
    assert "'Sponsor'" in parsed.problems[3].message


def test_duplicates_within_the_file(tmp_path: Path) -> None:
    rows = [
        ["Surname", "Given name", "Email", "Country"],
        ["Ito", "Ken", "ken@jpc.or.jp", "JP"],
        ["Ito", "Kenji", "KEN@jpc.or.jp", "JP"],  # same e-mail, other case
        ["Sato", "Aiko", "", "Japan"],
        ["AIKO", "Sato", "", "JP"],  # same name written the other way round
        ["Sato", "Aiko", "aiko@other.jp", "JP"],  # same name, e-mail only on one side
        ["Ito", "Ken", "ken2@jpc.or.jp", "JP"],  # same name, a different e-mail: someone else
        ["Sato", "Aiko", "", "PH"],  # same name, another country
    ]
    path = tmp_path / "list.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    plan = plan_import(parse(path), [])
    assert [r.row_number for r in plan.new] == [2, 4, 7, 8]
    assert [(p.row_number, p.kind, p.message) for p in plan.problems] == [
        (3, "duplicate", "duplicates row 2 (same e-mail)"),
        (5, "duplicate", "duplicates row 4 (same name and country)"),
        (6, "duplicate", "duplicates row 4 (same name and country)"),
    ]


EXISTING = [
    {
        "id": "a1",
        "given_name": "Ken",
        "family_name": "Ito",
        "email": "ken@jpc.or.jp",
        "country": "JP",
        "organisation": "JPC",
        "external_id": None,
    },
    {"id": "a2", "given_name": "Aiko", "family_name": "Sato", "email": "", "country": "JP"},
    {"id": "a3", "given_name": "Rin", "family_name": "Oda", "email": "rin@x.jp", "country": "JP"},
    {"id": "a4", "given_name": "Rin", "family_name": "Oda", "email": "", "country": "JP"},
]


def test_rows_matching_existing_attendees_become_updates_with_diffs(tmp_path: Path) -> None:
    rows = [
        ["Surname", "Given name", "Email", "Country", "Agency", "Position"],
        ["Ito", "Ken", "KEN@JPC.OR.JP", "Japan", "Japan Productivity Center", ""],
        ["Sato", "Aiko", "aiko@jpc.or.jp", "Japan", "", "Analyst"],
        ["Oda", "Rin", "", "Japan", "", ""],
        ["Ueda", "Jun", "jun@x.jp", "Japan", "", ""],
        ["Ito", "Ken", "", "Japan", "", ""],
    ]
    path = tmp_path / "list.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    plan = plan_import(parse(path), EXISTING)
    assert [(u.row_number, u.attendee_id, u.matched_by, u.changes) for u in plan.updates] == [
        (2, "a1", "e-mail", {"organisation": ("JPC", "Japan Productivity Center")}),
        (
            3,
            "a2",
            "name and country",
            {"email": ("", "aiko@jpc.or.jp"), "position": ("", "Analyst")},
        ),
    ]
    assert [r.row_number for r in plan.new] == [5]
    assert [(p.row_number, p.kind) for p in plan.problems] == [(4, "ambiguous"), (6, "duplicate")]
    assert "matches 2 existing attendees" in plan.problems[0].message
    assert plan.summary().startswith("1 new, 2 updated, 0 unchanged, 2 refused")


def test_external_id_match_and_conflict(tmp_path: Path) -> None:
    existing = [
        {"id": "p1", "given_name": "Siti", "family_name": "Aminah", "external_id": "indico:17"},
        {"id": "p2", "given_name": "Budi", "family_name": "Santoso", "email": "budi@lan.go.id"},
        {"id": "p3", "given_name": "Dewi", "family_name": "Lestari", "external_id": "indico:19"},
    ]
    rows = [
        ["ID", "Name", "First Name", "Last Name", "Email Address", "Registration state"],
        ["17", "Siti Aminah", "Siti", "Aminah-Putri", "", "Complete"],
        ["18", "Budi Santoso", "Budi", "Santoso", "budi@lan.go.id", "Complete"],
        ["19", "Dewi Lestari", "Dewi", "Lestari", "dewi@x.id", "Complete"],
    ]
    path = tmp_path / "indico.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    parsed = parse(path)
    plan = plan_import(parsed, existing)
    assert [(u.row_number, u.attendee_id, u.matched_by, u.changes) for u in plan.updates] == [
        (2, "p1", "external id", {"family_name": ("Aminah", "Aminah-Putri")}),
        (3, "p2", "e-mail", {"external_id": ("", "indico:18")}),
        (4, "p3", "external id", {"email": ("", "dewi@x.id")}),
    ]
    assert plan.problems == []
    # Row 4's id points at p3 but its e-mail at p4: which one is meant is unclear.
    other = {"id": "p4", "given_name": "Dewi", "family_name": "L.", "email": "DEWI@x.id"}
    clash = plan_import(parsed, [*existing, other])
    assert [(p.row_number, p.kind) for p in clash.problems] == [(4, "ambiguous")]
    assert "by external id and e-mail (p3, p4)" in clash.problems[0].message


def test_ids_and_emails_of_other_people(tmp_path: Path) -> None:
    rows = [
        ["ID", "Surname", "Given name", "Email", "Country"],
        ["5", "Santos", "Maria", "delegation@mof.gov.ph", "PH"],
        ["6", "Cruz", "Jose", "delegation@mof.gov.ph", "PH"],  # the delegation's address
        ["5", "Reyes", "Ana", "ana@dap.edu.ph", "PH"],  # a serial number, not an id
        ["7", "Lim", "Ben", "ben@dap.edu.ph", "PH"],
    ]
    path = tmp_path / "list.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    existing = [{"id": "z9", "given_name": "Tom", "family_name": "Go", "external_id": "7"}]
    plan = plan_import(parse(path), existing)
    assert [r.row_number for r in plan.new] == [2, 3]
    assert [(p.row_number, p.kind) for p in plan.problems] == [
        (4, "id_conflict"),
        (5, "id_conflict"),
    ]
    assert plan.problems[0].message == "has the external id of row 2, another person"
    assert "belongs to attendee z9, who has another name" in plan.problems[1].message
    assert [(w.row_number, w.kind) for w in plan.warnings] == [(3, "shared_email")]


def test_reimporting_the_same_file_changes_nothing(tmp_path: Path) -> None:
    path = messy_workbook(tmp_path / "list.xlsx")
    first = plan_file(path)[2]
    assert len(first.new) == 4
    stored = [{"id": f"id{r.row_number}", **r.fields} for r in first.new]
    second = plan_file(path, stored)[2]
    assert (len(second.new), len(second.updates), len(second.unchanged)) == (0, 0, 4)
    assert second.problems == []


def test_empty_cells_never_erase_stored_values(tmp_path: Path) -> None:
    rows = [["Surname", "Given name", "Email", "Phone"], ["Ito", "Ken", "ken@jpc.or.jp", ""]]
    path = tmp_path / "list.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    stored = [dict(EXISTING[0], phone="+81 3 1234")]
    plan = plan_import(parse(path), stored)
    assert plan.unchanged == [(2, "a1")]
    assert plan.updates == []


def test_plan_as_dict_is_json_ready(tmp_path: Path) -> None:
    rows = [["Surname", "Given name", "Email"], ["Ito", "Ken", "ken@new.jp"], ["Ueda", "", "x@"]]
    path = tmp_path / "list.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    stored = dict(EXISTING[0], email="", country="")
    data = json.loads(json.dumps(plan_file(path, [stored])[2].as_dict()))
    assert data["new"] == []
    assert data["updates"] == [
        {
            "row": 2,
            "attendee": "a1",
            "matched_by": "name and country",
            "changes": {"email": {"old": "", "new": "ken@new.jp"}},
        }
    ]
    assert data["problems"] == [
        {
            "row": 3,
            "field": "email",
            "kind": "bad_email",
            "message": "e-mail 'x@' is not a valid address",
        }
    ]


# --- bad input -------------------------------------------------------------------------------


def test_not_a_spreadsheet(tmp_path: Path) -> None:
    cases = {
        "image.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10,
        "scan.csv": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "photo.xlsx": b"\xff\xd8\xff\xe0" + bytes(300),
        "old.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
    }
    expected = {
        "image.csv": "image.csv: this is a PNG image, not a CSV or XLSX spreadsheet",
        "scan.csv": "scan.csv: this is a PDF document, not a CSV or XLSX spreadsheet",
        "photo.xlsx": "photo.xlsx: this is a JPEG image, not a CSV or XLSX spreadsheet",
        "old.xls": "old.xls: an old Excel .xls file or a password-protected workbook; "
        "save it as .xlsx (without a password) or as CSV",
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ImportFileError) as caught:
            read_table(path)
        assert str(caught.value) == expected[name]


@pytest.mark.parametrize("content", [b"", b"   \r\n", b"\xef\xbb\xbf", b"\n\n\n\n\n\n\n\n\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=r"empty|no data"):
        read_table(path)


@pytest.mark.parametrize("name", ["junk.csv", "junk.xlsx", "junk.txt"])
def test_ten_megabytes_of_random_bytes(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(random.Random(7).randbytes(10_000_000))
    with pytest.raises(ImportFileError) as caught:
        read_table(path)
    assert str(caught.value).startswith(f"{name}: not a CSV or XLSX file")
    assert "\n" not in str(caught.value)


def test_random_text_has_no_heading_row(tmp_path: Path) -> None:
    generator = random.Random(3)
    words = ["lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "12", "x"]
    lines = [",".join(generator.choice(words) for _ in range(6)) for _ in range(50_000)]
    path = tmp_path / "text.csv"
    path.write_text("\n".join(lines), "utf-8")
    with pytest.raises(ImportFileError, match="no heading row with a name column") as caught:
        read_table(path)
    assert "the first row reads" in str(caught.value)


def test_zip_files_that_are_not_workbooks(tmp_path: Path) -> None:
    cases = {
        "archive.xlsx": ("notes.txt", "a ZIP archive, not an XLSX workbook"),
        "sheet.xlsx": ("content.xml", "an OpenDocument spreadsheet (.ods)"),
        "letter.xlsx": ("word/document.xml", "a Word document"),
    }
    for name, (member, message) in cases.items():
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(member, "hello")
        with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
            read_table(path)


def test_damaged_workbook(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [["Surname"], ["Ito"]])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ImportFileError, match=r"cut\.xlsx: "):
        read_table(cut)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            target.writestr(name, data)
    with pytest.raises(ImportFileError, match=r"broken\.xlsx: cannot read the workbook"):
        read_table(broken)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("Surname\n" + "Ito\n" * 1000, "utf-8")
    with pytest.raises(
        ImportFileError, match=r"big\.csv: the file is 4 kB; the limit is 100 bytes"
    ):
        read_table(path, max_bytes=100)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"nowhere\.csv: cannot open the file"):
        read_table(tmp_path / "nowhere.csv")
    with pytest.raises(ImportFileError, match="is a folder"):
        read_table(tmp_path)


def test_headings_the_mapper_cannot_place(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("Col1,Col2,Col3\nA,B,C\nD,E,F\n", "utf-8")
    with pytest.raises(ImportFileError) as caught:
        read_table(path)
    assert str(caught.value) == (
        "codes.csv: no heading row with a name column in the first 20 rows (looked for "
        "headings such as 'Family name', 'Given name', 'Name', 'Country', 'E-mail'); "
        "the first row reads: 'Col1 | Col2 | Col3'"
    )
    # With the heading row forced, the mapping still finds no name column.
    table = read_table(path, header_row=1)
    with pytest.raises(ImportFileError, match="no column gives names"):
        parse_rows(table, guess_mapping(table.headers))


def test_workbook_without_a_heading_row_on_any_sheet(tmp_path: Path) -> None:
    path = tmp_path / "numbers.xlsx"
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.append([1, 2, 3])
    workbook.create_sheet("Other").append(["a", "b"])
    workbook.save(path)
    with pytest.raises(ImportFileError, match="in the first 20 rows of any sheet"):
        read_table(path)


def test_heading_without_data_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "blank.xlsx", [["Title of the list"], [], ["Surname", "Email"]])
    with pytest.raises(ImportFileError, match=r"heading row \(row 3\) has no data rows"):
        read_table(path)


def test_a_thousand_bad_rows(tmp_path: Path) -> None:
    rows = [["Surname", "Given name", "Email"]]
    rows += [[f"Person{i}", "A", f"person{i}-at-example.com"] for i in range(1000)]
    path = tmp_path / "bad.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    with pytest.raises(ImportFileError) as caught:
        parse(path)
    message = str(caught.value)
    assert message.startswith(
        "bad.csv: none of the 1000 rows can be imported: bad email in 1000 row(s): 2, 3, 4 "
        "and 997 more"
    )
    assert "\n" not in message
    assert [p.row_number for p in caught.value.problems] == list(range(2, 1002))


def test_a_thousand_bad_rows_among_good_ones(tmp_path: Path) -> None:
    rows = [["Surname", "Given name", "Email"]]
    rows += [[f"P{i}", "A", f"p{i}@x.org" if i % 2 else f"p{i}@"] for i in range(2000)]
    path = tmp_path / "half.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    plan = plan_import(parse(path), [])
    assert len(plan.new) == 1000
    assert len(plan.problems) == 1000
    assert all(p.row_number is not None and p.row_number % 2 == 0 for p in plan.problems)
    assert plan.summary().startswith("1000 new, 0 updated, 0 unchanged, 1000 refused")


# --- formulas --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+63 917 000", "'+63 917 000"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("  =HYPERLINK()", "'  =HYPERLINK()"),
        ("＝1+1", "'＝1+1"),
        ("Ito", "Ito"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_safe_for_spreadsheet(value: str, safe: str) -> None:
    assert safe_for_spreadsheet(value) == safe


def test_formula_looking_csv_cells_stay_text(tmp_path: Path) -> None:
    rows = [
        ["Surname", "Given name", "Agency", "Phone"],
        ['=HYPERLINK("http://x","y")', "A", "+cmd|' /C calc'!A0", "+63 2 8123 4567"],
    ]
    path = tmp_path / "evil.csv"
    path.write_text(csv_text(rows, ","), "utf-8")
    parsed = parse(path)
    assert fields_by_row(parsed)[2] == {
        "family_name": '=HYPERLINK("http://x","y")',
        "given_name": "A",
        "organisation": "+cmd|' /C calc'!A0",
        "phone": "+63 2 8123 4567",
    }
    assert sorted(w.field or "" for w in parsed.warnings) == ["family_name", "organisation"]
