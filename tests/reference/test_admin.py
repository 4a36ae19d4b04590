"""Changes made in the admin are audited."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.reference.models import Inspectorate
from tests.factories import ForceFactory, UserFactory


@pytest.fixture
def admin_client(client: Client) -> Client:
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.mark.django_db
def test_changing_a_force_in_the_admin_is_audited(admin_client: Client) -> None:
    force = ForceFactory(name="Testshire Constabulary", population_0_17=1000)
    url = reverse("admin:reference_force_change", args=[force.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "code": force.code,
            "slug": force.slug,
            "name": "Testshire Police",
            "area_name": force.area_name,
            "country": force.country,
            "territorial": "on",
            "population_0_17": "1200",
            "population_all_ages": "",
            "population_year": "2023",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    force.refresh_from_db()
    assert force.name == "Testshire Police"

    event = AuditEvent.objects.get(object_type="reference.force", action="update")
    assert event.actor == admin_client.user  # type: ignore[attr-defined]
    assert event.object_id == str(force.pk)
    assert event.changes["name"] == ["Testshire Constabulary", "Testshire Police"]
    assert event.changes["population_0_17"] == [1000, 1200]
    assert "boundary" not in event.changes


@pytest.mark.django_db
def test_deleting_in_the_admin_is_audited(admin_client: Client) -> None:
    inspectorate = Inspectorate.objects.create(
        code="test", name="Test Inspectorate", short_name="TI", scope="england"
    )
    pk = inspectorate.pk
    url = reverse("admin:reference_inspectorate_delete", args=[pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Inspectorate.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(object_type="reference.inspectorate", action="delete")
    assert event.object_id == str(pk)
    assert event.object_repr == "Test Inspectorate"
    assert event.actor == admin_client.user  # type: ignore[attr-defined]
    assert event.changes["name"] == ["Test Inspectorate", None]


@pytest.mark.django_db
def test_adding_in_the_admin_is_audited(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:reference_inspectorate_add"),
        {"code": "new", "name": "New Inspectorate", "short_name": "NI", "scope": "wales"},
    )
    assert response.status_code == 302
    inspectorate = Inspectorate.objects.get(code="new")
    event = AuditEvent.objects.get(object_type="reference.inspectorate", action="create")
    assert event.object_id == str(inspectorate.pk)
    assert event.changes["name"] == [None, "New Inspectorate"]


@pytest.mark.django_db
def test_admin_lists_load(admin_client: Client) -> None:
    ForceFactory()
    for name in (
        "force",
        "localauthority",
        "district",
        "inspectorate",
        "contextfigure",
        "ofstedjudgement",
    ):
        assert admin_client.get(reverse(f"admin:reference_{name}_changelist")).status_code == 200
