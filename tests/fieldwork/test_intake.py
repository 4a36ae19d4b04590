"""Reading a force's case list: every problem reported, nothing identifying accepted."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from apps.fieldwork.intake import (
    CaseListRejected,
    CaseRow,
    Problem,
    nhs_number_is_valid,
    read_case_list,
)

AREAS = {"domestic_abuse": "Domestic abuse", "missing_children": "Missing children"}
TODAY = dt.date(2025, 6, 30)
HEADER = "case_reference,audit_area,date_opened,date_closed,team"
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "case-list-example.csv"


def read(
    content: str | bytes,
    *,
    filename: str = "cases.csv",
    audit_areas: dict[str, str] = AREAS,
    max_rows: int = 200_000,
) -> list[CaseRow]:
    return read_case_list(
        filename=filename,
        content=content.encode() if isinstance(content, str) else content,
        audit_areas=audit_areas,
        today=TODAY,
        max_rows=max_rows,
    )


def problems(content: str | bytes, **options: Any) -> list[Problem]:
    with pytest.raises(CaseListRejected) as info:
        read(content, **options)
    return info.value.problems


def only_problem(content: str | bytes, **options: Any) -> Problem:
    found = problems(content, **options)
    assert len(found) == 1, found
    return found[0]


def csv_text(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Good files ---------------------------------------------------------------------------


def test_a_good_csv_gives_its_cases_in_order():
    content = csv_text(
        "DA-2024-00017,domestic_abuse,2024-01-08,2024-03-22,Public Protection Unit",
        '"MC/2024/102",missing_children,03/01/2024,,"MASH, North"',
        "DA-2024-00023,domestic_abuse,5/2/2024,,",
    )

    assert read(content) == [
        CaseRow(
            2,
            "DA-2024-00017",
            "domestic_abuse",
            dt.date(2024, 1, 8),
            dt.date(2024, 3, 22),
            "Public Protection Unit",
        ),
        CaseRow(3, "MC/2024/102", "missing_children", dt.date(2024, 1, 3), None, "MASH, North"),
        CaseRow(4, "DA-2024-00023", "domestic_abuse", dt.date(2024, 2, 5), None, ""),
    ]


def test_a_good_xlsx_gives_its_cases_with_date_cells():
    content = xlsx(
        [
            ["Case reference", "Audit area", "Date opened", "Date closed", "Team"],
            [
                "DA-2024-00017",
                "Domestic abuse",
                dt.datetime(2024, 1, 8),
                dt.date(2024, 3, 22),
                None,
            ],
            [10234, "missing_children", "03/01/2024", None, "Missing Persons Team"],
        ]
    )

    assert read(content, filename="Cases.XLSX") == [
        CaseRow(
            2, "DA-2024-00017", "domestic_abuse", dt.date(2024, 1, 8), dt.date(2024, 3, 22), ""
        ),
        CaseRow(3, "10234", "missing_children", dt.date(2024, 1, 3), None, "Missing Persons Team"),
    ]


def test_the_example_in_the_docs_is_a_good_case_list():
    areas = {**AREAS, "child_sexual_exploitation": "Child sexual exploitation"}

    cases = read(EXAMPLE.read_bytes(), filename=EXAMPLE.name, audit_areas=areas)

    assert len(cases) == 20
    assert {case.audit_area for case in cases} == set(areas)


def test_a_byte_order_mark_is_ignored():
    content = "\ufeff" + csv_text("DA-2024-00017,domestic_abuse,2024-01-08,,")

    assert [case.reference for case in read(content.encode("utf-8"))] == ["DA-2024-00017"]


def test_windows_line_endings_are_read():
    content = csv_text("DA-2024-00017,domestic_abuse,2024-01-08,,").replace("\n", "\r\n")

    assert [case.row for case in read(content)] == [2]


def test_headings_are_normalised_and_aliases_accepted():
    content = csv_text(
        "DA-2024-00017,domestic_abuse,2024-01-08,2024-02-01",
        header=" Case Ref , AREA,Date-Referred,closed",
    )

    assert read(content) == [
        CaseRow(2, "DA-2024-00017", "domestic_abuse", dt.date(2024, 1, 8), dt.date(2024, 2, 1), "")
    ]


@pytest.mark.parametrize("heading", ["reference", "case_ref", "Case reference", "CASE-REFERENCE"])
def test_each_alias_of_the_case_reference_is_accepted(heading):
    content = csv_text("DA-2024-00017,domestic_abuse,2024-01-08", header=f"{heading},area,opened")

    assert [case.reference for case in read(content)] == ["DA-2024-00017"]


@pytest.mark.parametrize(
    "cell", ["domestic_abuse", "Domestic abuse", "  DOMESTIC ABUSE ", "Domestic_Abuse"]
)
def test_an_audit_area_may_be_given_by_code_or_name_in_any_case(cell):
    content = csv_text(f"DA-2024-00017,{cell},2024-01-08,,")

    assert [case.audit_area for case in read(content)] == ["domestic_abuse"]


def test_blank_rows_are_ignored_and_row_numbers_kept():
    content = csv_text(
        "DA-2024-00017,domestic_abuse,2024-01-08,,",
        ",,,,",
        "",
        "   ,  ,,,",
        "DA-2024-00023,domestic_abuse,2024-01-09,,",
        "",
        ",,,,",
    )

    assert [case.row for case in read(content)] == [2, 6]


def test_blank_rows_and_columns_in_a_workbook_are_ignored():
    content = xlsx(
        [
            ["case_reference", "audit_area", None, "date_opened"],
            ["DA-2024-00017", "domestic_abuse", None, dt.datetime(2024, 1, 8)],
            [],
            [None, None, None, None],
            ["DA-2024-00023", "domestic_abuse", None, dt.datetime(2024, 1, 9)],
            [],
        ]
    )

    assert [(case.row, case.reference) for case in read(content, filename="cases.xlsx")] == [
        (2, "DA-2024-00017"),
        (5, "DA-2024-00023"),
    ]


def test_the_same_reference_may_be_listed_in_two_areas():
    content = csv_text(
        "DA-2024-00017,domestic_abuse,2024-01-08,,",
        "DA-2024-00017,missing_children,2024-01-08,,",
    )

    assert [case.audit_area for case in read(content)] == ["domestic_abuse", "missing_children"]


# Headings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "kind"),
    [
        ("Child name", "a name"),
        ("Forename", "a name"),
        ("SURNAME", "a name"),
        ("DOB", "a date of birth"),
        ("D.O.B.", "a date of birth"),
        ("Date of birth", "a date of birth"),
        ("Home address", "an address"),
        ("Street", "an address"),
        ("Postcode", "a postcode"),
        ("Post code", "a postcode"),
        ("NHS number", "an NHS number"),
        ("Phone", "a phone number"),
        ("Mobile", "a phone number"),
        ("Telephone number", "a phone number"),
        ("Email", "an email address"),
        ("E-mail", "an email address"),
        ("NI number", "a national insurance number"),
        ("National insurance", "a national insurance number"),
        ("UPN", "a pupil number"),
        ("Pupil ref", "a pupil number"),
        ("School", "a school"),
        ("School name", "a school"),
        ("GP", "a GP"),
        ("GP practice", "a GP"),
    ],
)
def test_a_column_that_looks_like_personal_information_is_refused(heading, kind):
    content = csv_text(
        "DA-2024-00017,domestic_abuse,2024-01-08,x", header=f"case_reference,area,opened,{heading}"
    )

    assert problems(content) == [
        Problem(
            None,
            heading,
            f"This column looks like it holds personal information ({kind}). Case lists must "
            "hold pseudonymous case references only: remove the column and upload again.",
        )
    ]


def test_every_refused_column_is_reported_and_rows_are_not_checked():
    content = csv_text(
        "not a reference!,nowhere,yesterday,Jane,Doe,x",
        header="case_reference,audit_area,date_opened,First name,Surname,Notes",
    )

    found = problems(content)

    assert [(p.row, p.column) for p in found] == [
        (None, "First name"),
        (None, "Surname"),
        (None, "Notes"),
    ]


def test_an_unknown_column_is_refused_listing_the_accepted_columns():
    problem = only_problem(
        csv_text("DA-2024-00017,domestic_abuse,2024-01-08,Yes", header=HEADER[:-5] + ",Priority")
    )

    assert problem.row is None
    assert problem.column == "Priority"
    assert "case_reference, audit_area, date_opened (required)" in problem.reason
    assert "date_closed and team (optional)" in problem.reason


def test_missing_required_columns_are_each_named():
    found = problems(csv_text("DA-2024-00017,Team A", header="case_reference,team"))

    assert [(p.row, p.column) for p in found] == [(None, "audit_area"), (None, "date_opened")]
    assert "(or area)" in found[0].reason
    assert "(or opened / date_referred)" in found[1].reason


def test_a_column_given_twice_is_refused():
    content = csv_text(
        "DA-1,DA-1,domestic_abuse,2024-01-08", header="reference,Case reference,area,opened"
    )

    problem = only_problem(content)

    assert (problem.row, problem.column) == (None, "Case reference")
    assert "'reference'" in problem.reason


def test_a_first_row_that_is_not_headings_is_refused_without_repeating_it():
    problem = only_problem(csv_text("DA-2024-00018,domestic_abuse,2024-01-09", header="DA-1,x,y"))

    assert (problem.row, problem.column) == (None, None)
    assert "first row does not hold the column headings" in problem.reason
    assert "DA-1" not in problem.reason


def test_a_semicolon_separated_file_gets_one_clear_problem():
    problem = only_problem(
        "case_reference;audit_area;date_opened\nDA-1;domestic_abuse;2024-01-08\n"
    )

    assert "semicolons" in problem.reason
    assert "CSV UTF-8" in problem.reason


def test_values_in_a_column_without_a_heading_are_refused():
    content = csv_text(
        "DA-2024-00017,domestic_abuse,2024-01-08",
        "DA-2024-00018,domestic_abuse,2024-01-08,North, East",
        header="case_reference,audit_area,date_opened,",
    )

    found = problems(content)

    assert [(p.row, p.column) for p in found] == [(None, None), (None, None)]
    assert found[0].reason.startswith("Column D has values but no heading (the first is in row 3)")
    assert found[1].reason.startswith("Column E has values but no heading")


# Rows ---------------------------------------------------------------------------------


def test_every_problem_in_every_row_is_reported_in_order():
    content = csv_text(
        "DA-2024-00001,domestic_abuse,2024-01-05,,MASH North",
        "DA-2024-00002,burglary,2024-13-01,,",
        ",Missing children,01/02/2024,01/01/2024,",
        "943 476 5919,domestic_abuse,2030-01-01,,",
        "da-2024-00001,Domestic Abuse,05/01/2024,,Call 07700 900123",
        "MC-2024-00009,missing_children,,,",
        header="Case reference,Audit area,Date opened,Date closed,Team",
    )

    found = problems(content)

    assert [(p.row, p.column) for p in found] == [
        (3, "Audit area"),
        (3, "Date opened"),
        (4, "Case reference"),
        (4, "Date closed"),
        (5, "Case reference"),
        (5, "Date opened"),
        (6, "Case reference"),
        (6, "Team"),
        (7, "Date opened"),
    ]
    reasons = [p.reason for p in found]
    assert "Use one of: Domestic abuse, Missing children." in reasons[0]
    assert "not a real calendar date" in reasons[1]
    assert "case reference is blank" in reasons[2]
    assert "before the date opened" in reasons[3]
    assert "looks like an NHS number" in reasons[4]
    assert "after today (30 June 2025)" in reasons[5]
    assert "already listed for Domestic abuse in row 2" in reasons[6]
    assert "contains a phone number" in reasons[7]
    assert "date opened is blank" in reasons[8]
    # Reasons never repeat what was in the cells: it may be the personal data refused.
    assert not any("943" in reason or "07700" in reason for reason in reasons)


def test_a_short_row_is_read_as_blank_cells():
    found = problems(csv_text("DA-2024-00001,domestic_abuse"))

    assert [(p.row, p.column) for p in found] == [(2, "date_opened")]


@pytest.mark.parametrize(
    ("reference", "kind"),
    [
        ("9434765919", "an NHS number"),
        ("943 476 5919", "an NHS number"),
        ("943-476-5919", "an NHS number"),
        # Ten digits with a wrong check digit: a mistyped NHS number or a phone number is
        # still personal, so every bare ten-digit number is refused.
        ("9434765918", "an NHS number or a phone number"),
        ("07700 900123", "a phone number"),
        ("07700900123", "a phone number"),
        ("(0161) 496 0000", "a phone number"),
        ("020-7946-0000", "a phone number"),
        ("+44 7700 900123", "a phone number"),
        ("+44 (0)7700 900123", "a phone number"),
        ("someone@example.org", "an email address"),
        ("SW1A 1AA", "a postcode"),
        ("sw1a1aa", "a postcode"),
        ("M1 1AE", "a postcode"),
        ("12/03/2011", "a date (perhaps a date of birth)"),
        ("2011-03-12", "a date (perhaps a date of birth)"),
        ("12.03.11", "a date (perhaps a date of birth)"),
    ],
)
def test_a_reference_that_looks_like_personal_information_is_refused(reference, kind):
    problem = only_problem(csv_text(f'"{reference}",domestic_abuse,2024-01-08,,'))

    assert (problem.row, problem.column) == (2, "case_reference")
    assert problem.reason == (
        f"The case reference looks like {kind}. Case lists must hold pseudonymous case "
        "references only: use the force's case reference instead."
    )


def test_a_date_cell_in_the_reference_column_of_a_workbook_is_refused():
    content = xlsx(
        [
            ["case_reference", "audit_area", "date_opened"],
            [dt.datetime(2011, 3, 12), "domestic_abuse", dt.datetime(2024, 1, 8)],
        ]
    )

    assert "looks like a date" in only_problem(content, filename="cases.xlsx").reason


@pytest.mark.parametrize(
    "reference", ["DA-2024-00017", "12345", "12345678901", "CP/2023/991", "a_b.c-1", "X" * 40]
)
def test_ordinary_references_are_accepted(reference):
    assert [
        case.reference for case in read(csv_text(f"{reference},domestic_abuse,2024-01-08"))
    ] == [reference]


@pytest.mark.parametrize(
    ("reference", "fragment"),
    [
        ("DA", "2 characters long; it must be 3 to 40"),
        ("X" * 41, "41 characters long"),
        ("DA 2024 00017", "may only use letters, digits"),
        ("-DA-2024", "must start with a letter or digit"),
        ("DA#17", "may only use letters, digits"),
    ],
)
def test_a_malformed_reference_is_refused(reference, fragment):
    problem = only_problem(csv_text(f"{reference},domestic_abuse,2024-01-08,,"))

    assert fragment in problem.reason


def test_a_repeated_reference_in_the_same_area_names_the_earlier_row():
    content = csv_text(
        "DA-2024-00017,domestic_abuse,2024-01-08,,",
        "DA-2024-00018,domestic_abuse,2024-01-08,,",
        "DA-2024-00017,Domestic abuse,2024-02-08,,",
    )

    problem = only_problem(content)

    assert (problem.row, problem.column) == (4, "case_reference")
    assert "already listed for Domestic abuse in row 2" in problem.reason


def test_an_unknown_audit_area_lists_the_names():
    problem = only_problem(csv_text("DA-2024-00017,Burglary,2024-01-08,,"))

    assert (problem.row, problem.column) == (2, "audit_area")
    assert problem.reason == (
        "The audit area is not one of this inspection's areas. "
        "Use one of: Domestic abuse, Missing children."
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024-01-08", dt.date(2024, 1, 8)),
        ("08/01/2024", dt.date(2024, 1, 8)),
        ("8/1/2024", dt.date(2024, 1, 8)),
        (" 8/1/2024 ", dt.date(2024, 1, 8)),
        ("08/01/2024 00:00", dt.date(2024, 1, 8)),
        ("2024-01-08 13:45:00", dt.date(2024, 1, 8)),
        ("2025-06-30", TODAY),
        ("2000-01-01", dt.date(2000, 1, 1)),
    ],
)
def test_dates_are_read_day_first_or_iso(cell, expected):
    assert [case.opened_on for case in read(csv_text(f"DA-1-2,domestic_abuse,{cell},,"))] == [
        expected
    ]


@pytest.mark.parametrize(
    ("opened", "closed", "column", "fragment"),
    [
        ("2025-07-01", "", "date_opened", "The date opened is after today (30 June 2025)."),
        ("1999-12-31", "", "date_opened", "before 1 January 2000"),
        ("1990-05-04", "", "date_opened", "it may be a date of birth"),
        ("2024-01-08", "2025-07-01", "date_closed", "The date closed is after today"),
        ("2024-01-08", "2024-01-07", "date_closed", "before the date opened"),
        ("03/25/2024", "", "date_opened", "written month first"),
        ("08/01/24", "", "date_opened", "two-digit year"),
        ("31/02/2024", "", "date_opened", "not a real calendar date"),
        ("8 January 2024", "", "date_opened", "not a date this upload can read"),
        ("20240108", "", "date_opened", "not a date this upload can read"),
        ("2024-01-08", "soon", "date_closed", "The date closed is not a date"),
    ],
)
def test_bad_dates_are_refused(opened, closed, column, fragment):
    problem = only_problem(csv_text(f"DA-2024-00017,domestic_abuse,{opened},{closed},"))

    assert (problem.row, problem.column) == (2, column)
    assert fragment in problem.reason


def test_a_number_in_a_date_column_of_a_workbook_is_refused():
    content = xlsx(
        [["case_reference", "audit_area", "date_opened"], ["DA-1-2", "domestic_abuse", 45300]]
    )

    problem = only_problem(content, filename="cases.xlsx")

    assert "is a number, not a date. Format the cell as a date" in problem.reason


@pytest.mark.parametrize(
    ("team", "kind"),
    [
        ("PPU (j.bloggs@example.org)", "an email address"),
        ("Call 07700 900123", "a phone number"),
        ("Team 2 0161 496 0000", "a phone number"),
        ("Ref 943 476 5919", "an NHS number"),
        ("Child in SW1A 1AA", "a postcode"),
    ],
)
def test_a_team_holding_personal_information_is_refused(team, kind):
    problem = only_problem(csv_text(f"DA-2024-00017,domestic_abuse,2024-01-08,,{team}"))

    assert (problem.row, problem.column) == (2, "team")
    assert f"looks like it contains {kind}" in problem.reason


@pytest.mark.parametrize("team", ["MASH 2", "Public Protection Unit (East)", "CSE Team 2024"])
def test_ordinary_teams_are_accepted(team):
    assert [
        case.team for case in read(csv_text(f"DA-2024-00017,domestic_abuse,2024-01-08,,{team}"))
    ] == [team]


def test_a_team_over_100_characters_is_refused():
    problem = only_problem(csv_text(f"DA-2024-00017,domestic_abuse,2024-01-08,,{'T' * 101}"))

    assert "101 characters long; it can be at most 100" in problem.reason


# Whole files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "fragment"),
    [("cases.pdf", "ends in .pdf"), ("cases.xls", "ends in .xls"), ("cases", "no file extension")],
)
def test_only_csv_and_xlsx_files_are_accepted(filename, fragment):
    problem = only_problem(csv_text("DA-2024-00017,domestic_abuse,2024-01-08,,"), filename=filename)

    assert (problem.row, problem.column) == (None, None)
    assert problem.reason.startswith("Only CSV or XLSX files can be uploaded")
    assert fragment in problem.reason


def test_a_csv_that_is_not_utf8_is_refused_suggesting_csv_utf8():
    content = csv_text("DA-2024-00017,domestic_abuse,2024-01-08,,Équipe").encode("cp1252")

    problem = only_problem(content)

    assert "not saved as UTF-8" in problem.reason
    assert "CSV UTF-8" in problem.reason


def test_a_workbook_named_csv_is_recognised():
    content = xlsx([["case_reference", "audit_area", "date_opened"]])

    assert "is an Excel workbook" in only_problem(content).reason


@pytest.mark.parametrize(
    "content", [b"case_reference,audit_area\n", b"%PDF-1.7 \x00\x01", b"PK\x03\x04junk"]
)
def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(content):
    problem = only_problem(content, filename="cases.xlsx")

    assert problem.reason.startswith("The file could not be opened as an Excel workbook")


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"", "cases.csv"),
        (b"\n\n  \r\n", "cases.csv"),
        (b"", "cases.xlsx"),
        (xlsx([]), "cases.xlsx"),
    ],
    # Stable ids: a workbook's bytes carry its creation time, and xdist workers must agree.
    ids=["empty-csv", "blank-lines-csv", "empty-xlsx", "workbook-without-rows"],
)
def test_an_empty_file_is_refused(content, filename):
    assert only_problem(content, filename=filename).reason.startswith("The file is empty.")


def test_a_file_with_only_headings_is_refused():
    problem = only_problem(csv_text(",,,,", ""))

    assert problem.reason.startswith("The file has a header row but no cases.")


def test_a_blank_first_row_is_refused():
    problem = only_problem("\n" + csv_text("DA-2024-00017,domestic_abuse,2024-01-08,,"))

    assert problem.reason.startswith("Row 1 is blank, but it must hold the column headings")


def test_too_many_rows_give_one_problem():
    rows = [f"DA-2024-{n:05d},domestic_abuse,2099-01-01,," for n in range(6)]

    problem = only_problem(csv_text(*rows), max_rows=5)

    assert problem.reason.startswith("The file has more than 5 cases")


def test_blank_rows_do_not_count_towards_the_limit():
    rows = [f"DA-2024-{n:05d},domestic_abuse,2024-01-01,," for n in range(5)]

    assert len(read(csv_text(*rows, ",,,,", "", ""), max_rows=5)) == 5


def test_the_rejection_names_the_file_and_counts_its_problems():
    with pytest.raises(CaseListRejected) as info:
        read(b"", filename="force-cases.csv")

    assert info.value.filename == "force-cases.csv"
    assert str(info.value) == "Case list 'force-cases.csv' refused: 1 problem"


def test_the_nhs_check_digit():
    assert nhs_number_is_valid("9434765919")
    assert nhs_number_is_valid("4010232137")
    assert not nhs_number_is_valid("9434765918")
    assert not nhs_number_is_valid("943476591")
