from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.core.audit import SystemActor
from apps.core.models import AuditEvent
from apps.inspections import services
from apps.inspections.models import Inspection, ProgrammeType, StateChange
from tests.factories import MethodologyFactory

from .conftest import SYSTEM


def test_create_records_audit_with_after_values(world):
    event = AuditEvent.objects.get(
        action="create", object_type="inspections.inspection", object_id=str(world.ncpi_a.pk)
    )
    assert event.actor_label == "system:tests"
    assert event.changes["title"] == [None, "Northshire NCPI"]
    assert event.changes["forces"] == [None, [world.force_a.pk]]
    # Encrypted text never reaches the trail.
    assert event.changes["confidential_notes"] == ["", "(encrypted)"]
    assert "Sensitive" not in str(event.changes)


def test_reference_numbers_follow_type_and_year(world):
    assert world.ncpi_a.reference == "NCPI-2026-001"
    assert world.planned_a.reference == "NCPI-2026-002"
    assert world.jtai_a.reference == "JTAI-2026-001"


def test_joint_inspection_takes_forces_from_areas_and_default_partners(world):
    assert list(world.jtai_a.forces.all()) == [world.force_a]
    assert world.jtai_a.lead_inspectorate.code == "ofsted"
    assert {i.code for i in world.jtai_a.partner_inspectorates.all()} == {"police", "cqc"}
    assert world.jicpa.lead_inspectorate.code == "ciw"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"programme_type": ProgrammeType.NCPI, "forces": "two"}, "forces", "exactly one force"),
        ({"programme_type": ProgrammeType.NCPI, "forces": []}, "forces", "exactly one force"),
        ({"programme_type": ProgrammeType.THEMATIC, "forces": "one"}, "forces", "at least two"),
        ({"programme_type": ProgrammeType.JTAI}, "local_authorities", "Choose the local"),
        (
            {"programme_type": ProgrammeType.JTAI, "areas": "welsh"},
            "local_authorities",
            "England only",
        ),
        (
            {"programme_type": ProgrammeType.JICPA, "areas": "english"},
            "local_authorities",
            "Wales only",
        ),
        (
            {"programme_type": ProgrammeType.NCPI_REVIEW, "forces": "one"},
            "follows",
            "Choose the inspection this one follows up",
        ),
        (
            {
                "programme_type": ProgrammeType.NCPI_REVIEW,
                "forces": "one",
                "follows": "unpublished",
            },
            "follows",
            "has not been published",
        ),
        (
            {
                "programme_type": ProgrammeType.NCPI,
                "forces": "one",
                "fieldwork_start": dt.date(2026, 5, 2),
                "fieldwork_end": dt.date(2026, 5, 1),
            },
            "fieldwork_end",
            "on or after",
        ),
    ],
)
def test_create_refuses_bad_scope_and_stores_nothing(world, kwargs, field, message):
    kwargs = dict(kwargs)
    forces = {"one": [world.force_a], "two": [world.force_a, world.force_b]}
    areas = {"welsh": [world.welsh_area], "english": [world.area_a]}
    if isinstance(kwargs.get("forces"), str):
        kwargs["forces"] = forces[kwargs["forces"]]
    if "areas" in kwargs:
        kwargs["local_authorities"] = areas[kwargs.pop("areas")]
    if kwargs.get("follows") == "unpublished":
        kwargs["follows"] = world.ncpi_a
    before = (Inspection.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as caught:
        services.inspection_create(
            actor=SYSTEM, title="Bad", methodology=MethodologyFactory(), **kwargs
        )
    assert message in " ".join(caught.value.message_dict[field])
    assert (Inspection.objects.count(), AuditEvent.objects.count()) == before


def test_methodology_must_suit_programme_type(world):
    jtai_only = MethodologyFactory(code="jtai-only", programme_types=["jtai"])
    with pytest.raises(ValidationError) as caught:
        services.inspection_create(
            actor=SYSTEM,
            title="x",
            programme_type=ProgrammeType.NCPI,
            methodology=jtai_only,
            forces=[world.force_a],
        )
    assert "methodology" in caught.value.message_dict


def test_follow_up_links_to_published_inspection(world):
    manager = world.users["manager"]
    original = world.ncpi_a
    Inspection.objects.filter(pk=original.pk).update(
        state="published", state_changed_on=dt.date(2026, 5, 1)
    )
    original.refresh_from_db()
    review = services.inspection_create(
        actor=manager,
        title="Review",
        programme_type=ProgrammeType.NCPI_REVIEW,
        methodology=original.methodology,
        forces=[world.force_a],
        follows=original,
    )
    assert review.follows == original
    assert list(original.follow_ups.all()) == [review]
    with pytest.raises(ValidationError) as caught:
        services.inspection_create(
            actor=manager,
            title="Wrong force",
            programme_type=ProgrammeType.NCPI_REVIEW,
            methodology=original.methodology,
            forces=[world.force_b],
            follows=original,
        )
    assert "same force" in " ".join(caught.value.message_dict["forces"])


def test_update_uses_optimistic_locking(world):
    inspection = world.ncpi_a
    first = services.inspection_update(
        actor=world.users["lead"],
        inspection=inspection,
        expected_version=inspection.version,
        title="First",
    )
    assert first.version == inspection.version + 1
    with pytest.raises(services.ConcurrentEditError) as caught:
        services.inspection_update(
            actor=world.users["manager"],
            inspection=inspection,
            expected_version=inspection.version,
            title="Second",
        )
    assert "changed by someone else" in str(caught.value)
    inspection.refresh_from_db()
    assert inspection.title == "First"
    event = AuditEvent.objects.filter(action="update", object_id=str(inspection.pk)).get()
    assert event.changes["title"] == ["Northshire NCPI", "First"]
    assert event.actor == world.users["lead"]


def test_concurrent_edit_through_the_page_shows_a_clear_message(client, world):
    inspection = world.ncpi_a
    stale_version = inspection.version
    services.inspection_update(
        actor=world.users["manager"],
        inspection=inspection,
        expected_version=stale_version,
        title="Manager's title",
    )
    client.force_login(world.users["lead"])
    response = client.post(
        f"/inspections/{inspection.pk}/plan/", {"version": stale_version, "title": "Lead's title"}
    )
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    inspection.refresh_from_db()
    assert inspection.title == "Manager's title"


def test_plan_form_errors_change_nothing(client, world):
    inspection = world.ncpi_a
    client.force_login(world.users["lead"])
    response = client.post(
        f"/inspections/{inspection.pk}/plan/",
        {
            "version": inspection.version,
            "title": "",
            "fieldwork_start": "2026-12-10",
            "fieldwork_end": "2026-12-01",
        },
    )
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Enter a title" in page
    assert "Fieldwork must end on or after the day it starts" in page
    assert 'href="#id_title"' in page
    inspection.refresh_from_db()
    assert inspection.title == "Northshire NCPI"


def test_failed_change_leaves_no_audit_event(world):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.inspection_update(
            actor=world.users["lead"],
            inspection=world.ncpi_a,
            expected_version=world.ncpi_a.version,
            fieldwork_start=dt.date(2027, 1, 10),
            fieldwork_end=dt.date(2027, 1, 1),
        )
    assert AuditEvent.objects.count() == before
    world.ncpi_a.refresh_from_db()
    assert world.ncpi_a.fieldwork_start == dt.date(2026, 12, 7)


def test_team_rules(world):
    lead, partner = world.users["lead"], world.users["partner"]
    with pytest.raises(ValidationError) as caught:
        services.team_member_add(
            actor=SYSTEM, inspection=world.ncpi_b, user=partner, role="partner_inspector"
        )
    assert "joint inspections only" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        services.team_member_add(
            actor=SYSTEM, inspection=world.ncpi_b, user=lead, role="lead_inspector"
        )
    assert "already has a lead inspector" in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        services.team_member_add(actor=SYSTEM, inspection=world.ncpi_a, user=lead, role="inspector")
    assert "already on the team" in str(caught.value)
    with pytest.raises(ValidationError):
        services.team_member_add(
            actor=SYSTEM, inspection=world.ncpi_a, user=world.users["liaison"], role="inspector"
        )


def test_team_remove_is_audited(client, world):
    member = world.ncpi_a.team.get(user=world.users["inspector"])
    client.force_login(world.users["lead"])
    response = client.post(f"/inspections/{world.ncpi_a.pk}/team/{member.pk}/remove/")
    assert response.status_code == 302
    assert not world.ncpi_a.team.filter(user=world.users["inspector"]).exists()
    event = AuditEvent.objects.get(action="delete", object_type="inspections.teammember")
    assert event.actor == world.users["lead"]
    assert "Removed" in event.summary


def test_create_through_the_page(client, world):
    client.force_login(world.users["manager"])
    methodology = world.ncpi_a.methodology
    response = client.post(
        "/inspections/new/",
        {
            "programme_type": "thematic",
            "title": "Online abuse thematic",
            "methodology": methodology.pk,
            "forces": [world.force_a.pk, world.force_b.pk],
            "fieldwork_start": "2027-02-01",
            "fieldwork_end": "2027-03-12",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Inspection.objects.get(title="Online abuse thematic")
    assert created.reference == "THEM-2027-001"
    assert set(created.forces.all()) == {world.force_a, world.force_b}
    assert AuditEvent.objects.filter(
        action="create", object_id=str(created.pk), actor=world.users["manager"]
    ).exists()


def test_create_page_shows_service_errors(client, world):
    client.force_login(world.users["manager"])
    response = client.post(
        "/inspections/new/",
        {
            "programme_type": "ncpi",
            "title": "Two forces",
            "methodology": world.ncpi_a.methodology.pk,
            "forces": [world.force_a.pk, world.force_b.pk],
        },
    )
    assert response.status_code == 200
    assert "exactly one force" in response.content.decode()
    assert not Inspection.objects.filter(title="Two forces").exists()


def test_system_actor_and_state_history(world):
    changes = list(StateChange.objects.filter(inspection=world.ncpi_a).order_by("on", "id"))
    assert [(c.from_state, c.to_state) for c in changes] == [
        ("", "planned"),
        ("planned", "notified"),
    ]
    assert changes[1].on == dt.date(2026, 11, 2)
    assert changes[1].by == world.users["manager"]


def test_confidential_notes_are_encrypted_in_the_database(world):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT confidential_notes FROM inspections_inspection WHERE id = %s", [world.ncpi_a.pk]
        )
        raw = cursor.fetchone()[0]
    assert "Sensitive" not in raw
    assert Inspection.objects.get(pk=world.ncpi_a.pk).confidential_notes.startswith("Sensitive")


def test_actor_is_required(world):
    with pytest.raises(ValueError, match="actor"):
        services.inspection_update(
            actor=None, inspection=world.ncpi_a, expected_version=world.ncpi_a.version, title="x"
        )


def test_system_actor_label():
    assert str(SystemActor("load_reference")) == "system:load_reference"
