"""Writes for fieldwork. Each takes the acting user, checks the rules of the domain (who may
act is checked by the caller through apps/fieldwork/permissions.py), records the change in
the audit trail in the same transaction, and marks fieldwork data as changed."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.core.audit import Actor, audit_record, audit_snapshot
from apps.core.bulk import insert_rows
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.inspections.models import Inspection, State, TeamMember, TeamRole
from apps.notifications.services import notify

from . import draw, intake
from .models import (
    NOT_APPLICABLE,
    CaseAudit,
    CaseList,
    EligibleCase,
    Judgement,
    Referral,
    Resolution,
    Sample,
    SampledCase,
)

# Fieldwork happens while an inspection is notified or in fieldwork; audits may be finished
# and moderated while the report is written.
UPLOAD_STATES = frozenset({State.NOTIFIED, State.FIELDWORK})
AUDIT_STATES = frozenset({State.NOTIFIED, State.FIELDWORK, State.REPORTING})


class FieldworkError(ValidationError):
    """A request the rules refuse; the message says why and what to do."""


class AuditConflict(Exception):
    """Someone else saved the audit since this person loaded it."""

    def __init__(self, audit: CaseAudit) -> None:
        who = audit.updated_by.full_name if audit.updated_by else "someone else"
        when = timezone.localtime(audit.updated_at).strftime("%H:%M:%S")
        super().__init__(
            f"{who} saved this audit at {when}, after you opened it. Your last change has "
            "not been saved, so that neither of you overwrites the other. Copy anything you "
            "need, then reload the page to see their version and make your change again."
        )
        self.audit = audit


def _changed() -> None:
    data_changed("fieldwork")


def grades_cases(inspection: Inspection) -> bool:
    return bool(inspection.methodology.grade_scale)


def _require_audit_state(inspection: Inspection) -> None:
    if inspection.state not in AUDIT_STATES:
        raise FieldworkError(
            "Case audits, second marking and agreed grades can change only during fieldwork "
            f"and reporting; this inspection is at '{inspection.get_state_display()}'."
        )


def _require_grading(inspection: Inspection) -> None:
    if not grades_cases(inspection):
        raise FieldworkError(
            f"{inspection.methodology.title} does not grade case files, so this inspection "
            "has no case audits."
        )


def lead_inspectors(inspection: Inspection) -> list[User]:
    return [
        m.user
        for m in TeamMember.objects.filter(
            inspection=inspection, role=TeamRole.LEAD_INSPECTOR
        ).select_related("user")
    ]


def force_liaisons(inspection: Inspection) -> list[User]:
    return list(
        User.objects.filter(
            role=Role.FORCE_LIAISON,
            is_active=True,
            organisation__force__in=inspection.forces.all(),
        )
    )


# Case lists ---------------------------------------------------------------------------------


def case_list_upload(
    *, actor: Actor, inspection: Inspection, filename: str, content: bytes, today: dt.date
) -> CaseList:
    """Store a validated case list, all or nothing. Raises intake.CaseListRejected with
    every problem, or FieldworkError if the inspection cannot take a list now."""
    _require_grading(inspection)
    if inspection.state not in UPLOAD_STATES:
        raise FieldworkError(
            "Case lists can be uploaded once the force is notified and until fieldwork ends; "
            f"this inspection is at '{inspection.get_state_display()}'."
        )
    if Sample.objects.filter(inspection=inspection).exists():
        raise FieldworkError(
            "The sample has already been drawn from the case lists, so they can no longer "
            "change. Replace an unusable case from the sample page instead."
        )
    methodology = inspection.methodology
    areas = {a["code"]: a["name"] for a in methodology.audit_areas}
    rows = intake.read_case_list(
        filename=filename,
        content=content,
        audit_areas=areas,
        today=today,
        max_rows=settings.FIELDWORK_MAX_ROWS,
    )
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.audit_area] += 1
    with transaction.atomic():
        Inspection.objects.select_for_update().get(pk=inspection.pk)
        if Sample.objects.filter(inspection=inspection).exists():
            raise FieldworkError("The sample was drawn while this file was being checked.")
        replaced_count = _delete_eligible(inspection, list(counts))
        case_list = CaseList.objects.create(
            inspection=inspection,
            filename=filename[:200],
            sha256=hashlib.sha256(content).hexdigest(),
            row_count=len(rows),
            area_counts=dict(sorted(counts.items())),
            uploaded_by=actor,
        )
        _insert_eligible(
            (
                inspection.pk,
                case_list.pk,
                r.row,
                r.reference,
                r.audit_area,
                r.opened_on,
                r.closed_on,
                r.team,
            )
            for r in rows
        )
        summary = f"Case list {case_list.filename}: {len(rows)} eligible cases"
        if replaced_count:
            summary += f", replacing {replaced_count} from earlier lists in the same areas"
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=case_list,
            after=audit_snapshot(case_list),
            summary=summary,
        )
        _changed()
    return case_list


_ELIGIBLE_COLUMNS = (
    "inspection_id",
    "case_list_id",
    "row",
    "reference",
    "audit_area",
    "opened_on",
    "closed_on",
    "team",
)


def _insert_eligible(rows: Iterable[tuple[Any, ...]]) -> None:
    """Store a case list's rows (up to FIELDWORK_MAX_ROWS of them) fast (core.bulk): the rows
    were validated already (intake.read_case_list)."""
    insert_rows(EligibleCase, _ELIGIBLE_COLUMNS, rows)


def _delete_eligible(inspection: Inspection, areas: list[str]) -> int:
    """Remove earlier case list rows of these areas. Only called before a sample exists, so
    no sampled case can refer to them (the ORM's delete would fetch every row to check)."""
    connection = connections[router.db_for_write(EligibleCase)]
    table = connection.ops.quote_name(EligibleCase._meta.db_table)
    placeholders = ", ".join(["%s"] * len(areas))
    with connection.cursor() as cursor:
        cursor.execute(
            # The table name from the model, quoted; every value is a parameter.
            f"DELETE FROM {table} WHERE inspection_id = %s AND audit_area IN ({placeholders})",  # noqa: S608
            [inspection.pk, *areas],
        )
        return cursor.rowcount


# Sampling -----------------------------------------------------------------------------------


def frame_fingerprint(frame: Mapping[str, list[str]]) -> str:
    digest = hashlib.sha256()
    for area in sorted(frame):
        for reference in sorted(frame[area]):
            digest.update(f"{area}\x1f{reference}\n".encode())
    return digest.hexdigest()


def _frame(inspection: Inspection) -> dict[str, dict[str, int]]:
    """Audit area -> reference -> eligible case id."""
    frame: dict[str, dict[str, int]] = defaultdict(dict)
    rows = EligibleCase.objects.filter(inspection=inspection).values_list(
        "audit_area", "reference", "id"
    )
    for area, reference, pk in rows.iterator(chunk_size=5000):
        frame[area][reference] = pk
    return frame


def moderation_count(total: int, share: Decimal | float, minimum: int) -> int:
    """How many cases to second-mark: the share, rounded up, at least the minimum, never
    more than the cases there are."""
    return min(total, max(minimum, math.ceil(total * float(share))))


@dataclass(frozen=True)
class DrawRequest:
    quotas: Mapping[str, int]
    rationale: str
    seed: str = ""
    calculation: Mapping[str, Any] | None = None
    moderation_share: Decimal = Decimal("0.1")
    moderation_minimum: int = 5
    kappa_threshold: Decimal = Decimal("0.6")


def sample_draw(*, actor: Actor, inspection: Inspection, request: DrawRequest) -> Sample:
    """Draw the stratified random sample: in each audit area, the first `quota` cases of
    the area's random order for the seed (see draw.stratum_order)."""
    _require_grading(inspection)
    errors: dict[str, list[str]] = defaultdict(list)
    if inspection.state not in UPLOAD_STATES:
        errors["__all__"].append(
            "A sample is drawn once the force is notified and before fieldwork ends."
        )
    if not request.rationale.strip():
        errors["rationale"].append("Explain why these numbers of cases were chosen.")
    if not 0 < request.moderation_share <= 1:
        errors["moderation_share"].append("The share to second-mark must be between 0 and 1.")
    if not 0 < request.kappa_threshold <= 1:
        errors["kappa_threshold"].append("The kappa threshold must be between 0 and 1.")
    seed = request.seed.strip() or draw.new_seed()
    if len(seed) > 64:
        errors["seed"].append("The seed must be 64 characters or fewer.")
    with transaction.atomic():
        Inspection.objects.select_for_update().get(pk=inspection.pk)
        if Sample.objects.filter(inspection=inspection).exists():
            raise FieldworkError("A sample has already been drawn for this inspection.")
        frame = _frame(inspection)
        if not frame:
            raise FieldworkError("Upload the force's case list before drawing the sample.")
        areas = {a["code"]: a["name"] for a in inspection.methodology.audit_areas}
        for area, quota in request.quotas.items():
            if area not in areas:
                errors[f"quota_{area}"].append(f"'{area}' is not an audit area of this method.")
            elif quota < 0:
                errors[f"quota_{area}"].append(f"{areas[area]}: the number cannot be negative.")
            elif quota > len(frame.get(area, {})):
                errors[f"quota_{area}"].append(
                    f"{areas[area]}: {quota} cases asked for, but the case list has only "
                    f"{len(frame.get(area, {}))}."
                )
        if not any(q > 0 for q in request.quotas.values()):
            errors["__all__"].append("Ask for at least one case.")
        if errors:
            raise FieldworkError(dict(errors))
        sample = Sample.objects.create(
            inspection=inspection,
            seed=seed,
            quotas={a: q for a, q in sorted(request.quotas.items()) if q > 0},
            frame_sizes={a: len(refs) for a, refs in sorted(frame.items())},
            frame_sha256=frame_fingerprint({a: list(r) for a, r in frame.items()}),
            rationale=request.rationale.strip(),
            calculation=dict(request.calculation or {}),
            moderation_share=request.moderation_share,
            moderation_minimum=request.moderation_minimum,
            kappa_threshold=request.kappa_threshold,
            drawn_by=actor,
        )
        chosen = []
        for area, quota in sorted(sample.quotas.items()):
            order = draw.stratum_order(seed, area, frame[area])
            for position, reference in enumerate(order[:quota]):
                chosen.append(
                    SampledCase(
                        sample=sample,
                        inspection=inspection,
                        eligible_case_id=frame[area][reference],
                        reference=reference,
                        audit_area=area,
                        position=position,
                    )
                )
        moderated = set(
            draw.stratum_order(
                seed, "moderation", [f"{c.audit_area}/{c.reference}" for c in chosen]
            )[: moderation_count(len(chosen), request.moderation_share, request.moderation_minimum)]
        )
        for case in chosen:
            case.for_moderation = f"{case.audit_area}/{case.reference}" in moderated
        SampledCase.objects.bulk_create(chosen, batch_size=2000)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=sample,
            after=audit_snapshot(sample),
            summary=f"Drew {len(chosen)} cases ({len(moderated)} to second-mark) with seed {seed}",
        )
        _changed()
    return sample


def case_replace(*, actor: Actor, case: SampledCase, reason: str) -> SampledCase:
    """Replace an unusable case with the next case of the same audit area's random order."""
    reason = reason.strip()
    if not reason:
        raise FieldworkError({"reason": ["Say why the case cannot be audited."]})
    with transaction.atomic():
        case = SampledCase.objects.select_for_update().select_related("sample").get(pk=case.pk)
        if case.status != SampledCase.Status.IN_SAMPLE:
            raise FieldworkError(f"Case {case.reference} has already been replaced.")
        if case.audits.filter(status=CaseAudit.Status.SUBMITTED).exists():
            raise FieldworkError(
                f"Case {case.reference} has a submitted audit, so it cannot be replaced."
            )
        if case.referrals.exists():
            raise FieldworkError(
                f"Case {case.reference} has a child at risk referral, so it stays in the "
                "sample as the record of it."
            )
        sample = case.sample
        frame = _frame(case.inspection)[case.audit_area]
        taken = set(
            SampledCase.objects.filter(sample=sample, audit_area=case.audit_area).values_list(
                "reference", flat=True
            )
        )
        order = draw.stratum_order(sample.seed, case.audit_area, frame)
        position = next((i for i, ref in enumerate(order) if ref not in taken), None)
        if position is None:
            raise FieldworkError(
                f"Every eligible case in this audit area is already in the sample, so "
                f"{case.reference} cannot be replaced."
            )
        reference = order[position]
        replacement = SampledCase.objects.create(
            sample=sample,
            inspection_id=case.inspection_id,
            eligible_case_id=frame[reference],
            reference=reference,
            audit_area=case.audit_area,
            position=position,
            for_moderation=case.for_moderation,
        )
        for audit in case.audits.all():
            audit_record(
                actor=actor,
                action=AuditEvent.Action.DELETE,
                instance=audit,
                before=audit_snapshot(audit),
                summary="Draft audit removed with the case it was for",
            )
            audit.delete()
        before = audit_snapshot(case)
        case.status = SampledCase.Status.REPLACED
        case.replaced_reason = reason[:500]
        case.replacement = replacement
        case.save(update_fields=["status", "replaced_reason", "replacement"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=case,
            before=before,
            after=audit_snapshot(case),
            summary=f"Replaced by {reference} (position {position} in the area's order)",
        )
        _changed()
    return replacement


# Case audits --------------------------------------------------------------------------------


def audit_start(*, actor: Actor, case: SampledCase, kind: str) -> CaseAudit:
    """Open (or return) the audit of a case: the primary audit, or its blind second marking."""
    inspection = case.inspection
    if inspection.state not in AUDIT_STATES:
        raise FieldworkError("Case audits can be recorded during fieldwork and reporting.")
    if case.status != SampledCase.Status.IN_SAMPLE:
        raise FieldworkError(f"Case {case.reference} was replaced and is not audited.")
    with transaction.atomic():
        SampledCase.objects.select_for_update().get(pk=case.pk)
        existing = CaseAudit.objects.filter(sampled_case=case, kind=kind).first()
        if existing is not None:
            return existing
        if kind == CaseAudit.Kind.SECOND:
            if not case.for_moderation:
                raise FieldworkError(f"Case {case.reference} is not selected for second marking.")
            primary = CaseAudit.objects.filter(
                sampled_case=case, kind=CaseAudit.Kind.PRIMARY
            ).first()
            if TeamMember.objects.filter(
                inspection=inspection, user=actor, role=TeamRole.LEAD_INSPECTOR
            ).exists():
                raise FieldworkError(
                    "The lead inspector agrees the grade where marks differ, so cannot also "
                    "second-mark: ask an inspector on the team."
                )
            if primary is not None and primary.auditor_id == getattr(actor, "pk", None):
                raise FieldworkError(
                    "You audited this case, so someone else must second-mark it blind."
                )
        elif CaseAudit.objects.filter(
            sampled_case=case, kind=CaseAudit.Kind.SECOND, auditor=actor
        ).exists():
            raise FieldworkError("You second-marked this case, so someone else must audit it.")
        audit = CaseAudit.objects.create(
            sampled_case=case,
            inspection=inspection,
            kind=kind,
            auditor=actor,
            updated_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=audit,
            after=audit_snapshot(audit),
        )
        _changed()
    return audit


@dataclass(frozen=True)
class Field:
    """One editable value of an audit: the overall grade or notes, or a judgement's."""

    stage: str  # "" for the overall fields
    criterion: str  # "" for a stage's own judgement or the overall fields
    part: str  # "grade" or "notes"

    @classmethod
    def parse(cls, name: str) -> Field:
        if name in ("overall_grade", "overall_notes"):
            return cls("", "", name.removeprefix("overall_"))
        parts = name.split(":")
        if len(parts) == 4 and parts[0] == "j" and parts[3] in ("grade", "notes"):
            return cls(parts[1], parts[2], parts[3])
        raise FieldworkError(f"'{name}' is not a field of a case audit.")

    @property
    def name(self) -> str:
        if not self.stage:
            return f"overall_{self.part}"
        return f"j:{self.stage}:{self.criterion}:{self.part}"


def audit_fields(audit: CaseAudit) -> dict[str, Field]:
    """Every field of the audit of this case's area, by name."""
    fields = {"overall_grade": Field("", "", "grade"), "overall_notes": Field("", "", "notes")}
    for stage in audit.inspection.methodology.stages_for_area(audit.sampled_case.audit_area):
        for criterion in [""] + [c["code"] for c in stage.get("criteria", [])]:
            for part in ("grade", "notes"):
                field = Field(stage["code"], criterion, part)
                fields[field.name] = field
    return fields


MAX_NOTES = 10_000


def _check_value(audit: CaseAudit, field: Field, value: str) -> str:
    scale = list(audit.inspection.methodology.grade_scale)
    if field.part == "notes":
        if len(value) > MAX_NOTES:
            raise FieldworkError(f"Notes can be at most {MAX_NOTES:,} characters.")
        return value
    value = value.strip()
    allowed = scale + ([NOT_APPLICABLE] if field.stage else [])
    if value and value not in allowed:
        raise FieldworkError(f"'{value}' is not a grade of this methodology.")
    return value


def audit_save(
    *, actor: Actor, audit: CaseAudit, version: int, values: Mapping[str, str]
) -> CaseAudit:
    """Save draft values (one field as the inspector types, or the whole form). Refuses
    with AuditConflict if the audit changed since `version` was read."""
    _require_audit_state(audit.inspection)
    fields = audit_fields(audit)
    checked: dict[Field, str] = {}
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            raise FieldworkError(f"'{name}' is not a field of this case's audit.")
        checked[field] = _check_value(audit, field, value)
    with transaction.atomic():
        now = timezone.now()
        updated = CaseAudit.objects.filter(
            pk=audit.pk, version=version, status=CaseAudit.Status.DRAFT
        ).update(version=F("version") + 1, updated_at=now, updated_by=actor)
        if updated and audit.version == version:
            # The row was at the version this object was read at, so the object holds what
            # the row held: no need to read it again (autosave runs on every keystroke pause).
            current = copy.copy(audit)  # the caller's object keeps the version it had
            current.version, current.updated_at, current.updated_by = version + 1, now, actor
        else:
            current = CaseAudit.objects.select_related("updated_by", "sampled_case").get(
                pk=audit.pk
            )
            if not updated:
                if current.status != CaseAudit.Status.DRAFT:
                    raise FieldworkError("This audit has been submitted and can no longer change.")
                raise AuditConflict(current)
        changes: dict[str, list[Any]] = {}
        overall = {f.part: v for f, v in checked.items() if not f.stage}
        if overall:
            if "grade" in overall and overall["grade"] != current.overall_grade:
                changes["overall_grade"] = [current.overall_grade, overall["grade"]]
                current.overall_grade = overall["grade"]
            if "notes" in overall and overall["notes"] != current.overall_notes:
                changes["overall_notes"] = ["(encrypted)", "(encrypted)"]
                current.overall_notes = overall["notes"]
            current.save(update_fields=["overall_grade", "overall_notes"])
        by_judgement: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        for field, value in checked.items():
            if field.stage:
                by_judgement[(field.stage, field.criterion)][field.part] = value
        if by_judgement:
            existing = {
                (j.stage, j.criterion): j
                for j in Judgement.objects.filter(audit=audit).filter(
                    stage__in={s for s, _ in by_judgement}
                )
            }
            for key, parts in by_judgement.items():
                judgement = existing.get(key) or Judgement(
                    audit=current, stage=key[0], criterion=key[1]
                )
                label = f"{key[0]}:{key[1] or '(stage)'}"
                if "grade" in parts and parts["grade"] != judgement.grade:
                    changes[f"{label} grade"] = [judgement.grade, parts["grade"]]
                    judgement.grade = parts["grade"]
                if "notes" in parts and parts["notes"] != judgement.notes:
                    changes[f"{label} notes"] = ["(encrypted)", "(encrypted)"]
                    judgement.notes = parts["notes"]
                judgement.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            changes=changes,
            summary=f"Draft saved (version {current.version})",
        )
    return current


def missing_for_submission(audit: CaseAudit) -> list[str]:
    """What must be graded before the audit can be submitted, in the form's order."""
    graded = {
        (j.stage, j.criterion): j.grade for j in Judgement.objects.filter(audit=audit) if j.grade
    }
    missing = []
    for stage in audit.inspection.methodology.stages_for_area(audit.sampled_case.audit_area):
        for criterion in stage.get("criteria", []):
            if (stage["code"], criterion["code"]) not in graded:
                missing.append(f"{stage['name']}: grade '{criterion['text']}'")
        if (stage["code"], "") not in graded:
            missing.append(f"{stage['name']}: give the stage an overall grade")
    if not audit.overall_grade:
        missing.append("Give the case its overall grade")
    return missing


def _comparable(inspection: Inspection, grade: str) -> str:
    return inspection.methodology.comparable(grade) or ""


def _set_final_grade(case: SampledCase) -> None:
    """The agreed grade if there is one; otherwise the submitted audit's grade, but for a case
    selected for second marking only once that is submitted too, so that results never give
    away a grade the second marker must not see."""
    resolution = Resolution.objects.filter(sampled_case=case).first()
    marks = {
        a.kind: a.overall_grade
        for a in CaseAudit.objects.filter(sampled_case=case, status=CaseAudit.Status.SUBMITTED)
    }
    grade = ""
    if resolution is not None:
        grade = resolution.agreed_grade
    elif CaseAudit.Kind.PRIMARY in marks and (
        not case.for_moderation or CaseAudit.Kind.SECOND in marks
    ):
        grade = marks[CaseAudit.Kind.PRIMARY]
    case.final_grade = grade
    case.comparable_grade = _comparable(case.inspection, grade) if grade else ""
    case.save(update_fields=["final_grade", "comparable_grade"])


def audit_submit(*, actor: Actor, audit: CaseAudit, version: int) -> CaseAudit:
    _require_audit_state(audit.inspection)
    missing = missing_for_submission(audit)
    if missing:
        raise FieldworkError(
            {"__all__": ["The audit is not complete. Still to do: " + "; ".join(missing)]}
        )
    with transaction.atomic():
        # The case's row lock orders this with the other mark's submission, a replacement or
        # a moderation change, so the final grade is worked out from what both committed.
        SampledCase.objects.select_for_update().get(pk=audit.sampled_case_id)
        updated = CaseAudit.objects.filter(
            pk=audit.pk, version=version, status=CaseAudit.Status.DRAFT
        ).update(
            version=F("version") + 1,
            status=CaseAudit.Status.SUBMITTED,
            submitted_at=timezone.now(),
            updated_at=timezone.now(),
            updated_by=actor,
        )
        current = CaseAudit.objects.select_related(
            "updated_by", "sampled_case__inspection__methodology"
        ).get(pk=audit.pk)
        if not updated:
            if current.status != CaseAudit.Status.DRAFT:
                raise FieldworkError("This audit has already been submitted.")
            raise AuditConflict(current)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            changes={"status": ["draft", "submitted"]},
            summary=f"Submitted with overall grade {current.overall_grade}",
        )
        case = current.sampled_case
        _set_final_grade(case)
        _after_second_marking(case)
        _changed()
    return current


def _after_second_marking(case: SampledCase) -> None:
    """When both marks are in: a disagreement goes to the lead inspector for resolution, and
    agreement below the threshold is flagged to them."""
    marks = {
        a.kind: a
        for a in CaseAudit.objects.filter(sampled_case=case, status=CaseAudit.Status.SUBMITTED)
    }
    if len(marks) < 2:
        return
    inspection = case.inspection
    leads = lead_inspectors(inspection)
    if marks[CaseAudit.Kind.PRIMARY].overall_grade != marks[CaseAudit.Kind.SECOND].overall_grade:
        notify(
            recipients=leads,
            subject=f"{inspection.reference}: second marking disagrees on case {case.reference}",
            body=(
                f"The audit and the blind second marking of case {case.reference} gave "
                "different overall grades. Record the agreed grade and why."
            ),
            link=reverse("fieldwork:moderation", args=[inspection.pk]),
            dedupe_key=f"disagreement:{case.pk}",
        )
    flag_low_agreement(inspection)


def flag_low_agreement(inspection: Inspection) -> list[str]:
    """Notify the lead inspector of agreement newly below the threshold; returns the flags."""
    from .selectors import agreement_report

    sample = Sample.objects.select_for_update().get(inspection=inspection)
    report = agreement_report(inspection)
    flags = sorted(report.flags)
    new = [f for f in flags if f not in set(sample.flagged)]
    if new:
        notify(
            recipients=lead_inspectors(inspection),
            subject=f"{inspection.reference}: agreement below the threshold",
            body=(
                f"Cohen's kappa is below {sample.kappa_threshold} for "
                + _flag_summary(new, report.flag_labels)
                + ". Look at the agreement results and consider re-briefing or re-marking."
            ),
            link=reverse("fieldwork:agreement", args=[inspection.pk]),
            dedupe_key=f"agreement:{inspection.pk}:{'|'.join(new)}",
        )
    if flags != sample.flagged:
        sample.flagged = flags
        sample.save(update_fields=["flagged"])
    return flags


def _flag_summary(keys: list[str], labels: Mapping[str, str]) -> str:
    """The overall grade and stages by name, then criteria and inspectors counted."""
    named = [labels[k] for k in keys if k == "overall"]
    named += [labels[k] for k in keys if k.startswith("stage:")]
    counted = []
    for prefix, noun in (("criterion:", "criterion"), ("inspector:", "inspector")):
        n = sum(1 for k in keys if k.startswith(prefix))
        if n:
            plural = {"criterion": "criteria", "inspector": "inspectors"}[noun]
            counted.append(f"{n} {noun if n == 1 else plural}")
    parts = named + counted
    return "; ".join(parts) if parts else "no measure"


def resolution_record(
    *, actor: Actor, case: SampledCase, agreed_grade: str, reason: str
) -> Resolution:
    inspection = case.inspection
    _require_audit_state(inspection)
    errors: dict[str, list[str]] = {}
    if agreed_grade not in inspection.methodology.grade_scale:
        errors["agreed_grade"] = ["Choose the agreed grade."]
    if not reason.strip():
        errors["reason"] = ["Say why this grade was agreed."]
    if errors:
        raise FieldworkError(errors)
    with transaction.atomic():
        case = SampledCase.objects.select_for_update().get(pk=case.pk)
        marks = {
            a.kind: a.overall_grade
            for a in CaseAudit.objects.filter(sampled_case=case, status=CaseAudit.Status.SUBMITTED)
        }
        if len(marks) < 2:
            raise FieldworkError("Both the audit and the second marking must be submitted first.")
        if Resolution.objects.filter(sampled_case=case).exists():
            raise FieldworkError(f"The grade of case {case.reference} has already been agreed.")
        resolution = Resolution.objects.create(
            sampled_case=case, agreed_grade=agreed_grade, reason=reason.strip(), resolved_by=actor
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=resolution,
            after=audit_snapshot(resolution),
            summary=(
                f"Agreed {agreed_grade} (audit {marks[CaseAudit.Kind.PRIMARY]}, "
                f"second marking {marks[CaseAudit.Kind.SECOND]})"
            ),
        )
        _set_final_grade(case)
        _changed()
    return resolution


def moderation_update(
    *,
    actor: Actor,
    sample: Sample,
    version: int,
    share: Decimal,
    minimum: int,
    threshold: Decimal,
) -> Sample:
    """Change the second-marking share and threshold. Cases are added to (or, if no second
    marking has started on them, taken from) the selection in the sample's fixed order."""
    _require_audit_state(sample.inspection)
    errors: dict[str, list[str]] = {}
    if not 0 < share <= 1:
        errors["moderation_share"] = ["Enter a share between 1% and 100%."]
    if minimum < 0:
        errors["moderation_minimum"] = ["The minimum cannot be negative."]
    if not 0 < threshold <= 1:
        errors["kappa_threshold"] = ["Enter a threshold between 0 and 1."]
    if errors:
        raise FieldworkError(errors)
    with transaction.atomic():
        current = Sample.objects.select_for_update().get(pk=sample.pk)
        if current.version != version:
            raise FieldworkError(
                "Someone else changed the moderation settings since you opened the page. "
                "Reload it to see their change, then make yours again."
            )
        before = audit_snapshot(current)
        current.moderation_share = share
        current.moderation_minimum = minimum
        current.kappa_threshold = threshold
        current.version += 1
        current.save()
        cases = list(
            SampledCase.objects.filter(sample=current, status=SampledCase.Status.IN_SAMPLE)
        )
        keys = {f"{c.audit_area}/{c.reference}": c for c in cases}
        started = set(
            CaseAudit.objects.filter(
                sampled_case__sample=current, kind=CaseAudit.Kind.SECOND
            ).values_list("sampled_case_id", flat=True)
        )
        # A case whose audit is already submitted (and so seen by the team) cannot be marked
        # blind any more: it is passed over, and the next in the fixed order taken instead.
        seen = set(
            CaseAudit.objects.filter(
                sampled_case__sample=current,
                kind=CaseAudit.Kind.PRIMARY,
                status=CaseAudit.Status.SUBMITTED,
            ).values_list("sampled_case_id", flat=True)
        )
        order = draw.stratum_order(current.seed, "moderation", keys)
        blind = [k for k in order if keys[k].for_moderation or keys[k].pk not in seen]
        wanted = set(blind[: moderation_count(len(cases), share, minimum)])
        for key, case in keys.items():
            selected = key in wanted or case.pk in started
            if case.for_moderation != selected:
                case.for_moderation = selected
                case.save(update_fields=["for_moderation"])
                _set_final_grade(case)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            before=before,
            after=audit_snapshot(current),
            summary="Moderation settings changed",
        )
        _changed()
    return current


# Child at risk now -------------------------------------------------------------------------


def referral_raise(*, actor: Actor, case: SampledCase, concern: str) -> Referral:
    """Refer a child who appears to be at risk now back to the force, at once: the lead
    inspector and the force's liaison officers are told in the app and by email."""
    concern = concern.strip()
    if not concern:
        raise FieldworkError({"concern": ["Describe why the child appears to be at risk now."]})
    inspection = case.inspection
    with transaction.atomic():
        referral = Referral.objects.create(
            inspection=inspection,
            sampled_case=case,
            reference=case.reference,
            concern=concern,
            raised_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=referral,
            after=audit_snapshot(referral),
            summary=f"Child at risk referral raised for case {case.reference}",
        )
        link = reverse("fieldwork:referral", args=[inspection.pk, referral.pk])
        notify(
            recipients=lead_inspectors(inspection),
            subject=f"{inspection.reference}: child at risk referral for case {case.reference}",
            body=(
                f"{getattr(actor, 'full_name', actor)} found that the child in case "
                f"{case.reference} appears to be at risk now. The case has been referred back "
                "to the force. Make sure the force acknowledges it and acts today."
            ),
            link=link,
            urgent=True,
        )
        notify(
            recipients=force_liaisons(inspection),
            subject=f"Child at risk: case {case.reference} referred back by the inspectorate",
            body=(
                f"During {inspection.reference}, inspectors found that the child in your case "
                f"{case.reference} appears to be at risk now. Acknowledge this referral at "
                "once and record the action the force has taken."
            ),
            link=link,
            urgent=True,
        )
        _changed()
    return referral


def _referral_step(
    *, actor: Actor, referral: Referral, to: str, text_field: str = "", text: str = ""
) -> Referral:
    order = [s.value for s in Referral.Status]
    with transaction.atomic():
        current = Referral.objects.select_for_update().get(pk=referral.pk)
        if order.index(to) <= order.index(current.status):
            raise FieldworkError(
                f"This referral is already '{current.get_status_display()}'; reload the page."
            )
        before = audit_snapshot(current)
        now = timezone.now()
        if to in ("actioned", "closed") and current.acknowledged_at is None:
            current.acknowledged_at, current.acknowledged_by = now, actor
        setattr(current, f"{to}_at", now)  # acknowledged_at, actioned_at, closed_at
        setattr(current, f"{to}_by", actor)
        if text_field:
            setattr(current, text_field, text)
        current.status = to
        current.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            before=before,
            after=audit_snapshot(current),
            summary=f"Referral {current.get_status_display().lower()}",
        )
        if to != Referral.Status.CLOSED:
            notify(
                recipients=lead_inspectors(current.inspection),
                subject=(
                    f"{current.inspection.reference}: referral for case {current.reference} "
                    f"{current.get_status_display().lower()}"
                ),
                body=f"The referral for case {current.reference} is now: "
                f"{current.get_status_display()}.",
                link=reverse("fieldwork:referral", args=[current.inspection_id, current.pk]),
            )
        _changed()
    return current


def referral_acknowledge(*, actor: Actor, referral: Referral) -> Referral:
    return _referral_step(actor=actor, referral=referral, to=Referral.Status.ACKNOWLEDGED)


def referral_record_action(*, actor: Actor, referral: Referral, action: str) -> Referral:
    if not action.strip():
        raise FieldworkError({"force_action": ["Describe what the force has done."]})
    return _referral_step(
        actor=actor,
        referral=referral,
        to=Referral.Status.ACTIONED,
        text_field="force_action",
        text=action.strip(),
    )


def referral_close(*, actor: Actor, referral: Referral, note: str) -> Referral:
    if not note.strip():
        raise FieldworkError({"closing_note": ["Say why the referral can be closed."]})
    if referral.status != Referral.Status.ACTIONED:
        raise FieldworkError("Close a referral once the force has recorded its action.")
    return _referral_step(
        actor=actor,
        referral=referral,
        to=Referral.Status.CLOSED,
        text_field="closing_note",
        text=note.strip(),
    )
