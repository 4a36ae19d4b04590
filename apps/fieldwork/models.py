"""Fieldwork: the case list a force supplies, the sample drawn from it, the case audits
inspectors record, blind second marking, and referrals of children at risk now.

Case-level records hold pseudonymous case references only. Free text that may describe a
child (evidence notes, concerns, reasons) is encrypted at rest, and every view of it is
recorded in the audit trail (see apps/fieldwork/views.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.fields import EncryptedTextField

NOT_APPLICABLE = "n/a"


class CaseList(models.Model):
    """One uploaded file of eligible cases. A later upload that covers the same audit areas
    replaces the earlier list's cases in those areas (until a sample is drawn)."""

    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="case_lists"
    )
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField()
    area_counts = models.JSONField(default=dict, help_text="Eligible cases per audit area")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.row_count} cases)"


class EligibleCase(models.Model):
    """One row of the sampling frame."""

    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="eligible_cases"
    )
    case_list = models.ForeignKey(CaseList, on_delete=models.CASCADE, related_name="cases")
    row = models.PositiveIntegerField(help_text="The row in the uploaded file")
    reference = models.CharField(max_length=40, help_text="Pseudonymous case reference")
    audit_area = models.CharField(max_length=60)
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    team = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["audit_area", "reference"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "audit_area", "reference"], name="eligible_case_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.audit_area})"


class Sample(models.Model):
    """The stratified random sample of an inspection, reproducible from its seed."""

    inspection = models.OneToOneField(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="sample"
    )
    seed = models.CharField(max_length=64)
    quotas = models.JSONField(help_text="Cases to audit per audit area")
    frame_sizes = models.JSONField(help_text="Eligible cases per audit area when drawn")
    frame_sha256 = models.CharField(
        max_length=64, help_text="Fingerprint of the sampling frame (areas and references)"
    )
    rationale = models.TextField(help_text="Why these quotas: no case details")
    calculation = models.JSONField(
        default=dict, blank=True, help_text="The sample size calculation used, if any"
    )
    moderation_share = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=0.1,
        help_text="Share of audits to second-mark blind",
    )
    moderation_minimum = models.PositiveSmallIntegerField(default=5)
    kappa_threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=0.6,
        help_text="Agreement below this is flagged to the lead inspector",
    )
    flagged = models.JSONField(
        default=list, blank=True, help_text="Agreement flags already sent to the lead"
    )
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)
    case_data_removed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the retention schedule removed the case-level detail (grades remain)",
    )

    def __str__(self) -> str:
        return f"Sample for {self.inspection_id} (seed {self.seed})"


class SampledCase(models.Model):
    class Status(models.TextChoices):
        IN_SAMPLE = "in_sample", "In the sample"
        REPLACED = "replaced", "Replaced"

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="cases")
    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="sampled_cases"
    )
    eligible_case = models.OneToOneField(
        EligibleCase, on_delete=models.PROTECT, related_name="sampled"
    )
    reference = models.CharField(max_length=40)
    audit_area = models.CharField(max_length=60)
    position = models.PositiveIntegerField(help_text="Its place in the stratum's random order")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_SAMPLE)
    replaced_reason = models.CharField(max_length=500, blank=True)
    replacement = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )
    for_moderation = models.BooleanField(default=False)
    final_grade = models.CharField(
        max_length=40, blank=True, help_text="The submitted grade, or the moderated one"
    )
    comparable_grade = models.CharField(
        max_length=40, blank=True, help_text="The final grade on the common scale"
    )

    class Meta:
        ordering = ["audit_area", "position"]
        indexes = [models.Index(fields=["inspection", "status", "audit_area"])]

    def __str__(self) -> str:
        return self.reference


class CaseAudit(models.Model):
    class Kind(models.TextChoices):
        PRIMARY = "primary", "Audit"
        SECOND = "second", "Blind second marking"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    sampled_case = models.ForeignKey(SampledCase, on_delete=models.CASCADE, related_name="audits")
    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="case_audits"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PRIMARY)
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_audits"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    overall_grade = models.CharField(max_length=40, blank=True)
    overall_notes = EncryptedTextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sampled_case__audit_area", "sampled_case__position", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["sampled_case", "kind"], name="one_audit_per_kind")
        ]
        indexes = [models.Index(fields=["inspection", "kind", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of case {self.sampled_case.reference}"


class Judgement(models.Model):
    """A grade and evidence for one criterion, or (criterion blank) for a whole stage."""

    audit = models.ForeignKey(CaseAudit, on_delete=models.CASCADE, related_name="judgements")
    stage = models.CharField(max_length=60)
    criterion = models.CharField(max_length=100, blank=True)
    grade = models.CharField(max_length=40, blank=True, help_text=f"'{NOT_APPLICABLE}' if none")
    notes = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["audit", "stage", "criterion"], name="one_judgement_per_criterion"
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion or self.stage}: {self.grade or 'not graded'}"


class Resolution(models.Model):
    """The agreed grade of a second-marked case where the two marks differed."""

    sampled_case = models.OneToOneField(
        SampledCase, on_delete=models.CASCADE, related_name="resolution"
    )
    agreed_grade = models.CharField(max_length=40)
    reason = EncryptedTextField()
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Agreed {self.agreed_grade} for {self.sampled_case.reference}"


class Referral(models.Model):
    """A child who appears to be at risk now, referred back to the force at once."""

    class Status(models.TextChoices):
        RAISED = "raised", "Referred to the force"
        ACKNOWLEDGED = "acknowledged", "Acknowledged by the force"
        ACTIONED = "actioned", "Force action recorded"
        CLOSED = "closed", "Closed"

    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="referrals"
    )
    sampled_case = models.ForeignKey(
        SampledCase, on_delete=models.PROTECT, related_name="referrals"
    )
    reference = models.CharField(max_length=40)
    concern = EncryptedTextField(help_text="Why the child appears to be at risk now")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RAISED)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    force_action = EncryptedTextField(blank=True)
    actioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    actioned_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]

    def __str__(self) -> str:
        return f"Child at risk referral for case {self.reference}"
