"""Who may see and do what with an inspection.

One queryset, `inspections_visible_to`, is the single source of truth for visibility: lists
filter through it and single-object checks ask it, so a page and a list can never disagree.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.accounts.models import Role

from .models import JOINT_TYPES, Inspection, State, TeamMember, TeamRole


def inspections_visible_to(user: Any) -> QuerySet[Inspection]:
    inspections = Inspection.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return inspections.none()
    if user.has_perm("inspections.view_all_inspections"):
        return inspections
    on_team = TeamMember.objects.filter(user=user).values("inspection_id")
    if user.role in (Role.LEAD_INSPECTOR, Role.INSPECTOR):
        return inspections.filter(id__in=on_team)
    if user.role == Role.PARTNER_INSPECTOR:
        return inspections.filter(id__in=on_team, programme_type__in=JOINT_TYPES)
    if user.role == Role.FORCE_LIAISON and user.own_force_id:
        # A force learns of an inspection when it is notified, not while it is being planned.
        return inspections.filter(forces=user.own_force_id).exclude(state=State.PLANNED)
    return inspections.none()


def can_view_inspection(user: Any, inspection: Inspection) -> bool:
    return inspections_visible_to(user).filter(pk=inspection.pk).exists()


def is_lead_inspector_of(user: Any, inspection: Inspection) -> bool:
    return TeamMember.objects.filter(
        inspection=inspection, user=user, role=TeamRole.LEAD_INSPECTOR
    ).exists()


def can_manage_inspection(user: Any, inspection: Inspection) -> bool:
    """Change the plan and the team: the programme manager, or the inspection's lead."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role == Role.PROGRAMME_MANAGER or is_lead_inspector_of(user, inspection)


def can_read_confidential_notes(user: Any, inspection: Inspection) -> bool:
    """Inspectorate staff who can see the inspection; never forces or partners."""
    return user.is_inspectorate_staff and can_view_inspection(user, inspection)


def can_create_inspection(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(
        "inspections.add_inspection"
    )
