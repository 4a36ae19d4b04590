"""The national scale's plans. The whole national programme is too slow for the unit tests
(it runs in the benchmark); these check its rules on the plans, and one force's ten years
written through the services."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict

import pytest

from apps.accounts.models import Role
from apps.core.models import AuditEvent
from apps.demo import generator, schedule
from apps.demo.casework import FINISHED, Casework
from apps.demo.catalogue import JTAI_THEMES
from apps.demo.models import DemoProgramme
from apps.demo.schedule import PlannedInspection
from apps.fieldwork.models import CaseAudit, Sample, SampledCase
from apps.frameworks.models import MethodologyVersion
from apps.inspections.models import Inspection, ProgrammeType, State

TODAY = dt.date(2026, 11, 26)
CUMBRIA = "E23000002"
NCPI_FAMILY = (ProgrammeType.NCPI, ProgrammeType.NCPI_REVIEW, ProgrammeType.NCPI_REINSPECTION)


@pytest.fixture
def world(programme_inputs) -> generator.World:
    return generator.load_world()


def _methodology_in_use(programme_type: str, on: dt.date) -> str:
    """Written out independently of the code under test (DOMAIN.md and the data files)."""
    if programme_type == "ncpi_review":
        return "ncpi-review"  # a review keeps its own instrument (ADR 10)
    if programme_type in NCPI_FAMILY:
        if on < dt.date(2016, 1, 1):
            return "ncpi-2014"
        return "ncpi-2016" if on < dt.date(2024, 2, 1) else "ncpi-2024"
    return {"jtai": "jtai", "jicpa": "jicpa", "thematic": "thematic"}[programme_type]


def _check_dates(plan: PlannedInspection, today: dt.date) -> None:
    assert schedule.check_plan(plan) == [], plan.key
    assert plan.planned_on <= today
    assert plan.methodology == _methodology_in_use(plan.programme_type, plan.fieldwork_start)
    version = MethodologyVersion.objects.get(code=plan.methodology)
    assert version.valid_from <= plan.fieldwork_start
    assert version.valid_to is None or plan.fieldwork_start <= version.valid_to
    assert plan.fieldwork_start.weekday() == 0
    notified = plan.step_on(State.NOTIFIED)
    assert notified is not None and 14 <= (plan.fieldwork_start - notified).days <= 42 + 2


@pytest.mark.parametrize("seed", [1, 2026, 99])
def test_each_force_is_inspected_two_or_three_times_and_followed_up(world, seed):
    start = schedule.national_window(TODAY, world.periods)
    assert start == dt.date(2016, 11, 26)
    for code in sorted(world.forces):
        plans = schedule.force_programme(
            random.Random(f"{seed}:force:{code}"),
            force=world.force_info(code),
            start=start,
            today=TODAY,
            periods=world.periods,
        )
        by_key = {p.key: p for p in plans}
        ncpis = [p for p in plans if p.programme_type == ProgrammeType.NCPI]
        assert 2 <= len(ncpis) <= 3, code
        assert sum(p.fieldwork_start <= TODAY for p in ncpis) >= 2, code
        for earlier, later in itertools.pairwise(ncpis):
            assert (later.fieldwork_start - earlier.fieldwork_start).days >= 3 * 365 - 7
        for plan in plans:
            assert plan.forces == (code,)
            _check_dates(plan, TODAY)
            on_site = (plan.fieldwork_end - plan.fieldwork_start).days
            if plan.programme_type == ProgrammeType.NCPI_REVIEW:
                assert on_site == 4
            else:
                assert on_site == (18 if code == generator.METROPOLITAN else 11)
            published = plan.published_on
            if plan.programme_type != ProgrammeType.NCPI_REVIEW:
                # Published about four to five months after fieldwork.
                assert 119 <= (published - plan.fieldwork_end).days <= 150
            follow_up = plan.step_on(State.FOLLOW_UP)
            if plan.programme_type != ProgrammeType.NCPI_REVIEW:
                # The action plan comes within six weeks of publication.
                assert follow_up is not None and 28 <= (follow_up - published).days <= 42
            assert plan.step_on(State.CLOSED) is not None  # every plan ends closed
        for follow in (p for p in plans if p.follows):
            ncpi = by_key[follow.follows]
            assert ncpi.programme_type == ProgrammeType.NCPI
            gap = (follow.fieldwork_start - ncpi.published_on).days
            if follow.programme_type == ProgrammeType.NCPI_REVIEW:
                assert 365 <= gap <= 427  # 12 to 14 months after publication
            else:
                assert follow.programme_type == ProgrammeType.NCPI_REINSPECTION
                assert 180 <= gap <= 277
            assert follow.planned_on >= ncpi.step_on(State.FOLLOW_UP)
            # The NCPI closes when its follow-up is published.
            assert ncpi.step_on(State.CLOSED) == follow.published_on
        # Every NCPI published a while ago has been followed up.
        for ncpi in ncpis:
            if ncpi.published_on and ncpi.published_on < TODAY - dt.timedelta(days=430):
                followed = any(p.follows == ncpi.key for p in plans)
                closed_light = ncpi.step_on(State.CLOSED) and not followed
                assert followed or closed_light, ncpi.key


def test_methodology_follows_the_date_before_2016(world):
    """With an earlier "today" the window reaches back to the 2014 methodology."""
    today = dt.date(2024, 6, 3)
    start = schedule.national_window(today, world.periods)
    assert start == dt.date(2014, 6, 3)
    seen = set()
    for code in sorted(world.forces):
        for plan in schedule.force_programme(
            random.Random(f"3:force:{code}"),
            force=world.force_info(code),
            start=start,
            today=today,
            periods=world.periods,
        ):
            _check_dates(plan, today)
            seen.add(plan.methodology)
    assert seen == {"ncpi-2014", "ncpi-2016", "ncpi-2024", "ncpi-review"}


def test_joint_and_thematic_inspections(world):
    plans = generator.plan_joint_inspections(world, 2026, TODAY)
    thematics = generator.plan_thematic_inspections(world, 2026, TODAY)
    jtais = [p for p in plans if p.programme_type == ProgrammeType.JTAI]
    jicpas = [p for p in plans if p.programme_type == ProgrammeType.JICPA]
    assert 120 <= len(plans) <= 200
    last_seen: dict[str, dt.date] = {}
    for plan in sorted(plans, key=lambda p: p.fieldwork_start):
        _check_dates(plan, TODAY)
        countries = {world.areas[c].country for c in plan.local_authorities}
        assert countries == ({"england"} if plan in jtais else {"wales"})
        assert len({world.areas[c].force.code for c in plan.local_authorities}) == 1
        for code in plan.local_authorities:
            if code in last_seen:  # an area is not inspected again within two years
                assert (plan.fieldwork_start - last_seen[code]).days > 2 * 365, code
            last_seen[code] = plan.fieldwork_start
    assert {p.theme for p in jtais} <= set(JTAI_THEMES) and len({p.theme for p in jtais}) > 5
    assert all(p.fieldwork_start >= dt.date(2019, 1, 1) for p in jicpas)
    assert 3 <= len(thematics) <= 6
    for plan in thematics:
        _check_dates(plan, TODAY)
        assert 5 <= len(plan.forces) <= 8


def test_plans_depend_only_on_seed_and_today(world):
    first = generator.plan_national(world, 5, TODAY)
    assert first == generator.plan_national(world, 5, TODAY)
    assert first != generator.plan_national(world, 6, TODAY)
    keys = [p.key for p in first]
    assert len(keys) == len(set(keys))


def test_one_force_of_the_national_scale_goes_through_the_services(world):
    """The national cast, and one force's ten years, written the way the full run writes."""
    scale = DemoProgramme.Scale.NATIONAL
    people = generator.cast_for(world, scale, random.Random("1:people"))
    generator.check_empty(people, generator.organisation_names(world, scale))
    organisations = generator.create_organisations(world, scale)
    cast = generator.create_people(people, organisations, scale)
    assert len(cast.by_role[Role.FORCE_LIAISON]) == 43
    assert len(cast.by_role[Role.LEAD_INSPECTOR]) + len(cast.by_role[Role.INSPECTOR]) == 60
    assert {u.username for u in cast.users.values()} >= {"manager", "lead", "liaison", "admin"}
    assert all(u.has_usable_password() for u in cast.by_role[Role.LEAD_INSPECTOR])
    assert not any(
        u.has_usable_password() for u in cast.by_role[Role.FORCE_LIAISON] if u.username != "liaison"
    )

    plans = [
        p for p in generator.plan_force_inspections(world, 1, TODAY) if p.forces == ("E23000013",)
    ]
    liaisons = generator.liaisons_by_force(cast)
    assert len(liaisons) == 43 and liaisons[CUMBRIA].username == "liaison"
    casework = Casework(seed=1, today=TODAY, plans=plans, forces=world.forces, liaisons=liaisons)
    made = generator.create_inspections(
        plans,
        world=world,
        cast=cast,
        rng=random.Random("1:teams"),
        today=TODAY,
        progress=lambda line: None,
        casework=casework,
    )
    totals = casework.finish()  # writes the final grades
    assert totals["case_audits"] == CaseAudit.objects.filter(kind=CaseAudit.Kind.PRIMARY).count()
    assert len(made) == len(plans) >= 3
    by_title: dict[str, list[Inspection]] = defaultdict(list)
    for plan, inspection in zip(sorted(plans, key=lambda p: p.fieldwork_start), made, strict=True):
        inspection.refresh_from_db()
        by_title[inspection.title].append(inspection)
        assert inspection.state == plan.state_on(TODAY)
        assert inspection.reference.split("-")[1] == str(plan.fieldwork_start.year)
        assert [c.on for c in inspection.state_changes.all()] == [
            plan.planned_on,
            *(s.on for s in plan.steps_until(TODAY)),
        ]
        assert inspection.team.filter(role="lead_inspector").count() == 1
        assert AuditEvent.objects.filter(
            object_type="inspections.inspection",
            object_id=str(inspection.pk),
            action=AuditEvent.Action.TRANSITION,
        ).count() == len(plan.steps_until(TODAY))
        if plan.follows:
            assert inspection.follows is not None
            assert inspection.follows.state in (State.FOLLOW_UP, State.CLOSED)
        # Its fieldwork: once fieldwork has finished, every case audited.
        sample = Sample.objects.filter(inspection=inspection).first()
        if inspection.state in FINISHED:
            assert sample is not None
            in_sample = SampledCase.objects.filter(
                inspection=inspection, status=SampledCase.Status.IN_SAMPLE
            )
            assert in_sample.count() == sum(sample.quotas.values())
            assert in_sample.filter(final_grade="").count() == 0
            assert (
                CaseAudit.objects.filter(inspection=inspection, kind=CaseAudit.Kind.SECOND).count()
                == in_sample.filter(for_moderation=True).count()
            )
        elif inspection.state in (State.PLANNED, State.NOTIFIED):
            assert sample is None
