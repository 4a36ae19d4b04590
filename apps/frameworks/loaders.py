"""Read and check methodology data files (see data/methodologies/README.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROGRAMME_TYPES = {"ncpi", "ncpi_review", "ncpi_reinspection", "jtai", "jicpa", "thematic", "other"}
REQUIRED = ("code", "title", "programme_types", "valid_from", "grade_scale", "stages")


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
    if not isinstance(data["grade_scale"], list) or len(set(data["grade_scale"])) != len(
        data["grade_scale"]
    ):
        raise MethodologyFileError(f"{where}: grade_scale must be a list of distinct grades")
    stages = data["stages"]
    if not isinstance(stages, list) or not stages:
        raise MethodologyFileError(f"{where}: stages must be a non-empty list")
    seen = set()
    for number, stage in enumerate(stages, start=1):
        if not isinstance(stage, dict) or not stage.get("code") or not stage.get("name"):
            raise MethodologyFileError(f"{where}: stage {number} needs a code and a name")
        if stage["code"] in seen:
            raise MethodologyFileError(f"{where}: stage code '{stage['code']}' is repeated")
        seen.add(stage["code"])
    start = _date(data["valid_from"], "valid_from", where)
    end = _date(data.get("valid_to"), "valid_to", where)
    if start is None:
        raise MethodologyFileError(f"{where}: valid_from is required")
    if end and end < start:
        raise MethodologyFileError(f"{where}: valid_to is before valid_from")
    data["valid_from"], data["valid_to"] = start, end
    return MethodologyFile(path=path, sha256=hashlib.sha256(raw).hexdigest(), data=data)


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
