"""The retention schedule removes case-level detail and keeps every grade."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from apps.core.dates import add_months
from apps.core.models import AuditEvent
from apps.fieldwork import selectors, services
from apps.fieldwork.models import EligibleCase, Judgement, Referral, Sample, SampledCase
from apps.fieldwork.retention import apply_retention
from apps.inspections.models import Inspection, State
from tests.fieldwork.conftest import SYSTEM, TODAY


def _close(inspection: Inspection, on: dt.date) -> None:
    Inspection.objects.filter(pk=inspection.pk).update(state=State.CLOSED, state_changed_on=on)


@pytest.fixture
def audited(fw):
    fw.upload(per_area=20)
    fw.draw({"domestic_abuse": 6, "missing_children": 4, "child_sexual_exploitation": 0})
    cases = list(SampledCase.objects.filter(inspection=fw.inspection).order_by("pk"))
    for n, case in enumerate(cases):
        fw.complete(
            fw.audit(case, "inspector"), ["good", "requires improvement", "inadequate"][n % 3]
        )
    services.referral_raise(actor=fw.users["inspector"], case=cases[0], concern="Unsafe at home")
    return fw, cases


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2024, 3, 31), -1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2026, 11, 26), -24) == dt.date(2024, 11, 26)
    assert add_months(dt.date(2026, 1, 15), -13) == dt.date(2024, 12, 15)


def test_detail_goes_and_grades_stay(audited):
    fw, cases = audited
    before = selectors.inspection_results(fw.inspection)
    references = {c.reference for c in cases}
    _close(fw.inspection, add_months(TODAY, -25))

    result = apply_retention(actor=SYSTEM, today=TODAY, months=24)

    assert [r.reference for r in result.inspections] == [fw.inspection.reference]
    removed = result.inspections[0]
    assert removed.frame_rows == 3 * 20 - 10  # the unsampled rows of the case list
    assert EligibleCase.objects.filter(inspection=fw.inspection).count() == 10
    stored = set(
        SampledCase.objects.filter(inspection=fw.inspection).values_list("reference", flat=True)
    )
    assert not stored & references and all(r.startswith("case-") for r in stored)
    assert not set(EligibleCase.objects.values_list("reference", flat=True)) & references
    assert {j.notes for j in Judgement.objects.filter(audit__inspection=fw.inspection)} == {""}
    referral = Referral.objects.get(inspection=fw.inspection)
    assert referral.concern == "" and referral.reference.startswith("case-")
    with connection.cursor() as cursor:
        cursor.execute("SELECT concern FROM fieldwork_referral")
        assert cursor.fetchone()[0] == ""
    after = selectors.inspection_results(fw.inspection)
    assert after["by_area"].total.counts == before["by_area"].total.counts
    assert after["by_stage"].total.counts == before["by_stage"].total.counts
    assert Sample.objects.get(inspection=fw.inspection).case_data_removed_at is not None
    event = AuditEvent.objects.filter(action=AuditEvent.Action.SYSTEM).latest("at")
    assert "Retention" in event.summary and "Unsafe" not in event.summary

    again = apply_retention(actor=SYSTEM, today=TODAY, months=24)
    assert again.inspections == []  # done once


def test_inspections_within_the_period_or_not_closed_are_left_alone(audited):
    fw, cases = audited
    _close(fw.inspection, add_months(TODAY, -23))
    assert apply_retention(actor=SYSTEM, today=TODAY, months=24).inspections == []
    Inspection.objects.filter(pk=fw.inspection.pk).update(
        state=State.PUBLISHED, state_changed_on=add_months(TODAY, -60)
    )
    assert apply_retention(actor=SYSTEM, today=TODAY, months=24).inspections == []
    assert SampledCase.objects.get(pk=cases[0].pk).reference == cases[0].reference


def test_command_dry_run_changes_nothing(audited):
    fw, cases = audited
    _close(fw.inspection, add_months(TODAY, -30))
    out = StringIO()
    call_command("apply_retention", "--dry-run", "--today", TODAY.isoformat(), stdout=out)
    assert f"Due: {fw.inspection.reference}" in out.getvalue()
    assert SampledCase.objects.get(pk=cases[0].pk).reference == cases[0].reference
    call_command("apply_retention", "--today", TODAY.isoformat(), stdout=out)
    assert "1 inspection(s) closed on or before 2024-11-26 had their" in out.getvalue()
    assert SampledCase.objects.get(pk=cases[0].pk).reference != cases[0].reference
