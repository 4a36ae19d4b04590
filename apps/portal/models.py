"""The public portal reads what `apps.reports` published; the only thing it stores is what the
public sends through the contact form.

Search over publications needs no model: an index on the reports table does it, built by this
app's migration for each database (see search.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.fields import EncryptedTextField


class ContactMessage(models.Model):
    """A message from the public. It may say something about a child, so everything a person
    typed (name, email address, message) is encrypted at rest, and each reading is audited."""

    class Topic(models.TextChoices):
        REPORT = "report", "A published report"
        RECOMMENDATION = "recommendation", "A recommendation or its progress"
        ACCESSIBILITY = "accessibility", "A problem using this website (accessibility)"
        OPEN_DATA = "open_data", "Open data"
        OTHER = "other", "Something else"

    reference = models.CharField(max_length=20, unique=True, help_text="Given to the sender")
    topic = models.CharField(max_length=20, choices=Topic.choices)
    name = EncryptedTextField(blank=True, help_text="Optional. Encrypted at rest")
    email = EncryptedTextField(blank=True, help_text="Optional. Encrypted at rest")
    message = EncryptedTextField(help_text="Encrypted at rest")
    received_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(
        null=True, blank=True, help_text="When the acknowledgement email went"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_note = EncryptedTextField(blank=True, help_text="What was done. Encrypted at rest")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["handled_at", "received_at"])]

    def __str__(self) -> str:
        return f"Message {self.reference}"

    @property
    def is_handled(self) -> bool:
        return self.handled_at is not None
