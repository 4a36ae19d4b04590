"""The thematic synthesis's data: codebook versions and their themes, the statement corpus,
each statement's theme codes with their history, the classifier versions that suggested
codes, and the embedding cache (ADR 18)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone


class CodebookVersion(models.Model):
    number = models.PositiveIntegerField(unique=True)
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisions",
        help_text="The version an analyst revised into this one",
    )
    note = models.CharField(max_length=500, blank=True, help_text="What changed, in words")
    source = models.CharField(max_length=300, blank=True, help_text="The file it came from")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"Codebook version {self.number}"


class Theme(models.Model):
    codebook = models.ForeignKey(CodebookVersion, on_delete=models.CASCADE, related_name="themes")
    key = models.SlugField(max_length=50, help_text="Stable id, e.g. voice_of_child")
    name = models.CharField(max_length=200)
    covers = models.TextField()
    excludes = models.TextField(blank=True)
    examples = models.JSONField(default=list, blank=True)
    order = models.PositiveIntegerField(default=0)
    derived_from = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="successors",
        help_text="The previous version's themes this one continues (renamed, merged or split)",
    )

    class Meta:
        ordering = ["codebook", "order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["codebook", "key"], name="theme_key_once_a_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.codebook.number})"


# The kinds the import gives a statement, which a curator may correct it to.
ARCHIVE_KINDS = (
    "finding",
    "strength",
    "promising_practice",
    "area_for_improvement",
    "cause_of_concern",
    "recommendation",
)
KIND_LABELS = {
    "strength": "Strength",
    "promising_practice": "Promising practice",
    "good_practice": "Good practice",
    "area_for_improvement": "Area for improvement",
    "cause_of_concern": "Cause of concern",
    "recommendation": "Recommendation",
    "finding": "Finding",
}


class ArchiveReport(models.Model):
    """A published report imported from the archive (HTML or PDF): its paragraphs are kept,
    and its statements link back to them."""

    class Format(models.TextChoices):
        HTML = "html", "HTML"
        PDF = "pdf", "PDF"

    title = models.CharField(max_length=300)
    force = models.ForeignKey(
        "reference.Force",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="archive_reports",
        help_text="Empty for a national or multi-force report",
    )
    local_authority = models.ForeignKey(
        "reference.LocalAuthority",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="archive_reports",
        help_text="The area of a joint inspection (JTAI or JICPA)",
    )
    programme_type = models.CharField(max_length=20, blank=True)
    published_on = models.DateField(null=True, blank=True)
    source_url = models.URLField(blank=True, help_text="Where the report is published")
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, unique=True)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_by_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["-published_on", "title", "id"]

    def __str__(self) -> str:
        return self.title


# A background job (a batch import, suggesting themes again) still running this long after it
# started: the worker stopped in the middle of it.
JOB_STOPPED_AFTER = dt.timedelta(minutes=30)


def running_too_long(started_at: dt.datetime | None) -> bool:
    """A job started at `started_at` has run past JOB_STOPPED_AFTER."""
    return started_at is not None and timezone.now() - started_at > JOB_STOPPED_AFTER


class ArchiveImportBatch(models.Model):
    """Report files imported through the page, one or several at once. The import runs in
    the background worker (manage.py db_worker), not in the web request: a batch of long
    reports, or one very long report, takes longer than a web worker may
    (docs/benchmarks.md). The details given apply to every file, as on the page; a title
    and a web address are one report's, given only with one file."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Importing"
        DONE = "done", "Finished"
        FAILED = "failed", "Stopped by an error"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    queued_at = models.DateTimeField(default=timezone.now, help_text="Queued, or again")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    run = models.CharField(
        max_length=32, blank=True, help_text="The run that has it: each run writes only its own"
    )
    force = models.ForeignKey(
        "reference.Force", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    local_authority = models.ForeignKey(
        "reference.LocalAuthority",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    programme_type = models.CharField(max_length=20, blank=True)
    published_on = models.DateField(null=True, blank=True)
    title = models.CharField(max_length=300, blank=True, help_text="One file's, if given")
    source_url = models.URLField(blank=True, help_text="One file's, if given")
    suggested = models.TextField(blank=True, help_text="What the classifier suggested")
    not_suggested = models.TextField(blank=True, help_text="Why no themes were suggested")
    error = models.TextField(blank=True, help_text="The unexpected error that stopped it")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_status_display()})"

    def stalled(self) -> bool:
        """Still running long after it started (ten long reports take about a minute and a
        half): the worker stopped in the middle of it."""
        return self.status == self.Status.RUNNING and running_too_long(self.started_at)

    def can_continue(self) -> bool:
        """Stopped by an error, or by the worker stopping (`stalled`): it can be queued
        again to import the files not yet read and suggest the themes."""
        return self.status == self.Status.FAILED or self.stalled()


class ArchiveImportFile(models.Model):
    """One file of a batch: its content until it is imported (then emptied), and what
    became of it."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        IMPORTED = "imported", "Imported"
        REFUSED = "refused", "Not imported"

    batch = models.ForeignKey(ArchiveImportBatch, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    data = models.BinaryField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    report = models.ForeignKey(
        ArchiveReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="archive_import_file_once")
        ]

    def __str__(self) -> str:
        return self.name


class ArchiveParagraph(models.Model):
    """One paragraph (or list item) of an imported report, in reading order, under its
    section heading."""

    report = models.ForeignKey(ArchiveReport, on_delete=models.CASCADE, related_name="paragraphs")
    number = models.PositiveIntegerField(help_text="Reading order, from 1")
    heading = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    page = models.PositiveIntegerField(null=True, blank=True, help_text="PDF page, from 1")

    class Meta:
        ordering = ["report", "number"]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="archive_paragraph_once")
        ]

    def __str__(self) -> str:
        return f"{self.report_id} ¶{self.number}"


class Agency(models.TextChoices):
    """Whom a statement is about. A report of the police inspectorate's own (and every
    finding in the system) is about the police; a joint inspection's letter, to every agency
    of an area, speaks of each agency in turn and of how they work together."""

    POLICE = "police", "The police"
    MULTI_AGENCY = "multi_agency", "Agencies working together"
    SOCIAL_CARE = "social_care", "Children's social care"
    HEALTH = "health", "Health services"
    PROBATION = "probation", "Probation"
    EDUCATION = "education", "Schools and education"


# What an analysis of the police's work counts from a joint inspection: the statements about
# the police, and those about the agencies (the police among them) working together.
POLICE_AGENCIES = (Agency.POLICE, Agency.MULTI_AGENCY)


# Methodology stage codes the import's words do not name.
_CODE_STAGES = {
    "managing_risk": "Managing those posing a risk to children",
    "progress": "Progress against the recommendations",
    "multi_agency_working": "Partnership working",  # JICPA's
    "protecting_children": "Managing those posing a risk to children",  # the 2020 thematic's
}


def stage_words(stage: str) -> str:
    """A methodology's stage code ("initial_contact", "leadership") as the import names that
    stage ("Initial contact", "Leadership and management"); a stage in words as it is."""
    if not stage or " " in stage or stage != stage.lower():
        return stage
    from .archive import stage_of

    words = stage.replace("_", " ")
    return _CODE_STAGES.get(stage) or stage_of([words]) or words.capitalize()


class Statement(models.Model):
    """One statement of the corpus: a finding or recommendation in the system (kept in step
    with it), or a statement from an imported report."""

    class Source(models.TextChoices):
        FINDING = "finding", "Finding in the system"
        ARCHIVE = "archive", "Imported report"

    source = models.CharField(max_length=10, choices=Source.choices)
    finding = models.OneToOneField(
        "findings.Finding",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="theme_statement",
    )
    inspection = models.ForeignKey(
        "inspections.Inspection",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="theme_statements",
    )
    archive_report = models.ForeignKey(
        ArchiveReport,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="statements",
    )
    paragraph = models.ForeignKey(
        ArchiveParagraph,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="statements",
        help_text="The imported report's paragraph it was taken from",
    )
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=25)
    stage = models.CharField(max_length=200, blank=True)
    report_title = models.CharField(max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    # For the analysis: the inspected force (empty for a national or multi-force report) and
    # the programme type, copied from the inspection or given when a report is imported.
    force = models.ForeignKey(
        "reference.Force",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="theme_statements",
    )
    programme_type = models.CharField(max_length=20, blank=True)
    agency = models.CharField(max_length=20, choices=Agency.choices, default=Agency.POLICE)
    # A curator's corrections of how an imported report was read (services.statement_correct):
    # its kind, stage or agency, or that it is not a statement at all (set aside: left out
    # of the corpus, so of every figure, the review queue and discovery; its codes kept).
    set_aside = models.BooleanField(default=False)
    # Set aside by the import as a point its report makes twice (archive.repeats): the
    # statement of the report that stays and counts. Cleared when a curator takes it back.
    repeat_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeated_by",
    )
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    corrected_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def stage_label(self) -> str:
        """The stage or topic in the words the import gives it, whichever methodology's code
        a finding has ("trusted_adult" and an imported "Trusted adults" alike, "Trusted
        adults"), so that the two read and sort as one; a heading as it is."""
        return stage_words(self.stage)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())


class ClassifierVersion(models.Model):
    """A trained classifier: what it learnt from (its version is a digest of that), and the
    model itself, serialised by this app only (never loaded from anywhere else)."""

    version = models.CharField(max_length=12, unique=True)
    codebook = models.ForeignKey(
        CodebookVersion, on_delete=models.PROTECT, related_name="classifiers"
    )
    embedding_model = models.CharField(max_length=200)
    trained_at = models.DateTimeField(auto_now_add=True)
    trained_on = models.PositiveIntegerField(help_text="Coded statements it learnt from")
    coded_by_people = models.PositiveIntegerField(
        default=0, help_text="Of which statements coded or checked by people in the system"
    )
    thresholds = models.JSONField(default=dict)
    quality = models.JSONField(
        default=dict,
        blank=True,
        help_text="Cross-validated figures at training: macro_f1 over all its statements and "
        "people_macro_f1 over those people coded",
    )
    model = models.BinaryField()

    class Meta:
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return f"Classifier {self.version}"


class ThemeCode(models.Model):
    """One theme of one statement: suggested by a classifier version, or confirmed or
    rejected by a person. Every change is kept in ThemeCodeChange."""

    class Status(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "No longer suggested"

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="codes")
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="codes")
    status = models.CharField(max_length=10, choices=Status.choices)
    confidence = models.FloatField(null=True, blank=True, help_text="The classifier's")
    classifier = models.ForeignKey(
        ClassifierVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="codes"
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_by_label = models.CharField(max_length=200)
    set_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["statement", "theme__order"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "theme"], name="theme_code_once")
        ]
        indexes = [
            models.Index(fields=["status", "confidence"]),
            # The latest suggestions' classifier (selectors.suggestions_out_of_date): read
            # from the newest end, not sorted.
            models.Index(fields=["set_at", "id"], name="themes_code_set_at_id"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}: {self.theme.key} ({self.status})"

    @property
    def is_split_placeholder(self) -> bool:
        """A codebook split's part of a theme a person had confirmed, left for a person to
        choose: suggested by no classifier and no person (selectors.placeholder_codes is the
        same as a query)."""
        return (
            self.status == self.Status.SUGGESTED
            and self.classifier_id is None
            and self.set_by_id is None
        )


class ThemeCodeChange(models.Model):
    code = models.ForeignKey(ThemeCode, on_delete=models.CASCADE, related_name="changes")
    status = models.CharField(max_length=10, choices=ThemeCode.Status.choices)
    confidence = models.FloatField(null=True, blank=True)
    classifier = models.ForeignKey(
        ClassifierVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    set_by_label = models.CharField(max_length=200)
    at = models.DateTimeField()
    note = models.CharField(
        max_length=300, blank=True, help_text="e.g. carried over from a codebook revision"
    )

    class Meta:
        ordering = ["code", "at", "id"]

    def __str__(self) -> str:
        return f"{self.code_id}: {self.status} at {self.at:%Y-%m-%d %H:%M}"


class SuggestionRun(models.Model):
    """A curator's "Suggest themes again", run by the background worker (manage.py
    db_worker), not in the web request: the classifier retrains first when people's
    decisions have changed, and training grows faster than the statements it learns from
    (2,238 took 27 s; docs/benchmarks.md), towards a web worker's limit. One run at a time:
    asked for again while one waits or runs, the curator is shown that one."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Suggesting themes"
        DONE = "done", "Finished"
        FAILED = "failed", "Stopped"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # True while it waits or runs, empty after: unique, so two runs never go at once.
    active = models.BooleanField(null=True, default=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    run = models.CharField(
        max_length=32, blank=True, help_text="The run that has it: each run writes only its own"
    )
    classifier = models.CharField(max_length=12, blank=True, help_text="The version that suggested")
    statements = models.PositiveIntegerField(null=True, blank=True)
    changed = models.PositiveIntegerField(
        null=True, blank=True, help_text="Statements whose themes are now other than before"
    )
    new_statements = models.PositiveIntegerField(
        null=True, blank=True, help_text="Statements that came from newly published findings"
    )
    problem = models.TextField(blank=True, help_text="Why themes could not be suggested")
    error = models.TextField(blank=True, help_text="The unexpected error that stopped it")
    examples = models.JSONField(
        default=list,
        blank=True,
        help_text="Some statements whose themes changed, surest first: their themes before "
        "and after (coding.SuggestResult.examples)",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["active"], name="themes_one_suggestion_run_at_once")
        ]

    def __str__(self) -> str:
        return f"Suggesting themes again {self.pk} ({self.get_status_display()})"

    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def stalled(self) -> bool:
        """Still running long after it started (retraining on tens of thousands of
        decisions takes minutes): the worker stopped in the middle of it."""
        return self.status == self.Status.RUNNING and running_too_long(self.started_at)


class StatementClaim(models.Model):
    """Who opened a statement to code it, and when: so two people working through the review
    queue at once are each given a different statement. A claim lapses after
    selectors.CLAIM_MINUTES, and goes when its holder saves their coding. Coordination only:
    a save by anyone else is still refused if the codes changed under it (StaleCodes)."""

    statement = models.OneToOneField(Statement, on_delete=models.CASCADE, related_name="claim")
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    claimed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.statement_id} claimed by {self.claimed_by_id}"


class Embedding(models.Model):
    """A text's embedding by one model (its weights' digest), so only new text is embedded."""

    text_sha256 = models.CharField(max_length=64)
    model = models.CharField(max_length=64)
    vector = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["text_sha256", "model"], name="embedding_once")
        ]

    def __str__(self) -> str:
        return f"{self.text_sha256[:12]} by {self.model}"


class ThematicReport(models.Model):
    """A draft national thematic report: its scope (a period, programme types, and the
    inspections and imported reports it draws on; none chosen means all in the period) and
    its own words. Its figures are worked out from the current codes whenever it is read."""

    title = models.CharField(max_length=200)
    year_from = models.PositiveSmallIntegerField()
    year_to = models.PositiveSmallIntegerField()
    programme_types = models.JSONField(
        default=list, blank=True, help_text="Programme types it covers; empty for all"
    )
    inspections = models.ManyToManyField(
        "inspections.Inspection", blank=True, related_name="thematic_reports"
    )
    archive_reports = models.ManyToManyField(
        ArchiveReport, blank=True, related_name="thematic_reports"
    )
    introduction = models.TextField(blank=True)
    police_only = models.BooleanField(
        default=False,
        help_text="Only statements about the police, and about agencies working together "
        "(joint inspections' statements about one other agency left out)",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title
