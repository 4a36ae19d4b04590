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


def test_audit_search_and_export(client, world):
    import csv
    import io

    client.force_login(world.users["manager"])
    reference = world.ncpi_a.reference
    page = client.get("/audit/", {"text": reference, "action": "transition"}).content.decode()
    assert "Moved to a new stage" in page
    assert world.ncpi_b.reference not in page

    response = client.get("/audit/export.csv", {"text": reference})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and all(reference in row["object_repr"] + row["summary"] for row in rows)
    assert {row["action"] for row in rows} >= {"create", "transition"}
    assert "Sensitive planning note" not in str(rows)
    # The export itself is audited.
    export = AuditEvent.objects.get(action="export")
    assert export.actor == world.users["manager"]
    assert reference in export.summary

    bad = client.get("/audit/", {"date_from": "2026-12-01", "date_to": "2026-11-01"})
    assert "must be the same as or after" in bad.content.decode()
