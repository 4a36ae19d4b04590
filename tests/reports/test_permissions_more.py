"""Who may do the rest: the report's writes person by person (start, the Welsh version, the
disclosure check and its small numbers, publication, withdrawal), the Welsh report's page,
and removing or changing findings and evidence; and that a record of one inspection is not
found under another inspection's address, even for someone who may read both.

Same conventions as test_permissions: each person of the `fw` fixture and an anonymous
visitor in turn, each request rolled back, and a write must change the data exactly when it
is allowed.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from apps.findings import services as findings_services
from apps.findings.models import EvidenceItem, Finding, Kind
from apps.inspections import services as inspection_services
from apps.inspections.models import State
from apps.reference.models import Force
from apps.reports import services
from apps.reports.models import (
    DisclosureHit,
    Language,
    Publication,
    Report,
    ReportSection,
    SectionKind,
)
from tests.fieldwork.test_permissions import TEAM, everyone, expected, statuses

from .conftest import TODAY, Drafted
from .test_permissions import STAFF_READERS, _count, _url, world  # noqa: F401
from .test_services import _sign_off_and_check

pytestmark = pytest.mark.django_db

ONLY_THE_PROGRAMME_MANAGER = frozenset({"manager"})


def _report(drafted: Drafted, lang: str = Language.ENGLISH) -> Report:
    return Report.objects.get(inspection=drafted.inspection, language=lang)


def _publish(drafted: Drafted, change_note: str = "") -> Publication:
    _sign_off_and_check(drafted)
    return services.report_publish(
        actor=drafted.users["manager"], report=drafted.report, on=TODAY, change_note=change_note
    )


def _publish_twice(drafted: Drafted) -> Drafted:
    """Version 1 and a corrected version 2 (the current one) of the English report."""
    drafted.to_quality_assurance()
    _publish(drafted)
    drafted.write(SectionKind.SUMMARY, "A corrected summary.", user="second")
    _publish(drafted, change_note="Corrected the summary.")
    assert list(
        Publication.objects.filter(report=drafted.report)
        .order_by("version")
        .values_list("version", "is_current")
    ) == [(1, False), (2, True)]
    return drafted


@pytest.fixture
def published_twice(drafted: Drafted) -> Drafted:
    return _publish_twice(drafted)


def _withdrawn(drafted: Drafted, version: int) -> Any:
    return lambda: Publication.objects.get(report=drafted.report, version=version).withdrawn_at


# Withdrawing an earlier version -------------------------------------------------------------


def test_only_the_programme_manager_sees_the_withdraw_page(client, published_twice):
    drafted = published_twice
    url = reverse("reports:withdraw", args=[drafted.inspection.pk, "en", 1])
    found = statuses(client, drafted.fw, "get", url)
    # Inspectors, the lead, analysts and administrators read the report but may not take a
    # version down: 403. The force's liaison: 403. Those who cannot see the inspection: 404.
    assert found == expected(ONLY_THE_PROGRAMME_MANAGER)


def test_only_the_programme_manager_withdraws_a_version(client, published_twice):
    drafted = published_twice
    found = statuses(
        client,
        drafted.fw,
        "post",
        reverse("reports:withdraw", args=[drafted.inspection.pk, "en", 1]),
        data=lambda: {"reason": "It named a child in the summary"},
        effect=_withdrawn(drafted, 1),
    )
    assert found == expected(ONLY_THE_PROGRAMME_MANAGER, ok=302)
    assert Publication.objects.get(report=drafted.report, version=1).withdrawn_at is None


def test_the_current_version_cannot_be_withdrawn_from_the_page(client, published_twice):
    drafted = published_twice
    url = reverse("reports:withdraw", args=[drafted.inspection.pk, "en", 2])
    found = statuses(
        client,
        drafted.fw,
        "post",
        url,
        data=lambda: {"reason": "It named a child in the summary"},
        effect=_withdrawn(drafted, 2),
    )
    # The manager gets the form back with the reason; nobody changes anything.
    assert found == expected(ONLY_THE_PROGRAMME_MANAGER, ok=200)
    client.force_login(drafted.users["manager"])
    html = client.post(url, {"reason": "It named a child in the summary"}).content.decode()
    assert "This is the current version" in html
    assert Publication.objects.get(report=drafted.report, version=2).withdrawn_at is None


def test_withdrawing_needs_a_reason_and_an_existing_version(client, published_twice):
    drafted = published_twice
    client.force_login(drafted.users["manager"])
    url = reverse("reports:withdraw", args=[drafted.inspection.pk, "en", 1])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "Say why the version is withdrawn." in response.content.decode()
    assert Publication.objects.get(report=drafted.report, version=1).withdrawn_at is None
    missing = reverse("reports:withdraw", args=[drafted.inspection.pk, "en", 3])
    assert client.get(missing).status_code == 404
    # There is no Welsh report, so no Welsh version to withdraw.
    welsh = reverse("reports:withdraw", args=[drafted.inspection.pk, "cy", 1])
    assert client.get(welsh).status_code == 404


# Starting the report and its Welsh version --------------------------------------------------


def test_only_the_team_starts_the_report(client, fw):
    found = statuses(
        client,
        fw,
        "post",
        reverse("reports:start", args=[fw.inspection.pk]),
        effect=_count(Report, inspection=fw.inspection),
    )
    assert found == expected(TEAM, ok=302)
    assert not Report.objects.filter(inspection=fw.inspection).exists()


@pytest.fixture
def in_wales(drafted: Drafted) -> Drafted:
    Force.objects.filter(slug="northshire").update(country="wales")
    return drafted


def test_only_the_team_starts_the_welsh_version(client, in_wales):
    drafted = in_wales
    url = reverse("reports:welsh-start", args=[drafted.inspection.pk])
    found = statuses(
        client,
        drafted.fw,
        "post",
        url,
        effect=_count(Report, inspection=drafted.inspection, language=Language.WELSH),
    )
    assert found == expected(TEAM, ok=302)
    client.force_login(drafted.users["second"])
    response = client.post(url)
    assert response.url == reverse(
        "reports:report-language", args=[drafted.inspection.pk, Language.WELSH]
    )
    assert _report(drafted, Language.WELSH).sections.count() == drafted.report.sections.count()


def test_a_welsh_version_of_an_english_force_is_refused_with_the_reason(client, drafted):
    client.force_login(drafted.users["inspector"])
    response = client.post(reverse("reports:welsh-start", args=[drafted.inspection.pk]))
    assert response.status_code == 302
    assert response.url == reverse("reports:report", args=[drafted.inspection.pk])
    page = client.get(response.url).content.decode()
    assert "Only the reports of forces in Wales have a Welsh-language version." in page
    assert not Report.objects.filter(inspection=drafted.inspection, language="cy").exists()


def test_the_welsh_report_page_is_for_those_who_read_the_report(client, in_wales):
    drafted = in_wales
    url = reverse("reports:report-language", args=[drafted.inspection.pk, Language.WELSH])
    # Before the Welsh version is started it is not found, even for the team.
    assert statuses(client, drafted.fw, "get", url) == expected(
        frozenset(), not_found=STAFF_READERS
    )
    services.welsh_report_start(actor=drafted.users["inspector"], inspection=drafted.inspection)
    assert statuses(client, drafted.fw, "get", url) == expected(STAFF_READERS)
    client.force_login(drafted.users["analyst"])
    html = client.get(url).content.decode()
    assert "Crynodeb" in html  # the Welsh section titles: this is the Welsh report
    summary = _report(drafted, Language.WELSH).sections.get(kind=SectionKind.SUMMARY)
    assert reverse("reports:section", args=[drafted.inspection.pk, "cy", summary.pk]) in html


# The disclosure check -----------------------------------------------------------------------


def test_only_the_team_runs_the_disclosure_check(client, drafted):
    assert _report(drafted).checked_fingerprint == ""
    found = statuses(
        client,
        drafted.fw,
        "post",
        reverse("reports:disclosure-run", args=[drafted.inspection.pk, "en"]),
        effect=lambda: _report(drafted).checked_fingerprint,
    )
    assert found == expected(TEAM, ok=302)


def test_only_the_team_withholds_the_small_numbers(client, small_numbers):
    drafted = small_numbers
    found = statuses(
        client,
        drafted.fw,
        "post",
        reverse("reports:withhold-small", args=[drafted.inspection.pk, "en"]),
        effect=_count(
            DisclosureHit,
            report=drafted.report,
            hit_type=DisclosureHit.SMALL_NUMBER,
            status=DisclosureHit.Status.OPEN,
        ),
    )
    assert found == expected(TEAM, ok=302)
    assert DisclosureHit.objects.filter(
        report=drafted.report, hit_type=DisclosureHit.SMALL_NUMBER, status="open"
    ).exists()


@pytest.mark.parametrize("name", ["reports:disclosure-run", "reports:withhold-small"])
def test_the_check_changes_only_by_post(client, drafted, name):
    url = reverse(name, args=[drafted.inspection.pk, "en"])
    assert statuses(client, drafted.fw, "get", url) == everyone(405)


def test_starting_the_welsh_version_changes_only_by_post(client, in_wales):
    url = reverse("reports:welsh-start", args=[in_wales.inspection.pk])
    assert statuses(client, in_wales.fw, "get", url) == everyone(405)
    assert not Report.objects.filter(language=Language.WELSH).exists()


# Publication --------------------------------------------------------------------------------


def test_only_the_programme_manager_publishes(client, drafted):
    drafted.to_quality_assurance()
    _sign_off_and_check(drafted)
    assert services.publication_blockers(_report(drafted)) == []
    found = statuses(
        client,
        drafted.fw,
        "post",
        reverse("reports:publish", args=[drafted.inspection.pk, "en"]),
        data=lambda: {"on": TODAY.isoformat()},
        effect=_count(Publication, report=drafted.report),
    )
    assert found == expected(ONLY_THE_PROGRAMME_MANAGER, ok=302)
    assert not Publication.objects.exists()


# Findings and evidence: removing and changing ----------------------------------------------


def test_only_the_team_removes_a_finding(client, world):  # noqa: F811
    drafted = world["drafted"]
    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "findings:finding-delete", "pk", "finding"),
        data=lambda: {"confirm": "on"},
        effect=_count(Finding, pk=world["finding"]),
    )
    assert found == expected(TEAM, ok=302)
    assert Finding.objects.filter(pk=world["finding"]).exists()


def test_removing_a_finding_needs_the_confirmation(client, world):  # noqa: F811
    drafted = world["drafted"]
    client.force_login(drafted.users["inspector"])
    # What a browser sends with the box left unticked: the form's token and nothing else.
    response = client.post(
        _url(world, "findings:finding-delete", "pk", "finding"), {"csrfmiddlewaretoken": "x"}
    )
    assert response.status_code == 200
    assert "Confirm that you want to remove it." in response.content.decode()
    assert Finding.objects.filter(pk=world["finding"]).exists()


def test_only_the_team_changes_evidence(client, world):  # noqa: F811
    drafted = world["drafted"]

    def data() -> dict[str, Any]:
        item = EvidenceItem.objects.get(pk=world["item"])
        return {
            "source": "document",
            "title": "Missing children policy, 2024",
            "notes": "Dated 2024.",
            "version": item.version,
        }

    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "findings:evidence-edit", "pk", "item"),
        data=data,
        effect=lambda: EvidenceItem.objects.get(pk=world["item"]).title,
    )
    # Analysts, programme managers and administrators read the item (test_permissions) but
    # may not change it.
    assert found == expected(TEAM, ok=302)
    assert EvidenceItem.objects.get(pk=world["item"]).title == "Missing children policy"


def test_only_the_team_removes_evidence(client, world):  # noqa: F811
    drafted = world["drafted"]
    found = statuses(
        client,
        drafted.fw,
        "post",
        _url(world, "findings:evidence-delete", "pk", "item"),
        data=lambda: {"confirm": "on"},
        effect=_count(EvidenceItem, pk=world["item"]),
    )
    assert found == expected(TEAM, ok=302)
    assert EvidenceItem.objects.filter(pk=world["item"]).exists()


# A record of one inspection under another's address ----------------------------------------


@pytest.fixture
def two(drafted: Drafted) -> dict[str, Any]:
    """Inspection A (Northshire) with an evidence item, a written section, a disclosure hit and
    two published versions; inspection B (Southshire, whose team is `outsider` as its lead and
    `manager` as an inspector) with its own of each, and one published version."""
    fw = drafted.fw
    a, b = fw.inspection, fw.other_inspection
    a_item = findings_services.evidence_create(
        actor=drafted.users["inspector"], inspection=a, source="document", title="A's policy"
    )
    _publish_twice(drafted)
    drafted.write(SectionKind.FOREWORD, "We met Jane Smith at the station.")
    services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
    a_hit = DisclosureHit.objects.filter(report=drafted.report, hit_type="PERSON").first()
    assert a_hit is not None

    outsider, manager = drafted.users["outsider"], drafted.users["manager"]
    b_item = findings_services.evidence_create(
        actor=outsider, inspection=b, source="document", title="B's policy"
    )
    b_report = services.report_start(actor=outsider, inspection=b)
    b_foreword = ReportSection.objects.get(report=b_report, kind=SectionKind.FOREWORD)
    services.section_save(
        actor=manager,
        section=b_foreword,
        body="We met John Brown at the station.",
        expected_version=b_foreword.version,
    )
    b_summary = ReportSection.objects.get(report=b_report, kind=SectionKind.SUMMARY)
    services.section_save(
        actor=manager,
        section=b_summary,
        body="Southshire Police keeps children safe.",
        expected_version=b_summary.version,
    )
    services.disclosure_run(actor=outsider, report=b_report)
    b_hit = DisclosureHit.objects.filter(report=b_report, hit_type="PERSON").first()
    assert b_hit is not None
    for hit in DisclosureHit.objects.filter(report=b_report, status="open"):
        services.hit_dismiss(actor=outsider, hit=hit, reason="Named in public, not a child")
    for target in (State.REPORTING, State.QUALITY_ASSURANCE):
        inspection_services.inspection_transition(
            actor=manager, inspection=b, target=target, on=TODAY
        )
    services.small_numbers_withhold_all(actor=outsider, report=b_report)
    services.report_sign_off(actor=outsider, report=b_report)
    services.report_publish(actor=manager, report=b_report, on=TODAY)
    assert Publication.objects.filter(report=b_report).count() == 1
    return {
        "drafted": drafted,
        "a": a.pk,
        "b": b.pk,
        "a_item": a_item.pk,
        "b_item": b_item.pk,
        "a_section": drafted.section(SectionKind.FOREWORD).pk,
        "b_section": b_foreword.pk,
        "a_hit": a_hit.pk,
        "b_hit": b_hit.pk,
    }


# (URL name, arguments for "under B's address with A's record", the same with B's record)
CROSS = {
    "evidence-item": (
        "findings:evidence-edit",
        ("b", "a_item"),
        ("b", "b_item"),
    ),
    "evidence-delete": (
        "findings:evidence-delete",
        ("b", "a_item"),
        ("b", "b_item"),
    ),
    "section": ("reports:section", ("b", "en", "a_section"), ("b", "en", "b_section")),
    "revision": (
        "reports:revision",
        ("b", "en", "a_section", 1),
        ("b", "en", "b_section", 1),
    ),
    "hit": ("reports:hit-dismiss", ("b", "en", "a_hit"), ("b", "en", "b_hit")),
    # A has versions 1 and 2; B only version 1.
    "version": ("reports:withdraw", ("b", "en", 2), ("b", "en", 1)),
}


# Only the programme manager opens the withdraw page at all (B's lead gets 403 for any version).
CROSS_CASES = [
    (case, user)
    for user in ("outsider", "manager")
    for case in CROSS
    if not (case == "version" and user == "outsider")
]


@pytest.mark.parametrize(("case", "user"), CROSS_CASES, ids=[f"{u}-{c}" for c, u in CROSS_CASES])
def test_a_record_of_another_inspection_is_not_found(client, two, case, user):
    """`outsider` leads B and cannot see A; `manager` is on B's team and, as programme
    manager, reads A too: for both only B's own records are found under B's address."""
    name, crossed, own = CROSS[case]
    drafted = two["drafted"]
    client.force_login(drafted.users[user])
    assert client.get(_url(two, name, *own)).status_code == 200
    response = client.get(_url(two, name, *crossed))
    assert response.status_code == 404
    # And A's record is there, under A's address, for A's team.
    client.force_login(drafted.users["manager" if name == "reports:withdraw" else "inspector"])
    under_a = ["a" if arg == "b" else arg for arg in crossed]
    assert client.get(_url(two, name, *under_a)).status_code == 200


def test_writes_to_a_record_of_another_inspection_change_nothing(client, two):
    drafted = two["drafted"]
    client.force_login(drafted.users["manager"])  # on B's team, and reads A
    section = ReportSection.objects.get(pk=two["a_section"])
    response = client.post(
        _url(two, "reports:section", "b", "en", "a_section"),
        {"body": "Overwritten.", "version": section.version},
    )
    assert response.status_code == 404
    assert ReportSection.objects.get(pk=two["a_section"]).version == section.version
    for name in ("reports:hit-redact", "reports:hit-dismiss"):
        response = client.post(
            _url(two, name, "b", "en", "a_hit"), {"reason": "Not a real person, honestly"}
        )
        assert response.status_code == 404
    assert DisclosureHit.objects.get(pk=two["a_hit"]).status == "open"
    response = client.post(
        _url(two, "findings:evidence-edit", "b", "a_item"),
        {"source": "document", "title": "Overwritten", "version": 1},
    )
    assert response.status_code == 404
    response = client.post(_url(two, "findings:evidence-delete", "b", "a_item"), {"confirm": "on"})
    assert response.status_code == 404
    assert EvidenceItem.objects.get(pk=two["a_item"]).title == "A's policy"
    # Version 1 under B's address is B's own (current, so refused); A's version 1 is untouched.
    response = client.post(
        _url(two, "reports:withdraw", "b", "en", 1), {"reason": "It named a child"}
    )
    assert response.status_code == 200
    assert "This is the current version" in response.content.decode()
    a_report = Report.objects.get(inspection_id=two["a"], language="en")
    assert Publication.objects.get(report=a_report, version=1).withdrawn_at is None


def test_a_finding_of_another_inspection_cannot_be_removed(client, two):
    drafted = two["drafted"]
    finding = Finding.objects.get(inspection_id=two["a"], kind=Kind.STRENGTH)
    client.force_login(drafted.users["outsider"])  # B's lead
    url = reverse("findings:finding-delete", args=[two["b"], finding.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"confirm": "on"}).status_code == 404
    assert Finding.objects.filter(pk=finding.pk).exists()
