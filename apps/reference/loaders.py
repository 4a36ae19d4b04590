"""Reading and checking the reference data files in data/reference.

`read_reference_data(directory)` reads every file the service uses, checks it, and returns a
`ReferenceDataset` of plain records ready to be written by `services.load_reference_data`. It
never touches the database. Any problem raises `ReferenceDataError`, whose message names the
file, the row and the problem, e.g.

    la_to_pfa23.csv row 17: pfa23cd 'E2300009X' is not a known police force area

Row numbers count the header as row 1, as a spreadsheet does, so the first data row is row 2.

The files and what each gives are listed in data/reference/PROVENANCE.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from . import maps
from .models import ContextFigure, Country, Inspectorate

Measure = ContextFigure.Measure

FORCES_FILE = "police_forces_england_wales.csv"
FORCE_POPULATION_FILE = "pfa23_population_0_17_mid2023.csv"
LOCAL_AUTHORITIES_FILE = "la_to_pfa23.csv"
DISTRICTS_FILE = "lad23_to_pfa23.csv"
BOUNDARIES_FILE = "pfa_dec2020_ew_buc.geojson"
INSPECTORATES_FILE = "inspectorates.csv"
CIN_CPP_FILE = "la_cin_cpp_2025_with_pfa.csv"
CIN_SERIES_FILE = "dfe_cin_b1_children_in_need_2013_to_2025.csv"
CPP_SERIES_FILE = "dfe_cin_d5_child_protection_plans_at31march_2013_to_2025.csv"
DFE_POPULATION_FILE = "dfe_population_0_17_by_la_2012_to_2024.csv"
OFSTED_HISTORY_FILE = "ofsted_ilacs_inspection_history_2018_2025.csv"
OFSTED_LATEST_FILE = "ofsted_ilacs_outcomes_as_at_2025-03-31.csv"

# What the current geography should hold. These change only when forces merge or local
# government is reorganised; then update them together with the files.
EXPECTED_TERRITORIAL_FORCES = 43
EXPECTED_NON_TERRITORIAL_FORCES = 1
EXPECTED_LOCAL_AUTHORITIES = 175
EXPECTED_DISTRICTS = 318

PFA_CODE = re.compile(r"^(E23|W15)\d{6}$")
LA_CODE = re.compile(r"^(E06|E08|E09|E10|W06)\d{6}$")  # upper-tier (county or unitary)
DISTRICT_CODE = re.compile(r"^(E06|E07|E08|E09|W06)\d{6}$")  # lower-tier
DFE_LA_CODE = re.compile(r"^\d{3}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
YEAR = re.compile(r"^(19|20)\d{2}$")

COUNTRIES = {"england": Country.ENGLAND, "wales": Country.WALES}
CODE_COUNTRY = {"E": Country.ENGLAND, "W": Country.WALES}

# DfE's symbols for values it does not publish, and what the pages say instead.
SUPPRESSED_BY_DFE = "suppressed by DfE"
DFE_SYMBOLS = {
    "": SUPPRESSED_BY_DFE,
    "c": SUPPRESSED_BY_DFE,
    "low": SUPPRESSED_BY_DFE,
    "x": "not available from DfE",
    "z": "not applicable",
    "u": "low reliability, not published by DfE",
}

# How far a rate in the CIN/CPP file may be from count x 10,000 / population (it is rounded to
# one decimal place, so 0.05 plus a little slack).
RATE_TOLERANCE = Decimal("0.06")

SOURCE_ONS_POPULATION = "ONS mid-year population estimates, mid-{year} (England and Wales)"
SOURCE_CIN = (
    "DfE, Characteristics of children in need, table B1: children in need at 31 March {year}"
)
SOURCE_CPP = (
    "DfE, Characteristics of children in need, table D5: children on a child protection plan "
    "at 31 March {year}"
)
SOURCE_RATE = (
    "Calculated by the inspectorate from the DfE count at 31 March {year} and DfE's "
    "mid-{previous} ONS population of children aged 0 to 17, per 10,000 children"
)
SOURCE_FORCE_COUNT = (
    "Sum over the force's local authority areas of DfE, Characteristics of children in need, "
    "{table}, at 31 March {year}"
)
SOURCE_FORCE_RATE = (
    "Calculated by the inspectorate from the counts summed over the force's local authority "
    "areas and their summed mid-{previous} population of children aged 0 to 17, "
    "per 10,000 children"
)


class ReferenceDataError(Exception):
    """A reference data file is missing, malformed or inconsistent."""

    def __init__(self, file: str, message: str, row: int | None = None) -> None:
        self.file = file
        self.row = row
        self.problem = message
        where = f"{file} row {row}" if row is not None else file
        super().__init__(f"{where}: {message}")


# Records: what the files say, keyed by natural keys (codes), ready for the services to write.


@dataclass
class InspectorateRecord:
    code: str
    name: str
    short_name: str
    scope: str
    is_police_inspectorate: bool
    website: str


@dataclass
class ForceRecord:
    code: str | None
    slug: str
    name: str
    area_name: str
    country: str
    territorial: bool
    population_0_17: int | None = None
    population_all_ages: int | None = None
    population_year: int | None = None
    boundary: dict[str, Any] | None = None
    boundary_map: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        """Territorial forces are known by their area code; BTP, which has none, by slug."""
        return self.code or f"slug:{self.slug}"


@dataclass
class LocalAuthorityRecord:
    code: str
    name: str
    name_welsh: str
    country: str
    la_type: str
    dfe_code: str
    region_name: str
    force_code: str
    population_0_17: int
    population_year: int


@dataclass
class DistrictRecord:
    code: str
    name: str
    local_authority_code: str
    force_code: str


@dataclass
class FigureRecord:
    measure: str
    period: str
    value: Decimal | None
    note: str
    source: str
    force_code: str | None = None
    local_authority_code: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        if self.force_code:
            return ("force", self.force_code, self.measure, self.period)
        assert self.local_authority_code
        return ("area", self.local_authority_code, self.measure, self.period)


@dataclass
class JudgementRecord:
    local_authority_code: str
    inspection_type: str
    inspection_date: dt.date
    publication_date: dt.date | None
    overall_effectiveness: str
    impact_of_leaders: str
    help_and_protection: str
    children_in_care: str
    care_leavers: str
    url: str
    is_latest: bool = False

    @property
    def key(self) -> tuple[str, dt.date, str]:
        return (self.local_authority_code, self.inspection_date, self.inspection_type)


@dataclass
class FileReport:
    """One line of progress: a file and what was read from it."""

    name: str
    rows: int
    detail: str

    def __str__(self) -> str:
        return f"{self.name}: {self.rows:,} rows; {self.detail}"


@dataclass
class ReferenceDataset:
    inspectorates: list[InspectorateRecord] = field(default_factory=list)
    forces: list[ForceRecord] = field(default_factory=list)
    local_authorities: list[LocalAuthorityRecord] = field(default_factory=list)
    districts: list[DistrictRecord] = field(default_factory=list)
    figures: list[FigureRecord] = field(default_factory=list)
    judgements: list[JudgementRecord] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


# Reading CSV files.


class Row:
    """One data row of a CSV file, with typed getters that raise a ReferenceDataError naming
    the file, the row and the column."""

    def __init__(self, file: str, number: int, values: dict[str, str]) -> None:
        self.file = file
        self.number = number
        self.values = values

    def error(self, message: str) -> ReferenceDataError:
        return ReferenceDataError(self.file, message, self.number)

    def text(self, column: str, *, required: bool = True, max_length: int | None = None) -> str:
        value = self.values[column]
        if required and not value:
            raise self.error(f"{column} is empty")
        if max_length is not None and len(value) > max_length:
            raise self.error(f"{column} is longer than {max_length} characters")
        return value

    def code(self, column: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.values[column]
        if not pattern.match(value):
            raise self.error(f"{column} {value!r} is not a well-formed {what} code")
        return value

    def whole_number(self, column: str) -> int:
        value = self.values[column]
        try:
            number = int(value.replace(",", ""))
        except ValueError:
            raise self.error(f"{column} {value!r} is not a whole number") from None
        if number < 0:
            raise self.error(f"{column} {value!r} is negative")
        return number

    def count_or_symbol(self, column: str) -> tuple[int | None, str]:
        """A DfE count, or None and the reason when DfE publishes a symbol instead."""
        value = self.values[column]
        if value.lower() in DFE_SYMBOLS:
            return None, DFE_SYMBOLS[value.lower()]
        return self.whole_number(column), ""

    def decimal(self, column: str) -> Decimal | None:
        value = self.values[column]
        if value == "":
            return None
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise self.error(f"{column} {value!r} is not a number") from None
        if not number.is_finite() or number < 0:
            raise self.error(f"{column} {value!r} is not a number of zero or more")
        return number

    def boolean(self, column: str) -> bool:
        value = self.values[column].lower()
        if value in {"true", "yes", "1"}:
            return True
        if value in {"false", "no", "0"}:
            return False
        raise self.error(f"{column} {self.values[column]!r} is not true or false")

    def date(self, column: str, *, required: bool = True) -> dt.date | None:
        value = self.values[column]
        if not value:
            if required:
                raise self.error(f"{column} is empty")
            return None
        try:
            return dt.datetime.strptime(value, "%d/%m/%Y").date()
        except ValueError:
            raise self.error(f"{column} {value!r} is not a date in the form DD/MM/YYYY") from None

    def url(self, column: str, *, required: bool = False) -> str:
        value = self.text(column, required=required, max_length=200)
        if value:
            try:
                URLValidator(schemes=["https", "http"])(value)
            except ValidationError:
                raise self.error(f"{column} {value!r} is not a web address") from None
        return value


def read_csv(directory: Path, name: str, required: Sequence[str]) -> tuple[list[str], list[Row]]:
    """The header and rows of a CSV file, after checking the required columns are present.

    Accepts a UTF-8 byte order mark (ONS files start with one). Blank lines are skipped.
    """
    path = directory / name
    if not path.is_file():
        raise ReferenceDataError(name, f"file not found in {directory}")
    rows: list[Row] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise ReferenceDataError(name, "the file is empty")
            header = [column.strip() for column in header]
            missing = [column for column in required if column not in header]
            if missing:
                listed = ", ".join(repr(column) for column in missing)
                raise ReferenceDataError(
                    name, f"missing column{'s' if len(missing) > 1 else ''} {listed}"
                )
            repeated = [column for column, n in Counter(header).items() if n > 1 and column]
            if repeated:
                raise ReferenceDataError(name, f"column {repeated[0]!r} appears more than once")
            for number, values in enumerate(reader, start=2):
                if not any(value.strip() for value in values):
                    continue
                if len(values) != len(header):
                    raise ReferenceDataError(
                        name,
                        f"has {len(values)} values but the header has {len(header)} columns",
                        number,
                    )
                rows.append(
                    Row(name, number, {c: v.strip() for c, v in zip(header, values, strict=True)})
                )
    except UnicodeDecodeError:
        raise ReferenceDataError(name, "is not UTF-8 text") from None
    except csv.Error as exc:
        raise ReferenceDataError(name, f"is not valid CSV ({exc})") from None
    return header, rows


def _year_column(header: Sequence[str], name: str, prefix: str) -> tuple[str, int]:
    """The column whose name is `prefix` followed by a year, e.g. population_0_17_mid2023."""
    pattern = re.compile(rf"^{re.escape(prefix)}((?:19|20)\d\d)$")
    for column in header:
        match = pattern.match(column)
        if match:
            return column, int(match.group(1))
    raise ReferenceDataError(name, f"missing column {prefix + 'YYYY'!r} (YYYY a year)")


def _unique(row: Row, seen: set[Any], key: Any, what: str) -> None:
    if key in seen:
        raise row.error(f"{what} appears more than once")
    seen.add(key)


def rate_per_10000(count: int, population: int) -> Decimal:
    return (Decimal(count) * 10000 / Decimal(population)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def _check_count(name: str, found: int, expected: int, what: str) -> None:
    if found != expected:
        raise ReferenceDataError(name, f"expected {expected} {what}, found {found}")


# The files, one reader each.


class _Reader:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = ReferenceDataset()
        self.forces: dict[str, ForceRecord] = {}  # territorial, by code
        self.areas: dict[str, LocalAuthorityRecord] = {}
        self.districts_per_force: Counter[str] = Counter()
        self.areas_per_force: Counter[str] = Counter()
        self.force_rows: dict[str, Row] = {}
        self.cin_cpp_period: int | None = None

    def report(self, name: str, rows: int, detail: str) -> None:
        self.data.files.append(FileReport(name, rows, detail))

    def known_force(self, row: Row, column: str) -> ForceRecord:
        value = row.values[column]
        force = self.forces.get(value)
        if force is None:
            raise row.error(
                f"{column} {value!r} is not a known police force area (not in {FORCES_FILE})"
            )
        return force

    def known_area(self, row: Row, column: str) -> LocalAuthorityRecord:
        value = row.values[column]
        area = self.areas.get(value)
        if area is None:
            raise row.error(
                f"{column} {value!r} is not a known local authority (not in "
                f"{LOCAL_AUTHORITIES_FILE})"
            )
        return area

    def same_force(self, row: Row, column: str, area: LocalAuthorityRecord) -> None:
        value = row.values[column]
        if value != area.force_code:
            raise row.error(
                f"{column} {value!r} is not the force of {area.code} {area.name}, which "
                f"{LOCAL_AUTHORITIES_FILE} gives as {area.force_code}"
            )

    def english_area(self, row: Row, column: str) -> LocalAuthorityRecord:
        area = self.known_area(row, column)
        if area.country != Country.ENGLAND:
            raise row.error(f"{column} {area.code} {area.name} is not in England")
        return area

    # Inspectorates.

    def inspectorates(self) -> None:
        name = INSPECTORATES_FILE
        columns = ["code", "name", "short_name", "scope", "is_police_inspectorate", "website"]
        _, rows = read_csv(self.directory, name, columns)
        seen_codes: set[str] = set()
        seen_names: set[str] = set()
        scopes = set(Inspectorate.Scope.values)
        for row in rows:
            code = row.code("code", SLUG, "inspectorate (lower-case letters, digits, hyphens)")
            _unique(row, seen_codes, code, f"code {code!r}")
            full_name = row.text("name", max_length=200)
            _unique(row, seen_names, full_name, f"name {full_name!r}")
            scope = row.text("scope")
            if scope not in scopes:
                raise row.error(f"scope {scope!r} is not one of {', '.join(sorted(scopes))}")
            self.data.inspectorates.append(
                InspectorateRecord(
                    code=code,
                    name=full_name,
                    short_name=row.text("short_name", max_length=40),
                    scope=scope,
                    is_police_inspectorate=row.boolean("is_police_inspectorate"),
                    website=row.url("website"),
                )
            )
        police = [i.code for i in self.data.inspectorates if i.is_police_inspectorate]
        if len(police) != 1:
            raise ReferenceDataError(
                name, f"exactly one inspectorate must be the police inspectorate, found {police}"
            )
        self.report(name, len(rows), f"{len(rows)} inspectorates")

    # Forces.

    def forces_file(self) -> None:
        name = FORCES_FILE
        columns = [
            "pfa23cd", "pfa23nm", "force_name", "police_uk_force_id", "country", "territorial",
            "n_upper_tier_las", "n_lads",
        ]  # fmt: skip
        _, rows = read_csv(self.directory, name, columns)
        seen_slugs: set[str] = set()
        seen_names: set[str] = set()
        for row in rows:
            territorial = row.boolean("territorial")
            slug = row.code("police_uk_force_id", SLUG, "data.police.uk force id")
            _unique(row, seen_slugs, slug, f"police_uk_force_id {slug!r}")
            force_name = row.text("force_name", max_length=120)
            _unique(row, seen_names, force_name, f"force_name {force_name!r}")
            if territorial:
                code = row.values["pfa23cd"]
                if not PFA_CODE.match(code):
                    raise row.error(
                        f"pfa23cd {code!r} is not a well-formed police force area code "
                        "(E23 or W15 and six digits)"
                    )
                if code in self.forces:
                    raise row.error(f"pfa23cd {code!r} appears more than once")
                country_text = row.text("country")
                country = COUNTRIES.get(country_text.lower())
                if country is None:
                    raise row.error(f"country {country_text!r} is not England or Wales")
                if CODE_COUNTRY[code[0]] != country:
                    raise row.error(f"pfa23cd {code!r} is not a code for {country_text}")
                area_name = row.text("pfa23nm", max_length=120)
            else:
                code = None
                if row.values["pfa23cd"]:
                    raise row.error("pfa23cd must be empty for a non-territorial force")
                # A force record needs a country; a non-territorial force (British Transport
                # Police) is kept under England and shown on the pages as non-territorial.
                country = Country.ENGLAND
                area_name = row.text("pfa23nm", required=False, max_length=120)
            record = ForceRecord(
                code=code,
                slug=slug,
                name=force_name,
                area_name=area_name,
                country=country,
                territorial=territorial,
            )
            self.data.forces.append(record)
            if code:
                self.forces[code] = record
                self.force_rows[code] = row
        territorial_count = len(self.forces)
        _check_count(name, territorial_count, EXPECTED_TERRITORIAL_FORCES, "territorial forces")
        _check_count(
            name,
            len(self.data.forces) - territorial_count,
            EXPECTED_NON_TERRITORIAL_FORCES,
            "non-territorial forces (British Transport Police)",
        )
        self.report(
            name,
            len(rows),
            f"{territorial_count} territorial forces and "
            f"{len(self.data.forces) - territorial_count} non-territorial",
        )

    def force_populations(self) -> None:
        name = FORCE_POPULATION_FILE
        header, rows = read_csv(self.directory, name, ["pfa23cd", "population_all_ages_mid2023"])
        column, year = _year_column(header, name, "population_0_17_mid")
        all_ages_column = f"population_all_ages_mid{year}"
        if all_ages_column not in header:
            raise ReferenceDataError(name, f"missing column {all_ages_column!r}")
        seen: set[str] = set()
        for row in rows:
            force = self.known_force(row, "pfa23cd")
            _unique(row, seen, force.code, f"pfa23cd {force.code!r}")
            force.population_0_17 = row.whole_number(column)
            force.population_all_ages = row.whole_number(all_ages_column)
            force.population_year = year
            if force.population_0_17 > force.population_all_ages:
                raise row.error(f"{column} is larger than {all_ages_column}")
            self.force_rows[f"population:{force.code}"] = row
        missing = sorted(set(self.forces) - seen)
        if missing:
            raise ReferenceDataError(name, f"no row for police force area {missing[0]}")
        self.report(name, len(rows), f"population of {len(seen)} police force areas, mid-{year}")

    # Local authorities and districts.

    def local_authorities(self) -> None:
        name = LOCAL_AUTHORITIES_FILE
        columns = [
            "utla23cd", "utla23nm", "utla23nmw", "country", "la_type", "dfe_la_code",
            "region_name", "n_ltla", "ltla23cds", "pfa23cd",
        ]  # fmt: skip
        header, rows = read_csv(self.directory, name, columns)
        population_column, year = _year_column(header, name, "population_0_17_mid")
        self.district_area: dict[str, tuple[str, Row]] = {}
        for row in rows:
            code = row.code("utla23cd", LA_CODE, "upper-tier local authority")
            if code in self.areas:
                raise row.error(f"utla23cd {code!r} appears more than once")
            force = self.known_force(row, "pfa23cd")
            country_text = row.text("country")
            country = COUNTRIES.get(country_text.lower())
            if country is None:
                raise row.error(f"country {country_text!r} is not England or Wales")
            if CODE_COUNTRY[code[0]] != country:
                raise row.error(f"utla23cd {code!r} is not a code for {country_text}")
            if force.country != country:
                raise row.error(
                    f"pfa23cd {force.code} ({force.area_name}) is not in {country_text}"
                )
            dfe_code = row.values["dfe_la_code"]
            if dfe_code and not DFE_LA_CODE.match(dfe_code):
                raise row.error(f"dfe_la_code {dfe_code!r} is not a three-digit DfE LA code")
            districts = [d for d in row.values["ltla23cds"].split(";") if d.strip()]
            if not districts:
                raise row.error("ltla23cds is empty")
            if len(districts) != row.whole_number("n_ltla"):
                raise row.error(
                    f"n_ltla is {row.values['n_ltla']} but ltla23cds lists {len(districts)}"
                )
            for district in districts:
                district = district.strip()
                if not DISTRICT_CODE.match(district):
                    raise row.error(f"ltla23cds {district!r} is not a well-formed district code")
                if district in self.district_area:
                    raise row.error(
                        f"district {district} is also listed for {self.district_area[district][0]}"
                    )
                self.district_area[district] = (code, row)
            assert force.code
            self.areas[code] = LocalAuthorityRecord(
                code=code,
                name=row.text("utla23nm", max_length=120),
                name_welsh=row.text("utla23nmw", required=False, max_length=120),
                country=country,
                la_type=row.text("la_type", required=False, max_length=60),
                dfe_code=dfe_code,
                region_name=row.text("region_name", required=False, max_length=60),
                force_code=force.code,
                population_0_17=row.whole_number(population_column),
                population_year=year,
            )
            self.areas_per_force[force.code] += 1
        self.data.local_authorities = list(self.areas.values())
        _check_count(
            name, len(self.areas), EXPECTED_LOCAL_AUTHORITIES, "upper-tier local authorities"
        )
        for area in self.data.local_authorities:
            self.data.figures.append(
                FigureRecord(
                    local_authority_code=area.code,
                    measure=Measure.POPULATION_0_17,
                    period=f"mid-{area.population_year}",
                    value=Decimal(area.population_0_17),
                    note="",
                    source=SOURCE_ONS_POPULATION.format(year=area.population_year),
                )
            )
        england = sum(1 for a in self.areas.values() if a.country == Country.ENGLAND)
        self.report(
            name,
            len(rows),
            f"{len(self.areas)} upper-tier local authorities "
            f"({england} England, {len(self.areas) - england} Wales)",
        )

    def districts(self) -> None:
        name = DISTRICTS_FILE
        _, rows = read_csv(self.directory, name, ["lad23cd", "lad23nm", "pfa23cd"])
        seen: set[str] = set()
        for row in rows:
            code = row.code("lad23cd", DISTRICT_CODE, "local authority district")
            _unique(row, seen, code, f"lad23cd {code!r}")
            force = self.known_force(row, "pfa23cd")
            if code not in self.district_area:
                raise row.error(
                    f"lad23cd {code!r} is not in the ltla23cds of any local authority in "
                    f"{LOCAL_AUTHORITIES_FILE}"
                )
            area = self.areas[self.district_area[code][0]]
            self.same_force(row, "pfa23cd", area)
            assert force.code
            self.data.districts.append(
                DistrictRecord(
                    code=code,
                    name=row.text("lad23nm", max_length=120),
                    local_authority_code=area.code,
                    force_code=force.code,
                )
            )
            self.districts_per_force[force.code] += 1
        unlisted = sorted(set(self.district_area) - seen)
        if unlisted:
            area_code, row = self.district_area[unlisted[0]]
            raise ReferenceDataError(
                LOCAL_AUTHORITIES_FILE,
                f"district {unlisted[0]} of {area_code} is not in {DISTRICTS_FILE}",
                row.number,
            )
        _check_count(name, len(self.data.districts), EXPECTED_DISTRICTS, "districts")
        self.report(name, len(rows), f"{len(self.data.districts)} districts")

    def check_force_totals(self) -> None:
        """The force file's own counts, and the force populations, agree with the areas."""
        population: Counter[str] = Counter()
        for area in self.areas.values():
            population[area.force_code] += area.population_0_17
        for code, force in self.forces.items():
            row = self.force_rows[code]
            for column, counted, what in (
                ("n_upper_tier_las", self.areas_per_force[code], LOCAL_AUTHORITIES_FILE),
                ("n_lads", self.districts_per_force[code], DISTRICTS_FILE),
            ):
                if row.whole_number(column) != counted:
                    raise row.error(
                        f"{column} is {row.values[column]} but {what} has {counted} for {code}"
                    )
            if force.population_0_17 != population[code]:
                population_row = self.force_rows[f"population:{code}"]
                raise population_row.error(
                    f"the population aged 0 to 17 of {code} ({force.population_0_17}) is not "
                    f"the sum over its local authorities in {LOCAL_AUTHORITIES_FILE} "
                    f"({population[code]})"
                )
            self.data.figures.append(
                FigureRecord(
                    force_code=code,
                    measure=Measure.POPULATION_0_17,
                    period=f"mid-{force.population_year}",
                    value=Decimal(force.population_0_17),
                    note="",
                    source=SOURCE_ONS_POPULATION.format(year=force.population_year),
                )
            )

    # Boundaries.

    def boundaries(self) -> None:
        name = BOUNDARIES_FILE
        path = self.directory / name
        if not path.is_file():
            raise ReferenceDataError(name, f"file not found in {self.directory}")
        try:
            document = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReferenceDataError(name, f"is not valid GeoJSON ({exc})") from None
        if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
            raise ReferenceDataError(name, "is not a GeoJSON FeatureCollection")
        features = document.get("features")
        if not isinstance(features, list):
            raise ReferenceDataError(name, "has no features")
        geometries: dict[str, dict[str, Any]] = {}
        for number, feature in enumerate(features, start=1):
            properties = feature.get("properties") or {} if isinstance(feature, dict) else {}
            code = next(
                (v for k, v in properties.items() if re.match(r"^PFA\d\dCD$", k, re.I)), None
            )
            where = f"feature {number}"
            if not isinstance(code, str) or not PFA_CODE.match(code):
                raise ReferenceDataError(
                    name, f"{where} has no well-formed police force area code (PFAyyCD)"
                )
            if code not in self.forces:
                raise ReferenceDataError(
                    name, f"{where}: {code!r} is not a known police force area"
                )
            if code in geometries:
                raise ReferenceDataError(name, f"{where}: {code} appears more than once")
            geometry = feature.get("geometry")
            problem = maps.check_geometry(geometry)
            if problem:
                raise ReferenceDataError(name, f"{where} ({code}): {problem}")
            geometries[code] = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
        missing = sorted(set(self.forces) - set(geometries))
        if missing:
            raise ReferenceDataError(name, f"no boundary for police force area {missing[0]}")
        names = {code: force.area_name for code, force in self.forces.items()}
        force_maps = maps.build_maps(geometries, {c: _label(n) for c, n in names.items()})
        for code, force in self.forces.items():
            force.boundary = geometries[code]
            force.boundary_map = force_maps[code]
        points = sum(len(ring) for g in geometries.values() for p in maps.polygons(g) for ring in p)
        self.report(
            name, len(features), f"boundaries of {len(geometries)} force areas, {points:,} points"
        )

    # Children in need and child protection plans.

    def cin_cpp(self) -> None:
        name = CIN_CPP_FILE
        header, rows = read_csv(
            self.directory,
            name,
            ["new_la_code", "la_name", "pfa23cd", "cin_rate_per_10000", "cpp_rate_per_10000"],
        )
        cin_column, year = _year_column(header, name, "cin_at_31_march_")
        cpp_column = f"cpp_at_31_march_{year}"
        population_column = f"population_0_17_mid{year - 1}"
        for column in (cpp_column, population_column):
            if column not in header:
                raise ReferenceDataError(name, f"missing column {column!r}")
        self.cin_cpp_period = year
        period = str(year)
        seen: set[str] = set()
        # Per force: count, population for the rate, and the areas whose count is suppressed.
        totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        suppressed: dict[tuple[str, str], list[str]] = defaultdict(list)
        counted: Counter[tuple[str, str]] = Counter()
        for row in rows:
            area = self.english_area(row, "new_la_code")
            _unique(row, seen, area.code, f"new_la_code {area.code!r}")
            self.same_force(row, "pfa23cd", area)
            population = row.whole_number(population_column)
            if population == 0:
                raise row.error(f"{population_column} is 0")
            for measure, rate_measure, count_column, rate_column, source in (
                (
                    Measure.CIN_COUNT, Measure.CIN_RATE, cin_column, "cin_rate_per_10000",
                    SOURCE_CIN,
                ),
                (
                    Measure.CPP_COUNT, Measure.CPP_RATE, cpp_column, "cpp_rate_per_10000",
                    SOURCE_CPP,
                ),
            ):  # fmt: skip
                count, note = row.count_or_symbol(count_column)
                rate = row.decimal(rate_column)
                if rate is not None:
                    if count is None:
                        raise row.error(f"{rate_column} is given but {count_column} is not")
                    expected = rate_per_10000(count, population)
                    if abs(rate - expected) > RATE_TOLERANCE:
                        raise row.error(
                            f"{rate_column} {rate} is not {count_column} x 10,000 / "
                            f"{population_column} ({expected})"
                        )
                    rate_note = ""
                else:
                    rate_note = note or "not published"
                self.data.figures.append(
                    FigureRecord(
                        local_authority_code=area.code,
                        measure=measure,
                        period=period,
                        value=None if count is None else Decimal(count),
                        note=note,
                        source=source.format(year=year),
                    )
                )
                self.data.figures.append(
                    FigureRecord(
                        local_authority_code=area.code,
                        measure=rate_measure,
                        period=period,
                        value=rate,
                        note=rate_note,
                        source=SOURCE_RATE.format(year=year, previous=year - 1),
                    )
                )
                key = (area.force_code, measure)
                counted[key] += 1
                if count is None:
                    suppressed[key].append(area.name)
                else:
                    totals[key][0] += count
                    totals[key][1] += population
        english = {a.code for a in self.areas.values() if a.country == Country.ENGLAND}
        missing = sorted(english - seen)
        if missing:
            raise ReferenceDataError(name, f"no row for {missing[0]} {self.areas[missing[0]].name}")
        for code in sorted({k[0] for k in counted}):
            for measure, rate_measure, table in (
                (Measure.CIN_COUNT, Measure.CIN_RATE, "table B1"),
                (Measure.CPP_COUNT, Measure.CPP_RATE, "table D5"),
            ):
                count, population = totals[(code, measure)]
                left_out = suppressed[(code, measure)]
                if len(left_out) == counted[(code, measure)]:
                    value, rate, note = None, None, SUPPRESSED_BY_DFE
                else:
                    value, rate = Decimal(count), rate_per_10000(count, population)
                    note = (
                        f"Excludes {', '.join(left_out)} ({SUPPRESSED_BY_DFE})" if left_out else ""
                    )
                self.data.figures.append(
                    FigureRecord(
                        force_code=code,
                        measure=measure,
                        period=period,
                        value=value,
                        note=note[:200],
                        source=SOURCE_FORCE_COUNT.format(table=table, year=year),
                    )
                )
                self.data.figures.append(
                    FigureRecord(
                        force_code=code,
                        measure=rate_measure,
                        period=period,
                        value=rate,
                        note=note[:200],
                        source=SOURCE_FORCE_RATE.format(previous=year - 1),
                    )
                )
        self.report(
            name,
            len(rows),
            f"children in need and child protection plans {year} for "
            f"{len(seen)} areas and {len({k[0] for k in counted})} forces",
        )

    def dfe_series(self) -> None:
        """The DfE time series for LAs that exist today; the year of the CIN/CPP file comes
        from that file, so it is left out here. Rows for former LA codes are counted and
        skipped."""
        population, population_rows, _ = self._series(DFE_POPULATION_FILE, "population_estimate")
        population_by_key = {
            key: value for key, (value, _note) in population.items() if value is not None
        }
        self.report(
            DFE_POPULATION_FILE,
            population_rows,
            f"{len(population_by_key)} LA population figures (denominators for rates)",
        )
        for name, column, measure, rate_measure, source in (
            (CIN_SERIES_FILE, "At31_episodes", Measure.CIN_COUNT, Measure.CIN_RATE, SOURCE_CIN),
            (CPP_SERIES_FILE, "CPP_At31", Measure.CPP_COUNT, Measure.CPP_RATE, SOURCE_CPP),
        ):
            values, rows, skipped = self._series(name, column)
            added = 0
            for (year, code), (count, note) in sorted(values.items()):
                if year == self.cin_cpp_period:
                    continue
                denominator = population_by_key.get((year - 1, code))
                if count is None:
                    rate, rate_note = None, note
                elif denominator:
                    rate, rate_note = rate_per_10000(count, denominator), ""
                else:
                    rate, rate_note = None, f"no DfE population figure for mid-{year - 1}"
                self.data.figures.append(
                    FigureRecord(
                        local_authority_code=code,
                        measure=measure,
                        period=str(year),
                        value=None if count is None else Decimal(count),
                        note=note,
                        source=source.format(year=year),
                    )
                )
                self.data.figures.append(
                    FigureRecord(
                        local_authority_code=code,
                        measure=rate_measure,
                        period=str(year),
                        value=rate,
                        note=rate_note,
                        source=SOURCE_RATE.format(year=year, previous=year - 1),
                    )
                )
                added += 1
            self.data.skipped[name] = skipped
            years = sorted({y for y, _ in values if y != self.cin_cpp_period})
            span = f"{years[0]} to {years[-1]}" if years else "no years"
            self.report(
                name,
                rows,
                f"{added} LA figures for {span}; skipped {skipped} rows for former LA codes",
            )

    def _series(
        self, name: str, column: str
    ) -> tuple[dict[tuple[int, str], tuple[int | None, str]], int, int]:
        _, rows = read_csv(
            self.directory, name, ["time_period", "geographic_level", "new_la_code", column]
        )
        values: dict[tuple[int, str], tuple[int | None, str]] = {}
        skipped = 0
        for row in rows:
            if row.values["geographic_level"] != "Local authority":
                continue
            period = row.values["time_period"]
            if not YEAR.match(period):
                raise row.error(f"time_period {period!r} is not a year")
            code = row.code("new_la_code", LA_CODE, "upper-tier local authority")
            if code not in self.areas:
                skipped += 1
                continue
            key = (int(period), code)
            if key in values:
                raise row.error(f"{code} appears more than once for {period}")
            values[key] = row.count_or_symbol(column)
        return values, len(rows), skipped

    # Ofsted.

    def ofsted(self) -> None:
        judgement_columns = [
            "overall_effectiveness", "impact_of_leaders", "help_and_protection",
            "children_in_care", "care_leavers",
        ]  # fmt: skip
        name = OFSTED_HISTORY_FILE
        _, rows = read_csv(
            self.directory,
            name,
            ["la_code", "la_status", "inspection_date", "publication_date", "inspection_type",
             "ofsted_url", "pfa23cd", *judgement_columns],
        )  # fmt: skip
        by_date: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
        seen: set[tuple[str, dt.date, str]] = set()
        skipped = 0
        for row in rows:
            code = row.code("la_code", LA_CODE, "upper-tier local authority")
            if code not in self.areas and row.values["la_status"].lower() == "no longer exists":
                skipped += 1
                continue
            area = self.english_area(row, "la_code")
            self.same_force(row, "pfa23cd", area)
            record = self._judgement(
                row, area.code, judgement_columns, row.text("inspection_type", max_length=60)
            )
            _unique(
                row, seen, record.key,
                f"the {record.inspection_type} of {area.code} on {row.values['inspection_date']}",
            )  # fmt: skip
            by_date[(area.code, record.inspection_date)].append(len(self.data.judgements))
            self.data.judgements.append(record)
        self.data.skipped[name] = skipped
        self.report(
            name,
            len(rows),
            f"{len(self.data.judgements)} judgements; skipped {skipped} for former LAs",
        )

        name = OFSTED_LATEST_FILE
        _, rows = read_csv(
            self.directory,
            name,
            ["la_code", "inspection_date", "publication_date", "ofsted_url", "pfa23cd",
             *judgement_columns],
        )  # fmt: skip
        seen_areas: set[str] = set()
        added = 0
        for row in rows:
            area = self.english_area(row, "la_code")
            _unique(row, seen_areas, area.code, f"la_code {area.code!r}")
            self.same_force(row, "pfa23cd", area)
            latest = self._judgement(
                row, area.code, judgement_columns, "Not stated in source", is_latest=True
            )
            matches = by_date.get((area.code, latest.inspection_date), [])
            if len(matches) > 1:
                raise row.error(
                    f"{OFSTED_HISTORY_FILE} has {len(matches)} inspections of {area.code} on "
                    f"{row.values['inspection_date']}; cannot tell which is the latest"
                )
            if matches:
                # The "as at" file is the authority for the judgement in force; the history
                # gives the kind of inspection.
                latest.inspection_type = self.data.judgements[matches[0]].inspection_type
                self.data.judgements[matches[0]] = latest
            else:
                self.data.judgements.append(latest)
                added += 1
        self.report(
            name,
            len(rows),
            f"latest judgement for {len(seen_areas)} areas ({added} not in the history)",
        )

    def _judgement(
        self,
        row: Row,
        code: str,
        columns: Iterable[str],
        inspection_type: str,
        *,
        is_latest: bool = False,
    ) -> JudgementRecord:
        grades = {column: row.text(column, required=False, max_length=60) for column in columns}
        date = row.date("inspection_date")
        assert date is not None
        return JudgementRecord(
            local_authority_code=code,
            inspection_type=inspection_type,
            inspection_date=date,
            publication_date=row.date("publication_date", required=False),
            url=row.url("ofsted_url"),
            is_latest=is_latest,
            **grades,
        )

    def read(self) -> ReferenceDataset:
        self.inspectorates()
        self.forces_file()
        self.force_populations()
        self.local_authorities()
        self.districts()
        self.check_force_totals()
        self.boundaries()
        self.cin_cpp()
        self.dfe_series()
        self.ofsted()
        return self.data


def _label(area_name: str) -> str:
    if ", " in area_name:
        head, tail = area_name.split(", ", 1)
        return f"{tail} {head}"
    return area_name


def read_reference_data(directory: Path) -> ReferenceDataset:
    """Read and check every reference file in `directory`. Raises ReferenceDataError."""
    if not directory.is_dir():
        raise ReferenceDataError(str(directory), "is not a directory")
    return _Reader(directory).read()
