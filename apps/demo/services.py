"""Writes of the demo app: every one audited, like the rest of the service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from apps.core.audit import Actor, audit_record, audit_snapshot
from apps.core.models import AuditEvent

from .models import DemoProgramme


def demo_programme_record(
    *, actor: Actor, scale: str, seed: int, as_at: dt.date, summary: dict[str, Any]
) -> DemoProgramme:
    """Record that a fictional programme was generated (the marker `generate_programme`
    checks before generating again)."""
    with transaction.atomic():
        programme = DemoProgramme(scale=scale, seed=seed, as_at=as_at, summary=summary)
        programme.full_clean()
        programme.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=programme,
            after=audit_snapshot(programme),
            summary=f"Generated a fictional {scale} programme (seed {seed}, as at {as_at})",
        )
    return programme
