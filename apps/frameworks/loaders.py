"""Read and check methodology data files (see data/methodologies/README.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROGRAMME_TYPES = {"ncpi", "ncpi_review", "ncpi_reinspection", "jtai", "jicpa", "thematic", "other"}
REQUIRED = ("code", "title", "programme_types", "valid_from", "grade_scale", "stages")

# The common scale every version's grades map onto, so that figures from inspections graded
# under different versions can be charted side by side: (code, label), best first.
COMPARABLE_SCALE: tuple[tuple[str, str], ...] = (
    ("good", "Good or better"),
    ("requires_improvement", "Requires improvement or adequate"),
    ("inadequate", "Inadequate"),
)
COMPARABLE_LABELS: dict[str, str] = dict(COMPARABLE_SCALE)
COMPARABLE_RANK: dict[str, int] = {code: rank for rank, (code, _) in enumerate(COMPARABLE_SCALE)}


class MethodologyFileError(ValueError):
    pass


@dataclass(frozen=True)
class MethodologyFile:
    path: Path
    sha256: str
    data: dict[str, Any]


def _date(value: Any, name: str, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise MethodologyFileError(f"{where}: {name} '{value}' is not a date (YYYY-MM-DD)") from exc


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def read_methodology(path: Path) -> MethodologyFile:
    raw = path.read_bytes()
    where = path.name
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise MethodologyFileError(f"{where}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise MethodologyFileError(f"{where}: expected a mapping of fields at the top level")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise MethodologyFileError(f"{where}: missing field(s) {', '.join(missing)}")
    if not isinstance(data["programme_types"], list) or not data["programme_types"]:
        raise MethodologyFileError(f"{where}: programme_types must be a non-empty list")
    unknown = set(data["programme_types"]) - PROGRAMME_TYPES
    if unknown:
        raise MethodologyFileError(
            f"{where}: unknown programme type(s) {', '.join(sorted(unknown))}"
        )
    scale = data["grade_scale"]
    if (
        not isinstance(scale, list)
        or not all(_text(grade) for grade in scale)
        or len(set(scale)) != len(scale)
    ):
        raise MethodologyFileError(f"{where}: grade_scale must be a list of distinct grades")
    _check_stages(data, where)
    _check_audit_areas(data, where)
    _check_grade_mapping(data, where)
    if data["grade_scale"]:
        _check_grading_version(data, where)
    start = _date(data["valid_from"], "valid_from", where)
    end = _date(data.get("valid_to"), "valid_to", where)
    if start is None:
        raise MethodologyFileError(f"{where}: valid_from is required")
    if end and end < start:
        raise MethodologyFileError(f"{where}: valid_to is before valid_from")
    data["valid_from"], data["valid_to"] = start, end
    return MethodologyFile(path=path, sha256=hashlib.sha256(raw).hexdigest(), data=data)


def _check_stages(data: dict[str, Any], where: str) -> None:
    stages = data["stages"]
    if not isinstance(stages, list) or not stages:
        raise MethodologyFileError(f"{where}: stages must be a non-empty list")
    seen: set[str] = set()
    criterion_codes: set[str] = set()
    for number, stage in enumerate(stages, start=1):
        if not isinstance(stage, dict) or not _text(stage.get("code")) or not stage.get("name"):
            raise MethodologyFileError(f"{where}: stage {number} needs a code and a name")
        code = stage["code"]
        if code in seen:
            raise MethodologyFileError(f"{where}: stage code '{code}' is repeated")
        seen.add(code)
        if not isinstance(stage.get("case_level", True), bool):
            raise MethodologyFileError(f"{where}: stage '{code}': case_level must be true or false")
        if "criteria" in stage:
            _check_criteria(stage, where, criterion_codes)


def _check_criteria(stage: dict[str, Any], where: str, codes: set[str]) -> None:
    """Criteria: a non-empty list of {code, text}; codes unique across the whole version."""
    criteria = stage["criteria"]
    if not isinstance(criteria, list) or not criteria:
        raise MethodologyFileError(
            f"{where}: stage '{stage['code']}': criteria must be a non-empty list of {{code, text}}"
        )
    for number, criterion in enumerate(criteria, start=1):
        if not isinstance(criterion, dict) or not _text(criterion.get("code")):
            raise MethodologyFileError(
                f"{where}: stage '{stage['code']}': criterion {number} needs a code"
            )
        code = criterion["code"]
        if not _text(criterion.get("text")):
            raise MethodologyFileError(
                f"{where}: stage '{stage['code']}': criterion '{code}' needs a non-empty text"
            )
        if code in codes:
            raise MethodologyFileError(f"{where}: criterion code '{code}' is repeated")
        codes.add(code)


def _check_audit_areas(data: dict[str, Any], where: str) -> None:
    if "audit_areas" not in data:
        return
    areas = data["audit_areas"]
    if not isinstance(areas, list):
        raise MethodologyFileError(f"{where}: audit_areas must be a list of {{code, name, stages}}")
    stages = {stage["code"]: stage for stage in data["stages"]}
    seen: set[str] = set()
    for number, area in enumerate(areas, start=1):
        if not isinstance(area, dict) or not _text(area.get("code")) or not _text(area.get("name")):
            raise MethodologyFileError(f"{where}: audit area {number} needs a code and a name")
        code = area["code"]
        if code in seen:
            raise MethodologyFileError(f"{where}: audit area code '{code}' is repeated")
        seen.add(code)
        listed = area.get("stages")
        if not isinstance(listed, list) or not listed or not all(map(_text, listed)):
            raise MethodologyFileError(
                f"{where}: audit area '{code}': stages must be a non-empty list of stage codes"
            )
        if len(set(listed)) != len(listed):
            raise MethodologyFileError(f"{where}: audit area '{code}': a stage is listed twice")
        for stage_code in listed:
            stage = stages.get(stage_code)
            if stage is None:
                raise MethodologyFileError(
                    f"{where}: audit area '{code}': stage '{stage_code}' is not a stage of "
                    "this version"
                )
            if not stage.get("case_level", True):
                raise MethodologyFileError(
                    f"{where}: audit area '{code}': stage '{stage_code}' is not assessed from "
                    "case files (case_level: false)"
                )


def _check_grade_mapping(data: dict[str, Any], where: str) -> None:
    if "mapping_note" in data and not isinstance(data["mapping_note"], str):
        raise MethodologyFileError(f"{where}: mapping_note must be text")
    if "grade_mapping" not in data:
        return
    mapping = data["grade_mapping"]
    if not isinstance(mapping, dict):
        raise MethodologyFileError(
            f"{where}: grade_mapping must map each grade to a comparable band"
        )
    scale = data["grade_scale"]
    unmapped = [grade for grade in scale if grade not in mapping]
    if unmapped:
        raise MethodologyFileError(
            f"{where}: grade_mapping does not map grade(s) {', '.join(map(str, unmapped))}"
        )
    extra = [grade for grade in mapping if grade not in scale]
    if extra:
        raise MethodologyFileError(
            f"{where}: grade_mapping maps grade(s) not in grade_scale: {', '.join(map(str, extra))}"
        )
    for grade in scale:
        if mapping[grade] not in COMPARABLE_RANK:
            raise MethodologyFileError(
                f"{where}: grade_mapping maps '{grade}' to '{mapping[grade]}', which is not on "
                f"the common scale ({', '.join(COMPARABLE_RANK)})"
            )
    # grade_scale is best first, so the bands must never get better further down it.
    for better, worse in itertools.pairwise(scale):
        if COMPARABLE_RANK[mapping[worse]] < COMPARABLE_RANK[mapping[better]]:
            raise MethodologyFileError(
                f"{where}: grade_mapping is not in order: '{worse}' is a worse grade than "
                f"'{better}' but maps to a better band ('{mapping[worse]}' above "
                f"'{mapping[better]}')"
            )


def _check_grading_version(data: dict[str, Any], where: str) -> None:
    """A version that grades cases must say what to audit and how its grades compare."""
    if not data.get("audit_areas"):
        raise MethodologyFileError(
            f"{where}: audit_areas is required where grade_scale is not empty"
        )
    if "grade_mapping" not in data:
        raise MethodologyFileError(
            f"{where}: grade_mapping is required where grade_scale is not empty"
        )
    if not _text(data.get("mapping_note")):
        raise MethodologyFileError(
            f"{where}: mapping_note is required where grade_scale is not empty"
        )
    stages = {stage["code"]: stage for stage in data["stages"]}
    for area in data["audit_areas"]:
        for stage_code in area["stages"]:
            if not stages[stage_code].get("criteria"):
                raise MethodologyFileError(
                    f"{where}: stage '{stage_code}' (used by audit area '{area['code']}') "
                    "has no criteria"
                )


def read_directory(directory: Path) -> list[MethodologyFile]:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise MethodologyFileError(f"No methodology files (*.yaml) in {directory}")
    loaded = [read_methodology(p) for p in files]
    codes = [m.data["code"] for m in loaded]
    duplicates = {c for c in codes if codes.count(c) > 1}
    if duplicates:
        raise MethodologyFileError(f"Methodology code(s) used twice: {', '.join(duplicates)}")
    return loaded
