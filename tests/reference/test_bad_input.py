"""load_reference refuses bad files: the error names the file, the row and the problem, and
nothing in the database changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.core.models import AuditEvent
from apps.reference import services
from apps.reference.models import ContextFigure, Force, LocalAuthority

from .test_load import database_state, rewrite_csv

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("loaded_reference")]


def state() -> tuple[dict[str, list[tuple[object, ...]]], int]:
    return database_state(), AuditEvent.objects.count()


def hartlepool_cin() -> object:
    return ContextFigure.objects.get(
        local_authority__code="E06000001", measure="cin_count", period="2025"
    ).value


def load_fails(path: Path, *expected: str) -> str:
    """Run the command on `path`, expect it to fail, check the database did not change, and
    return the error message (which must contain each of `expected`)."""
    before = state()
    assert hartlepool_cin() == 1341
    with pytest.raises(CommandError) as caught:
        call_command("load_reference", "--path", str(path), verbosity=0)
    message = str(caught.value)
    for text in expected:
        assert text in message
    assert "Nothing was loaded" in message
    assert state() == before
    assert hartlepool_cin() == 1341
    return message


def edit_row(path: Path, key: str, value: str, change: Callable[[dict[str, str]], None]) -> None:
    def edit(row: dict[str, str]) -> None:
        if row[key] == value:
            change(row)

    rewrite_csv(path, edit)


def test_an_unknown_force_code_is_refused(data_copy: Path) -> None:
    # Row 17 is the 16th local authority (the header is row 1).
    edit_row(
        data_copy / "la_to_pfa23.csv",
        "utla23cd",
        "E06000017",
        lambda row: row.update(pfa23cd="E2300009X"),
    )
    with (data_copy / "la_to_pfa23.csv").open() as handle:
        line = next(n for n, text in enumerate(handle, start=1) if text.startswith("E06000017"))
    load_fails(
        data_copy,
        f"la_to_pfa23.csv row {line}: pfa23cd 'E2300009X' is not a known police force area",
    )


def test_a_well_formed_but_unknown_force_code_is_refused(data_copy: Path) -> None:
    edit_row(
        data_copy / "lad23_to_pfa23.csv",
        "lad23cd",
        "E06000001",
        lambda row: row.update(pfa23cd="E23000099"),
    )
    load_fails(
        data_copy, "lad23_to_pfa23.csv row 2: pfa23cd 'E23000099' is not a known police force"
    )


def test_a_missing_column_is_named(data_copy: Path) -> None:
    path = data_copy / "la_to_pfa23.csv"
    rewrite_csv(path, lambda row: row.pop("pfa23cd"))
    load_fails(data_copy, "la_to_pfa23.csv: missing column 'pfa23cd'")


def test_a_number_that_does_not_parse_is_refused(data_copy: Path) -> None:
    edit_row(
        data_copy / "la_to_pfa23.csv",
        "utla23cd",
        "E06000001",
        lambda row: row.update(population_0_17_mid2023="lots"),
    )
    load_fails(
        data_copy, "la_to_pfa23.csv row 2: population_0_17_mid2023 'lots' is not a whole number"
    )


def test_a_malformed_code_is_refused(data_copy: Path) -> None:
    edit_row(
        data_copy / "lad23_to_pfa23.csv",
        "lad23cd",
        "E06000002",
        lambda row: row.update(lad23cd="E0600002"),
    )
    load_fails(data_copy, "lad23_to_pfa23.csv row 3: lad23cd 'E0600002' is not a well-formed")


def test_a_bad_date_is_refused(data_copy: Path) -> None:
    path = data_copy / "ofsted_ilacs_outcomes_as_at_2025-03-31.csv"
    edit_row(path, "la_code", "E09000002", lambda row: row.update(inspection_date="2023-07-10"))
    load_fails(
        data_copy,
        "ofsted_ilacs_outcomes_as_at_2025-03-31.csv row 2: inspection_date '2023-07-10' is "
        "not a date in the form DD/MM/YYYY",
    )


def test_a_missing_force_is_refused(data_copy: Path) -> None:
    path = data_copy / "police_forces_england_wales.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if "cumbria" not in line), encoding="utf-8")
    load_fails(data_copy, "police_forces_england_wales.csv: expected 43 territorial forces")


def test_a_cin_count_that_does_not_match_its_rate_is_refused(data_copy: Path) -> None:
    edit_row(
        data_copy / "la_cin_cpp_2025_with_pfa.csv",
        "new_la_code",
        "E06000001",
        lambda row: row.update(cin_at_31_march_2025="13410"),
    )
    load_fails(data_copy, "la_cin_cpp_2025_with_pfa.csv row 2: cin_rate_per_10000 635.8 is not")


def test_a_boundary_for_an_unknown_force_is_refused(data_copy: Path) -> None:
    path = data_copy / "pfa_dec2020_ew_buc.geojson"
    document = json.loads(path.read_text(encoding="utf-8"))
    document["features"][1]["properties"]["PFA20CD"] = "E23000098"
    path.write_text(json.dumps(document), encoding="utf-8")
    load_fails(
        data_copy,
        "pfa_dec2020_ew_buc.geojson: feature 2: 'E23000098' is not a known police force area",
    )


def test_a_missing_boundary_is_refused(data_copy: Path) -> None:
    path = data_copy / "pfa_dec2020_ew_buc.geojson"
    document = json.loads(path.read_text(encoding="utf-8"))
    del document["features"][0]
    path.write_text(json.dumps(document), encoding="utf-8")
    load_fails(data_copy, "pfa_dec2020_ew_buc.geojson: no boundary for police force area E23000001")


def test_a_missing_file_is_named(data_copy: Path) -> None:
    (data_copy / "inspectorates.csv").unlink()
    load_fails(data_copy, "inspectorates.csv: file not found")


def test_a_failure_while_writing_rolls_everything_back(
    data_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Valid, changed files, but the write fails at the very end (the audit event): the
    changes already written are rolled back with it."""
    edit_row(
        data_copy / "police_forces_england_wales.csv",
        "police_uk_force_id",
        "cumbria",
        lambda row: row.update(force_name="Cumbria Police"),
    )

    def broken_audit(**kwargs: object) -> None:
        assert Force.objects.filter(name="Cumbria Police").exists()  # written by now
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(services, "audit_record", broken_audit)
    before = state()
    with pytest.raises(RuntimeError, match="audit trail unavailable"):
        call_command("load_reference", "--path", str(data_copy), verbosity=0)
    assert state() == before
    assert Force.objects.get(slug="cumbria").name == "Cumbria Constabulary"
    assert LocalAuthority.objects.count() == 175
