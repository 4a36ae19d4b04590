"""Each role sees exactly what it may, on every inspection page (object-level permissions)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.inspections.permissions import inspections_visible_to

ALL = {"ncpi_a", "planned_a", "ncpi_b", "jtai_a", "jicpa"}
VISIBLE = {
    "manager": ALL,
    "analyst": ALL,
    "admin": ALL,
    "lead": {"ncpi_a", "planned_a", "jtai_a"},
    "inspector": {"ncpi_a", "planned_a"},
    "other_inspector": {"ncpi_b"},
    "partner": {"jtai_a"},
    "liaison": {"ncpi_a", "jtai_a"},
}
# Who may change the plan and the team of each inspection.
MANAGES = {
    "manager": ALL,
    "lead": {"ncpi_a", "planned_a", "jtai_a"},
    "other_inspector": {"ncpi_b"},
}
NOTES_READERS = {"manager", "analyst", "admin", "lead", "inspector", "other_inspector"}
CASES = [(role, name) for role in VISIBLE for name in sorted(ALL)]


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_visible_queryset(world, role):
    names = {
        n
        for n in ALL
        if getattr(world, n).pk
        in set(inspections_visible_to(world.users[role]).values_list("pk", flat=True))
    }
    assert names == VISIBLE[role]


@pytest.mark.parametrize(("role", "name"), CASES)
def test_detail_page(client, world, role, name):
    client.force_login(world.users[role])
    inspection = getattr(world, name)
    response = client.get(reverse("inspections:inspection-detail", args=[inspection.pk]))
    if name in VISIBLE[role]:
        assert response.status_code == 200
        assert inspection.reference in response.content.decode()
        notes = "Sensitive planning note" in response.content.decode()
        assert notes == (role in NOTES_READERS and bool(inspection.confidential_notes))
    else:
        # Not found, not forbidden: a force must not learn a planned inspection exists.
        assert response.status_code == 404


@pytest.mark.parametrize(("role", "name"), CASES)
@pytest.mark.parametrize("page", ["inspections:inspection-plan", "inspections:team"])
def test_manage_pages(client, world, role, name, page):
    client.force_login(world.users[role])
    inspection = getattr(world, name)
    response = client.get(reverse(page, args=[inspection.pk]))
    if name not in VISIBLE[role]:
        assert response.status_code == 404
    elif name in MANAGES.get(role, set()):
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("role", "name"), CASES)
def test_plan_post_only_by_managers(client, world, role, name):
    client.force_login(world.users[role])
    inspection = getattr(world, name)
    response = client.post(
        reverse("inspections:inspection-plan", args=[inspection.pk]),
        {"version": inspection.version, "title": "Changed by " + role},
    )
    inspection.refresh_from_db()
    if name in MANAGES.get(role, set()):
        assert response.status_code == 302
        assert inspection.title == "Changed by " + role
    else:
        assert response.status_code in (403, 404)
        assert not inspection.title.startswith("Changed")


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_transition_post_refused_without_capacity(client, world, role):
    """Only the programme manager or the inspection's lead can move it on."""
    client.force_login(world.users[role])
    inspection = world.planned_a
    response = client.post(
        reverse("inspections:inspection-transition", args=[inspection.pk]),
        {"target": "notified", "on": "2026-11-20"},
    )
    inspection.refresh_from_db()
    if role in ("manager", "lead"):
        assert inspection.state == "notified", response.content.decode()[:500]
    else:
        assert response.status_code in (403, 404)
        assert inspection.state == "planned"


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_inspection_list_and_home_show_only_visible(client, world, role):
    client.force_login(world.users[role])
    listing = client.get(reverse("inspections:inspection-list")).content.decode()
    home = client.get(reverse("inspections:staff-home")).content.decode()
    for name in ALL:
        reference = getattr(world, name).reference
        assert (reference in listing) == (name in VISIBLE[role]), (role, name)
        if name not in VISIBLE[role]:
            assert reference not in home


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_create_page_only_for_programme_manager(client, world, role):
    client.force_login(world.users[role])
    response = client.get(reverse("inspections:inspection-create"))
    assert response.status_code == (200 if role == "manager" else 403)


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_audit_trail_only_for_manager_and_admin(client, world, role):
    client.force_login(world.users[role])
    allowed = role in ("manager", "admin")
    assert client.get(reverse("core:audit-list")).status_code == (200 if allowed else 403)
    assert client.get(reverse("core:audit-export")).status_code == (200 if allowed else 403)


@pytest.mark.parametrize(
    "url",
    [
        "inspections:staff-home",
        "inspections:inspection-list",
        "inspections:inspection-create",
        "core:audit-list",
    ],
)
def test_anonymous_is_sent_to_sign_in(client, world, url):
    response = client.get(reverse(url))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:sign-in"))


def test_anonymous_cannot_see_an_inspection(client, world):
    response = client.get(reverse("inspections:inspection-detail", args=[world.ncpi_a.pk]))
    assert response.status_code == 302


def test_viewing_confidential_notes_is_audited(client, world):
    client.force_login(world.users["analyst"])
    client.get(reverse("inspections:inspection-detail", args=[world.ncpi_a.pk]))
    event = AuditEvent.objects.filter(action="view", object_id=str(world.ncpi_a.pk)).get()
    assert event.actor == world.users["analyst"]
    assert "confidential" in event.summary


def test_notes_shown_with_a_refused_step_are_audited_too(client, world):
    client.force_login(world.users["manager"])
    response = client.post(
        reverse("inspections:inspection-transition", args=[world.ncpi_a.pk]),
        {"target": "fieldwork", "on": "2026-11-20"},  # before the planned fieldwork start
    )
    assert response.status_code == 400
    assert "Sensitive planning note" in response.content.decode()
    assert AuditEvent.objects.filter(
        action="view", object_id=str(world.ncpi_a.pk), actor=world.users["manager"]
    ).exists()


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_removing_a_team_member(client, world, role):
    member = world.ncpi_a.team.get(user=world.users["inspector"])
    client.force_login(world.users[role])
    response = client.post(
        reverse("inspections:team-member-remove", args=[world.ncpi_a.pk, member.pk])
    )
    still_there = world.ncpi_a.team.filter(pk=member.pk).exists()
    if "ncpi_a" in MANAGES.get(role, set()):
        assert response.status_code == 302
        assert not still_there
    else:
        assert response.status_code == (404 if "ncpi_a" not in VISIBLE[role] else 403)
        assert still_there


def test_a_member_of_another_inspection_cannot_be_removed_through_this_one(client, world):
    other = world.ncpi_b.team.first()
    client.force_login(world.users["lead"])  # lead of ncpi_a, not of ncpi_b
    response = client.post(
        reverse("inspections:team-member-remove", args=[world.ncpi_a.pk, other.pk])
    )
    assert response.status_code == 404
    assert world.ncpi_b.team.filter(pk=other.pk).exists()
