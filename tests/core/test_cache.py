"""Cached reads are never served after the data they came from changed, nor after a release
of new code."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.core import cache as data_cache
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


def test_a_read_cached_by_one_release_is_not_served_by_the_next(db, monkeypatch):
    calls = []

    def read():
        calls.append(1)
        return len(calls)

    monkeypatch.setattr(data_cache, "release", lambda: "release-1")
    assert cached_read(("themes",), "page", read) == 1
    assert cached_read(("themes",), "page", read) == 1  # from the cache
    monkeypatch.setattr(data_cache, "release", lambda: "release-2")  # new code deployed
    assert cached_read(("themes",), "page", read) == 2
    assert data_cache.versions_token(("themes",)).startswith("release-2.")


def test_the_release_is_the_deployments_or_a_digest_of_the_code(tmp_path, settings, monkeypatch):
    template = tmp_path / "templates" / "page.html"
    template.parent.mkdir()
    template.write_text("<p>Before</p>")
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "views.py").write_text("x = 1\n")
    (tmp_path / "apps" / "notes.md").write_text("not code")
    settings.BASE_DIR = tmp_path
    monkeypatch.delenv("INSPECTORATE_RELEASE", raising=False)

    def fresh() -> str:
        data_cache.release.cache_clear()
        return data_cache.release()

    try:
        first = fresh()
        assert fresh() == first  # the same code, the same release
        (tmp_path / "apps" / "notes.md").write_text("changed, but renders nothing")
        assert fresh() == first
        template.write_text("<p>After</p>")
        assert fresh() != first
        monkeypatch.setenv("INSPECTORATE_RELEASE", "3f2a9c1")
        assert fresh() == "3f2a9c1"
    finally:
        data_cache.release.cache_clear()


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
