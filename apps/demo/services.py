"""Writes of the demo app: every one audited, like the rest of the service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from apps.core.audit import Actor, audit_record, audit_snapshot
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.fieldwork.models import Sample

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


CASEWORK_LABELS = {
    "case_audits": ("audit", "audits"),
    "second_markings": ("blind second marking", "blind second markings"),
    "drafts": ("draft", "drafts"),
    "judgements": ("judgement", "judgements"),
    "resolutions": ("agreed grade", "agreed grades"),
    "referrals": ("child at risk referral", "child at risk referrals"),
}


def demo_casework_record(*, actor: Actor, sample: Sample, counts: Mapping[str, int]) -> None:
    """Record the case audits, judgements, agreed grades and referrals the generator wrote in
    bulk for one inspection's sample: one audit event for them all, not one per row (the case
    list and the sample themselves were made through the fieldwork services, which record
    their own)."""
    with transaction.atomic():
        parts = [
            f"{counts[key]:,} {one if counts[key] == 1 else many}"
            for key, (one, many) in CASEWORK_LABELS.items()
            if counts.get(key)
        ]
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=sample,
            changes={key: [None, value] for key, value in counts.items()},
            summary="Generated fictional case audits: " + (", ".join(parts) or "none yet"),
        )
        data_changed("fieldwork")
