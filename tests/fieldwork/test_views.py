"""The fieldwork pages: what they show, what they store, how they refuse, what they record
in the audit trail, and that they make a fixed number of queries whatever the sample size."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter

import openpyxl
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.fieldwork import draw, sample_size, services
from apps.fieldwork.models import (
    CaseAudit,
    CaseList,
    EligibleCase,
    Judgement,
    Referral,
    Sample,
    SampledCase,
)
from apps.frameworks import loaders
from apps.inspections.models import Inspection

from .conftest import AREAS, TODAY, Fieldwork

GOOD, RI, INADEQUATE = "good", "requires improvement", "inadequate"
SCALE = [GOOD, RI, INADEQUATE]


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _login(client, fw: Fieldwork, user: str) -> None:
    client.force_login(fw.users[user])


def _url(name: str, fw: Fieldwork, *args) -> str:
    return reverse(name, args=[fw.inspection.pk, *args])


def _in_sample(fw: Fieldwork, **filters) -> list[SampledCase]:
    return list(
        SampledCase.objects.filter(
            inspection=fw.inspection, status=SampledCase.Status.IN_SAMPLE, **filters
        )
    )


# Case list upload ---------------------------------------------------------------------------


def _upload(client, fw: Fieldwork, content: bytes, name: str = "cases.csv"):
    return client.post(
        _url("fieldwork:case-list-upload", fw),
        {"file": SimpleUploadedFile(name, content, "text/csv")},
    )


def test_a_bad_file_is_refused_with_every_problem_listed(client, fw):
    _login(client, fw, "liaison")
    content = (
        b"case_reference,audit_area,date_opened\n"
        b"DA-00001,domestic_abuse,2026-01-10\n"
        b"DA-00002,space_crime,2026-01-10\n"
        b"DA-00003,domestic_abuse,not a date\n"
        b",missing_children,2026-01-11\n"
    )
    response = _upload(client, fw, content)
    assert response.status_code == 400
    page = _text(response)
    assert "The file has 3 problems and nothing from it has been stored" in page
    rows = re.findall(
        r'<tr class="govuk-table__row"><td class="govuk-table__cell">(.*?)</td>'
        r'<td class="govuk-table__cell">(.*?)</td><td class="govuk-table__cell">(.*?)</td></tr>',
        page.split('id="problem-table"')[1],
    )
    assert [(row, column) for row, column, _ in rows] == [
        ("3", "audit_area"),
        ("4", "date_opened"),
        ("5", "case_reference"),
    ]
    assert "not one of this inspection's areas" in rows[0][2]
    assert "not a date" in rows[1][2]
    assert "blank" in rows[2][2]
    assert not CaseList.objects.exists()
    assert not EligibleCase.objects.exists()


def test_a_good_file_is_stored(client, fw):
    _login(client, fw, "liaison")
    response = _upload(client, fw, fw.case_list_csv(per_area=4))
    assert response.status_code == 302
    assert response.url == _url("fieldwork:overview", fw)
    case_list = CaseList.objects.get(inspection=fw.inspection)
    assert (case_list.row_count, case_list.uploaded_by) == (12, fw.users["liaison"])
    assert EligibleCase.objects.filter(inspection=fw.inspection).count() == 12
    page = _text(client.get(response.url))
    assert "cases.csv: 12 eligible cases stored." in page


def test_a_file_over_the_size_limit_is_refused(client, fw, settings):
    settings.FIELDWORK_MAX_UPLOAD_BYTES = 1024 * 1024
    _login(client, fw, "lead")
    rows = "".join(f"DA-{n:07d},domestic_abuse,2026-01-10\n" for n in range(40_000))
    content = ("case_reference,audit_area,date_opened\n" + rows).encode()
    assert len(content) > 1024 * 1024
    response = _upload(client, fw, content)
    assert "The file must be smaller than 1 MB." in _text(response)
    assert response.status_code == 400
    assert not EligibleCase.objects.exists()


def test_an_upload_after_the_draw_is_refused(client, fw):
    fw.upload(per_area=5)
    fw.draw(quotas={"domestic_abuse": 2})
    _login(client, fw, "lead")
    response = _upload(client, fw, fw.case_list_csv(per_area=6))
    assert "sample has already been drawn" in _text(response)
    assert response.status_code == 400
    assert EligibleCase.objects.count() == 15


# Drawing the sample -------------------------------------------------------------------------


def _input_value(page: str, name: str) -> str | None:
    """The value of the named input in the page's HTML (as sent, not unescaped)."""
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert tag, name
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def test_the_calculator_shows_its_steps_and_fills_in_the_quotas(client, fw):
    fw.upload(inspection=fw.inspection, per_area=40)
    services.case_list_upload(
        actor=fw.users["lead"],
        inspection=fw.inspection,
        filename="more.csv",
        content=(
            "case_reference,audit_area,date_opened\n"
            + "".join(f"OCA-{n:05d},online_child_abuse,2026-03-01\n" for n in range(12))
        ).encode(),
        today=TODAY,
    )
    frame = {area: 40 for area in AREAS} | {"online_child_abuse": 12}
    _login(client, fw, "lead")
    response = client.get(
        _url("fieldwork:sample", fw),
        {"proportion": "50", "margin": "10", "confidence": "0.95", "minimum": "5"},
    )
    assert response.status_code == 200
    raw = response.content.decode()
    page = _text(response)
    result = sample_size.sample_size(population=132, proportion=0.5, margin=0.1, confidence=0.95)
    quotas = sample_size.allocate_quotas(result.required, frame, minimum=5)
    assert f"{result.required} cases from 132 eligible" in re.sub(r"<[^>]+>", "", page)
    for step in result.steps:
        assert step in page
    for area, quota in quotas.items():
        assert _input_value(raw, f"quota_{area}") == str(quota)
    assert sum(quotas.values()) == result.required
    calculation = json.loads(_input_value(raw, "calculation") or "")
    assert calculation["required"] == result.required
    assert calculation["population"] == 132


def test_without_the_calculator_the_quotas_are_empty(client, fw):
    fw.upload(per_area=10)
    _login(client, fw, "lead")
    page = client.get(_url("fieldwork:sample", fw)).content.decode()
    assert 'id="calculation"' not in page
    assert _input_value(page, "quota_domestic_abuse") is None


def _draw_form(**overrides) -> dict[str, str]:
    return {
        "quota_domestic_abuse": "6",
        "quota_missing_children": "4",
        "quota_child_sexual_exploitation": "2",
        "rationale": "Proportionate to the frame",
        "seed": "view-seed",
        "moderation_share": "25",
        "moderation_minimum": "2",
        "kappa_threshold": "0.7",
        "calculation": json.dumps({"required": 12, "population": 30}),
    } | overrides


def test_drawing_the_sample(client, fw):
    fw.upload(per_area=10)
    _login(client, fw, "lead")
    response = client.post(_url("fieldwork:sample", fw), _draw_form())
    assert response.status_code == 302
    assert response.url == _url("fieldwork:sample", fw)
    sample = Sample.objects.get(inspection=fw.inspection)
    assert sample.quotas == {
        "child_sexual_exploitation": 2,
        "domestic_abuse": 6,
        "missing_children": 4,
    }
    assert (sample.seed, sample.rationale) == ("view-seed", "Proportionate to the frame")
    assert sample.calculation == {"required": 12, "population": 30}
    assert str(sample.moderation_share) == "0.250"
    assert str(sample.kappa_threshold) == "0.700"
    assert len(_in_sample(fw)) == 12
    assert len(_in_sample(fw, for_moderation=True)) == 3
    page = _text(client.get(response.url))
    assert "Sample drawn with seed view-seed" in page
    for case in _in_sample(fw):
        assert case.reference in page
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_type="fieldwork.sample", object_id=str(sample.pk)
    ).exists()


def test_a_draw_asking_for_too_many_cases_is_refused(client, fw):
    fw.upload(per_area=10)
    _login(client, fw, "lead")
    response = client.post(_url("fieldwork:sample", fw), _draw_form(quota_domestic_abuse="11"))
    assert response.status_code == 400
    assert "Domestic abuse: the case list has only 10 cases." in _text(response)
    assert not Sample.objects.exists()


def test_a_malformed_calculation_does_not_break_the_draw(client, fw):
    fw.upload(per_area=10)
    _login(client, fw, "lead")
    response = client.post(_url("fieldwork:sample", fw), _draw_form(calculation="{not json"))
    assert response.status_code == 302
    assert Sample.objects.get(inspection=fw.inspection).calculation == {}


# The audit form -----------------------------------------------------------------------------


@pytest.fixture
def draft(fw) -> CaseAudit:
    fw.upload()
    fw.draw()
    case = _in_sample(fw, for_moderation=False)[0]
    return fw.audit(case, "inspector")


def _views(audit: CaseAudit):
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_type="fieldwork.caseaudit", object_id=str(audit.pk)
    )


def test_each_showing_of_an_audit_is_recorded(client, fw, draft):
    url = _url("fieldwork:audit", fw, draft.pk)
    _login(client, fw, "inspector")
    assert "data-autosave-url" in _text(client.get(url))  # the auditor's own draft
    assert client.get(url).status_code == 200
    _login(client, fw, "lead")
    assert client.get(url).status_code == 200
    _login(client, fw, "third")
    assert "data-autosave-url" not in _text(client.get(url))  # read only for the team
    assert [e.actor_label for e in _views(draft).order_by("id")] == [
        "inspector",
        "inspector",
        "lead",
        "third",
    ]
    # Someone the audit is hidden from leaves no "view".
    _login(client, fw, "analyst")
    assert client.get(url).status_code == 404
    assert _views(draft).count() == 4


def _autosave(client, fw, audit, body, **kwargs):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        _url("fieldwork:audit-save", fw, audit.pk), data, content_type="application/json", **kwargs
    )


def test_autosave_returns_the_new_version(client, fw, draft):
    _login(client, fw, "inspector")
    response = _autosave(
        client, fw, draft, {"version": draft.version, "values": {"overall_notes": "Typed"}}
    )
    assert response.status_code == 200
    assert response.json()["version"] == draft.version + 1
    assert re.fullmatch(r"\d\d:\d\d:\d\d", response.json()["saved_at"])
    assert CaseAudit.objects.get(pk=draft.pk).overall_notes == "Typed"


def test_autosave_conflict_is_refused_with_the_current_version(client, fw, draft):
    services.audit_save(
        actor=fw.users["lead"], audit=draft, version=draft.version, values={"overall_grade": RI}
    )
    _login(client, fw, "inspector")
    response = _autosave(
        client, fw, draft, {"version": draft.version, "values": {"overall_grade": GOOD}}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["version"] == draft.version + 1
    assert "Lead saved this audit at" in body["error"]
    assert "Your last change has not been saved" in body["error"]
    assert CaseAudit.objects.get(pk=draft.pk).overall_grade == RI


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        json.dumps({"values": {"overall_grade": "good"}}),
        json.dumps({"version": "one", "values": {}}),
        json.dumps({"version": 1, "values": ["overall_grade"]}),
    ],
)
def test_autosave_refuses_malformed_json(client, fw, draft, body):
    _login(client, fw, "inspector")
    response = _autosave(client, fw, draft, body)
    assert response.status_code == 400
    assert response.json() == {"error": "The saved data was not understood."}
    assert CaseAudit.objects.get(pk=draft.pk).version == draft.version


def test_autosave_refuses_a_value_the_audit_cannot_take(client, fw, draft):
    _login(client, fw, "inspector")
    response = _autosave(
        client, fw, draft, {"version": draft.version, "values": {"overall_grade": "superb"}}
    )
    assert response.status_code == 400
    assert "not a grade" in response.json()["error"]


def _form_for(audit: CaseAudit, grade: str) -> dict[str, str]:
    values = {}
    for name, field in services.audit_fields(audit).items():
        values[name] = grade if field.part == "grade" else f"Evidence for {name}"
    return values


def test_the_whole_form_saves_without_javascript(client, fw, draft):
    _login(client, fw, "inspector")
    form = _form_for(draft, GOOD) | {"version": str(draft.version), "save": "1"}
    response = client.post(_url("fieldwork:audit", fw, draft.pk), form)
    assert response.status_code == 302
    assert response.url == _url("fieldwork:audit", fw, draft.pk)
    audit = CaseAudit.objects.get(pk=draft.pk)
    assert (audit.status, audit.overall_grade) == (CaseAudit.Status.DRAFT, GOOD)
    assert audit.version == draft.version + 1
    assert Judgement.objects.filter(audit=audit).exclude(grade=GOOD).count() == 0
    judgements = (len(services.audit_fields(audit)) - 2) // 2  # a grade and notes each
    assert Judgement.objects.filter(audit=audit).count() == judgements


def test_submitting_an_incomplete_form_shows_what_is_missing_and_keeps_what_was_typed(
    client, fw, draft
):
    _login(client, fw, "inspector")
    form = _form_for(draft, RI)
    stage = fw.methodology.stages_for_area(draft.sampled_case.audit_area)[-1]
    criterion = stage["criteria"][-1]
    missing = f"j:{stage['code']}:{criterion['code']}:grade"
    del form[missing]
    del form["overall_grade"]
    form["overall_notes"] = "Typed before submitting <b>safely</b>"
    form |= {"version": str(draft.version), "submit": "1"}
    response = client.post(_url("fieldwork:audit", fw, draft.pk), form)
    assert response.status_code == 400
    page = _text(response)
    assert "There is a problem" in page
    assert f"{stage['name']}: grade '{criterion['text']}'" in page
    assert "Give the case its overall grade" in page
    assert "Typed before submitting <b>safely</b>" in page  # escaped, then unescaped here
    assert "<b>safely</b>" not in response.content.decode()
    other = f"j:{stage['code']}::grade"
    assert re.search(rf'name="{re.escape(other)}" type="radio" value="{RI}" checked', page)
    audit = CaseAudit.objects.get(pk=draft.pk)
    assert audit.status == CaseAudit.Status.DRAFT
    assert audit.overall_notes == "Typed before submitting <b>safely</b>"  # kept as a draft
    assert _input_value(response.content.decode(), "version") == str(audit.version)


def test_submitting_the_complete_form(client, fw, draft):
    _login(client, fw, "inspector")
    form = _form_for(draft, INADEQUATE) | {"version": str(draft.version), "submit": "1"}
    response = client.post(_url("fieldwork:audit", fw, draft.pk), form)
    assert response.status_code == 302
    assert response.url == _url("fieldwork:sample", fw)
    audit = CaseAudit.objects.get(pk=draft.pk)
    assert audit.status == CaseAudit.Status.SUBMITTED
    assert audit.sampled_case.final_grade == INADEQUATE
    page = _text(client.get(_url("fieldwork:audit", fw, draft.pk)))
    assert "data-autosave-url" not in page
    assert "Submit the audit" not in page


def test_a_stale_form_is_refused_and_keeps_what_was_typed(client, fw, draft):
    services.audit_save(
        actor=fw.users["lead"], audit=draft, version=draft.version, values={"overall_grade": RI}
    )
    _login(client, fw, "inspector")
    form = {"version": str(draft.version), "overall_notes": "My typing", "save": "1"}
    response = client.post(_url("fieldwork:audit", fw, draft.pk), form)
    assert response.status_code == 409
    page = _text(response)
    assert "Lead saved this audit at" in page
    assert "My typing" in page
    assert CaseAudit.objects.get(pk=draft.pk).overall_notes == ""


# Results ------------------------------------------------------------------------------------

FINAL = [GOOD] * 10 + [RI] * 12 + [INADEQUATE] * 8


@pytest.fixture
def graded(fw) -> dict[str, Counter[str]]:
    """30 cases submitted: 10 good, 12 requires improvement and 8 inadequate (the cases
    selected for second marking are second-marked with the same grade, since until then a
    case's grade is withheld from results)."""
    fw.upload()
    fw.draw()
    by_area: dict[str, Counter[str]] = {area: Counter() for area in AREAS}
    cases = sorted(_in_sample(fw), key=lambda c: (c.audit_area, c.position))
    for case, grade in zip(cases, FINAL, strict=True):
        fw.complete(fw.audit(case, "inspector"), grade)
        if case.for_moderation:
            fw.complete(fw.audit(case, "second", "second"), grade)
        by_area[case.audit_area][grade] += 1
    return by_area


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def test_results_count_the_final_grades(client, fw, graded):
    _login(client, fw, "analyst")
    response = client.get(_url("fieldwork:results", fw))
    assert response.status_code == 200
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _text(response)))
    assert "30 cases graded: 10 good, 12 requires improvement, 8 inadequate." in page
    for area in AREAS:
        name = fw.methodology.audit_area(area)["name"]
        counts = [graded[area][g] for g in SCALE]
        total = sum(counts)
        cells = " ".join(f"{n} ({round(100 * n / total)}%)" for n in counts)
        assert f"{name} {cells} {total}" in page
    assert "All cases 10 (33%) 12 (40%) 8 (27%) 30" in page
    counted = Counter(
        SampledCase.objects.filter(inspection=fw.inspection).values_list("final_grade", flat=True)
    )
    assert counted == Counter(FINAL)


def test_the_exports_agree_with_the_page_and_are_recorded(client, fw, graded):
    _login(client, fw, "manager")
    response = client.get(_url("fieldwork:results-export", fw, "csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"{fw.inspection.reference}-case-grades.csv" in response["Content-Disposition"]
    rows = _csv_rows(response.content)
    assert rows[0] == ["table", "row", "grade", "cases", "percent"]
    by_area = {
        (row, grade): int(cases)
        for table, row, grade, cases, _ in rows[1:]
        if table == "Case grades by audit area"
    }
    assert {g: by_area[("All cases", g)] for g in SCALE} == {GOOD: 10, RI: 12, INADEQUATE: 8}
    for area in AREAS:
        name = fw.methodology.audit_area(area)["name"]
        assert {g: by_area[(name, g)] for g in SCALE} == {g: graded[area][g] for g in SCALE}
    this = f"This inspection ({fw.inspection.reference})"
    common = {
        grade: int(cases)
        for table, row, grade, cases, _ in rows[1:]
        if table == "Case grades on the common scale" and row == this
    }
    assert common == {
        "Good or better": 10,
        "Requires improvement or adequate": 12,
        "Inadequate": 8,
    }
    percent = next(r for r in rows if r[1] == "All cases" and r[2] == RI)[4]
    assert percent == "40.0"

    response = client.get(_url("fieldwork:results-export", fw, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook["Case grades"]
    xlsx_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert xlsx_rows[0] == rows[0]
    assert [r[:3] for r in xlsx_rows[1:]] == [r[:3] for r in rows[1:]]
    assert [(int(r[3]), float(r[4])) for r in xlsx_rows[1:]] == [
        (int(r[3]), float(r[4])) for r in rows[1:]
    ]

    events = AuditEvent.objects.filter(
        action=AuditEvent.Action.EXPORT,
        object_type="inspections.inspection",
        object_id=str(fw.inspection.pk),
    ).order_by("id")
    assert [(e.actor_label, e.summary) for e in events] == [
        ("manager", "Exported case grade results as CSV"),
        ("manager", "Exported case grade results as XLSX"),
    ]


def test_an_unknown_export_format_is_not_found(client, fw):
    _login(client, fw, "analyst")
    assert client.get(_url("fieldwork:results-export", fw, "pdf")).status_code == 404


def test_the_national_page_shows_the_grades_and_the_mapping(client, fw):
    for inspection, lead, primary, second in (
        (fw.inspection, "lead", "inspector", "second"),
        (fw.other_inspection, "outsider", "manager", "outsider"),
    ):
        fw.upload(inspection=inspection, per_area=5)
        services.sample_draw(
            actor=fw.users[lead],
            inspection=inspection,
            request=services.DrawRequest(quotas=dict.fromkeys(AREAS, 5), rationale="T"),
        )
        _grade_in_bulk(inspection, fw.users[primary], fw.users[second])
    counts = Counter(SampledCase.objects.values_list("comparable_grade", flat=True))
    assert counts.total() == 30
    cells = " ".join(
        f"{counts[code]} ({round(100 * counts[code] / 30)}%)"
        for code, _ in loaders.COMPARABLE_SCALE
    )
    _login(client, fw, "analyst")
    response = client.get(reverse("fieldwork:national"))
    assert response.status_code == 200
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _text(response)))
    assert "Every graded case of 2 inspections, on the common scale" in page
    assert f"2026 {cells} 30" in page
    assert "How grades are made comparable" in page
    assert fw.methodology.title in page
    for grade in fw.methodology.grade_scale:
        band = dict(loaders.COMPARABLE_SCALE)[fw.methodology.comparable(grade)]
        assert f"{grade.capitalize()} {band}" in page


# Agreement and moderation -------------------------------------------------------------------


def test_the_agreement_page_says_when_kappa_is_undefined(client, fw):
    """With one grade used by both markers there is no variation to agree about."""
    fw.upload()
    fw.draw()
    case = _in_sample(fw, for_moderation=True)[0]
    fw.complete(fw.audit(case, "inspector"), GOOD)
    fw.complete(fw.audit(case, "second", "second"), GOOD)
    _login(client, fw, "analyst")
    response = client.get(_url("fieldwork:agreement", fw))
    assert response.status_code == 200
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", _text(response)))
    assert "1 of 5 cases selected for blind second marking have both marks submitted" in page
    assert "Cohen's kappa undefined" in page


def test_changing_the_moderation_settings_through_the_page(client, fw):
    fw.upload()
    sample = fw.draw()
    _login(client, fw, "lead")
    url = _url("fieldwork:moderation", fw)
    form = {"version": "1", "moderation_share": "50", "moderation_minimum": "5"}
    form["kappa_threshold"] = "0.5"
    response = client.post(url, form)
    assert response.status_code == 302
    sample.refresh_from_db()
    assert (str(sample.moderation_share), sample.version) == ("0.500", 2)
    assert len(_in_sample(fw, for_moderation=True)) == 15
    # The same form again is out of date.
    response = client.post(url, form | {"moderation_share": "20"})
    assert response.status_code == 400
    assert "Someone else changed the moderation settings" in _text(response)
    sample.refresh_from_db()
    assert str(sample.moderation_share) == "0.500"


# Referrals ----------------------------------------------------------------------------------


def test_the_referral_flow_through_the_pages(client, fw):
    fw.upload()
    fw.draw()
    case = _in_sample(fw)[0]
    _login(client, fw, "inspector")
    response = client.post(
        _url("fieldwork:referral-create", fw, case.pk), {"concern": "Bruising seen on video"}
    )
    referral = Referral.objects.get(sampled_case=case)
    assert response.status_code == 302
    assert response.url == _url("fieldwork:referral", fw, referral.pk)
    assert "The lead inspector and the force have been told" in _text(client.get(response.url))

    url = _url("fieldwork:referral", fw, referral.pk)
    _login(client, fw, "liaison")
    page = _text(client.get(url))
    assert "Bruising seen on video" in page
    assert "Acknowledge the referral" in page
    assert "Close the referral" not in page
    assert client.post(url, {"step": "acknowledge"}).status_code == 302
    response = client.post(url, {"step": "action", "force_action": "Officers visited today"})
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.ACTIONED

    # Too late to acknowledge now: refused, and nothing changes.
    response = client.post(url, {"step": "acknowledge"})
    assert response.status_code == 400
    assert "already" in _text(response)
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.ACTIONED

    _login(client, fw, "lead")
    response = client.post(url, {"step": "close", "closing_note": ""})
    assert response.status_code == 400
    assert "Say why the referral can be closed." in _text(response)
    response = client.post(url, {"step": "close", "closing_note": "The force acted at once"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.closed_by) == (Referral.Status.CLOSED, fw.users["lead"])
    page = _text(client.get(url))
    assert "Officers visited today" in page and "The force acted at once" in page

    views = AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_type="fieldwork.referral", object_id=str(referral.pk)
    )
    assert {e.actor_label for e in views} == {"inspector", "liaison", "lead"}

    listing = _text(client.get(_url("fieldwork:referrals", fw)))
    assert case.reference in listing and "Closed" in listing


def test_closing_before_the_force_acts_is_refused(client, fw):
    fw.upload()
    fw.draw()
    referral = services.referral_raise(
        actor=fw.users["inspector"], case=_in_sample(fw)[0], concern="Risk"
    )
    _login(client, fw, "lead")
    url = _url("fieldwork:referral", fw, referral.pk)
    response = client.post(url, {"step": "close", "closing_note": "Nothing to do"})
    assert response.status_code == 400
    assert "once the force has recorded its action" in _text(response)
    assert Referral.objects.get(pk=referral.pk).status == Referral.Status.RAISED


def test_a_referral_needs_a_concern(client, fw):
    fw.upload()
    fw.draw()
    case = _in_sample(fw)[0]
    _login(client, fw, "inspector")
    response = client.post(_url("fieldwork:referral-create", fw, case.pk), {"concern": ""})
    assert response.status_code == 400
    assert "Describe why the child appears to be at risk now." in _text(response)
    assert not Referral.objects.exists()


def test_the_overview_warns_of_open_referrals(client, fw):
    fw.upload()
    fw.draw()
    services.referral_raise(actor=fw.users["inspector"], case=_in_sample(fw)[0], concern="Risk")
    _login(client, fw, "liaison")
    page = _text(client.get(_url("fieldwork:overview", fw)))
    assert "1 child at risk referral still open" in page


# Notices in the header ----------------------------------------------------------------------


def test_the_header_counts_new_notices(client, fw):
    fw.upload()
    fw.draw()
    case = _in_sample(fw)[0]
    services.referral_raise(actor=fw.users["inspector"], case=case, concern="Risk")
    _login(client, fw, "liaison")
    page = _text(client.get(_url("fieldwork:overview", fw)))
    assert "Notices (1 new)" in page
    _login(client, fw, "third")
    assert "Notices (" not in _text(client.get(_url("fieldwork:overview", fw)))


# Query counts -------------------------------------------------------------------------------


def _grade_in_bulk(inspection: Inspection, primary, second) -> None:
    """Every case audited and every selected case second-marked, written directly: these
    tests are about reading, and both markers use several grades so kappa is defined."""
    methodology = inspection.methodology
    cases = list(SampledCase.objects.filter(inspection=inspection).order_by("pk"))
    now = timezone.now()
    audits = []
    moderated = 0
    for n, case in enumerate(cases):
        grade = SCALE[n % 3]
        if case.for_moderation:
            grade = SCALE[moderated % 3]
            other = SCALE[(moderated + moderated % 2) % 3]
            moderated += 1
            audits.append(
                CaseAudit(
                    sampled_case=case,
                    inspection=inspection,
                    kind=CaseAudit.Kind.SECOND,
                    auditor=second,
                    status=CaseAudit.Status.SUBMITTED,
                    overall_grade=other,
                    submitted_at=now,
                )
            )
        audits.append(
            CaseAudit(
                sampled_case=case,
                inspection=inspection,
                kind=CaseAudit.Kind.PRIMARY,
                auditor=primary,
                status=CaseAudit.Status.SUBMITTED,
                overall_grade=grade,
                overall_notes="Notes",
                submitted_at=now,
            )
        )
        case.final_grade = grade
        case.comparable_grade = methodology.comparable(grade) or ""
    audits = CaseAudit.objects.bulk_create(audits)
    SampledCase.objects.bulk_update(cases, ["final_grade", "comparable_grade"])
    by_case = {c.pk: c for c in cases}
    Judgement.objects.bulk_create(
        Judgement(audit=audit, stage=stage["code"], criterion="", grade=audit.overall_grade)
        for audit in audits
        for stage in methodology.stages_for_area(by_case[audit.sampled_case_id].audit_area)
    )
    services.referral_raise(actor=primary, case=cases[0], concern="Risk")


def _queries(client, fw: Fieldwork, user: str, url: str) -> tuple[int, list[str]]:
    _login(client, fw, user)
    cache.clear()  # the cold path: cached reads are computed again
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context), [q["sql"] for q in context.captured_queries]


def test_pages_make_the_same_queries_for_30_and_90_cases(client, fw):
    small, large = fw.inspection, fw.other_inspection
    fw.upload(inspection=small, per_area=40)
    fw.upload(inspection=large, per_area=40)
    for inspection, lead, per_area in ((small, "lead", 10), (large, "outsider", 30)):
        services.sample_draw(
            actor=fw.users[lead],
            inspection=inspection,
            request=services.DrawRequest(
                quotas={area: per_area for area in AREAS}, rationale="Tests", seed="q"
            ),
        )
    _grade_in_bulk(small, fw.users["inspector"], fw.users["second"])
    _grade_in_bulk(large, fw.users["manager"], fw.users["outsider"])
    assert SampledCase.objects.filter(inspection=large).count() == 90
    assert CaseAudit.objects.filter(inspection=large, kind="second").count() == 9
    pages = ["overview", "sample", "results", "agreement", "moderation"]
    for page in pages:
        few, _ = _queries(client, fw, "lead", reverse(f"fieldwork:{page}", args=[small.pk]))
        many, queries = _queries(
            client, fw, "outsider", reverse(f"fieldwork:{page}", args=[large.pk])
        )
        assert few == many, (page, few, many, "\n".join(queries))


def test_the_stratum_order_shown_is_the_one_drawn(client, fw):
    """The sample page lists, per area, exactly the first `quota` references of the draw's
    order (the seed on the page reproduces it)."""
    fw.upload(per_area=15)
    sample = fw.draw(quotas={"domestic_abuse": 4}, seed="shown")
    _login(client, fw, "lead")
    page = _text(client.get(_url("fieldwork:sample", fw)))
    assert "shown" in page and sample.frame_sha256 in page
    frame = EligibleCase.objects.filter(audit_area="domestic_abuse").values_list(
        "reference", flat=True
    )
    expected = draw.stratum_order("shown", "domestic_abuse", frame)[:4]
    assert re.findall(
        r'<th scope="row" class="govuk-table__header app-nowrap">(DA-[^<]+)</th>', page
    ) == (expected)
