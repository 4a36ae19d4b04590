"""The retention schedule for case-level data.

Case files concern identifiable children. Once an inspection has been closed for
FIELDWORK_RETENTION_MONTHS, its case-level detail goes: the unsampled rows of the case list
are deleted, every free-text note (evidence, overall notes, agreed-grade reasons, referral
texts, replacement reasons) is emptied, and each pseudonymous case reference is replaced by
a neutral one, so nothing links the record back to the force's case. The grades, and so
every aggregate (results, the national distribution, agreement statistics), stay.

The audit trail keeps its own record (which never holds the notes' text) unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from apps.core.audit import Actor, audit_record
from apps.core.cache import data_changed
from apps.core.dates import add_months
from apps.core.models import AuditEvent
from apps.inspections.models import Inspection, State
from apps.notifications.models import Notification

from .models import CaseAudit, EligibleCase, Judgement, Referral, Resolution, Sample, SampledCase


def due_for_removal(*, today: dt.date, months: int) -> QuerySet[Inspection]:
    """Closed inspections past the retention period whose case detail is still held."""
    cutoff = add_months(today, -months)
    return Inspection.objects.filter(
        state=State.CLOSED,
        state_changed_on__lte=cutoff,
        sample__isnull=False,
        sample__case_data_removed_at__isnull=True,
    ).order_by("state_changed_on", "reference")


@dataclass
class Removed:
    reference: str
    frame_rows: int = 0
    references: int = 0
    texts: int = 0


@dataclass
class RetentionResult:
    cutoff: dt.date
    inspections: list[Removed] = field(default_factory=list)


def _neutral(pk_field: str, prefix: str) -> Concat:
    return Concat(Value(prefix), Cast(F(pk_field), models.CharField()))


def remove_case_data(*, actor: Actor, inspection: Inspection) -> Removed:
    removed = Removed(inspection.reference)
    with transaction.atomic():
        sample = Sample.objects.select_for_update().get(inspection=inspection)
        if sample.case_data_removed_at is not None:
            return removed
        removed.frame_rows, _ = EligibleCase.objects.filter(
            inspection=inspection, sampled__isnull=True
        ).delete()
        cases = SampledCase.objects.filter(inspection=inspection)
        removed.references = cases.update(reference=_neutral("pk", "case-"))
        EligibleCase.objects.filter(inspection=inspection).update(
            reference=_neutral("pk", "case-"), team=""
        )
        removed.texts += cases.exclude(replaced_reason="").update(replaced_reason="")
        removed.texts += Judgement.objects.filter(audit__inspection=inspection).update(notes="")
        removed.texts += CaseAudit.objects.filter(inspection=inspection).update(overall_notes="")
        removed.texts += Resolution.objects.filter(sampled_case__inspection=inspection).update(
            reason=""
        )
        referrals = Referral.objects.filter(inspection=inspection)
        removed.texts += 3 * referrals.update(
            reference=_neutral("sampled_case_id", "case-"),
            concern="",
            force_action="",
            closing_note="",
        )
        # Notices name case references: those about this inspection's fieldwork go too.
        Notification.objects.filter(
            link__startswith=f"/inspections/{inspection.pk}/fieldwork/"
        ).delete()
        sample.case_data_removed_at = timezone.now()
        sample.save(update_fields=["case_data_removed_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.SYSTEM,
            instance=inspection,
            summary=(
                f"Retention: case-level detail removed ({removed.frame_rows} unsampled case "
                f"list rows deleted, {removed.references} case references replaced, "
                f"{removed.texts} note fields emptied); grades kept"
            ),
        )
        data_changed("fieldwork")
    return removed


def apply_retention(
    *, actor: Actor, today: dt.date, months: int, dry_run: bool = False
) -> RetentionResult:
    """Remove the case-level detail of every inspection due; each in its own transaction."""
    if months < 1:
        raise ValueError("The retention period must be at least one month.")
    result = RetentionResult(cutoff=add_months(today, -months))
    for inspection in due_for_removal(today=today, months=months):
        if dry_run:
            result.inspections.append(Removed(inspection.reference))
        else:
            result.inspections.append(remove_case_data(actor=actor, inspection=inspection))
    return result
