"""The findings register's rules, tested through its services."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.core.models import AuditEvent
from apps.findings import services
from apps.findings.models import EvidenceItem, Finding, Kind, Timescale
from apps.findings.services import FindingsError, RecommendationTerms
from apps.inspections import services as inspection_services
from apps.inspections.models import State

pytestmark = pytest.mark.django_db


def _cause(fw, **overrides):
    values = {
        "actor": fw.users["inspector"],
        "inspection": fw.inspection,
        "kind": Kind.CAUSE_OF_CONCERN,
        "stage": "initial_contact",
        "headline": "Officers too often fail to identify children at risk when they attend.",
        "recommendations": [
            RecommendationTerms(
                headline="Within three months, train call handlers.", timescale_months=3
            )
        ],
    }
    values.update(overrides)
    return services.finding_create(**values)


def test_a_cause_of_concern_is_created_with_its_recommendations(fw):
    cause = _cause(fw)
    recs = list(cause.recommendations.all())
    assert len(recs) == 1
    assert recs[0].kind == Kind.RECOMMENDATION
    assert recs[0].number == 1
    assert recs[0].stage == "initial_contact"
    assert recs[0].addressees() == ["the force"]
    assert recs[0].timescale_text() == "Within 3 months of publication"
    creates = AuditEvent.objects.filter(action="create", object_type="findings.finding")
    assert creates.count() == 2


def test_a_cause_of_concern_without_a_recommendation_is_refused(fw):
    with pytest.raises(FindingsError, match="at least one recommendation"):
        _cause(fw, recommendations=[])
    assert not Finding.objects.exists()


def test_the_last_recommendation_of_a_cause_cannot_be_removed_or_moved(fw):
    cause = _cause(fw)
    rec = cause.recommendations.get()
    with pytest.raises(FindingsError, match="only recommendation"):
        services.finding_delete(actor=fw.users["inspector"], finding=rec)
    with pytest.raises(FindingsError, match="only recommendation"):
        services.finding_update(
            actor=fw.users["inspector"],
            finding=rec,
            expected_version=rec.version,
            cause_of_concern=None,
        )
    # With a second recommendation, the first can go.
    services.finding_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        kind=Kind.RECOMMENDATION,
        headline="Audit referrals monthly.",
        terms=RecommendationTerms(headline="", timescale=Timescale.IMMEDIATELY),
        cause_of_concern=cause,
    )
    services.finding_delete(actor=fw.users["inspector"], finding=rec)
    assert cause.recommendations.count() == 1


def test_removing_a_cause_removes_its_recommendations(fw):
    cause = _cause(fw)
    services.finding_delete(actor=fw.users["lead"], finding=cause)
    assert not Finding.objects.exists()
    assert AuditEvent.objects.filter(action="delete", object_type="findings.finding").count() == 2


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        (RecommendationTerms(headline="", to_force=False), "to_force"),
        (
            RecommendationTerms(headline="", timescale=Timescale.MONTHS, timescale_months=None),
            "timescale_months",
        ),
        (
            RecommendationTerms(headline="", timescale=Timescale.MONTHS, timescale_months=40),
            "timescale_months",
        ),
        (RecommendationTerms(headline="", timescale=Timescale.FIXED_DATE, due_by=None), "due_by"),
        (RecommendationTerms(headline="", timescale="soon"), "timescale"),
    ],
)
def test_a_recommendation_needs_addressees_and_a_complete_timescale(fw, terms, field):
    with pytest.raises(FindingsError) as caught:
        services.finding_create(
            actor=fw.users["inspector"],
            inspection=fw.inspection,
            kind=Kind.RECOMMENDATION,
            headline="Improve supervision.",
            terms=terms,
        )
    assert field in caught.value.message_dict
    assert not Finding.objects.exists()


def test_national_bodies_are_enough_as_addressees(fw):
    rec = services.finding_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        kind=Kind.RECOMMENDATION,
        headline="Publish guidance on voice of the child.",
        terms=RecommendationTerms(
            headline="",
            to_force=False,
            national_bodies="College of Policing; Home Office",
            timescale=Timescale.FIXED_DATE,
            due_by=dt.date(2027, 6, 30),
        ),
    )
    assert rec.addressees() == ["College of Policing", "Home Office"]
    assert rec.timescale_text() == "By 30 June 2027"
    assert rec.due_date_on_publication(dt.date(2027, 1, 10)) == dt.date(2027, 6, 30)


def test_due_dates_run_from_publication(fw):
    rec = Finding(timescale=Timescale.MONTHS, timescale_months=6)
    assert rec.due_date_on_publication(dt.date(2027, 8, 31)) == dt.date(2028, 2, 29)
    assert Finding(timescale=Timescale.IMMEDIATELY).due_date_on_publication(
        dt.date(2027, 1, 5)
    ) == dt.date(2027, 1, 5)


def test_only_the_team_records_findings(fw):
    for user in ("outsider", "analyst", "manager", "liaison", "partner"):
        with pytest.raises(FindingsError, match="lead inspector and inspectors"):
            services.finding_create(
                actor=fw.users[user], inspection=fw.inspection, kind=Kind.STRENGTH, headline="x"
            )


def test_the_register_closes_at_publication(fw):
    inspection = fw.inspection
    for target in (State.REPORTING, State.QUALITY_ASSURANCE, State.PUBLISHED):
        inspection_services.inspection_transition(
            actor=fw.users["manager"],
            inspection=inspection,
            target=target,
            on=dt.date(2026, 11, 26),
        )
    with pytest.raises(FindingsError, match="is published"):
        services.finding_create(
            actor=fw.users["lead"], inspection=inspection, kind=Kind.STRENGTH, headline="x"
        )


def test_a_stage_must_belong_to_the_methodology(fw):
    with pytest.raises(FindingsError) as caught:
        services.finding_create(
            actor=fw.users["lead"],
            inspection=fw.inspection,
            kind=Kind.STRENGTH,
            stage="astrology",
            headline="x",
        )
    assert "stage" in caught.value.message_dict


def test_evidence_links_and_stays_in_its_inspection(fw):
    item = services.evidence_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        source=EvidenceItem.Source.INTERVIEW,
        title="Focus group with MASH staff",
        notes="Staff said the backlog was 40 referrals.",
    )
    stored = EvidenceItem.objects.filter(pk=item.pk).values_list("notes", flat=True).get()
    assert item.notes == "Staff said the backlog was 40 referrals."
    finding = services.finding_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        kind=Kind.AREA_FOR_IMPROVEMENT,
        headline="The MASH has a backlog.",
        evidence=[item],
    )
    assert list(finding.evidence.all()) == [item]
    other_item = EvidenceItem.objects.create(
        inspection=fw.other_inspection,
        source="document",
        title="Other",
        created_by=fw.users["outsider"],
    )
    with pytest.raises(FindingsError) as caught:
        services.finding_update(
            actor=fw.users["inspector"],
            finding=finding,
            expected_version=finding.version,
            evidence=[item, other_item],
        )
    assert "evidence" in caught.value.message_dict
    with pytest.raises(FindingsError, match="supports findings"):
        services.evidence_delete(actor=fw.users["inspector"], item=item)
    # The notes are encrypted at rest: the column does not hold the plain text.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM findings_evidenceitem WHERE id = %s", [item.pk])
        raw = cursor.fetchone()[0]
    assert "backlog" not in raw
    assert stored == item.notes


def test_case_audit_evidence_must_be_a_case_of_this_inspection(fw):
    fw.upload()
    fw.draw()
    case = fw.inspection.sampled_cases.first()
    item = services.evidence_create(
        actor=fw.users["inspector"],
        inspection=fw.inspection,
        source=EvidenceItem.Source.CASE_AUDIT,
        title="Case audit",
        sampled_case=case,
    )
    assert item.sampled_case == case
    with pytest.raises(FindingsError) as caught:
        services.evidence_create(
            actor=fw.users["outsider"],
            inspection=fw.other_inspection,
            source=EvidenceItem.Source.CASE_AUDIT,
            title="Case audit",
            sampled_case=case,
        )
    assert "sampled_case" in caught.value.message_dict


def test_concurrent_edits_are_refused(fw):
    finding = services.finding_create(
        actor=fw.users["inspector"], inspection=fw.inspection, kind=Kind.STRENGTH, headline="Good."
    )
    services.finding_update(
        actor=fw.users["second"], finding=finding, expected_version=1, headline="Very good."
    )
    with pytest.raises(services.ConcurrentFindingEdit, match="changed by someone else"):
        services.finding_update(
            actor=fw.users["inspector"], finding=finding, expected_version=1, headline="Mine."
        )
    finding.refresh_from_db()
    assert finding.headline == "Very good."
    assert finding.version == 2


def _publish_directly(fw, inspection):
    for target in (State.REPORTING, State.QUALITY_ASSURANCE, State.PUBLISHED):
        inspection_services.inspection_transition(
            actor=fw.users["manager"],
            inspection=inspection,
            target=target,
            on=dt.date(2026, 11, 26),
        )


def test_carrying_over_an_earlier_published_finding(fw):
    earlier = services.finding_create(
        actor=fw.users["outsider"],
        inspection=fw.other_inspection,
        kind=Kind.AREA_FOR_IMPROVEMENT,
        headline="Southshire's supervision is weak.",
    )
    # Another force's finding cannot be carried over.
    _publish_directly(fw, fw.other_inspection)
    with pytest.raises(FindingsError) as caught:
        services.finding_create(
            actor=fw.users["lead"],
            inspection=fw.inspection,
            kind=Kind.AREA_FOR_IMPROVEMENT,
            headline="x",
            carried_over_from=earlier,
        )
    assert "same force" in str(caught.value)
    # Nor can a finding of an unpublished inspection, nor one of its own inspection.
    own = services.finding_create(
        actor=fw.users["lead"], inspection=fw.inspection, kind=Kind.STRENGTH, headline="own"
    )
    with pytest.raises(FindingsError, match="earlier inspection"):
        services.finding_create(
            actor=fw.users["lead"],
            inspection=fw.inspection,
            kind=Kind.STRENGTH,
            headline="x",
            carried_over_from=own,
        )


def test_renumbering_follows_the_report_order(fw):
    def rec(stage, headline):
        return services.finding_create(
            actor=fw.users["inspector"],
            inspection=fw.inspection,
            kind=Kind.RECOMMENDATION,
            stage=stage,
            headline=headline,
            terms=RecommendationTerms(headline="", timescale=Timescale.IMMEDIATELY),
        )

    late = rec("investigation", "Investigate promptly.")
    early = rec("initial_contact", "Identify children.")
    general = rec("", "Lead well.")
    assert (late.number, early.number, general.number) == (1, 2, 3)
    changed = services.recommendations_renumber(
        actor=fw.users["lead"],
        inspection=fw.inspection,
        stage_order=["initial_contact", "investigation"],
    )
    assert changed is True
    numbers = dict(Finding.objects.values_list("headline", "number"))
    assert numbers == {"Identify children.": 1, "Investigate promptly.": 2, "Lead well.": 3}
    assert (
        AuditEvent.objects.filter(summary__startswith="Numbered the recommendations").count() == 1
    )
    # Already in order: nothing changes and nothing more is recorded.
    assert not services.recommendations_renumber(
        actor=fw.users["lead"],
        inspection=fw.inspection,
        stage_order=["initial_contact", "investigation"],
    )
