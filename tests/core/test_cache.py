"""Cached reads are never served after the data they came from changed."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.core.cache import cached_read, data_changed, data_version


def test_a_read_is_cached_until_its_data_changes(db):
    calls = []

    def read():
        calls.append(1)
        return len(calls)

    assert cached_read(("inspections",), "k", read) == 1
    assert cached_read(("inspections",), "k", read) == 1  # from the cache
    with transaction.atomic():
        data_changed("inspections")
        assert cached_read(("inspections",), "k", read) == 2  # sees its own change at once
    assert cached_read(("inspections",), "k", read) == 2
    data_changed("reference")  # other kinds of data do not matter to this read
    assert cached_read(("inspections",), "k", read) == 2


def test_the_version_moves_again_when_the_change_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        before = data_version("accounts")
        data_changed("accounts")
        during = data_version("accounts")
    after = data_version("accounts")
    assert before < during < after
    assert len(callbacks) == 1


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown kind"):
        data_version("no-such-kind")


def test_staff_home_shows_a_change_made_after_it_was_cached(client, db):
    from apps.accounts.models import Role
    from apps.inspections import services
    from apps.inspections.models import ProgrammeType
    from tests.factories import ForceFactory, InspectorateFactory, MethodologyFactory, UserFactory

    InspectorateFactory()
    manager = UserFactory(role=Role.PROGRAMME_MANAGER)
    client.force_login(manager)
    assert "Cached read test" not in client.get("/home/").content.decode()
    services.inspection_create(
        actor=manager,
        title="Cached read test",
        programme_type=ProgrammeType.NCPI,
        methodology=MethodologyFactory(),
        forces=[ForceFactory()],
    )
    assert "Cached read test" in client.get("/home/").content.decode()


def test_force_page_shows_a_reference_change_made_after_it_was_cached(client, db):
    from django.contrib import admin
    from django.test import RequestFactory

    from apps.reference.admin import ForceAdmin
    from apps.reference.models import Force
    from tests.factories import ForceFactory, UserFactory

    force = ForceFactory(name="Old Name Constabulary", slug="renamed", area_name="Renamedshire")
    assert "Old Name Constabulary" in client.get("/forces/renamed/").content.decode()
    force.name = "New Name Police"
    request = RequestFactory().post("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    ForceAdmin(Force, admin.site).save_model(request, force, form=None, change=True)
    page = client.get("/forces/renamed/").content.decode()
    assert '<h1 class="govuk-heading-l">New Name Police</h1>' in page
    assert "<title>New Name Police" in page
    assert "Old Name Constabulary" not in page
