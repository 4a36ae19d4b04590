"""Writes to the findings register. Every write is checked, audited and versioned.

Rules kept here, whatever page or command calls them:
- only the team's lead inspector and inspectors record findings, and only until publication;
- a cause of concern is never without a recommendation: it is created with at least one, and
  its last recommendation cannot be removed or moved to another cause;
- a recommendation has at least one addressee and a complete timescale;
- a finding carried over must come from an earlier inspection of the same force;
- concurrent edits are refused rather than overwritten (version numbers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max

from apps.accounts.models import User
from apps.core.audit import Actor, audit_record, audit_snapshot
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.fieldwork.models import SampledCase
from apps.inspections.models import Inspection, State

from .models import EvidenceItem, Finding, Kind, Timescale
from .permissions import can_record_findings, register_is_open

MAX_TIMESCALE_MONTHS = 36
PUBLISHED_STATES = frozenset({State.PUBLISHED, State.FOLLOW_UP, State.CLOSED})


class FindingsError(ValidationError):
    """A change the rules refuse; the message says why."""


class ConcurrentFindingEdit(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} was changed by someone else while you were editing it. Your changes have "
            "not been saved: reload the page to see the latest version, then make them again."
        )


def _check_can_record(actor: Actor, inspection: Inspection) -> None:
    if isinstance(actor, User) and not can_record_findings(actor, inspection):
        raise FindingsError("Only the inspection's lead inspector and inspectors record findings.")
    if not register_is_open(inspection):
        raise FindingsError(
            f"Findings can be recorded during fieldwork, reporting and quality assurance; "
            f"{inspection.reference} is {inspection.get_state_display().lower()}."
        )


def _lock_open(inspection: Inspection) -> None:
    """Lock the inspection's row and check again that its register is open: publication
    takes the same lock, so no finding is written after the report is published."""
    locked = Inspection.objects.select_for_update().get(pk=inspection.pk)
    if not register_is_open(locked):
        raise FindingsError(
            f"{locked.reference} is {locked.get_state_display().lower()}: its findings are the "
            "published record now."
        )


def _changed() -> None:
    data_changed("findings")


# Evidence ---------------------------------------------------------------------------------


def _clean_evidence(
    inspection: Inspection, source: str, title: str, sampled_case: SampledCase | None
) -> None:
    errors: dict[str, str] = {}
    if source not in EvidenceItem.Source.values:
        errors["source"] = "Choose where the evidence comes from."
    if not title.strip():
        errors["title"] = "Enter a title that says what the evidence is."
    if sampled_case is not None:
        if sampled_case.inspection_id != inspection.pk:
            errors["sampled_case"] = "Choose a case from this inspection's sample."
        elif source != EvidenceItem.Source.CASE_AUDIT:
            errors["sampled_case"] = "Only case audit evidence is linked to a case."
    if errors:
        raise FindingsError(errors)


def evidence_create(
    *,
    actor: Actor,
    inspection: Inspection,
    source: str,
    title: str,
    sampled_case: SampledCase | None = None,
    gathered_on: dt.date | None = None,
    notes: str = "",
) -> EvidenceItem:
    _check_can_record(actor, inspection)
    _clean_evidence(inspection, source, title, sampled_case)
    with transaction.atomic():
        _lock_open(inspection)
        item = EvidenceItem.objects.create(
            inspection=inspection,
            source=source,
            title=title.strip(),
            sampled_case=sampled_case,
            gathered_on=gathered_on,
            notes=notes.strip(),
            created_by=actor,
        )
        audit_record(
            actor=actor, action=AuditEvent.Action.CREATE, instance=item, after=audit_snapshot(item)
        )
        _changed()
    return item


def evidence_update(
    *, actor: Actor, item: EvidenceItem, expected_version: int, **changes: Any
) -> EvidenceItem:
    allowed = {"source", "title", "sampled_case", "gathered_on", "notes"}
    if set(changes) - allowed:
        raise TypeError(f"Not evidence fields: {', '.join(sorted(set(changes) - allowed))}")
    _check_can_record(actor, item.inspection)
    with transaction.atomic():
        _lock_open(item.inspection)
        current = EvidenceItem.objects.select_for_update().get(pk=item.pk)
        if current.version != expected_version:
            raise ConcurrentFindingEdit(f"The evidence item “{current.title}”")
        before = audit_snapshot(current)
        for name, value in changes.items():
            setattr(current, name, value.strip() if isinstance(value, str) else value)
        _clean_evidence(item.inspection, current.source, current.title, current.sampled_case)
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            before=before,
            after=audit_snapshot(current),
        )
        _changed()
    return current


def evidence_delete(*, actor: Actor, item: EvidenceItem) -> None:
    _check_can_record(actor, item.inspection)
    with transaction.atomic():
        _lock_open(item.inspection)
        current = EvidenceItem.objects.select_for_update().get(pk=item.pk)
        used = list(current.findings.values_list("headline", flat=True)[:3])
        if used:
            raise FindingsError(
                "This evidence supports findings (for example “"
                + used[0]
                + "”). Unlink it from them first."
            )
        before = audit_snapshot(current)
        audit_record(actor=actor, action=AuditEvent.Action.DELETE, instance=current, before=before)
        current.delete()
        _changed()


# Findings ---------------------------------------------------------------------------------


@dataclass
class RecommendationTerms:
    """What a recommendation says and to whom, and by when."""

    headline: str
    narrative: str = ""
    to_force: bool = True
    to_pcc: bool = False
    national_bodies: str = ""
    timescale: str = Timescale.MONTHS
    timescale_months: int | None = 6
    due_by: dt.date | None = None
    stage: str = ""
    evidence: Sequence[EvidenceItem] = field(default_factory=tuple)


RECOMMENDATION_FIELDS = (
    "to_force",
    "to_pcc",
    "national_bodies",
    "timescale",
    "timescale_months",
    "due_by",
)
FINDING_FIELDS = ("stage", "headline", "narrative", *RECOMMENDATION_FIELDS)


def _stage_codes(inspection: Inspection) -> set[str]:
    return {stage["code"] for stage in inspection.methodology.stages}


def _clean_finding(inspection: Inspection, finding: Finding) -> None:
    errors: dict[str, str] = {}
    if finding.kind not in Kind.values:
        errors["kind"] = "Choose what kind of finding this is."
    if not finding.headline.strip():
        errors["headline"] = "Enter the finding in one sentence."
    if finding.stage and finding.stage not in _stage_codes(inspection):
        errors["stage"] = "Choose a stage or topic of this inspection's methodology."
    if finding.kind == Kind.RECOMMENDATION:
        errors.update(_recommendation_errors(finding))
    if errors:
        raise FindingsError(errors)


def _recommendation_errors(finding: Finding) -> dict[str, str]:
    errors: dict[str, str] = {}
    bodies = [b.strip() for b in finding.national_bodies.split(";") if b.strip()]
    if not (finding.to_force or finding.to_pcc or bodies):
        errors["to_force"] = (
            "Say who the recommendation is addressed to: the force, its police and crime "
            "commissioner, or named national bodies."
        )
    if finding.timescale not in Timescale.values:
        errors["timescale"] = "Choose a timescale."
    elif finding.timescale == Timescale.MONTHS:
        months = finding.timescale_months
        if not months or not 1 <= months <= MAX_TIMESCALE_MONTHS:
            errors["timescale_months"] = (
                f"Enter the number of months after publication, from 1 to {MAX_TIMESCALE_MONTHS}."
            )
    elif finding.timescale == Timescale.FIXED_DATE and not finding.due_by:
        errors["due_by"] = "Enter the date the recommendation is due by."
    if finding.timescale != Timescale.MONTHS:
        finding.timescale_months = None
    if finding.timescale != Timescale.FIXED_DATE:
        finding.due_by = None
    return errors


def _check_carried_over(inspection: Inspection, earlier: Finding | None) -> None:
    if earlier is None:
        return
    source = earlier.inspection
    if source.pk == inspection.pk:
        raise FindingsError({"carried_over_from": "Choose a finding of an earlier inspection."})
    shares_force = inspection.forces.filter(pk__in=source.forces.values("pk")).exists()
    if not shares_force:
        raise FindingsError(
            {"carried_over_from": "Choose a finding of an earlier inspection of the same force."}
        )
    if source.state not in PUBLISHED_STATES:
        raise FindingsError(
            {"carried_over_from": f"{source.reference} has not been published yet."}
        )


def _check_evidence(inspection: Inspection, evidence: Iterable[EvidenceItem]) -> list[int]:
    ids = [item.pk for item in evidence]
    if EvidenceItem.objects.filter(pk__in=ids).exclude(inspection=inspection).exists():
        raise FindingsError({"evidence": "Choose evidence gathered in this inspection."})
    return ids


def _next_order(inspection: Inspection) -> int:
    top = Finding.objects.filter(inspection=inspection).aggregate(m=Max("order"))["m"]
    return (top or 0) + 1


def _next_number(inspection: Inspection) -> int:
    top = Finding.objects.filter(inspection=inspection).aggregate(m=Max("number"))["m"]
    return (top or 0) + 1


def _create_one(
    *,
    actor: Actor,
    inspection: Inspection,
    kind: str,
    values: dict[str, Any],
    evidence: Iterable[EvidenceItem],
    carried_over_from: Finding | None = None,
    cause_of_concern: Finding | None = None,
) -> Finding:
    finding = Finding(
        inspection=inspection,
        kind=kind,
        carried_over_from=carried_over_from,
        cause_of_concern=cause_of_concern,
        created_by=actor,
        updated_by=actor,
        order=_next_order(inspection),
        **{name: values[name] for name in FINDING_FIELDS if name in values},
    )
    finding.headline = finding.headline.strip()
    finding.narrative = finding.narrative.strip()
    _clean_finding(inspection, finding)
    if kind != Kind.RECOMMENDATION:
        finding.to_force = finding.to_pcc = False
        finding.national_bodies = finding.timescale = ""
        finding.timescale_months = None
        finding.due_by = None
    else:
        finding.number = _next_number(inspection)
    evidence_ids = _check_evidence(inspection, evidence)
    finding.save()
    finding.evidence.set(evidence_ids)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        instance=finding,
        after={**audit_snapshot(finding), "evidence": evidence_ids},
    )
    return finding


def finding_create(
    *,
    actor: Actor,
    inspection: Inspection,
    kind: str,
    stage: str = "",
    headline: str,
    narrative: str = "",
    evidence: Iterable[EvidenceItem] = (),
    carried_over_from: Finding | None = None,
    recommendations: Sequence[RecommendationTerms] = (),
    terms: RecommendationTerms | None = None,
    cause_of_concern: Finding | None = None,
) -> Finding:
    """Record a finding. A cause of concern needs `recommendations` (at least one), created
    with it; a recommendation needs `terms` (addressees and timescale) and may answer a
    `cause_of_concern` of the same inspection."""
    _check_can_record(actor, inspection)
    _check_carried_over(inspection, carried_over_from)
    if kind == Kind.CAUSE_OF_CONCERN and not recommendations:
        raise FindingsError(
            "A cause of concern needs at least one recommendation: add it with the cause."
        )
    if kind != Kind.CAUSE_OF_CONCERN and recommendations:
        raise FindingsError("Only a cause of concern is recorded with its recommendations.")
    if cause_of_concern is not None and (
        kind != Kind.RECOMMENDATION
        or cause_of_concern.inspection_id != inspection.pk
        or cause_of_concern.kind != Kind.CAUSE_OF_CONCERN
    ):
        raise FindingsError({"cause_of_concern": "Choose a cause of concern of this inspection."})
    values: dict[str, Any] = {"stage": stage, "headline": headline, "narrative": narrative}
    if kind == Kind.RECOMMENDATION:
        if terms is None:
            raise FindingsError("A recommendation needs its addressees and timescale.")
        values.update({name: getattr(terms, name) for name in RECOMMENDATION_FIELDS})
    with transaction.atomic():
        _lock_open(inspection)
        finding = _create_one(
            actor=actor,
            inspection=inspection,
            kind=kind,
            values=values,
            evidence=evidence,
            carried_over_from=carried_over_from,
            cause_of_concern=cause_of_concern,
        )
        for rec in recommendations:
            _create_one(
                actor=actor,
                inspection=inspection,
                kind=Kind.RECOMMENDATION,
                values={
                    "stage": rec.stage or stage,
                    "headline": rec.headline,
                    "narrative": rec.narrative,
                    **{name: getattr(rec, name) for name in RECOMMENDATION_FIELDS},
                },
                evidence=rec.evidence,
                cause_of_concern=finding,
            )
        _changed()
    return finding


def finding_update(
    *,
    actor: Actor,
    finding: Finding,
    expected_version: int,
    evidence: Iterable[EvidenceItem] | None = None,
    carried_over_from: Finding | str | None = "unchanged",
    cause_of_concern: Finding | str | None = "unchanged",
    **changes: Any,
) -> Finding:
    unknown = set(changes) - set(FINDING_FIELDS)
    if unknown:
        raise TypeError(f"Not finding fields: {', '.join(sorted(unknown))}")
    inspection = finding.inspection
    _check_can_record(actor, inspection)
    with transaction.atomic():
        _lock_open(inspection)
        current = Finding.objects.select_for_update().get(pk=finding.pk)
        if current.version != expected_version:
            raise ConcurrentFindingEdit(f"The finding “{current.headline}”")
        before = {**audit_snapshot(current), "evidence": _evidence_ids(current)}
        for name, value in changes.items():
            setattr(current, name, value.strip() if isinstance(value, str) else value)
        if carried_over_from != "unchanged":
            assert not isinstance(carried_over_from, str)
            _check_carried_over(inspection, carried_over_from)
            current.carried_over_from = carried_over_from
        if cause_of_concern != "unchanged":
            assert not isinstance(cause_of_concern, str)
            _move_recommendation(current, cause_of_concern)
        _clean_finding(inspection, current)
        current.updated_by = actor
        current.version = F("version") + 1
        current.save()
        if evidence is not None:
            current.evidence.set(_check_evidence(inspection, evidence))
        current.refresh_from_db()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            before=before,
            after={**audit_snapshot(current), "evidence": _evidence_ids(current)},
        )
        _changed()
    return current


def _evidence_ids(finding: Finding) -> list[int]:
    return sorted(finding.evidence.values_list("pk", flat=True))


def _move_recommendation(finding: Finding, cause: Finding | None) -> None:
    if finding.kind != Kind.RECOMMENDATION:
        raise FindingsError({"cause_of_concern": "Only a recommendation answers a cause."})
    if cause is not None and (
        cause.inspection_id != finding.inspection_id or cause.kind != Kind.CAUSE_OF_CONCERN
    ):
        raise FindingsError({"cause_of_concern": "Choose a cause of concern of this inspection."})
    old = finding.cause_of_concern_id
    if old and old != (cause.pk if cause else None):
        _refuse_if_last_recommendation(old, finding)
    finding.cause_of_concern = cause


def _refuse_if_last_recommendation(cause_id: int, finding: Finding) -> None:
    others = Finding.objects.filter(cause_of_concern_id=cause_id).exclude(pk=finding.pk)
    if not others.exists():
        cause = Finding.objects.get(pk=cause_id)
        raise FindingsError(
            f"Recommendation {finding.number} is the only recommendation of the cause of "
            f"concern “{cause.headline}”. A cause of concern always has at least one: add "
            "another recommendation to it first."
        )


def finding_delete(*, actor: Actor, finding: Finding) -> None:
    """Remove a finding. Removing a cause of concern removes its recommendations with it."""
    _check_can_record(actor, finding.inspection)
    with transaction.atomic():
        _lock_open(finding.inspection)
        current = Finding.objects.select_for_update().get(pk=finding.pk)
        if current.carried_into.exists():
            raise FindingsError("A later inspection carries this finding over; it must stay.")
        if current.kind == Kind.RECOMMENDATION and current.cause_of_concern_id:
            _refuse_if_last_recommendation(current.cause_of_concern_id, current)
        doomed = [current]
        if current.kind == Kind.CAUSE_OF_CONCERN:
            doomed = [*current.recommendations.all(), current]
        for item in doomed:
            audit_record(
                actor=actor,
                action=AuditEvent.Action.DELETE,
                instance=item,
                before=audit_snapshot(item),
            )
            item.delete()
        _changed()


def causes_without_recommendations(inspection: Inspection) -> list[Finding]:
    """Causes of concern that have no recommendation (the services prevent this; publication
    checks it again in case of data put in by other means)."""
    return list(
        Finding.objects.filter(
            inspection=inspection, kind=Kind.CAUSE_OF_CONCERN, recommendations__isnull=True
        )
    )


def recommendations_renumber(
    *, actor: Actor, inspection: Inspection, stage_order: Sequence[str]
) -> bool:
    """Number the recommendations 1, 2, 3... in the order the report presents them: by stage
    (in `stage_order`, general ones last) and then in the order they were recorded. Run by
    the disclosure check and at sign-off, so numbers are final when the report is published;
    in drafts they are provisional. Says whether any number changed (recorded if so)."""
    position = {code: i for i, code in enumerate(stage_order)}
    with transaction.atomic():
        recs = list(
            Finding.objects.select_for_update()
            .filter(inspection=inspection, kind=Kind.RECOMMENDATION)
            .order_by("order", "id")
        )
        recs.sort(key=lambda r: (position.get(r.stage, len(position)), r.order, r.pk))
        wanted = {rec.pk: number for number, rec in enumerate(recs, start=1)}
        if all(rec.number == wanted[rec.pk] for rec in recs):
            return False
        # Clear first, so the unique (inspection, number) never clashes midway.
        Finding.objects.filter(pk__in=list(wanted)).update(number=None)
        for pk, number in wanted.items():
            Finding.objects.filter(pk=pk).update(number=number)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=inspection,
            summary="Numbered the recommendations in report order: "
            + ", ".join(f"{rec.number or '-'}→{wanted[rec.pk]}" for rec in recs),
        )
        _changed()
    return True
