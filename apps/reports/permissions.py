"""Who may do what with an inspection's report.

- Read the draft, its history and its disclosure check: inspectorate staff who can see the
  inspection (as for the findings register).
- Write the draft and resolve disclosure hits: the team's lead inspector and inspectors.
- Sign off quality assurance: a lead inspector on the team (the inspection's lead, or another
  lead inspector added to the team for the purpose) who wrote none of the draft's text.
- Publish: whoever the lifecycle allows to record publication (the programme manager).
"""

from __future__ import annotations

from typing import Any

from apps.accounts.models import Role
from apps.fieldwork.permissions import AUDITING_ROLES, team_role
from apps.findings.models import Finding
from apps.findings.permissions import can_read_findings
from apps.inspections.lifecycle import PM, step_for
from apps.inspections.models import Inspection, State, TeamRole

from .models import Report, SectionRevision

DRAFTING_STATES = frozenset(
    {
        State.FIELDWORK,
        State.REPORTING,
        State.QUALITY_ASSURANCE,
        State.PUBLISHED,
        State.FOLLOW_UP,
    }
)
REPUBLISH_STATES = frozenset({State.PUBLISHED, State.FOLLOW_UP, State.CLOSED})


def can_read_report(user: Any, inspection: Inspection) -> bool:
    return can_read_findings(user, inspection)


def can_write_report(user: Any, inspection: Inspection) -> bool:
    return team_role(user, inspection) in AUDITING_ROLES


def authors(report: Report) -> set[int]:
    """Everyone who wrote any of it: a revision of a section, or a finding of its register."""
    written = set(
        SectionRevision.objects.filter(section__report=report)
        .exclude(by=None)
        .values_list("by_id", flat=True)
    )
    findings = Finding.objects.filter(inspection_id=report.inspection_id)
    return (
        written
        | set(findings.values_list("created_by_id", flat=True))
        | set(findings.values_list("updated_by_id", flat=True))
    )


def sign_off_refusal(user: Any, report: Report) -> str | None:
    """Why the person cannot sign off the report's quality assurance, or None if they can."""
    role = team_role(user, report.inspection)
    is_lead = role == TeamRole.LEAD_INSPECTOR or (
        role in AUDITING_ROLES and user.role == Role.LEAD_INSPECTOR
    )
    if not is_lead:
        return "Only a lead inspector on the inspection's team can sign off quality assurance."
    if user.pk in authors(report):
        return (
            "You wrote part of this report (its text or its findings), so someone else must "
            "sign it off: quality assurance needs a lead inspector who did not write it."
        )
    return None


def can_publish(user: Any, inspection: Inspection) -> bool:
    """Publication follows the lifecycle's rule for recording publication."""
    if not getattr(user, "is_authenticated", False):
        return False
    step = step_for(State.QUALITY_ASSURANCE, State.PUBLISHED)
    assert step is not None
    return (
        PM in step.who and user.role == Role.PROGRAMME_MANAGER and can_read_report(user, inspection)
    )
