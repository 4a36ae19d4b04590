"""Who may see and do what in fieldwork.

Everything starts from `inspections_visible_to` (an inspection someone cannot see is a 404).
Then:
- case-level records (the sample, audits, evidence notes) are for the inspection's own
  inspectors and lead inspector only;
- second marking is blind: until both marks of a selected case are submitted, its audit
  is seen only by its own auditor and the lead inspector, and its second marking only by
  its own marker and the lead inspector;
- aggregate results and agreement statistics are for inspectorate staff who can see the
  inspection (programme managers and analysts included);
- the inspected force's liaison officers may upload the case list and see and answer the
  child at risk referrals about their own force, and nothing else of fieldwork.
"""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Role
from apps.inspections.models import Inspection, TeamMember, TeamRole
from apps.inspections.permissions import can_view_inspection

from .models import CaseAudit, Referral

AUDITING_ROLES = (TeamRole.LEAD_INSPECTOR, TeamRole.INSPECTOR)


def team_role(user: Any, inspection: Inspection) -> str | None:
    """The person's role on the inspection's team, or None. Remembered on the user object,
    which lives for one request, since a page asks several permission questions."""
    if not getattr(user, "is_authenticated", False):
        return None
    remembered: dict[int, str | None] = user.__dict__.setdefault("_fieldwork_team_roles", {})
    if inspection.pk not in remembered:
        remembered[inspection.pk] = (
            TeamMember.objects.filter(inspection=inspection, user=user)
            .values_list("role", flat=True)
            .first()
        )
    return remembered[inspection.pk]


def is_force_liaison_of(user: Any, inspection: Inspection) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and user.role == Role.FORCE_LIAISON
        and user.own_force_id is not None
        and can_view_inspection(user, inspection)
    )


def can_see_fieldwork(user: Any, inspection: Inspection) -> bool:
    """The fieldwork overview: staff who can see the inspection, and the force's liaisons."""
    if not can_view_inspection(user, inspection):
        return False
    return user.is_inspectorate_staff or is_force_liaison_of(user, inspection)


def can_audit(user: Any, inspection: Inspection) -> bool:
    """Read the sample and record case audits: the inspection's inspectors and lead."""
    return team_role(user, inspection) in AUDITING_ROLES


def can_lead(user: Any, inspection: Inspection) -> bool:
    """Draw the sample, set moderation, agree grades, close referrals: the lead inspector."""
    return team_role(user, inspection) == TeamRole.LEAD_INSPECTOR


def can_upload_case_list(user: Any, inspection: Inspection) -> bool:
    return can_audit(user, inspection) or is_force_liaison_of(user, inspection)


def reads_results(user: Any) -> bool:
    """Whether the person's role may read aggregate results (of inspections they can see)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_inspectorate_staff)


def _second_marking_open(audit: CaseAudit) -> bool:
    """Is the case selected for second marking with either mark not yet submitted? Until
    both are in, each mark is seen only by its own marker and the lead inspector, so neither
    marker can be swayed by the other."""
    case = audit.sampled_case
    if not case.for_moderation:
        return False
    submitted = CaseAudit.objects.filter(
        sampled_case=case, status=CaseAudit.Status.SUBMITTED
    ).count()
    return submitted < 2


def can_view_audit(user: Any, audit: CaseAudit) -> bool:
    role = team_role(user, audit.inspection)
    if role not in AUDITING_ROLES:
        return False
    if audit.auditor_id == user.pk or role == TeamRole.LEAD_INSPECTOR:
        return True
    return not _second_marking_open(audit)


def can_edit_audit(user: Any, audit: CaseAudit) -> bool:
    """The auditor, or (not for a blind second marking) the lead inspector."""
    role = team_role(user, audit.inspection)
    if role not in AUDITING_ROLES:
        return False
    if audit.auditor_id == user.pk:
        return True
    return role == TeamRole.LEAD_INSPECTOR and audit.kind == CaseAudit.Kind.PRIMARY


def can_view_referral(user: Any, referral: Referral) -> bool:
    return can_see_referrals(user, referral.inspection)


def can_see_referrals(user: Any, inspection: Inspection) -> bool:
    """The team's inspectors, programme managers, and the inspected force's liaisons."""
    if team_role(user, inspection) in AUDITING_ROLES:
        return True
    if getattr(user, "is_authenticated", False) and user.role == Role.PROGRAMME_MANAGER:
        return can_view_inspection(user, inspection)
    return is_force_liaison_of(user, inspection)


def can_answer_referral(user: Any, referral: Referral) -> bool:
    """Acknowledge and record the force's action: the force, or the lead inspector on its
    behalf (for instance after a phone call)."""
    return is_force_liaison_of(user, referral.inspection) or can_lead(user, referral.inspection)
