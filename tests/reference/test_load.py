"""load_reference: what it loads, and that loading twice changes nothing."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.core.models import AuditEvent
from apps.reference import maps
from apps.reference.models import (
    ContextFigure,
    Country,
    District,
    Force,
    Inspectorate,
    LocalAuthority,
    OfstedJudgement,
)

Measure = ContextFigure.Measure
MODELS = (Inspectorate, Force, LocalAuthority, District, ContextFigure, OfstedJudgement)


def figure(code: str, measure: str, period: str) -> ContextFigure:
    return ContextFigure.objects.get(local_authority__code=code, measure=measure, period=period)


def force_figure(slug: str, measure: str, period: str) -> ContextFigure:
    return ContextFigure.objects.get(force__slug=slug, measure=measure, period=period)


def database_state() -> dict[str, list[tuple[object, ...]]]:
    """Every stored value of every reference row, for before/after comparisons."""
    return {
        model.__name__: sorted(model.objects.values_list(), key=lambda row: row[0])
        for model in MODELS
    }


def rewrite_csv(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        change(row)
    fieldnames = list(rows[0].keys())
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.django_db
def test_load_creates_the_reference_data(reference_data: None) -> None:
    assert Force.objects.count() == 44
    assert Force.objects.filter(code__isnull=False).count() == 43
    assert Force.objects.filter(territorial=True, country=Country.ENGLAND).count() == 39
    assert Force.objects.filter(territorial=True, country=Country.WALES).count() == 4
    btp = Force.objects.get(code__isnull=True)
    assert (btp.slug, btp.name, btp.territorial) == ("btp", "British Transport Police", False)
    assert btp.boundary is None and btp.boundary_map is None
    assert LocalAuthority.objects.count() == 175
    assert LocalAuthority.objects.filter(country=Country.ENGLAND).count() == 153
    assert District.objects.count() == 318
    assert Inspectorate.objects.count() == 7

    cumbria = Force.objects.get(slug="cumbria")
    assert cumbria.code == "E23000002"
    assert cumbria.name == "Cumbria Constabulary"
    assert cumbria.population_0_17 == 90_746
    assert cumbria.population_all_ages == 505_063
    assert cumbria.population_year == 2023
    assert sorted(cumbria.local_authorities.values_list("name", flat=True)) == [
        "Cumberland",
        "Westmorland and Furness",
    ]
    assert cumbria.boundary["type"] in {"Polygon", "MultiPolygon"}
    assert cumbria.boundary_map["area"].startswith("M")
    assert {c["name"] for c in cumbria.boundary_map["context"]} >= {"Lancashire", "Durham"}
    assert Force.objects.get(code="E23000034").area_label == "City of London"

    police = Inspectorate.objects.get(code="police")
    assert police.name == ("His Majesty's Inspectorate of Constabulary and Fire & Rescue Services")
    assert police.short_name == "HMICFRS"
    assert police.is_police_inspectorate
    assert police.scope == Inspectorate.Scope.ENGLAND_AND_WALES
    assert Inspectorate.objects.filter(is_police_inspectorate=True).count() == 1
    assert set(Inspectorate.objects.filter(scope="wales").values_list("code", flat=True)) == {
        "ciw", "hiw", "estyn",
    }  # fmt: skip

    hartlepool = LocalAuthority.objects.get(code="E06000001")
    assert hartlepool.force.slug == "cleveland"
    assert hartlepool.dfe_code == "805"
    assert hartlepool.population_0_17 == 20_417
    assert figure("E06000001", Measure.CIN_COUNT, "2025").value == 1341
    assert figure("E06000001", Measure.CIN_RATE, "2025").value == Decimal("635.8")
    assert figure("E06000001", Measure.CPP_COUNT, "2025").value == 173
    assert figure("E06000001", Measure.POPULATION_0_17, "mid-2023").value == 20_417
    # The DfE time series, with rates from DfE's population of the year before.
    assert figure("E06000001", Measure.CIN_COUNT, "2013").value is not None
    assert figure("E06000001", Measure.CIN_RATE, "2024").value is not None

    suppressed = figure("E09000001", Measure.CPP_COUNT, "2025")  # City of London
    assert suppressed.value is None
    assert suppressed.note == "suppressed by DfE"
    assert figure("E09000001", Measure.CPP_RATE, "2025").value is None

    # Force figures: counts summed over the force's areas, rates from the summed counts.
    cleveland = [
        figure(code, Measure.CIN_COUNT, "2025").value
        for code in LocalAuthority.objects.filter(force__slug="cleveland").values_list(
            "code", flat=True
        )
    ]
    assert force_figure("cleveland", Measure.CIN_COUNT, "2025").value == sum(cleveland)
    devon = force_figure("devon-and-cornwall", Measure.CPP_COUNT, "2025")
    assert devon.value is not None
    assert devon.note == "Excludes Isles of Scilly (suppressed by DfE)"
    assert force_figure("city-of-london", Measure.CPP_RATE, "2025").value is None
    assert force_figure("cumbria", Measure.POPULATION_0_17, "mid-2023").value == 90_746
    # Wales: population only.
    assert set(
        ContextFigure.objects.filter(force__slug="gwent").values_list("measure", flat=True)
    ) == {Measure.POPULATION_0_17}
    assert not ContextFigure.objects.filter(
        local_authority__country=Country.WALES, measure=Measure.CIN_COUNT
    ).exists()

    assert OfstedJudgement.objects.count() == 268
    assert OfstedJudgement.objects.filter(is_latest=True).count() == 153
    latest = OfstedJudgement.objects.get(local_authority__code="E09000003", is_latest=True)
    assert str(latest.inspection_date) == "2024-06-10"  # 10/06/2024 in the source
    assert latest.overall_effectiveness == "Good"
    assert latest.inspection_type == "ILACS Short Inspection"

    event = AuditEvent.objects.get(object_type="reference.dataset")
    assert event.actor is None
    assert event.actor_label == "system:load_reference"
    assert event.action == AuditEvent.Action.SYSTEM
    assert "forces: 44 created" in event.summary
    assert event.changes["forces"] == [0, 44]


@pytest.mark.django_db
def test_loading_twice_changes_nothing() -> None:
    call_command("load_reference", verbosity=0)
    before = database_state()
    events = AuditEvent.objects.count()

    out = StringIO()
    call_command("load_reference", stdout=out)

    assert database_state() == before
    assert AuditEvent.objects.count() == events + 1
    output = out.getvalue()
    assert "forces: 0 created, 0 updated, 44 unchanged" in output
    assert "context figures: 0 created, 0 updated" in output
    assert "Reference data already up to date" in output
    assert "la_to_pfa23.csv: 175 rows" in output  # a progress line per file
    latest = AuditEvent.objects.filter(object_type="reference.dataset").first()
    assert latest is not None
    assert "no changes" in latest.summary
    assert latest.changes == {}


@pytest.mark.django_db
def test_a_changed_value_is_updated(data_copy: Path) -> None:
    call_command("load_reference", "--path", str(data_copy), verbosity=0)
    forces = Force.objects.count()

    def rename(row: dict[str, str]) -> None:
        if row["police_uk_force_id"] == "hampshire":
            row["force_name"] = "Hampshire and Isle of Wight Constabulary"

    def more_children_in_need(row: dict[str, str]) -> None:
        if row["new_la_code"] == "E06000001":
            row["cin_at_31_march_2025"] = "1342"
            row["cin_rate_per_10000"] = "636.3"

    rewrite_csv(data_copy / "police_forces_england_wales.csv", rename)
    rewrite_csv(data_copy / "la_cin_cpp_2025_with_pfa.csv", more_children_in_need)
    # Move one point of the Cleveland boundary: its geometry and map change, and so do the
    # maps of the forces that show it for context.
    boundaries = data_copy / "pfa_dec2020_ew_buc.geojson"
    document = json.loads(boundaries.read_text(encoding="utf-8"))
    cleveland = next(f for f in document["features"] if f["properties"]["PFA20CD"] == "E23000013")
    ring = maps.polygons(cleveland["geometry"])[0][0]
    ring[1] = [ring[1][0] + 0.01, ring[1][1]]
    boundaries.write_text(json.dumps(document), encoding="utf-8")
    map_before = Force.objects.get(slug="cleveland").boundary_map
    cleveland_before = force_figure("cleveland", Measure.CIN_COUNT, "2025").value
    out = StringIO()
    call_command("load_reference", "--path", str(data_copy), stdout=out)

    assert Force.objects.count() == forces
    assert Force.objects.get(slug="hampshire").name == "Hampshire and Isle of Wight Constabulary"
    assert figure("E06000001", Measure.CIN_COUNT, "2025").value == 1342
    assert figure("E06000001", Measure.CIN_RATE, "2025").value == Decimal("636.3")
    assert force_figure("cleveland", Measure.CIN_COUNT, "2025").value == cleveland_before + 1
    cleveland_force = Force.objects.get(slug="cleveland")
    assert maps.polygons(cleveland_force.boundary)[0][0][1] == ring[1]
    assert cleveland_force.boundary_map != map_before
    durham = Force.objects.get(slug="durham")
    assert durham.boundary_map is not None
    assert "Cleveland" in {c["name"] for c in durham.boundary_map["context"]}
    # Hampshire (renamed), Cleveland and the forces whose maps show Cleveland.
    context_of_cleveland = sum(
        "Cleveland" in {c["name"] for c in (f.boundary_map or {}).get("context", [])}
        for f in Force.objects.filter(boundary_map__isnull=False)
    )
    assert f"forces: 0 created, {2 + context_of_cleveland} updated" in out.getvalue()
    # Hartlepool's count and rate, and Cleveland's count and rate.
    assert "context figures: 0 created, 4 updated" in out.getvalue()
