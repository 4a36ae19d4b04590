"""The findings and report pages, as the team uses them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.findings.models import EvidenceItem, Finding
from apps.reports import services
from apps.reports.models import DisclosureHit, Publication, SectionKind

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def test_the_register_groups_findings_by_stage_with_their_evidence(client, drafted):
    client.force_login(drafted.users["inspector"])
    response = client.get(reverse("findings:register", args=[drafted.inspection.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Initial contact" in html and "Investigation" in html
    assert "Officers too often fail to see the risk" in html
    assert "Recommendation 1" in html
    # The 2016 methodology calls promising practice "effective practice".
    assert "Add effective practice" in html


def test_a_cause_of_concern_needs_its_first_recommendation_on_the_form(client, drafted):
    client.force_login(drafted.users["inspector"])
    url = reverse("findings:finding-add", args=[drafted.inspection.pk, "cause_of_concern"])
    before = Finding.objects.count()
    response = client.post(url, {"stage": "investigation", "headline": "Investigations stall."})
    assert response.status_code == 200
    assert "Enter the recommendation: a cause of concern needs at least one." in (
        response.content.decode()
    )
    assert Finding.objects.count() == before
    response = client.post(
        url,
        {
            "stage": "investigation",
            "headline": "Investigations stall.",
            "rec-headline": "Review every open investigation within a month.",
            "rec-to_force": "on",
            "rec-timescale": "months",
            "rec-timescale_months": "1",
        },
    )
    assert response.status_code == 302
    cause = Finding.objects.get(headline="Investigations stall.")
    assert cause.recommendations.get().timescale_months == 1


def test_a_recommendation_form_names_the_missing_field(client, drafted):
    client.force_login(drafted.users["inspector"])
    url = reverse("findings:finding-add", args=[drafted.inspection.pk, "recommendation"])
    response = client.post(
        url, {"stage": "", "headline": "Do better.", "timescale": "months", "to_force": "on"}
    )
    assert response.status_code == 200
    assert "Enter the number of months after publication, from 1 to 36." in (
        response.content.decode()
    )
    response = client.post(url, {"stage": "", "headline": "Do better.", "timescale": "immediately"})
    assert "Say who the recommendation is addressed to" in response.content.decode()
    assert not Finding.objects.filter(headline="Do better.").exists()


def test_a_stale_finding_edit_says_so_and_keeps_the_other_change(client, drafted):
    client.force_login(drafted.users["inspector"])
    finding = drafted.cause
    url = reverse("findings:finding-edit", args=[drafted.inspection.pk, finding.pk])
    data = {"stage": "initial_contact", "headline": "First.", "version": finding.version}
    assert client.post(url, data).status_code == 302
    response = client.post(url, {**data, "headline": "Second."})
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    finding.refresh_from_db()
    assert finding.headline == "First."


def test_viewing_evidence_notes_is_recorded(client, drafted):
    item = EvidenceItem.objects.create(
        inspection=drafted.inspection,
        source="interview",
        title="MASH meeting",
        notes="Backlog of 40.",
        created_by=drafted.users["inspector"],
    )
    client.force_login(drafted.users["analyst"])
    response = client.get(reverse("findings:evidence-edit", args=[drafted.inspection.pk, item.pk]))
    assert response.status_code == 200
    assert "Backlog of 40." in response.content.decode()
    assert 'name="notes"' not in response.content.decode()  # read-only for an analyst
    assert AuditEvent.objects.filter(
        action="view", object_type="findings.evidenceitem", object_id=str(item.pk)
    ).exists()


def test_a_section_conflict_keeps_the_typed_text(client, drafted):
    client.force_login(drafted.users["second"])
    section = drafted.section(SectionKind.CONCLUSION)
    url = reverse("reports:section", args=[drafted.inspection.pk, "en", section.pk])
    drafted.write(SectionKind.CONCLUSION, "Someone else's words.")
    response = client.post(url, {"body": "My words.", "version": section.version})
    assert response.status_code == 200
    html = response.content.decode()
    assert "after you opened it" in html
    assert "My words." in html
    section.refresh_from_db()
    assert section.body == "Someone else's words."


def test_the_preview_shows_the_report_as_it_would_be_published(client, drafted):
    client.force_login(drafted.users["analyst"])
    response = client.get(reverse("reports:preview", args=[drafted.inspection.pk, "en"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Causes of concern" in html
    assert "Make sure officers record the voice of the child" in html
    assert 'href="#summary"' in html


def test_the_whole_flow_through_the_pages(client, drafted):
    drafted.write(SectionKind.FOREWORD, "We met Jane Smith in Leeds LS6 2AB.")
    drafted.to_quality_assurance()
    pk = drafted.inspection.pk
    client.force_login(drafted.users["inspector"])
    client.post(reverse("reports:disclosure-run", args=[pk, "en"]))
    page = client.get(reverse("reports:disclosure", args=[pk, "en"])).content.decode()
    assert "Jane Smith" in page and "LS6 2AB" in page
    for hit in DisclosureHit.objects.filter(report=drafted.report, status="open"):
        response = client.post(reverse("reports:hit-redact", args=[pk, "en", hit.pk]))
        assert response.status_code == 302
    client.force_login(drafted.users["lead"])
    client.post(reverse("reports:sign-off", args=[pk, "en"]))
    client.force_login(drafted.users["manager"])
    page = client.get(reverse("reports:report", args=[pk])).content.decode()
    assert "To publish" not in page
    response = client.post(reverse("reports:publish", args=[pk, "en"]), {"on": TODAY.isoformat()})
    assert response.status_code == 302
    publication = Publication.objects.get()
    assert "Jane Smith" not in publication.body_html
    page = client.get(reverse("reports:report", args=[pk])).content.decode()
    assert "Published versions" in page


def test_publishing_with_problems_lists_every_reason(client, drafted):
    drafted.to_quality_assurance()
    client.force_login(drafted.users["manager"])
    pk = drafted.inspection.pk
    response = client.post(
        reverse("reports:publish", args=[pk, "en"]), {"on": TODAY.isoformat()}, follow=True
    )
    html = response.content.decode()
    assert "Not published: Run the disclosure check." in html
    assert "Not published: A lead inspector who did not write the report must sign it off." in html
    assert not Publication.objects.exists()


def test_a_kind_that_does_not_exist_is_not_found(client, drafted):
    client.force_login(drafted.users["inspector"])
    url = reverse("findings:finding-add", args=[drafted.inspection.pk, "gossip"])
    assert client.get(url).status_code == 404


def test_starting_the_report_from_its_page(client, fw):
    client.force_login(fw.users["inspector"])
    url = reverse("reports:report", args=[fw.inspection.pk])
    assert "Start the report" in client.get(url).content.decode()
    assert client.post(reverse("reports:start", args=[fw.inspection.pk])).status_code == 302
    assert "Preview the whole report" in client.get(url).content.decode()
    assert services.publication_blockers(fw.inspection.reports.get())


def test_a_withdrawn_version_is_gone_from_the_portal(client, drafted):
    drafted.to_quality_assurance()
    for version in (1, 2):
        if version == 2:
            drafted.write(SectionKind.SUMMARY, "Corrected.", user="second")
        services.disclosure_run(actor=drafted.users["inspector"], report=drafted.report)
        services.report_sign_off(actor=drafted.users["lead"], report=drafted.report)
        publication = services.report_publish(
            actor=drafted.users["manager"],
            report=drafted.report,
            on=TODAY,
            change_note="" if version == 1 else "Corrected the summary.",
        )
    slug = publication.slug
    assert client.get(f"/reports/{slug}/v1/").status_code == 200
    client.force_login(drafted.users["manager"])
    url = reverse("reports:withdraw", args=[drafted.inspection.pk, "en", 1])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "It named a child in the summary"})
    assert response.status_code == 302
    client.logout()
    assert client.get(f"/reports/{slug}/v1/").status_code == 404
    assert client.get(f"/reports/{slug}/v1/report.pdf").status_code == 404
    page = client.get(f"/reports/{slug}/")
    assert page.status_code == 200
    assert f"/reports/{slug}/v1/" not in page.content.decode()
