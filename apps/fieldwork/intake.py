"""Read a force's list of eligible cases (CSV or XLSX) so a sample can be drawn from it.

A case list holds pseudonymous case references only. Anything that looks like it
identifies a child (a name column, an NHS number, a postcode, a date of birth...) is
refused, and so is the whole file: the upload is all or nothing, and the caller gets
every problem at once (row, column, reason) so the analyst can fix them in one go.

Problem reasons never quote cell contents: a refused value may be exactly the
personal data we are keeping out, and problems may be shown, logged or emailed. The
row and column are enough to find the cell.

This module is pure Python plus openpyxl; storing the accepted rows is the caller's job.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

MAX_REFERENCE_LENGTH = 40
MIN_REFERENCE_LENGTH = 3
MAX_TEAM_LENGTH = 100
EARLIEST_DATE = dt.date(2000, 1, 1)

REQUIRED_COLUMNS = ("case_reference", "audit_area", "date_opened")
OPTIONAL_COLUMNS = ("date_closed", "team")

# Normalised heading -> column. The canonical names map to themselves.
COLUMN_ALIASES: Mapping[str, str] = {
    **{name: name for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS},
    "reference": "case_reference",
    "case_ref": "case_reference",
    "area": "audit_area",
    "opened": "date_opened",
    "date_referred": "date_opened",
    "closed": "date_closed",
}

# Headings that suggest personal information, most specific first, so that
# "school_name" reads as a school and "date_of_birth" as a date of birth.
_IDENTIFIER_HEADINGS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("dob", "birth"), "a date of birth"),
    (("postcode", "post_code"), "a postcode"),
    (("nhs",), "an NHS number"),
    (("ni_number", "national_insurance"), "a national insurance number"),
    (("upn", "pupil"), "a pupil number"),
    (("school",), "a school"),
    (("gp",), "a GP"),
    (("phone", "mobile", "telephone"), "a phone number"),
    (("email", "e_mail"), "an email address"),
    (("address", "street"), "an address"),
    (("name", "forename", "surname"), "a name"),
)

_HEADING_SEPARATORS = re.compile(r"[\s\-]+")
_HEADING_PUNCTUATION = re.compile(r"[^a-z0-9_]")

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_.\-]*")
# The usual reference: the right length and characters, with a letter, so it cannot be a
# number or a date (postcodes are checked separately).
_PLAIN_REFERENCE = re.compile(r"(?=[^A-Za-z]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9/_.\-]{2,39}")
# Only values made of digits and separators can be NHS numbers, phone numbers or dates.
_NUMERIC_LIKE = re.compile(r"[0-9 ()\-./+]+")
_NUMBER_SEPARATORS = re.compile(r"[ ()\-.]")
_TEN_DIGITS = re.compile(r"[0-9]{10}")
_PHONE = re.compile(r"0[0-9]{9,10}|(?:\+|00)440?[0-9]{9,10}")
_DATE_LIKE = re.compile(
    r"[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-](?:[0-9]{2}|[0-9]{4})"
    r"|[0-9]{4}[/.\-][0-9]{1,2}[/.\-][0-9]{1,2}"
)
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
# The UK government data standard pattern, with the space optional.
_POSTCODE_PATTERN = (
    r"(?:GIR ?0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPS-UW]"
    r"|[A-HK-Y][0-9][ABEHMNPRV-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2})"
)
_POSTCODE = re.compile(_POSTCODE_PATTERN, re.IGNORECASE)
_POSTCODE_IN_TEXT = re.compile(
    rf"(?<![A-Za-z0-9]){_POSTCODE_PATTERN}(?![A-Za-z0-9])", re.IGNORECASE
)
_DIGIT = re.compile(r"[0-9]")
# A run of digits and separators in free text, and the digit groups within it.
_NUMBER_RUN = re.compile(r"\+?[0-9][0-9 ()\-.]*")
_DIGIT_GROUP = re.compile(r"\+?[0-9]+")

_ISO_DATE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
)
_UK_DATE = re.compile(
    r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?: [0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?"
)
_SHORT_YEAR_DATE = re.compile(r"[0-9]{1,2}[/.\-][0-9]{1,2}[/.\-][0-9]{2}(?: .*)?")

_ZIP_MAGIC = b"PK\x03\x04"

_Rows = Generator[Sequence[Any], None, None]

_DATE_LABELS = {"date_opened": "date opened", "date_closed": "date closed"}


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One accepted case from the list."""

    row: int  # the 1-based row number in the file; the header is row 1
    reference: str
    audit_area: str  # the audit area code
    opened_on: dt.date
    closed_on: dt.date | None
    team: str  # "" if absent


@dataclass(frozen=True, slots=True)
class Problem:
    """Why (part of) a case list was refused."""

    row: int | None  # None for whole-file and header problems
    column: str | None  # the heading as written in the file, or the missing column's name
    reason: str  # a complete sentence saying what is wrong and what to do


class CaseListRejected(Exception):
    """The case list was refused; `problems` holds every problem found, in file order."""

    def __init__(self, filename: str, problems: Sequence[Problem]) -> None:
        self.filename = filename
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"Case list {filename!r} refused: {count} problem{'s' * (count != 1)}")


class _UnreadableFile(Exception):
    """The file cannot be read at all; the message is the reason to show."""


def read_case_list(
    *,
    filename: str,
    content: bytes,
    audit_areas: Mapping[str, str],
    today: dt.date,
    max_rows: int = 200_000,
) -> list[CaseRow]:
    """Parse and check an uploaded case list, returning its cases in file order.

    `audit_areas` maps each audit area code of the inspection to its display name; a
    cell may hold either, in any case. Raises CaseListRejected listing every problem
    (header and whole-file problems first, then by row and column) if anything is
    wrong; nothing is partially accepted.
    """
    kind = _file_kind(filename)
    if kind is None:
        suffix = filename.rsplit(".", 1)[-1] if "." in filename else ""
        ending = f"ends in .{suffix}" if suffix else "has no file extension"
        raise CaseListRejected(
            filename,
            [
                Problem(
                    None,
                    None,
                    f"Only CSV or XLSX files can be uploaded, and this file {ending}. "
                    "Save the case list as 'CSV UTF-8' or as an Excel workbook (.xlsx) "
                    "and upload it again.",
                )
            ],
        )
    if not content.strip():
        raise CaseListRejected(filename, [Problem(None, None, _EMPTY_FILE)])
    rows = _csv_rows(content) if kind == "csv" else _xlsx_rows(content)
    try:
        problems, cases = _check(rows, audit_areas=audit_areas, today=today, max_rows=max_rows)
    except _UnreadableFile as exc:
        raise CaseListRejected(filename, [Problem(None, None, str(exc))]) from None
    finally:
        rows.close()  # closes the workbook if we stopped reading early
    if problems:
        raise CaseListRejected(filename, problems)
    return cases


def personal_identifier_kind(value: str) -> str | None:
    """What a whole value looks like if it looks like a personal identifier, else None.

    Any ten-digit number is refused, not only those with a valid NHS check digit: a
    mistyped NHS number still identifies a child, and so does a ten-digit phone number.
    """
    if _NUMERIC_LIKE.fullmatch(value):
        if _DATE_LIKE.fullmatch(value):
            return "a date (perhaps a date of birth)"
        digits = _NUMBER_SEPARATORS.sub("", value)
        return _number_kind(digits)
    if "@" in value and _EMAIL.search(value):
        return "an email address"
    if 5 <= len(value) <= 8 and _POSTCODE.fullmatch(value):
        return "a postcode"
    return None


def personal_identifier_in_text(text: str) -> str | None:
    """What free text contains if it holds an email, phone, NHS number or postcode."""
    if "@" in text and _EMAIL.search(text):
        return "an email address"
    if not _DIGIT.search(text):
        return None
    for run in _NUMBER_RUN.findall(text):
        groups = _DIGIT_GROUP.findall(run)
        # Try every stretch of neighbouring groups, so "Team 2 07700 900123" is caught.
        for start in range(len(groups)):
            for end in range(start + 1, len(groups) + 1):
                kind = _number_kind("".join(groups[start:end]))
                if kind:
                    return kind
    if _POSTCODE_IN_TEXT.search(text):
        return "a postcode"
    return None


def nhs_number_is_valid(digits: str) -> bool:
    """Whether ten digits carry a valid NHS number (modulus 11) check digit."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _number_kind(digits: str) -> str | None:
    if _TEN_DIGITS.fullmatch(digits):
        if nhs_number_is_valid(digits):
            return "an NHS number"
        if digits.startswith("0"):
            return "a phone number"
        return "an NHS number or a phone number"
    if _PHONE.fullmatch(digits):
        return "a phone number"
    return None


def _file_kind(filename: str) -> str | None:
    lowered = filename.strip().lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith(".xlsx"):
        return "xlsx"
    return None


_EMPTY_FILE = "The file is empty. Upload a case list with a header row and then one row per case."


# Reading ------------------------------------------------------------------------------


def _csv_rows(content: bytes) -> _Rows:
    if content.startswith(_ZIP_MAGIC):
        raise _UnreadableFile(
            "This file is named .csv but is an Excel workbook. Rename it to .xlsx, or "
            "save it from Excel as 'CSV UTF-8 (Comma delimited)', and upload it again."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _UnreadableFile(
            "The file is not saved as UTF-8 text. In Excel, use Save As and choose "
            "'CSV UTF-8 (Comma delimited)', then upload it again."
        ) from None
    try:
        # newline="" lets the csv module handle line endings, including inside quotes.
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error:
        raise _UnreadableFile(
            "The file could not be read as CSV (comma-separated values). Save it from "
            "Excel as 'CSV UTF-8 (Comma delimited)' and upload it again."
        ) from None


def _xlsx_rows(content: bytes) -> _Rows:
    unreadable = (
        "The file could not be opened as an Excel workbook (.xlsx): it may be damaged, "
        "password-protected or another kind of file renamed. Open it in Excel, save it as "
        "'Excel Workbook (.xlsx)' and upload it again."
    )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error on bad input
        raise _UnreadableFile(unreadable) from None
    try:
        if not workbook.worksheets:
            raise _UnreadableFile(
                "The workbook has no worksheets. Put the case list on the first worksheet "
                "and upload it again."
            )
        sheet = workbook.worksheets[0]
        # The stored dimensions can be wrong, and would then silently cut rows off.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    except _UnreadableFile:
        raise
    except Exception:  # a damaged sheet can fail part way through
        raise _UnreadableFile(unreadable) from None
    finally:
        workbook.close()


# Checking -----------------------------------------------------------------------------


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and (not value or value.isspace()))


def _is_blank_row(cells: Sequence[Any]) -> bool:
    # A plain loop: it usually stops at the first cell, and runs once per row.
    for cell in cells:
        if cell is not None and not (isinstance(cell, str) and (not cell or cell.isspace())):
            return False
    return True


def _text(value: Any) -> str:
    """A cell as trimmed text; spreadsheet numbers and dates as they would be typed."""
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _normalise_heading(heading: str) -> str:
    return _HEADING_SEPARATORS.sub("_", heading.strip().lower())


def _accepted_columns_text() -> str:
    return (
        f"{', '.join(REQUIRED_COLUMNS)} (required) and {' and '.join(OPTIONAL_COLUMNS)} (optional)"
    )


@dataclass
class _Header:
    columns: dict[str, int]  # column -> position
    written: dict[str, str]  # column -> heading as written
    unheaded: list[int]  # positions with a blank heading
    width: int
    problems: list[Problem]


def _read_header(cells: Sequence[Any]) -> _Header:
    columns: dict[str, int] = {}
    written: dict[str, str] = {}
    unheaded: list[int] = []
    problems: list[Problem] = []
    recognised = False
    for position, cell in enumerate(cells):
        heading = _text(cell)
        if not heading:
            unheaded.append(position)
            continue
        normalised = _normalise_heading(heading)
        column = COLUMN_ALIASES.get(normalised)
        if column is not None:
            recognised = True
            if column in columns:
                problems.append(
                    Problem(
                        None,
                        heading,
                        f"The column '{heading}' repeats the column '{written[column]}' "
                        f"(both mean {column}). Keep one of them and upload again.",
                    )
                )
            else:
                columns[column] = position
                written[column] = heading
            continue
        if ";" in heading or "\t" in heading:
            # Other problems would be noise until the file is split into columns.
            reason = (
                "The headings seem to be separated by semicolons or tabs, not commas. Save "
                "the file from Excel as 'CSV UTF-8 (Comma delimited)' and upload it again."
            )
            return _Header({}, {}, [], len(cells), [Problem(None, None, reason)])
        kind = _identifier_heading_kind(normalised)
        if kind is not None:
            recognised = True
            problems.append(
                Problem(
                    None,
                    heading,
                    f"This column looks like it holds personal information ({kind}). "
                    "Case lists must hold pseudonymous case references only: remove the "
                    "column and upload again.",
                )
            )
            continue
        problems.append(
            Problem(
                None,
                heading,
                f"The column '{heading}' is not one this upload accepts. The accepted "
                f"columns are {_accepted_columns_text()}: rename or remove the column "
                "and upload again.",
            )
        )
    if not recognised:
        # Likely a title line or a first case rather than headings: don't echo its cells.
        return _Header(
            {},
            {},
            [],
            len(cells),
            [
                Problem(
                    None,
                    None,
                    "The first row does not hold the column headings. Put the headings "
                    f"{_accepted_columns_text()} in row 1, with one case per row below, "
                    "and upload again.",
                )
            ],
        )
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            aliases = [a for a, c in COLUMN_ALIASES.items() if c == column and a != column]
            also = f" (or {' / '.join(aliases)})" if aliases else ""
            problems.append(
                Problem(
                    None,
                    column,
                    f"The required column {column} is missing. Add a column headed "
                    f"{column}{also} and upload again.",
                )
            )
    return _Header(columns, written, unheaded, len(cells), problems)


def _identifier_heading_kind(normalised: str) -> str | None:
    squashed = _HEADING_PUNCTUATION.sub("", normalised)  # "d.o.b." -> "dob"
    for fragments, kind in _IDENTIFIER_HEADINGS:
        if any(fragment in squashed for fragment in fragments):
            return kind
    return None


_UNREADABLE_DATE = (
    "The {label} is not a date this upload can read. Write dates day first as "
    "DD/MM/YYYY, or as YYYY-MM-DD: for example 17/03/2024 or 2024-03-17."
)


@lru_cache(maxsize=8192)
def _parse_date_text(text: str) -> dt.date | str:
    """A date, or the reason (for a column label placeholder) why the text is not one."""
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = match.groups()
    else:
        match = _UK_DATE.fullmatch(text)
        if match:
            day, month, year = match.groups()
        elif _SHORT_YEAR_DATE.fullmatch(text):
            return (
                "The {label} has a two-digit year. Write the year in full, for example 17/03/2024."
            )
        else:
            return _UNREADABLE_DATE
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        if match.re is _UK_DATE and int(month) > 12 and int(day) <= 12:
            return (
                "The {label} looks like it is written month first. Write dates day first "
                "as DD/MM/YYYY, for example 17/03/2024."
            )
        return "The {label} is not a real calendar date: check the day and month."


def _cell_date(value: Any, label: str) -> dt.date | str:
    if isinstance(value, str):
        parsed = _parse_date_text(value.strip())
        return parsed if isinstance(parsed, dt.date) else parsed.format(label=label)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (
            f"The {label} is a number, not a date. Format the cell as a date, or type the "
            "date as DD/MM/YYYY, and upload again."
        )
    return _UNREADABLE_DATE.format(label=label)  # a time, a duration...: not a date


class _RowChecker:
    """Checks data rows against a good header, collecting cases and problems.

    Forces' lists repeat the same areas, dates and teams many times, so the result of
    checking each distinct cell value is kept per column; a 100,000-row file then
    costs little more than reading it.
    """

    def __init__(self, header: _Header, audit_areas: Mapping[str, str], today: dt.date):
        self.today = today
        columns = header.columns
        self.i_reference = columns["case_reference"]
        self.i_area = columns["audit_area"]
        self.i_opened = columns["date_opened"]
        self.i_closed = columns.get("date_closed")
        self.i_team = columns.get("team")
        self.width = max(columns.values()) + 1
        self.written = header.written
        self.area_names = audit_areas
        self.area_lookup: dict[str, str] = {}
        for code, name in audit_areas.items():
            self.area_lookup.setdefault(" ".join(name.split()).casefold(), code)
        for code in audit_areas:
            self.area_lookup[" ".join(code.split()).casefold()] = code
        # Cell value -> the checked value, or a str: the reason it was refused.
        self.areas: dict[Any, str] = {}
        self.opened: dict[Any, dt.date | str] = {}
        self.closed: dict[Any, dt.date | str | None] = {}
        self.teams: dict[str, str | None] = {}
        self.seen: dict[str, int] = {}
        self.cases: list[CaseRow] = []
        self.problems: list[Problem] = []

    def check(self, number: int, cells: Sequence[Any]) -> None:
        """Check one non-blank data row (`number` is its row in the file)."""
        if len(cells) < self.width:
            cells = [*cells, *([None] * (self.width - len(cells)))]
        found: list[tuple[int, str, str]] = []  # (position, column, reason)

        raw = cells[self.i_reference]
        reference = raw.strip() if isinstance(raw, str) else _text(raw)
        reference_ok = _PLAIN_REFERENCE.fullmatch(reference) is not None and not (
            5 <= len(reference) <= 8 and _POSTCODE.fullmatch(reference)
        )
        if not reference_ok:
            reason = _reference_problem(reference)
            if reason is None:
                reference_ok = True
            else:
                found.append((self.i_reference, "case_reference", reason))

        raw = cells[self.i_area]
        area = self.areas.get(raw) or self._check_area(raw)
        if area in self.area_names:
            if reference_ok:
                # References differing only in case are taken as the same case. The key
                # is a str, not a tuple, so the garbage collector need not track it.
                key = f"{area}\x00{reference.casefold()}"
                earlier = self.seen.setdefault(key, number)
                if earlier != number:
                    reason = (
                        f"This case is already listed for {self.area_names[area]} in row "
                        f"{earlier}. List each case once per audit area: remove the repeat."
                    )
                    found.append((self.i_reference, "case_reference", reason))
        else:
            found.append((self.i_area, "audit_area", area))

        raw = cells[self.i_opened]
        opened = self.opened.get(raw) or self._check_date(raw, "date_opened")
        if isinstance(opened, str):
            found.append((self.i_opened, "date_opened", opened))

        closed: dt.date | str | None = None
        if self.i_closed is not None:
            raw = cells[self.i_closed]
            closed = (
                self.closed[raw] if raw in self.closed else self._check_date(raw, "date_closed")
            )
            if isinstance(closed, str):
                found.append((self.i_closed, "date_closed", closed))
            elif closed is not None and isinstance(opened, dt.date) and closed < opened:
                reason = (
                    "The date closed is before the date opened. Check both dates and upload again."
                )
                found.append((self.i_closed, "date_closed", reason))

        team = ""
        if self.i_team is not None:
            raw = cells[self.i_team]
            team = raw.strip() if isinstance(raw, str) else _text(raw)
            if team:
                if team not in self.teams:
                    self.teams[team] = _team_problem(team)
                reason = self.teams[team]
                if reason is not None:
                    found.append((self.i_team, "team", reason))

        if found:
            found.sort(key=lambda item: item[0])
            self.problems.extend(
                Problem(number, self.written[column], reason) for _, column, reason in found
            )
        elif not self.problems:
            # Once the file is refused, only problems are worth collecting.
            assert isinstance(opened, dt.date) and not isinstance(closed, str)
            self.cases.append(CaseRow(number, reference, area, opened, closed, team))

    def _check_area(self, raw: Any) -> str:
        text = _text(raw)
        code = self.area_lookup.get(" ".join(text.split()).casefold())
        if code is None:
            what = "is blank" if not text else "is not one of this inspection's areas"
            choices = ", ".join(self.area_names.values()) or "(none are set up)"
            code = f"The audit area {what}. Use one of: {choices}."
        self.areas[raw] = code
        return code

    def _check_date(self, raw: Any, column: str) -> dt.date | str | None:
        label = _DATE_LABELS[column]
        result: dt.date | str | None
        if _is_blank(raw):
            result = None
            if column == "date_opened":
                result = (
                    f"The {label} is blank. Every case needs the date it was opened, as "
                    "DD/MM/YYYY or YYYY-MM-DD."
                )
        else:
            result = _cell_date(raw, label)
            if isinstance(result, str):
                pass
            elif result > self.today:
                result = (
                    f"The {label} is after today ({self.today.day} {self.today:%B %Y}). "
                    "Check the date and upload again."
                )
            elif result < EARLIEST_DATE:
                result = (
                    f"The {label} is before 1 January 2000, earlier than any case this "
                    "inspection looks at. Check the date: it may be a date of birth."
                )
        if column == "date_closed":
            self.closed[raw] = result
        elif result is not None:
            self.opened[raw] = result
        return result


def _reference_problem(reference: str) -> str | None:
    """Why a case reference is refused, or None if it is fine."""
    if not reference:
        return (
            "The case reference is blank. Every case needs its pseudonymous case "
            "reference: fill it in or delete the row."
        )
    kind = personal_identifier_kind(reference)
    if kind:
        return (
            f"The case reference looks like {kind}. Case lists must hold pseudonymous "
            "case references only: use the force's case reference instead."
        )
    if not MIN_REFERENCE_LENGTH <= len(reference) <= MAX_REFERENCE_LENGTH:
        return (
            f"The case reference is {len(reference)} characters long; it must be "
            f"{MIN_REFERENCE_LENGTH} to {MAX_REFERENCE_LENGTH}. Check it is the force's "
            "case reference."
        )
    if not _REFERENCE.fullmatch(reference):
        return (
            "The case reference may only use letters, digits and the characters / _ . - "
            "and must start with a letter or digit. Correct it and upload again."
        )
    return None


def _column_name(position: int) -> str:
    """A spreadsheet's letter for the column (A, B, ... XFD), or its number beyond that."""
    if position < 16_384:  # XFD, the widest an Excel sheet can be
        return get_column_letter(position + 1)
    return f"number {position + 1:,}"


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _team_problem(team: str) -> str | None:
    """Why a (non-blank) team is refused, or None if it is fine."""
    if _CONTROL_CHARACTERS.search(team):
        return (
            "The team contains a control character (such as a null byte) that cannot be "
            "stored. Re-type the team's name and upload again."
        )
    if len(team) > MAX_TEAM_LENGTH:
        return (
            f"The team is {len(team)} characters long; it can be at most {MAX_TEAM_LENGTH}. "
            "Shorten it and upload again."
        )
    kind = personal_identifier_in_text(team)
    if kind:
        return (
            f"The team looks like it contains {kind}. The team column must not hold "
            "personal information: give the team's name only."
        )
    return None


def _check(
    rows: _Rows,
    *,
    audit_areas: Mapping[str, str],
    today: dt.date,
    max_rows: int,
) -> tuple[list[Problem], list[CaseRow]]:
    first = next(rows, None)
    if first is None:
        return [Problem(None, None, _EMPTY_FILE)], []
    if _is_blank_row(first):
        if any(not _is_blank_row(row) for row in rows):
            reason = (
                "Row 1 is blank, but it must hold the column headings "
                f"{_accepted_columns_text()}. Move the headings to row 1 and upload again."
            )
            return [Problem(None, None, reason)], []
        return [Problem(None, None, _EMPTY_FILE)], []

    header = _read_header(first)
    checker = _RowChecker(header, audit_areas, today) if not header.problems else None
    # Columns without a heading must be empty; note the first row where one is not.
    unheaded_values: dict[int, int] = {}
    unheaded = header.unheaded
    count = 0
    for number, cells in enumerate(rows, start=2):
        if _is_blank_row(cells):
            continue
        count += 1
        if count > max_rows:
            too_many = (
                f"The file has more than {max_rows:,} cases, more than one upload can "
                "take. Check it lists only the cases eligible for this inspection, or "
                "ask the inspection team how to send a larger list."
            )
            return [*header.problems, Problem(None, None, too_many)], []
        for position in unheaded:
            if position < len(cells) and not _is_blank(cells[position]):
                unheaded_values.setdefault(position, number)
        for position in range(header.width, len(cells)):
            if not _is_blank(cells[position]):
                unheaded_values.setdefault(position, number)
        if checker is not None:
            checker.check(number, cells)

    problems = list(header.problems)
    for position in sorted(unheaded_values):
        problems.append(
            Problem(
                None,
                None,
                f"Column {_column_name(position)} has values but no heading (the "
                f"first is in row {unheaded_values[position]}). Give it one of the accepted "
                "headings or delete it, and upload again. In a CSV file this can also mean a "
                "value contains a comma and needs to be in quotes.",
            )
        )
    if count == 0:
        problems.append(
            Problem(
                None,
                None,
                "The file has a header row but no cases. Add one row per case below the "
                "headings and upload again.",
            )
        )
    if checker is None:
        return problems, []
    problems.extend(checker.problems)
    return problems, checker.cases
