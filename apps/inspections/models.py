"""Inspections: what is inspected, by whom, under which methodology, and where it stands."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.fields import EncryptedTextField


class ProgrammeType(models.TextChoices):
    NCPI = "ncpi", "National child protection inspection"
    NCPI_REVIEW = "ncpi_review", "NCPI post-inspection review"
    NCPI_REINSPECTION = "ncpi_reinspection", "NCPI re-inspection"
    JTAI = "jtai", "Joint targeted area inspection"
    JICPA = "jicpa", "Joint inspection of child protection arrangements"
    THEMATIC = "thematic", "Thematic inspection"
    OTHER = "other", "Other inspection with child protection content"


FOLLOW_UP_TYPES = frozenset({ProgrammeType.NCPI_REVIEW, ProgrammeType.NCPI_REINSPECTION})
JOINT_TYPES = frozenset({ProgrammeType.JTAI, ProgrammeType.JICPA})
SINGLE_FORCE_TYPES = frozenset(
    {ProgrammeType.NCPI, ProgrammeType.NCPI_REVIEW, ProgrammeType.NCPI_REINSPECTION}
)


class State(models.TextChoices):
    PLANNED = "planned", "Planned"
    NOTIFIED = "notified", "Notified"
    FIELDWORK = "fieldwork", "Fieldwork"
    REPORTING = "reporting", "Reporting"
    QUALITY_ASSURANCE = "quality_assurance", "Quality assurance"
    PUBLISHED = "published", "Published"
    FOLLOW_UP = "follow_up", "Follow-up"
    CLOSED = "closed", "Closed"


class Inspection(models.Model):
    reference = models.CharField(max_length=30, unique=True, help_text="e.g. NCPI-2024-017")
    title = models.CharField(max_length=200)
    programme_type = models.CharField(max_length=20, choices=ProgrammeType.choices)
    theme = models.CharField(
        max_length=200, blank=True, help_text="Deep-dive theme (JTAI) or subject (thematic)"
    )
    forces = models.ManyToManyField(
        "reference.Force", related_name="inspections", help_text="The force or forces inspected"
    )
    local_authorities = models.ManyToManyField(
        "reference.LocalAuthority",
        related_name="inspections",
        blank=True,
        help_text="The areas of a joint inspection",
    )
    methodology = models.ForeignKey(
        "frameworks.MethodologyVersion", on_delete=models.PROTECT, related_name="inspections"
    )
    lead_inspectorate = models.ForeignKey(
        "reference.Inspectorate", on_delete=models.PROTECT, related_name="led_inspections"
    )
    partner_inspectorates = models.ManyToManyField(
        "reference.Inspectorate", related_name="partner_inspections", blank=True
    )
    follows = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        help_text="The inspection this one follows up",
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PLANNED)
    state_changed_on = models.DateField(null=True, blank=True)
    fieldwork_start = models.DateField("fieldwork starts", null=True, blank=True)
    fieldwork_end = models.DateField("fieldwork ends", null=True, blank=True)
    planned_publication = models.DateField("planned publication", null=True, blank=True)
    confidential_notes = EncryptedTextField(
        blank=True,
        help_text="Inspectorate-only planning notes. Encrypted at rest; never shown to forces.",
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Incremented on every change, so concurrent edits are detected"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-fieldwork_start", "reference"]
        indexes = [models.Index(fields=["state", "fieldwork_start"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_joint(self) -> bool:
        return self.programme_type in JOINT_TYPES


class TeamRole(models.TextChoices):
    LEAD_INSPECTOR = "lead_inspector", "Lead inspector"
    INSPECTOR = "inspector", "Inspector"
    PARTNER_INSPECTOR = "partner_inspector", "Partner inspector"
    ANALYST = "analyst", "Analyst"


class TeamMember(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_places"
    )
    role = models.CharField(max_length=20, choices=TeamRole.choices)

    class Meta:
        ordering = ["role", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "user"], name="team_member_once"),
            models.UniqueConstraint(
                fields=["inspection"],
                condition=models.Q(role="lead_inspector"),
                name="team_one_lead_inspector",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) on {self.inspection.reference}"


class StateChange(models.Model):
    """One step of an inspection's lifecycle: dated, attributed, never edited."""

    inspection = models.ForeignKey(
        Inspection, on_delete=models.CASCADE, related_name="state_changes"
    )
    from_state = models.CharField(max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=State.choices)
    on = models.DateField(help_text="The date the step took effect")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    by_label = models.CharField(max_length=200)
    note = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["on", "id"]

    def __str__(self) -> str:
        return f"{self.inspection.reference}: {self.from_state} -> {self.to_state} on {self.on}"
