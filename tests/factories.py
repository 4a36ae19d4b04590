"""Factories for tests. Reference rows made here are small fictional stand-ins; tests that
need the real reference data load it with `load_reference` (see the `reference_data`
fixture)."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from apps.accounts.models import Organisation, Role, User
from apps.frameworks.models import MethodologyVersion
from apps.inspections.models import Inspection, ProgrammeType, TeamMember
from apps.reference.models import Country, Force, Inspectorate, LocalAuthority


class ForceFactory(DjangoModelFactory):
    class Meta:
        model = Force
        django_get_or_create = ("slug",)

    code = factory.Sequence(lambda n: f"E2390{n:04d}")
    slug = factory.Sequence(lambda n: f"test-force-{n}")
    name = factory.Sequence(lambda n: f"Testshire Constabulary {n}")
    area_name = factory.LazyAttribute(lambda o: o.name)
    country = Country.ENGLAND
    population_0_17 = 250_000


class LocalAuthorityFactory(DjangoModelFactory):
    class Meta:
        model = LocalAuthority

    code = factory.Sequence(lambda n: f"E0690{n:04d}")
    name = factory.Sequence(lambda n: f"Testborough {n}")
    country = Country.ENGLAND
    force = factory.SubFactory(ForceFactory)
    population_0_17 = 50_000


class InspectorateFactory(DjangoModelFactory):
    class Meta:
        model = Inspectorate
        django_get_or_create = ("code",)

    code = "police"
    name = "His Majesty's Inspectorate of Constabulary and Fire & Rescue Services"
    short_name = "HMICFRS"
    scope = Inspectorate.Scope.ENGLAND_AND_WALES
    is_police_inspectorate = True


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = "HMICFRS"
    kind = Organisation.Kind.INSPECTORATE
    inspectorate = factory.SubFactory(InspectorateFactory)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    full_name = factory.Sequence(lambda n: f"Test Person {n}")
    role = Role.INSPECTOR
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.django.Password("a-long-test-password")


class MethodologyFactory(DjangoModelFactory):
    class Meta:
        model = MethodologyVersion
        django_get_or_create = ("code",)

    code = "test-method"
    title = "Test methodology"
    programme_types = [t.value for t in ProgrammeType]
    valid_from = dt.date(2014, 1, 1)
    grade_scale = ["good", "requires improvement", "inadequate"]
    definition = {"stages": [{"code": "leadership", "name": "Leadership"}]}
    source_file = "tests"
    source_sha256 = "0" * 64


class InspectionFactory(DjangoModelFactory):
    class Meta:
        model = Inspection
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"TEST-{n:04d}")
    title = factory.Sequence(lambda n: f"Test inspection {n}")
    programme_type = ProgrammeType.NCPI
    methodology = factory.SubFactory(MethodologyFactory)
    lead_inspectorate = factory.SubFactory(InspectorateFactory)
    fieldwork_start = dt.date(2026, 3, 2)
    fieldwork_end = dt.date(2026, 3, 13)

    @factory.post_generation
    def forces(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if not create:
            return
        self.forces.set(extracted if extracted is not None else [ForceFactory()])

    @factory.post_generation
    def local_authorities(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted:
            self.local_authorities.set(extracted)


class TeamMemberFactory(DjangoModelFactory):
    class Meta:
        model = TeamMember

    inspection = factory.SubFactory(InspectionFactory)
    user = factory.SubFactory(UserFactory)
    role = "inspector"
