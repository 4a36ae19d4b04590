"""Notices to people: shown in the app and sent by email at the same time.

A notice never carries case details beyond a pseudonymous reference: it says what happened
and links to the page, where the usual permissions and audit apply.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=2000)
    link = models.CharField(max_length=300, blank=True)
    urgent = models.BooleanField(default=False)
    dedupe_key = models.CharField(
        max_length=200,
        blank=True,
        help_text="A notice with the same key is sent to a person only once",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_once_per_key",
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.subject} (to {self.recipient})"
