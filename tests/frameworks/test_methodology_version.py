"""The helpers on MethodologyVersion, read from the loaded shipped files."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.management import call_command

from apps.frameworks.admin import MethodologyVersionAdmin
from apps.frameworks.models import MethodologyVersion


@pytest.fixture
def versions(db) -> dict[str, MethodologyVersion]:
    call_command("load_methodologies", verbosity=0)
    return {v.code: v for v in MethodologyVersion.objects.all()}


def test_all_versions_load(versions):
    assert set(versions) >= {"ncpi-2014", "ncpi-2016", "ncpi-2024", "ncpi-review", "jtai"}
    assert versions["ncpi-review"].programme_types == ["ncpi_review"]


def test_case_stages_skip_those_not_assessed_from_case_files(versions):
    ncpi = versions["ncpi-2016"]
    assert ncpi.stages[0]["code"] == "leadership"
    assert ncpi.stages[0]["case_level"] is False
    codes = [s["code"] for s in ncpi.case_stages]
    assert "leadership" not in codes
    assert codes[:2] == ["initial_contact", "assessment_and_help"]
    assert all(s["case_level"] and s["criteria"] for s in ncpi.case_stages)
    assert [s["code"] for s in versions["ncpi-review"].case_stages] == [
        "initial_contact",
        "assessment_and_help",
        "investigation",
        "decision_making",
    ]


def test_audit_areas(versions):
    ncpi = versions["ncpi-2024"]
    codes = [a["code"] for a in ncpi.audit_areas]
    assert "child_criminal_exploitation" in codes
    area = ncpi.audit_area("domestic_abuse")
    assert area is not None and area["name"] == "Domestic abuse"
    assert ncpi.audit_area("nowhere") is None
    assert versions["jtai"].audit_areas == []


def test_stages_for_an_area_come_in_stage_order_with_their_criteria(versions):
    ncpi = versions["ncpi-2016"]
    stages = ncpi.stages_for_area("children_in_custody")
    assert [s["code"] for s in stages] == [
        "assessment_and_help",
        "decision_making",
        "trusted_adult",
        "police_detention",
    ]
    assert "police_detention.appropriate_adult" in {c["code"] for c in stages[-1]["criteria"]}
    assert ncpi.stages_for_area("nowhere") == []


def test_criteria_by_code(versions):
    criteria = versions["ncpi-2016"].criteria_by_code
    criterion = criteria["initial_contact.risk_assessed"]
    assert criterion["stage"] == "initial_contact"
    assert "structured approach" in criterion["text"]
    assert criteria["leadership.priority"]["stage"] == "leadership"


def test_grades_on_the_common_scale(versions):
    ncpi = versions["ncpi-2024"]
    assert ncpi.grades_cases
    assert ncpi.comparable("outstanding") == "good"
    assert ncpi.comparable("adequate") == "requires_improvement"
    assert ncpi.comparable("requires improvement") == "requires_improvement"
    assert ncpi.comparable("inadequate") == "inadequate"
    assert ncpi.comparable("excellent") is None
    assert versions["ncpi-2014"].comparable("adequate") == "requires_improvement"
    assert set(ncpi.grade_mapping) == set(ncpi.grade_scale)
    assert "Outstanding and good" in ncpi.mapping_note


def test_a_version_that_does_not_grade_cases(versions):
    jtai = versions["jtai"]
    assert not jtai.grades_cases
    assert jtai.grade_mapping == {}
    assert jtai.comparable("good") is None
    assert jtai.mapping_note == ""
    assert jtai.criteria_by_code == {}


def test_helpers_do_not_change_the_definition(versions):
    ncpi = versions["ncpi-2016"]
    ncpi.case_stages[0]["criteria"].clear()
    ncpi.audit_areas[0]["stages"].clear()
    fresh = MethodologyVersion.objects.get(code="ncpi-2016")
    assert fresh.definition == ncpi.definition
    assert fresh.case_stages[0]["criteria"]
    assert fresh.audit_areas[0]["stages"]


def test_a_definition_without_the_new_fields(db):
    """Versions made by older code or by test factories read as empty, not as errors."""
    version = MethodologyVersion(
        code="bare",
        title="Bare",
        valid_from="2020-01-01",
        grade_scale=["good"],
        definition={"stages": [{"code": "leadership", "name": "Leadership"}]},
    )
    assert version.case_stages == [
        {"code": "leadership", "name": "Leadership", "case_level": True, "criteria": []}
    ]
    assert version.audit_areas == [] and version.stages_for_area("x") == []
    assert version.comparable("good") is None and version.mapping_note == ""


def test_the_admin_shows_criteria_areas_and_mapping(versions):
    model_admin = MethodologyVersionAdmin(MethodologyVersion, admin.site)
    ncpi = versions["ncpi-2024"]
    assert "outstanding &rarr; Good or better" in model_admin.mapping(ncpi)
    assert "Child criminal exploitation" in model_admin.areas(ncpi)
    criteria = model_admin.criteria(ncpi)
    assert "(not assessed from case files)" in criteria
    assert "initial_response.child_identified" in criteria
