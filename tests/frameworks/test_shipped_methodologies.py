"""The methodology files shipped in data/methodologies load and keep the rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from apps.frameworks.loaders import COMPARABLE_SCALE, read_directory

DIRECTORY = Path(settings.BASE_DIR) / "data" / "methodologies"
FILES = {m.data["code"]: m.data for m in read_directory(DIRECTORY)}
GRADING = sorted(code for code, data in FILES.items() if data["grade_scale"])
NON_GRADING = sorted(code for code, data in FILES.items() if not data["grade_scale"])


def test_every_shipped_file_loads():
    assert set(FILES) == {
        "jicpa",
        "jtai",
        "ncpi-2014",
        "ncpi-2016",
        "ncpi-2024",
        "ncpi-review",
        "thematic",
    }
    assert GRADING == ["ncpi-2014", "ncpi-2016", "ncpi-2024", "ncpi-review"]


def test_the_common_scale():
    assert COMPARABLE_SCALE == (
        ("good", "Good or better"),
        ("requires_improvement", "Requires improvement or adequate"),
        ("inadequate", "Inadequate"),
    )


@pytest.mark.parametrize("code", GRADING)
def test_grading_versions_have_criteria_areas_and_a_mapping(code):
    data = FILES[code]
    stages = {stage["code"]: stage for stage in data["stages"]}
    for stage in data["stages"]:
        criteria = stage["criteria"]
        assert 3 <= len(criteria) <= 5, stage["code"]
        for criterion in criteria:
            assert criterion["code"].startswith(f"{stage['code']}."), criterion["code"]
            assert len(criterion["text"].split()) >= 8, criterion["code"]
    assert any(stage.get("case_level") is False for stage in data["stages"])
    used = {s for area in data["audit_areas"] for s in area["stages"]}
    case_level = {c for c, stage in stages.items() if stage.get("case_level", True)}
    assert used == case_level, "every case-level stage is audited under some area"
    assert set(data["grade_mapping"]) == set(data["grade_scale"])
    assert data["mapping_note"].strip()
    assert "unconfirmed" in data["source"]


def test_the_mappings():
    assert FILES["ncpi-2014"]["grade_mapping"] == {
        "good": "good",
        "adequate": "requires_improvement",
        "inadequate": "inadequate",
    }
    for code in ("ncpi-2016", "ncpi-review"):
        assert FILES[code]["grade_mapping"] == {
            "good": "good",
            "requires improvement": "requires_improvement",
            "inadequate": "inadequate",
        }
    assert FILES["ncpi-2024"]["grade_mapping"] == {
        "outstanding": "good",
        "good": "good",
        "adequate": "requires_improvement",
        "requires improvement": "requires_improvement",
        "inadequate": "inadequate",
    }


def test_reviews_always_use_the_review_methodology():
    reviewing = sorted(c for c, d in FILES.items() if "ncpi_review" in d["programme_types"])
    assert reviewing == ["ncpi-review"]
    for code in ("ncpi-2014", "ncpi-2016", "ncpi-2024"):
        assert FILES[code]["programme_types"] == ["ncpi", "ncpi_reinspection"]


def test_the_review_methodology():
    review = FILES["ncpi-review"]
    assert review["valid_to"] is None
    assert str(review["valid_from"]) == "2015-01-01"
    assert review["grade_scale"] == ["good", "requires improvement", "inadequate"]
    case_level = [s["code"] for s in review["stages"] if s.get("case_level", True)]
    assert case_level == [
        "initial_contact",
        "assessment_and_help",
        "investigation",
        "decision_making",
    ]
    (progress,) = [s for s in review["stages"] if s.get("case_level") is False]
    assert progress["code"] == "progress"
    # Area codes are shared with the NCPI versions, so a review re-audits the original's areas.
    ncpi_areas = {
        area["code"]
        for code in ("ncpi-2014", "ncpi-2016", "ncpi-2024")
        for area in FILES[code]["audit_areas"]
    }
    review_areas = {area["code"] for area in review["audit_areas"]}
    assert review_areas <= ncpi_areas
    assert {"domestic_abuse", "missing_children", "child_sexual_exploitation"} <= review_areas


def test_area_codes_are_shared_across_ncpi_versions():
    areas = {code: {a["code"] for a in FILES[code]["audit_areas"]} for code in GRADING}
    assert areas["ncpi-2014"] == areas["ncpi-2016"]
    assert {"child_sexual_abuse", "child_criminal_exploitation"} <= areas["ncpi-2024"]
    shared = {"domestic_abuse", "missing_children", "child_sexual_exploitation"}
    assert all(shared <= codes for codes in areas.values())


@pytest.mark.parametrize("code", NON_GRADING)
def test_non_grading_versions_need_no_criteria_areas_or_mapping(code):
    data = FILES[code]
    assert "audit_areas" not in data and "grade_mapping" not in data
    assert all("criteria" not in stage for stage in data["stages"])
