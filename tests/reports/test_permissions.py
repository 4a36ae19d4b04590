"""Who may see and do what with findings and reports, page by page and person by person.

Every URL of the findings and reports apps, for each person of the `fw` fixture and an
anonymous visitor: sent to sign in when anonymous; 404 where the inspection is hidden from
them; 403 where they see the inspection but not its working findings and report (the force's
liaison) or may not do this; 200 (or a redirect after a write) where they may. Writes are
tried by each person in turn, each rolled back, and must change the data exactly when they
are allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from apps.findings import services as findings_services
from apps.findings.models import EvidenceItem, Finding, Kind
from apps.reports import services
from apps.reports.models import DisclosureHit, ReportSection, SectionKind
from tests.fieldwork.test_permissions import (
    INSPECTION_HIDDEN,
    TEAM,
    USERS,
    everyone,
    expected,
    statuses,
)

from .conftest import Drafted

pytestmark = pytest.mark.django_db

STAFF_READERS = TEAM | {"manager", "analyst", "admin"}


@pytest.fixture
def world(drafted: Drafted) -> dict[str, Any]:
    item = findings_services.evidence_create(
        actor=drafted.users["inspector"],
        inspection=drafted.inspection,
        source=EvidenceItem.Source.DOCUMENT,
        title="Missing children policy",
        notes="Dated 2023.",
    )
    drafted.write(SectionKind.FOREWORD, "We met Jane Smith at the station.")
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    hit = DisclosureHit.objects.filter(report=drafted.report, hit_type="PERSON").first()
    assert hit is not None
    return {
        "drafted": drafted,
        "pk": drafted.inspection.pk,
        "finding": drafted.cause.pk,
        "rec": drafted.cause.recommendations.get().pk,
        "item": item.pk,
        "section": drafted.section(SectionKind.FOREWORD).pk,
        "hit": hit.pk,
    }


def _url(world: dict[str, Any], name: str, *args: str | int) -> str:
    return reverse(name, args=[world[a] if isinstance(a, str) and a in world else a for a in args])


READS = {
    "register": ("findings:register", ("pk",), expected(STAFF_READERS)),
    "add-strength": ("findings:finding-add", ("pk", "strength"), expected(TEAM)),
    "add-cause": ("findings:finding-add", ("pk", "cause_of_concern"), expected(TEAM)),
    "edit": ("findings:finding-edit", ("pk", "finding"), expected(TEAM)),
    "delete": ("findings:finding-delete", ("pk", "finding"), expected(TEAM)),
    "evidence": ("findings:evidence", ("pk",), expected(STAFF_READERS)),
    "evidence-add": ("findings:evidence-add", ("pk",), expected(TEAM)),
    "evidence-item": ("findings:evidence-edit", ("pk", "item"), expected(STAFF_READERS)),
    "evidence-delete": ("findings:evidence-delete", ("pk", "item"), expected(TEAM)),
    "report": ("reports:report", ("pk",), expected(STAFF_READERS)),
    "preview": (
        "reports:preview",
        (
            "pk",
            "en",
        ),
        expected(STAFF_READERS),
    ),
    "section": ("reports:section", ("pk", "en", "section"), expected(STAFF_READERS)),
    "revision": ("reports:revision", ("pk", "en", "section", 1), expected(STAFF_READERS)),
    "disclosure": (
        "reports:disclosure",
        (
            "pk",
            "en",
        ),
        expected(STAFF_READERS),
    ),
    "dismiss-form": ("reports:hit-dismiss", ("pk", "en", "hit"), expected(TEAM)),
    "start": ("reports:start", ("pk",), everyone(405)),
    "run": (
        "reports:disclosure-run",
        (
            "pk",
            "en",
        ),
        everyone(405),
    ),
    "redact": ("reports:hit-redact", ("pk", "en", "hit"), everyone(405)),
    "sign-off": (
        "reports:sign-off",
        (
            "pk",
            "en",
        ),
        everyone(405),
    ),
    "publish": (
        "reports:publish",
        (
            "pk",
            "en",
        ),
        everyone(405),
    ),
}


@pytest.mark.parametrize("case", READS, ids=list(READS))
def test_reading(client, world, case):
    name, args, want = READS[case]
    drafted = world["drafted"]
    assert statuses(client, drafted.fw, "get", _url(world, name, *args)) == want


def _count(model: type, **filters: Any) -> Callable[[], int]:
    return lambda: model.objects.filter(**filters).count()


def test_recording_a_finding(client, world):
    drafted = world["drafted"]
    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "findings:finding-add", "pk", "strength"),
        data=lambda: {"stage": "", "headline": "Leaders are visible.", "narrative": ""},
        effect=_count(Finding, headline="Leaders are visible."),
    )
    assert found == expected(TEAM, ok=302)


def test_changing_a_finding(client, world):
    drafted = world["drafted"]

    def data() -> dict[str, Any]:
        finding = Finding.objects.get(pk=world["finding"])
        return {"stage": "initial_contact", "headline": "Changed.", "version": finding.version}

    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "findings:finding-edit", "pk", "finding"),
        data=data,
        effect=_count(Finding, headline="Changed."),
    )
    assert found == expected(TEAM, ok=302)


def test_logging_evidence(client, world):
    drafted = world["drafted"]
    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "findings:evidence-add", "pk"),
        data=lambda: {"source": "interview", "title": "Meeting with the chief constable"},
        effect=_count(EvidenceItem, title="Meeting with the chief constable"),
    )
    assert found == expected(TEAM, ok=302)


def test_saving_a_section(client, world):
    drafted = world["drafted"]

    def data() -> dict[str, Any]:
        section = ReportSection.objects.get(pk=world["section"])
        return {"body": "New foreword.", "version": section.version}

    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "reports:section", "pk", "en", "section"),
        data=data,
        effect=lambda: ReportSection.objects.get(pk=world["section"]).version,
    )
    assert found == expected(TEAM, ok=302)


def test_resolving_hits(client, world):
    drafted = world["drafted"]
    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "reports:hit-dismiss", "pk", "en", "hit"),
        data=lambda: {"reason": "A historical figure's name"},
        effect=_count(DisclosureHit, pk=world["hit"], status="dismissed"),
    )
    assert found == expected(TEAM, ok=302)
    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "reports:hit-redact", "pk", "en", "hit"),
        effect=_count(DisclosureHit, pk=world["hit"], status="redacted"),
    )
    # Refusals (not on the team) are 403; the team's redaction redirects.
    assert found == expected(TEAM, ok=302)


def test_retitling(client, world):
    drafted = world["drafted"]
    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "reports:retitle", "pk", "en"),
        data=lambda: {"title": "A new title"},
        effect=lambda: type(drafted.report).objects.get(pk=drafted.report.pk).title,
    )
    assert found == expected(TEAM, ok=302)


def test_signing_off(client, world):
    drafted = world["drafted"]
    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "reports:sign-off", "pk", "en"),
    )
    # Everyone who can read the report gets a redirect with the reason; only the lead (who
    # wrote none of it) signs off.
    want = expected(STAFF_READERS, ok=302)
    assert found == want
    assert type(drafted.report).objects.get(pk=drafted.report.pk).signed_off_by_id is None


def test_the_force_never_sees_working_findings(client, world):
    drafted = world["drafted"]
    client.force_login(drafted.users["liaison"])
    response = client.get(_url(world, "findings:register", "pk"))
    assert response.status_code == 403
    assert b"Officers too often" not in response.content


def test_hidden_inspection_is_not_found_for_everyone_outside(client, world):
    drafted = world["drafted"]
    for user in INSPECTION_HIDDEN:
        client.force_login(drafted.users[user])
        assert client.get(_url(world, "reports:report", "pk")).status_code == 404
    assert set(INSPECTION_HIDDEN) <= set(USERS)


def test_a_finding_of_another_inspection_is_not_found(client, world):
    drafted = world["drafted"]
    other = findings_services.finding_create(
        actor=drafted.users["outsider"],
        inspection=drafted.fw.other_inspection,
        kind=Kind.STRENGTH,
        headline="Elsewhere.",
    )
    client.force_login(drafted.users["lead"])
    url = reverse("findings:finding-edit", args=[drafted.inspection.pk, other.pk])
    assert client.get(url).status_code == 404
