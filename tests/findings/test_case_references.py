"""Sampled cases' references on the findings pages: shown only to the inspection's
inspectors and lead inspector (fieldwork's `can_audit`), each page view that shows them
recorded once in the audit trail; everyone else who reads the register sees "A sampled case".
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.findings import services
from apps.findings.models import EvidenceItem
from apps.inspections.models import Inspection

pytestmark = pytest.mark.django_db

TEAM = ("lead", "inspector")
OTHER_STAFF = ("manager", "analyst", "admin")  # see the inspection, not on its team


@pytest.fixture
def linked(fw):
    """A drawn sample and an evidence item from the audit of one of its cases."""
    fw.upload()
    fw.draw()
    case = fw.inspection.sampled_cases.order_by("audit_area", "reference").first()
    item = services.evidence_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        source=EvidenceItem.Source.CASE_AUDIT,
        title="Audit of a missing child's case",
        sampled_case=case,
    )
    return fw, case, item


def _references(inspection: Inspection) -> list[str]:
    return list(inspection.sampled_cases.values_list("reference", flat=True))


def _reference_views(inspection: Inspection):
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW,
        object_type="inspections.inspection",
        object_id=str(inspection.pk),
        summary__startswith="Viewed the sample's case references",
    )


def _get(client, user, name: str, *args: int):
    client.force_login(user)
    return client.get(reverse(name, args=args))


# The evidence log ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", TEAM)
def test_the_team_sees_the_case_reference_in_the_evidence_log_and_it_is_recorded(
    client, linked, who
):
    fw, case, _item = linked
    response = _get(client, fw.users[who], "findings:evidence", fw.inspection.pk)
    assert response.status_code == 200
    assert case.reference in response.content.decode()
    views = list(_reference_views(fw.inspection))
    assert len(views) == 1
    assert views[0].actor == fw.users[who]
    assert views[0].summary == "Viewed the sample's case references in the evidence log"
    assert case.reference not in f"{views[0].object_repr} {views[0].summary}"


@pytest.mark.parametrize("who", OTHER_STAFF)
def test_other_staff_see_a_sampled_case_in_the_evidence_log_and_nothing_is_recorded(
    client, linked, who
):
    fw, case, _item = linked
    response = _get(client, fw.users[who], "findings:evidence", fw.inspection.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Audit of a missing child&#x27;s case" in html
    assert "A sampled case" in html
    assert case.reference not in html
    assert not _reference_views(fw.inspection).exists()


def test_an_evidence_log_without_cases_records_no_view_of_them(client, fw):
    services.evidence_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        source=EvidenceItem.Source.INTERVIEW,
        title="Focus group with MASH staff",
    )
    response = _get(client, fw.users["inspector"], "findings:evidence", fw.inspection.pk)
    assert response.status_code == 200
    assert not _reference_views(fw.inspection).exists()


# The evidence item's page -------------------------------------------------------------------


@pytest.mark.parametrize("who", TEAM)
def test_the_team_sees_the_case_reference_on_the_item_page_and_it_is_recorded(client, linked, who):
    fw, case, item = linked
    response = _get(client, fw.users[who], "findings:evidence-edit", fw.inspection.pk, item.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'value="{case.pk}" selected>{case.reference}' in html
    assert _reference_views(fw.inspection).count() == 1
    # The notes' view is recorded as before, against the item.
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_type="findings.evidenceitem", object_id=str(item.pk)
    ).exists()


@pytest.mark.parametrize("who", OTHER_STAFF)
def test_other_staff_see_a_sampled_case_on_the_item_page_and_it_is_not_recorded(
    client, linked, who
):
    fw, _case, item = linked
    response = _get(client, fw.users[who], "findings:evidence-edit", fw.inspection.pk, item.pk)
    assert response.status_code == 200
    html = response.content.decode()
    assert "A sampled case" in html
    assert 'name="sampled_case"' not in html
    for reference in _references(fw.inspection):
        assert reference not in html
    assert not _reference_views(fw.inspection).exists()


# The evidence forms' list of the sample -----------------------------------------------------


@pytest.mark.parametrize("who", TEAM)
def test_the_team_chooses_the_case_by_reference_and_the_view_is_recorded(client, linked, who):
    fw, _case, _item = linked
    response = _get(client, fw.users[who], "findings:evidence-add", fw.inspection.pk)
    assert response.status_code == 200
    html = response.content.decode()
    for reference in _references(fw.inspection):
        assert reference in html
    views = list(_reference_views(fw.inspection))
    assert len(views) == 1
    assert views[0].summary == "Viewed the sample's case references in the evidence form"


@pytest.mark.parametrize("who", OTHER_STAFF)
def test_other_staff_get_no_evidence_form_nor_its_list_of_the_sample(client, linked, who):
    fw, _case, _item = linked
    response = _get(client, fw.users[who], "findings:evidence-add", fw.inspection.pk)
    assert response.status_code == 403
    html = response.content.decode()
    for reference in _references(fw.inspection):
        assert reference not in html
    assert not _reference_views(fw.inspection).exists()


def test_a_team_member_still_links_evidence_to_a_case(client, linked):
    fw, case, item = linked
    client.force_login(fw.users["second"])
    response = client.post(
        reverse("findings:evidence-add", args=[fw.inspection.pk]),
        {"source": "case_audit", "title": "Audit of a referral", "sampled_case": case.pk},
    )
    assert response.status_code == 302
    assert EvidenceItem.objects.get(title="Audit of a referral").sampled_case == case
    other_case = fw.inspection.sampled_cases.exclude(pk=case.pk).first()
    response = client.post(
        reverse("findings:evidence-edit", args=[fw.inspection.pk, item.pk]),
        {
            "source": "case_audit",
            "title": item.title,
            "sampled_case": other_case.pk,
            "version": item.version,
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.sampled_case == other_case
    # Saving shows no page, so records no view of the references.
    assert not _reference_views(fw.inspection).exists()
