"""The generated follow-up: carry-over into a re-inspection (one force's programme, written as
the national scale writes it), and the same history from the same seed and day. In a module
of their own: test_demo_followup keeps a generated programme open for all its tests."""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction

from apps.demo import generator
from apps.demo.models import DemoProgramme
from apps.findings.models import Finding, Kind, RecommendationStatus, RecommendationStatusChange
from apps.followup.models import (
    ActionPlan,
    Assessment,
    Comment,
    ConcernClosure,
    FollowUp,
    PlannedAction,
    ProgressUpdate,
    Route,
)
from apps.inspections.models import Inspection, ProgrammeType

from .conftest import SEED, TODAY

S = RecommendationStatus


def test_a_reinspection_carries_over_what_was_not_achieved(programme_inputs):
    """One force's programme with a re-inspection, written as the national scale writes it:
    what the re-inspection's findings carry over is assessed in it and then marked carried
    into it when it is published."""
    today = dt.date(2026, 11, 26)
    world = generator.load_world()
    scale = DemoProgramme.Scale.NATIONAL
    plans = generator.plan_force_inspections(world, SEED, today)
    reinspected = sorted(
        {
            p.forces[0]
            for p in plans
            if p.programme_type == ProgrammeType.NCPI_REINSPECTION
            and p.published_on
            and p.published_on < today - dt.timedelta(days=60)
        }
    )
    assert reinspected
    people = generator.cast_for(world, scale, random.Random(f"{SEED}:people"))
    cast = generator.create_people(people, generator.create_organisations(world, scale), scale)
    mine = [p for p in plans if p.forces == (reinspected[0],)]
    made = generator.create_inspections(
        mine,
        world=world,
        cast=cast,
        rng=random.Random(f"{SEED}:teams"),
        today=today,
        progress=lambda line: None,
    )
    generator.write_reports(mine, made, seed=SEED, quality={})
    history = generator.write_follow_up(
        mine, made, world=world, cast=cast, seed=SEED, today=today, scale=scale
    )
    history.finish()

    reinspection = Inspection.objects.get(programme_type=ProgrammeType.NCPI_REINSPECTION)
    original = reinspection.follows
    assert original is not None
    assert original.follow_up_record.route == Route.REINSPECTION
    carried = Finding.objects.filter(inspection=reinspection, carried_over_from__isnull=False)
    assert carried.exists()
    published_on = reinspection.follow_up_record.published_on
    for finding in carried.select_related("carried_over_from"):
        earlier = finding.carried_over_from
        assert earlier is not None
        assert earlier.inspection_id == original.pk and earlier.headline == finding.headline
        assert (earlier.status, earlier.status_on) == (S.CARRIED_OVER, published_on)
        if earlier.kind == Kind.RECOMMENDATION:
            assessment = earlier.assessments.get()
            assert assessment.in_inspection_id == reinspection.pk
            assert assessment.outcome != Assessment.Outcome.ACHIEVED
    # What was not carried over and was found achieved in the re-inspection is closed when
    # the re-inspection is published.
    achieved = Assessment.objects.filter(
        in_inspection=reinspection, outcome=Assessment.Outcome.ACHIEVED
    ).select_related("recommendation")
    for assessment in achieved:
        rec = assessment.recommendation
        assert rec.carried_into.count() == 0
        assert rec.status == S.CLOSED and rec.status_on  # on publication, or with its cause
        assert assessment.assessed_on <= rec.status_on <= published_on


def _snapshot() -> list[str]:
    """The follow-up as people see it, without database ids."""
    rec = ("recommendation__inspection__reference", "recommendation__order")
    rows: list[tuple[object, ...]] = []
    rows += FollowUp.objects.values_list(
        "inspection__reference",
        "published_on",
        "action_plan_due_on",
        "route",
        "route_rationale",
        "route_decided_by__username",
        "route_decided_on",
    )
    rows += RecommendationStatusChange.objects.values_list(*rec, "status", "on", "note", "by_label")
    rows += [
        (u.recommendation.inspection.reference, u.kind, u.text, u.author_label, u.posted_at)
        for u in ProgressUpdate.objects.select_related("recommendation__inspection")
    ]
    rows += [
        (c.recommendation.inspection.reference, c.text, c.author_label, c.posted_at)
        for c in Comment.objects.select_related("recommendation__inspection")
    ]
    rows += [
        (p.inspection.reference, p.number, p.status, p.summary, p.submitted_at, p.reviewed_at)
        for p in ActionPlan.objects.select_related("inspection")
    ]
    rows += PlannedAction.objects.values_list(*rec, "action", "target_date", "evidence_measure")
    rows += [
        (a.recommendation.inspection.reference, a.outcome, a.reasoning, a.assessed_on)
        for a in Assessment.objects.select_related("recommendation__inspection")
    ]
    rows += ConcernClosure.objects.values_list("summary", "closed_on", "letter__sha256")
    rows += Finding.objects.exclude(status="").values_list(
        "inspection__reference", "order", "status", "status_on"
    )
    return sorted(repr(row) for row in rows)


class _Undo(Exception):
    pass


def _generate_and_undo(seed: int) -> list[str]:
    try:
        with transaction.atomic():
            generator.generate_programme(scale="demo", seed=seed, today=TODAY)
            snapshot = _snapshot()
            raise _Undo
    except _Undo:
        pass
    return snapshot


def test_the_same_seed_and_day_give_the_same_follow_up(programme_inputs):
    first = _generate_and_undo(SEED)
    assert len(first) > 100
    assert _generate_and_undo(SEED) == first
    assert _generate_and_undo(SEED + 1) != first
