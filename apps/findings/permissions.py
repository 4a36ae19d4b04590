"""Who may see and change an inspection's findings and evidence.

- Reading the register: inspectorate staff who can see the inspection (its team, programme
  managers, analysts, administrators). Not forces or partners: forces see findings when the
  report is published, through the portal.
- Recording findings and evidence: the inspection's lead inspector and inspectors, until the
  report is published. After publication the register is the published record.
- Evidence notes are encrypted, and each view of them is recorded (see views).
- Sampled cases' references (an evidence item's case, the form's list of the sample) are
  case-level data: shown only to those fieldwork lets read the sample (its `can_audit`), and
  each page that shows them records the view. Everyone else reads "A sampled case".
"""

from __future__ import annotations

from typing import Any

from apps.fieldwork.permissions import AUDITING_ROLES, can_audit, team_role
from apps.inspections.models import Inspection, State
from apps.inspections.permissions import can_view_inspection

EDITABLE_STATES = frozenset({State.FIELDWORK, State.REPORTING, State.QUALITY_ASSURANCE})


def can_read_findings(user: Any, inspection: Inspection) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_inspectorate_staff
        and can_view_inspection(user, inspection)
    )


def can_record_findings(user: Any, inspection: Inspection) -> bool:
    """Whether the person is on the team as lead inspector or inspector (whatever the state:
    services refuse changes after publication with the reason)."""
    return team_role(user, inspection) in AUDITING_ROLES


def can_see_case_references(user: Any, inspection: Inspection) -> bool:
    """Whether the findings pages may show the references of the inspection's sampled cases:
    the same people as fieldwork's sample page, so the two never disagree."""
    return can_audit(user, inspection)


def register_is_open(inspection: Inspection) -> bool:
    return inspection.state in EDITABLE_STATES
