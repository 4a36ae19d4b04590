"""Inspection methodologies, as versioned data.

Each version is defined by a YAML file in data/methodologies and loaded by
`load_methodologies`; an inspection keeps the version it was planned and graded under.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db import models


class MethodologyVersion(models.Model):
    code = models.SlugField(max_length=60, unique=True, help_text="e.g. ncpi-2016")
    title = models.CharField(max_length=200)
    programme_types = models.JSONField(
        default=list, help_text="Programme type codes this version can be used for"
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    grade_scale = models.JSONField(default=list, help_text="Case grades, best first")
    definition = models.JSONField(default=dict, help_text="The whole data file, as loaded")
    source_file = models.CharField(max_length=200)
    source_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["valid_from", "code"]

    def __str__(self) -> str:
        return self.title

    # Readers of the definition. The file was checked when loaded (frameworks.loaders), so
    # these only fill in defaults. Cached per instance: a version in use never changes, and
    # one that is reloaded is read again from the database.

    @cached_property
    def stages(self) -> list[dict[str, Any]]:
        """Every stage, in order, with `case_level` and `criteria` filled in (copies)."""
        return [
            {
                **stage,
                "case_level": stage.get("case_level", True),
                "criteria": [dict(c) for c in stage.get("criteria", [])],
            }
            for stage in self.definition.get("stages", [])
        ]

    @property
    def grades_cases(self) -> bool:
        """Whether cases are graded under this version (JTAI, JICPA, thematic: no)."""
        return bool(self.grade_scale)

    @cached_property
    def case_stages(self) -> list[dict[str, Any]]:
        """The stages assessed from case files, in order, each with its `criteria` (a version
        that does not grade cases may have none)."""
        return [stage for stage in self.stages if stage["case_level"]]

    @cached_property
    def audit_areas(self) -> list[dict[str, Any]]:
        """The areas of child protection a case can be audited under: code, name, stages."""
        return [
            {**area, "stages": list(area.get("stages", []))}
            for area in self.definition.get("audit_areas", [])
        ]

    def audit_area(self, code: str) -> dict[str, Any] | None:
        return next((area for area in self.audit_areas if area["code"] == code), None)

    def stages_for_area(self, code: str) -> list[dict[str, Any]]:
        """The stages (with criteria) that apply to a case of this area, in stage order;
        empty for an area this version does not have."""
        area = self.audit_area(code)
        if area is None:
            return []
        listed = set(area["stages"])
        return [stage for stage in self.stages if stage["code"] in listed]

    @cached_property
    def criteria_by_code(self) -> dict[str, dict[str, Any]]:
        """Every criterion by code: code, text and the code of its stage."""
        return {
            criterion["code"]: {**criterion, "stage": stage["code"]}
            for stage in self.stages
            for criterion in stage["criteria"]
        }

    @cached_property
    def grade_mapping(self) -> dict[str, str]:
        """Each grade of this version -> its band on the common scale
        (frameworks.loaders.COMPARABLE_SCALE)."""
        return dict(self.definition.get("grade_mapping", {}))

    def comparable(self, grade: str) -> str | None:
        """The common-scale band for a grade of this version, or None if it has none."""
        return self.grade_mapping.get(grade)

    @property
    def mapping_note(self) -> str:
        """How this version's grades map onto the common scale, in plain words; show it
        wherever mapped figures are shown."""
        return str(self.definition.get("mapping_note") or "")
