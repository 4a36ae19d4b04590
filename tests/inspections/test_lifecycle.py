"""The lifecycle's guards: who may take each step, and what must be true first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from apps.core.models import AuditEvent
from apps.inspections import services
from apps.inspections.lifecycle import STEPS, allowed_transitions
from apps.inspections.models import Inspection, State

from .conftest import TODAY


def step(world, inspection, target, on, who="manager", note=""):
    return services.inspection_transition(
        actor=world.users[who], inspection=inspection, target=target, on=on, note=note, today=TODAY
    )


def refused(world, inspection, target, on, who="manager", note=""):
    with pytest.raises(ValidationError) as caught:
        step(world, inspection, target, on, who, note)
    return " ".join(caught.value.messages)


def test_every_state_is_reachable_and_closed_is_final():
    targets = {s.target for s in STEPS}
    assert targets | {State.PLANNED} == set(State.values)
    assert not [s for s in STEPS if s.source == State.CLOSED]


def test_full_lifecycle_with_dates_and_audit(world):
    inspection = world.ncpi_a
    Inspection.objects.filter(pk=inspection.pk).update(
        fieldwork_start=dt.date(2026, 6, 1), fieldwork_end=dt.date(2026, 6, 12)
    )
    Inspection.objects.filter(pk=inspection.pk).update(state_changed_on=dt.date(2026, 5, 1))
    inspection.refresh_from_db()
    path = [
        ("fieldwork", dt.date(2026, 6, 1), "lead", ""),
        ("reporting", dt.date(2026, 6, 12), "lead", ""),
        ("quality_assurance", dt.date(2026, 8, 3), "lead", ""),
        ("reporting", dt.date(2026, 8, 10), "manager", "Case file tables need checking"),
        ("quality_assurance", dt.date(2026, 8, 20), "lead", ""),
        ("published", dt.date(2026, 10, 1), "manager", ""),
        ("follow_up", dt.date(2026, 10, 2), "lead", ""),
        ("closed", dt.date(2026, 11, 20), "manager", ""),
    ]
    for target, on, who, note in path:
        step(world, inspection, target, on, who, note)
        inspection.refresh_from_db()
        assert inspection.state == target
        assert inspection.state_changed_on == on
    history = list(inspection.state_changes.order_by("on", "id").values_list("to_state", "on"))
    assert history[-1] == ("closed", dt.date(2026, 11, 20))
    assert (
        AuditEvent.objects.filter(object_id=str(inspection.pk), action="transition").count()
        == len(path) + 1
    )  # plus the notification in the fixture


@pytest.mark.parametrize(
    ("state", "target"),
    [
        ("planned", "fieldwork"),
        ("planned", "published"),
        ("notified", "closed"),
        ("fieldwork", "published"),
        ("closed", "planned"),
        ("published", "reporting"),
    ],
)
def test_illegal_steps_are_refused_with_the_reason(world, state, target):
    inspection = world.ncpi_b
    Inspection.objects.filter(pk=inspection.pk).update(state=state)
    inspection.refresh_from_db()
    message = refused(world, inspection, target, dt.date(2026, 11, 20))
    assert "cannot move from" in message
    inspection.refresh_from_db()
    assert inspection.state == state


def test_only_programme_manager_or_this_inspections_lead(world):
    # `lead` is a lead inspector, but not of ncpi_b.
    message = refused(world, world.ncpi_b, "fieldwork", dt.date(2026, 12, 7), who="lead")
    assert "Only" in message
    message = refused(world, world.planned_a, "notified", dt.date(2026, 11, 20), who="inspector")
    assert "the inspection's lead inspector" in message


def test_publication_is_for_the_programme_manager_only(world):
    inspection = world.ncpi_a
    Inspection.objects.filter(pk=inspection.pk).update(state="quality_assurance")
    inspection.refresh_from_db()
    assert "Only the programme manager" in refused(
        world, inspection, "published", dt.date(2026, 11, 20), who="lead"
    )


def test_notification_needs_a_lead_and_dates(world):
    inspection = world.jicpa
    message = refused(world, inspection, "notified", dt.date(2026, 11, 20))
    assert "Add a lead inspector" in message
    assert "fieldwork start and end dates" in message


def test_notice_must_come_before_fieldwork(world):
    message = refused(world, world.planned_a, "notified", dt.date(2026, 12, 8))
    # 8 December is after the fieldwork start (7 December) and in the future.
    assert "on or before the fieldwork start" in message
    assert "cannot be in the future" in message


def test_dates_cannot_go_backwards(world):
    message = refused(world, world.planned_a, "notified", dt.date(2026, 8, 1))
    assert "before the last step" in message


def test_fieldwork_needs_a_team_and_its_start_date(world):
    inspection = world.ncpi_a
    assert "before its planned start" in refused(
        world, inspection, "fieldwork", dt.date(2026, 11, 20)
    )
    inspection.team.exclude(role="lead_inspector").delete()
    assert "at least one inspector" in refused(
        world, inspection, "fieldwork", dt.date(2026, 11, 20)
    )


def test_returning_a_report_needs_a_reason(world):
    inspection = world.ncpi_a
    Inspection.objects.filter(pk=inspection.pk).update(state="quality_assurance")
    inspection.refresh_from_db()
    assert "Say why" in refused(world, inspection, "reporting", dt.date(2026, 11, 20))


def test_allowed_transitions_offer_only_what_the_person_may_do(world):
    inspection = world.planned_a
    assert [
        s.target for s in allowed_transitions(inspection=inspection, user=world.users["lead"])
    ] == ["notified"]
    assert allowed_transitions(inspection=inspection, user=world.users["inspector"]) == []
    assert allowed_transitions(inspection=inspection, user=world.users["liaison"]) == []


def test_refused_step_through_the_page_shows_the_reason(client, world):
    client.force_login(world.users["manager"])
    response = client.post(
        f"/inspections/{world.jicpa.pk}/step/", {"target": "notified", "on": "2026-11-20"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Add a lead inspector to the team first." in page
    world.jicpa.refresh_from_db()
    assert world.jicpa.state == "planned"
