"""Fixes from the security review: blindness until both marks are in, no changes after
fieldwork, row-locked submission, and bad input that used to end in a server error."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.fieldwork import intake, services
from apps.fieldwork.models import SampledCase
from apps.fieldwork.retention import remove_case_data
from apps.inspections.models import Inspection, State
from apps.notifications.models import Notification

from .conftest import SYSTEM, TODAY

AREAS = {"domestic_abuse": "Domestic abuse"}


def _selected(fw) -> SampledCase:
    fw.upload()
    fw.draw()
    return SampledCase.objects.filter(inspection=fw.inspection, for_moderation=True).first()


def test_marks_stay_hidden_until_both_are_submitted(fw, client):
    case = _selected(fw)
    first = fw.audit(case, "inspector")  # a draft
    second = fw.complete(fw.audit(case, "second", "second"), "inadequate")
    audit_url = reverse("fieldwork:audit", args=[fw.inspection.pk, second.pk])
    first_url = reverse("fieldwork:audit", args=[fw.inspection.pk, first.pk])

    client.force_login(fw.users["inspector"])  # the first auditor, still drafting
    assert client.get(audit_url).status_code == 404
    client.force_login(fw.users["third"])  # another inspector on the team
    assert client.get(audit_url).status_code == 404
    assert client.get(first_url).status_code == 404
    client.force_login(fw.users["lead"])
    assert client.get(audit_url).status_code == 200

    fw.complete(first, "good")
    client.force_login(fw.users["third"])
    assert client.get(audit_url).status_code == 200
    assert client.get(first_url).status_code == 200


@pytest.mark.parametrize("state", [State.QUALITY_ASSURANCE, State.PUBLISHED, State.CLOSED])
def test_audits_cannot_change_after_reporting(fw, state):
    case = _selected(fw)
    audit = fw.audit(case, "inspector")
    Inspection.objects.filter(pk=fw.inspection.pk).update(state=state)
    audit.inspection.refresh_from_db()
    with pytest.raises(services.FieldworkError, match="only during fieldwork and reporting"):
        services.audit_save(
            actor=fw.users["inspector"],
            audit=audit,
            version=audit.version,
            values={"overall_grade": "good"},
        )
    with pytest.raises(services.FieldworkError, match="only during fieldwork and reporting"):
        services.audit_submit(actor=fw.users["inspector"], audit=audit, version=audit.version)


def test_control_characters_in_the_team_are_refused():
    content = b"case_reference,audit_area,date_opened,team\nDA-1,domestic_abuse,2026-01-05,A\x00B\n"
    with pytest.raises(intake.CaseListRejected) as refused:
        intake.read_case_list(filename="c.csv", content=content, audit_areas=AREAS, today=TODAY)
    assert [(p.row, p.column) for p in refused.value.problems] == [(2, "team")]
    assert "control character" in refused.value.problems[0].reason


def test_a_very_wide_row_is_reported_not_a_crash():
    row = "DA-1,domestic_abuse,2026-01-05" + "," * 20_000 + "x"
    content = f"case_reference,audit_area,date_opened\n{row}\n".encode()
    with pytest.raises(intake.CaseListRejected) as refused:
        intake.read_case_list(filename="c.csv", content=content, audit_areas=AREAS, today=TODAY)
    assert "Column number 20,003 has values but no heading" in refused.value.problems[0].reason


def test_autosave_with_an_unrepresentable_version_is_a_clear_400(fw, client):
    case = _selected(fw)
    audit = fw.audit(case, "inspector")
    client.force_login(fw.users["inspector"])
    response = client.post(
        reverse("fieldwork:audit-save", args=[fw.inspection.pk, audit.pk]),
        data='{"version": Infinity, "values": {}}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "not understood" in json.loads(response.content)["error"]


def test_an_unknown_export_format_records_nothing(fw, client):
    client.force_login(fw.users["analyst"])
    before = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count()
    response = client.get(reverse("fieldwork:results-export", args=[fw.inspection.pk, "pdf"]))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == before


def test_retention_removes_the_notices_that_name_cases(fw):
    case = _selected(fw)
    services.referral_raise(actor=fw.users["inspector"], case=case, concern="At risk")
    assert Notification.objects.filter(subject__contains=case.reference).exists()
    Inspection.objects.filter(pk=fw.inspection.pk).update(state=State.CLOSED)
    remove_case_data(actor=SYSTEM, inspection=fw.inspection)
    assert not Notification.objects.filter(subject__contains=case.reference).exists()
