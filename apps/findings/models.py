"""Findings: what an inspection found, tied to the evidence behind it.

The register of an inspection holds strengths, promising (earlier: effective) practice,
areas for improvement, causes of concern and recommendations. Each is tied to a stage of the
child's journey (or a topic) and to the evidence items it rests on: case audits, interviews
and meetings, documents and data. A recommendation is numbered, addressed and given a
timescale; it gets its due date when the report is published. A cause of concern always
carries at least one recommendation (enforced by the services). A finding can carry over an
earlier inspection's finding, and the link is kept.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from apps.core.dates import add_months
from apps.core.fields import EncryptedTextField


class Kind(models.TextChoices):
    STRENGTH = "strength", "Strength"
    PROMISING_PRACTICE = "promising_practice", "Promising practice"
    AREA_FOR_IMPROVEMENT = "area_for_improvement", "Area for improvement"
    CAUSE_OF_CONCERN = "cause_of_concern", "Cause of concern"
    RECOMMENDATION = "recommendation", "Recommendation"


# Before the 2024 methodology, promising and innovative practice was called effective practice.
EARLIER_PROMISING_LABEL = "Effective practice"


class EvidenceItem(models.Model):
    """One piece of evidence gathered in fieldwork. Describes where evidence came from, not
    who was involved: titles name meetings and documents, never people. The notes may hold
    detail and are encrypted at rest."""

    class Source(models.TextChoices):
        CASE_AUDIT = "case_audit", "Case audit"
        INTERVIEW = "interview", "Interview, focus group or meeting"
        DOCUMENT = "document", "Document or data"

    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="evidence_items"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    title = models.CharField(
        max_length=200, help_text="e.g. Focus group with MASH staff; force missing persons policy"
    )
    sampled_case = models.ForeignKey(
        "fieldwork.SampledCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence_items",
        help_text="The audited case this evidence comes from (case audits only)",
    )
    gathered_on = models.DateField(null=True, blank=True)
    notes = EncryptedTextField(blank=True, help_text="Encrypted at rest")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["source", "title", "id"]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.title}"


class Timescale(models.TextChoices):
    IMMEDIATELY = "immediately", "Immediately"
    MONTHS = "months", "Within a number of months of publication"
    FIXED_DATE = "fixed_date", "By a fixed date"


class RecommendationStatus(models.TextChoices):
    AWAITING_RESPONSE = "awaiting_response", "Awaiting response"
    ACTION_PLAN_RECEIVED = "action_plan_received", "Action plan received"
    BEING_PROGRESSED = "being_progressed", "Being progressed"
    EVIDENCE_SUBMITTED = "evidence_submitted", "Evidence submitted"
    ACHIEVED = "achieved", "Achieved"
    PARTLY_ACHIEVED = "partly_achieved", "Partly achieved"
    NOT_ACHIEVED = "not_achieved", "Not achieved"
    CLOSED = "closed", "Closed"
    CARRIED_OVER = "carried_over", "Carried into a later inspection"


class Finding(models.Model):
    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="findings"
    )
    kind = models.CharField(max_length=25, choices=Kind.choices)
    stage = models.CharField(
        max_length=60,
        blank=True,
        help_text="The stage or topic code of the inspection's methodology; blank for a "
        "finding about the whole force",
    )
    headline = models.CharField(max_length=400, help_text="One sentence")
    narrative = EncryptedTextField(blank=True)  # draft text until published: encrypted at rest
    evidence = models.ManyToManyField(EvidenceItem, blank=True, related_name="findings")
    carried_over_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carried_into",
        help_text="The earlier inspection's finding this one carries over",
    )
    # Recommendations only.
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    cause_of_concern = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recommendations",
        help_text="The cause of concern this recommendation answers",
    )
    to_force = models.BooleanField("addressed to the force", default=False)
    to_pcc = models.BooleanField("addressed to the police and crime commissioner", default=False)
    national_bodies = models.CharField(
        max_length=300,
        blank=True,
        help_text="Named national bodies it is addressed to, separated by semicolons",
    )
    timescale = models.CharField(max_length=15, choices=Timescale.choices, blank=True)
    timescale_months = models.PositiveSmallIntegerField(null=True, blank=True)
    due_by = models.DateField(null=True, blank=True, help_text="For a fixed-date timescale")
    due_on = models.DateField(null=True, blank=True, help_text="Set when the report is published")
    # The latest step of the public status history (recommendations, once published), kept
    # here by the follow-up services so the national tracker filters on an indexed column.
    status = models.CharField(max_length=25, choices=RecommendationStatus.choices, blank=True)
    status_on = models.DateField(null=True, blank=True)

    order = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["inspection", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "number"],
                condition=models.Q(number__isnull=False),
                name="finding_recommendation_number_once",
            ),
        ]
        indexes = [
            models.Index(fields=["inspection", "kind"]),
            models.Index(fields=["kind", "status", "due_on"]),
        ]

    def __str__(self) -> str:
        if self.kind == Kind.RECOMMENDATION and self.number:
            return f"Recommendation {self.number}: {self.headline}"
        return f"{self.get_kind_display()}: {self.headline}"

    @property
    def is_recommendation(self) -> bool:
        return self.kind == Kind.RECOMMENDATION

    def addressees(self) -> list[str]:
        """Who the recommendation is addressed to, in words."""
        names = []
        if self.to_force:
            names.append("the force")
        if self.to_pcc:
            names.append("the police and crime commissioner")
        names += [b.strip() for b in self.national_bodies.split(";") if b.strip()]
        return names

    def timescale_text(self) -> str:
        if self.timescale == Timescale.IMMEDIATELY:
            return "Immediately"
        if self.timescale == Timescale.MONTHS and self.timescale_months:
            unit = "month" if self.timescale_months == 1 else "months"
            return f"Within {self.timescale_months} {unit} of publication"
        if self.timescale == Timescale.FIXED_DATE and self.due_by:
            return f"By {self.due_by:%-d %B %Y}"
        return ""

    def due_date_on_publication(self, published: dt.date) -> dt.date | None:
        """The due date if the report is published on `published`."""
        if self.timescale == Timescale.IMMEDIATELY:
            return published
        if self.timescale == Timescale.MONTHS and self.timescale_months:
            return add_months(published, self.timescale_months)
        if self.timescale == Timescale.FIXED_DATE:
            return self.due_by
        return None


class RecommendationStatusChange(models.Model):
    """One dated step in a published recommendation's public history. Publication records
    the first ("awaiting response"); follow-up records the rest. Never edited."""

    recommendation = models.ForeignKey(
        Finding, on_delete=models.CASCADE, related_name="status_changes"
    )
    status = models.CharField(max_length=25, choices=RecommendationStatus.choices)
    on = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    by_label = models.CharField(max_length=200)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recommendation", "on", "id"]

    def __str__(self) -> str:
        return f"{self.recommendation_id}: {self.status} on {self.on}"
