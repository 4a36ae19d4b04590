"""A force inspection under the real NCPI 2016 methodology, in fieldwork, with a team of a
lead inspector and three inspectors, the force's liaison, another force's liaison and the
other roles; and helpers to build case lists, samples and audits."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from apps.accounts.models import Organisation, Role, User
from apps.core.audit import SystemActor
from apps.fieldwork import services
from apps.fieldwork.models import CaseAudit, Sample, SampledCase
from apps.frameworks.loaders import MethodologyFile, read_directory
from apps.frameworks.models import MethodologyVersion
from apps.frameworks.services import methodologies_load
from apps.inspections import services as inspection_services
from apps.inspections.models import Inspection, ProgrammeType
from tests.factories import ForceFactory, InspectorateFactory, OrganisationFactory, UserFactory

SYSTEM = SystemActor("tests")
TODAY = dt.date(2026, 11, 26)
AREAS = ("domestic_abuse", "missing_children", "child_sexual_exploitation")


@dataclass
class Fieldwork:
    methodology: MethodologyVersion
    inspection: Inspection
    other_inspection: Inspection  # another force's, with a different team
    users: dict[str, User]

    def case_list_csv(self, per_area: int = 40, areas: tuple[str, ...] = AREAS) -> bytes:
        out = io.StringIO()
        out.write("case_reference,audit_area,date_opened,date_closed,team\n")
        for area in areas:
            prefix = "".join(word[0] for word in area.split("_")).upper()
            for n in range(per_area):
                out.write(f"{prefix}-2026-{n:05d},{area},2026-0{1 + n % 8}-1{n % 10},,PPU North\n")
        return out.getvalue().encode()

    def upload(self, inspection: Inspection | None = None, per_area: int = 40) -> None:
        services.case_list_upload(
            actor=self.users["lead"],
            inspection=inspection or self.inspection,
            filename="cases.csv",
            content=self.case_list_csv(per_area),
            today=TODAY,
        )

    def draw(self, quotas: dict[str, int] | None = None, seed: str = "fixed-seed") -> Sample:
        return services.sample_draw(
            actor=self.users["lead"],
            inspection=self.inspection,
            request=services.DrawRequest(
                quotas=quotas or {a: 10 for a in AREAS}, rationale="Tests", seed=seed
            ),
        )

    def complete(
        self, audit: CaseAudit, grade: str, *, criteria_grade: str | None = None
    ) -> CaseAudit:
        """Fill every field of an audit with one grade, and submit it."""
        values = {}
        for name, field in services.audit_fields(audit).items():
            if field.part == "grade":
                values[name] = grade if not field.criterion else (criteria_grade or grade)
            else:
                values[name] = f"Evidence for {name}"
        audit = services.audit_save(
            actor=audit.auditor, audit=audit, version=audit.version, values=values
        )
        return services.audit_submit(actor=audit.auditor, audit=audit, version=audit.version)

    def audit(self, case: SampledCase, user: str, kind: str = "primary") -> CaseAudit:
        return services.audit_start(actor=self.users[user], case=case, kind=kind)


def _user(role: str, organisation: Organisation, username: str) -> User:
    return UserFactory(
        username=username,
        role=role,
        organisation=organisation,
        full_name=username.replace("_", " ").title(),
    )


@functools.cache
def _methodology_files() -> list[MethodologyFile]:
    """The shipped methodology files, parsed once per test process (parsing the YAML was most
    of the fixture's cost); each test loads a fresh copy into its own database."""
    return read_directory(Path(settings.BASE_DIR) / "data" / "methodologies")


@pytest.fixture
def fw(db) -> Fieldwork:
    methodologies_load(actor=SYSTEM, files=copy.deepcopy(_methodology_files()))
    methodology = MethodologyVersion.objects.get(code="ncpi-2016")
    police = InspectorateFactory()
    force = ForceFactory(name="Northshire Police", slug="northshire")
    other_force = ForceFactory(name="Southshire Police", slug="southshire")
    hmicfrs = OrganisationFactory(name="HMICFRS", inspectorate=police)
    org = OrganisationFactory(
        name="Northshire Police", kind=Organisation.Kind.FORCE, force=force, inspectorate=None
    )
    other_org = OrganisationFactory(
        name="Southshire Police", kind=Organisation.Kind.FORCE, force=other_force, inspectorate=None
    )
    ofsted = OrganisationFactory(name="Ofsted", kind=Organisation.Kind.PARTNER_INSPECTORATE)
    users = {
        "manager": _user(Role.PROGRAMME_MANAGER, hmicfrs, "manager"),
        "lead": _user(Role.LEAD_INSPECTOR, hmicfrs, "lead"),
        "inspector": _user(Role.INSPECTOR, hmicfrs, "inspector"),
        "second": _user(Role.INSPECTOR, hmicfrs, "second"),
        "third": _user(Role.INSPECTOR, hmicfrs, "third"),
        "outsider": _user(Role.INSPECTOR, hmicfrs, "outsider"),  # on the other inspection
        "analyst": _user(Role.ANALYST, hmicfrs, "analyst"),
        "partner": _user(Role.PARTNER_INSPECTOR, ofsted, "partner"),
        "liaison": _user(Role.FORCE_LIAISON, org, "liaison"),
        "other_liaison": _user(Role.FORCE_LIAISON, other_org, "other_liaison"),
        "admin": _user(Role.ADMINISTRATOR, hmicfrs, "admin"),
    }

    def ncpi(force_, title: str, team: dict[str, str]) -> Inspection:
        inspection = inspection_services.inspection_create(
            actor=SYSTEM,
            title=title,
            programme_type=ProgrammeType.NCPI,
            methodology=methodology,
            forces=[force_],
            fieldwork_start=dt.date(2026, 11, 16),
            fieldwork_end=dt.date(2026, 12, 4),
            planned_on=dt.date(2026, 8, 3),
        )
        for username, role in team.items():
            inspection_services.team_member_add(
                actor=SYSTEM, inspection=inspection, user=users[username], role=role
            )
        for target, on in (
            ("notified", dt.date(2026, 10, 19)),
            ("fieldwork", dt.date(2026, 11, 16)),
        ):
            inspection_services.inspection_transition(
                actor=users["manager"], inspection=inspection, target=target, on=on, today=TODAY
            )
        return Inspection.objects.select_related("methodology").get(pk=inspection.pk)

    inspection = ncpi(
        force,
        "Northshire NCPI",
        {
            "lead": "lead_inspector",
            "inspector": "inspector",
            "second": "inspector",
            "third": "inspector",
        },
    )
    other = ncpi(
        other_force, "Southshire NCPI", {"outsider": "lead_inspector", "manager": "inspector"}
    )
    return Fieldwork(methodology, inspection, other, users)
