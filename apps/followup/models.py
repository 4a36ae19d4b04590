"""Follow-up: what happens to a report's recommendations after publication.

The force responds on the "immediately" recommendations and sends an action plan for the
rest within six weeks; it posts progress updates with evidence files and talks to the
inspectors in a thread on each recommendation. The inspectorate reviews the plan, chooses
the follow-up (light touch, post-inspection review or re-inspection) with its rationale,
assesses each recommendation and closes causes of concern by letter.

Each recommendation's public status history is `findings.RecommendationStatusChange`; its
current status is kept on the finding (`Finding.status`) so the national tracker filters on
an indexed column. Progress text, comments, reasoning and evidence files are encrypted at
rest: they are written by forces about their casework and could mention a child.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from apps.core.fields import EncryptedTextField

ACTION_PLAN_WEEKS = 6


class Route(models.TextChoices):
    LIGHT_TOUCH = "light_touch", "Light touch (a discussion with force leaders)"
    REVIEW = "post_inspection_review", "Post-inspection review (a return visit, cases re-audited)"
    REINSPECTION = "reinspection", "Full re-inspection"


class FollowUp(models.Model):
    """The follow-up of one published inspection: the action plan's due date and the route
    the inspectorate chose. Created when the inspection is first published."""

    inspection = models.OneToOneField(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="follow_up_record"
    )
    published_on = models.DateField()
    action_plan_due_on = models.DateField()
    route = models.CharField(max_length=30, choices=Route.choices, blank=True)
    route_rationale = models.TextField(blank=True)
    route_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    route_decided_on = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["action_plan_due_on"])]

    def __str__(self) -> str:
        return f"Follow-up of inspection {self.inspection_id}"

    @staticmethod
    def plan_due(published_on: dt.date) -> dt.date:
        return published_on + dt.timedelta(weeks=ACTION_PLAN_WEEKS)


class ActionPlan(models.Model):
    """One submission of a force's action plan. A plan sent back for changes is followed by
    a new submission; earlier ones are kept."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted, awaiting review"
        ACCEPTED = "accepted", "Accepted"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="action_plans"
    )
    number = models.PositiveSmallIntegerField(help_text="1 for the first submission")
    summary = EncryptedTextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    submitted_by_label = models.CharField(max_length=200)
    submitted_at = models.DateTimeField(auto_now_add=True)
    review_note = EncryptedTextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["inspection", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "number"], name="action_plan_number_once")
        ]

    def __str__(self) -> str:
        return f"Action plan {self.number} for inspection {self.inspection_id}"


class PlannedAction(models.Model):
    """What the plan says about one recommendation: what the PCC's response asks for."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="actions")
    recommendation = models.ForeignKey(
        "findings.Finding", on_delete=models.CASCADE, related_name="planned_actions"
    )
    action = models.TextField(help_text="What the force will do")
    expected_impact = models.TextField(help_text="What difference it will make for children")
    target_date = models.DateField(help_text="When it will be done")
    evidence_measure = models.TextField(help_text="What data or evidence will show it worked")

    class Meta:
        ordering = ["plan", "recommendation__number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "recommendation"], name="planned_action_once_per_recommendation"
            )
        ]

    def __str__(self) -> str:
        return f"Planned action on recommendation {self.recommendation_id}"


class ProgressUpdate(models.Model):
    """A force's update on one recommendation, from the site or the API."""

    class Kind(models.TextChoices):
        RESPONSE = "response", "Response on an immediate recommendation"
        PROGRESS = "progress", "Progress update"
        EVIDENCE = "evidence", "Evidence submitted for assessment"

    recommendation = models.ForeignKey(
        "findings.Finding", on_delete=models.CASCADE, related_name="progress_updates"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PROGRESS)
    text = EncryptedTextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    author_label = models.CharField(max_length=200)
    via_api = models.BooleanField(default=False)
    posted_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["recommendation", "posted_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on recommendation {self.recommendation_id}"


class EvidenceFile(models.Model):
    """A file a force or inspector attached (to a progress update, an action plan, or as the
    letter closing a cause of concern): checked for type and size, encrypted, kept in the
    database (never under a public address), served only through a checked, audited view."""

    update = models.ForeignKey(
        ProgressUpdate, on_delete=models.CASCADE, null=True, blank=True, related_name="files"
    )
    plan = models.ForeignKey(
        ActionPlan, on_delete=models.CASCADE, null=True, blank=True, related_name="files"
    )
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    content = models.BinaryField(editable=False, help_text="Encrypted (Fernet)")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_by_label = models.CharField(max_length=200)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class Comment(models.Model):
    """The thread between the force and the inspectors on one recommendation. Private."""

    recommendation = models.ForeignKey(
        "findings.Finding", on_delete=models.CASCADE, related_name="follow_up_comments"
    )
    text = EncryptedTextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    author_label = models.CharField(max_length=200)
    from_force = models.BooleanField(default=False)
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recommendation", "posted_at", "id"]

    def __str__(self) -> str:
        return f"Comment on recommendation {self.recommendation_id} by {self.author_label}"


class Assessment(models.Model):
    """The inspectorate's judgement of a recommendation, with the reasoning."""

    class Outcome(models.TextChoices):
        ACHIEVED = "achieved", "Achieved"
        PARTLY_ACHIEVED = "partly_achieved", "Partly achieved"
        NOT_ACHIEVED = "not_achieved", "Not achieved"

    recommendation = models.ForeignKey(
        "findings.Finding", on_delete=models.CASCADE, related_name="assessments"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reasoning = EncryptedTextField()
    public_note = models.CharField(max_length=500, blank=True)
    in_inspection = models.ForeignKey(
        "inspections.Inspection",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recommendation_assessments",
        help_text="The review or re-inspection the assessment was made in, if any",
    )
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assessed_on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recommendation", "assessed_on", "id"]

    def __str__(self) -> str:
        return f"Assessment of recommendation {self.recommendation_id}: {self.outcome}"


class ConcernClosure(models.Model):
    """A cause of concern formally closed by a letter to the force, stored with it."""

    cause_of_concern = models.OneToOneField(
        "findings.Finding", on_delete=models.CASCADE, related_name="closure"
    )
    letter = models.OneToOneField(EvidenceFile, on_delete=models.PROTECT, related_name="+")
    summary = models.CharField(max_length=500, help_text="Shown in the public history")
    closed_on = models.DateField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Closure of cause of concern {self.cause_of_concern_id} on {self.closed_on}"


class ApiToken(models.Model):
    """A force's key to the API. Only its SHA-256 is stored; the key is shown once."""

    force = models.ForeignKey(
        "reference.Force", on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What uses it, e.g. the force's tracker")
    prefix = models.CharField(
        max_length=12, help_text="The key's first characters, to tell keys apart"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["force", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Reminder(models.Model):
    """A reminder sent: the reminder job never sends the same one twice."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "Recommendation due soon"
        OVERDUE = "overdue", "Recommendation overdue"
        PLAN_DUE_SOON = "plan_due_soon", "Action plan due soon"
        PLAN_OVERDUE = "plan_overdue", "Action plan overdue"

    kind = models.CharField(max_length=15, choices=Kind.choices)
    recommendation = models.ForeignKey(
        "findings.Finding", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    inspection = models.ForeignKey(
        "inspections.Inspection", on_delete=models.CASCADE, related_name="+"
    )
    due_on = models.DateField()
    sent_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "recommendation", "due_on"],
                condition=models.Q(recommendation__isnull=False),
                name="reminder_once_per_recommendation",
            ),
            models.UniqueConstraint(
                fields=["kind", "inspection", "due_on"],
                condition=models.Q(recommendation__isnull=True),
                name="reminder_once_per_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder (due {self.due_on}) sent {self.sent_on}"


class JobLock(models.Model):
    """One row per scheduled job, locked while it runs so two runs never overlap."""

    name = models.CharField(max_length=50, primary_key=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_summary = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.name
