"""Every change the services make is in the audit trail, with its actor."""

from __future__ import annotations

from apps.accounts.models import User
from apps.core.models import AuditEvent
from apps.inspections.models import Inspection, StateChange, TeamMember


def events(action: str, object_type: str) -> set[str]:
    return set(
        AuditEvent.objects.filter(action=action, object_type=object_type).values_list(
            "object_id", flat=True
        )
    )


def test_every_inspection_team_place_and_step_is_audited(world):
    inspections = {str(pk) for pk in Inspection.objects.values_list("pk", flat=True)}
    assert inspections and events("create", "inspections.inspection") == inspections
    members = {str(pk) for pk in TeamMember.objects.values_list("pk", flat=True)}
    assert members and events("create", "inspections.teammember") == members
    steps = StateChange.objects.exclude(from_state="")
    transitions = AuditEvent.objects.filter(action="transition")
    assert steps.count() == transitions.count() > 0
    for step in steps:
        event = transitions.get(
            object_id=str(step.inspection_id), summary__contains=step.on.strftime("%-d %B %Y")
        )
        assert event.actor_label == step.by_label
    assert not AuditEvent.objects.filter(actor_label="").exists()


def test_changes_made_through_pages_are_attributed_to_the_person(client, world):
    lead: User = world.users["lead"]
    client.force_login(lead)
    inspection = world.planned_a
    client.post(
        f"/inspections/{inspection.pk}/plan/",
        {
            "version": inspection.version,
            "title": "Renamed by the lead",
            "fieldwork_start": "2026-12-07",
            "fieldwork_end": "2026-12-18",
        },
    )
    client.post(f"/inspections/{inspection.pk}/step/", {"target": "notified", "on": "2026-11-20"})
    latest = AuditEvent.objects.filter(object_id=str(inspection.pk)).order_by("-id")[:2]
    assert [e.action for e in latest] == ["transition", "update"]
    assert all(e.actor == lead for e in latest)
