"""A small programme: two forces, a Welsh area, one user per role and inspections each role
should or should not see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from apps.accounts.models import Organisation, Role, User
from apps.core.audit import SystemActor
from apps.inspections import services
from apps.inspections.models import Inspection, ProgrammeType
from apps.reference.models import Country, Force, Inspectorate, LocalAuthority
from tests.factories import (
    ForceFactory,
    LocalAuthorityFactory,
    MethodologyFactory,
    OrganisationFactory,
    UserFactory,
)

SYSTEM = SystemActor("tests")
TODAY = dt.date(2026, 11, 26)

INSPECTORATES = [
    (
        "police",
        "His Majesty's Inspectorate of Constabulary and Fire & Rescue Services",
        "HMICFRS",
        "england_and_wales",
        True,
    ),
    ("ofsted", "Ofsted", "Ofsted", "england", False),
    ("cqc", "Care Quality Commission", "CQC", "england", False),
    ("hmip", "HM Inspectorate of Probation", "HMI Probation", "england_and_wales", False),
    ("ciw", "Care Inspectorate Wales", "CIW", "wales", False),
    ("hiw", "Healthcare Inspectorate Wales", "HIW", "wales", False),
    ("estyn", "Estyn", "Estyn", "wales", False),
]


@pytest.fixture
def inspectorates(db) -> dict[str, Inspectorate]:
    result = {}
    for code, name, short, scope, police in INSPECTORATES:
        result[code], _ = Inspectorate.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "short_name": short,
                "scope": scope,
                "is_police_inspectorate": police,
            },
        )
    return result


@dataclass
class World:
    force_a: Force
    force_b: Force
    welsh_force: Force
    area_a: LocalAuthority
    welsh_area: LocalAuthority
    users: dict[str, User]
    ncpi_a: Inspection  # force A, notified, lead+inspector on team
    planned_a: Inspection  # force A, still planned (liaison must not see it)
    ncpi_b: Inspection  # force B, notified, other team
    jtai_a: Inspection  # area of force A, partner on team
    jicpa: Inspection  # Welsh area, nobody from the role users on it


def _user(role: str, organisation: Organisation, username: str) -> User:
    return UserFactory(
        username=username,
        role=role,
        organisation=organisation,
        full_name=f"{role.replace('_', ' ').title()} Person",
    )


@pytest.fixture
def world(db, inspectorates) -> World:
    methodology = MethodologyFactory()
    force_a = ForceFactory(name="Northshire Police", slug="northshire")
    force_b = ForceFactory(name="Southshire Constabulary", slug="southshire")
    welsh_force = ForceFactory(
        name="Westshire Police", slug="westshire", country=Country.WALES, code="W15009999"
    )
    area_a = LocalAuthorityFactory(name="Northborough", force=force_a)
    welsh_area = LocalAuthorityFactory(
        name="Westborough", force=welsh_force, country=Country.WALES, code="W06009999"
    )
    hmicfrs = OrganisationFactory(name="HMICFRS", inspectorate=inspectorates["police"])
    ofsted = OrganisationFactory(
        name="Ofsted",
        kind=Organisation.Kind.PARTNER_INSPECTORATE,
        inspectorate=inspectorates["ofsted"],
    )
    org_a = OrganisationFactory(
        name="Northshire Police", kind=Organisation.Kind.FORCE, force=force_a, inspectorate=None
    )
    users = {
        "manager": _user(Role.PROGRAMME_MANAGER, hmicfrs, "manager"),
        "lead": _user(Role.LEAD_INSPECTOR, hmicfrs, "lead"),
        "inspector": _user(Role.INSPECTOR, hmicfrs, "inspector"),
        "other_inspector": _user(Role.INSPECTOR, hmicfrs, "other_inspector"),
        "analyst": _user(Role.ANALYST, hmicfrs, "analyst"),
        "partner": _user(Role.PARTNER_INSPECTOR, ofsted, "partner"),
        "liaison": _user(Role.FORCE_LIAISON, org_a, "liaison"),
        "admin": _user(Role.ADMINISTRATOR, hmicfrs, "admin"),
    }

    def ncpi(force: Force, title: str, lead: User, inspector: User, notify: bool) -> Inspection:
        inspection = services.inspection_create(
            actor=SYSTEM,
            title=title,
            programme_type=ProgrammeType.NCPI,
            methodology=methodology,
            forces=[force],
            fieldwork_start=dt.date(2026, 12, 7),
            fieldwork_end=dt.date(2026, 12, 18),
            planned_on=dt.date(2026, 9, 1),
            confidential_notes=f"Sensitive planning note about {force.name}",
        )
        services.team_member_add(
            actor=SYSTEM, inspection=inspection, user=lead, role="lead_inspector"
        )
        services.team_member_add(
            actor=SYSTEM, inspection=inspection, user=inspector, role="inspector"
        )
        if notify:
            services.inspection_transition(
                actor=users["manager"],
                inspection=inspection,
                target="notified",
                on=dt.date(2026, 11, 2),
                today=TODAY,
            )
        return inspection

    ncpi_a = ncpi(force_a, "Northshire NCPI", users["lead"], users["inspector"], True)
    planned_a = ncpi(force_a, "Northshire next", users["lead"], users["inspector"], False)
    ncpi_b = ncpi(force_b, "Southshire NCPI", users["other_inspector"], users["manager"], True)
    jtai_a = services.inspection_create(
        actor=SYSTEM,
        title="Northborough JTAI",
        programme_type=ProgrammeType.JTAI,
        methodology=methodology,
        local_authorities=[area_a],
        theme="Neglect",
        fieldwork_start=dt.date(2026, 11, 23),
        fieldwork_end=dt.date(2026, 11, 27),
        planned_on=dt.date(2026, 9, 1),
    )
    services.team_member_add(
        actor=SYSTEM, inspection=jtai_a, user=users["lead"], role="lead_inspector"
    )
    services.team_member_add(
        actor=SYSTEM, inspection=jtai_a, user=users["partner"], role="partner_inspector"
    )
    services.inspection_transition(
        actor=users["manager"],
        inspection=jtai_a,
        target="notified",
        on=dt.date(2026, 11, 9),
        today=TODAY,
    )
    jicpa = services.inspection_create(
        actor=SYSTEM,
        title="Westborough JICPA",
        programme_type=ProgrammeType.JICPA,
        methodology=methodology,
        local_authorities=[welsh_area],
        planned_on=dt.date(2026, 9, 1),
    )
    return World(
        force_a,
        force_b,
        welsh_force,
        area_a,
        welsh_area,
        users,
        ncpi_a,
        planned_a,
        ncpi_b,
        jtai_a,
        jicpa,
    )
