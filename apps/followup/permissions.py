"""Who may see and do what in follow-up.

- Reading an inspection's follow-up (plans, updates, evidence files, comments): the
  inspectorate's own staff, and force liaisons of the inspected force. Never partner
  inspectors, other forces or the public: the public sees the published statuses only, on
  the portal.
- The force's side (responses, action plans, progress updates, comments as the force): force
  liaisons of that force, and only while the recommendation is open.
- The inspectorate's side: reviewing plans and choosing the follow-up route is for the
  programme manager or the inspection's lead inspector; assessing and closing
  recommendations also for inspectors on the team of the inspection or of its follow-up;
  closing a cause of concern by letter for the programme manager or the lead.
- The national tracker: inspectorate staff.
- API keys: programme managers and administrators for every force, force liaisons for their
  own force.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from apps.accounts.models import Role
from apps.findings.models import Finding, Kind
from apps.inspections.models import Inspection, State, TeamMember, TeamRole

FOLLOW_UP_STATES = frozenset({State.PUBLISHED, State.FOLLOW_UP, State.CLOSED})


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def inspections_in_follow_up_visible_to(user: Any) -> QuerySet[Inspection]:
    """Published inspections whose follow-up the person may read."""
    published = Inspection.objects.filter(
        state__in=FOLLOW_UP_STATES, follow_up_record__isnull=False
    )
    if not _signed_in(user):
        return published.none()
    if user.is_inspectorate_staff:
        return published
    if user.role == Role.FORCE_LIAISON and user.own_force_id:
        return published.filter(forces=user.own_force_id)
    return published.none()


def recommendations_visible_to(user: Any) -> QuerySet[Finding]:
    """Published recommendations (and causes of concern) the person may follow up."""
    return Finding.objects.filter(
        inspection__in=inspections_in_follow_up_visible_to(user),
        kind__in=[Kind.RECOMMENDATION, Kind.CAUSE_OF_CONCERN],
    )


def can_read_follow_up(user: Any, inspection: Inspection) -> bool:
    return inspections_in_follow_up_visible_to(user).filter(pk=inspection.pk).exists()


def is_force_of(user: Any, inspection: Inspection) -> bool:
    """A force liaison of the inspected force."""
    return bool(
        _signed_in(user)
        and user.role == Role.FORCE_LIAISON
        and user.own_force_id
        and inspection.forces.filter(pk=user.own_force_id).exists()
    )


def _team_q(inspection: Inspection) -> Q:
    """The inspection's team, or the team of a review or re-inspection that follows it."""
    return Q(inspection=inspection) | Q(inspection__follows=inspection)


def can_manage_follow_up(user: Any, inspection: Inspection) -> bool:
    """Review action plans, choose the route, close causes of concern."""
    if not _signed_in(user):
        return False
    if user.role == Role.PROGRAMME_MANAGER:
        return True
    return TeamMember.objects.filter(
        _team_q(inspection), user=user, role=TeamRole.LEAD_INSPECTOR
    ).exists()


def can_choose_route(user: Any, inspection: Inspection) -> bool:
    """Choose (or change) the follow-up. While the inspection is only published, choosing
    moves it into follow-up, which is the programme manager's or its own lead inspector's
    step (apps/inspections/lifecycle.py); once it is in follow-up, whoever manages the
    follow-up (the lead of a review that follows it too) may change the choice."""
    if not _signed_in(user):
        return False
    if user.role == Role.PROGRAMME_MANAGER:
        return True
    if inspection.state != State.PUBLISHED:
        return can_manage_follow_up(user, inspection)
    return TeamMember.objects.filter(
        inspection=inspection, user=user, role=TeamRole.LEAD_INSPECTOR
    ).exists()


def can_assess(user: Any, inspection: Inspection) -> bool:
    """Assess and close recommendations, and comment as the inspectorate."""
    if not _signed_in(user):
        return False
    if user.role == Role.PROGRAMME_MANAGER:
        return True
    return TeamMember.objects.filter(
        _team_q(inspection),
        user=user,
        role__in=[TeamRole.LEAD_INSPECTOR, TeamRole.INSPECTOR],
    ).exists()


def can_use_tracker(user: Any) -> bool:
    return _signed_in(user) and user.is_inspectorate_staff


def can_manage_tokens_of(user: Any, force_id: int) -> bool:
    if not _signed_in(user):
        return False
    if user.role in (Role.PROGRAMME_MANAGER, Role.ADMINISTRATOR):
        return True
    return user.role == Role.FORCE_LIAISON and user.own_force_id == force_id
