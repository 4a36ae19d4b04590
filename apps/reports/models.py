"""Reports: the draft of an inspection report, its disclosure check, its quality assurance
sign-off and its publications.

A draft is a set of sections in the structure real reports use (foreword, summary, context,
one section per stage or topic, case file analysis, conclusion, next steps, methodology). Each
section's narrative is edited in the browser; every saved change is kept as a revision with
who made it. Findings and recommendations come from the findings register, and the case file
tables from the case audits, when the report is rendered.

Before publication the disclosure check lists every possible identifier in the text and every
small number in the tables; each must be redacted or dismissed with a reason. A lead
inspector who wrote none of the draft signs off quality assurance. Sign-off and check each
record a fingerprint of the whole content (text, findings, tables), so any later change lapses
them.

A publication is a frozen snapshot: the HTML and the data the public sees, which do not
change when working data does. Republishing adds a version; the address stays the same.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.fields import EncryptedTextField


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    WELSH = "cy", "Cymraeg (Welsh)"


class Report(models.Model):
    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="reports"
    )
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    title = models.CharField(max_length=300)
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    signed_off_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="The content signed off (see content.fingerprint)"
    )
    checked_fingerprint = models.CharField(
        max_length=64, blank=True, help_text="The content the disclosure check last ran on"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["inspection", "language"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "language"], name="report_language_once")
        ]

    def __str__(self) -> str:
        return self.title

    def is_signed_off(self, fingerprint: str) -> bool:
        return self.signed_off_by_id is not None and self.signed_off_fingerprint == fingerprint

    def is_checked(self, fingerprint: str) -> bool:
        return self.checked_fingerprint == fingerprint


class SectionKind(models.TextChoices):
    FOREWORD = "foreword", "Foreword"
    SUMMARY = "summary", "Summary"
    CONTEXT = "context", "Context for the force"
    STAGE = "stage", "Stage or topic"
    CASE_FILES = "case_files", "Case file analysis"
    CONCLUSION = "conclusion", "Conclusion"
    NEXT_STEPS = "next_steps", "Next steps"
    METHODOLOGY = "methodology", "Methodology"


class ReportSection(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="sections")
    kind = models.CharField(max_length=20, choices=SectionKind.choices)
    stage = models.CharField(max_length=60, blank=True, help_text="For a stage section")
    title = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField()
    body = EncryptedTextField(blank=True, help_text="Encrypted at rest until published")
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["report", "order"]
        constraints = [
            models.UniqueConstraint(fields=["report", "kind", "stage"], name="report_section_once")
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def slug(self) -> str:
        return f"{self.kind}-{self.stage}".rstrip("-").replace("_", "-")


class SectionRevision(models.Model):
    """A saved state of a section: who wrote it and when. Never edited."""

    section = models.ForeignKey(ReportSection, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    body = EncryptedTextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    by_label = models.CharField(max_length=200)
    note = models.CharField(max_length=200, blank=True, help_text="e.g. redacted a postcode")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["section", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["section", "number"], name="section_revision_once")
        ]

    def __str__(self) -> str:
        return f"{self.section} revision {self.number}"


class DisclosureHit(models.Model):
    """Something in the draft that could identify a child: a possible identifier in the
    text, or a count of 1 to 4 in a table. It blocks publication until resolved."""

    class Status(models.TextChoices):
        OPEN = "open", "To resolve"
        REDACTED = "redacted", "Redacted"
        DISMISSED = "dismissed", "Dismissed"

    SMALL_NUMBER = "SMALL_NUMBER"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="disclosure_hits")
    location = models.CharField(
        max_length=120,
        help_text="section:<id>, finding:<id>:headline|narrative, or table:<key>:<row>:<column>",
    )
    location_label = models.CharField(max_length=300)
    hit_type = models.CharField(max_length=30)
    start = models.PositiveIntegerField(default=0)
    end = models.PositiveIntegerField(default=0)
    text = EncryptedTextField(help_text="What was found. Encrypted at rest")
    context = EncryptedTextField(blank=True, help_text="The words around it")
    fingerprint = models.CharField(
        max_length=64, help_text="Identifies the same hit across runs, so a dismissal holds"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reason = models.CharField(max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report", "status", "location", "start", "id"]
        indexes = [models.Index(fields=["report", "status"])]

    def __str__(self) -> str:
        return f"{self.hit_type} at {self.location_label}"

    @property
    def is_small_number(self) -> bool:
        return self.hit_type == self.SMALL_NUMBER


class Publication(models.Model):
    """One published version of a report: frozen HTML and data, and the PDF made from them."""

    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="publications")
    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.PROTECT, related_name="publications"
    )
    language = models.CharField(max_length=2, choices=Language.choices)
    slug = models.SlugField(max_length=80, help_text="The report's stable public address")
    version = models.PositiveIntegerField()
    is_current = models.BooleanField(default=True)
    title = models.CharField(max_length=300)
    summary = models.TextField(help_text="A short summary for lists and the feed")
    programme_type = models.CharField(max_length=20)
    forces = models.ManyToManyField("reference.Force", related_name="publications")
    local_authorities = models.ManyToManyField(
        "reference.LocalAuthority", related_name="publications", blank=True
    )
    published_on = models.DateField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    change_note = models.CharField(
        max_length=500, blank=True, help_text="What changed from the previous version"
    )
    body_html = models.TextField(help_text="The report body, frozen at publication")
    contents = models.JSONField(default=list, help_text="[{id, title}] for the contents list")
    data = models.JSONField(default=dict, help_text="Grade counts and recommendations, frozen")
    search_text = models.TextField(help_text="Plain text for search")
    pdf = models.BinaryField(null=True, blank=True, editable=False)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_pages = models.PositiveIntegerField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="An earlier version taken down: no longer public"
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawn_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-published_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "language", "version"], name="publication_version_once"
            ),
            models.UniqueConstraint(
                fields=["slug", "language"],
                condition=models.Q(is_current=True),
                name="publication_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["is_current", "published_on"]),
            models.Index(fields=["slug", "language"]),
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version})"
