"""Reads of the audit trail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from .models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    text: str = ""
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def audit_events_search(*, filters: AuditFilter) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if filters.text:
        events = events.filter(
            Q(summary__icontains=filters.text) | Q(object_repr__icontains=filters.text)
        )
    if filters.actor:
        events = events.filter(actor_label__icontains=filters.actor)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.object_type:
        events = events.filter(object_type=filters.object_type)
    if filters.object_id:
        events = events.filter(object_id=filters.object_id)
    if filters.date_from:
        events = events.filter(at__date__gte=filters.date_from)
    if filters.date_to:
        events = events.filter(at__date__lte=filters.date_to)
    return events.order_by("-at", "-id")


def audit_object_types() -> list[str]:
    return list(
        AuditEvent.objects.exclude(object_type="")
        .order_by("object_type")
        .values_list("object_type", flat=True)
        .distinct()
    )
