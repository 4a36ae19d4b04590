"""Writes about inspections. Each takes the acting user and records the change in the audit
trail in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.core.audit import Actor, actor_fields, audit_record, audit_snapshot
from apps.core.cache import data_changed
from apps.core.models import AuditEvent
from apps.frameworks.models import MethodologyVersion
from apps.reference.models import Country, Force, Inspectorate, LocalAuthority

from .lifecycle import check_transition
from .models import (
    FOLLOW_UP_TYPES,
    SINGLE_FORCE_TYPES,
    Inspection,
    ProgrammeType,
    StateChange,
    TeamMember,
    TeamRole,
)

REFERENCE_PREFIX = {
    ProgrammeType.NCPI: "NCPI",
    ProgrammeType.NCPI_REVIEW: "PIR",
    ProgrammeType.NCPI_REINSPECTION: "NCPIR",
    ProgrammeType.JTAI: "JTAI",
    ProgrammeType.JICPA: "JICPA",
    ProgrammeType.THEMATIC: "THEM",
    ProgrammeType.OTHER: "OTH",
}

# Who leads each programme, and who joins by default (the lead can change the partners).
LEAD_INSPECTORATE = {ProgrammeType.JTAI: "ofsted", ProgrammeType.JICPA: "ciw"}
DEFAULT_PARTNERS = {
    ProgrammeType.JTAI: ("police", "cqc"),
    ProgrammeType.JICPA: ("police", "hiw", "estyn"),
}


class ConcurrentEditError(Exception):
    """Someone else changed the record since this person loaded it."""

    def __init__(self, inspection: Inspection) -> None:
        super().__init__(
            f"{inspection.reference} was changed by someone else while you were editing it. "
            "Your changes have not been saved: reload the page to see the latest version, "
            "then make your changes again."
        )


class TransitionRefused(ValidationError):
    pass


def _next_reference(programme_type: str, year: int) -> str:
    prefix = f"{REFERENCE_PREFIX[ProgrammeType(programme_type)]}-{year}-"
    taken = Inspection.objects.filter(reference__startswith=prefix).values_list(
        "reference", flat=True
    )
    numbers = [int(r.rsplit("-", 1)[1]) for r in taken if r.rsplit("-", 1)[1].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def _validate_scope(
    *,
    programme_type: str,
    forces: list[Force],
    local_authorities: list[LocalAuthority],
    follows: Inspection | None,
    methodology: MethodologyVersion,
    fieldwork_start: dt.date | None,
    fieldwork_end: dt.date | None,
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def error(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if programme_type in SINGLE_FORCE_TYPES:
        if len(forces) != 1:
            error("forces", "A force inspection is of exactly one force: choose one.")
        if local_authorities:
            error("local_authorities", "A force inspection is not of local authority areas.")
    elif programme_type in (ProgrammeType.JTAI, ProgrammeType.JICPA):
        country = Country.ENGLAND if programme_type == ProgrammeType.JTAI else Country.WALES
        name = "JTAI" if programme_type == ProgrammeType.JTAI else "JICPA"
        if not local_authorities:
            error("local_authorities", f"Choose the local authority area or areas of the {name}.")
        wrong = [la.name for la in local_authorities if la.country != country]
        if wrong:
            error(
                "local_authorities",
                f"A {name} is of areas in {Country(country).label} only; not "
                + ", ".join(wrong)
                + ".",
            )
    elif programme_type == ProgrammeType.THEMATIC:
        if len(forces) < 2:
            error("forces", "A thematic inspection covers several forces: choose at least two.")
    elif not forces:
        error("forces", "Choose the force or forces inspected.")

    if programme_type in FOLLOW_UP_TYPES:
        if follows is None:
            error("follows", "Choose the inspection this one follows up.")
        else:
            if follows.programme_type not in SINGLE_FORCE_TYPES:
                error("follows", "A review or re-inspection follows a force inspection.")
            if follows.state not in ("published", "follow_up", "closed"):
                error("follows", f"{follows.reference} has not been published yet.")
            if forces and set(follows.forces.all()) != set(forces):
                error("forces", f"It must be of the same force as {follows.reference}.")
    if programme_type not in methodology.programme_types:
        error(
            "methodology",
            f"{methodology.title} is not a methodology for {ProgrammeType(programme_type).label}.",
        )
    if fieldwork_start and fieldwork_end and fieldwork_end < fieldwork_start:
        error("fieldwork_end", "Fieldwork must end on or after the day it starts.")
    return errors


def _inspectorate(code: str) -> Inspectorate:
    try:
        return Inspectorate.objects.get(code=code)
    except Inspectorate.DoesNotExist as exc:
        raise ValidationError(
            f"The inspectorate '{code}' is missing from the reference data: run load_reference."
        ) from exc


def _m2m_ids(inspection: Inspection) -> dict[str, list[int]]:
    return {
        "forces": sorted(inspection.forces.values_list("id", flat=True)),
        "local_authorities": sorted(inspection.local_authorities.values_list("id", flat=True)),
        "partner_inspectorates": sorted(
            inspection.partner_inspectorates.values_list("id", flat=True)
        ),
    }


def inspection_create(
    *,
    actor: Actor,
    title: str,
    programme_type: str,
    methodology: MethodologyVersion,
    forces: Iterable[Force] = (),
    local_authorities: Iterable[LocalAuthority] = (),
    partner_inspectorates: Iterable[Inspectorate] | None = None,
    follows: Inspection | None = None,
    theme: str = "",
    fieldwork_start: dt.date | None = None,
    fieldwork_end: dt.date | None = None,
    planned_publication: dt.date | None = None,
    confidential_notes: str = "",
    reference: str = "",
    planned_on: dt.date | None = None,
) -> Inspection:
    """Plan an inspection. `planned_on` (default today) dates the first lifecycle step."""
    planned_on = planned_on or timezone.localdate()
    forces = list(forces)
    local_authorities = list(local_authorities)
    if local_authorities and not forces:
        # A joint inspection of areas involves the forces that police them.
        forces = list({la.force_id: la.force for la in local_authorities}.values())
    errors = _validate_scope(
        programme_type=programme_type,
        forces=forces,
        local_authorities=local_authorities,
        follows=follows,
        methodology=methodology,
        fieldwork_start=fieldwork_start,
        fieldwork_end=fieldwork_end,
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        lead = _inspectorate(LEAD_INSPECTORATE.get(ProgrammeType(programme_type), "police"))
        if partner_inspectorates is None:
            partner_inspectorates = [
                _inspectorate(code)
                for code in DEFAULT_PARTNERS.get(ProgrammeType(programme_type), ())
            ]
        year = (fieldwork_start or timezone.localdate()).year
        inspection = Inspection(
            reference=reference or _next_reference(programme_type, year),
            title=title,
            programme_type=programme_type,
            theme=theme,
            methodology=methodology,
            lead_inspectorate=lead,
            follows=follows,
            fieldwork_start=fieldwork_start,
            fieldwork_end=fieldwork_end,
            planned_publication=planned_publication,
            confidential_notes=confidential_notes,
            state_changed_on=planned_on,
        )
        inspection.full_clean(exclude=["forces", "local_authorities", "partner_inspectorates"])
        inspection.save()
        inspection.forces.set(forces)
        inspection.local_authorities.set(local_authorities)
        inspection.partner_inspectorates.set(partner_inspectorates)
        StateChange.objects.create(
            inspection=inspection,
            from_state="",
            to_state=inspection.state,
            on=planned_on,
            **_recorded_by(actor),
            note="Planned",
        )
        after = audit_snapshot(inspection) | _m2m_ids(inspection)
        data_changed("inspections")
        audit_record(actor=actor, action=AuditEvent.Action.CREATE, instance=inspection, after=after)
    return inspection


PLAN_FIELDS = (
    "title",
    "theme",
    "fieldwork_start",
    "fieldwork_end",
    "planned_publication",
    "confidential_notes",
)


def inspection_update(
    *, actor: Actor, inspection: Inspection, expected_version: int, **changes: Any
) -> Inspection:
    """Change the plan. Refused if someone else saved since `expected_version` was read."""
    unknown = set(changes) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Not plan fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = Inspection.objects.select_for_update().get(pk=inspection.pk)
        if current.version != expected_version:
            raise ConcurrentEditError(current)
        before = audit_snapshot(current)
        for name, value in changes.items():
            setattr(current, name, value)
        if (
            current.fieldwork_start
            and current.fieldwork_end
            and (current.fieldwork_end < current.fieldwork_start)
        ):
            raise ValidationError(
                {"fieldwork_end": "Fieldwork must end on or after the day it starts."}
            )
        current.full_clean(exclude=["forces", "local_authorities", "partner_inspectorates"])
        updated = Inspection.objects.filter(pk=current.pk, version=expected_version).update(
            version=F("version") + 1,
            updated_at=timezone.now(),
            **{name: getattr(current, name) for name in changes},
        )
        if updated != 1:
            raise ConcurrentEditError(current)
        current.refresh_from_db()
        data_changed("inspections")
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            instance=current,
            before=before,
            after=audit_snapshot(current),
        )
    return current


def _recorded_by(actor: Actor) -> dict[str, Any]:
    by, label = actor_fields(actor)
    return {"by": by, "by_label": label}


def team_member_add(*, actor: Actor, inspection: Inspection, user: User, role: str) -> TeamMember:
    errors: dict[str, list[str]] = {}
    if role == TeamRole.PARTNER_INSPECTOR:
        if user.role != Role.PARTNER_INSPECTOR:
            errors["user"] = [f"{user} is not a partner inspector."]
        elif not inspection.is_joint:
            errors["role"] = ["Partner inspectors join joint inspections only."]
    elif role in (TeamRole.LEAD_INSPECTOR, TeamRole.INSPECTOR):
        if user.role not in (Role.LEAD_INSPECTOR, Role.INSPECTOR, Role.PROGRAMME_MANAGER):
            errors["user"] = [f"{user} is not an inspector of the inspectorate."]
    elif role == TeamRole.ANALYST and user.role != Role.ANALYST:
        errors["user"] = [f"{user} is not an analyst."]
    if (
        role == TeamRole.LEAD_INSPECTOR
        and inspection.team.filter(role=TeamRole.LEAD_INSPECTOR).exists()
    ):
        errors.setdefault("role", []).append(
            "This inspection already has a lead inspector: remove them first."
        )
    if inspection.team.filter(user=user).exists():
        errors.setdefault("user", []).append(f"{user} is already on the team.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        member = TeamMember.objects.create(inspection=inspection, user=user, role=role)
        data_changed("inspections")
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            instance=member,
            after=audit_snapshot(member),
            summary=f"Added {user} to {inspection.reference} as {member.get_role_display()}",
        )
    return member


def team_member_remove(*, actor: Actor, member: TeamMember) -> None:
    with transaction.atomic():
        before = audit_snapshot(member)
        summary = (
            f"Removed {member.user} ({member.get_role_display()}) from "
            f"{member.inspection.reference}"
        )
        data_changed("inspections")
        audit_record(
            actor=actor,
            action=AuditEvent.Action.DELETE,
            instance=member,
            before=before,
            summary=summary,
        )
        member.delete()


def inspection_transition(
    *,
    actor: Actor,
    inspection: Inspection,
    target: str,
    on: dt.date,
    note: str = "",
    today: dt.date | None = None,
) -> StateChange:
    """Take one step of the lifecycle, if the actor may and its conditions hold."""
    with transaction.atomic():
        current = Inspection.objects.select_for_update().get(pk=inspection.pk)
        reasons = check_transition(
            inspection=current,
            target=target,
            user=actor,
            on=on,
            note=note,
            today=today or timezone.localdate(),
        )
        if reasons:
            raise TransitionRefused(reasons)
        before = audit_snapshot(current)
        change = StateChange.objects.create(
            inspection=current,
            from_state=current.state,
            to_state=target,
            on=on,
            **_recorded_by(actor),
            note=note,
        )
        # The row is locked, so the new values are known without reading them back.
        moved = {
            "state": target,
            "state_changed_on": on,
            "version": current.version + 1,
            "updated_at": timezone.now(),
        }
        Inspection.objects.filter(pk=current.pk).update(**moved)
        for name, value in moved.items():
            setattr(current, name, value)
        data_changed("inspections")
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            instance=current,
            before=before,
            after=audit_snapshot(current),
            summary=f"{change.get_from_state_display()} → {change.get_to_state_display()} "
            f"on {on:%-d %B %Y}" + (f": {note}" if note else ""),
        )
    for name, value in moved.items():
        setattr(inspection, name, value)
    return change
