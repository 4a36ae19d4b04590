"""The demo's follow-up history: what happened to each published recommendation, consistent
with the rules of apps/followup, dated between publication and "today", and encrypted where
the services encrypt."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from apps.accounts.models import User
from apps.core import crypto
from apps.core.models import AuditEvent
from apps.demo.generator import generate_programme
from apps.demo.models import DemoProgramme
from apps.findings.models import Finding, Kind, RecommendationStatus, RecommendationStatusChange
from apps.followup import permissions, services
from apps.followup.files import check_file, decrypt
from apps.followup.models import (
    ActionPlan,
    Assessment,
    Comment,
    ConcernClosure,
    EvidenceFile,
    FollowUp,
    PlannedAction,
    ProgressUpdate,
    Route,
)
from apps.inspections.models import Inspection, ProgrammeType, State

from .conftest import SEED, TODAY

S = RecommendationStatus
WEEKS_12 = dt.timedelta(weeks=12)
CUMBRIA = "E23000002"
PUBLISHED = (State.PUBLISHED, State.FOLLOW_UP, State.CLOSED)
ENDED = (S.CLOSED, S.CARRIED_OVER)
# Open, and the force's move (what the reminder job reminds about once past due).
FORCE_TO_ACT = (
    S.AWAITING_RESPONSE,
    S.ACTION_PLAN_RECEIVED,
    S.BEING_PROGRESSED,
    S.PARTLY_ACHIEVED,
    S.NOT_ACHIEVED,
)
ROUTE_OF: dict[str, str] = {
    ProgrammeType.NCPI_REVIEW: Route.REVIEW,
    ProgrammeType.NCPI_REINSPECTION: Route.REINSPECTION,
}


class _Undo(Exception):
    pass


@pytest.fixture(scope="module")
def demo_once(django_db_setup, django_db_blocker) -> Iterator[DemoProgramme]:
    """The demo programme, generated once for this module's tests (which only read it, or
    write inside their own transaction) and rolled back at the end."""
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                call_command("load_reference", verbosity=0)
                call_command("load_methodologies", verbosity=0)
                result = generate_programme(scale="demo", seed=SEED, today=TODAY)
                yield result.programme
                raise _Undo
        except _Undo:
            pass


@pytest.fixture
def demo(demo_once, db) -> DemoProgramme:
    """Each test sees the module's demo, in a transaction of its own."""
    return demo_once


def _followed() -> list[Finding]:
    return list(
        Finding.objects.filter(
            inspection__state__in=PUBLISHED,
            kind__in=[Kind.RECOMMENDATION, Kind.CAUSE_OF_CONCERN],
        ).select_related("inspection__follow_up_record")
    )


def test_every_published_inspection_starts_its_follow_up(demo):
    published = Inspection.objects.filter(state__in=PUBLISHED)
    assert published.count() >= 4
    for inspection in published:
        record = FollowUp.objects.get(inspection=inspection)
        published_on = inspection.state_changes.get(to_state=State.PUBLISHED).on
        assert record.published_on == published_on
        assert record.action_plan_due_on == published_on + dt.timedelta(weeks=6)
        # The follow-up is chosen, with reasons, once the inspection is in follow-up.
        if inspection.state == State.PUBLISHED:
            assert record.route == ""
        else:
            assert record.route in Route.values and record.route_rationale
            assert record.route_decided_on is not None
            assert published_on <= record.route_decided_on <= TODAY
            assert record.route_decided_by is not None
        follow_up = inspection.follow_ups.first()
        if record.route and follow_up is not None:
            assert record.route == ROUTE_OF[follow_up.programme_type]
    assert not FollowUp.objects.exclude(inspection__in=published).exists()


def test_each_status_is_the_last_step_of_a_dated_history(demo):
    followed = _followed()
    assert sum(f.kind == Kind.RECOMMENDATION for f in followed) >= 8
    assert any(f.kind == Kind.CAUSE_OF_CONCERN for f in followed)
    steps: dict[int, list[RecommendationStatusChange]] = defaultdict(list)
    for change in RecommendationStatusChange.objects.order_by("id"):
        steps[change.recommendation_id].append(change)
    for finding in followed:
        history = steps[finding.pk]
        published_on = finding.inspection.follow_up_record.published_on
        assert history, finding
        assert (history[0].status, history[0].on, history[0].note) == (
            S.AWAITING_RESPONSE,
            published_on,
            "Published",
        )
        # Written in the order it happened, never before publication or after today.
        assert [c.on for c in history] == sorted(c.on for c in history)
        assert all(published_on <= c.on <= TODAY and c.by_label for c in history)
        assert finding.status == history[-1].status
        assert finding.status_on == history[-1].on
        # Nothing after a recommendation is closed or carried over.
        assert all(c.status not in ENDED for c in history[:-1])
        # The same history, in the order the public page reads it.
        ordered = list(finding.status_changes.all())
        assert ordered[-1].status == finding.status
    # Unpublished findings have no status.
    assert not Finding.objects.exclude(inspection__state__in=PUBLISHED).exclude(status="").exists()
    statuses = {f.status for f in followed if f.kind == Kind.RECOMMENDATION}
    assert {S.BEING_PROGRESSED, S.CLOSED} <= statuses


def test_what_the_force_and_the_inspectors_wrote_is_dated_and_consistent(demo):
    ended = {f.pk: f.status_on or TODAY for f in Finding.objects.filter(status__in=ENDED)}
    posted = [
        (u.recommendation, u.posted_at)
        for u in ProgressUpdate.objects.select_related("recommendation")
    ] + [(c.recommendation, c.posted_at) for c in Comment.objects.select_related("recommendation")]
    published = dict(FollowUp.objects.values_list("inspection_id", "published_on"))
    assert len(posted) > 50
    for rec, at in posted:
        day = at.date()
        assert published[rec.inspection_id] < day <= TODAY
        assert rec.pk not in ended or day <= ended[rec.pk]
    for update in ProgressUpdate.objects.select_related("recommendation"):
        rec = update.recommendation
        assert rec.kind == Kind.RECOMMENDATION
        if update.kind == ProgressUpdate.Kind.RESPONSE:
            assert rec.timescale == "immediately"
    assert Comment.objects.filter(from_force=True).exists()
    assert Comment.objects.filter(from_force=False).exists()
    # Each action plan covers every recommendation that is not "immediately".
    for plan in ActionPlan.objects.select_related("inspection__follow_up_record"):
        record = plan.inspection.follow_up_record
        covered = set(plan.actions.values_list("recommendation_id", flat=True))
        expected = set(
            Finding.objects.filter(inspection=plan.inspection, kind=Kind.RECOMMENDATION)
            .exclude(timescale="immediately")
            .values_list("pk", flat=True)
        )
        assert covered == expected
        assert plan.submitted_at.date() > record.published_on
        assert plan.reviewed_at is None or plan.reviewed_at > plan.submitted_at
        assert not plan.actions.filter(target_date__lt=record.published_on).exists()
        for action in plan.actions.all():
            assert action.action and action.expected_impact and action.evidence_measure
    for assessment in Assessment.objects.select_related("recommendation", "in_inspection"):
        assert assessment.assessed_on < TODAY
        if assessment.in_inspection is not None:
            assert assessment.in_inspection.follows_id == assessment.recommendation.inspection_id
    for closure in ConcernClosure.objects.select_related("cause_of_concern", "letter"):
        assert closure.cause_of_concern.status == S.CLOSED
        for rec in closure.cause_of_concern.recommendations.all():
            assert rec.status in ENDED
            assert rec.assessments.filter(assessed_on__lte=closure.closed_on).exists()
        assert closure.letter.name.endswith(".txt")
    # One audit event per published inspection records its history.
    events = AuditEvent.objects.filter(
        actor_label="system:generate_programme", summary__startswith="Demo follow-up history"
    )
    assert events.count() == FollowUp.objects.count()


def test_the_summary_counts_what_was_written(demo):
    counts = demo.summary["follow_up"]
    assert counts["action_plans"] == ActionPlan.objects.count()
    assert counts["planned_actions"] == PlannedAction.objects.count()
    assert counts["progress_updates"] == ProgressUpdate.objects.count()
    assert counts["comments"] == Comment.objects.count()
    assert counts["assessments"] == Assessment.objects.count()
    assert counts["evidence_files"] == EvidenceFile.objects.count()
    assert counts["concern_closures"] == ConcernClosure.objects.count()
    assert (
        counts["status_changes"]
        == RecommendationStatusChange.objects.exclude(note="Published").count()
    )
    assert counts["overdue"] >= 1


def test_the_liaison_has_an_action_plan_to_send(demo):
    """The walk-through: the `liaison` sign-in's force has a published inspection whose plan
    has not come, due a few weeks ago, with recommendations to plan for."""
    liaison = User.objects.get(username="liaison")
    waiting = [
        inspection
        for inspection in permissions.inspections_in_follow_up_visible_to(liaison)
        if not ActionPlan.objects.filter(inspection=inspection).exists()
        and services.plan_recommendations(inspection)
    ]
    assert waiting
    inspection = waiting[0]
    assert CUMBRIA in set(inspection.forces.values_list("code", flat=True))
    due = inspection.follow_up_record.action_plan_due_on
    assert TODAY - dt.timedelta(weeks=10) <= due
    covered = services.plan_recommendations(inspection)
    assert all(r.status == S.AWAITING_RESPONSE for r in covered)
    # ... and can send it, as the walk-through does.
    plan = services.action_plan_submit(
        actor=liaison,
        inspection=inspection,
        summary="Our plan.",
        actions={
            r.pk: services.PlannedActionInput("Act.", "Impact.", TODAY + WEEKS_12, "Data.")
            for r in covered
        },
        on=TODAY,
    )
    assert plan.number == 1
    for rec in covered:
        rec.refresh_from_db()
        assert (rec.status, rec.status_on) == (S.ACTION_PLAN_RECEIVED, TODAY)


def test_some_recommendations_are_overdue(demo):
    overdue = Finding.objects.filter(
        kind=Kind.RECOMMENDATION, status__in=FORCE_TO_ACT, due_on__lt=TODAY
    )
    assert overdue.exists()


def test_what_the_services_encrypt_is_encrypted_at_rest(demo):
    update = ProgressUpdate.objects.order_by("pk").first()
    comment = Comment.objects.order_by("pk").first()
    assessment = Assessment.objects.order_by("pk").first()
    plan = ActionPlan.objects.order_by("pk").first()
    assert update and comment and assessment and plan
    checks = [
        ("followup_progressupdate", "text", update.pk, update.text),
        ("followup_comment", "text", comment.pk, comment.text),
        ("followup_assessment", "reasoning", assessment.pk, assessment.reasoning),
        ("followup_actionplan", "summary", plan.pk, plan.summary),
    ]
    for table, column, pk, plain in checks:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
            (raw,) = cursor.fetchone()
        assert plain and raw != plain and plain not in raw
        assert crypto.decrypt(raw) == plain
    files = list(EvidenceFile.objects.all())
    assert any(f.name.endswith(".csv") for f in files)
    assert any(f.name.endswith(".txt") for f in files)
    for item in files:
        data = decrypt(item.content)
        assert bytes(item.content) != data
        assert hashlib.sha256(data).hexdigest() == item.sha256 and len(data) == item.size
        assert check_file(item.name, data).content_type == item.content_type
        assert item.uploaded_at.date() <= TODAY
