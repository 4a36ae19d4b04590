"""Publication starts follow-up: the plan's due date, every recommendation's and cause of
concern's first status, and earlier recommendations it carries over marked as carried."""

from __future__ import annotations

import datetime as dt

from apps.findings import services as findings_services
from apps.findings.models import Finding, Kind, RecommendationStatusChange
from apps.findings.services import RecommendationTerms
from apps.followup.models import FollowUp
from apps.followup.selectors import concern_chain
from apps.inspections import services as inspection_services
from apps.inspections.models import Inspection, ProgrammeType, State
from apps.reports import services as report_services
from tests.reports.conftest import TODAY, drafted  # noqa: F401

from .conftest import SYSTEM, publish_as_history


def test_first_publication_starts_follow_up_and_carries_over(drafted):  # noqa: F811
    fw = drafted.fw
    # An earlier, published inspection of the same force, with a cause of concern.
    earlier = inspection_services.inspection_create(
        actor=SYSTEM,
        title="Northshire NCPI 2024",
        programme_type=ProgrammeType.NCPI,
        methodology=fw.methodology,
        forces=list(fw.inspection.forces.all()),
        fieldwork_start=dt.date(2024, 3, 4),
        fieldwork_end=dt.date(2024, 3, 22),
        planned_on=dt.date(2023, 12, 1),
        reference="NCPI-2024-001",
    )
    Inspection.objects.filter(pk=earlier.pk).update(state=State.FIELDWORK)
    earlier.refresh_from_db()
    inspection_services.team_member_add(
        actor=SYSTEM, inspection=earlier, user=fw.users["lead"], role="lead_inspector"
    )
    old_cause = findings_services.finding_create(
        actor=fw.users["lead"],
        inspection=earlier,
        kind=Kind.CAUSE_OF_CONCERN,
        headline="The force does not understand the risks to missing children.",
        recommendations=[RecommendationTerms(headline="Assess the risk to every missing child.")],
    )
    old_rec = Finding.objects.get(cause_of_concern=old_cause)
    publish_as_history(earlier, on=dt.date(2024, 7, 1))
    # The new report carries the cause of concern over: an enduring cause of concern.
    new_cause = findings_services.finding_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        kind=Kind.CAUSE_OF_CONCERN,
        headline="The force still does not understand the risks to missing children.",
        carried_over_from=old_cause,
        recommendations=[
            RecommendationTerms(headline="Assess the risk to every missing child, every time.")
        ],
    )
    drafted.to_quality_assurance()
    report_services.disclosure_run(actor=fw.users["inspector"], report=drafted.report)
    report_services.small_numbers_withhold_all(actor=fw.users["inspector"], report=drafted.report)
    report_services.report_sign_off(actor=fw.users["lead"], report=drafted.report)
    report_services.report_publish(actor=fw.users["manager"], report=drafted.report, on=TODAY)

    follow_up = FollowUp.objects.get(inspection=fw.inspection)
    assert follow_up.published_on == TODAY
    assert follow_up.action_plan_due_on == TODAY + dt.timedelta(weeks=6)
    published = Finding.objects.filter(
        inspection=fw.inspection, kind__in=[Kind.RECOMMENDATION, Kind.CAUSE_OF_CONCERN]
    )
    assert published.count() == 4
    assert set(published.values_list("status", "status_on")) == {("awaiting_response", TODAY)}
    old_cause.refresh_from_db()
    assert old_cause.status == "carried_over"
    step = RecommendationStatusChange.objects.filter(recommendation=old_cause).last()
    assert step.note == f"Carried into {fw.inspection.reference}"
    # The old cause's own recommendation stays as it was: only what was carried is marked.
    old_rec.refresh_from_db()
    assert old_rec.status == "awaiting_response"
    assert [f.pk for f in concern_chain(new_cause)] == [old_cause.pk, new_cause.pk]
    assert [f.pk for f in concern_chain(old_cause)] == [old_cause.pk, new_cause.pk]
