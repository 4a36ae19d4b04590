"""The record that a demonstration programme was generated into this database.

Its presence is what makes `generate_programme` safe to run twice, and what `demo_sign_ins`
looks for. Everything the generator creates is fictional; this row says so, and how it was
made (scale, seed and the "today" its dates are relative to), so it can be made again.
"""

from __future__ import annotations

from django.db import models


class DemoProgramme(models.Model):
    class Scale(models.TextChoices):
        DEMO = "demo", "Demo (a handful of inspections)"
        NATIONAL = "national", "National (ten years of the programme)"

    scale = models.CharField(max_length=20, choices=Scale.choices)
    seed = models.BigIntegerField()
    as_at = models.DateField(help_text="The 'today' the programme's dates are relative to")
    summary = models.JSONField(default=dict, blank=True, help_text="What was generated")
    generated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-generated_at"]

    def __str__(self) -> str:
        return f"{self.get_scale_display()}, seed {self.seed}, as at {self.as_at:%-d %B %Y}"
