"""The demo's fieldwork: case lists, samples, case audits, second marking, agreed grades and
referrals, consistent with each other and with the rules of apps/fieldwork."""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import replace

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.core.models import AuditEvent
from apps.demo import generator
from apps.demo.casework import FINISHED, Casework
from apps.demo.generator import generate_programme
from apps.fieldwork import draw, intake, services
from apps.fieldwork.agreement import pair_agreement
from apps.fieldwork.models import (
    NOT_APPLICABLE,
    CaseAudit,
    CaseList,
    EligibleCase,
    Judgement,
    Referral,
    Resolution,
    Sample,
    SampledCase,
)
from apps.frameworks.loaders import COMPARABLE_SCALE
from apps.inspections.models import Inspection, ProgrammeType, State, TeamRole

from .conftest import SEED, TODAY

CUMBRIA = "E23000002"
BANDS = [code for code, _ in COMPARABLE_SCALE]


class _Undo(Exception):
    pass


@pytest.fixture(scope="module")
def demo_once(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The demo programme, generated once for this module's tests (which only read it, or
    write inside their own transaction) and rolled back at the end."""
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                call_command("load_reference", verbosity=0)
                call_command("load_methodologies", verbosity=0)
                generate_programme(scale="demo", seed=SEED, today=TODAY)
                yield
                raise _Undo
        except _Undo:
            pass


@pytest.fixture
def demo(demo_once, db) -> None:
    """Each test sees the module's demo, in a transaction of its own."""


def _graded() -> list[Inspection]:
    return [
        i
        for i in Inspection.objects.select_related("methodology").order_by("fieldwork_start")
        if i.methodology.grade_scale
    ]


def _team(inspection: Inspection) -> dict[int, str]:
    return dict(inspection.team.values_list("user_id", "role"))


def test_fieldwork_exists_once_fieldwork_has_finished(demo):
    finished = [i for i in _graded() if i.state in FINISHED]
    assert len(finished) >= 4
    for inspection in Inspection.objects.select_related("methodology"):
        has_sample = Sample.objects.filter(inspection=inspection).exists()
        has_list = CaseList.objects.filter(inspection=inspection).exists()
        if inspection in finished:
            assert has_sample and has_list, inspection.reference
            assert CaseList.objects.filter(inspection=inspection).count() == 1
        elif inspection.state != State.FIELDWORK:
            assert not has_sample and not has_list, inspection.reference
    for inspection in finished:
        cases = SampledCase.objects.filter(
            inspection=inspection, status=SampledCase.Status.IN_SAMPLE
        )
        submitted = CaseAudit.objects.filter(
            inspection=inspection, kind=CaseAudit.Kind.PRIMARY, status=CaseAudit.Status.SUBMITTED
        )
        assert submitted.count() == cases.count()
        assert not CaseAudit.objects.filter(
            inspection=inspection, status=CaseAudit.Status.DRAFT
        ).exists()
        moderated = cases.filter(for_moderation=True)
        assert moderated.count() >= 5
        assert (
            CaseAudit.objects.filter(
                inspection=inspection,
                kind=CaseAudit.Kind.SECOND,
                status=CaseAudit.Status.SUBMITTED,
                sampled_case__in=moderated,
            ).count()
            == moderated.count()
        )


def test_the_walk_through_inspection_is_ready(demo):
    """Cumbria's NCPI in fieldwork: the team of the `lead`, `inspector` and `colleague`
    sign-ins, and no case list or sample, so a new user can do fieldwork from the start."""
    (walk_through,) = Inspection.objects.filter(state=State.FIELDWORK)
    assert walk_through.title == "National child protection inspection of Cumbria Constabulary"
    assert re.fullmatch(
        rf"NCPI-{walk_through.fieldwork_start.year}-\d{{3}}", walk_through.reference
    )
    assert list(walk_through.forces.values_list("code", flat=True)) == [CUMBRIA]
    assert walk_through.methodology.grade_scale
    assert dict(walk_through.team.values_list("user__username", "role")) == {
        "lead": TeamRole.LEAD_INSPECTOR,
        "inspector": TeamRole.INSPECTOR,
        "colleague": TeamRole.INSPECTOR,
    }
    colleague = User.objects.get(username="colleague")
    assert colleague.role == "inspector" and colleague.has_usable_password()
    assert not CaseList.objects.filter(inspection=walk_through).exists()
    assert not EligibleCase.objects.filter(inspection=walk_through).exists()
    assert not Sample.objects.filter(inspection=walk_through).exists()
    # The liaison can upload the case list (the first step of the walk-through).
    from apps.fieldwork.permissions import can_upload_case_list

    assert can_upload_case_list(User.objects.get(username="liaison"), walk_through)


def test_samples_are_drawn_from_the_case_lists_and_reproducible(demo):
    samples = list(Sample.objects.select_related("inspection__methodology"))
    assert samples
    for sample in samples:
        inspection = sample.inspection
        areas = {a["code"] for a in inspection.methodology.audit_areas}
        frame: dict[str, list[str]] = defaultdict(list)
        for area, reference in EligibleCase.objects.filter(inspection=inspection).values_list(
            "audit_area", "reference"
        ):
            frame[area].append(reference)
        assert set(frame) <= areas
        (case_list,) = CaseList.objects.filter(inspection=inspection)
        assert case_list.row_count == sum(len(r) for r in frame.values())
        assert case_list.area_counts == {a: len(r) for a, r in sorted(frame.items())}
        assert sample.frame_sizes == case_list.area_counts
        assert sample.frame_sha256 == services.frame_fingerprint(frame)
        assert set(sample.quotas) == set(frame)
        assert sample.rationale.strip()
        # The force sent its list after it was notified; the sample was drawn before going on
        # site (both dated then, not when the programme was generated).
        notified = inspection.state_changes.get(to_state=State.NOTIFIED).on
        assert notified <= timezone.localdate(case_list.uploaded_at)
        assert case_list.uploaded_at < sample.drawn_at
        assert timezone.localdate(sample.drawn_at) < inspection.fieldwork_start
        total = sum(sample.quotas.values())
        if inspection.programme_type == ProgrammeType.NCPI_REVIEW:
            assert 24 <= total <= 34 and 3 <= len(sample.quotas) <= 4
            for area_size in sample.frame_sizes.values():
                assert 100 <= area_size <= 400
        else:
            assert 60 <= total <= 90 and 4 <= len(sample.quotas) <= 6
            for area_size in sample.frame_sizes.values():
                assert 150 <= area_size <= 600
        if sample.calculation:
            assert sample.calculation["required"] == total
            assert sample.calculation["population"] == case_list.row_count

        cases = list(SampledCase.objects.filter(sample=sample).select_related("eligible_case"))
        chosen = []
        for area, quota in sample.quotas.items():
            in_area = sorted((c for c in cases if c.audit_area == area), key=lambda c: c.position)
            in_sample = [c for c in in_area if c.status == SampledCase.Status.IN_SAMPLE]
            assert len(in_sample) == quota  # replacements keep the quota
            # Re-drawn from the recorded seed: the same references in the same places, the
            # replacements next in the area's order.
            order = draw.stratum_order(sample.seed, area, frame[area])
            assert [c.reference for c in in_area] == order[: len(in_area)]
            assert [c.position for c in in_area] == list(range(len(in_area)))
            chosen += [c for c in in_area if c.position < quota]
            for case in in_area:
                assert case.eligible_case.inspection_id == inspection.pk
                assert case.eligible_case.audit_area == area
                assert case.eligible_case.reference == case.reference
                if case.status == SampledCase.Status.REPLACED:
                    assert case.replacement is not None and case.replaced_reason
                    assert case.replacement.for_moderation == case.for_moderation
                    assert not case.audits.exists()
        moderated = set(
            draw.stratum_order(
                sample.seed, "moderation", [f"{c.audit_area}/{c.reference}" for c in chosen]
            )[: services.moderation_count(len(chosen), sample.moderation_share, 5)]
        )
        for case in chosen:
            assert case.for_moderation == (f"{case.audit_area}/{case.reference}" in moderated)


def test_reviews_re_audit_the_inspections_areas_and_grades_improve(demo):
    reviews = Sample.objects.filter(inspection__programme_type=ProgrammeType.NCPI_REVIEW)
    assert reviews.exists()
    for review in reviews.select_related("inspection__follows__sample"):
        original = review.inspection.follows.sample
        assert set(review.quotas) <= set(original.quotas)

        def good_share(inspection: Inspection) -> float:
            grades = Counter(
                SampledCase.objects.filter(
                    inspection=inspection, status=SampledCase.Status.IN_SAMPLE
                ).values_list("comparable_grade", flat=True)
            )
            return grades["good"] / sum(grades.values())

        assert good_share(review.inspection) > good_share(original.inspection)


def test_audits_judgements_grades_and_referrals_are_consistent(demo):
    limit = timezone.make_aware(dt.datetime.combine(TODAY, dt.time()))
    audits = list(
        CaseAudit.objects.select_related(
            "sampled_case__resolution", "inspection__methodology", "auditor"
        )
    )
    assert len(audits) > 200
    by_case: dict[int, dict[str, CaseAudit]] = defaultdict(dict)
    for audit in audits:
        by_case[audit.sampled_case_id][audit.kind] = audit
    teams = {i.pk: _team(i) for i in Inspection.objects.all()}
    judgements: dict[int, list[Judgement]] = defaultdict(list)
    for judgement in Judgement.objects.all():
        judgements[judgement.audit_id].append(judgement)
    for audit in audits:
        methodology = audit.inspection.methodology
        scale = list(methodology.grade_scale)
        team = teams[audit.inspection_id]
        assert audit.sampled_case.status == SampledCase.Status.IN_SAMPLE
        assert audit.created_at <= audit.updated_at < limit
        if audit.status == CaseAudit.Status.SUBMITTED:
            # Everything the real submission checks for is there.
            assert services.missing_for_submission(audit) == [], audit.pk
            assert audit.overall_grade in scale
            assert audit.submitted_at == audit.updated_at
        expected = {
            (stage["code"], criterion)
            for stage in methodology.stages_for_area(audit.sampled_case.audit_area)
            for criterion in ["", *(c["code"] for c in stage["criteria"])]
        }
        found = {(j.stage, j.criterion) for j in judgements[audit.pk]}
        assert found <= expected
        if audit.status == CaseAudit.Status.SUBMITTED:
            assert found == expected
        for judgement in judgements[audit.pk]:
            assert judgement.grade in [*scale, NOT_APPLICABLE]
        if audit.kind == CaseAudit.Kind.PRIMARY:
            assert team[audit.auditor_id] in (TeamRole.LEAD_INSPECTOR, TeamRole.INSPECTOR)
        else:
            # Blind second marking: another inspector of the team, never the lead.
            assert team[audit.auditor_id] == TeamRole.INSPECTOR
            assert audit.sampled_case.for_moderation
            primary = by_case[audit.sampled_case_id][CaseAudit.Kind.PRIMARY]
            assert primary.auditor_id != audit.auditor_id
    some_not_applicable = Judgement.objects.filter(grade=NOT_APPLICABLE)
    assert some_not_applicable.exists()
    notes = [j.notes for js in judgements.values() for j in js]
    assert 0.1 < sum(1 for n in notes if n) / len(notes) < 0.6  # short notes, often none
    assert max(len(n) for n in notes) < 120

    cases = SampledCase.objects.filter(status=SampledCase.Status.IN_SAMPLE).select_related(
        "inspection__methodology"
    )
    disagreements = 0
    for case in cases:
        marks = by_case.get(case.pk, {})
        primary, second = marks.get(CaseAudit.Kind.PRIMARY), marks.get(CaseAudit.Kind.SECOND)
        resolution = Resolution.objects.filter(sampled_case=case).first()
        if primary is None or primary.status != CaseAudit.Status.SUBMITTED:
            assert case.final_grade == "" and resolution is None
            continue
        both = second is not None and second.status == CaseAudit.Status.SUBMITTED
        differ = both and primary.overall_grade != second.overall_grade
        disagreements += differ
        if case.inspection.state in FINISHED:
            assert (resolution is not None) == differ
        if resolution is not None:
            assert differ
            assert resolution.agreed_grade in (primary.overall_grade, second.overall_grade)
            assert resolution.resolved_by_id == next(
                u for u, r in teams[case.inspection_id].items() if r == TeamRole.LEAD_INSPECTOR
            )
            assert resolution.resolved_at < limit
        # As services._set_final_grade: the agreed grade, else the audit's, but for a case
        # selected for second marking only once that is in.
        expected = resolution.agreed_grade if resolution else primary.overall_grade
        if resolution is None and case.for_moderation and not both:
            expected = ""
        assert case.final_grade == expected
        assert case.comparable_grade == (
            case.inspection.methodology.comparable(case.final_grade) or ""
        )
    assert disagreements >= 3

    referrals = list(Referral.objects.select_related("sampled_case", "inspection"))
    assert 1 <= len(referrals) <= 0.05 * cases.count()
    order = [s.value for s in Referral.Status]
    for referral in referrals:
        assert referral.reference == referral.sampled_case.reference
        assert referral.sampled_case.inspection_id == referral.inspection_id
        assert referral.concern
        times = [referral.raised_at, referral.acknowledged_at, referral.actioned_at]
        times.append(referral.closed_at)
        reached = [t for t in times if t is not None]
        assert len(reached) == order.index(referral.status) + 1
        assert reached == sorted(reached) and reached[-1] < limit
        start = referral.inspection.fieldwork_start
        assert start <= timezone.localdate(referral.raised_at) <= referral.inspection.fieldwork_end


def test_second_marking_mostly_agrees(demo):
    """Pooled on the common scale: agreement about four times in five, kappa about 0.7."""
    first, second = [], []
    for case in SampledCase.objects.filter(for_moderation=True).select_related(
        "inspection__methodology"
    ):
        marks = dict(
            case.audits.filter(status=CaseAudit.Status.SUBMITTED).values_list(
                "kind", "overall_grade"
            )
        )
        if len(marks) == 2:
            comparable = case.inspection.methodology.comparable
            first.append(comparable(marks[CaseAudit.Kind.PRIMARY]))
            second.append(comparable(marks[CaseAudit.Kind.SECOND]))
    stats = pair_agreement(first, second, BANDS)
    assert stats.n >= 30
    assert stats.kappa is not None and 0.45 <= stats.kappa <= 0.95
    assert 60 <= (stats.percent or 0) <= 95


def test_references_are_pseudonymous_and_notes_encrypted(demo):
    for reference in EligibleCase.objects.values_list("reference", flat=True).iterator():
        assert intake.personal_identifier_kind(reference) is None
        assert intake._PLAIN_REFERENCE.fullmatch(reference), reference
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT notes FROM {Judgement._meta.db_table} WHERE notes <> '' LIMIT 50"  # noqa: S608
        )
        stored = [row[0] for row in cursor.fetchall()]
    assert stored and all(value.startswith("gAAAA") for value in stored)


def test_the_bulk_rows_are_recorded_one_event_per_inspection(demo):
    samples = list(Sample.objects.all())
    generated = AuditEvent.objects.filter(
        object_type="fieldwork.sample",
        actor_label="system:generate_programme",
        summary__startswith="Generated fictional case audits",
    )
    assert sorted(generated.values_list("object_id", flat=True)) == sorted(
        str(s.pk) for s in samples if CaseAudit.objects.filter(inspection=s.inspection).exists()
    )
    # The case lists and samples went through the services, which record them.
    for model, rows in (
        ("fieldwork.caselist", CaseList.objects.all()),
        ("fieldwork.sample", samples),
    ):
        for row in rows:
            assert (
                AuditEvent.objects.filter(
                    object_type=model, object_id=str(row.pk), action=AuditEvent.Action.CREATE
                )
                .exclude(actor_label="system:generate_programme")
                .exists()
            )
    assert not AuditEvent.objects.filter(object_type="fieldwork.caseaudit").exists()
    assert not AuditEvent.objects.filter(object_type="fieldwork.judgement").exists()


def test_fieldwork_under_way(demo):
    """Fieldwork part done by today: the walk-through inspection's, made as the national
    scale makes an inspection in fieldwork (the demo leaves it for people to do)."""
    world = generator.load_world()
    plans = generator.plan_demo(world, random.Random(f"{SEED}:demo"), TODAY)
    plan = replace(next(p for p in plans if p.key == "fieldwork"), casework=True)
    inspection = Inspection.objects.select_related("methodology").get(state=State.FIELDWORK)
    team = sorted(
        ((m.user, m.role) for m in inspection.team.select_related("user")),
        key=lambda member: member[1] != TeamRole.LEAD_INSPECTOR,
    )
    casework = Casework(
        seed=SEED,
        today=TODAY,
        plans=plans,
        forces=world.forces,
        liaisons={CUMBRIA: User.objects.get(username="liaison")},
    )
    sample = casework.prepare(plan, inspection, team)
    casework.audit(plan, inspection, team)
    totals = casework.finish()
    assert sample is not None and totals["case_audits"] > 0
    audits = CaseAudit.objects.filter(inspection=inspection)
    primary = audits.filter(kind=CaseAudit.Kind.PRIMARY)
    in_sample = sum(sample.quotas.values())
    assert 0 < primary.filter(status=CaseAudit.Status.SUBMITTED).count() < in_sample / 2
    drafts = primary.filter(status=CaseAudit.Status.DRAFT)
    assert drafts.exists()
    for draft in drafts:
        assert services.missing_for_submission(draft)
    limit = timezone.make_aware(dt.datetime.combine(TODAY, dt.time()))
    assert all(a.updated_at < limit for a in audits)
    assert all(
        timezone.localdate(a.updated_at) >= inspection.fieldwork_start
        for a in audits.filter(status=CaseAudit.Status.SUBMITTED)
    )
    for case in SampledCase.objects.filter(inspection=inspection):
        marks = dict(
            case.audits.filter(status=CaseAudit.Status.SUBMITTED).values_list(
                "kind", "overall_grade"
            )
        )
        due = CaseAudit.Kind.PRIMARY in marks and (
            not case.for_moderation or CaseAudit.Kind.SECOND in marks
        )
        assert bool(case.final_grade) == due, case.reference
    assert SampledCase.objects.filter(inspection=inspection).exclude(final_grade="").exists()


def test_the_fieldwork_pages_show_the_generated_data(demo, client):
    """The lead of a finished inspection and of the walk-through reaches every fieldwork page."""
    lead = User.objects.get(username="lead")
    client.force_login(lead)
    finished = (
        Inspection.objects.filter(
            team__user=lead, team__role=TeamRole.LEAD_INSPECTOR, sample__isnull=False
        )
        .order_by("fieldwork_start")
        .last()
    )
    assert finished is not None and finished.state in FINISHED
    case = SampledCase.objects.filter(inspection=finished, for_moderation=True).first()
    audit = CaseAudit.objects.filter(sampled_case=case, kind=CaseAudit.Kind.SECOND).get()
    base = reverse("fieldwork:overview", args=[finished.pk])
    for path in (
        base,
        base + "sample/",
        base + f"audits/{audit.pk}/",
        base + "results/",
        base + "results.csv",
        base + "referrals/",
        reverse("fieldwork:national"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    walk_through = Inspection.objects.get(state=State.FIELDWORK)
    response = client.get(reverse("fieldwork:overview", args=[walk_through.pk]))
    assert response.status_code == 200


def test_the_moderation_and_agreement_pages_show_the_generated_second_marking(demo, client):
    lead = User.objects.get(username="lead")
    client.force_login(lead)
    for inspection in Inspection.objects.filter(
        team__user=lead, team__role=TeamRole.LEAD_INSPECTOR, sample__isnull=False
    ):
        for name in ("fieldwork:moderation", "fieldwork:agreement"):
            response = client.get(reverse(name, args=[inspection.pk]))
            assert response.status_code == 200
