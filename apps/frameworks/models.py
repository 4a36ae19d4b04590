"""Inspection methodologies, as versioned data.

Each version is defined by a YAML file in data/methodologies and loaded by
`load_methodologies`; an inspection keeps the version it was planned and graded under.
"""

from __future__ import annotations

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

    @property
    def stages(self) -> list[dict[str, str]]:
        return list(self.definition.get("stages", []))
