"""Each rule of the methodology loader refuses a broken file, naming the file and the problem."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.frameworks.loaders import MethodologyFileError, read_directory, read_methodology


def _valid() -> dict[str, Any]:
    """A small grading version that passes every rule."""
    return {
        "code": "small",
        "title": "Small",
        "programme_types": ["ncpi"],
        "valid_from": "2020-01-01",
        "valid_to": None,
        "grade_scale": ["good", "requires improvement", "inadequate"],
        "grade_mapping": {
            "good": "good",
            "requires improvement": "requires_improvement",
            "inadequate": "inadequate",
        },
        "mapping_note": "One to one.",
        "stages": [
            {
                "code": "leadership",
                "name": "Leadership",
                "case_level": False,
                "criteria": [{"code": "leadership.priority", "text": "Leaders make it count."}],
            },
            {
                "code": "initial_contact",
                "name": "Initial contact",
                "criteria": [
                    {"code": "initial_contact.child_identified", "text": "The child was seen."},
                    {"code": "initial_contact.risk_assessed", "text": "Risk was assessed."},
                ],
            },
            {"code": "trusted_adult", "name": "Trusted adult"},
        ],
        "audit_areas": [
            {"code": "domestic_abuse", "name": "Domestic abuse", "stages": ["initial_contact"]}
        ],
        "source": "tests",
    }


def _write(tmp_path: Path, data: dict[str, Any], name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _refused(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> str:
    data = _valid()
    change(data)
    with pytest.raises(MethodologyFileError) as caught:
        read_methodology(_write(tmp_path, data))
    message = str(caught.value)
    assert message.startswith("broken.yaml: "), message
    return message


def _stage(data: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in data["stages"] if s["code"] == code)


def test_the_small_version_is_valid(tmp_path):
    loaded = read_methodology(_write(tmp_path, _valid(), "small.yaml"))
    assert loaded.data["code"] == "small"


def test_a_non_grading_version_needs_no_criteria_areas_or_mapping(tmp_path):
    data = {
        "code": "joint",
        "title": "Joint",
        "programme_types": ["jtai"],
        "valid_from": "2016-02-01",
        "grade_scale": [],
        "stages": [{"code": "front_door", "name": "Front door"}],
    }
    assert read_methodology(_write(tmp_path, data, "joint.yaml")).data["code"] == "joint"


# Criteria ---------------------------------------------------------------------------------


def test_criteria_must_be_a_list(tmp_path):
    message = _refused(tmp_path, lambda d: _stage(d, "initial_contact").update(criteria="be good"))
    assert "stage 'initial_contact': criteria must be a non-empty list" in message


def test_a_criterion_needs_a_code(tmp_path):
    message = _refused(
        tmp_path,
        lambda d: _stage(d, "initial_contact")["criteria"].append({"text": "No code."}),
    )
    assert "stage 'initial_contact': criterion 3 needs a code" in message


def test_a_criterion_needs_text(tmp_path):
    message = _refused(
        tmp_path,
        lambda d: _stage(d, "initial_contact")["criteria"].append(
            {"code": "initial_contact.blank", "text": "  "}
        ),
    )
    assert "criterion 'initial_contact.blank' needs a non-empty text" in message


def test_criterion_codes_are_unique_within_the_version(tmp_path):
    message = _refused(
        tmp_path,
        lambda d: _stage(d, "initial_contact")["criteria"].append(
            {"code": "leadership.priority", "text": "Same code as a leadership criterion."}
        ),
    )
    assert "criterion code 'leadership.priority' is repeated" in message


def test_case_level_is_true_or_false(tmp_path):
    message = _refused(tmp_path, lambda d: _stage(d, "leadership").update(case_level="no"))
    assert "stage 'leadership': case_level must be true or false" in message


# Audit areas ------------------------------------------------------------------------------


def test_audit_areas_must_be_a_list(tmp_path):
    message = _refused(tmp_path, lambda d: d.update(audit_areas={"domestic_abuse": "x"}))
    assert "audit_areas must be a list" in message


def test_an_audit_area_needs_a_code_and_a_name(tmp_path):
    message = _refused(tmp_path, lambda d: d["audit_areas"].append({"code": "missing_children"}))
    assert "audit area 2 needs a code and a name" in message


def test_audit_area_codes_are_unique(tmp_path):
    message = _refused(
        tmp_path,
        lambda d: d["audit_areas"].append(
            {"code": "domestic_abuse", "name": "Again", "stages": ["initial_contact"]}
        ),
    )
    assert "audit area code 'domestic_abuse' is repeated" in message


def test_an_audit_area_lists_stages(tmp_path):
    message = _refused(tmp_path, lambda d: d["audit_areas"][0].update(stages=[]))
    assert "audit area 'domestic_abuse': stages must be a non-empty list" in message


def test_an_audit_area_lists_a_stage_once(tmp_path):
    message = _refused(
        tmp_path,
        lambda d: d["audit_areas"][0].update(stages=["initial_contact", "initial_contact"]),
    )
    assert "audit area 'domestic_abuse': a stage is listed twice" in message


def test_an_audit_area_stage_must_exist(tmp_path):
    message = _refused(tmp_path, lambda d: d["audit_areas"][0]["stages"].append("police_detention"))
    assert "audit area 'domestic_abuse': stage 'police_detention' is not a stage" in message


def test_an_audit_area_stage_must_be_case_level(tmp_path):
    message = _refused(tmp_path, lambda d: d["audit_areas"][0]["stages"].append("leadership"))
    assert "audit area 'domestic_abuse': stage 'leadership' is not assessed from case" in message


# Grading versions -------------------------------------------------------------------------


def test_a_grading_version_needs_audit_areas(tmp_path):
    message = _refused(tmp_path, lambda d: d.pop("audit_areas"))
    assert "audit_areas is required where grade_scale is not empty" in message


def test_a_grading_version_needs_a_grade_mapping(tmp_path):
    message = _refused(tmp_path, lambda d: d.pop("grade_mapping"))
    assert "grade_mapping is required where grade_scale is not empty" in message


def test_a_grading_version_needs_a_mapping_note(tmp_path):
    message = _refused(tmp_path, lambda d: d.update(mapping_note=""))
    assert "mapping_note is required where grade_scale is not empty" in message


def test_a_stage_an_area_uses_needs_criteria(tmp_path):
    message = _refused(tmp_path, lambda d: d["audit_areas"][0]["stages"].append("trusted_adult"))
    assert "stage 'trusted_adult' (used by audit area 'domestic_abuse') has no criteria" in message


# Grade mapping ----------------------------------------------------------------------------


def test_the_mapping_covers_every_grade(tmp_path):
    message = _refused(tmp_path, lambda d: d["grade_mapping"].pop("inadequate"))
    assert "grade_mapping does not map grade(s) inadequate" in message


def test_the_mapping_maps_only_grades_of_the_scale(tmp_path):
    message = _refused(tmp_path, lambda d: d["grade_mapping"].update(outstanding="good"))
    assert "grade_mapping maps grade(s) not in grade_scale: outstanding" in message


def test_the_mapping_maps_onto_the_common_scale(tmp_path):
    message = _refused(tmp_path, lambda d: d["grade_mapping"].update(good="excellent"))
    assert "grade_mapping maps 'good' to 'excellent', which is not on the common scale" in message


def test_the_mapping_is_in_order(tmp_path):
    def upside_down(data: dict[str, Any]) -> None:
        data["grade_mapping"].update(
            good="requires_improvement", **{"requires improvement": "good"}
        )

    message = _refused(tmp_path, upside_down)
    assert "grade_mapping is not in order: 'requires improvement' is a worse grade" in message


def test_a_non_grading_version_maps_no_grades(tmp_path):
    def no_grades(data: dict[str, Any]) -> None:
        data["grade_scale"] = []

    message = _refused(tmp_path, no_grades)
    assert "grade_mapping maps grade(s) not in grade_scale" in message


# The directory ----------------------------------------------------------------------------


def test_the_directory_refuses_a_broken_file_by_name(tmp_path):
    _write(tmp_path, _valid(), "small.yaml")
    broken = copy.deepcopy(_valid())
    broken["code"] = "other"
    broken["audit_areas"][0]["stages"] = ["nowhere"]
    _write(tmp_path, broken, "other.yaml")
    with pytest.raises(MethodologyFileError, match=r"^other\.yaml: audit area 'domestic_abuse'"):
        read_directory(tmp_path)
