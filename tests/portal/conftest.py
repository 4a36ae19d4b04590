"""Published reports made directly with the ORM, as the publish service of apps/reports leaves
them: a Report, then one Publication per version (the newest current), with the frozen data,
and for each recommendation a Finding with its public status history."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from pytest_django import DjangoDbBlocker

from apps.accounts.models import Organisation, Role, User
from apps.findings.models import Finding, Kind, RecommendationStatusChange
from apps.inspections.models import Inspection, ProgrammeType
from apps.reference.models import Force, LocalAuthority
from apps.reports.models import Publication, Report
from tests.factories import (
    ForceFactory,
    InspectionFactory,
    OrganisationFactory,
    UserFactory,
)

_numbers = itertools.count(1)

BODY = """<section class="app-report-section" id="summary" aria-labelledby="summary-heading">
<h2 class="govuk-heading-l" id="summary-heading">Summary</h2>
<p class="govuk-body">{text}</p>
</section>
<section class="app-report-section" id="conclusion" aria-labelledby="conclusion-heading">
<h2 class="govuk-heading-l" id="conclusion-heading">Conclusion</h2>
<p class="govuk-body">The force has more to do.</p>
</section>"""

GRADES = {
    "scale": ["good", "requires improvement", "inadequate"],
    "counts": {"good": 20, "requires improvement": 31, "inadequate": None},
    "total": 55,
    "comparable": {"good": 20, "requires_improvement": 31, "inadequate": None},
}


@dataclass
class Published:
    """What `publish` made: the report's inspection, its publications (oldest first) and the
    findings behind its recommendations."""

    inspection: Inspection
    report: Report
    publications: list[Publication] = field(default_factory=list)
    recommendations: list[Finding] = field(default_factory=list)

    @property
    def current(self) -> Publication:
        return next(p for p in self.publications if p.is_current)

    @property
    def slug(self) -> str:
        return self.publications[0].slug


class Publisher:
    def __init__(self, author: User) -> None:
        self.author = author

    def publish(
        self,
        *,
        title: str = "",
        forces: Sequence[Force] | None = None,
        areas: Sequence[LocalAuthority] = (),
        programme_type: str = ProgrammeType.NCPI,
        published_on: dt.date = dt.date(2025, 6, 2),
        summary: str = "",
        text: str = "",
        recommendations: Sequence[str] = (),
        statuses: Sequence[tuple[str, dt.date, str]] = (),
        grades: dict[str, Any] | None = GRADES,
        follows: Inspection | None = None,
        language: str = "en",
        slug: str = "",
        inspection: Inspection | None = None,
        body_html: str = "",
        versions: int = 1,
    ) -> Published:
        n = next(_numbers)
        forces = list(forces) if forces is not None else [ForceFactory()]
        if inspection is None:
            inspection = InspectionFactory(
                reference=f"NCPI-2025-{n:03d}",
                programme_type=programme_type,
                forces=forces,
                local_authorities=list(areas),
                follows=follows,
                fieldwork_start=published_on - dt.timedelta(days=140),
                fieldwork_end=published_on - dt.timedelta(days=128),
            )
        title = title or f"An inspection of child protection in {forces[0].name}"
        slug = slug or f"{inspection.reference.lower()}-{forces[0].slug}"
        report, _ = Report.objects.get_or_create(
            inspection=inspection, language=language, defaults={"title": title}
        )
        published = Published(inspection=inspection, report=report)
        for number, headline in enumerate(recommendations, start=1):
            finding = Finding.objects.create(
                inspection=inspection,
                kind=Kind.RECOMMENDATION,
                stage="leadership",
                headline=headline,
                number=number,
                to_force=True,
                timescale="months",
                timescale_months=6,
                due_on=published_on + dt.timedelta(days=183),
                created_by=self.author,
                updated_by=self.author,
            )
            RecommendationStatusChange.objects.create(
                recommendation=finding,
                status="awaiting_response",
                on=published_on,
                by_label="publication",
            )
            for status, on, note in statuses:
                RecommendationStatusChange.objects.create(
                    recommendation=finding, status=status, on=on, note=note, by_label="tests"
                )
            published.recommendations.append(finding)
        text = text or f"Inspectors looked at how {forces[0].name} protects children."
        data = {
            "reference": inspection.reference,
            "programme_type": programme_type,
            "programme_type_label": ProgrammeType(programme_type).label,
            "forces": [{"slug": f.slug, "name": f.name} for f in forces],
            "local_authorities": [{"code": a.code, "name": a.name} for a in areas],
            "fieldwork_start": inspection.fieldwork_start.isoformat()
            if inspection.fieldwork_start
            else None,
            "fieldwork_end": inspection.fieldwork_end.isoformat()
            if inspection.fieldwork_end
            else None,
            "methodology": {
                "code": "test-method",
                "title": "Test methodology",
                "scale": ["good", "requires improvement", "inadequate"],
            },
            "case_grades": grades,
            "findings_counts": {"recommendation": len(recommendations)},
            "recommendations": [
                {
                    "finding_id": f.pk,
                    "number": f.number,
                    "text": f.headline,
                    "addressees": f.addressees(),
                    "timescale": f.timescale_text(),
                    "due_on": f.due_on.isoformat() if f.due_on else None,
                    "stage": "Leadership",
                    "cause_of_concern": None,
                }
                for f in published.recommendations
            ],
            "follows": {"reference": follows.reference, "title": follows.title}
            if follows
            else None,
        }
        for version in range(1, versions + 1):
            published.publications.append(
                self._version(
                    published,
                    version=version,
                    slug=slug,
                    language=language,
                    title=title,
                    summary=summary or f"What we found in {forces[0].name}.",
                    text=text,
                    body_html=body_html,
                    published_on=published_on + dt.timedelta(days=30 * (version - 1)),
                    data=data,
                    forces=forces,
                    areas=areas,
                    programme_type=programme_type,
                )
            )
        return published

    def republish(
        self, published: Published, *, change_note: str = "Corrected a table", text: str = ""
    ) -> Publication:
        before = published.current
        publication = self._version(
            published,
            version=before.version + 1,
            slug=before.slug,
            language=before.language,
            title=before.title,
            summary=before.summary,
            text=text or "Inspectors looked again.",
            body_html="",
            published_on=before.published_on + dt.timedelta(days=30),
            data=before.data,
            forces=list(before.forces.all()),
            areas=list(before.local_authorities.all()),
            programme_type=before.programme_type,
            change_note=change_note,
        )
        published.publications.append(publication)
        for p in published.publications:
            p.refresh_from_db()
        return publication

    def _version(
        self,
        published: Published,
        *,
        version: int,
        slug: str,
        language: str,
        title: str,
        summary: str,
        text: str,
        body_html: str,
        published_on: dt.date,
        data: dict[str, Any],
        forces: Sequence[Force],
        areas: Sequence[LocalAuthority],
        programme_type: str,
        change_note: str = "",
    ) -> Publication:
        with transaction.atomic():
            Publication.objects.filter(slug=slug, language=language, is_current=True).update(
                is_current=False
            )
            body = body_html or BODY.format(text=text)
            publication = Publication.objects.create(
                report=published.report,
                inspection=published.inspection,
                language=language,
                slug=slug,
                version=version,
                is_current=True,
                title=title,
                summary=summary,
                programme_type=programme_type,
                published_on=published_on,
                published_by=self.author,
                change_note=change_note if version > 1 else "",
                body_html=body,
                contents=[
                    {"id": "summary", "title": "Summary"},
                    {"id": "conclusion", "title": "Conclusion"},
                ],
                data=data,
                search_text=f"{title} {text} The force has more to do.",
            )
            publication.forces.set(forces)
            publication.local_authorities.set(areas)
        for p in published.publications:
            p.refresh_from_db()
        return publication


@pytest.fixture(autouse=True)
def _forget_pages_in_memory() -> Iterator[None]:
    """Whole pages kept in this process's memory (apps.portal.pagecache) never cross tests."""
    from apps.portal import pagecache

    pagecache.recent.clear()
    yield
    pagecache.recent.clear()


@pytest.fixture
def staff(db) -> dict[str, User]:
    """One person of each role."""
    hmicfrs = OrganisationFactory(name="HMICFRS")
    force = ForceFactory(name="Staffshire Police", slug="staffshire")
    force_org = OrganisationFactory(
        name="Staffshire Police", kind=Organisation.Kind.FORCE, force=force, inspectorate=None
    )
    partner_org = OrganisationFactory(name="Ofsted", kind=Organisation.Kind.PARTNER_INSPECTORATE)
    organisations = {
        Role.PARTNER_INSPECTOR: partner_org,
        Role.FORCE_LIAISON: force_org,
    }
    return {
        role.value: UserFactory(
            username=role.value, role=role, organisation=organisations.get(role, hmicfrs)
        )
        for role in Role
    }


@pytest.fixture
def publisher(db) -> Publisher:
    return Publisher(UserFactory(username="publisher", role=Role.LEAD_INSPECTOR))


@pytest.fixture(scope="module")
def loaded_reference(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[None]:
    """The real reference data (forces with their boundaries), loaded once for a module inside
    a transaction rolled back when the module ends."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_reference", verbosity=0)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
